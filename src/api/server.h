/* server.h: what the HTTP glue (server.c) and the handlers (handlers.c) share. */
#ifndef TV_API_SERVER_H
#define TV_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "api/routes.h"

struct api_conn;

struct api {
	struct vm *vm;
	int epfd;		/* the listening socket and every connection; one loop watch */
	struct api_conn *conns; /* open connections (server.c) */
	unsigned nconns;
	bool accept_paused; /* API_MAX_CONN are open: listen_fd is not watched */
	int timer_fd;	    /* a 1 s tick while connections are open (idle timeouts) */
	struct api_params p;
	char name[80];
	char socket_path[120];
	char *config_json; /* the effective configuration, rendered once */
};

/* One answer: status, body (malloc'd or NULL) and its content type. */
struct api_reply {
	int status;
	char *body;
	const char *ctype;
	bool stop_after; /* stop the VM once this answer is sent (shutdown, reboot) */
};

/* Carry out route r with body (a JSON object or NULL) and fill rep. Event-loop thread. */
void api_handle(struct api *a, const struct api_route *r, struct json_object *body,
		struct api_reply *rep);

/* rep = status with {"error": msg} */
void api_reply_error(struct api_reply *rep, int status, const char *msg);

/* Prometheus text for a, malloc'd (NULL when out of memory). */
char *api_metrics_text(struct api *a);

#endif
