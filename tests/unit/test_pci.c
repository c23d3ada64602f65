/* test_pci.c: configuration mechanism #1 and the host bridge, through the port bus. */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <string.h>

#include "hw/pci.h"
#include "vm/device.h"
#include "vm/vm.h"
#include "x86/platform.h"

static struct {
	int stops, why;
	void *state;
	void (*destroy)(void *);
	unsigned rd_off, rd_len, wr_off, wr_len, reads, writes;
	uint32_t wr_val;
	uint8_t space[256];
} f;

int vm_set_irq(struct vm *vm, unsigned gsi, int level) { return 0; }

void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status)
{
	f.stops++;
	f.why = why;
}

int vm_add_device(struct vm *vm, const char *name, void *state, void (*destroy)(void *))
{
	f.state = state;
	f.destroy = destroy;
	return 0;
}

extern const struct device_desc __start_tv_devices[], __stop_tv_devices[];

static int setup(void **st)
{
	static struct vm vm;
	const struct device_desc *d;

	memset(&vm, 0, sizeof(vm));
	memset(&f, 0, sizeof(f));
	for (d = __start_tv_devices; d < __stop_tv_devices; d++)
		if (!strcmp(d->name, "pci_host"))
			break;
	assert_true(d < __stop_tv_devices);
	assert_int_equal(d->phase, DEV_PHASE_CORE);
	assert_int_equal(d->init(&vm), 0);
	assert_non_null(vm.pci);
	*st = &vm;
	return 0;
}

static int teardown(void **st)
{
	struct vm *vm = *st;

	f.destroy(f.state);
	assert_null(vm->pci);
	bus_destroy(&vm->pio);
	return 0;
}

static uint32_t in(struct vm *vm, unsigned port, unsigned len)
{
	uint8_t b[4] = {0};
	uint32_t v = 0;
	unsigned i;

	assert_int_equal(bus_access(&vm->pio, port, b, len, false), 0);
	for (i = 0; i < len; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static void out(struct vm *vm, unsigned port, uint32_t v, unsigned len)
{
	uint8_t b[4];
	unsigned i;

	for (i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	assert_int_equal(bus_access(&vm->pio, port, b, len, true), 0);
}

static uint32_t cfg_addr(unsigned dev, unsigned reg) { return 0x80000000u | dev << 11 | reg; }

static void test_host_bridge(void **st)
{
	struct vm *vm = *st;

	/* Linux pci_check_type1: address register reads back a dword write */
	out(vm, 0xcfb, 0x01, 1);
	out(vm, 0xcf8, 0x80000000, 4);
	assert_int_equal(in(vm, 0xcf8, 4), 0x80000000);
	assert_int_equal(in(vm, 0xcfc, 4), 0x00081b36);
	out(vm, 0xcf8, cfg_addr(0, 0x08), 4);
	assert_int_equal(in(vm, 0xcfc, 4) >> 8, 0x060000);
	assert_int_equal(in(vm, 0xcfe, 2), 0x0600);
	out(vm, 0xcf8, cfg_addr(0, 0x0c), 4);
	assert_int_equal(in(vm, 0xcfe, 1), 0); /* header type 0 */
	/* BARs read 0 and stay 0 when sized */
	out(vm, 0xcf8, cfg_addr(0, 0x10), 4);
	out(vm, 0xcfc, 0xffffffff, 4);
	assert_int_equal(in(vm, 0xcfc, 4), 0);
	/* vendor ID is read-only, command register is writable */
	out(vm, 0xcf8, cfg_addr(0, 0), 4);
	out(vm, 0xcfc, 0x12345678, 4);
	assert_int_equal(in(vm, 0xcfc, 4), 0x00081b36);
	out(vm, 0xcf8, cfg_addr(0, 4), 4);
	out(vm, 0xcfc, 0x0007, 2);
	assert_int_equal(in(vm, 0xcfc, 2), 0x0007);
}

static void test_byte_word_reads(void **st)
{
	struct vm *vm = *st;

	out(vm, 0xcf8, cfg_addr(0, 0), 4);
	assert_int_equal(in(vm, 0xcfc, 1), 0x36);
	assert_int_equal(in(vm, 0xcfd, 1), 0x1b);
	assert_int_equal(in(vm, 0xcfe, 1), 0x08);
	assert_int_equal(in(vm, 0xcff, 1), 0x00);
	assert_int_equal(in(vm, 0xcfe, 2), 0x0008);
	assert_int_equal(in(vm, 0xcfd, 2), 0x081b);	/* unaligned: split into bytes */
	assert_int_equal(in(vm, 0xcff, 4), 0xffffff00); /* cut at the range end */
	/* low address bits are ignored, the register is dword-aligned */
	out(vm, 0xcf8, cfg_addr(0, 0) | 3, 4);
	assert_int_equal(in(vm, 0xcf8, 4), 0x80000000);
}

static void test_empty_and_disabled(void **st)
{
	struct vm *vm = *st;

	out(vm, 0xcf8, cfg_addr(5, 0), 4);
	assert_int_equal(in(vm, 0xcfc, 4), 0xffffffff);
	assert_int_equal(in(vm, 0xcfd, 1), 0xff);
	out(vm, 0xcfc, 0x1234, 2);
	out(vm, 0xcf8, 0x00000000, 4); /* enable bit clear */
	assert_int_equal(in(vm, 0xcfc, 4), 0xffffffff);
	out(vm, 0xcf8, 0x80010000, 4); /* bus 1 */
	assert_int_equal(in(vm, 0xcfc, 4), 0xffffffff);
	out(vm, 0xcf8, 0x81000000, 4); /* extended register 0x100 */
	assert_int_equal(in(vm, 0xcfc, 4), 0xffffffff);
	out(vm, 0xcf8, 0x80000100, 4); /* function 1 */
	assert_int_equal(in(vm, 0xcfc, 2), 0xffff);
}

static void test_cf9(void **st)
{
	struct vm *vm = *st;

	out(vm, 0xcf8, 0x80000000, 4);
	out(vm, 0xcf9, 0x02, 1); /* not an address write, not a reset */
	assert_int_equal(in(vm, 0xcf8, 4), 0x80000000);
	assert_int_equal(in(vm, 0xcf9, 1), 0x02);
	assert_int_equal(f.stops, 0);
	out(vm, 0xcf9, 0x06, 1);
	assert_int_equal(f.stops, 1);
	assert_int_equal(f.why, VM_STOP_REBOOT);
	assert_int_equal(in(vm, 0xcfa, 2), 0xffff);
	out(vm, 0xcfa, 0xffff, 2);
	assert_int_equal(in(vm, 0xcf8, 4), 0x80000000);
}

static uint32_t dev_read(void *opaque, unsigned off, unsigned len)
{
	uint32_t v = 0;
	unsigned i;

	assert_ptr_equal(opaque, &f);
	assert_true(len == 1 || len == 2 || len == 4);
	assert_int_equal(off % len, 0);
	assert_true(off + len <= 256);
	f.rd_off = off;
	f.rd_len = len;
	f.reads++;
	for (i = 0; i < len; i++)
		v |= (uint32_t)f.space[off + i] << (8 * i);
	return v;
}

static void dev_write(void *opaque, unsigned off, unsigned len, uint32_t v)
{
	assert_true(len == 1 || len == 2 || len == 4);
	assert_int_equal(off % len, 0);
	f.wr_off = off;
	f.wr_len = len;
	f.wr_val = v;
	f.writes++;
}

static const struct pci_device_ops dev_ops = {.cfg_read = dev_read, .cfg_write = dev_write};

static void test_registered_device(void **st)
{
	struct vm *vm = *st;
	int i;

	assert_int_equal(pci_register_device(vm->pci, 0, &dev_ops, &f), -EINVAL);
	assert_int_equal(pci_register_device(vm->pci, 32, &dev_ops, &f), -EINVAL);
	assert_int_equal(pci_register_device(vm->pci, 3, &dev_ops, &f), 0);
	assert_int_equal(pci_register_device(vm->pci, 3, &dev_ops, &f), -EBUSY);
	assert_int_equal(pci_add_device(vm->pci, &dev_ops, &f), 1);
	assert_int_equal(pci_add_device(vm->pci, &dev_ops, &f), 2);
	assert_int_equal(pci_add_device(vm->pci, &dev_ops, &f), 4);
	for (i = 5; i < 32; i++)
		assert_int_equal(pci_add_device(vm->pci, &dev_ops, &f), i);
	assert_int_equal(pci_add_device(vm->pci, &dev_ops, &f), -ENOSPC);

	f.space[0] = 0xf4;
	f.space[1] = 0x1a;
	f.space[2] = 0x41;
	f.space[3] = 0x10;
	out(vm, 0xcf8, cfg_addr(3, 0), 4);
	assert_int_equal(in(vm, 0xcfc, 4), 0x10411af4);
	assert_int_equal(f.rd_len, 4);
	assert_int_equal(in(vm, 0xcfe, 2), 0x1041);
	assert_int_equal(f.rd_off, 2);
	assert_int_equal(f.rd_len, 2);
	f.reads = 0;
	assert_int_equal(in(vm, 0xcfd, 2), 0x411a); /* split: two byte reads */
	assert_int_equal(f.reads, 2);

	out(vm, 0xcf8, cfg_addr(3, 0x10), 4);
	out(vm, 0xcfc, 0xfebf0000, 4);
	assert_int_equal(f.wr_off, 0x10);
	assert_int_equal(f.wr_len, 4);
	assert_int_equal(f.wr_val, 0xfebf0000);
	out(vm, 0xcf8, cfg_addr(3, 0xfc), 4);
	out(vm, 0xcff, 0xab, 1);
	assert_int_equal(f.wr_off, 0xff);
	assert_int_equal(f.wr_len, 1);
	assert_int_equal(f.wr_val, 0xab);
	assert_int_equal(in(vm, 0xcff, 1), 0);
}

/* Every offset/length combination over the whole range is safe. */
static void test_hostile_sweep(void **st)
{
	struct vm *vm = *st;
	unsigned port, len;
	uint8_t b[8];

	assert_int_equal(pci_register_device(vm->pci, 1, &dev_ops, &f), 0);
	for (port = 0xcf6; port < 0xd02; port++)
		for (len = 1; len <= 8; len++) {
			memset(b, 0x5a, sizeof(b));
			out(vm, 0xcf8, cfg_addr(len & 1, 0xfc), 4);
			bus_access(&vm->pio, port, b, len, false);
			bus_access(&vm->pio, port, b, len, true);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_host_bridge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_byte_word_reads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_and_disabled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cf9, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_registered_device, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_sweep, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
