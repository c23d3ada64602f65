/* blk_lock.c: the advisory lock that keeps two VMs from opening one writable image.
 *
 * An open-file-description lock (F_OFD_SETLK) on byte 0: write for a writable disk, read for a
 * read-only one, so readers share and a writer excludes everyone. It belongs to the open file
 * and goes with it, whatever else the process opens and closes. OFD locks do not name their
 * owner (F_OFD_GETLK reports pid -1), so each holder also takes a process-associated read lock
 * on byte 1: on a conflict F_GETLK on that byte names one holder's process. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "util/err.h"
#include "virtio/blk_lock.h"

int blk_lock(int fd, const char *path, bool writable, struct err *e)
{
	struct flock ofd = {.l_type = writable ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 1};
	struct flock who = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1};

	if (fcntl(fd, F_OFD_SETLK, &ofd) < 0) {
		if (errno != EAGAIN && errno != EACCES)
			return errf(e, -errno, "disk %s: cannot lock it: %s", path, strerror(errno));
		who.l_type = F_WRLCK;
		if (fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK && who.l_pid > 0)
			return errf(e, -EBUSY,
				    "disk %s is in use by another VM (process %d holds its lock)",
				    path, (int)who.l_pid);
		return errf(e, -EBUSY, "disk %s is in use by another VM", path);
	}
	/* only names us to others; losing it would only lose the PID in their message */
	(void)fcntl(fd, F_SETLK, &who);
	return 0;
}
