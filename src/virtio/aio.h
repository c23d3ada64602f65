/* aio.h: asynchronous file I/O for device backends: io_uring (liburing) when the host allows
 * it, else a small thread pool doing preadv/pwritev/fdatasync; with io_uring, large writes
 * through the page cache go to the pool too (started when the first one comes). Small writes
 * through the page cache are done at once, inside aio_add, on either backend. Requests are
 * queued with aio_add and submitted together with aio_submit (one system call per batch with
 * io_uring); completions, those done at once too, run on the loop thread the engine was
 * created for, in batches, never inside aio_add or aio_submit. */
#ifndef TV_AIO_H
#define TV_AIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct loop;
struct aio;

enum aio_op { AIO_READ, AIO_WRITE, AIO_FSYNC };

struct aio_req {
	enum aio_op op;
	int fd;
	uint64_t off;
	const struct iovec *iov;
	unsigned niov;
	/* fd goes through the page cache (not O_DIRECT): io_uring copies such a read inside the
	 * submitting call when the data is cached, so large ones go to its workers instead; it
	 * runs such writes one at a time per file on its workers, so large ones go to the pool
	 * and small ones are done at once */
	bool cached;
	/* Called on the loop thread with the result: bytes transferred, 0 for fsync, or -errno. */
	void (*done)(struct aio_req *r, long res);
	/* engine-private */
	uint64_t left;		/* thread pool: bytes still to move */
	struct aio_req *next;
};

/* Create an engine of depth requests in flight whose completions run on loop's thread (a
 * watch is added), each batch with *lock held (the device's lock; NULL: none). force_threads
 * skips io_uring. 0 or -errno. */
int aio_create(struct aio **out, unsigned depth, struct loop *loop, pthread_mutex_t *lock,
	       int force_threads) __attribute__((warn_unused_result));

/* Queue r (not yet submitted). Returns 0, or -EAGAIN when depth requests are already in
 * flight (the caller retries after completions). On the loop thread, with the device's lock
 * held when one was given. */
int aio_add(struct aio *a, struct aio_req *r) __attribute__((warn_unused_result));

/* Submit everything queued by aio_add. As aio_add. */
void aio_submit(struct aio *a);

/* Submit what is queued, then wait for everything in flight and run its completions (and
 * the batch callback) on the calling thread, which holds the device's lock given to
 * aio_create (or, with none given, is the loop thread). On return the kernel and the pool
 * are done with every buffer they were given. */
void aio_drain(struct aio *a);

/* Called after each batch of completions (to interrupt the guest once), with opaque. */
void aio_set_batch_done(struct aio *a, void (*fn)(void *opaque), void *opaque);

/* "io_uring" or "threads". */
const char *aio_backend(const struct aio *a);

/* Wait for everything in flight, stop, free. Call with the loop thread stopped. NULL ok. */
void aio_destroy(struct aio *a);

#endif
