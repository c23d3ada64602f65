/* test_zmem.c: src/util/zmem.c, memory for large arrays touched only in part: it comes back
 * zeroed and page-aligned, its mapping refuses transparent huge pages (VmFlags "nh" in smaps),
 * and touching one byte of it makes one page resident, not a 2 MiB huge page, even where the
 * host's THP setting is "always" (Debian's default). */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/zmem.h"

#define LEN (6u << 20) /* holds at least two whole 2 MiB-aligned blocks */

/* smaps of the mapping that starts at p: its "Rss:" in KiB, and whether VmFlags says "nh" */
static void smaps_of(const void *p, long *rss_kb, int *nohuge)
{
	char line[512];
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	*rss_kb = -1;
	*nohuge = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) { /* a mapping's first line */
			in = lo == (uintptr_t)p;
			continue;
		}
		if (!in)
			continue;
		sscanf(line, "Rss: %ld kB", rss_kb);
		if (!strncmp(line, "VmFlags:", 8))
			*nohuge = strstr(line, " nh") != NULL;
	}
	fclose(f);
}

static void test_zeroed_and_aligned(void **st)
{
	uint8_t *p = zmem_alloc(LEN);

	assert_non_null(p);
	assert_int_equal((uintptr_t)p % (uintptr_t)sysconf(_SC_PAGESIZE), 0);
	for (size_t i = 0; i < LEN; i += 4096)
		assert_int_equal(p[i] | p[i + 4095], 0);
	zmem_free(p, LEN);
	zmem_free(NULL, LEN);
}

static void test_one_touch_one_page(void **st)
{
	uint8_t *p = zmem_alloc(LEN);
	uintptr_t block = ((uintptr_t)p + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);
	long rss;
	int nohuge;

	assert_non_null(p);
	/* a byte in a whole aligned 2 MiB block: under THP "always" a plain mapping would take
	 * the whole block at this fault */
	*(volatile uint8_t *)block = 1;
	smaps_of(p, &rss, &nohuge);
	assert_true(nohuge);
	assert_in_range(rss, 4, 64);
	zmem_free(p, LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_zeroed_and_aligned),
	    cmocka_unit_test(test_one_touch_one_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
