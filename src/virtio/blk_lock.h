/* blk_lock.h: advisory locking of disk images between VMs (see blk_lock.c). */
#ifndef TV_BLK_LOCK_H
#define TV_BLK_LOCK_H

#include <stdbool.h>

#include "util/err.h"

/* Lock the image open as fd: shared when read-only, exclusive when writable. 0, or -EBUSY with
 * "disk PATH is in use by another VM (process PID holds its lock)" in e, or -errno. */
int blk_lock(int fd, const char *path, bool writable, struct err *e)
	__attribute__((warn_unused_result));

#endif
