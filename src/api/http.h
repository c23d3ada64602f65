/* http.h: the HTTP/1.1 side of the control API, without sockets: requests are parsed with
 * http-parser (Debian's libhttp-parser) and checked against the API's limits; answers are
 * formatted here. The server (server.c) owns the sockets and feeds each connection's bytes in.
 * Pure: no I/O, no global state; tests/unit/test_http.c and tests/fuzz/fuzz_http.c drive it. */
#ifndef TV_API_HTTP_H
#define TV_API_HTTP_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEADER_MAX (32u << 10) /* request line and headers together: beyond, 431 */
#define HTTP_BODY_MAX (64u << 10)   /* a body beyond it is answered 413 */
/* An oversized body is read and dropped up to this much, so the client, still sending, reads
 * the 413 instead of a reset; a longer one (or a Content-Length beyond it) ends the
 * connection after the 413. */
#define HTTP_DISCARD_MAX (16u << 20)
#define HTTP_PATH_MAX 1024
#define HTTP_BODY_TOO_LARGE "request body too large (at most 65536 bytes)" /* the 413 message */

enum http_step {
	HTTP_STEP_MORE,	    /* everything consumed; waiting for more bytes */
	HTTP_STEP_REQUEST,  /* c->rq is a whole request: answer it, then http_conn_next */
	HTTP_STEP_CONTINUE, /* the client waits for "100 Continue" before sending its body */
	HTTP_STEP_FAIL,	    /* answer fail_status with fail_msg, then close the connection */
};

struct http_request {
	char method[16];
	char path[HTTP_PATH_MAX + 1]; /* without the query string */
	char *body;		      /* NUL-terminated, malloc'd; NULL when empty */
	size_t len, cap;
	bool too_big;	 /* the body passed HTTP_BODY_MAX and was dropped */
	bool keep_alive; /* the connection may carry another request */
	/* parser-private */
	size_t head_bytes, dropped, path_len;
	bool expect_continue, in_value, header_is_expect;
	char field[8];
	unsigned field_len;
	int fail_status;
	char fail_msg[160];
};

struct http_conn {
	http_parser p;
	struct http_request rq;
};

/* Start a connection's parser. */
void http_conn_init(struct http_conn *c);

/* Parse up to len bytes of data; returns how many were consumed and sets *step. After
 * HTTP_STEP_REQUEST or HTTP_STEP_CONTINUE, call again with the rest once the answer is queued;
 * after HTTP_STEP_FAIL the connection cannot go on. Fail statuses: 400 "malformed HTTP request:
 * WHY", 413 "request body too large (at most 65536 bytes)", 414 "request path longer than 1024
 * bytes", 431 "request headers larger than 32768 bytes". */
size_t http_conn_feed(struct http_conn *c, const char *data, size_t len, enum http_step *step);

/* Forget the request just answered (its body included); ready for the next one. */
void http_conn_next(struct http_conn *c);

/* Free what the connection holds. */
void http_conn_free(struct http_conn *c);

/* An HTTP/1.1 answer: status line, Content-Type (when body), Content-Length, Allow (when
 * allow), "Connection: close" (when close), then body. malloc'd, length in *out_len; NULL when
 * out of memory. */
char *http_format(int status, const char *ctype, const char *body, size_t body_len,
		  const char *allow, bool close, size_t *out_len);

#endif
