/* events.h: the event monitor (--event-monitor path=FILE | fd=N): one JSON object per line,
 * as Cloud Hypervisor's --event-monitor writes them:
 *   {"timestamp":{"secs":S,"nanos":N},"source":"vm","event":"booted","properties":null}
 * timestamp: time since the monitor started (CLOCK_MONOTONIC). Events: booted, paused,
 * resumed, power-button, reset, shutdown. Written from the main thread and the event loop,
 * never from a vCPU thread. */
#ifndef TV_API_EVENTS_H
#define TV_API_EVENTS_H

#include "util/err.h"

struct events;

/* Pure: parse "path=FILE" (*path points into spec) or "fd=N" (*fd). 0 or -EINVAL with e. */
int events_parse_spec(const char *spec, const char **path, int *fd, struct err *e);

/* Open the event monitor for spec (NULL: *out = NULL, no events). path= truncates FILE.
 * Returns 0 or -errno with e. */
int events_open(struct events **out, const char *spec, struct err *e)
	__attribute__((warn_unused_result));

/* Append one event; props is a JSON object text or NULL. NULL ev: nothing. A failed write is
 * reported once on stderr and the monitor goes on. */
void events_emit(struct events *ev, const char *event, const char *props);

/* Close (a path= file; an fd= descriptor is left open) and free. NULL is fine. */
void events_close(struct events *ev);

#endif
