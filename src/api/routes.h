/* routes.h: the control API's route table (Cloud Hypervisor's paths) and the pure parts of
 * request handling: finding a route, checking a request body. */
#ifndef TV_API_ROUTES_H
#define TV_API_ROUTES_H

#include <stddef.h>

#include "util/err.h"
#include "vm/lifecycle.h"

struct json_object;

#define API_PREFIX "/api/v1/"

enum api_op {
	OP_PING,
	OP_INFO,
	OP_COUNTERS,
	OP_METRICS,
	OP_PAUSE,
	OP_RESUME,
	OP_POWER_BUTTON,
	OP_REBOOT,
	OP_SHUTDOWN,
	OP_VMM_SHUTDOWN,
};

struct api_route {
	const char *method;   /* "GET" or "PUT" */
	const char *path;     /* full path, e.g. "/api/v1/vm.info" */
	enum api_op op;
	int action;           /* the enum vm_action the state machine checks, or -1 */
	const char *summary;  /* one line, as in docs/API.md */
};

extern const struct api_route api_routes[];
extern const unsigned api_nroutes;

/* Pure: the route for method and path. NULL when there is none, with *status 404 (no such
 * path) or 405 (the path exists with other methods, listed in allow as "GET" / "PUT, GET"). */
const struct api_route *api_route_find(const char *method, const char *path, int *status,
				       char *allow, size_t allow_len);

/* Pure: check a request body. Empty (len 0, or only white space) is fine and gives *out NULL;
 * otherwise it must be one JSON object (then *out holds it; json_object_put it). Returns 0, or
 * -EINVAL with e saying why (the message of a 400 answer). */
int api_parse_body(const char *buf, size_t len, struct json_object **out, struct err *e);

/* Pure: the HTTP status of a state-machine verdict for route r in state s: 0 when allowed,
 * else 409 with e naming the request and the state. */
int api_verdict_status(enum vm_verdict v, const struct api_route *r, enum vm_state s,
		       struct err *e);

#endif
