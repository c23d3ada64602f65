/* sock.c: claiming the control API's Unix socket. */
#include "api/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define API_BACKLOG 256

bool api_name_ok(const char *name)
{
	size_t n = 0;

	if (!name || name[0] == '.' || !name[0])
		return false;
	for (; name[n]; n++)
		if (!((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= 'A' && name[n] <= 'Z') ||
		      (name[n] >= '0' && name[n] <= '9') || strchr("._-", name[n])))
			return false;
	return n <= 64;
}

int api_sock_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, len, "/run/thinvisor");
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/thinvisor", xdg);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int api_sock_default_path(const char *name, char *buf, size_t len, struct err *e)
{
	char dir[API_SOCK_PATH_MAX];
	int ret = api_sock_dir(dir, sizeof(dir)), n;

	if (ret == -ENOENT)
		return errf(e, ret, "no directory for the API socket: XDG_RUNTIME_DIR is not set "
				    "(give --api-socket PATH)");
	if (!ret && !api_name_ok(name))
		return errf(e, -EINVAL, "invalid VM name '%s': 1-64 letters, digits, '.', '_' or "
					"'-', not starting with '.'", name);
	n = ret ? -1 : snprintf(buf, len, "%s/%s.sock", dir, name);
	if (n < 0 || (size_t)n >= len)
		return errf(e, -ENAMETOOLONG, "the API socket path for '%s' is too long", name);
	return 0;
}

/* mkdir -p for the default directory's last two levels, mode 0700; an existing directory
 * must belong to us. */
static int make_dir(const char *path, struct err *e)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return errf(e, -errno, "cannot create %s: %s", path, strerror(errno));
	if (stat(path, &st) < 0)
		return errf(e, -errno, "cannot use %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return errf(e, -EPERM, "cannot use %s: not a directory of this user", path);
	return 0;
}

/* Is something answering on the socket at path? */
static bool socket_live(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	memcpy(a.sun_path, path, strlen(path) + 1);
	live = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return live;
}

/* Take PATH.lock (exclusive, non-blocking) and make sure the file locked is the one at the
 * path (another monitor may have removed it between our open and flock). */
static int take_lock(struct api_sock *s, const char *name, struct err *e)
{
	for (int tries = 0; tries < 8; tries++) {
		struct stat a, b;
		int fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0)
			return errf(e, -errno, "cannot create %s: %s", s->lock_path,
				    strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int err = errno;

			close(fd);
			if (err == EWOULDBLOCK)
				return errf(e, -EADDRINUSE, "the name '%s' is in use by a running "
							    "monitor (API socket %s)", name, s->path);
			return errf(e, -err, "cannot lock %s: %s", s->lock_path, strerror(err));
		}
		if (fstat(fd, &a) == 0 && stat(s->lock_path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			s->lock_fd = fd;
			return 0;
		}
		close(fd);
	}
	return errf(e, -EAGAIN, "cannot lock %s: it keeps changing", s->lock_path);
}

int api_sock_claim(struct api_sock *s, const char *name, const char *path, struct err *e)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char dir[API_SOCK_PATH_MAX];
	struct stat st;
	int ret;

	s->fd = s->lock_fd = -1;
	if (path) {
		if (strlen(path) >= sizeof(s->path))
			return errf(e, -ENAMETOOLONG, "API socket path '%s' is too long (at most "
					"%zu bytes)", path, sizeof(s->path) - 1);
		memcpy(s->path, path, strlen(path) + 1);
	} else {
		ret = api_sock_default_path(name, s->path, sizeof(s->path), e);
		if (ret)
			return ret;
		if ((ret = api_sock_dir(dir, sizeof(dir))) || (ret = make_dir(dir, e)))
			return ret;
	}
	snprintf(s->lock_path, sizeof(s->lock_path), "%s.lock", s->path);
	ret = take_lock(s, name, e);
	if (ret)
		return ret;
	/* We hold the lock, so whatever is at the path is no live monitor's, unless a
	 * program other than thinvisor answers there. */
	if (lstat(s->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			ret = errf(e, -EEXIST, "cannot create the API socket %s: a file that is no "
					       "socket is in the way", s->path);
			goto unlock;
		}
		if (socket_live(s->path)) {
			ret = errf(e, -EADDRINUSE, "the API socket %s is in use by another program",
				   s->path);
			goto unlock;
		}
		unlink(s->path); /* stale: its monitor crashed */
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		ret = errf(e, -errno, "socket: %s", strerror(errno));
		goto unlock;
	}
	memcpy(a.sun_path, s->path, strlen(s->path) + 1);
	/* bind creates the node with ~umask; fchmod on a socket fd does not change it */
	mode_t old = umask(0177);
	ret = bind(s->fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (ret < 0 || listen(s->fd, API_BACKLOG) < 0) {
		ret = errf(e, -errno, "cannot create the API socket %s: %s", s->path,
			   strerror(errno));
		goto close_fd;
	}
	return 0;

close_fd:
	close(s->fd);
	s->fd = -1;
unlock:
	unlink(s->lock_path);
	close(s->lock_fd);
	s->lock_fd = -1;
	return ret;
}

void api_sock_release(struct api_sock *s)
{
	if (s->lock_fd < 0)
		return;
	if (s->fd >= 0) {
		unlink(s->path);
		close(s->fd);
	}
	unlink(s->lock_path); /* before the unlock: the next claim then locks a new file */
	close(s->lock_fd);
	s->fd = s->lock_fd = -1;
}
