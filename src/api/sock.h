/* sock.h: the control API's Unix socket: where it lives, claiming it for one monitor, and
 * removing it. A lock file beside the socket (PATH.lock, flock held for the monitor's life)
 * makes the claim atomic: a live monitor holds the lock, a crashed one left a stale socket
 * that the next claim replaces. */
#ifndef TV_API_SOCK_H
#define TV_API_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

#include "util/err.h"

#define API_SOCK_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

struct api_sock {
	int fd;       /* listening, non-blocking; -1 when not claimed */
	int lock_fd;  /* flock'd PATH.lock */
	char path[API_SOCK_PATH_MAX];
	char lock_path[API_SOCK_PATH_MAX + 8];
};

/* The directory of default sockets: /run/thinvisor for root, $XDG_RUNTIME_DIR/thinvisor for
 * others. Returns 0, or -ENOENT when XDG_RUNTIME_DIR is unset for a non-root user, or
 * -ENAMETOOLONG. */
int api_sock_dir(char *buf, size_t len);

/* The default socket path of a VM called name: DIR/NAME.sock. 0 or -errno (e says why). */
int api_sock_default_path(const char *name, char *buf, size_t len, struct err *e);

/* Claim path (or, when path is NULL, the default path for name; the default directory is
 * created with mode 0700): take PATH.lock, replace a stale socket, bind and listen with mode
 * 0600. Returns 0, or -errno with one line in e: -EADDRINUSE when a running monitor holds the
 * name. */
int api_sock_claim(struct api_sock *s, const char *name, const char *path, struct err *e)
	__attribute__((warn_unused_result));

/* Remove the socket and its lock file and close both (no-op when not claimed). */
void api_sock_release(struct api_sock *s);

/* Pure: is name usable as a VM name in a socket file name (1-64 of [A-Za-z0-9._-], not
 * starting with '.')? */
bool api_name_ok(const char *name);

#endif
