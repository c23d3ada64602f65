/* mgmt.h: what `thinvisor run` needs for management, in one place: the API socket (claimed
 * once per process), the event monitor, and the API server started on each VM it boots. */
#ifndef TV_API_MGMT_H
#define TV_API_MGMT_H

#include <stdint.h>

#include "api/sock.h"

struct vm;
struct events;

struct mgmt {
	struct api_sock sock;
	struct events *events;
	char name[72];
	uint64_t started_ns;
	bool claimed;
};

/* Before the first VM: remember name and the event-monitor spec (may be NULL), open the event
 * monitor. 0, or 1 after one error line. */
int mgmt_open(struct mgmt *m, const char *name, const char *event_spec);

/* After vm_create: claim the socket (the first time; api_socket NULL = the default path for the
 * name) and serve the API on vm; emit "booted" (or "reset" then "booted" on a restart).
 * 0, or 1 after one error line. */
int mgmt_attach(struct mgmt *m, struct vm *vm, const char *api_socket, bool restart);

/* Emit "shutdown" with the exit status, remove the socket, close everything. Every exit path
 * of `run` after mgmt_open comes here. */
void mgmt_close(struct mgmt *m, int status);

#endif
