/* test_rtc.c: the MC146818 model through the port bus: BCD/binary, 12/24 h, written times
 * kept as an offset from the host clock, CMOS RAM. */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw_fakes.h"
#include "x86/platform.h"

static int setup(void **st)
{
	*st = hw_vm();
	hw_init(*st, "rtc");
	return 0;
}

static uint8_t cmos_read(struct vm *vm, uint8_t idx)
{
	hw_out(vm, PLAT_RTC_PORT, idx, 1);
	return (uint8_t)hw_in(vm, PLAT_RTC_PORT + 1, 1);
}

static void cmos_write(struct vm *vm, uint8_t idx, uint8_t v)
{
	hw_out(vm, PLAT_RTC_PORT, idx, 1);
	hw_out(vm, PLAT_RTC_PORT + 1, v, 1);
}

static int bcd(uint8_t b) { return (b >> 4) * 10 + (b & 15); }

/* Read the clock (24 h mode) into a time_t; dec converts each register. */
static time_t read_time(struct vm *vm, int binary)
{
	struct tm tm = {0};
	int (*dec)(uint8_t) = binary ? NULL : bcd;
#define D(x) (dec ? dec(x) : (x))
	tm.tm_sec = D(cmos_read(vm, 0x00));
	tm.tm_min = D(cmos_read(vm, 0x02));
	tm.tm_hour = D(cmos_read(vm, 0x04));
	tm.tm_mday = D(cmos_read(vm, 0x07));
	tm.tm_mon = D(cmos_read(vm, 0x08)) - 1;
	tm.tm_year = D(cmos_read(vm, 0x32)) * 100 + D(cmos_read(vm, 0x09)) - 1900;
#undef D
	return timegm(&tm);
}

static void test_defaults_and_host_time(void **st)
{
	struct vm *vm = *st;
	time_t t;
	struct tm now;
	uint8_t wday;

	assert_int_equal(cmos_read(vm, 0x0a), 0x26);
	assert_int_equal(cmos_read(vm, 0x0b), 0x02);
	assert_int_equal(cmos_read(vm, 0x0d), 0x80);
	t = read_time(vm, 0);
	assert_true(labs((long)(t - time(NULL))) <= 2);
	wday = cmos_read(vm, 0x06);
	t = time(NULL);
	gmtime_r(&t, &now);
	assert_true(wday >= 1 && wday <= 7);
	assert_true(wday == now.tm_wday + 1 || now.tm_sec == 0); /* (midnight race) */
	assert_int_equal(cmos_read(vm, 0x32), 0x20);		 /* BCD century */
	/* NMI bit ignored in the index */
	assert_int_equal(cmos_read(vm, 0x80 | 0x0d), 0x80);
}

static void test_binary_mode(void **st)
{
	struct vm *vm = *st;
	time_t t;

	cmos_write(vm, 0x0b, 0x06); /* 24 h, binary */
	t = read_time(vm, 1);
	assert_true(labs((long)(t - time(NULL))) <= 2);
	assert_int_equal(cmos_read(vm, 0x32), 20);
}

/* hwclock -w: SET, write the time, clear SET; the clock then runs from there. */
static void test_write_offset(void **st)
{
	struct vm *vm = *st;
	time_t want, got;
	struct tm tm = {
	    .tm_year = 99, .tm_mon = 11, .tm_mday = 31, .tm_hour = 23, .tm_min = 58, .tm_sec = 10};

	want = timegm(&tm);
	cmos_write(vm, 0x0b, 0x82);
	cmos_write(vm, 0x00, 0x10);
	cmos_write(vm, 0x02, 0x58);
	cmos_write(vm, 0x04, 0x23);
	cmos_write(vm, 0x07, 0x31);
	cmos_write(vm, 0x08, 0x12);
	cmos_write(vm, 0x09, 0x99);
	cmos_write(vm, 0x32, 0x19);
	assert_int_equal(cmos_read(vm, 0x04), 0x23); /* held while SET */
	assert_int_equal(cmos_read(vm, 0x09), 0x99);
	cmos_write(vm, 0x0b, 0x02);
	got = read_time(vm, 0);
	assert_true(got >= want && got - want <= 2);
	assert_int_equal(cmos_read(vm, 0x06), 6); /* Friday */

	/* 12-hour mode: 23h reads as 11 PM */
	cmos_write(vm, 0x0b, 0x00);
	assert_int_equal(cmos_read(vm, 0x04), 0x80 | 0x11);
	cmos_write(vm, 0x04, 0x12); /* 12 AM = 00h */
	cmos_write(vm, 0x0b, 0x02);
	assert_int_equal(cmos_read(vm, 0x04), 0x00);
	cmos_write(vm, 0x0b, 0x04);	 /* binary, 12 h */
	cmos_write(vm, 0x04, 0x80 | 12); /* 12 PM = 12h */
	cmos_write(vm, 0x0b, 0x06);
	assert_int_equal(cmos_read(vm, 0x04), 12);
	assert_int_equal(cmos_read(vm, 0x09), 99);
	assert_int_equal(cmos_read(vm, 0x32), 19);

	/* a single write without SET moves the offset too */
	cmos_write(vm, 0x32, 21);
	assert_int_equal(cmos_read(vm, 0x32), 21);
	assert_int_equal(cmos_read(vm, 0x09), 99);
}

static void test_ram_and_status(void **st)
{
	struct vm *vm = *st;
	unsigned i;
	uint8_t b[4] = {0x0c, 0, 0, 0};

	for (i = 0x0e; i < 0x80; i++)
		if (i != 0x32)
			cmos_write(vm, i, (uint8_t)(i ^ 0x5a));
	for (i = 0x0e; i < 0x80; i++)
		if (i != 0x32)
			assert_int_equal(cmos_read(vm, i), (uint8_t)(i ^ 0x5a));
	cmos_write(vm, 0x0a, 0xa6); /* UIP is read-only */
	assert_int_equal(cmos_read(vm, 0x0a), 0x26);
	cmos_write(vm, 0x0d, 0);
	assert_int_equal(cmos_read(vm, 0x0d), 0x80);
	/* enabling the interrupts is accepted and harmless */
	cmos_write(vm, 0x0b, 0x72);
	assert_int_equal(cmos_read(vm, 0x0b), 0x72);
	cmos_read(vm, 0x0c);
	assert_int_equal(cmos_read(vm, 0x0c), 0); /* no update since the last read */
	assert_int_equal(fake.irq_calls, 0);
	/* odd accesses */
	assert_int_equal(bus_access(&vm->pio, PLAT_RTC_PORT, b, 2, false), 0);
	assert_int_equal(b[0], 0xff);
	assert_int_equal(bus_access(&vm->pio, PLAT_RTC_PORT + 1, b, 4, false), 0);
	b[0] = 0x0b;
	b[1] = 0x02;
	assert_int_equal(bus_access(&vm->pio, PLAT_RTC_PORT, b, 2, true), 0); /* outw idx|val */
	assert_int_equal(cmos_read(vm, 0x0b), 0x02);
}

/* Garbage in the time registers never breaks the clock. */
static void test_hostile_values(void **st)
{
	struct vm *vm = *st;
	unsigned r, v, b;

	for (b = 0; b < 0x100; b += 0x22)
		for (r = 0; r < 0x10; r++)
			for (v = 0; v < 0x100; v += 0x33) {
				cmos_write(vm, 0x0b, (uint8_t)b);
				cmos_write(vm, (uint8_t)r, (uint8_t)v);
				cmos_read(vm, (uint8_t)r);
			}
	cmos_write(vm, 0x0b, 0x06);
	cmos_write(vm, 0x32, 0xff);
	cmos_write(vm, 0x09, 0xff);
	cmos_read(vm, 0x09);
}

/* The PC BIOS memory-size bytes: 3 GiB below 4 GiB plus 1 GiB above, 2 vCPUs. */
static int setup_mem(void **st)
{
	struct vm *vm = hw_vm();

	vm->mem.nregions = 2;
	vm->mem.r[0].size = 3ULL << 30;
	vm->mem.r[1].size = 1ULL << 30;
	vm->cfg.ncpus = 2;
	*st = vm;
	hw_init(vm, "rtc");
	return 0;
}

static void test_memory_bytes(void **st)
{
	struct vm *vm = *st;

	assert_int_equal(cmos_read(vm, 0x15) | cmos_read(vm, 0x16) << 8, 640);
	assert_int_equal(cmos_read(vm, 0x17) | cmos_read(vm, 0x18) << 8, 0xffff); /* capped */
	assert_int_equal(cmos_read(vm, 0x30) | cmos_read(vm, 0x31) << 8, 0xffff);
	/* (3 GiB - 16 MiB) / 64 KiB */
	assert_int_equal(cmos_read(vm, 0x34) | cmos_read(vm, 0x35) << 8, (3u << 14) - 256);
	assert_int_equal(cmos_read(vm, 0x5b) | cmos_read(vm, 0x5c) << 8 | cmos_read(vm, 0x5d) << 16,
			 1u << 14);
	assert_int_equal(cmos_read(vm, 0x5f), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_defaults_and_host_time, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_binary_mode, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_write_offset, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_ram_and_status, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_values, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_memory_bytes, setup_mem, hw_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
