/* lifecycle.h: what a running VM may be asked to do (pause, resume, power button, reboot,
 * shutdown), which state allows which action, and pausing every vCPU at a safe point. */
#ifndef TV_LIFECYCLE_H
#define TV_LIFECYCLE_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct vm;
struct vcpu;

/* The states vm.info reports (Cloud Hypervisor's names). */
enum vm_state { VMS_RUNNING, VMS_PAUSED, VMS_SHUTDOWN, VMS_COUNT };

/* Actions a client can ask for. */
enum vm_action {
	VMA_INFO,
	VMA_COUNTERS,
	VMA_PAUSE,
	VMA_RESUME,
	VMA_POWER_BUTTON,
	VMA_REBOOT,
	VMA_SHUTDOWN,
	VMA_VMM_SHUTDOWN,
	VMA_COUNT
};

/* What doing action in state means. */
enum vm_verdict {
	VMV_DO,    /* allowed: carry it out */
	VMV_NOOP,  /* allowed and already true (pause when paused, resume when running) */
	VMV_DENY,  /* the state forbids it (HTTP 409) */
};

/* Pure: the verdict for action in state (the state machine, unit-tested). */
enum vm_verdict vm_action_verdict(enum vm_state state, enum vm_action action);

/* Pure: "Running", "Paused", "Shutdown". */
const char *vm_state_name(enum vm_state s);

/* Pause bookkeeping, embedded in struct vm. */
struct vm_lifecycle {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool pause_req;                /* under lock: vCPUs park at their next safe point */
	unsigned parked;               /* under lock: vCPUs parked now */
	atomic_bool paused;            /* every vCPU parked and the clock saved */
	atomic_bool restart;           /* vm.reboot asked for a restart, whatever --on-reboot says */
	struct kvm_clock_data clock;   /* kvmclock when paused */
	bool clock_saved;
};

/* Set up / tear down the bookkeeping (vm_create / vm_destroy). */
void lifecycle_init(struct vm *vm);
void lifecycle_destroy(struct vm *vm);

/* The VM's state now: Shutdown once it is stopping, Paused once every vCPU is parked. */
enum vm_state vm_state_now(struct vm *vm);

/* Stop every vCPU at a safe point (no exit half handled: each parks only after KVM_RUN returned
 * EINTR, which completes a pending port/MMIO read; the coalesced ring is drained) and freeze
 * kvmclock. Returns 0 once all are parked (at once if already paused), -ESHUTDOWN if the VM is
 * stopping, -ETIMEDOUT if a vCPU did not park within 5 s (then nothing stays paused). Call
 * from the event loop (one caller at a time). */
int lifecycle_pause(struct vm *vm) __attribute__((warn_unused_result));

/* Restore kvmclock to its value at the pause (the guest sees no jump and no stall), tell the
 * guest it was stopped (KVM_KVMCLOCK_CTRL: no soft-lockup reports) and release the vCPUs.
 * 0 (also when not paused). Call from the event loop. */
int lifecycle_resume(struct vm *vm);

/* vCPU thread, after KVM_RUN returned EINTR: park here while a pause is asked for. */
void lifecycle_park_point(struct vcpu *v);

/* Wake parked vCPUs so they see the VM stopping (vm_request_stop calls this). */
void lifecycle_wake(struct vm *vm);

#endif
