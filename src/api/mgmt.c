/* mgmt.c: the API socket, event monitor and API server for `thinvisor run`. */
#include "api/mgmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/events.h"
#include "util/clock.h"
#include "util/log.h"
#include "vm/vm.h"

int mgmt_open(struct mgmt *m, const char *name, const char *event_spec)
{
	struct err e = {""};

	memset(m, 0, sizeof(*m));
	m->sock.fd = m->sock.lock_fd = -1;
	m->started_ns = (uint64_t)mono_ns();
	snprintf(m->name, sizeof(m->name), "%s", name);
	if (events_open(&m->events, event_spec, &e)) {
		log_err("%s", e.msg);
		return 1;
	}
	return 0;
}

int mgmt_attach(struct mgmt *m, struct vm *vm, const char *api_socket, bool restart)
{
	struct err e = {""};
	struct api_params p;

	if (!m->claimed) {
		if (api_sock_claim(&m->sock, m->name, api_socket, &e)) {
			log_err("%s", e.msg);
			return 1;
		}
		m->claimed = true;
	}
	p = (struct api_params){.listen_fd = m->sock.fd, .name = m->name,
				.socket_path = m->sock.path, .events = m->events,
				.started_ns = m->started_ns};
	if (api_start(vm, &p, &e)) {
		log_err("%s", e.msg);
		return 1;
	}
	if (restart)
		events_emit(m->events, "reset", NULL);
	events_emit(m->events, "booted", NULL);
	return 0;
}

void mgmt_close(struct mgmt *m, int status)
{
	char props[48];

	snprintf(props, sizeof(props), "{\"status\":%d}", status);
	events_emit(m->events, "shutdown", props);
	if (m->claimed)
		api_sock_release(&m->sock);
	m->claimed = false;
	events_close(m->events);
	m->events = NULL;
}
