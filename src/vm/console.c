/* console.c: the guest console's host side. Output never blocks a vCPU: it is written without
 * blocking and what the reader cannot take yet waits in a bounded buffer that the event loop
 * drains; when that fills, output is dropped and counted. */
#include "vm/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "vm/loop.h"
#include "vm/vm.h"

#define ESCAPE_CHAR 0x01 /* Ctrl-A */
#define OUT_BUF (64 * 1024)
#define CLOSE_DRAIN_MS 1000 /* how long console_close waits for a slow reader */

struct console {
	struct vm *vm;
	int out_fd;    /* -1: discard (none, or the reader went away) */
	bool watching; /* out_fd is in the loop for EPOLLOUT */
	int in_fd;     /* -1: no input */
	int tty_fd;    /* terminal put in raw mode, restored on close; -1: none */
	struct termios saved;
	bool escape;   /* Ctrl-A seen */
	pthread_mutex_t lock; /* the input sink */
	console_input_fn input;
	void *input_opaque;
	/* Output, under out_lock (taken by vCPU threads inside device locks: never take `lock`
	 * while holding it, nor call out of this file). */
	pthread_mutex_t out_lock;
	bool out_socket; /* out_fd is a socket: send(MSG_DONTWAIT) */
	uint8_t *buf;  /* ring of pending output */
	size_t head, len;
	unsigned long long dropped;
};

static void deliver(struct console *c, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&c->lock);
	if (c->input && len)
		c->input(c->input_opaque, buf, len);
	pthread_mutex_unlock(&c->lock);
}

/* Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A; everything else goes to the guest. */
static void on_stdin(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	uint8_t buf[256], out[256];
	size_t n = 0;
	ssize_t r = read(c->in_fd, buf, sizeof(buf));

	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		loop_del(c->vm->loop, c->in_fd); /* EOF: no more input */
		return;
	}
	for (ssize_t i = 0; i < r; i++) {
		if (c->escape) {
			c->escape = false;
			if (buf[i] == 'x' || buf[i] == 'X') {
				deliver(c, out, n);
				vm_request_stop(c->vm, VM_STOP_QUIT, 0);
				return;
			}
			if (buf[i] != ESCAPE_CHAR)
				continue;
		} else if (buf[i] == ESCAPE_CHAR) {
			c->escape = true;
			continue;
		}
		out[n++] = buf[i];
	}
	deliver(c, out, n);
}

/* The reader is gone (EPIPE) or broken: no more output. Called with out_lock held. */
static void end_output(struct console *c)
{
	if (c->watching)
		loop_del(c->vm->loop, c->out_fd);
	close(c->out_fd);
	c->out_fd = -1;
	c->watching = false;
	c->len = 0;
}

/* Write what the buffer holds without blocking. Called with out_lock held. Returns true when
 * the reader took everything. */
static bool drain_locked(struct console *c)
{
	while (c->len && c->out_fd >= 0) {
		size_t chunk = c->head + c->len <= OUT_BUF ? c->len : OUT_BUF - c->head;
		ssize_t w = c->out_socket ? send(c->out_fd, c->buf + c->head, chunk,
						 MSG_DONTWAIT | MSG_NOSIGNAL)
					  : write(c->out_fd, c->buf + c->head, chunk);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return false;
		if (w <= 0) {
			end_output(c); /* EPIPE, EIO, ENOSPC...: output ends, the guest runs on */
			break;
		}
		c->head = (c->head + (size_t)w) % OUT_BUF;
		c->len -= (size_t)w;
	}
	c->head = c->len ? c->head : 0;
	return true;
}

static void on_writable(void *opaque, uint32_t events)
{
	struct console *c = opaque;

	pthread_mutex_lock(&c->out_lock);
	if (drain_locked(c) && c->watching) {
		loop_del(c->vm->loop, c->out_fd);
		c->watching = false;
	}
	pthread_mutex_unlock(&c->out_lock);
}

void console_write(struct console *c, const uint8_t *data, size_t len)
{
	size_t room, tail, first;

	pthread_mutex_lock(&c->out_lock);
	if (c->out_fd < 0)
		goto unlock;
	room = OUT_BUF - c->len;
	if (len > room) {
		c->dropped += len - room;
		len = room;
	}
	tail = (c->head + c->len) % OUT_BUF;
	first = OUT_BUF - tail < len ? OUT_BUF - tail : len;
	memcpy(c->buf + tail, data, first);
	memcpy(c->buf, data + first, len - first);
	c->len += len;
	if (!c->watching && !drain_locked(c) &&
	    loop_add(c->vm->loop, c->out_fd, EPOLLOUT, on_writable, c) == 0)
		c->watching = true;
unlock:
	pthread_mutex_unlock(&c->out_lock);
}

/* A description of fd that our writes never block on: pipes and terminals are reopened through
 * /proc (a new open file description, so the shell's stays blocking), sockets are written with
 * MSG_DONTWAIT, regular files never wait anyway. -1 (discard) when fd is not open. */
static int open_nonblocking(struct console *c, int fd)
{
	char path[64];
	struct stat st;
	int nfd;

	if (fstat(fd, &st))
		return -1;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISSOCK(st.st_mode)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (nfd >= 0)
			return nfd;
	}
	c->out_socket = S_ISSOCK(st.st_mode);
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int console_open(struct vm *vm, struct console **out)
{
	struct console *c = calloc(1, sizeof(*c));
	struct termios raw;
	int ret;

	if (!c)
		return -ENOMEM;
	c->vm = vm;
	c->out_fd = c->in_fd = c->tty_fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->out_lock, NULL);
	switch (vm->cfg.console) {
	case CONSOLE_STDIO:
	case CONSOLE_VIRTIO: /* the terminal serves hvc0 (src/virtio/console.c) */
		c->out_fd = open_nonblocking(c, STDOUT_FILENO);
		c->in_fd = STDIN_FILENO;
		break;
	case CONSOLE_FILE:
		c->out_fd = open(vm->cfg.console_path,
				 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
					 (vm->cfg.console_append ? 0 : O_TRUNC),
				 0644);
		if (c->out_fd < 0) {
			ret = -errno;
			goto fail;
		}
		break;
	case CONSOLE_NONE:
		break;
	}
	if (c->out_fd >= 0 && !(c->buf = malloc(OUT_BUF))) {
		ret = -ENOMEM;
		goto fail;
	}
	if (c->in_fd >= 0 && isatty(c->in_fd) && tcgetattr(c->in_fd, &c->saved) == 0) {
		raw = c->saved;
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST | ONLCR; /* keep our own "\n" messages readable */
		if (tcsetattr(c->in_fd, TCSANOW, &raw) == 0)
			c->tty_fd = c->in_fd;
	}
	if (c->in_fd >= 0 && loop_add(vm->loop, c->in_fd, EPOLLIN, on_stdin, c) < 0)
		c->in_fd = -1; /* e.g. stdin is /dev/null or a regular file: no input */
	*out = c;
	return 0;

fail:
	console_close(c);
	return ret;
}

void console_set_input(struct console *c, console_input_fn fn, void *opaque)
{
	pthread_mutex_lock(&c->lock);
	c->input = fn;
	c->input_opaque = opaque;
	pthread_mutex_unlock(&c->lock);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The event loop is gone: give a slow reader a bounded time for what is still buffered. */
static void drain_at_close(struct console *c)
{
	long long end = now_ms() + CLOSE_DRAIN_MS, left;

	c->watching = false; /* the loop is gone */
	while (!drain_locked(c) && (left = end - now_ms()) > 0)
		poll(&(struct pollfd){.fd = c->out_fd, .events = POLLOUT}, 1, (int)left);
	if (c->len)
		c->dropped += c->len;
}

void console_close(struct console *c)
{
	if (!c)
		return;
	if (c->out_fd >= 0)
		drain_at_close(c);
	if (c->tty_fd >= 0)
		tcsetattr(c->tty_fd, TCSANOW, &c->saved);
	if (c->dropped)
		log_info("console: %llu bytes of guest output dropped (the reader did not keep up)",
			 c->dropped);
	if (c->out_fd >= 0)
		close(c->out_fd);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->out_lock);
	free(c->buf);
	free(c);
}
