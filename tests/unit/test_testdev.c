/* test_testdev.c: the test device's register map (ports 0x520-0x52f, MMIO 0xfeb00000). */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <string.h>

#include "hw_fakes.h"
#include "x86/platform.h"

static int setup(void **st)
{
	struct vm *vm = hw_vm();

	vm->cfg.testdev = true;
	hw_init(vm, "testdev");
	*st = vm;
	return 0;
}

static void test_absent_without_flag(void **st)
{
	struct vm *vm = hw_vm();

	hw_init(vm, "testdev");
	assert_int_equal(fake.adds, 0);
	assert_int_equal(vm->pio.n + vm->mmio.n, 0);
}

static void test_ports(void **st)
{
	struct vm *vm = *st;

	assert_int_equal(hw_rd(&vm->pio, 0x524, 4), 0x54564453);
	assert_int_equal(hw_rd(&vm->pio, 0x524, 1), 0x53);
	assert_int_equal(hw_rd(&vm->pio, 0x528, 4), 0);
	hw_wr(&vm->pio, 0x528, 0, 4);
	hw_wr(&vm->pio, 0x528, 7, 1);
	hw_wr(&vm->pio, 0x528, 9, 2);
	assert_int_equal(hw_rd(&vm->pio, 0x528, 4), 3);
	assert_int_equal(hw_rd(&vm->pio, 0x52c, 4), 0xffffffff);
	assert_int_equal(fake.stops, 0);
	hw_wr(&vm->pio, 0x520, 0x1234, 4);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.why, VM_STOP_TESTDEV);
	assert_int_equal(fake.status, 0x34);
	hw_wr(&vm->pio, 0x520, 0, 1);
	assert_int_equal(fake.status, 0);
	assert_int_equal(fake.stops, 2);
}

static void test_mmio(void **st)
{
	struct vm *vm = *st;
	const uint64_t base = PLAT_TESTDEV_MMIO;

	assert_int_equal(hw_rd(&vm->mmio, base, 4), 0x746d6d69);
	assert_int_equal(hw_rd(&vm->mmio, base + 0x10, 8), 0);
	hw_wr(&vm->mmio, base + 8, 0x0123456789abcdefull, 8);
	assert_int_equal(hw_rd(&vm->mmio, base + 8, 8), 0x0123456789abcdefull);
	hw_wr(&vm->mmio, base + 8, 0xdeadbeef, 4);
	assert_int_equal(hw_rd(&vm->mmio, base + 8, 8), 0x01234567deadbeefull);
	assert_int_equal(hw_rd(&vm->mmio, base + 12, 4), 0x01234567);
	hw_wr(&vm->mmio, base + 0x800, 1, 4); /* counted, otherwise ignored */
	assert_int_equal(hw_rd(&vm->mmio, base + 0x10, 8), 3);
	assert_int_equal(hw_rd(&vm->mmio, base + 0x800, 4), 0xffffffff);
	assert_int_equal(hw_rd(&vm->mmio, base + 0xffc, 8), 0xffffffffffffffffull);
	hw_wr(&vm->mmio, base + 0xffe, 0, 8);
	assert_int_equal(hw_rd(&vm->mmio, base + 0x10, 4), 4);
	assert_int_equal(bus_access(&vm->mmio, base + 0x1000, (uint8_t[4]){0}, 4, false), -ENOENT);
	assert_int_equal(fake.stops, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_absent_without_flag),
	    cmocka_unit_test_setup_teardown(test_ports, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_mmio, setup, hw_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
