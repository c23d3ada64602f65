/* events.c: the event monitor's JSON lines. */
#include "api/events.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

struct events {
	int fd;
	bool owned;
	bool warned;
	struct timespec t0;
	pthread_mutex_t lock;
};

int events_parse_spec(const char *spec, const char **path, int *fd, struct err *e)
{
	char *end;
	long n;

	*path = NULL;
	*fd = -1;
	if (!strncmp(spec, "path=", 5) && spec[5]) {
		*path = spec + 5;
		return 0;
	}
	if (!strncmp(spec, "fd=", 3) && spec[3]) {
		errno = 0;
		n = strtol(spec + 3, &end, 10);
		if (!errno && !*end && n >= 0 && n < (1 << 20)) {
			*fd = (int)n;
			return 0;
		}
	}
	return errf(e, -EINVAL, "invalid --event-monitor '%s': expected path=FILE or fd=N", spec);
}

int events_open(struct events **out, const char *spec, struct err *e)
{
	struct events *ev;
	const char *path;
	int fd, ret;

	*out = NULL;
	if (!spec)
		return 0;
	ret = events_parse_spec(spec, &path, &fd, e);
	if (ret)
		return ret;
	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0)
			return errf(e, -errno, "cannot open the event monitor '%s': %s", path,
				    strerror(errno));
	} else if (fcntl(fd, F_GETFD) < 0) {
		return errf(e, -EBADF, "invalid --event-monitor '%s': descriptor %d is not open",
			    spec, fd);
	}
	ev = calloc(1, sizeof(*ev));
	if (!ev) {
		if (path)
			close(fd);
		return errf(e, -ENOMEM, "out of memory");
	}
	ev->fd = fd;
	ev->owned = path != NULL;
	clock_gettime(CLOCK_MONOTONIC, &ev->t0);
	pthread_mutex_init(&ev->lock, NULL);
	*out = ev;
	return 0;
}

void events_emit(struct events *ev, const char *event, const char *props)
{
	struct timespec now;
	char line[512];
	int64_t ns;
	int n;

	if (!ev)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (int64_t)(now.tv_sec - ev->t0.tv_sec) * 1000000000 + (now.tv_nsec - ev->t0.tv_nsec);
	n = snprintf(line, sizeof(line),
		     "{\"timestamp\":{\"secs\":%lld,\"nanos\":%lld},\"source\":\"vm\","
		     "\"event\":\"%s\",\"properties\":%s}\n",
		     (long long)(ns / 1000000000), (long long)(ns % 1000000000), event,
		     props ? props : "null");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	pthread_mutex_lock(&ev->lock);
	/* one write per line (O_APPEND for files): lines never interleave */
	if (write(ev->fd, line, (size_t)n) != n && !ev->warned) {
		ev->warned = true;
		log_warn("event monitor: write failed: %s", strerror(errno));
	}
	pthread_mutex_unlock(&ev->lock);
}

void events_close(struct events *ev)
{
	if (!ev)
		return;
	if (ev->owned)
		close(ev->fd);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}
