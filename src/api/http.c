/* http.c: requests parsed and checked, answers formatted (http.h). */
#include "api/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct http_conn *conn_of(http_parser *p) { return p->data; }

/* Stop parsing with status and message; the callback returns its result. */
static int fail(http_parser *p, int status, const char *msg)
{
	struct http_request *rq = &conn_of(p)->rq;

	rq->fail_status = status;
	snprintf(rq->fail_msg, sizeof(rq->fail_msg), "%s", msg);
	return -1;
}

static int count_head(http_parser *p, size_t n)
{
	struct http_request *rq = &conn_of(p)->rq;

	rq->head_bytes += n;
	if (rq->head_bytes > HTTP_HEADER_MAX)
		return fail(p, 431, "request headers larger than 32768 bytes");
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct http_request *rq = &conn_of(p)->rq;

	if (count_head(p, n))
		return -1;
	if (rq->path_len + n > HTTP_PATH_MAX)
		return fail(p, 414, "request path longer than 1024 bytes");
	memcpy(rq->path + rq->path_len, at, n);
	rq->path_len += n;
	rq->path[rq->path_len] = '\0';
	return 0;
}

/* Only one header matters here, Expect: names and values may come in pieces. */
static int on_field(http_parser *p, const char *at, size_t n)
{
	struct http_request *rq = &conn_of(p)->rq;

	if (count_head(p, n))
		return -1;
	if (rq->in_value) {
		rq->in_value = false;
		rq->field_len = 0;
	}
	for (size_t i = 0; i < n && rq->field_len < sizeof(rq->field); i++)
		rq->field[rq->field_len++] = at[i];
	return 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
	struct http_request *rq = &conn_of(p)->rq;

	if (count_head(p, n))
		return -1;
	if (!rq->in_value) {
		rq->in_value = true;
		rq->header_is_expect = rq->field_len == 6 && !strncasecmp(rq->field, "expect", 6);
	}
	if (rq->header_is_expect && n >= 12 && !strncasecmp(at, "100-continue", 12))
		rq->expect_continue = true;
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct http_request *rq = &conn_of(p)->rq;
	char *q = strpbrk(rq->path, "?#");

	if (q)
		*q = '\0';
	snprintf(rq->method, sizeof(rq->method), "%s", http_method_str(p->method));
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > HTTP_DISCARD_MAX)
		return fail(p, 413, HTTP_BODY_TOO_LARGE);
	if (rq->expect_continue) {
		if ((p->flags & F_CONTENTLENGTH) && p->content_length > HTTP_BODY_MAX)
			return fail(p, 413, HTTP_BODY_TOO_LARGE);
		http_parser_pause(p, 1);
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct http_request *rq = &conn_of(p)->rq;

	if (!rq->too_big && rq->len + n <= HTTP_BODY_MAX) {
		if (rq->len + n + 1 > rq->cap) {
			size_t cap = rq->cap ? rq->cap : 1024;
			char *b;

			while (cap < rq->len + n + 1)
				cap *= 2;
			if (!(b = realloc(rq->body, cap)))
				return fail(p, 413, "request body too large (out of memory)");
			rq->body = b;
			rq->cap = cap;
		}
		memcpy(rq->body + rq->len, at, n);
		rq->len += n;
		rq->body[rq->len] = '\0';
		return 0;
	}
	rq->too_big = true;
	rq->dropped += n;
	if (rq->dropped > HTTP_DISCARD_MAX)
		return fail(p, 413, HTTP_BODY_TOO_LARGE);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http_request *rq = &conn_of(p)->rq;

	rq->keep_alive = http_should_keep_alive(p) && !p->upgrade;
	rq->expect_continue = false; /* the request is whole: nothing to wait for */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_conn_init(struct http_conn *c)
{
	memset(c, 0, sizeof(*c));
	http_parser_init(&c->p, HTTP_REQUEST);
	c->p.data = c;
}

static bool request_done(const struct http_conn *c)
{
	return c->rq.method[0] && !c->rq.expect_continue;
}

size_t http_conn_feed(struct http_conn *c, const char *data, size_t len, enum http_step *step)
{
	size_t n;
	enum http_errno err;

	if (c->rq.fail_status) {
		*step = HTTP_STEP_FAIL;
		return 0;
	}
	if (HTTP_PARSER_ERRNO(&c->p) == HPE_PAUSED)
		http_parser_pause(&c->p, 0);
	n = http_parser_execute(&c->p, &settings, data, len);
	err = HTTP_PARSER_ERRNO(&c->p);
	if (err == HPE_PAUSED) {
		if (request_done(c)) {
			*step = HTTP_STEP_REQUEST;
		} else {
			c->rq.expect_continue = false; /* answered once */
			*step = HTTP_STEP_CONTINUE;
		}
		return n;
	}
	if (err == HPE_OK && !(c->p.upgrade && request_done(c))) {
		*step = HTTP_STEP_MORE;
		return n;
	}
	if (err == HPE_OK) { /* an Upgrade request: answered, then the connection ends */
		*step = HTTP_STEP_REQUEST;
		return len;
	}
	if (!c->rq.fail_status) {
		c->rq.fail_status = 400;
		snprintf(c->rq.fail_msg, sizeof(c->rq.fail_msg), "malformed HTTP request: %s",
			 http_errno_description(err));
	}
	*step = HTTP_STEP_FAIL;
	return n;
}

void http_conn_next(struct http_conn *c)
{
	free(c->rq.body);
	memset(&c->rq, 0, sizeof(c->rq));
}

void http_conn_free(struct http_conn *c) { http_conn_next(c); }

static const char *reason(int status)
{
	static const struct {
		int status;
		const char *text;
	} t[] = {
	    {100, "Continue"},
	    {200, "OK"},
	    {204, "No Content"},
	    {400, "Bad Request"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {409, "Conflict"},
	    {413, "Content Too Large"},
	    {414, "URI Too Long"},
	    {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"},
	    {503, "Service Unavailable"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].status == status)
			return t[i].text;
	return "Unknown";
}

char *http_format(int status, const char *ctype, const char *body, size_t body_len,
		  const char *allow, bool close, size_t *out_len)
{
	char head[512];
	int h = snprintf(
	    head, sizeof(head), "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %zu\r\n%s%s%s%s\r\n",
	    status, reason(status), body_len ? "Content-Type: " : "", body_len ? ctype : "",
	    body_len ? "\r\n" : "", body_len, allow ? "Allow: " : "", allow ? allow : "",
	    allow ? "\r\n" : "", close ? "Connection: close\r\n" : "");
	char *out;

	if (h < 0 || (size_t)h >= sizeof(head))
		return NULL;
	out = malloc((size_t)h + body_len);
	if (!out)
		return NULL;
	memcpy(out, head, (size_t)h);
	if (body_len)
		memcpy(out + h, body, body_len);
	*out_len = (size_t)h + body_len;
	return out;
}
