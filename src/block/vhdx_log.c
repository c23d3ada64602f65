/* vhdx_log.c: header updates (both copies, the non-current one first) and replaying a log into
 * the file. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/vhdx.h"

static void step(struct block_dev *bd)
{
	if (bd->io.step)
		bd->io.step(bd->io.ctx, 0);
}

static int write_header(struct block_dev *bd, const struct vhdx_header *h, int slot)
{
	uint8_t *buf = malloc(VHDX_HEADER_SIZE);
	int ret;

	if (!buf)
		return -ENOMEM;
	vhdx_header_build(h, buf);
	ret = block_pwrite_full(&bd->io, bd->fd, buf, VHDX_HEADER_SIZE,
				slot ? VHDX_HEADER2_OFF : VHDX_HEADER1_OFF);
	free(buf);
	if (!ret && bd->io.fsync(bd->fd))
		ret = -errno;
	return ret;
}

int vhdx_bump_headers(struct block_dev *bd, bool data, const vhdx_guid *log_guid)
{
	struct vhdx *v = bd->priv;
	struct vhdx_header h = v->hdr;
	int other = 1 - v->cur, ret;

	h.seq++;
	vhdx_guid_random(&h.file_write);
	if (data)
		vhdx_guid_random(&h.data_write);
	if (log_guid)
		h.log_guid = *log_guid;
	/* Only the non-current copy is written (and flushed before any data changes): until it is
	 * complete the current one stands, and once it is, its larger sequence number makes it the
	 * current one. The old copy stays valid, one update behind. */
	ret = write_header(bd, &h, other);
	if (ret)
		return ret;
	step(bd);
	v->hdr = h;
	v->cur = other;
	v->hdr_bad[other] = false;
	if (data)
		v->guids_bumped = true;
	return 0;
}

static int write_zeros(struct block_dev *bd, uint64_t off, uint64_t len)
{
	static const size_t chunk = VHDX_MiB;
	uint8_t *z = calloc(1, chunk);
	int ret = z ? 0 : -ENOMEM;

	while (!ret && len) {
		size_t n = len < chunk ? (size_t)len : chunk;

		ret = block_pwrite_full(&bd->io, bd->fd, z, n, off);
		off += n;
		len -= n;
	}
	free(z);
	return ret;
}

int vhdx_log_apply(struct block_dev *bd, struct vhdx *v, const struct vhdx_log_replay *r,
		   struct err *e)
{
	static const vhdx_guid zero;
	uint64_t size;
	int ret = 0;

	for (uint32_t i = 0; i < r->nops && !ret; i++) {
		const struct vhdx_log_op *op = &r->ops[i];

		ret = op->data ? block_pwrite_full(&bd->io, bd->fd, op->data, op->len, op->off) :
				 write_zeros(bd, op->off, op->len);
		if (!ret)
			step(bd);
	}
	if (!ret && r->last_end > v->file_size && ftruncate(bd->fd, (off_t)r->last_end))
		ret = -errno;
	if (!ret && bd->io.fsync(bd->fd))
		ret = -errno;
	if (ret)
		return errf(e, ret, "%s: replaying the log: %s", bd->path, strerror(-ret));
	ret = block_fd_size(bd->fd, &size);
	if (!ret) {
		v->file_size = size;
		ret = vhdx_bump_headers(bd, false, &zero);
	}
	if (ret)
		return errf(e, ret, "%s: clearing the log: %s", bd->path, strerror(-ret));
	v->log_replayed = true;
	return 0;
}
