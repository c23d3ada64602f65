/* block.c: driver lookup, the probe chain and the checked block_* entry points. */
#include "block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int default_fsync(int fd) { return fdatasync(fd); }

const struct block_io block_io_default = {
	.pread = pread,
	.pwrite = pwrite,
	.fsync = default_fsync,
};

static const struct block_ops *const drivers[] = {&block_vhd_ops, &block_raw_ops};
#define NDRIVERS (sizeof(drivers) / sizeof(drivers[0]))

const struct block_ops *block_find(const char *name)
{
	if (!strcmp(name, "vpc"))
		name = "vhd";
	for (size_t i = 0; i < NDRIVERS; i++)
		if (!strcmp(drivers[i]->name, name))
			return drivers[i];
	return NULL;
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

static const struct block_ops *probe_fd(const struct block_io *io, int fd, uint64_t fsize)
{
	uint8_t head[512] = {0}, tail[512] = {0};
	size_t hl = fsize < 512 ? (size_t)fsize : 512;
	const struct block_ops *best = NULL;
	int best_score = 0;

	if (block_pread_full(io, fd, head, hl, 0) || block_pread_full(io, fd, tail, hl, fsize - hl))
		return NULL;
	for (size_t i = 0; i < NDRIVERS; i++) {
		int s = drivers[i]->probe(head, hl, tail, hl);

		if (s > best_score) {
			best_score = s;
			best = drivers[i];
		}
	}
	return best;
}

const struct block_ops *block_probe(const char *path, struct err *e)
{
	const struct block_ops *ops;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		errf(e, -errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st)) {
		errf(e, -errno, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	ops = probe_fd(&block_io_default, fd, (uint64_t)st.st_size);
	close(fd);
	if (!ops)
		errf(e, -EINVAL, "%s: unknown image format", path);
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
	if (!ops)
		ops = probe_fd(&bd->io, bd->fd, (uint64_t)st.st_size);
	if (!ops) {
		ret = errf(e, -EIO, "%s: cannot read the file", path);
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

int block_write(struct block_dev *bd, const void *buf, size_t len, uint64_t off)
{
	int ret = check_io(bd, len, off);

	if (!(bd->flags & BLOCK_RDWR))
		return -EROFS;
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

uint64_t block_size(const struct block_dev *bd) { return bd->size; }

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
