/* fuzz_api.c: the control API's request parsing: request bodies (api_parse_body) and routing
 * of any method and path (api_route_find). Input: METHOD \n PATH \n BODY. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *method, *path, *body, *nl;
	struct json_object *o;
	struct err e;
	char allow[32];
	int status;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	method = buf;
	path = body = buf + size;
	if ((nl = memchr(buf, '\n', size))) {
		*nl = '\0';
		path = nl + 1;
		if ((nl = strchr(path, '\n'))) {
			*nl = '\0';
			body = nl + 1;
		}
	}
	if (!api_route_find(method, path, &status, allow, sizeof(allow)) && status != 404 &&
	    status != 405)
		abort();
	if (api_parse_body(body, (size_t)(buf + size - body), &o, &e) == 0) {
		if (o && !json_object_is_type(o, json_type_object))
			abort();
		json_object_put(o);
	} else if (o || !e.msg[0]) {
		abort();
	}
	free(buf);
	return 0;
}
