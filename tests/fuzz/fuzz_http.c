/* fuzz_http.c: the API's HTTP layer (src/api/http.c) fed a byte stream as a client would send
 * it, in pieces whose sizes come from the input's first byte: every request must come out
 * within the limits, every failure with one of the documented statuses, and the parser must
 * always make progress. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_conn c;
	size_t chunk, off = 1;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
	http_conn_init(&c);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk, k;
		enum http_step st;

		k = http_conn_feed(&c, (const char *)data + off, n, &st);
		if (k > n)
			abort();
		off += k;
		if (st == HTTP_STEP_FAIL) {
			int s = c.rq.fail_status;

			if ((s != 400 && s != 413 && s != 414 && s != 431) || !c.rq.fail_msg[0])
				abort();
			break;
		}
		if (st == HTTP_STEP_REQUEST) {
			if (c.rq.len > HTTP_BODY_MAX || strlen(c.rq.path) > HTTP_PATH_MAX ||
			    !c.rq.method[0] || (c.rq.body && strlen(c.rq.body) > c.rq.len))
				abort();
			http_conn_next(&c);
		} else if (st == HTTP_STEP_MORE && k != n) {
			abort(); /* MORE means all of it was taken */
		}
	}
	http_conn_free(&c);
	return 0;
}
