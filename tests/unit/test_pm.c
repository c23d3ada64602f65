/* test_pm.c: the ACPI PM block: S5, PM timer, reset register, power button and SCI. */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <string.h>
#include <time.h>

#include "hw/acpi_pm.h"
#include "hw_fakes.h"
#include "x86/acpi.h"
#include "x86/platform.h"

static int setup(void **st)
{
	*st = hw_vm();
	fake.want_gsi = PLAT_SCI_IRQ;
	hw_init(*st, "acpi_pm");
	return 0;
}

static uint16_t slp(unsigned typ) { return (uint16_t)(typ << ACPI_PM1_CNT_SLP_TYP_SHIFT); }

static void test_s5_poweroff(void **st)
{
	struct vm *vm = *st;

	assert_int_equal(hw_in(vm, PLAT_PM1A_CNT_PORT, 2) & ACPI_PM1_CNT_SCI_EN, 1);
	/* ACPICA writes SLP_TYP first, then SLP_TYP | SLP_EN */
	hw_out(vm, PLAT_PM1A_CNT_PORT, slp(ACPI_S5_SLP_TYP), 2);
	assert_int_equal(fake.stops, 0);
	assert_int_equal(hw_in(vm, PLAT_PM1A_CNT_PORT, 2), slp(ACPI_S5_SLP_TYP) | 1);
	hw_out(vm, PLAT_PM1A_CNT_PORT, slp(ACPI_S5_SLP_TYP) | ACPI_PM1_CNT_SLP_EN, 2);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.why, VM_STOP_POWEROFF);
	assert_int_equal(fake.status, 0);
	/* SLP_EN is write-only */
	assert_false(hw_in(vm, PLAT_PM1A_CNT_PORT, 2) & ACPI_PM1_CNT_SLP_EN);
}

static void test_other_sleep_types_ignored(void **st)
{
	struct vm *vm = *st;
	unsigned t;

	for (t = 0; t < 8; t++)
		if (t != ACPI_S5_SLP_TYP)
			hw_out(vm, PLAT_PM1A_CNT_PORT, slp(t) | ACPI_PM1_CNT_SLP_EN, 2);
	assert_int_equal(fake.stops, 0);
	/* a low-byte write does not re-trigger a stored S5 SLP_TYP */
	hw_out(vm, PLAT_PM1A_CNT_PORT, slp(ACPI_S5_SLP_TYP), 2);
	hw_out(vm, PLAT_PM1A_CNT_PORT, 0x02, 1);
	assert_int_equal(fake.stops, 0);
	/* ... but a high-byte write with SLP_EN does */
	hw_out(vm, PLAT_PM1A_CNT_PORT + 1, (slp(ACPI_S5_SLP_TYP) | ACPI_PM1_CNT_SLP_EN) >> 8, 1);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.why, VM_STOP_POWEROFF);
}

static void test_pm_timer(void **st)
{
	struct vm *vm = *st;
	struct timespec ts = {0, 2000000}; /* 2 ms = ~7159 ticks */
	uint32_t a, b;

	a = hw_in(vm, PLAT_PM_TMR_PORT, 4);
	nanosleep(&ts, NULL);
	b = hw_in(vm, PLAT_PM_TMR_PORT, 4);
	assert_int_equal(a >> 24, 0);
	assert_int_equal(b >> 24, 0);
	assert_true(((b - a) & 0xffffff) >= 7000);
	assert_true(((b - a) & 0xffffff) < 3579545); /* less than a second */
	hw_out(vm, PLAT_PM_TMR_PORT, 0, 4);	     /* read-only */
	assert_true(((hw_in(vm, PLAT_PM_TMR_PORT, 4) - b) & 0xffffff) < 3579545);
	assert_int_equal(hw_in(vm, PLAT_PM_TMR_PORT + 3, 1), 0);
}

static void test_reset_reg(void **st)
{
	struct vm *vm = *st;

	hw_out(vm, PLAT_RESET_PORT, PLAT_RESET_VALUE ^ 0xff, 1);
	assert_int_equal(fake.stops, 0);
	hw_out(vm, PLAT_RESET_PORT, PLAT_RESET_VALUE, 1);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.why, VM_STOP_REBOOT);
}

static void test_power_button(void **st)
{
	struct vm *vm = *st;
	struct vm empty;

	memset(&empty, 0, sizeof(empty));
	assert_int_equal(pm_power_button(&empty), -ENODEV);
	/* PWRBTN_EN clear: status only, no SCI */
	assert_int_equal(pm_power_button(vm), 0);
	assert_int_equal(hw_in(vm, PLAT_PM1A_EVT_PORT, 2), ACPI_PM1_PWRBTN_STS);
	assert_int_equal(fake.irq_calls, 0);
	hw_out(vm, PLAT_PM1A_EVT_PORT + 2, ACPI_PM1_PWRBTN_STS, 2); /* PWRBTN_EN */
	assert_int_equal(hw_in(vm, PLAT_PM1A_EVT_PORT + 2, 2), ACPI_PM1_PWRBTN_STS);
	assert_int_equal(fake.irq_level, 1);
	assert_int_equal(fake.irq_calls, 1);
	/* write 1 to clear; writing 0 leaves it */
	hw_out(vm, PLAT_PM1A_EVT_PORT, 0, 2);
	assert_int_equal(hw_in(vm, PLAT_PM1A_EVT_PORT, 2), ACPI_PM1_PWRBTN_STS);
	hw_out(vm, PLAT_PM1A_EVT_PORT, ACPI_PM1_PWRBTN_STS, 2);
	assert_int_equal(hw_in(vm, PLAT_PM1A_EVT_PORT, 2), 0);
	assert_int_equal(fake.irq_level, 0);
	assert_int_equal(fake.irq_calls, 2);
	/* with the button enabled, a press raises the SCI at once */
	assert_int_equal(pm_power_button(vm), 0);
	assert_int_equal(fake.irq_level, 1);
	assert_int_equal(pm_power_button(vm), 0);
	assert_int_equal(fake.irq_calls, 3);
	/* dword write to PM1_EVT: clears STS and writes EN together */
	hw_out(vm, PLAT_PM1A_EVT_PORT, ACPI_PM1_PWRBTN_STS | 0xffff0000u, 4);
	assert_int_equal(hw_in(vm, PLAT_PM1A_EVT_PORT, 4), 0x07210000);
	assert_int_equal(fake.irq_level, 0);
}

static void test_odd_accesses(void **st)
{
	struct vm *vm = *st;
	unsigned port, len;
	uint8_t b[8];

	assert_int_equal(hw_in(vm, PLAT_PM1A_CNT_PORT + 2, 2), 0xffff);
	for (port = PLAT_PM_PORT; port < PLAT_PM_PORT + PLAT_PM_LEN; port++)
		for (len = 1; len <= 8; len++) {
			memset(b, 0, sizeof(b));
			bus_access(&vm->pio, port, b, len, false);
			if (port != PLAT_PM1A_CNT_PORT + 1 && port != PLAT_RESET_PORT)
				bus_access(&vm->pio, port, b, len, true);
		}
	assert_int_equal(fake.stops, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_s5_poweroff, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_other_sleep_types_ignored, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_pm_timer, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_reset_reg, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_power_button, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_odd_accesses, setup, hw_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
