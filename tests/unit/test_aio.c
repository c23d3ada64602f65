/* test_aio.c: the asynchronous file I/O engine (src/virtio/aio.c) on a real file, through
 * io_uring and through the thread pool: every request completes once with its result, data
 * reaches the file and comes back, errors come back as -errno, a full engine says -EAGAIN,
 * the batch callback follows completions (a request alone in a batch of its own),
 * destroying the engine waits for what is in flight, large page-cache reads (sent to
 * io_uring's workers) bring back the right data, a drain runs every completion before it
 * returns, and large page-cache writes (sent to the pool, io_uring or not) mixed with small
 * reads complete once each with the right data, and small page-cache writes are done at once
 * yet complete only from the loop (or a drain), together in one batch. */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio/aio.h"
#include "vm/loop.h"

#define N 32
#define BS 4096

struct req {
	struct aio_req a;
	struct iovec iov;
	long res;
	int calls;
};

struct fixture {
	struct loop *loop;
	struct aio *aio;
	int fd, forced;
	char path[64];
	unsigned batches, done;
	struct req r[N];
	char buf[N][BS];
};

static void req_done(struct aio_req *a, long res)
{
	struct req *r = (struct req *)a;

	r->res = res;
	r->calls++;
}

static void on_batch(void *opaque)
{
	((struct fixture *)opaque)->batches++;
}

static int setup(void **st, int threads)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->path, sizeof(f->path), "/tmp/tv-test-aio.XXXXXX");
	f->fd = mkstemp(f->path);
	if (f->fd < 0 || loop_create(&f->loop) || aio_create(&f->aio, N, f->loop, NULL, threads))
		return -1;
	aio_set_batch_done(f->aio, on_batch, f);
	f->forced = threads;
	*st = f;
	return 0;
}
static int setup_uring(void **st) { return setup(st, 0); }
static int setup_threads(void **st) { return setup(st, 1); }

static int teardown(void **st)
{
	struct fixture *f = *st;

	aio_destroy(f->aio);
	loop_destroy(f->loop);
	close(f->fd);
	unlink(f->path);
	free(f);
	return 0;
}

static void prep(struct fixture *f, unsigned i, enum aio_op op, int fd, uint64_t off)
{
	struct req *r = &f->r[i];

	memset(r, 0, sizeof(*r));
	r->iov = (struct iovec){f->buf[i], BS};
	r->a = (struct aio_req){.op = op, .fd = fd, .off = off, .iov = &r->iov, .niov = 1,
				.done = req_done};
	r->res = 1; /* not a value any request returns */
}

/* Run the loop until every one of the first n requests has completed (10 s at most). */
static void run_until_done(struct fixture *f, unsigned n)
{
	for (int spins = 0; spins < 1000; spins++) {
		unsigned done = 0;

		for (unsigned i = 0; i < n; i++)
			done += f->r[i].calls;
		if (done == n)
			return;
		assert_true(loop_poll(f->loop, 10) >= 0);
	}
	fail_msg("requests did not complete");
}

static void test_backend_named(void **st)
{
	struct fixture *f = *st;

	/* the pool when forced; io_uring unless the host refuses it (io_uring_disabled) */
	if (f->forced)
		assert_string_equal(aio_backend(f->aio), "threads");
	else
		assert_true(!strcmp(aio_backend(f->aio), "io_uring") ||
			    !strcmp(aio_backend(f->aio), "threads"));
}

static void test_write_then_read(void **st)
{
	struct fixture *f = *st;
	char want[BS];

	for (unsigned i = 0; i < N; i++) {
		memset(f->buf[i], 'a' + (int)(i % 26), BS);
		prep(f, i, AIO_WRITE, f->fd, (uint64_t)(N - 1 - i) * BS); /* out of order */
		assert_int_equal(aio_add(f->aio, &f->r[i].a), 0);
	}
	aio_submit(f->aio);
	run_until_done(f, N);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(f->r[i].calls, 1);
		assert_int_equal(f->r[i].res, BS);
	}
	assert_true(f->batches >= 1 && f->batches <= N);
	/* the file holds what was written, where it was written */
	for (unsigned i = 0; i < N; i++) {
		memset(want, 'a' + (int)(i % 26), BS);
		assert_int_equal(pread(f->fd, f->buf[0], BS, (off_t)(N - 1 - i) * BS), BS);
		assert_memory_equal(f->buf[0], want, BS);
	}
	/* and reads bring it back */
	for (unsigned i = 0; i < N; i++) {
		prep(f, i, AIO_READ, f->fd, (uint64_t)i * BS);
		memset(f->buf[i], 0, BS);
		assert_int_equal(aio_add(f->aio, &f->r[i].a), 0);
	}
	aio_submit(f->aio);
	run_until_done(f, N);
	for (unsigned i = 0; i < N; i++) {
		memset(want, 'a' + (int)((N - 1 - i) % 26), BS);
		assert_int_equal(f->r[i].res, BS);
		assert_memory_equal(f->buf[i], want, BS);
	}
}

static void test_fsync_and_short_read(void **st)
{
	struct fixture *f = *st;

	memset(f->buf[0], 'x', BS);
	assert_int_equal(pwrite(f->fd, f->buf[0], 100, 0), 100);
	prep(f, 0, AIO_FSYNC, f->fd, 0);
	prep(f, 1, AIO_READ, f->fd, 0); /* 100 bytes in the file: a short read says so */
	assert_int_equal(aio_add(f->aio, &f->r[0].a), 0);
	assert_int_equal(aio_add(f->aio, &f->r[1].a), 0);
	aio_submit(f->aio);
	run_until_done(f, 2);
	assert_int_equal(f->r[0].res, 0);
	assert_int_equal(f->r[1].res, 100);
}

static void test_error_is_errno(void **st)
{
	struct fixture *f = *st;
	int ro = open(f->path, O_RDONLY | O_CLOEXEC);

	assert_true(ro >= 0);
	prep(f, 0, AIO_WRITE, ro, 0); /* a write on a read-only descriptor */
	assert_int_equal(aio_add(f->aio, &f->r[0].a), 0);
	aio_submit(f->aio);
	run_until_done(f, 1);
	assert_int_equal(f->r[0].res, -EBADF);
	close(ro);
}

static void test_full_engine_says_eagain(void **st)
{
	struct fixture *f = *st;
	struct req extra;

	for (unsigned i = 0; i < N; i++) {
		prep(f, i, AIO_READ, f->fd, 0);
		assert_int_equal(aio_add(f->aio, &f->r[i].a), 0);
	}
	extra = f->r[0];
	assert_int_equal(aio_add(f->aio, &extra.a), -EAGAIN);
	aio_submit(f->aio);
	run_until_done(f, N);
	/* room again */
	prep(f, 0, AIO_READ, f->fd, 0);
	assert_int_equal(aio_add(f->aio, &f->r[0].a), 0);
	aio_submit(f->aio);
	run_until_done(f, 1);
}

static void test_lone_request_own_batch(void **st)
{
	struct fixture *f = *st;

	/* queue depth 1: each completion is reported in its own batch, none waits for another */
	for (unsigned k = 0; k < 8; k++) {
		prep(f, 0, AIO_READ, f->fd, 0);
		assert_int_equal(aio_add(f->aio, &f->r[0].a), 0);
		aio_submit(f->aio);
		run_until_done(f, 1);
		assert_int_equal(f->batches, k + 1);
	}
}

static void test_large_cached_reads(void **st)
{
	struct fixture *f = *st;
	enum { BIG = 256 << 10, PARTS = 4, READS = 4 };
	uint8_t *file = malloc(BIG * READS), *back = calloc(1, BIG * READS);
	struct iovec iov[READS][PARTS];

	assert_non_null(file);
	assert_non_null(back);
	for (unsigned i = 0; i < BIG * READS; i++)
		file[i] = (uint8_t)(i * 7 + i / 4096);
	assert_int_equal(pwrite(f->fd, file, BIG * READS, 0), BIG * READS); /* in the page cache */
	/* page-cache reads large enough to go to io_uring's workers, each in several parts */
	for (unsigned i = 0; i < READS; i++) {
		for (unsigned k = 0; k < PARTS; k++)
			iov[i][k] = (struct iovec){back + i * BIG + k * (BIG / PARTS), BIG / PARTS};
		prep(f, i, AIO_READ, f->fd, (uint64_t)(READS - 1 - i) * BIG);
		f->r[i].a.iov = iov[i];
		f->r[i].a.niov = PARTS;
		f->r[i].a.cached = true;
		assert_int_equal(aio_add(f->aio, &f->r[i].a), 0);
	}
	aio_submit(f->aio);
	run_until_done(f, READS);
	for (unsigned i = 0; i < READS; i++) {
		assert_int_equal(f->r[i].calls, 1);
		assert_int_equal(f->r[i].res, BIG);
		assert_memory_equal(back + i * BIG, file + (READS - 1 - i) * BIG, BIG);
	}
	free(file);
	free(back);
}

static void test_drain_finishes_inflight(void **st)
{
	struct fixture *f = *st;
	enum { BIG = 256 << 10, READS = 8 };
	uint8_t *file = malloc(BIG * READS), *back = calloc(1, BIG * READS);
	struct iovec iov[READS];

	assert_non_null(file);
	assert_non_null(back);
	for (unsigned i = 0; i < BIG * READS; i++)
		file[i] = (uint8_t)(i * 13 + i / 4096);
	assert_int_equal(pwrite(f->fd, file, BIG * READS, 0), BIG * READS);
	/* large reads (on io_uring's workers, or the pool's threads), one left unsubmitted */
	for (unsigned i = 0; i < READS; i++) {
		iov[i] = (struct iovec){back + i * BIG, BIG};
		prep(f, i, AIO_READ, f->fd, (uint64_t)i * BIG);
		f->r[i].a.iov = &iov[i];
		f->r[i].a.cached = true;
		assert_int_equal(aio_add(f->aio, &f->r[i].a), 0);
		if (i == READS - 2)
			aio_submit(f->aio);
	}
	/* no loop_poll: the drain itself runs every completion once, with the batch callback */
	aio_drain(f->aio);
	for (unsigned i = 0; i < READS; i++) {
		assert_int_equal(f->r[i].calls, 1);
		assert_int_equal(f->r[i].res, BIG);
	}
	assert_memory_equal(back, file, BIG * READS);
	assert_true(f->batches >= 1);
	/* the loop finds nothing more to complete, and the engine keeps working */
	assert_true(loop_poll(f->loop, 20) >= 0);
	for (unsigned i = 0; i < READS; i++)
		assert_int_equal(f->r[i].calls, 1);
	prep(f, 0, AIO_READ, f->fd, 0);
	assert_int_equal(aio_add(f->aio, &f->r[0].a), 0);
	aio_submit(f->aio);
	run_until_done(f, 1);
	assert_int_equal(f->r[0].res, BS);
	assert_memory_equal(f->buf[0], file, BS);
	free(file);
	free(back);
}

static void test_large_cached_writes_mixed(void **st)
{
	struct fixture *f = *st;
	enum { BIG = 256 << 10, WRITES = 4 };
	uint8_t *src = malloc(BIG * WRITES), *file = malloc(BIG * WRITES);
	struct iovec iov[WRITES];

	assert_non_null(src);
	assert_non_null(file);
	for (unsigned i = 0; i < BIG * WRITES; i++)
		src[i] = (uint8_t)(i * 7 + i / 4096);
	memset(f->buf[WRITES], 0x5a, BS);
	assert_int_equal(pwrite(f->fd, f->buf[WRITES], BS, BIG * WRITES), BS);
	/* large cached writes (the pool's, with io_uring too) beside small reads (io_uring's) */
	for (unsigned i = 0; i < WRITES; i++) {
		iov[i] = (struct iovec){src + i * BIG, BIG};
		prep(f, i, AIO_WRITE, f->fd, (uint64_t)i * BIG);
		f->r[i].a.iov = &iov[i];
		f->r[i].a.cached = true;
		assert_int_equal(aio_add(f->aio, &f->r[i].a), 0);
		prep(f, WRITES + i, AIO_READ, f->fd, BIG * WRITES);
		assert_int_equal(aio_add(f->aio, &f->r[WRITES + i].a), 0);
	}
	aio_drain(f->aio);
	for (unsigned i = 0; i < 2 * WRITES; i++) {
		assert_int_equal(f->r[i].calls, 1);
		assert_int_equal(f->r[i].res, i < WRITES ? BIG : BS);
	}
	for (unsigned i = WRITES; i < 2 * WRITES; i++)
		assert_memory_equal(f->buf[i], f->buf[WRITES], BS);
	assert_int_equal(pread(f->fd, file, BIG * WRITES, 0), BIG * WRITES);
	assert_memory_equal(file, src, BIG * WRITES);
	/* and through the loop, as a device sees them */
	prep(f, 0, AIO_WRITE, f->fd, 0);
	f->r[0].a.iov = &iov[1];
	f->r[0].a.cached = true;
	assert_int_equal(aio_add(f->aio, &f->r[0].a), 0);
	aio_submit(f->aio);
	run_until_done(f, 1);
	assert_int_equal(f->r[0].res, BIG);
	assert_int_equal(pread(f->fd, file, BIG, 0), BIG);
	assert_memory_equal(file, src + BIG, BIG);
	free(src);
	free(file);
}

static void test_small_cached_writes_at_once(void **st)
{
	struct fixture *f = *st;
	enum { WRITES = 8 };
	char back[BS];

	for (unsigned i = 0; i < WRITES; i++) {
		prep(f, i, AIO_WRITE, f->fd, (uint64_t)i * BS);
		memset(f->buf[i], 'a' + (int)i, BS);
		f->r[i].a.cached = true;
		assert_int_equal(aio_add(f->aio, &f->r[i].a), 0);
		/* in the file already, but no callback inside aio_add */
		assert_int_equal(pread(f->fd, back, BS, (off_t)i * BS), BS);
		assert_memory_equal(back, f->buf[i], BS);
		assert_int_equal(f->r[i].calls, 0);
	}
	aio_submit(f->aio);
	for (unsigned i = 0; i < WRITES; i++)
		assert_int_equal(f->r[i].calls, 0);
	/* the loop completes the kick's writes together */
	run_until_done(f, WRITES);
	assert_int_equal(f->batches, 1);
	for (unsigned i = 0; i < WRITES; i++) {
		assert_int_equal(f->r[i].calls, 1);
		assert_int_equal(f->r[i].res, BS);
	}
	/* and a drain runs them too, beside a read on the other path */
	prep(f, 0, AIO_WRITE, f->fd, 0);
	memset(f->buf[0], 'z', BS);
	f->r[0].a.cached = true;
	assert_int_equal(aio_add(f->aio, &f->r[0].a), 0);
	prep(f, 1, AIO_READ, f->fd, BS);
	assert_int_equal(aio_add(f->aio, &f->r[1].a), 0);
	aio_drain(f->aio);
	assert_int_equal(f->r[0].calls, 1);
	assert_int_equal(f->r[0].res, BS);
	assert_int_equal(f->r[1].calls, 1);
	assert_int_equal(f->r[1].res, BS);
	memset(back, 'b', BS);
	assert_memory_equal(f->buf[1], back, BS);
	assert_true(f->batches >= 2);
}

static void test_destroy_waits_for_inflight(void **st)
{
	struct fixture *f = *st;

	for (unsigned i = 0; i < N; i++) {
		prep(f, i, AIO_WRITE, f->fd, (uint64_t)i * BS);
		assert_int_equal(aio_add(f->aio, &f->r[i].a), 0);
	}
	aio_submit(f->aio);
	/* no loop_poll: destroy must still let the kernel finish with the buffers (ASan would
	 * see a worker touch freed memory otherwise) */
	aio_destroy(f->aio);
	f->aio = NULL;
}

/* each test on both backends, named after the backend */
#define BOTH(t)                                                                               \
	{"io_uring: " #t, t, setup_uring, teardown, NULL},                                    \
		{"threads: " #t, t, setup_threads, teardown, NULL}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_backend_named),	   BOTH(test_write_then_read),
		BOTH(test_fsync_and_short_read),   BOTH(test_error_is_errno),
		BOTH(test_full_engine_says_eagain), BOTH(test_lone_request_own_batch),
		BOTH(test_destroy_waits_for_inflight), BOTH(test_large_cached_reads),
		BOTH(test_drain_finishes_inflight), BOTH(test_large_cached_writes_mixed),
		BOTH(test_small_cached_writes_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
