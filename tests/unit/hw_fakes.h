/* hw_fakes.h: the harness the device unit tests share. It defines, at link time, the VM and
 * console functions a device model reaches (vm_set_irq, vm_request_stop, vm_add_device,
 * coalesced_pio_add: what vm/devif.c, linked in, calls for devif_set_irq, devif_request_stop,
 * devif_add_device, ...; console_write, console_set_input) as fakes that record each call in
 * `fake`, hands out one struct vm, runs a device's registered init, and reads and writes
 * through the buses.
 * Failed checks are cmocka assertions: they fail the running test. */
#ifndef TV_TEST_HW_FAKES_H
#define TV_TEST_HW_FAKES_H

#include <stddef.h>
#include <stdint.h>

#include "vm/bus.h"
#include "vm/console.h"
#include "vm/device.h"
#include "vm/vm.h"

struct hw_fake {
	/* vm_request_stop: number of calls, and the last call's reason and status. */
	int stops, why, status;
	/* vm_set_irq: number of calls and the last level. want_gsi >= 0: every call must be for
	 * that GSI (hw_vm sets -1, any GSI). */
	int irq_calls, irq_level, want_gsi;
	/* vm_add_device: number of calls, and the last call's state and destroy. */
	int adds;
	unsigned coalesced_port, coalesced_len; /* the last coalesced_pio_add */
	void *state;
	void (*destroy)(void *);
	/* console_write: the bytes written, in order (more than sizeof(out) fails the test). */
	uint8_t out[256];
	size_t nout;
	/* console_set_input: the last hook installed. */
	console_input_fn in_fn;
	void *in_opaque;
};

extern struct hw_fake fake;

/* Zero `fake` (want_gsi = -1) and the harness's one struct vm, and return that vm. Call first
 * in each setup; set any vm fields the device's init reads before calling hw_init. */
struct vm *hw_vm(void);

/* The tv_devices entry (DEVICE_REGISTER) called name; fails the test if there is none. */
const struct device_desc *hw_find(const char *name);

/* Run the init of the device called name on vm, asserting it returns 0. Returns its entry. */
const struct device_desc *hw_init(struct vm *vm, const char *name);

/* cmocka teardown, *st being the vm: call the destroy the device passed to vm_add_device
 * (one must have been added), then free the vm's pio and mmio tables. Returns 0. */
int hw_teardown(void **st);

/* Read len (1..8) bytes at addr on b, little-endian, asserting a device took the access. */
uint64_t hw_rd(const struct bus *b, uint64_t addr, unsigned len);

/* Write the low len (1..8) bytes of v at addr on b, little-endian, asserting a device took
 * the access. */
void hw_wr(const struct bus *b, uint64_t addr, uint64_t v, unsigned len);

/* hw_rd / hw_wr on vm's port bus, for len 1..4. */
uint32_t hw_in(struct vm *vm, unsigned port, unsigned len);
void hw_out(struct vm *vm, unsigned port, uint32_t v, unsigned len);

#endif
