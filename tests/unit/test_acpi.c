/* test_acpi.c: the generated ACPI tables: pointers, checksums, MADT/FADT contents, the errors,
 * and Debian's iasl disassembling (and recompiling) every table without complaint. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x86/acpi.h"
#include "x86/platform.h"

static uint8_t buf[PLAT_ACPI_MAX];
static long used;
static struct err e;

static uint64_t rd(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static long build(unsigned ncpus)
{
	struct acpi_config c = {.ncpus = ncpus};

	memset(buf, 0xaa, sizeof(buf));
	memset(&e, 0, sizeof(e));
	used = acpi_build(buf, sizeof(buf), PLAT_ACPI_ADDR, &c, &e);
	assert_true(used > 0);
	return used;
}

/* The table at guest address gpa, checked to lie inside the bytes used. */
static uint8_t *at(uint64_t gpa, size_t len)
{
	assert_true(gpa >= PLAT_ACPI_ADDR && gpa - PLAT_ACPI_ADDR + len <= (uint64_t)used);
	return buf + (gpa - PLAT_ACPI_ADDR);
}

static uint8_t *table(uint64_t gpa, const char *sig)
{
	uint8_t *p = at(gpa, 36);
	uint8_t sum = 0;
	uint32_t i, len = (uint32_t)rd(p + 4, 4);

	assert_memory_equal(p, sig, 4);
	at(gpa, len);
	for (i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	assert_int_equal(sum, 0);
	assert_memory_equal(p + 10, "THINVS", 6);
	return p;
}

static uint8_t *xsdt(void)
{
	return table(rd(buf + 24, 8), "XSDT");
}

/* The table with signature sig among the XSDT's entries; it must be listed once. */
static uint8_t *find(const char *sig)
{
	uint8_t *x = xsdt(), *found = NULL;
	uint32_t i, n = (uint32_t)(rd(x + 4, 4) - 36) / 8;

	for (i = 0; i < n; i++) {
		uint8_t *p = at(rd(x + 36 + 8 * i, 8), 36);

		if (!memcmp(p, sig, 4)) {
			assert_null(found);
			found = table(rd(x + 36 + 8 * i, 8), sig);
		}
	}
	assert_non_null(found);
	return found;
}

static void test_rsdp(void **state)
{
	uint8_t sum20 = 0, sum36 = 0, *rsdt, *x;
	int i;

	build(2);
	assert_memory_equal(buf, "RSD PTR ", 8);
	for (i = 0; i < 36; i++)
		sum36 = (uint8_t)(sum36 + buf[i]), sum20 = (uint8_t)(sum20 + (i < 20 ? buf[i] : 0));
	assert_int_equal(sum20, 0);
	assert_int_equal(sum36, 0);
	assert_memory_equal(buf + 9, "THINVS", 6);
	assert_int_equal(buf[15], 2);
	assert_int_equal(rd(buf + 20, 4), 36);
	/* The RSDT (for 32-bit and ACPI 1.0 guests) lists the same tables as the XSDT. */
	x = xsdt();
	rsdt = table(rd(buf + 16, 4), "RSDT");
	assert_int_equal(rd(rsdt + 4, 4) - 36, (rd(x + 4, 4) - 36) / 2);
	for (i = 0; i < (int)(rd(rsdt + 4, 4) - 36) / 4; i++)
		assert_int_equal(rd(rsdt + 36 + 4 * i, 4), rd(x + 36 + 8 * i, 8));
}

static void test_checksums_and_pointers(void **state)
{
	static const unsigned counts[] = {1, 2, 64, 254};
	uint8_t *fadt, *facs;
	size_t i;

	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		build(counts[i]);
		assert_true(used <= (long)PLAT_ACPI_MAX);
		fadt = find("FACP");
		find("APIC");
		/* 32- and 64-bit pointers agree; the FACS (no checksum) is 64-byte aligned. */
		assert_int_equal(rd(fadt + 40, 4), rd(fadt + 140, 8));
		table(rd(fadt + 140, 8), "DSDT");
		assert_int_equal(rd(fadt + 132, 8), 0); /* X_FIRMWARE_CTRL: FIRMWARE_CTRL is used */
		assert_int_equal(rd(fadt + 36, 4) % 64, 0);
		facs = at(rd(fadt + 36, 4), 64);
		assert_memory_equal(facs, "FACS", 4);
		assert_int_equal(rd(facs + 4, 4), 64);
		assert_int_equal(buf[used], 0xaa); /* nothing written past the size returned */
	}
}

static void test_madt(void **state)
{
	static const unsigned counts[] = {1, 2, 64, 254};
	unsigned lapics, isos, nmis, ioapics, i;
	uint8_t *m, *p, *end;

	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		build(counts[i]);
		m = find("APIC");
		assert_int_equal(rd(m + 36, 4), PLAT_LAPIC_ADDR);
		assert_int_equal(rd(m + 40, 4), 1); /* PCAT_COMPAT */
		lapics = isos = nmis = ioapics = 0;
		for (p = m + 44, end = m + rd(m + 4, 4); p < end; p += p[1]) {
			assert_true(p[1] >= 2 && p + p[1] <= end);
			switch (p[0]) {
			case 0:
				assert_int_equal(p[2], lapics); /* ACPI UID */
				assert_int_equal(p[3], lapics); /* APIC ID */
				assert_int_equal(rd(p + 4, 4), 1);
				lapics++;
				break;
			case 1:
				assert_int_equal(rd(p + 4, 4), PLAT_IOAPIC_ADDR);
				assert_int_equal(rd(p + 8, 4), 0);
				ioapics++;
				break;
			case 2:
				assert_int_equal(p[2], 0);
				if (p[3] == 0) {
					assert_int_equal(rd(p + 4, 4), 2);
					assert_int_equal(rd(p + 8, 2), 0x5); /* edge, high */
				} else {
					assert_int_equal(p[3], PLAT_SCI_IRQ);
					assert_int_equal(rd(p + 4, 4), PLAT_SCI_IRQ);
					assert_int_equal(rd(p + 8, 2), 0xd); /* level, high */
				}
				isos++;
				break;
			case 4:
				assert_int_equal(p[2], 0xff);
				assert_int_equal(p[5], 1);
				nmis++;
				break;
			default:
				fail_msg("unexpected MADT entry type %u", p[0]);
			}
		}
		assert_ptr_equal(p, end);
		assert_int_equal(lapics, counts[i]);
		assert_int_equal(ioapics, 1);
		assert_int_equal(isos, 2);
		assert_int_equal(nmis, 1);
	}
}

/* A Generic Address Structure in system I/O space. */
static void expect_gas(const uint8_t *g, unsigned port, unsigned bits)
{
	assert_int_equal(g[0], 1);
	assert_int_equal(g[1], bits);
	assert_int_equal(rd(g + 4, 8), port);
}

static void test_fadt(void **state)
{
	uint8_t *f;
	uint32_t flags;

	build(4);
	f = find("FACP");
	assert_int_equal(rd(f + 4, 4), 276);
	assert_int_equal(f[8], 6);
	assert_int_equal(rd(f + 46, 2), PLAT_SCI_IRQ);
	assert_int_equal(rd(f + 48, 4), 0); /* SMI_CMD: ACPI always enabled */
	assert_int_equal(rd(f + 56, 4), PLAT_PM1A_EVT_PORT);
	assert_int_equal(rd(f + 64, 4), PLAT_PM1A_CNT_PORT);
	assert_int_equal(rd(f + 76, 4), PLAT_PM_TMR_PORT);
	assert_int_equal(f[88], 4);
	assert_int_equal(f[89], 2);
	assert_int_equal(f[91], 4);
	assert_int_equal(rd(f + 109, 2) & 3, 3); /* legacy devices, 8042 */
	flags = (uint32_t)rd(f + 112, 4);
	assert_int_equal(flags & (1u << 4), 0);	 /* fixed power button */
	assert_int_equal(flags & (1u << 8), 0);	 /* 24-bit PM timer */
	assert_int_equal(flags & (1u << 10), 1u << 10); /* RESET_REG_SUP */
	assert_int_equal(flags & (1u << 20), 0);	 /* not hardware-reduced */
	expect_gas(f + 116, PLAT_RESET_PORT, 8);
	assert_int_equal(f[128], PLAT_RESET_VALUE);
	expect_gas(f + 148, PLAT_PM1A_EVT_PORT, 32);
	expect_gas(f + 172, PLAT_PM1A_CNT_PORT, 16);
	expect_gas(f + 208, PLAT_PM_TMR_PORT, 32);
}

static void test_dsdt_s5(void **state)
{
	static const uint8_t s5[] = {0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a,
				     ACPI_S5_SLP_TYP, 0x0a, ACPI_S5_SLP_TYP, 0x00, 0x00};
	uint8_t *f, *d;

	build(1);
	f = find("FACP");
	d = table(rd(f + 140, 8), "DSDT");
	assert_int_equal(d[8], 2); /* 64-bit integers */
	assert_memory_equal(d + 36, s5, sizeof(s5));
}

static void expect_error(size_t len, uint64_t gpa, unsigned ncpus, int code, const char *msg)
{
	struct acpi_config c = {.ncpus = ncpus};

	memset(buf, 0xaa, sizeof(buf));
	memset(&e, 0, sizeof(e));
	assert_int_equal(acpi_build(buf, len, gpa, &c, &e), code);
	assert_string_equal(e.msg, msg);
	if (len < sizeof(buf))
		assert_int_equal(buf[len], 0xaa); /* never written past len */
}

static void test_too_small(void **state)
{
	char msg[ERR_MSG_MAX];
	struct acpi_config c = {.ncpus = 2};
	long n = build(2);

	expect_error(0, PLAT_ACPI_ADDR, 2, -ENOSPC, "acpi: a 0-byte buffer has no room for the RSDP");
	expect_error(16, PLAT_ACPI_ADDR, 2, -ENOSPC,
		     "acpi: a 16-byte buffer has no room for the RSDP");
	expect_error(100, PLAT_ACPI_ADDR, 2, -ENOSPC,
		     "acpi: a 100-byte buffer has no room for the FACS");
	expect_error(300, PLAT_ACPI_ADDR, 2, -ENOSPC,
		     "acpi: a 300-byte buffer has no room for the DSDT");
	snprintf(msg, sizeof(msg), "acpi: a %ld-byte buffer has no room for the XSDT", n - 1);
	expect_error((size_t)n - 1, PLAT_ACPI_ADDR, 2, -ENOSPC, msg);
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(acpi_build(buf, (size_t)n, PLAT_ACPI_ADDR, &c, &e), n);
	assert_int_equal(buf[n], 0xaa);
}

static void test_bad_config(void **state)
{
	expect_error(sizeof(buf), PLAT_ACPI_ADDR, 0, -EINVAL,
		     "acpi: 0 vCPUs, the MADT takes 1 to 254");
	expect_error(sizeof(buf), PLAT_ACPI_ADDR, PLAT_MAX_CPUS + 1, -EINVAL,
		     "acpi: 255 vCPUs, the MADT takes 1 to 254");
	expect_error(sizeof(buf), PLAT_ACPI_ADDR + 8, 1, -EINVAL,
		     "acpi: tables at 0xe0008 (+0x20000) must be 16-byte aligned and below 4 GiB");
	expect_error(sizeof(buf), 0xffff0000, 1, -EINVAL,
		     "acpi: tables at 0xffff0000 (+0x20000) must be 16-byte aligned and below 4 GiB");
}

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_table(const char *dir, const char *name, const uint8_t *p)
{
	write_file(dir, name, p, (size_t)rd(p + 4, 4));
}

/* Every table except the RSDP (iasl -d takes no bare RSDP) through tests/acpi/iasl-check. */
static void iasl_check(unsigned ncpus)
{
	char dir[] = "/tmp/tv-acpi-XXXXXX", cmd[1024], out[4096];
	const char *top = getenv("TOP");
	uint8_t *fadt;
	size_t n = 0, r;
	FILE *p;
	int status;

	build(ncpus);
	assert_non_null(mkdtemp(dir));
	fadt = find("FACP");
	write_table(dir, "xsdt.dat", xsdt());
	write_table(dir, "rsdt.dat", at(rd(buf + 16, 4), 36));
	write_table(dir, "facp.dat", fadt);
	write_table(dir, "apic.dat", find("APIC"));
	write_table(dir, "dsdt.dat", at(rd(fadt + 140, 8), 36));
	write_file(dir, "facs.dat", at(rd(fadt + 36, 4), 64), 64);
	snprintf(cmd, sizeof(cmd), "%s%stests/acpi/iasl-check %s 2>&1", top ? top : "",
		 top ? "/" : "", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n < sizeof(out) - 1 && (r = fread(out + n, 1, sizeof(out) - 1 - n, p)) > 0)
		n += r;
	out[n] = 0;
	status = pclose(p);
	if (status != 0)
		fail_msg("iasl check of %u-CPU tables failed (files kept in %s):\n%s", ncpus, dir,
			 out);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_iasl_1cpu(void **state)
{
	iasl_check(1);
}

static void test_iasl_254cpus(void **state)
{
	iasl_check(254);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_checksums_and_pointers),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_dsdt_s5),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_iasl_1cpu),
		cmocka_unit_test(test_iasl_254cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
