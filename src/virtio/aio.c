/* aio.c: io_uring or a thread pool behind one small interface (aio.h). */
#include "virtio/aio.h"

#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/thread.h"
#include "vm/loop.h"

#define AIO_THREADS 4
#define AIO_LARGE (64u << 10) /* cached transfers from this size on leave the loop thread */

struct aio {
	struct loop *loop;
	pthread_mutex_t *dev_lock;
	int efd;
	unsigned depth, inflight, off_ring; /* in flight: in all; in the pool or done at once */
	bool uring, wake;		    /* wake: requests done at once await the loop */
	struct io_uring ring;
	/* thread pool: without io_uring every request not done at once, with it large cached
	 * writes; the done list holds the pool's completions and the requests done at once */
	pthread_t th[AIO_THREADS];
	unsigned nth;
	pthread_mutex_t mu;
	pthread_cond_t cv, done_cv; /* work to do; work done (for aio_drain) */
	struct aio_req *queued, *todo, *done;
	bool stop;
	void (*batch_done)(void *opaque);
	void *batch_opaque;
};

static uint64_t iov_total(const struct iovec *v, unsigned n)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < n; i++)
		total += v[i].iov_len;
	return total;
}

static long do_io(struct aio_req *r)
{
	struct iovec iov[64];
	uint64_t total = iov_total(r->iov, r->niov), off = r->off;
	const struct iovec *v = r->iov;
	unsigned n = r->niov;

	if (r->op == AIO_FSYNC)
		return fdatasync(r->fd) ? -errno : 0;
	for (uint64_t done = 0; done < total;) {
		/* the part of the vector not yet moved */
		uint64_t skip = done;
		unsigned k = 0, i = 0;
		ssize_t got;

		while (i < n && skip >= v[i].iov_len)
			skip -= v[i++].iov_len;
		for (; i < n && k < 64; i++, k++) {
			iov[k].iov_base = (char *)v[i].iov_base + skip;
			iov[k].iov_len = v[i].iov_len - skip;
			skip = 0;
		}
		got = r->op == AIO_READ ? preadv(r->fd, iov, (int)k, (off_t)(off + done))
					: pwritev(r->fd, iov, (int)k, (off_t)(off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return r->op == AIO_READ ? (long)done : -EIO;
		done += (uint64_t)got;
	}
	return (long)total;
}

/* Wake the loop thread to reap the done list. */
static void wake_loop(struct aio *a)
{
	uint64_t one = 1;

	if (write(a->efd, &one, sizeof(one)) < 0) {
		/* counter overflow only */
	}
}

static void *worker(void *arg)
{
	struct aio *a = arg;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		struct aio_req *r;

		while (!a->todo && !a->stop)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->stop)
			break;
		r = a->todo;
		a->todo = r->next;
		pthread_mutex_unlock(&a->mu);
		r->left = (uint64_t)do_io(r);
		pthread_mutex_lock(&a->mu);
		r->next = a->done;
		a->done = r;
		pthread_cond_signal(&a->done_cv);
		wake_loop(a);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* Run the completions that have arrived (io_uring's, then the pool's), then the batch
 * callback. With the device's lock held (or none given). */
static void reap(struct aio *a)
{
	struct aio_req *list, *rev = NULL;
	unsigned count = 0;

	if (a->uring) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;

		io_uring_for_each_cqe(&a->ring, head, cqe)
		{
			struct aio_req *r = io_uring_cqe_get_data(cqe);

			n++;
			a->inflight--;
			r->done(r, cqe->res);
		}
		io_uring_cq_advance(&a->ring, n);
		count += n;
	}
	pthread_mutex_lock(&a->mu);
	list = a->done;
	a->done = NULL;
	pthread_mutex_unlock(&a->mu);
	while (list) { /* completion order */
		struct aio_req *next = list->next;

		list->next = rev;
		rev = list;
		list = next;
	}
	for (; rev; count++) {
		struct aio_req *next = rev->next;

		a->inflight--;
		a->off_ring--;
		rev->done(rev, (long)rev->left);
		rev = next;
	}
	if (count && a->batch_done)
		a->batch_done(a->batch_opaque);
}

static void on_complete(void *opaque, uint32_t events)
{
	struct aio *a = opaque;
	uint64_t n;

	if (read(a->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	if (a->dev_lock)
		pthread_mutex_lock(a->dev_lock);
	reap(a);
	if (a->dev_lock)
		pthread_mutex_unlock(a->dev_lock);
}

static int start_pool(struct aio *a)
{
	for (; a->nth < AIO_THREADS; a->nth++) {
		int ret = thread_start(&a->th[a->nth], worker, a);

		if (ret)
			return a->nth ? 0 : ret;
	}
	return 0;
}

/* Whether r is done at once, on the calling (loop) thread: small writes through the page
 * cache, a copy of a few pages. io_uring (Linux 6.1) hands every buffered write to its
 * workers, hashed per file so one at a time, and the guest would get an interrupt for nearly
 * each; done here, a kick's writes complete together (bench/RESULTS.md). */
static bool at_once(const struct aio_req *r)
{
	return r->op == AIO_WRITE && r->cached && iov_total(r->iov, r->niov) < AIO_LARGE;
}

/* Whether r goes to the thread pool. With io_uring, large writes through the page cache do:
 * on io_uring's hashed workers they were behind QEMU's thread pool on sequential writes. */
static bool to_pool(struct aio *a, const struct aio_req *r)
{
	if (!a->uring)
		return true;
	return r->op == AIO_WRITE && r->cached && iov_total(r->iov, r->niov) >= AIO_LARGE &&
	       start_pool(a) == 0;
}

int aio_create(struct aio **out, unsigned depth, struct loop *loop, pthread_mutex_t *lock,
	       int force_threads)
{
	struct aio *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return -ENOMEM;
	a->loop = loop;
	a->dev_lock = lock;
	a->depth = depth;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	pthread_cond_init(&a->done_cv, NULL);
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->efd < 0) {
		ret = -errno;
		goto free_a;
	}
	if (!force_threads && io_uring_queue_init(depth, &a->ring, 0) == 0) {
		if (io_uring_register_eventfd(&a->ring, a->efd) == 0)
			a->uring = true;
		else
			io_uring_queue_exit(&a->ring);
	}
	if (!a->uring && (ret = start_pool(a)))
		goto stop;
	ret = loop_add(loop, a->efd, EPOLLIN, on_complete, a);
	if (ret)
		goto stop;
	*out = a;
	return 0;
stop:
	a->loop = NULL;
	aio_destroy(a);
	return ret;
free_a:
	pthread_cond_destroy(&a->done_cv);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
	return ret;
}

int aio_add(struct aio *a, struct aio_req *r)
{
	if (a->inflight >= a->depth)
		return -EAGAIN;
	if (at_once(r)) {
		/* completed from the loop like the pool's, never inside this call */
		r->left = (uint64_t)do_io(r);
		pthread_mutex_lock(&a->mu);
		r->next = a->done;
		a->done = r;
		pthread_mutex_unlock(&a->mu);
		a->off_ring++;
		a->wake = true;
	} else if (to_pool(a, r)) {
		r->next = a->queued;
		a->queued = r;
		a->off_ring++;
	} else {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&a->ring);

		if (!sqe) {
			io_uring_submit(&a->ring);
			sqe = io_uring_get_sqe(&a->ring);
			if (!sqe)
				return -EAGAIN;
		}
		if (r->op == AIO_READ) {
			io_uring_prep_readv(sqe, r->fd, r->iov, r->niov, r->off);
			/* one large copy after another on this thread would serialize them (and
			 * hold up the device's next kick); io_uring's workers copy in parallel */
			if (r->cached && iov_total(r->iov, r->niov) >= AIO_LARGE)
				sqe->flags |= IOSQE_ASYNC;
		} else if (r->op == AIO_WRITE) {
			io_uring_prep_writev(sqe, r->fd, r->iov, r->niov, r->off);
		} else {
			io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
		}
		io_uring_sqe_set_data(sqe, r);
	}
	a->inflight++;
	return 0;
}

void aio_submit(struct aio *a)
{
	struct aio_req *list = NULL;

	if (a->uring && io_uring_sq_ready(&a->ring))
		io_uring_submit(&a->ring);
	if (a->wake)
		wake_loop(a);
	a->wake = false;
	if (!a->queued)
		return;
	while (a->queued) { /* submission order */
		struct aio_req *next = a->queued->next;

		a->queued->next = list;
		list = a->queued;
		a->queued = next;
	}
	pthread_mutex_lock(&a->mu);
	if (!a->todo) {
		a->todo = list;
	} else {
		struct aio_req *t = a->todo;

		while (t->next)
			t = t->next;
		t->next = list;
	}
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

void aio_set_batch_done(struct aio *a, void (*fn)(void *opaque), void *opaque)
{
	a->batch_done = fn;
	a->batch_opaque = opaque;
}

void aio_drain(struct aio *a)
{
	aio_submit(a);
	while (a->inflight) {
		if (a->inflight > a->off_ring) {
			struct io_uring_cqe *cqe;
			int ret = io_uring_wait_cqe(&a->ring, &cqe);

			if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
				return; /* the ring is unusable: nothing more will complete */
		} else {
			pthread_mutex_lock(&a->mu);
			while (!a->done)
				pthread_cond_wait(&a->done_cv, &a->mu);
			pthread_mutex_unlock(&a->mu);
		}
		reap(a);
	}
}

const char *aio_backend(const struct aio *a) { return a->uring ? "io_uring" : "threads"; }

void aio_destroy(struct aio *a)
{
	if (!a)
		return;
	if (a->uring) {
		/* let the kernel finish with the guest's buffers before they go away */
		io_uring_submit(&a->ring);
		while (a->inflight > a->off_ring) {
			struct io_uring_cqe *cqe;

			if (io_uring_wait_cqe(&a->ring, &cqe) < 0)
				break;
			io_uring_cqe_seen(&a->ring, cqe);
			a->inflight--;
		}
		io_uring_queue_exit(&a->ring);
	}
	/* the workers finish what they are doing; what they have not started is left */
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	for (unsigned i = 0; i < a->nth; i++)
		pthread_join(a->th[i], NULL);
	if (a->loop)
		loop_del(a->loop, a->efd);
	if (a->efd >= 0)
		close(a->efd);
	pthread_cond_destroy(&a->done_cv);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
}
