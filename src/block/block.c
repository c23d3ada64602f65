/* block.c: driver lookup, the probe chain and the checked block_* entry points. */
#include "block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

static int default_fsync(int fd) { return fdatasync(fd); }

const struct block_io block_io_default = {
	.pread = pread,
	.pwrite = pwrite,
	.fsync = default_fsync,
};

const struct block_ops *const block_drivers[] = {&block_vhdx_ops, &block_vhd_ops, &block_raw_ops,
							      NULL};

const struct block_ops *block_find(const char *name)
{
	if (!strcmp(name, "vpc"))
		name = "vhd";
	for (size_t i = 0; block_drivers[i]; i++)
		if (!strcmp(block_drivers[i]->name, name))
			return block_drivers[i];
	return NULL;
}

int block_fd_size(int fd, uint64_t *out)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, out) ? -errno : 0;
	*out = (uint64_t)st.st_size;
	return 0;
}

int block_create_fd(const char *path, bool overwrite, bool *created, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	*created = fd >= 0;
	if (fd < 0 && errno == EEXIST && overwrite)
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 && errno == EEXIST)
		return errf(e, -EEXIST, "%s: already exists", path);
	return fd >= 0 ? fd : errf(e, -errno, "%s: %s", path, strerror(errno));
}

int block_pread_full(const struct block_io *io, int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = io->pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int block_pwrite_full(const struct block_io *io, int fd, const void *buf, size_t len,
		      uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = io->pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Read the probe window of fd: head (BLOCK_PROBE_HEAD bytes) and tail (512), zero-padded. */
static int read_window(const struct block_io *io, int fd, uint64_t fsize, uint8_t *head,
		       size_t *hl, uint8_t *tail, size_t *tl)
{
	int ret;

	*hl = fsize < BLOCK_PROBE_HEAD ? (size_t)fsize : BLOCK_PROBE_HEAD;
	*tl = fsize < BLOCK_SECTOR ? (size_t)fsize : BLOCK_SECTOR;
	ret = block_pread_full(io, fd, head, *hl, 0);
	return ret ? ret : block_pread_full(io, fd, tail, *tl, fsize - *tl);
}

/* The driver for fd in *out: 0, or -errno with "PATH: why" in e. */
static int probe_fd(const struct block_io *io, int fd, const char *path,
		    const struct block_ops **out, const char **known_fmt, struct err *e)
{
	uint8_t head[BLOCK_PROBE_HEAD] = {0}, tail[BLOCK_SECTOR] = {0};
	const struct block_ops *ops;
	const char *known, *why;
	uint64_t fsize;
	size_t hl, tl;
	int ret = block_fd_size(fd, &fsize);

	if (!ret)
		ret = read_window(io, fd, fsize, head, &hl, tail, &tl);
	if (ret)
		return errf(e, ret, "%s: cannot read the file: %s", path, strerror(-ret));
	*out = ops = block_probe_buf(head, hl, tail, tl, &known, &why);
	if (known_fmt)
		*known_fmt = known;
	return ops ? 0 : errf(e, -EMEDIUMTYPE, "%s: %s", path, why);
}

const struct block_ops *block_probe(const char *path, const char **known_fmt, struct err *e)
{
	const struct block_ops *ops = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (known_fmt)
		*known_fmt = NULL;
	if (fd < 0) {
		errf(e, -errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	probe_fd(&block_io_default, fd, path, &ops, known_fmt, e);
	close(fd);
	return ops;
}

int block_open(const char *path, const char *format, const struct block_open_opts *o,
	       struct block_dev **out, struct err *e)
{
	static const struct block_open_opts defaults;
	const struct block_ops *ops = NULL;
	struct block_dev *bd;
	struct stat st;
	int ret;

	if (!o)
		o = &defaults;
	if (format && !(ops = block_find(format)))
		return errf(e, -EINVAL, "unknown format '%s'", format);
	if (strlen(path) >= sizeof(bd->path))
		return errf(e, -ENAMETOOLONG, "%s: path too long", path);
	bd = calloc(1, sizeof(*bd));
	if (!bd)
		return errf(e, -ENOMEM, "%s: out of memory", path);
	bd->io = o->io ? *o->io : block_io_default;
	bd->flags = o->flags;
	bd->logical_sector = BLOCK_SECTOR;
	strcpy(bd->path, path);
	bd->fd = open(path, (o->flags & BLOCK_RDWR ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (bd->fd < 0) {
		ret = errf(e, -errno, "%s: %s", path, strerror(errno));
		goto free_bd;
	}
	if (fstat(bd->fd, &st)) {
		ret = errf(e, -errno, "%s: %s", path, strerror(errno));
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		ret = errf(e, -EINVAL, "%s: not a regular file or block device", path);
		goto close_fd;
	}
	if (!ops) {
		bd->probed = true;
		ret = probe_fd(&bd->io, bd->fd, path, &ops, NULL, e);
		if (ret)
			goto close_fd;
	}
	bd->ops = ops;
	ret = ops->open(bd, o, e);
	if (ret)
		goto close_fd;
	*out = bd;
	return 0;
close_fd:
	close(bd->fd);
free_bd:
	free(bd);
	return ret;
}

static int check_io(const struct block_dev *bd, size_t len, uint64_t off)
{
	if (off % BLOCK_SECTOR || len % BLOCK_SECTOR || off > bd->size || len > bd->size - off)
		return -EINVAL;
	return 0;
}

int block_read(struct block_dev *bd, void *buf, size_t len, uint64_t off)
{
	int ret = check_io(bd, len, off);

	return ret ? ret : len ? bd->ops->read(bd, buf, len, off) : 0;
}

/* Copy the part of the write [off, off+len) that falls in [at, at+n) into win. */
static void overlay(uint8_t *win, uint64_t at, size_t n, const uint8_t *buf, size_t len,
		    uint64_t off)
{
	uint64_t lo = off > at ? off : at, hi = off + len < at + n ? off + len : at + n;

	if (lo < hi)
		memcpy(win + (lo - at), buf + (lo - off), (size_t)(hi - lo));
}

/* A probed raw disk keeps probing as raw: see block_write. */
static int probe_guard(struct block_dev *bd, const void *buf, size_t len, uint64_t off)
{
	uint8_t head[BLOCK_PROBE_HEAD] = {0}, tail[BLOCK_SECTOR] = {0};
	const char *known, *why;
	const struct block_ops *ops;
	uint64_t fsize;
	size_t hl, tl;
	int ret;

	if (!bd->probed || bd->ops != &block_raw_ops ||
	    (off >= BLOCK_PROBE_HEAD && off + len + BLOCK_SECTOR <= bd->size))
		return 0; /* the common case: no system call */
	ret = block_fd_size(bd->fd, &fsize);
	if (ret)
		return ret;
	if (off >= BLOCK_PROBE_HEAD && off + len + BLOCK_SECTOR <= fsize)
		return 0;
	ret = read_window(&bd->io, bd->fd, fsize, head, &hl, tail, &tl);
	if (ret)
		return ret;
	overlay(head, 0, hl, buf, len, off);
	overlay(tail, fsize - tl, tl, buf, len, off);
	ops = block_probe_buf(head, hl, tail, tl, &known, &why);
	if (ops == &block_raw_ops)
		return 0;
	return errf(&bd->last_err, -EPERM, "%s: write at offset %" PRIu64 " refused: the disk's "
		    "format was probed as raw, and this data would make it open as %s next time "
		    "(give format=raw to allow it)", bd->path, off, ops ? ops->name : known);
}

int block_write(struct block_dev *bd, const void *buf, size_t len, uint64_t off)
{
	int ret = check_io(bd, len, off);

	if (!(bd->flags & BLOCK_RDWR))
		return -EROFS;
	if (!ret && len)
		ret = probe_guard(bd, buf, len, off);
	return ret ? ret : len ? bd->ops->write(bd, buf, len, off) : 0;
}

int block_flush(struct block_dev *bd)
{
	if (!(bd->flags & BLOCK_RDWR))
		return 0;
	return bd->ops->flush(bd);
}

int block_discard(struct block_dev *bd, uint64_t off, uint64_t len)
{
	if (!(bd->flags & BLOCK_RDWR))
		return -EROFS;
	if (off % BLOCK_SECTOR || len % BLOCK_SECTOR || off > bd->size || len > bd->size - off)
		return -EINVAL;
	return bd->ops->discard ? bd->ops->discard(bd, off, len) : 0;
}

int block_map(struct block_dev *bd, uint64_t off, uint64_t len, bool write, struct block_map *m)
{
	int ret = check_io(bd, len, off);

	if (ret || !len)
		return ret ? ret : -EINVAL;
	if (write && !(bd->flags & BLOCK_RDWR))
		return -EROFS;
	*m = (struct block_map){.kind = BLOCK_MAP_SLOW, .fd = -1, .len = len};
	/* a probed raw disk's probe window goes through probe_guard */
	if (write && bd->probed && bd->ops == &block_raw_ops &&
	    (off < BLOCK_PROBE_HEAD || off + len + BLOCK_SECTOR > bd->size)) {
		if (off >= BLOCK_PROBE_HEAD)
			return 0;
		m->len = BLOCK_PROBE_HEAD - off < len ? BLOCK_PROBE_HEAD - off : len;
		return 0;
	}
	return bd->ops->map ? bd->ops->map(bd, off, len, write, m) : 0;
}

uint64_t block_size(const struct block_dev *bd) { return bd->size; }

uint32_t block_logical_sector(const struct block_dev *bd) { return bd->logical_sector; }

int block_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *run)
{
	if (off >= bd->size || len > bd->size - off)
		return -EINVAL;
	if (!bd->ops->status) {
		*run = len;
		return 1;
	}
	return bd->ops->status(bd, off, len, run);
}

void block_get_info(struct block_dev *bd, struct block_info *out)
{
	memset(out, 0, sizeof(*out));
	bd->ops->info(bd, out);
}

void block_close(struct block_dev *bd)
{
	if (!bd)
		return;
	bd->ops->close(bd);
	close(bd->fd);
	free(bd);
}
