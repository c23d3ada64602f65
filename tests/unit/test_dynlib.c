/* test_dynlib.c: libraries opened when first needed (src/util/dynlib.c): symbols resolved into
 * their typed slots, and the one-line errors for a missing library or symbol. */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <string.h>

#include "util/dynlib.h"

struct fns {
	__typeof__(&strlen) len;
	__typeof__(&strcmp) cmp;
};

static void test_resolves(void **st)
{
	struct fns f = {0};
	const struct dynsym syms[] = {DYNSYM(&f, len, strlen), DYNSYM(&f, cmp, strcmp)};
	struct err e = {""};

	assert_int_equal(dynlib_load("libc.so.6", "libc6", "a test", syms, 2, &e), 0);
	assert_int_equal(f.len("abc"), 3);
	assert_int_equal(f.cmp("a", "a"), 0);
	/* loaded: a second call keeps the slots */
	assert_int_equal(dynlib_load("libc.so.6", "libc6", "a test", syms, 2, &e), 0);
}

static void test_missing(void **st)
{
	struct fns f = {0};
	const struct dynsym syms[] = {DYNSYM(&f, len, strlen),
				      {"no_such_symbol_here", (void **)&f.cmp}};
	struct err e = {""};

	assert_int_equal(
	    dynlib_load("libthinvisor-none.so.9", "nothing", "--net user", syms, 2, &e), -ENOENT);
	assert_string_equal(e.msg,
			    "--net user needs libthinvisor-none.so.9 (Debian package "
			    "nothing): libthinvisor-none.so.9: cannot open shared object file: "
			    "No such file or directory");
	assert_int_equal(dynlib_load("libc.so.6", "libc6", "a test", syms, 2, &e), -ENOENT);
	assert_string_equal(e.msg,
			    "a test needs libc.so.6 with no_such_symbol_here (Debian package "
			    "libc6)");
	assert_null(f.len); /* nothing half-resolved */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolves),
	    cmocka_unit_test(test_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
