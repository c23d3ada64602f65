/* api.h: the control API server: HTTP/1.1 + JSON on a Unix socket (http-parser), driven by
 * the VM's event loop; handlers never run on a vCPU thread. Routes in api/routes.c, endpoint
 * reference in docs/API.md. */
#ifndef TV_API_H
#define TV_API_H

#include <stdint.h>

#include "util/err.h"

struct vm;
struct events;

struct api_params {
	int listen_fd;            /* from api_sock_claim; stays open across api_start/stop */
	const char *name;         /* the VM's name */
	const char *socket_path;  /* shown in vm.info */
	struct events *events;    /* may be NULL */
	uint64_t started_ns;      /* CLOCK_MONOTONIC when the monitor started (uptime) */
};

/* Serve the API for vm on its event loop (before vm_run). The server is one of the VM's
 * devices: vm_destroy stops it after the loop thread ended, leaving listen_fd open for the
 * next VM (--on-reboot restart). Returns 0 or -errno with e. */
int api_start(struct vm *vm, const struct api_params *p, struct err *e)
	__attribute__((warn_unused_result));

#endif
