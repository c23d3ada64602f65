#include "vm/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

#include "vm/loop.h"
#include "vm/vm.h"

#define ESCAPE_CHAR 0x01 /* Ctrl-A */

struct console {
	struct vm *vm;
	int out_fd;    /* -1: discard */
	bool close_out;
	int in_fd;     /* -1: no input */
	bool raw;      /* saved terminal settings to restore */
	struct termios saved;
	bool escape;   /* Ctrl-A seen */
	pthread_mutex_t lock;
	console_input_fn input;
	void *input_opaque;
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

int console_open(struct vm *vm, struct console **out)
{
	struct console *c = calloc(1, sizeof(*c));
	struct termios raw;
	int ret;

	if (!c)
		return -ENOMEM;
	c->vm = vm;
	c->out_fd = c->in_fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	switch (vm->cfg.console) {
	case CONSOLE_STDIO:
		c->out_fd = STDOUT_FILENO;
		c->in_fd = STDIN_FILENO;
		break;
	case CONSOLE_FILE:
		c->out_fd = open(vm->cfg.console_path,
				 O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
		if (c->out_fd < 0) {
			ret = -errno;
			goto free_c;
		}
		c->close_out = true;
		break;
	case CONSOLE_NONE:
		break;
	}
	if (c->in_fd >= 0 && isatty(c->in_fd) && tcgetattr(c->in_fd, &c->saved) == 0) {
		raw = c->saved;
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST | ONLCR; /* keep our own "\n" messages readable */
		if (tcsetattr(c->in_fd, TCSANOW, &raw) == 0)
			c->raw = true;
	}
	if (c->in_fd >= 0 && loop_add(vm->loop, c->in_fd, EPOLLIN, on_stdin, c) < 0)
		c->in_fd = -1; /* e.g. stdin is /dev/null or a regular file: no input */
	*out = c;
	return 0;

free_c:
	pthread_mutex_destroy(&c->lock);
	free(c);
	return ret;
}

void console_set_input(struct console *c, console_input_fn fn, void *opaque)
{
	pthread_mutex_lock(&c->lock);
	c->input = fn;
	c->input_opaque = opaque;
	pthread_mutex_unlock(&c->lock);
}

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
	while (c->out_fd >= 0 && len) {
		ssize_t w = write(c->out_fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the guest never blocks on a broken console */
		buf += w;
		len -= (size_t)w;
	}
}

void console_close(struct console *c)
{
	if (!c)
		return;
	if (c->raw)
		tcsetattr(c->in_fd, TCSANOW, &c->saved);
	if (c->close_out)
		close(c->out_fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
