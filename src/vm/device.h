/* device.h: how a device file registers itself. Each device file ends with
 *     DEVICE_REGISTER(name, phase, init_fn);
 * and vm_create calls every registered init in phase order. The table is built by the linker
 * (a const section), so there is no mutable global registry. */
#ifndef TV_DEVICE_H
#define TV_DEVICE_H

struct vm;

enum device_phase {
	DEV_PHASE_CORE = 0,   /* buses, interrupt routing, PCI host */
	DEV_PHASE_PLATFORM,   /* legacy devices: UART, RTC, i8042, ACPI PM */
	DEV_PHASE_PCI,        /* devices on the PCI bus */
	DEV_PHASE_LATE,
};

struct device_desc {
	const char *name;
	enum device_phase phase;
	/* Create the device for vm, register its ranges, add a teardown with vm_add_device.
	 * Return 0, or -errno (vm_create fails). A device that is not wanted in this config
	 * returns 0 without doing anything. */
	int (*init)(struct vm *vm);
};

#define DEVICE_REGISTER(dname, dphase, dinit)                                                  \
	static const struct device_desc device_desc_##dname                                     \
		__attribute__((used, section("tv_devices"), aligned(8))) = {                   \
			.name = #dname, .phase = (dphase), .init = (dinit)}

#endif
