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
#include "vm/device.h"
#include "vm/vm.h"
#include "x86/acpi.h"
#include "x86/platform.h"

static struct {
	int stops, why, status, irq_calls, irq_level;
	void *state;
	void (*destroy)(void *);
} f;

int vm_set_irq(struct vm *vm, unsigned gsi, int level)
{
	assert_int_equal(gsi, PLAT_SCI_IRQ);
	f.irq_calls++;
	f.irq_level = level;
	return 0;
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status)
{
	f.stops++;
	f.why = why;
	f.status = status;
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
		if (!strcmp(d->name, "acpi_pm"))
			break;
	assert_true(d < __stop_tv_devices);
	assert_int_equal(d->init(&vm), 0);
	*st = &vm;
	return 0;
}

static int teardown(void **st)
{
	struct vm *vm = *st;

	f.destroy(f.state);
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

static uint16_t slp(unsigned typ) { return (uint16_t)(typ << ACPI_PM1_CNT_SLP_TYP_SHIFT); }

static void test_s5_poweroff(void **st)
{
	struct vm *vm = *st;

	assert_int_equal(in(vm, PLAT_PM1A_CNT_PORT, 2) & ACPI_PM1_CNT_SCI_EN, 1);
	/* ACPICA writes SLP_TYP first, then SLP_TYP | SLP_EN */
	out(vm, PLAT_PM1A_CNT_PORT, slp(ACPI_S5_SLP_TYP), 2);
	assert_int_equal(f.stops, 0);
	assert_int_equal(in(vm, PLAT_PM1A_CNT_PORT, 2), slp(ACPI_S5_SLP_TYP) | 1);
	out(vm, PLAT_PM1A_CNT_PORT, slp(ACPI_S5_SLP_TYP) | ACPI_PM1_CNT_SLP_EN, 2);
	assert_int_equal(f.stops, 1);
	assert_int_equal(f.why, VM_STOP_POWEROFF);
	assert_int_equal(f.status, 0);
	/* SLP_EN is write-only */
	assert_false(in(vm, PLAT_PM1A_CNT_PORT, 2) & ACPI_PM1_CNT_SLP_EN);
}

static void test_other_sleep_types_ignored(void **st)
{
	struct vm *vm = *st;
	unsigned t;

	for (t = 0; t < 8; t++)
		if (t != ACPI_S5_SLP_TYP)
			out(vm, PLAT_PM1A_CNT_PORT, slp(t) | ACPI_PM1_CNT_SLP_EN, 2);
	assert_int_equal(f.stops, 0);
	/* a low-byte write does not re-trigger a stored S5 SLP_TYP */
	out(vm, PLAT_PM1A_CNT_PORT, slp(ACPI_S5_SLP_TYP), 2);
	out(vm, PLAT_PM1A_CNT_PORT, 0x02, 1);
	assert_int_equal(f.stops, 0);
	/* ... but a high-byte write with SLP_EN does */
	out(vm, PLAT_PM1A_CNT_PORT + 1, (slp(ACPI_S5_SLP_TYP) | ACPI_PM1_CNT_SLP_EN) >> 8, 1);
	assert_int_equal(f.stops, 1);
	assert_int_equal(f.why, VM_STOP_POWEROFF);
}

static void test_pm_timer(void **st)
{
	struct vm *vm = *st;
	struct timespec ts = {0, 2000000}; /* 2 ms = ~7159 ticks */
	uint32_t a, b;

	a = in(vm, PLAT_PM_TMR_PORT, 4);
	nanosleep(&ts, NULL);
	b = in(vm, PLAT_PM_TMR_PORT, 4);
	assert_int_equal(a >> 24, 0);
	assert_int_equal(b >> 24, 0);
	assert_true(((b - a) & 0xffffff) >= 7000);
	assert_true(((b - a) & 0xffffff) < 3579545); /* less than a second */
	out(vm, PLAT_PM_TMR_PORT, 0, 4);	     /* read-only */
	assert_true(((in(vm, PLAT_PM_TMR_PORT, 4) - b) & 0xffffff) < 3579545);
	assert_int_equal(in(vm, PLAT_PM_TMR_PORT + 3, 1), 0);
}

static void test_reset_reg(void **st)
{
	struct vm *vm = *st;

	out(vm, PLAT_RESET_PORT, PLAT_RESET_VALUE ^ 0xff, 1);
	assert_int_equal(f.stops, 0);
	out(vm, PLAT_RESET_PORT, PLAT_RESET_VALUE, 1);
	assert_int_equal(f.stops, 1);
	assert_int_equal(f.why, VM_STOP_REBOOT);
}

static void test_power_button(void **st)
{
	struct vm *vm = *st;
	struct vm empty;

	memset(&empty, 0, sizeof(empty));
	assert_int_equal(pm_power_button(&empty), -ENODEV);
	/* PWRBTN_EN clear: status only, no SCI */
	assert_int_equal(pm_power_button(vm), 0);
	assert_int_equal(in(vm, PLAT_PM1A_EVT_PORT, 2), ACPI_PM1_PWRBTN_STS);
	assert_int_equal(f.irq_calls, 0);
	out(vm, PLAT_PM1A_EVT_PORT + 2, ACPI_PM1_PWRBTN_STS, 2); /* PWRBTN_EN */
	assert_int_equal(in(vm, PLAT_PM1A_EVT_PORT + 2, 2), ACPI_PM1_PWRBTN_STS);
	assert_int_equal(f.irq_level, 1);
	assert_int_equal(f.irq_calls, 1);
	/* write 1 to clear; writing 0 leaves it */
	out(vm, PLAT_PM1A_EVT_PORT, 0, 2);
	assert_int_equal(in(vm, PLAT_PM1A_EVT_PORT, 2), ACPI_PM1_PWRBTN_STS);
	out(vm, PLAT_PM1A_EVT_PORT, ACPI_PM1_PWRBTN_STS, 2);
	assert_int_equal(in(vm, PLAT_PM1A_EVT_PORT, 2), 0);
	assert_int_equal(f.irq_level, 0);
	assert_int_equal(f.irq_calls, 2);
	/* with the button enabled, a press raises the SCI at once */
	assert_int_equal(pm_power_button(vm), 0);
	assert_int_equal(f.irq_level, 1);
	assert_int_equal(pm_power_button(vm), 0);
	assert_int_equal(f.irq_calls, 3);
	/* dword write to PM1_EVT: clears STS and writes EN together */
	out(vm, PLAT_PM1A_EVT_PORT, ACPI_PM1_PWRBTN_STS | 0xffff0000u, 4);
	assert_int_equal(in(vm, PLAT_PM1A_EVT_PORT, 4), 0x07210000);
	assert_int_equal(f.irq_level, 0);
}

static void test_odd_accesses(void **st)
{
	struct vm *vm = *st;
	unsigned port, len;
	uint8_t b[8];

	assert_int_equal(in(vm, PLAT_PM1A_CNT_PORT + 2, 2), 0xffff);
	for (port = PLAT_PM_PORT; port < PLAT_PM_PORT + PLAT_PM_LEN; port++)
		for (len = 1; len <= 8; len++) {
			memset(b, 0, sizeof(b));
			bus_access(&vm->pio, port, b, len, false);
			if (port != PLAT_PM1A_CNT_PORT + 1 && port != PLAT_RESET_PORT)
				bus_access(&vm->pio, port, b, len, true);
		}
	assert_int_equal(f.stops, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_s5_poweroff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_sleep_types_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pm_timer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_reg, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_power_button, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_odd_accesses, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
