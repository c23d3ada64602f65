/* server.c: the API socket on the VM's event loop: connections accepted, read and written
 * without blocking, each request parsed by http.c and answered by the handlers. Limits keep a
 * slow or hostile client from holding anything up: at most API_MAX_CONN connections,
 * API_CONN_TIMEOUT_S of silence closes one, headers beyond HTTP_HEADER_MAX get 431, bodies
 * beyond HTTP_BODY_MAX get 413, a client that queues answers without reading them
 * (API_OUT_MAX) is dropped. Every handler is short and never blocks on a client. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api/http.h"
#include "api/server.h"
#include "util/clock.h"
#include "util/log.h"
#include "vm/loop.h"
#include "vm/vm.h"

#define API_MAX_CONN 512
#define API_CONN_TIMEOUT_S 10
#define API_OUT_MAX (4u << 20)
#define API_READ_BUF 16384

struct api_conn {
	struct api *a;
	int fd;
	struct http_conn h;
	char *out; /* answers not yet written */
	size_t out_len, out_off;
	bool writing;	  /* watching EPOLLOUT (not EPOLLIN) */
	bool close_after; /* close once out is written */
	bool stop_after;  /* then stop the VM (op says how) */
	enum api_op op;
	int64_t last; /* mono_ns() of the last progress */
	struct api_conn *prev, *next;
};

void api_reply_error(struct api_reply *rep, int status, const char *msg)
{
	struct json_object *o = json_object_new_object();

	rep->status = status;
	rep->ctype = "application/json";
	rep->body = NULL;
	if (!o)
		return;
	json_object_object_add(o, "error", json_object_new_string(msg));
	rep->body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* Add or change fd in the API's own epoll set (ptr: its connection, NULL: the listening
 * socket). 0 or -errno. */
static int watch(struct api *a, int op, int fd, uint32_t events, struct api_conn *ptr)
{
	struct epoll_event ev = {.events = events, .data.ptr = ptr};

	return epoll_ctl(a->epfd, op, fd, &ev) ? -errno : 0;
}

/* Queue bytes to write; false when the client already has too much unread. */
static bool queue_out(struct api_conn *c, char *buf, size_t len)
{
	char *o;

	if (!buf)
		return false;
	if (c->out_len - c->out_off + len > API_OUT_MAX) {
		free(buf);
		return false;
	}
	if (!c->out) {
		c->out = buf;
		c->out_len = len;
		c->out_off = 0;
		return true;
	}
	o = realloc(c->out, c->out_len + len);
	if (o) {
		memcpy(o + c->out_len, buf, len);
		c->out = o;
		c->out_len += len;
	}
	free(buf);
	return o != NULL;
}

/* Queue rep (its body freed) as the answer to the current request. */
static bool queue_reply(struct api_conn *c, struct api_reply *rep, const char *allow)
{
	size_t len = rep->body ? strlen(rep->body) : 0, n;
	char *buf;

	if (rep->body && !strcmp(rep->ctype, "application/json")) {
		char *with_nl = realloc(rep->body, len + 2);

		if (with_nl) { /* curl users see the prompt on its own line */
			rep->body = with_nl;
			rep->body[len++] = '\n';
			rep->body[len] = '\0';
		}
	}
	buf = http_format(rep->status, rep->ctype, rep->body, len, allow, c->close_after, &n);
	free(rep->body);
	rep->body = NULL;
	return queue_out(c, buf, n);
}

static bool queue_error(struct api_conn *c, int status, const char *msg, const char *allow)
{
	struct api_reply rep;

	api_reply_error(&rep, status, msg);
	return queue_reply(c, &rep, allow);
}

/* Answer the request the parser holds. */
static bool answer(struct api_conn *c)
{
	struct http_request *rq = &c->h.rq;
	const struct api_route *r;
	struct api_reply rep = {0};
	struct json_object *body = NULL;
	struct err e = {""};
	char allow[32], msg[300];
	int status;

	if (!rq->keep_alive)
		c->close_after = true;
	if (rq->too_big)
		return queue_error(c, 413, HTTP_BODY_TOO_LARGE, NULL);
	r = api_route_find(rq->method, rq->path, &status, allow, sizeof(allow));
	if (!r) {
		if (status == 405)
			snprintf(msg, sizeof(msg),
				 "method %.16s is not allowed on %.200s (allowed: %s)", rq->method,
				 rq->path, allow);
		else
			snprintf(msg, sizeof(msg), "no such endpoint: %.200s", rq->path);
		return queue_error(c, status, msg, status == 405 ? allow : NULL);
	}
	if (api_parse_body(rq->body ? rq->body : "", rq->len, &body, &e))
		return queue_error(c, 400, e.msg, NULL);
	api_handle(c->a, r, body, &rep);
	json_object_put(body);
	if (rep.stop_after) {
		c->stop_after = true;
		c->op = r->op;
	}
	return queue_reply(c, &rep, NULL);
}

/* Carry out a stop an answer announced (shutdown, reboot), once. */
static void do_stop(struct api_conn *c)
{
	if (!c->stop_after)
		return;
	c->stop_after = false;
	if (c->op == OP_REBOOT) {
		atomic_store(&c->a->vm->life.restart, true);
		vm_request_stop(c->a->vm, VM_STOP_REBOOT, 0);
	} else {
		vm_request_stop(c->a->vm, VM_STOP_API_SHUTDOWN, 0);
	}
}

/* Watch the listening socket again (on) or leave new clients in its backlog (off). */
static void set_accepting(struct api *a, bool on)
{
	if (a->accept_paused == !on)
		return;
	if (watch(a, EPOLL_CTL_MOD, a->p.listen_fd, on ? EPOLLIN : 0, NULL) == 0)
		a->accept_paused = !on;
}

static void conn_free(struct api_conn *c)
{
	struct api *a = c->a;

	close(c->fd); /* leaves a->epfd by itself */
	if (c->prev)
		c->prev->next = c->next;
	else
		a->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	a->nconns--;
	if (a->nconns < API_MAX_CONN)
		set_accepting(a, true);
	http_conn_free(&c->h);
	free(c->out);
	free(c);
}

/* The client left or must go: a stop its request announced still happens. */
static void conn_close(struct api_conn *c)
{
	do_stop(c);
	conn_free(c);
}

/* Write what is queued. false when the connection was closed. */
static bool flush(struct api_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!c->writing && watch(c->a, EPOLL_CTL_MOD, c->fd, EPOLLOUT, c) == 0)
				c->writing = true;
			return true;
		}
		if (n <= 0) {
			conn_close(c);
			return false;
		}
		c->out_off += (size_t)n;
		c->last = mono_ns();
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	do_stop(c);
	if (c->close_after) {
		conn_free(c);
		return false;
	}
	if (c->writing && watch(c->a, EPOLL_CTL_MOD, c->fd, EPOLLIN, c) == 0)
		c->writing = false;
	return true;
}

/* Parse and answer everything in buf. false when the connection was closed. */
static bool process(struct api_conn *c, const char *buf, size_t len)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	size_t off = 0;

	while (off < len && !c->close_after) {
		enum http_step step;
		bool ok = true;

		off += http_conn_feed(&c->h, buf + off, len - off, &step);
		if (step == HTTP_STEP_REQUEST) {
			ok = answer(c);
			http_conn_next(&c->h);
		} else if (step == HTTP_STEP_CONTINUE) {
			ok = queue_out(c, strdup(cont), sizeof(cont) - 1);
		} else if (step == HTTP_STEP_FAIL) {
			c->close_after = true;
			ok = queue_error(c, c->h.rq.fail_status, c->h.rq.fail_msg, NULL);
		} else {
			break;
		}
		if (!ok) {
			conn_close(c);
			return false;
		}
	}
	return flush(c);
}

static void on_conn(struct api_conn *c, uint32_t events)
{
	char buf[API_READ_BUF];
	ssize_t n;

	if (c->writing) { /* answers are waiting (a hang-up shows as a failed send) */
		flush(c);
		return;
	}
	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->last = mono_ns();
	process(c, buf, (size_t)n);
}

/* Close connections silent for API_CONN_TIMEOUT_S; the tick runs while any is open. */
static void on_tick(void *opaque, uint32_t events)
{
	struct api *a = opaque;
	int64_t t = mono_ns();
	uint64_t n;

	if (read(a->timer_fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing */
	}
	for (struct api_conn *c = a->conns, *next; c; c = next) {
		next = c->next;
		if (t - c->last >= API_CONN_TIMEOUT_S * 1000000000LL)
			conn_close(c);
	}
	if (a->nconns < API_MAX_CONN)
		set_accepting(a, true); /* after EMFILE: try again */
	if (!a->conns && !a->accept_paused)
		timerfd_settime(a->timer_fd, 0, &(struct itimerspec){{0, 0}, {0, 0}}, NULL);
}

/* Start the 1 s tick (idle timeouts, a paused accept) if it is not running. */
static void arm_tick(struct api *a)
{
	struct itimerspec cur;

	if (timerfd_gettime(a->timer_fd, &cur) == 0 && !cur.it_interval.tv_sec)
		timerfd_settime(a->timer_fd, 0, &(struct itimerspec){{1, 0}, {1, 0}}, NULL);
}

static void on_accept(struct api *a)
{

	for (;;) {
		struct api_conn *c;
		int fd;

		if (a->nconns >= API_MAX_CONN) {
			set_accepting(a, false); /* until a slot frees */
			return;
		}
		fd = accept4(a->p.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
			/* out of descriptors or memory: wait until a connection closes, or the
			 * next tick, instead of spinning on a socket that stays readable */
			set_accepting(a, false);
			arm_tick(a);
			return;
		}
		if (fd < 0)
			return;
		if (!(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		c->a = a;
		c->fd = fd;
		c->last = mono_ns();
		http_conn_init(&c->h);
		if (watch(a, EPOLL_CTL_ADD, fd, EPOLLIN, c)) {
			http_conn_free(&c->h);
			free(c);
			close(fd);
			continue;
		}
		arm_tick(a);
		c->next = a->conns;
		if (a->conns)
			a->conns->prev = c;
		a->conns = c;
		a->nconns++;
	}
}

/* The API's epoll set is one watch of the VM's loop (the loop's own table is small). */
static void on_events(void *opaque, uint32_t events)
{
	struct api *a = opaque;
	struct epoll_event ev[64];
	int n = epoll_wait(a->epfd, ev, 64, 0);

	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr)
			on_conn(ev[i].data.ptr, ev[i].events);
		else
			on_accept(a);
	}
}

static void api_destroy(void *opaque)
{
	struct api *a = opaque;

	/* The loop has been destroyed (vm_destroy): nothing else touches the connections. The
	 * listening socket stays open for the next VM (--on-reboot restart). */
	while (a->conns)
		conn_free(a->conns);
	if (a->timer_fd >= 0)
		close(a->timer_fd);
	if (a->epfd >= 0)
		close(a->epfd);
	free(a->config_json);
	free(a);
}

int api_start(struct vm *vm, const struct api_params *p, struct err *e)
{
	struct api *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return errf(e, -ENOMEM, "out of memory");
	a->vm = vm;
	a->p = *p;
	snprintf(a->name, sizeof(a->name), "%s", p->name);
	snprintf(a->socket_path, sizeof(a->socket_path), "%s", p->socket_path);
	a->p.name = a->name;
	a->p.socket_path = a->socket_path;
	a->config_json = vm_config_to_json(&vm->cfg, false); /* the --config file format */
	a->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->timer_fd < 0 || a->epfd < 0 || !a->config_json) {
		ret = errf(e, a->config_json ? -errno : -ENOMEM, "cannot set up the API: %s",
			   a->config_json ? strerror(errno) : "out of memory");
		api_destroy(a);
		return ret;
	}
	ret = vm_add_device(vm, "api", a, api_destroy);
	if (ret) {
		api_destroy(a);
		return errf(e, ret, "out of memory");
	}
	if ((ret = watch(a, EPOLL_CTL_ADD, p->listen_fd, EPOLLIN, NULL)) ||
	    (ret = loop_add(vm->loop, a->timer_fd, EPOLLIN, on_tick, a)) ||
	    (ret = loop_add(vm->loop, a->epfd, EPOLLIN, on_events, a)))
		return errf(e, ret, "cannot watch the API socket: %s", strerror(-ret));
	return 0;
}
