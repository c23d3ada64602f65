/* test_i8042.c: the keyboard controller's command set, the resets, port 0x92. */
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
	*st = hw_vm();
	hw_init(*st, "i8042");
	return 0;
}

static uint8_t in8(struct vm *vm, unsigned port) { return (uint8_t)hw_in(vm, port, 1); }

static void out8(struct vm *vm, unsigned port, uint8_t v) { hw_out(vm, port, v, 1); }

#define STS PLAT_I8042_CMD
#define DATA PLAT_I8042_DATA

/* One command with a one-byte answer, polled as Linux's i8042_command does. */
static uint8_t command(struct vm *vm, uint8_t cmd)
{
	out8(vm, STS, cmd);
	assert_true(in8(vm, STS) & 0x01);
	return in8(vm, DATA);
}

static void test_selftest_and_ctr(void **st)
{
	struct vm *vm = *st;
	uint8_t ctr;

	assert_false(in8(vm, STS) & 0x01); /* i8042_flush finds nothing */
	assert_int_equal(command(vm, 0xaa), 0x55);
	assert_false(in8(vm, STS) & 0x01);
	assert_true(in8(vm, STS) & 0x04); /* SYS */
	assert_int_equal(command(vm, 0xab), 0x00);
	assert_int_equal(command(vm, 0xa9), 0x00);
	ctr = command(vm, 0x20);
	assert_int_equal(ctr, 0x45);
	out8(vm, STS, 0x60);
	assert_true(in8(vm, STS) & 0x08); /* last write was a command */
	out8(vm, DATA, 0x56);
	assert_false(in8(vm, STS) & 0x08);
	assert_int_equal(command(vm, 0x20), 0x56);
	out8(vm, STS, 0xa8);
	out8(vm, STS, 0xae);
	assert_int_equal(command(vm, 0x20), 0x46);
	out8(vm, STS, 0xa7);
	out8(vm, STS, 0xad);
	assert_int_equal(command(vm, 0x20), 0x76);
	/* AUX loop: the byte comes back flagged as AUX data */
	out8(vm, STS, 0xd3);
	out8(vm, DATA, 0x5a);
	assert_int_equal(in8(vm, STS) & 0x21, 0x21);
	assert_int_equal(in8(vm, DATA), 0x5a);
	/* bytes to the absent keyboard or mouse are dropped */
	out8(vm, DATA, 0xf2);
	out8(vm, STS, 0xd4);
	out8(vm, DATA, 0xf2);
	assert_false(in8(vm, STS) & 0x01);
	assert_int_equal(fake.stops, 0);
	assert_int_equal(fake.irq_calls, 0);
}

static void test_reset_fe(void **st)
{
	struct vm *vm = *st;

	out8(vm, STS, 0xff); /* pulses nothing */
	assert_int_equal(fake.stops, 0);
	out8(vm, STS, 0xfe);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.why, VM_STOP_REBOOT);
	assert_int_equal(fake.status, 0);
}

static void test_reset_output_port(void **st)
{
	struct vm *vm = *st;

	assert_int_equal(command(vm, 0xd0) & 0x03, 0x03);
	out8(vm, STS, 0xd1);
	out8(vm, DATA, 0x03); /* A20 on, reset line high: nothing */
	assert_int_equal(fake.stops, 0);
	out8(vm, STS, 0xdd);
	assert_int_equal(command(vm, 0xd0), 0x01);
	out8(vm, STS, 0xd1);
	out8(vm, DATA, 0x02);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.why, VM_STOP_REBOOT);
}

static void test_port92(void **st)
{
	struct vm *vm = *st;

	assert_int_equal(in8(vm, 0x92), 0x02);
	out8(vm, 0x92, 0x00);
	assert_int_equal(in8(vm, 0x92), 0x00);
	assert_int_equal(fake.stops, 0);
	out8(vm, 0x92, 0x03);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.why, VM_STOP_REBOOT);
}

static void test_every_command(void **st)
{
	struct vm *vm = *st;
	uint8_t b[4];
	unsigned c;

	for (c = 0; c < 0xf0; c++) {
		out8(vm, STS, (uint8_t)c);
		out8(vm, DATA, 0x01); /* keeps bit 0 set for 0xd1 */
		in8(vm, DATA);
	}
	assert_int_equal(fake.stops, 0);
	assert_int_equal(bus_access(&vm->pio, DATA, b, 4, false), 0);
	assert_int_equal(bus_access(&vm->pio, STS, b, 2, true), 0);
	assert_int_equal(bus_access(&vm->pio, 0x61, b, 1, false), -ENOENT); /* the PIT's */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_selftest_and_ctr, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_reset_fe, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_reset_output_port, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_port92, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_every_command, setup, hw_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
