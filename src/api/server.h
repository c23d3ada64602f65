/* server.h: what the HTTP glue (server.c) and the handlers (handlers.c) share. */
#ifndef TV_API_SERVER_H
#define TV_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "api/routes.h"

struct MHD_Daemon;

struct api {
	struct vm *vm;
	struct MHD_Daemon *d;
	int mhd_fd;    /* libmicrohttpd's epoll fd, watched by the VM's loop */
	int timer_fd;  /* when libmicrohttpd wants to run again (timeouts) */
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
	bool stop_after;  /* stop the VM once this answer is sent (shutdown, reboot) */
};

/* Carry out route r with body (a JSON object or NULL) and fill rep. Event-loop thread. */
void api_handle(struct api *a, const struct api_route *r, struct json_object *body,
		struct api_reply *rep);

/* rep = status with {"error": msg} */
void api_reply_error(struct api_reply *rep, int status, const char *msg);

/* Prometheus text for a, malloc'd (NULL when out of memory). */
char *api_metrics_text(struct api *a);

#endif
