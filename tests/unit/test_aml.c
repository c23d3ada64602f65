/* test_aml.c: the AML builder's encodings (PkgLength, integers, names, blocks, resources). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "x86/aml.h"

static uint8_t buf[8192];
static struct aml a;

static int setup(void **state)
{
	memset(buf, 0xaa, sizeof(buf));
	aml_init(&a, buf, sizeof(buf));
	return 0;
}

#define EXPECT(...)                                                                                \
	do {                                                                                       \
		static const uint8_t want[] = {__VA_ARGS__};                                       \
		assert_int_equal(aml_error(&a), 0);                                                \
		assert_int_equal(a.len, sizeof(want));                                             \
		assert_memory_equal(buf, want, sizeof(want));                                      \
		a.len = 0;                                                                         \
	} while (0)

static void expect_pkglen(uint32_t v, int n, const uint8_t *want)
{
	uint8_t out[4];

	assert_int_equal(aml_pkglen_encode(out, v), n);
	assert_memory_equal(out, want, (size_t)n);
}

static void test_pkglen_encode(void **state)
{
	expect_pkglen(0, 1, (const uint8_t[]){0x00});
	expect_pkglen(63, 1, (const uint8_t[]){0x3f});
	expect_pkglen(64, 2, (const uint8_t[]){0x40, 0x04});
	expect_pkglen(0x123, 2, (const uint8_t[]){0x43, 0x12});
	expect_pkglen(4095, 2, (const uint8_t[]){0x4f, 0xff});
	expect_pkglen(4096, 3, (const uint8_t[]){0x80, 0x00, 0x01});
	expect_pkglen(0xfffff, 3, (const uint8_t[]){0x8f, 0xff, 0xff});
	expect_pkglen(0x100000, 4, (const uint8_t[]){0xc0, 0x00, 0x00, 0x01});
	expect_pkglen(0x0fffffff, 4, (const uint8_t[]){0xcf, 0xff, 0xff, 0xff});
	uint8_t out[4];
	assert_int_equal(aml_pkglen_encode(out, 0x10000000), -EINVAL);
}

/* A Package whose body (NumElements byte + filler) is body bytes long: the PkgLength counts
 * itself, so body 62 fits one byte (63) but body 63 needs two (65). */
static void package_of(size_t body, const uint8_t *hdr, size_t nhdr)
{
	static uint8_t fill[8192];
	size_t m;

	a.len = 0;
	m = aml_package_begin(&a, 0);
	aml_bytes(&a, fill, body - 1);
	aml_end(&a, m);
	assert_int_equal(aml_error(&a), 0);
	assert_int_equal(a.len, 1 + nhdr + body);
	assert_int_equal(buf[0], AML_PACKAGE_OP);
	assert_memory_equal(buf + 1, hdr, nhdr);
	assert_int_equal(buf[1 + nhdr], 0); /* NumElements slid into place */
}

static void test_block_pkglen_boundaries(void **state)
{
	package_of(62, (const uint8_t[]){0x3f}, 1);
	package_of(63, (const uint8_t[]){0x41, 0x04}, 2);
	package_of(4093, (const uint8_t[]){0x4f, 0xff}, 2);
	package_of(4094, (const uint8_t[]){0x81, 0x00, 0x01}, 3);
}

static void test_integers(void **state)
{
	aml_integer(&a, 0);
	EXPECT(0x00);
	aml_integer(&a, 1);
	EXPECT(0x01);
	aml_integer(&a, 2);
	EXPECT(0x0a, 0x02);
	aml_integer(&a, 0xff);
	EXPECT(0x0a, 0xff);
	aml_integer(&a, 0x100);
	EXPECT(0x0b, 0x00, 0x01);
	aml_integer(&a, 0xffff);
	EXPECT(0x0b, 0xff, 0xff);
	aml_integer(&a, 0x10000);
	EXPECT(0x0c, 0x00, 0x00, 0x01, 0x00);
	aml_integer(&a, 0xffffffff);
	EXPECT(0x0c, 0xff, 0xff, 0xff, 0xff);
	aml_integer(&a, 0x100000000ULL);
	EXPECT(0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00);
	aml_integer(&a, 0xfffffffffffffffeULL);
	EXPECT(0x0e, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	aml_integer(&a, ~0ULL);
	EXPECT(0xff);
}

static void test_namestrings(void **state)
{
	aml_namestring(&a, "_SB");
	EXPECT('_', 'S', 'B', '_');
	aml_namestring(&a, "\\_SB.PCI0");
	EXPECT('\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
	aml_namestring(&a, "\\_SB.PCI0.S1");
	EXPECT('\\', 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'S', '1', '_', '_');
	aml_namestring(&a, "^^FOO");
	EXPECT('^', '^', 'F', 'O', 'O', '_');
	aml_namestring(&a, "\\");
	EXPECT('\\', 0x00);
	aml_string(&a, "ACPI0007");
	EXPECT(0x0d, 'A', 'C', 'P', 'I', '0', '0', '0', '7', 0);
	aml_eisaid(&a, "PNP0A03");
	EXPECT(0x0c, 0x41, 0xd0, 0x0a, 0x03);
}

static void test_bad_names(void **state)
{
	static const char *bad[] = {"", "1ABC", "ABCDE", "A..B", "A.", "\\\\A", "ab", "^\\A"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_namestring(&a, bad[i]);
		assert_int_equal(aml_error(&a), -EINVAL);
	}
	aml_init(&a, buf, sizeof(buf));
	aml_eisaid(&a, "PNP0A0G");
	assert_int_equal(aml_error(&a), -EINVAL);
}

static void test_method_device_scope(void **state)
{
	size_t s, d;

	s = aml_scope_begin(&a, "_SB");
	d = aml_device_begin(&a, "COM1");
	aml_method_return_int(&a, "_STA", 0x0f);
	aml_end(&a, d);
	aml_end(&a, s);
	EXPECT(0x10, 0x16, '_', 'S', 'B', '_',			 /* Scope */
	       0x5b, 0x82, 0x0f, 'C', 'O', 'M', '1',		 /* Device */
	       0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f); /* Method+Return */
}

static void test_resource_template(void **state)
{
	size_t rt = aml_rt_begin(&a);
	unsigned i, sum = 0;

	aml_rt_io(&a, 0x3f8, 0x3f8, 1, 8);
	aml_rt_irq_noflags(&a, 4);
	aml_rt_end(&a, rt);
	/* Buffer, PkgLength, BufferSize 13, IO, IRQNoFlags, EndTag + checksum */
	assert_int_equal(a.len, 17);
	assert_memory_equal(buf, ((const uint8_t[]){0x11, 0x10, 0x0a, 0x0d, 0x47, 0x01, 0xf8, 0x03,
						   0xf8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00,
						   0x79}),
			    16);
	for (i = 4; i < 17; i++)
		sum += buf[i];
	assert_int_equal(sum & 0xff, 0);

	a.len = 0;
	rt = aml_rt_begin(&a);
	aml_rt_word_bus(&a, 0, 0xff);
	aml_rt_end(&a, rt);
	assert_memory_equal(buf + 4, ((const uint8_t[]){0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0,
						   0, 0xff, 0, 0, 0, 0x00, 0x01}),
			    16);
	aml_rt_irq_noflags(&a, 16);
	assert_int_equal(aml_error(&a), -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_rt_word_io(&a, 0, 0xffff); /* length 0x10000 does not fit a word */
	assert_int_equal(aml_error(&a), -EINVAL);
}

/* A full buffer is reported once, sticks, and nothing is written past cap. */
static void test_nospace_sticky(void **state)
{
	size_t m;

	aml_init(&a, buf, 6);
	m = aml_device_begin(&a, "ABCD");
	aml_name_int(&a, "_UID", 0);
	aml_end(&a, m);
	assert_int_equal(aml_error(&a), -ENOSPC);
	assert_true(a.len <= 6);
	assert_int_equal(buf[6], 0xaa);
	aml_integer(&a, 0);
	assert_int_equal(aml_error(&a), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pkglen_encode, setup),
		cmocka_unit_test_setup(test_block_pkglen_boundaries, setup),
		cmocka_unit_test_setup(test_integers, setup),
		cmocka_unit_test_setup(test_namestrings, setup),
		cmocka_unit_test_setup(test_bad_names, setup),
		cmocka_unit_test_setup(test_method_device_scope, setup),
		cmocka_unit_test_setup(test_resource_template, setup),
		cmocka_unit_test_setup(test_nospace_sticky, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
