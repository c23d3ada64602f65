/* Unit tests for the monitor's pure core: CPUID construction, the guest-memory accessor,
 * the bus, size parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vm/bus.h"
#include "vm/config.h"
#include "mem/gmem.h"
#include "x86/cpuid.h"

/* A host-like supported table: Intel-style basic leaves up to 0x1f, KVM leaves, AMD leaves. */
static struct cpuid_table *fake_supported(void)
{
	struct cpuid_table *t = calloc(1, sizeof(*t));
	struct kvm_cpuid_entry2 e[] = {
		{.function = 0, .eax = 0x1f},
		{.function = 1, .eax = 0x806f8, .ebx = 0x00ff0800, .ecx = 0x0, .edx = 0x0},
		{.function = 4, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		 .eax = 0xfc004121},
		{.function = 4, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		 .eax = 0xfc004122},
		{.function = 0xb, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 1,
		 .ebx = 2, .ecx = 0x100},
		{.function = 0x1f, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX},
		{.function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b},
		{.function = 0x40000001, .eax = 0x01007afb},
		{.function = 0x80000000, .eax = 0x8000001e},
		{.function = 0x80000001, .ecx = 0x1},
		{.function = 0x80000008, .ecx = 0x3007},
		{.function = 0x8000001e, .eax = 7, .ebx = 0x107, .ecx = 0x300},
	};

	t->hdr.nent = sizeof(e) / sizeof(e[0]);
	memcpy(t->e, e, sizeof(e));
	return t;
}

static void cpuid_topology_per_vcpu(void **state)
{
	struct cpuid_table *sup = fake_supported(), out;

	for (unsigned n = 1; n <= 64; n = n * 2 + 1) {
		for (unsigned cpu = 0; cpu < n; cpu++) {
			struct kvm_cpuid_entry2 *e;

			assert_int_equal(cpuid_build(&sup->hdr, cpu, n, &out), 0);
			e = cpuid_find(&out, 1, 0);
			assert_int_equal(e->ebx >> 24, cpu);
			assert_int_equal((e->ebx >> 16) & 0xff, n);
			assert_true(e->ecx & (1u << 31));
			assert_int_equal(!!(e->edx & (1u << 28)), n > 1);
			e = cpuid_find(&out, 0xb, 0);
			assert_int_equal(e->ebx, 1);
			assert_int_equal(e->edx, cpu);
			assert_int_equal((e->ecx >> 8) & 0xff, 1);
			e = cpuid_find(&out, 0xb, 1);
			assert_int_equal(e->ebx, n);
			assert_true((1u << e->eax) >= n);
			assert_int_equal((e->ecx >> 8) & 0xff, 2);
			e = cpuid_find(&out, 0x1f, 1);
			assert_int_equal(e->ebx, n);
			e = cpuid_find(&out, 4, 1);
			assert_int_equal(e->eax >> 26, n - 1);
			assert_int_equal((e->eax >> 14) & 0xfff, 0);
			assert_int_equal(e->eax & 0x3fff, 0x0122);
			e = cpuid_find(&out, 0x80000008, 0);
			assert_int_equal(e->ecx & 0xff, n - 1);
			e = cpuid_find(&out, 0x8000001e, 0);
			assert_int_equal(e->eax, cpu);
			e = cpuid_find(&out, 0x40000000, 0);
			assert_int_equal(e->ebx, 0x4b4d564b); /* KVM leaves kept */
		}
	}
	free(sup);
}

static void cpuid_rejects_bad_args(void **state)
{
	struct cpuid_table *sup = fake_supported(), out;

	assert_int_equal(cpuid_build(&sup->hdr, 2, 2, &out), -E2BIG);
	assert_int_equal(cpuid_build(&sup->hdr, 0, 0, &out), -E2BIG);
	sup->hdr.nent = CPUID_MAX_ENTRIES;
	assert_int_equal(cpuid_build(&sup->hdr, 0, 1, &out), -E2BIG);
	free(sup);
}

static void cpuid_brand_string(void **state)
{
	struct cpuid_table *sup = fake_supported();
	char brand[48] = "AMD EPYC 7B13 64-Core Processor", got[49] = {0};
	struct kvm_cpuid_entry2 *e;

	/* the table has no 0x80000002-4: they are added, in order, with the brand's bytes */
	assert_int_equal(cpuid_set_brand(sup, brand), 0);
	for (uint32_t leaf = 0; leaf < 3; leaf++) {
		e = cpuid_find(sup, 0x80000002 + leaf, 0);
		assert_non_null(e);
		memcpy(got + 16 * leaf, (uint32_t[4]){e->eax, e->ebx, e->ecx, e->edx}, 16);
	}
	assert_string_equal(got, brand);
	/* present (zeroed, as KVM returns them): replaced, not added again */
	unsigned n = sup->hdr.nent;

	memcpy(brand, "Other", 6);
	assert_int_equal(cpuid_set_brand(sup, brand), 0);
	assert_int_equal(sup->hdr.nent, n);
	assert_int_equal(cpuid_find(sup, 0x80000002, 0)->eax, 0x6568744f); /* "Othe" */
	/* a table whose extended range ends before the brand leaves is left alone */
	cpuid_find(sup, 0x80000000, 0)->eax = 0x80000001;
	sup->hdr.nent = n - 3;
	assert_int_equal(cpuid_set_brand(sup, brand), 0);
	assert_int_equal(sup->hdr.nent, n - 3);
	assert_null(cpuid_find(sup, 0x80000002, 0));
	/* no room: -E2BIG */
	cpuid_find(sup, 0x80000000, 0)->eax = 0x8000001e;
	memset(&sup->e[n - 3], 0, (CPUID_MAX_ENTRIES - (n - 3)) * sizeof(sup->e[0]));
	sup->hdr.nent = CPUID_MAX_ENTRIES;
	assert_int_equal(cpuid_set_brand(sup, brand), -E2BIG);
	free(sup);
}

static void gmem_layout_and_bounds(void **state)
{
	struct gmem m;

	assert_int_equal(gmem_init(&m, 64 << 20, 0), 0);
	assert_int_equal(m.nregions, 1);
	assert_non_null(gmem_ptr(&m, 0, 64 << 20));
	assert_non_null(gmem_ptr(&m, (64 << 20) - 1, 1));
	assert_null(gmem_ptr(&m, (64 << 20) - 1, 2));
	assert_null(gmem_ptr(&m, 64 << 20, 1));
	assert_null(gmem_ptr(&m, UINT64_MAX, 2));
	assert_null(gmem_ptr(&m, 1, UINT64_MAX));
	assert_int_equal(gmem_write(&m, 0x1000, "abc", 3), 0);
	assert_memory_equal(m.base + 0x1000, "abc", 3);
	assert_int_equal(gmem_write(&m, (64 << 20) - 2, "abc", 3), -EFAULT);
	gmem_destroy(&m);

	assert_int_equal(gmem_init(&m, 0, 0), -EINVAL);
	assert_int_equal(gmem_init(&m, 12345, 0), -EINVAL);
}

static void gmem_hole_above_3g(void **state)
{
	struct gmem m;
	uint64_t size = 4ULL << 30;

	assert_int_equal(gmem_init(&m, size, 0), 0); /* MAP_NORESERVE: nothing is touched */
	assert_int_equal(m.nregions, 2);
	assert_int_equal(m.r[0].size, GMEM_HOLE_START);
	assert_int_equal(m.r[1].gpa, GMEM_HIGH_START);
	assert_int_equal(m.r[1].size, size - GMEM_HOLE_START);
	assert_null(gmem_ptr(&m, GMEM_HOLE_START, 1));
	assert_null(gmem_ptr(&m, GMEM_HOLE_START - 1, 2)); /* no straddling into the hole */
	assert_ptr_equal(gmem_ptr(&m, GMEM_HIGH_START, 1), m.base + GMEM_HOLE_START);
	assert_null(gmem_ptr(&m, GMEM_HIGH_START + m.r[1].size, 1));
	gmem_destroy(&m);
}

struct rec {
	uint64_t off;
	unsigned len;
	int writes;
};

static void rec_read(void *o, uint64_t off, uint8_t *d, unsigned len)
{
	struct rec *r = o;

	r->off = off;
	r->len = len;
	memset(d, 0x5a, len);
}

static void rec_write(void *o, uint64_t off, const uint8_t *d, unsigned len)
{
	struct rec *r = o;

	r->off = off;
	r->len = len;
	r->writes++;
}

static const struct bus_ops rec_ops = {rec_read, rec_write};

static void bus_register_and_dispatch(void **state)
{
	struct bus b = {.name = "pio"};
	struct rec a = {0}, c = {0};
	uint8_t d[4] = {1, 2, 3, 4};

	assert_int_equal(bus_register(&b, 0x3f8, 8, &rec_ops, &a, "uart"), 0);
	assert_int_equal(bus_register(&b, 0x60, 1, &rec_ops, &c, "kbd"), 0);
	assert_int_equal(bus_register(&b, 0x3fc, 8, &rec_ops, &c, "overlap"), -EEXIST);
	assert_int_equal(bus_register(&b, 0x3f0, 9, &rec_ops, &c, "overlap"), -EEXIST);
	assert_int_equal(bus_register(&b, 0x400, 0, &rec_ops, &c, "empty"), -EINVAL);
	assert_int_equal(bus_register(&b, UINT64_MAX, 2, &rec_ops, &c, "wrap"), -EINVAL);
	assert_int_equal(bus_register(&b, 0x3f0, 8, &rec_ops, &c, "adjacent"), 0);
	assert_int_equal(bus_access(&b, 0x3fd, d, 1, false), 0);
	assert_int_equal(a.off, 5);
	assert_int_equal(d[0], 0x5a);
	assert_int_equal(bus_access(&b, 0x3ff, d, 4, true), 0); /* cut at the range end */
	assert_int_equal(a.len, 1);
	assert_int_equal(a.writes, 1);
	assert_int_equal(bus_access(&b, 0x500, d, 2, false), -ENOENT);
	assert_int_equal(d[0], 0xff);
	assert_int_equal(d[1], 0xff);
	assert_string_equal(bus_find(&b, 0x60)->name, "kbd");
	assert_null(bus_find(&b, 0x61));
	bus_destroy(&b);
}

static void parse_sizes(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("512M", &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(parse_size("2G", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(parse_size("4GiB", &v), 0);
	assert_int_equal(v, 4ULL << 30);
	assert_int_equal(parse_size("1048576", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("-1G", &v), -EINVAL);
	assert_int_equal(parse_size("12Q", &v), -EINVAL);
	assert_int_equal(parse_size("1G2", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999T", &v), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cpuid_topology_per_vcpu), cmocka_unit_test(cpuid_rejects_bad_args),
		cmocka_unit_test(cpuid_brand_string),
		cmocka_unit_test(gmem_layout_and_bounds),  cmocka_unit_test(gmem_hole_above_3g),
		cmocka_unit_test(bus_register_and_dispatch), cmocka_unit_test(parse_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
