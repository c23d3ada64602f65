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
#include "hw_fakes.h"
#include "x86/platform.h"

/* What the test device below saw, and its config space. */
static struct {
	unsigned rd_off, rd_len, wr_off, wr_len, reads, writes;
	uint32_t wr_val;
	uint8_t space[256];
} tdev;

static int setup(void **st)
{
	struct vm *vm = hw_vm();

	memset(&tdev, 0, sizeof(tdev));
	assert_int_equal(hw_init(vm, "pci_host")->phase, DEV_PHASE_CORE);
	assert_non_null(vm->pci);
	/* writes to CONFIG_ADDRESS (and only those 4 ports) are coalesced */
	assert_int_equal(fake.coalesced_port, 0xcf8);
	assert_int_equal(fake.coalesced_len, 4);
	*st = vm;
	return 0;
}

static int teardown(void **st)
{
	struct vm *vm = *st;

	hw_teardown(st);
	assert_null(vm->pci);
	return 0;
}

static uint32_t cfg_addr(unsigned dev, unsigned reg) { return 0x80000000u | dev << 11 | reg; }

static void test_host_bridge(void **st)
{
	struct vm *vm = *st;

	/* Linux pci_check_type1: address register reads back a dword write */
	hw_out(vm, 0xcfb, 0x01, 1);
	hw_out(vm, 0xcf8, 0x80000000, 4);
	assert_int_equal(hw_in(vm, 0xcf8, 4), 0x80000000);
	assert_int_equal(hw_in(vm, 0xcfc, 4), 0x00081b36);
	hw_out(vm, 0xcf8, cfg_addr(0, 0x08), 4);
	assert_int_equal(hw_in(vm, 0xcfc, 4) >> 8, 0x060000);
	assert_int_equal(hw_in(vm, 0xcfe, 2), 0x0600);
	hw_out(vm, 0xcf8, cfg_addr(0, 0x0c), 4);
	assert_int_equal(hw_in(vm, 0xcfe, 1), 0); /* header type 0 */
	/* BARs read 0 and stay 0 when sized */
	hw_out(vm, 0xcf8, cfg_addr(0, 0x10), 4);
	hw_out(vm, 0xcfc, 0xffffffff, 4);
	assert_int_equal(hw_in(vm, 0xcfc, 4), 0);
	/* vendor ID is read-only, command register is writable */
	hw_out(vm, 0xcf8, cfg_addr(0, 0), 4);
	hw_out(vm, 0xcfc, 0x12345678, 4);
	assert_int_equal(hw_in(vm, 0xcfc, 4), 0x00081b36);
	hw_out(vm, 0xcf8, cfg_addr(0, 4), 4);
	hw_out(vm, 0xcfc, 0x0007, 2);
	assert_int_equal(hw_in(vm, 0xcfc, 2), 0x0007);
}

static void test_byte_word_reads(void **st)
{
	struct vm *vm = *st;

	hw_out(vm, 0xcf8, cfg_addr(0, 0), 4);
	assert_int_equal(hw_in(vm, 0xcfc, 1), 0x36);
	assert_int_equal(hw_in(vm, 0xcfd, 1), 0x1b);
	assert_int_equal(hw_in(vm, 0xcfe, 1), 0x08);
	assert_int_equal(hw_in(vm, 0xcff, 1), 0x00);
	assert_int_equal(hw_in(vm, 0xcfe, 2), 0x0008);
	assert_int_equal(hw_in(vm, 0xcfd, 2), 0x081b);	   /* unaligned: split into bytes */
	assert_int_equal(hw_in(vm, 0xcff, 4), 0xffffff00); /* cut at the range end */
	/* low address bits are ignored, the register is dword-aligned */
	hw_out(vm, 0xcf8, cfg_addr(0, 0) | 3, 4);
	assert_int_equal(hw_in(vm, 0xcf8, 4), 0x80000000);
}

static void test_empty_and_disabled(void **st)
{
	struct vm *vm = *st;

	hw_out(vm, 0xcf8, cfg_addr(5, 0), 4);
	assert_int_equal(hw_in(vm, 0xcfc, 4), 0xffffffff);
	assert_int_equal(hw_in(vm, 0xcfd, 1), 0xff);
	hw_out(vm, 0xcfc, 0x1234, 2);
	hw_out(vm, 0xcf8, 0x00000000, 4); /* enable bit clear */
	assert_int_equal(hw_in(vm, 0xcfc, 4), 0xffffffff);
	hw_out(vm, 0xcf8, 0x80010000, 4); /* bus 1 */
	assert_int_equal(hw_in(vm, 0xcfc, 4), 0xffffffff);
	hw_out(vm, 0xcf8, 0x81000000, 4); /* extended register 0x100 */
	assert_int_equal(hw_in(vm, 0xcfc, 4), 0xffffffff);
	hw_out(vm, 0xcf8, 0x80000100, 4); /* function 1 */
	assert_int_equal(hw_in(vm, 0xcfc, 2), 0xffff);
}

static void test_cf9(void **st)
{
	struct vm *vm = *st;

	hw_out(vm, 0xcf8, 0x80000000, 4);
	hw_out(vm, 0xcf9, 0x02, 1); /* not an address write, not a reset */
	assert_int_equal(hw_in(vm, 0xcf8, 4), 0x80000000);
	assert_int_equal(hw_in(vm, 0xcf9, 1), 0x02);
	assert_int_equal(fake.stops, 0);
	hw_out(vm, 0xcf9, 0x06, 1);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.why, VM_STOP_REBOOT);
	assert_int_equal(hw_in(vm, 0xcfa, 2), 0xffff);
	hw_out(vm, 0xcfa, 0xffff, 2);
	assert_int_equal(hw_in(vm, 0xcf8, 4), 0x80000000);
}

static uint32_t dev_read(void *opaque, unsigned off, unsigned len)
{
	uint32_t v = 0;
	unsigned i;

	assert_ptr_equal(opaque, &tdev);
	assert_true(len == 1 || len == 2 || len == 4);
	assert_int_equal(off % len, 0);
	assert_true(off + len <= 256);
	tdev.rd_off = off;
	tdev.rd_len = len;
	tdev.reads++;
	for (i = 0; i < len; i++)
		v |= (uint32_t)tdev.space[off + i] << (8 * i);
	return v;
}

static void dev_write(void *opaque, unsigned off, unsigned len, uint32_t v)
{
	assert_true(len == 1 || len == 2 || len == 4);
	assert_int_equal(off % len, 0);
	tdev.wr_off = off;
	tdev.wr_len = len;
	tdev.wr_val = v;
	tdev.writes++;
}

static const struct pci_device_ops dev_ops = {.cfg_read = dev_read, .cfg_write = dev_write};

static void test_registered_device(void **st)
{
	struct vm *vm = *st;
	int i;

	assert_int_equal(pci_register_device(vm->pci, 0, &dev_ops, &tdev), -EINVAL);
	assert_int_equal(pci_register_device(vm->pci, 32, &dev_ops, &tdev), -EINVAL);
	assert_int_equal(pci_register_device(vm->pci, 3, &dev_ops, &tdev), 0);
	assert_int_equal(pci_register_device(vm->pci, 3, &dev_ops, &tdev), -EBUSY);
	assert_int_equal(pci_add_device(vm->pci, &dev_ops, &tdev), 1);
	assert_int_equal(pci_add_device(vm->pci, &dev_ops, &tdev), 2);
	assert_int_equal(pci_add_device(vm->pci, &dev_ops, &tdev), 4);
	for (i = 5; i < 32; i++)
		assert_int_equal(pci_add_device(vm->pci, &dev_ops, &tdev), i);
	assert_int_equal(pci_add_device(vm->pci, &dev_ops, &tdev), -ENOSPC);

	tdev.space[0] = 0xf4;
	tdev.space[1] = 0x1a;
	tdev.space[2] = 0x41;
	tdev.space[3] = 0x10;
	hw_out(vm, 0xcf8, cfg_addr(3, 0), 4);
	assert_int_equal(hw_in(vm, 0xcfc, 4), 0x10411af4);
	assert_int_equal(tdev.rd_len, 4);
	assert_int_equal(hw_in(vm, 0xcfe, 2), 0x1041);
	assert_int_equal(tdev.rd_off, 2);
	assert_int_equal(tdev.rd_len, 2);
	tdev.reads = 0;
	assert_int_equal(hw_in(vm, 0xcfd, 2), 0x411a); /* split: two byte reads */
	assert_int_equal(tdev.reads, 2);

	hw_out(vm, 0xcf8, cfg_addr(3, 0x10), 4);
	hw_out(vm, 0xcfc, 0xfebf0000, 4);
	assert_int_equal(tdev.wr_off, 0x10);
	assert_int_equal(tdev.wr_len, 4);
	assert_int_equal(tdev.wr_val, 0xfebf0000);
	hw_out(vm, 0xcf8, cfg_addr(3, 0xfc), 4);
	hw_out(vm, 0xcff, 0xab, 1);
	assert_int_equal(tdev.wr_off, 0xff);
	assert_int_equal(tdev.wr_len, 1);
	assert_int_equal(tdev.wr_val, 0xab);
	assert_int_equal(hw_in(vm, 0xcff, 1), 0);
}

/* Every offset/length combination over the whole range is safe. */
static void test_hostile_sweep(void **st)
{
	struct vm *vm = *st;
	unsigned port, len;
	uint8_t b[8];

	assert_int_equal(pci_register_device(vm->pci, 1, &dev_ops, &tdev), 0);
	for (port = 0xcf6; port < 0xd02; port++)
		for (len = 1; len <= 8; len++) {
			memset(b, 0x5a, sizeof(b));
			hw_out(vm, 0xcf8, cfg_addr(len & 1, 0xfc), 4);
			bus_access(&vm->pio, port, b, len, false);
			bus_access(&vm->pio, port, b, len, true);
		}
}

/* --firmware bios: the i440FX identity, PAM registers masked and forwarded, functions. */
static uint8_t pam_seen[7];
static int pam_calls;

static void pam_hook(void *opaque, const uint8_t *pam)
{
	memcpy(pam_seen, pam, 7);
	pam_calls++;
}

static int setup_pc(void **st)
{
	struct vm *vm = hw_vm();

	vm->cfg.firmware = FIRMWARE_BIOS;
	hw_init(vm, "pci_host");
	pam_calls = 0;
	*st = vm;
	return 0;
}

static uint32_t fn_read(void *opaque, unsigned off, unsigned len) { return off == 0 ? 0x70108086 : 0; }
static const struct pci_device_ops fn_ops = {.cfg_read = fn_read};

static void test_i440fx(void **st)
{
	struct vm *vm = *st;

	hw_out(vm, 0xcf8, cfg_addr(0, 0), 4);
	assert_int_equal(hw_in(vm, 0xcfc, 4), 0x12378086);
	pci_host_set_pam(vm->pci, pam_hook, NULL);
	hw_out(vm, 0xcf8, cfg_addr(0, 0x58), 4);
	hw_out(vm, 0xcfc, 0xffffffff, 4);   /* 0x58 (not PAM), PAM0-PAM2 */
	assert_int_equal(hw_in(vm, 0xcfc, 4), 0x33333000);
	assert_int_equal(pam_calls, 1);
	assert_memory_equal(pam_seen, "\x30\x33\x33\x00\x00\x00\x00", 7);
	hw_out(vm, 0xcf8, cfg_addr(0, 0x5c), 4);
	hw_out(vm, 0xcfc, 0x11111111, 4);   /* PAM3-PAM6 */
	assert_memory_equal(pam_seen, "\x30\x33\x33\x11\x11\x11\x11", 7);
	/* function 1 needs function 0; then it answers at 00:01.1 */
	assert_int_equal(pci_register_function(vm->pci, 1, 1, &fn_ops, NULL), -EINVAL);
	assert_int_equal(pci_register_function(vm->pci, 1, 0, &fn_ops, NULL), 0);
	assert_int_equal(pci_register_function(vm->pci, 1, 1, &fn_ops, NULL), 0);
	assert_int_equal(pci_register_function(vm->pci, 1, 1, &fn_ops, NULL), -EBUSY);
	hw_out(vm, 0xcf8, cfg_addr(1, 0) | 1 << 8, 4);
	assert_int_equal(hw_in(vm, 0xcfc, 4), 0x70108086);
	hw_out(vm, 0xcf8, cfg_addr(1, 0) | 2 << 8, 4);
	assert_int_equal(hw_in(vm, 0xcfc, 4), 0xffffffff);
}

/* devif_set_pci: a second host is refused (-EBUSY) and leaves the first in place, even when
 * the refused one is torn down. */
static void test_second_host(void **st)
{
	struct vm *vm = *st;
	struct pci_host *first = vm->pci;
	void *first_state = fake.state;
	void (*first_destroy)(void *) = fake.destroy;

	assert_int_equal(hw_find("pci_host")->init(vm), -EBUSY);
	assert_ptr_equal(vm->pci, first);
	assert_ptr_not_equal(fake.state, first_state);
	fake.destroy(fake.state);
	assert_ptr_equal(vm->pci, first);
	fake.state = first_state; /* the teardown destroys the first host */
	fake.destroy = first_destroy;
}

/* BARs go below 4 GiB first (a 32-bit guest without PAE reaches them), 64-bit ones above RAM
 * only when the 32-bit window is full, and nothing once both are. */
static void test_bar_windows(void **st)
{
	struct vm *vm = *st;
	struct pci_host *h = vm->pci;
	uint64_t a = pci_alloc_bar(h, 0x4000, true), b = pci_alloc_bar(h, 0x1000, false), c;

	assert_true(a >= PLAT_PCI_MMIO32_BASE && a + 0x4000 <= PLAT_PCI_MMIO32_BASE + PLAT_PCI_MMIO32_SIZE);
	assert_int_equal(a % 0x4000, 0);
	assert_true(b >= a + 0x4000 && b < PLAT_PCI_MMIO32_BASE + PLAT_PCI_MMIO32_SIZE);
	assert_int_equal(pci_alloc_bar(h, 0x3000, false), 0); /* not a power of two */
	assert_int_equal(pci_alloc_bar(h, PLAT_PCI_MMIO32_SIZE, false), 0); /* no room left */
	c = pci_alloc_bar(h, PLAT_PCI_MMIO32_SIZE, true);
	assert_int_equal(c, plat_pci_mmio64_base(vm->cfg.mem_size)); /* the 64-bit window */
	assert_int_equal(pci_alloc_bar(h, PLAT_PCI_MMIO64_SIZE, true), 0);
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
	    cmocka_unit_test_setup_teardown(test_i440fx, setup_pc, teardown),
	    cmocka_unit_test_setup_teardown(test_second_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bar_windows, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
