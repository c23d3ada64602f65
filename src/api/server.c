/* server.c: libmicrohttpd on the API socket, driven by the VM's event loop (external epoll
 * mode: libmicrohttpd's epoll fd is one watch of the loop, a timerfd covers its timeouts).
 * Limits keep a slow or hostile client from holding anything up: at most API_MAX_CONN
 * connections, API_CONN_TIMEOUT_S of silence closes one, headers beyond API_HEADER_MEM get 431,
 * bodies beyond API_BODY_MAX get 413. Every handler is short and never blocks on a client. */
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api/server.h"
#include "util/log.h"
#include "vm/loop.h"
#include "vm/vm.h"

#define API_MAX_CONN 512
#define API_CONN_TIMEOUT_S 10
#define API_HEADER_MEM (32u << 10)
/* An oversized body is read and dropped up to this much, so the client, still sending, reads
 * the 413 instead of a reset; beyond it the connection is closed at once. */
#define API_DISCARD_MAX (16u << 20)

/* One request in progress. */
struct req {
	size_t len, cap;
	size_t dropped; /* bytes of an oversized body read and dropped */
	char *body;   /* grown as the body arrives, at most API_BODY_MAX */
	bool too_big;
	bool stop_after;
	enum api_op op;
};

/* Append a piece of the body; false when it would pass API_BODY_MAX (or memory ran out). */
static bool body_append(struct req *rq, const char *data, size_t n)
{
	if (rq->len + n > API_BODY_MAX)
		return false;
	if (rq->len + n > rq->cap) {
		size_t cap = rq->cap ? rq->cap : 1024;
		char *b;

		while (cap < rq->len + n)
			cap *= 2;
		if (!(b = realloc(rq->body, cap)))
			return false;
		rq->body = b;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	return true;
}

void api_reply_error(struct api_reply *rep, int status, const char *msg)
{
	struct json_object *o = json_object_new_object();

	rep->status = status;
	rep->ctype = "application/json";
	rep->body = NULL;
	if (!o)
		return;
	json_object_object_add(o, "error", json_object_new_string(msg));
	rep->body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct api_reply *rep,
				  const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len = rep->body ? strlen(rep->body) : 0;

	if (rep->body && !strcmp(rep->ctype, "application/json")) {
		char *with_nl = realloc(rep->body, len + 2);

		if (with_nl) { /* curl users see the prompt on its own line */
			rep->body = with_nl;
			rep->body[len++] = '\n';
			rep->body[len] = '\0';
		}
	}
	r = MHD_create_response_from_buffer(len, rep->body ? rep->body : (char *)"",
					    rep->body ? MHD_RESPMEM_MUST_FREE
						      : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(rep->body);
		return MHD_NO;
	}
	if (rep->body)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rep->ctype);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, (unsigned)rep->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result error_now(struct MHD_Connection *c, int status, const char *msg,
				 const char *allow)
{
	struct api_reply rep;

	api_reply_error(&rep, status, msg);
	return send_reply(c, &rep, allow);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_len, void **con_cls)
{
	struct api *a = cls;
	struct req *rq = *con_cls;
	const struct api_route *r;
	struct api_reply rep = {0};
	struct json_object *body = NULL;
	struct err e = {""};
	char allow[32], msg[300];
	int status;

	if (!rq) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		if (cl && strtoull(cl, NULL, 10) > API_DISCARD_MAX) {
			snprintf(msg, sizeof(msg), "request body too large (at most %u bytes)",
				 API_BODY_MAX);
			return error_now(c, 413, msg, NULL);
		}
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_len) {
		if (!rq->too_big && !body_append(rq, upload, *upload_len))
			rq->too_big = true;
		if (rq->too_big && (rq->dropped += *upload_len) > API_DISCARD_MAX)
			return MHD_NO; /* close: a client streaming without end */
		*upload_len = 0;
		return MHD_YES;
	}
	if (rq->too_big) {
		snprintf(msg, sizeof(msg), "request body too large (at most %u bytes)",
			 API_BODY_MAX);
		return error_now(c, 413, msg, NULL);
	}
	r = api_route_find(method, url, &status, allow, sizeof(allow));
	if (!r) {
		if (status == 405)
			snprintf(msg, sizeof(msg), "method %.16s is not allowed on %.200s (allowed: %s)",
				 method, url, allow);
		else
			snprintf(msg, sizeof(msg), "no such endpoint: %.200s", url);
		return error_now(c, status, msg, status == 405 ? allow : NULL);
	}
	if (api_parse_body(rq->body ? rq->body : "", rq->len, &body, &e))
		return error_now(c, 400, e.msg, NULL);
	api_handle(a, r, body, &rep);
	json_object_put(body);
	rq->stop_after = rep.stop_after;
	rq->op = r->op;
	return send_reply(c, &rep, NULL);
}

/* After an answer went out (or the client left): carry out a stop it announced. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct api *a = cls;
	struct req *rq = *con_cls;

	if (!rq)
		return;
	if (rq->stop_after) {
		if (rq->op == OP_REBOOT) {
			atomic_store(&a->vm->life.restart, true);
			vm_request_stop(a->vm, VM_STOP_REBOOT, 0);
		} else {
			vm_request_stop(a->vm, VM_STOP_API_SHUTDOWN, 0);
		}
	}
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

/* Run libmicrohttpd, then arm the timer for its next timeout. */
static void api_run(struct api *a)
{
	MHD_UNSIGNED_LONG_LONG ms;
	struct itimerspec it = {{0, 0}, {0, 0}};

	MHD_run(a->d);
	if (MHD_get_timeout(a->d, &ms) == MHD_YES) {
		it.it_value.tv_sec = (time_t)(ms / 1000);
		it.it_value.tv_nsec = (long)(ms % 1000) * 1000000 + 1; /* 0 would disarm */
	}
	timerfd_settime(a->timer_fd, 0, &it, NULL);
}

static void on_mhd(void *opaque, uint32_t events) { api_run(opaque); }

static void on_timer(void *opaque, uint32_t events)
{
	struct api *a = opaque;
	uint64_t n;

	if (read(a->timer_fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: re-armed meanwhile */
	}
	api_run(a);
}

static void api_destroy(void *opaque)
{
	struct api *a = opaque;

	/* The loop thread has ended: nothing else touches the daemon. Quiescing hands the
	 * listening socket back (it stays open for the next VM); stopping closes every
	 * connection. */
	if (a->d) {
		MHD_quiesce_daemon(a->d);
		MHD_stop_daemon(a->d);
	}
	if (a->timer_fd >= 0)
		close(a->timer_fd);
	free(a->config_json);
	free(a);
}

/* libmicrohttpd's own complaints (a client's bad request) are not the monitor's. */
static void mhd_log(void *cls, const char *fmt, va_list ap) {}

int api_start(struct vm *vm, const struct api_params *p, struct err *e)
{
	struct api *a = calloc(1, sizeof(*a));
	const union MHD_DaemonInfo *info;
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
	if (a->timer_fd < 0 || !a->config_json) {
		ret = errf(e, a->timer_fd < 0 ? -errno : -ENOMEM, "cannot set up the API: %s",
			   a->timer_fd < 0 ? strerror(errno) : "out of memory");
		api_destroy(a);
		return ret;
	}
	a->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				on_request, a, MHD_OPTION_LISTEN_SOCKET, p->listen_fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_MAX_CONN,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONN_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_HEADER_MEM,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	info = a->d ? MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info) {
		ret = errf(e, -EIO, "cannot start the API server (libmicrohttpd)");
		api_destroy(a);
		return ret;
	}
	a->mhd_fd = info->epoll_fd;
	ret = vm_add_device(vm, "api", a, api_destroy);
	if (ret) {
		api_destroy(a);
		return errf(e, ret, "out of memory");
	}
	if ((ret = loop_add(vm->loop, a->mhd_fd, EPOLLIN, on_mhd, a)) ||
	    (ret = loop_add(vm->loop, a->timer_fd, EPOLLIN, on_timer, a)))
		return errf(e, ret, "cannot watch the API socket: %s", strerror(-ret));
	return 0;
}
