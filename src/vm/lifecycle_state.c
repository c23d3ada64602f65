/* lifecycle_state.c: the state machine of the control API, as a table. */
#include "vm/lifecycle.h"

/* verdicts[state][action] */
static const enum vm_verdict verdicts[VMS_COUNT][VMA_COUNT] = {
	[VMS_RUNNING] = {
		[VMA_INFO] = VMV_DO, [VMA_COUNTERS] = VMV_DO, [VMA_PAUSE] = VMV_DO,
		[VMA_RESUME] = VMV_NOOP, [VMA_POWER_BUTTON] = VMV_DO, [VMA_REBOOT] = VMV_DO,
		[VMA_SHUTDOWN] = VMV_DO, [VMA_VMM_SHUTDOWN] = VMV_DO,
	},
	/* A paused guest cannot react to its power button: resume first. Reboot and shutdown
	 * need nothing from the guest. */
	[VMS_PAUSED] = {
		[VMA_INFO] = VMV_DO, [VMA_COUNTERS] = VMV_DO, [VMA_PAUSE] = VMV_NOOP,
		[VMA_RESUME] = VMV_DO, [VMA_POWER_BUTTON] = VMV_DENY, [VMA_REBOOT] = VMV_DO,
		[VMA_SHUTDOWN] = VMV_DO, [VMA_VMM_SHUTDOWN] = VMV_DO,
	},
	/* Stopping: only looking, and asking the monitor to exit (which it is doing). */
	[VMS_SHUTDOWN] = {
		[VMA_INFO] = VMV_DO, [VMA_COUNTERS] = VMV_DO, [VMA_PAUSE] = VMV_DENY,
		[VMA_RESUME] = VMV_DENY, [VMA_POWER_BUTTON] = VMV_DENY, [VMA_REBOOT] = VMV_DENY,
		[VMA_SHUTDOWN] = VMV_DENY, [VMA_VMM_SHUTDOWN] = VMV_NOOP,
	},
};

enum vm_verdict vm_action_verdict(enum vm_state state, enum vm_action action)
{
	if ((unsigned)state >= VMS_COUNT || (unsigned)action >= VMA_COUNT)
		return VMV_DENY;
	return verdicts[state][action];
}

const char *vm_state_name(enum vm_state s)
{
	static const char *const names[VMS_COUNT] = {"Running", "Paused", "Shutdown"};

	return (unsigned)s < VMS_COUNT ? names[s] : "Unknown";
}
