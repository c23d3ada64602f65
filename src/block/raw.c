/* raw.c: the raw format: the file is the disk. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/falloc.h>

#include "block/block.h"

static int raw_probe(const uint8_t *head, size_t hl, const uint8_t *tail, size_t tl)
{
	return 1; /* anything is a raw disk, as a last resort */
}

static int raw_open(struct block_dev *bd, const struct block_open_opts *o, struct err *e)
{
	uint64_t size;
	int ret = block_fd_size(bd->fd, &size);

	if (ret)
		return errf(e, ret, "%s: %s", bd->path, strerror(-ret));
	bd->size = size / BLOCK_SECTOR * BLOCK_SECTOR;
	return 0;
}

static int raw_read(struct block_dev *bd, void *buf, size_t len, uint64_t off)
{
	return block_pread_full(&bd->io, bd->fd, buf, len, off);
}

static int raw_write(struct block_dev *bd, const void *buf, size_t len, uint64_t off)
{
	return block_pwrite_full(&bd->io, bd->fd, buf, len, off);
}

static int raw_flush(struct block_dev *bd) { return bd->io.fsync(bd->fd) ? -errno : 0; }

static int raw_discard(struct block_dev *bd, uint64_t off, uint64_t len)
{
	if (fallocate(bd->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len))
		return errno == EOPNOTSUPP ? 0 : -errno;
	return 0;
}

static void raw_info(struct block_dev *bd, struct block_info *out)
{
	struct stat st;

	strcpy(out->format, "raw");
	out->virtual_size = bd->size;
	if (!fstat(bd->fd, &st)) {
		out->allocated = (uint64_t)st.st_blocks * 512;
		if (block_fd_size(bd->fd, &out->file_size))
			out->file_size = (uint64_t)st.st_size;
	}
}

static void raw_close(struct block_dev *bd) {}

static int raw_map(struct block_dev *bd, uint64_t off, uint64_t len, bool write,
		   struct block_map *m)
{
	*m = (struct block_map){.kind = BLOCK_MAP_DATA, .fd = bd->fd, .file_off = off, .len = len};
	return 0;
}

const struct block_ops block_raw_ops = {
	.name = "raw",
	.probe = raw_probe,
	.open = raw_open,
	.read = raw_read,
	.write = raw_write,
	.flush = raw_flush,
	.discard = raw_discard,
	.info = raw_info,
	.close = raw_close,
	.map = raw_map,
};
