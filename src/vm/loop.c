#include "vm/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/thread.h"

#define LOOP_MAX_WATCHES 64

struct watch {
	int fd;
	loop_fn cb;
	void *opaque;
};

struct loop {
	int epfd;
	int stopfd; /* eventfd: written to end the thread */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	struct watch w[LOOP_MAX_WATCHES];
};

int loop_create(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = {.events = EPOLLIN};
	int ret;

	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	for (int i = 0; i < LOOP_MAX_WATCHES; i++)
		l->w[i].fd = -1;
	l->stopfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		ret = -errno;
		goto free_loop;
	}
	l->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->stopfd < 0) {
		ret = -errno;
		goto close_ep;
	}
	ev.data.ptr = NULL; /* NULL marks the stop fd */
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stopfd, &ev) < 0) {
		ret = -errno;
		goto close_stop;
	}
	*out = l;
	return 0;

close_stop:
	close(l->stopfd);
close_ep:
	close(l->epfd);
free_loop:
	pthread_mutex_destroy(&l->lock);
	free(l);
	return ret;
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_fn cb, void *opaque)
{
	struct epoll_event ev = {.events = events};
	struct watch *w = NULL;
	int ret = 0;

	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < LOOP_MAX_WATCHES && !w; i++)
		if (l->w[i].fd < 0)
			w = &l->w[i];
	if (!w) {
		ret = -ENOSPC;
		goto unlock;
	}
	*w = (struct watch){fd, cb, opaque};
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ret = -errno;
		w->fd = -1;
	}
unlock:
	pthread_mutex_unlock(&l->lock);
	return ret;
}

int loop_mod(struct loop *l, int fd, uint32_t events)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < LOOP_MAX_WATCHES; i++) {
		struct epoll_event ev = {.events = events, .data.ptr = &l->w[i]};

		if (l->w[i].fd != fd)
			continue;
		ret = epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
		break;
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}

int loop_del(struct loop *l, int fd)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < LOOP_MAX_WATCHES; i++) {
		if (l->w[i].fd != fd)
			continue;
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		l->w[i].fd = -1;
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}

/* One epoll_wait and its callbacks: the number of events, -errno, or -ECANCELED when the stop
 * fd fired. */
static int loop_once(struct loop *l, int timeout_ms)
{
	struct epoll_event ev[16];
	int n = epoll_wait(l->epfd, ev, 16, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct watch *w = ev[i].data.ptr;

		if (!w)
			return -ECANCELED;
		/* Callbacks run unlocked: they may call loop_del on their own fd. */
		if (w->fd >= 0)
			w->cb(w->opaque, ev[i].events);
	}
	return n;
}

int loop_poll(struct loop *l, int timeout_ms)
{
	return loop_once(l, timeout_ms);
}

static void *loop_thread(void *arg)
{
	struct loop *l = arg;

	while (loop_once(l, -1) >= 0) {
	}
	return NULL;
}

int loop_start(struct loop *l)
{
	int ret = thread_start(&l->thread, loop_thread, l);

	if (ret)
		return ret;
	l->started = true;
	return 0;
}

bool loop_on_thread(struct loop *l)
{
	return l->started && pthread_equal(pthread_self(), l->thread);
}

void loop_stop(struct loop *l)
{
	uint64_t one = 1;

	if (!l->started)
		return;
	if (write(l->stopfd, &one, sizeof(one)) < 0) {
		/* An eventfd write only fails on overflow, which cannot happen here. */
	}
	pthread_join(l->thread, NULL);
	l->started = false;
}

void loop_destroy(struct loop *l)
{
	if (!l)
		return;
	loop_stop(l);
	close(l->stopfd);
	close(l->epfd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
