/* test_virtq.c: split virtqueues over a real gmem: well-formed chains (direct, indirect),
 * used-ring updates, notification suppression (flags and event index), and every hostile
 * chain virtq_pop must refuse. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <string.h>

#include "util/bytes.h"
#include "virtio/queue.h"

#define QSZ 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x10000
#define RAM (16u << 20)

struct fx {
	struct gmem m;
	struct virtq q;
	struct virtq_elem e;
	uint16_t avail_idx;
};

static int setup(void **st)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(gmem_init(&f.m, RAM, 0), 0);
	virtq_reset(&f.q, QSZ);
	f.q.desc = DESC, f.q.avail = AVAIL, f.q.used = USED;
	f.q.indirect = true;
	assert_int_equal(virtq_check(&f.q, &f.m), 0);
	f.q.ready = true;
	*st = &f;
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;

	gmem_destroy(&f->m);
	return 0;
}

static void desc_at(struct fx *f, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	uint8_t *p = gmem_ptr(&f->m, table + 16 * i, 16);

	le_put(p, addr, 8);
	le_put(p + 8, len, 4);
	le_put(p + 12, flags, 2);
	le_put(p + 14, next, 2);
}

static void desc(struct fx *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	desc_at(f, DESC, i, addr, len, flags, next);
}

static void post(struct fx *f, uint16_t head)
{
	uint8_t *a = gmem_ptr(&f->m, AVAIL, 6 + 2 * QSZ);

	le_put(a + 4 + 2 * (f->avail_idx % QSZ), head, 2);
	f->avail_idx++;
	le_put(a + 2, f->avail_idx, 2);
}

static int pop(struct fx *f, const char **why) { return virtq_pop(&f->q, &f->m, &f->e, why); }

static void test_direct_chain(void **st)
{
	struct fx *f = *st;
	const char *why;
	uint8_t *used;
	char out[8];

	memcpy(gmem_ptr(&f->m, BUF, 5), "hello", 5);
	desc(f, 2, BUF, 5, VRING_DESC_F_NEXT, 5);
	desc(f, 5, BUF + 0x100, 100, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 6);
	desc(f, 6, BUF + 0x200, 1, VRING_DESC_F_WRITE, 0);
	assert_int_equal(pop(f, &why), 0); /* empty */
	post(f, 2);
	assert_int_equal(pop(f, &why), 1);
	assert_int_equal(f->e.head, 2);
	assert_int_equal(f->e.nout, 1);
	assert_int_equal(f->e.nin, 2);
	assert_int_equal(f->e.out_len, 5);
	assert_int_equal(f->e.in_len, 101);
	assert_int_equal(virtq_copy_from(&f->e, 1, out, 8), 4);
	assert_memory_equal(out, "ello", 4);
	assert_int_equal(virtq_copy_to(&f->e, 99, "xy", 2), 2);
	assert_int_equal(*(uint8_t *)gmem_ptr(&f->m, BUF + 0x200, 1), 'y');
	assert_int_equal(pop(f, &why), 0);
	assert_int_equal(virtq_push(&f->q, &f->m, 2, 42), 0);
	used = gmem_ptr(&f->m, USED, 6 + 8 * QSZ);
	assert_int_equal(le_get(used + 2, 2), 1);
	assert_int_equal(le_get(used + 4, 4), 2);
	assert_int_equal(le_get(used + 8, 4), 42);
}

static void test_indirect(void **st)
{
	struct fx *f = *st;
	const char *why;

	desc_at(f, BUF, 0, BUF + 0x1000, 16, VRING_DESC_F_NEXT, 1);
	desc_at(f, BUF, 1, BUF + 0x2000, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	desc_at(f, BUF, 2, BUF + 0x3000, 1, VRING_DESC_F_WRITE, 0);
	desc(f, 0, BUF, 48, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_int_equal(pop(f, &why), 1);
	assert_int_equal(f->e.nout, 1);
	assert_int_equal(f->e.nin, 2);
	assert_int_equal(f->e.in_len, 513);
	/* not negotiated: refused */
	f->q.indirect = false;
	post(f, 0);
	assert_int_equal(pop(f, &why), -EINVAL);
	assert_string_equal(why, "indirect descriptor not negotiated");
}

/* Each hostile shape, on a fresh queue: the error and the reason. */
static void hostile(struct fx *f, int want, const char *reason)
{
	const char *why = NULL;

	post(f, 0);
	assert_int_equal(pop(f, &why), want);
	assert_non_null(why);
	assert_string_equal(why, reason);
	assert_int_equal(f->q.last_avail, 0); /* nothing consumed */
}

static void test_loop(void **st)
{
	struct fx *f = *st;

	desc(f, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	desc(f, 1, BUF, 16, VRING_DESC_F_NEXT, 0);
	hostile(f, -EINVAL, "descriptor chain loops or is longer than its table");
}

static void test_self_loop_indirect(void **st)
{
	struct fx *f = *st;

	desc_at(f, BUF, 0, BUF + 0x1000, 16, VRING_DESC_F_NEXT, 1);
	desc_at(f, BUF, 1, BUF + 0x1000, 16, VRING_DESC_F_NEXT, 0);
	desc(f, 0, BUF, 32, VRING_DESC_F_INDIRECT, 0);
	hostile(f, -EINVAL, "descriptor chain loops or is longer than its table");
}

static void test_outside_ram(void **st)
{
	struct fx *f = *st;

	desc(f, 0, RAM - 8, 16, 0, 0);
	hostile(f, -EFAULT, "descriptor points outside guest RAM");
	desc(f, 0, 0xfee00000, 4, 0, 0); /* the LAPIC page: not RAM */
	f->avail_idx = 0;
	hostile(f, -EFAULT, "descriptor points outside guest RAM");
	desc(f, 0, RAM - 16, 32, VRING_DESC_F_INDIRECT, 0);
	f->avail_idx = 0;
	hostile(f, -EFAULT, "indirect table outside guest RAM");
}

static void test_length_overflow(void **st)
{
	struct fx *f = *st;

	/* RAM is only 16 MiB, so use the same big buffer repeatedly (legal per se) */
	gmem_destroy(&f->m);
	assert_int_equal(gmem_init(&f->m, 3ULL << 30, 0), 0); /* MAP_NORESERVE */
	for (unsigned i = 0; i < 3; i++)
		desc(f, i, 0x1000000, 0x7ff00000, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, i + 1);
	desc(f, 3, 0x1000000, 0x7ff00000, VRING_DESC_F_WRITE, 0);
	hostile(f, -EINVAL, "chain length overflows 32 bits");
}

static void test_next_beyond_and_head(void **st)
{
	struct fx *f = *st;
	const char *why;

	desc(f, 0, BUF, 16, VRING_DESC_F_NEXT, QSZ);
	hostile(f, -EINVAL, "next descriptor index beyond its table");
	f->avail_idx = 0;
	post(f, QSZ); /* head beyond the queue */
	assert_int_equal(pop(f, &why), -EINVAL);
	assert_string_equal(why, "chain head index beyond the queue size");
}

static void test_order_and_nesting(void **st)
{
	struct fx *f = *st;

	desc(f, 0, BUF, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc(f, 1, BUF, 16, 0, 0);
	hostile(f, -EINVAL, "device-readable descriptor after a writable one");
	desc_at(f, BUF, 0, BUF + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	desc(f, 0, BUF, 16, VRING_DESC_F_INDIRECT, 0);
	f->avail_idx = 0;
	hostile(f, -EINVAL, "nested indirect descriptor table");
	desc(f, 0, BUF, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	f->avail_idx = 0;
	hostile(f, -EINVAL, "indirect descriptor with NEXT set");
	desc(f, 0, BUF, 24, VRING_DESC_F_INDIRECT, 0);
	f->avail_idx = 0;
	hostile(f, -EINVAL, "indirect table length not a multiple of 16");
}

static void test_avail_jump(void **st)
{
	struct fx *f = *st;
	const char *why;
	uint8_t *a = gmem_ptr(&f->m, AVAIL, 4);

	le_put(a + 2, QSZ + 1, 2);
	assert_int_equal(pop(f, &why), -EINVAL);
	assert_string_equal(why, "available index moved by more than the queue size");
}

static void test_check(void **st)
{
	struct fx *f = *st;

	f->q.size = 6;
	assert_int_equal(virtq_check(&f->q, &f->m), -EINVAL);
	f->q.size = 16; /* above max */
	assert_int_equal(virtq_check(&f->q, &f->m), -EINVAL);
	f->q.size = QSZ;
	f->q.desc = DESC + 8;
	assert_int_equal(virtq_check(&f->q, &f->m), -EINVAL);
	f->q.desc = RAM - 16;
	assert_int_equal(virtq_check(&f->q, &f->m), -EINVAL);
	f->q.desc = DESC;
	assert_int_equal(virtq_check(&f->q, &f->m), 0);
}

static void test_notify_flags(void **st)
{
	struct fx *f = *st;
	uint8_t *a = gmem_ptr(&f->m, AVAIL, 6 + 2 * QSZ), *u = gmem_ptr(&f->m, USED, 6 + 8 * QSZ);

	assert_int_equal(virtq_push(&f->q, &f->m, 0, 0), 0);
	assert_true(virtq_should_notify(&f->q, &f->m));
	le_put(a, VRING_AVAIL_F_NO_INTERRUPT, 2);
	assert_false(virtq_should_notify(&f->q, &f->m));
	assert_false(virtq_set_notify(&f->q, &f->m, false));
	assert_int_equal(le_get(u, 2), VRING_USED_F_NO_NOTIFY);
	assert_false(virtq_set_notify(&f->q, &f->m, true));
	assert_int_equal(le_get(u, 2), 0);
	post(f, 0); /* arrived meanwhile: set_notify says so */
	assert_true(virtq_set_notify(&f->q, &f->m, true));
}

static void test_event_idx(void **st)
{
	struct fx *f = *st;
	uint8_t *a = gmem_ptr(&f->m, AVAIL, 6 + 2 * QSZ), *u = gmem_ptr(&f->m, USED, 6 + 8 * QSZ);
	const char *why;

	f->q.event_idx = true;
	le_put(a + 4 + 2 * QSZ, 1, 2); /* used_event: interrupt when used idx passes 1 */
	assert_int_equal(virtq_push(&f->q, &f->m, 0, 0), 0); /* used 1 */
	assert_true(virtq_should_notify(&f->q, &f->m));	/* first time: always */
	assert_int_equal(virtq_push(&f->q, &f->m, 0, 0), 0);	/* used 2: crosses event 1 */
	assert_true(virtq_should_notify(&f->q, &f->m));
	assert_int_equal(virtq_push(&f->q, &f->m, 0, 0), 0); /* used 3: event still 1 */
	assert_false(virtq_should_notify(&f->q, &f->m));
	le_put(a + 4 + 2 * QSZ, 5, 2);
	assert_int_equal(virtq_push(&f->q, &f->m, 0, 0), 0); /* 4 */
	assert_false(virtq_should_notify(&f->q, &f->m));
	assert_int_equal(virtq_push(&f->q, &f->m, 0, 0), 0);
	assert_int_equal(virtq_push(&f->q, &f->m, 0, 0), 0); /* 6: passed 5 */
	assert_true(virtq_should_notify(&f->q, &f->m));
	/* avail_event follows what was taken */
	desc(f, 0, BUF, 4, 0, 0);
	post(f, 0);
	post(f, 0);
	assert_int_equal(pop(f, &why), 1);
	assert_true(virtq_set_notify(&f->q, &f->m, true)); /* one more is there */
	assert_int_equal(le_get(u + 4 + 8 * QSZ, 2), 1);
}

/* Batches: filled entries are invisible until the flush; an unpopped chain comes back. */
static void test_fill_flush_unpop(void **st)
{
	struct fx *f = *st;
	uint8_t *used = gmem_ptr(&f->m, USED, 6 + 8 * QSZ);
	const char *why;

	desc(f, 0, BUF, 4, VRING_DESC_F_WRITE, 0);
	desc(f, 1, BUF + 0x100, 8, VRING_DESC_F_WRITE, 0);
	post(f, 0);
	post(f, 1);
	assert_int_equal(pop(f, &why), 1);
	assert_int_equal(f->e.head, 0);
	virtq_unpop(&f->q); /* could not use it: the same chain comes again */
	assert_int_equal(pop(f, &why), 1);
	assert_int_equal(f->e.head, 0);
	assert_int_equal(pop(f, &why), 1);
	assert_int_equal(f->e.head, 1);
	assert_int_equal(pop(f, &why), 0);
	assert_int_equal(virtq_fill(&f->q, &f->m, 0, 4), 0);
	assert_int_equal(virtq_fill(&f->q, &f->m, 1, 8), 0);
	assert_int_equal(le_get(used + 2, 2), 0); /* nothing published yet */
	assert_int_equal(le_get(used + 4, 4), 0);
	assert_int_equal(le_get(used + 8, 4), 4); /* but written in place */
	assert_int_equal(le_get(used + 12, 4), 1);
	assert_int_equal(le_get(used + 16, 4), 8);
	virtq_flush(&f->q, &f->m);
	assert_int_equal(le_get(used + 2, 2), 2);
	assert_true(virtq_should_notify(&f->q, &f->m));
	/* rings outside RAM: fill fails, flush does nothing */
	f->q.used = RAM;
	assert_int_equal(virtq_fill(&f->q, &f->m, 0, 1), -EFAULT);
	virtq_flush(&f->q, &f->m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_direct_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_loop_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_length_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_beyond_and_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_and_nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_flush_unpop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
