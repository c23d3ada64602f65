/* acpi_pm.h: the ACPI PM register block (x86/platform.h PLAT_PM_*, tables in x86/acpi.c). */
#ifndef TV_ACPI_PM_H
#define TV_ACPI_PM_H

struct vm;

/* Press the power button: set PM1_STS.PWRBTN_STS and, if the guest enabled PWRBTN_EN, raise
 * the SCI (an ACPI guest then shuts down and writes S5, which stops the VM with
 * DEVIF_STOP_POWEROFF). Callable from any thread once the devices exist. Returns 0, or -ENODEV
 * if the VM has no PM block. */
int pm_power_button(struct vm *vm);

#endif
