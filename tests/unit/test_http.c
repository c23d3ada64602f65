/* test_http.c: the API's HTTP layer without sockets (src/api/http.c): requests whole and in
 * pieces of every size, pipelining, keep-alive, chunked bodies, 100-continue, every limit with
 * its exact message, malformed requests, and the answers' format. */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"

/* Feed s in pieces of at most chunk bytes; stop at the first step other than MORE. */
static enum http_step feed(struct http_conn *c, const char *s, size_t len, size_t chunk,
			   size_t *used)
{
	enum http_step st = HTTP_STEP_MORE;
	size_t off = 0;

	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		size_t k = http_conn_feed(c, s + off, n, &st);

		off += k;
		if (st != HTTP_STEP_MORE)
			break;
		assert_int_equal(k, n);
	}
	if (used)
		*used = off;
	return st;
}

static void test_simple_any_split(void **st)
{
	static const char req[] = "PUT /api/v1/vm.pause?x=1 HTTP/1.1\r\nHost: x\r\n"
				  "Content-Length: 7\r\n\r\n{\"a\":1}";

	for (size_t chunk = 1; chunk <= sizeof(req); chunk++) {
		struct http_conn c;
		size_t used;

		http_conn_init(&c);
		assert_int_equal(feed(&c, req, sizeof(req) - 1, chunk, &used), HTTP_STEP_REQUEST);
		assert_int_equal(used, sizeof(req) - 1);
		assert_string_equal(c.rq.method, "PUT");
		assert_string_equal(c.rq.path, "/api/v1/vm.pause");
		assert_int_equal(c.rq.len, 7);
		assert_string_equal(c.rq.body, "{\"a\":1}");
		assert_true(c.rq.keep_alive);
		assert_false(c.rq.too_big);
		http_conn_free(&c);
	}
}

static void test_pipelined_and_close(void **st)
{
	static const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
				  "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct http_conn c;
	enum http_step s;
	size_t n;

	http_conn_init(&c);
	n = http_conn_feed(&c, two, sizeof(two) - 1, &s);
	assert_int_equal(s, HTTP_STEP_REQUEST);
	assert_string_equal(c.rq.path, "/a");
	assert_true(c.rq.keep_alive);
	http_conn_next(&c);
	assert_int_equal(http_conn_feed(&c, two + n, sizeof(two) - 1 - n, &s), sizeof(two) - 1 - n);
	assert_int_equal(s, HTTP_STEP_REQUEST);
	assert_string_equal(c.rq.path, "/b");
	assert_false(c.rq.keep_alive);
	http_conn_free(&c);

	http_conn_init(&c); /* HTTP/1.0 without keep-alive */
	assert_int_equal(feed(&c, "GET /c HTTP/1.0\r\n\r\n", 19, 64, NULL), HTTP_STEP_REQUEST);
	assert_false(c.rq.keep_alive);
	http_conn_free(&c);
}

static void test_chunked(void **st)
{
	static const char req[] = "PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
	struct http_conn c;

	for (size_t chunk = 1; chunk < 20; chunk += 3) {
		http_conn_init(&c);
		assert_int_equal(feed(&c, req, sizeof(req) - 1, chunk, NULL), HTTP_STEP_REQUEST);
		assert_string_equal(c.rq.body, "{\"a\":1}");
		http_conn_free(&c);
	}
}

static void test_expect_continue(void **st)
{
	static const char head[] =
	    "PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
	static const char big[] =
	    "PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 70000\r\n\r\n";
	struct http_conn c;
	enum http_step s;

	char req[sizeof(head) + 2];
	size_t n;

	snprintf(req, sizeof(req), "%s{}", head);
	http_conn_init(&c);
	n = http_conn_feed(&c, head, sizeof(head) - 1, &s);
	assert_int_equal(s, HTTP_STEP_CONTINUE);
	/* the rest (at most the header's last byte) and then the body */
	assert_int_equal(http_conn_feed(&c, req + n, sizeof(req) - 1 - n, &s), sizeof(req) - 1 - n);
	assert_int_equal(s, HTTP_STEP_REQUEST);
	assert_string_equal(c.rq.body, "{}");
	http_conn_free(&c);

	http_conn_init(&c);
	assert_int_equal(feed(&c, big, sizeof(big) - 1, 1000, NULL), HTTP_STEP_FAIL);
	assert_int_equal(c.rq.fail_status, 413);
	assert_string_equal(c.rq.fail_msg, "request body too large (at most 65536 bytes)");
	http_conn_free(&c);
}

static void test_limits(void **st)
{
	struct http_conn c;
	size_t n = 100000;
	char *buf = malloc(n + 200);
	int k;

	/* a body over 64 KiB is read, dropped and answered 413 on a live connection */
	k = sprintf(buf, "PUT /x HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", n);
	memset(buf + k, 'a', n);
	http_conn_init(&c);
	assert_int_equal(feed(&c, buf, (size_t)k + n, 4096, NULL), HTTP_STEP_REQUEST);
	assert_true(c.rq.too_big);
	assert_true(c.rq.len <= HTTP_BODY_MAX);
	http_conn_free(&c);

	/* a Content-Length past what is worth dropping: 413 at once */
	http_conn_init(&c);
	k = sprintf(buf, "PUT /x HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n");
	assert_int_equal(feed(&c, buf, (size_t)k, 4096, NULL), HTTP_STEP_FAIL);
	assert_int_equal(c.rq.fail_status, 413);
	http_conn_free(&c);

	/* headers over 32 KiB */
	http_conn_init(&c);
	k = sprintf(buf, "GET /x HTTP/1.1\r\nX-Big: ");
	memset(buf + k, 'b', n);
	assert_int_equal(feed(&c, buf, (size_t)k + n, 1000, NULL), HTTP_STEP_FAIL);
	assert_int_equal(c.rq.fail_status, 431);
	assert_string_equal(c.rq.fail_msg, "request headers larger than 32768 bytes");
	/* and the connection stays failed */
	assert_int_equal(feed(&c, "x", 1, 1, NULL), HTTP_STEP_FAIL);
	http_conn_free(&c);

	/* a path over 1 KiB */
	http_conn_init(&c);
	k = sprintf(buf, "GET /");
	memset(buf + k, 'p', 2000);
	assert_int_equal(feed(&c, buf, (size_t)k + 2000, 100, NULL), HTTP_STEP_FAIL);
	assert_int_equal(c.rq.fail_status, 414);
	assert_string_equal(c.rq.fail_msg, "request path longer than 1024 bytes");
	http_conn_free(&c);
	free(buf);
}

static void test_malformed(void **st)
{
	static const char *const bad[] = {
	    "GARBAGE\r\n\r\n",
	    "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	    "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
	    "PUT / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
	    "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_conn c;

		http_conn_init(&c);
		assert_int_equal(feed(&c, bad[i], strlen(bad[i]), 64, NULL), HTTP_STEP_FAIL);
		assert_int_equal(c.rq.fail_status, 400);
		assert_true(!strncmp(c.rq.fail_msg, "malformed HTTP request: ", 24));
		http_conn_free(&c);
	}
}

static void test_format(void **st)
{
	size_t n;
	char *s = http_format(405, "application/json", "{}\n", 3, "GET", true, &n);
	static const char want[] =
	    "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\n"
	    "Content-Length: 3\r\nAllow: GET\r\nConnection: close\r\n\r\n{}\n";

	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(s, want, n);
	free(s);
	s = http_format(204, NULL, NULL, 0, NULL, false, &n);
	assert_int_equal(n, strlen("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"));
	assert_memory_equal(s, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", n);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_any_split), cmocka_unit_test(test_pipelined_and_close),
	    cmocka_unit_test(test_chunked),	     cmocka_unit_test(test_expect_continue),
	    cmocka_unit_test(test_limits),	     cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
