/* blk_req.c: virtio-blk request parsing (blk_req.h). */
#include "virtio/blk_req.h"

#include <errno.h>
#include <string.h>

#include "util/bytes.h"

#define HDR_LEN 16
#define SEG_LEN 16
#define SECTOR 512u

/* Drop len bytes from the front of iov[0..*n) (entries may empty out). */
static struct iovec *trim_front(struct iovec *iov, unsigned *n, uint64_t len)
{
	while (*n && len) {
		if (iov->iov_len > len) {
			iov->iov_base = (uint8_t *)iov->iov_base + len;
			iov->iov_len -= len;
			return iov;
		}
		len -= iov->iov_len;
		iov++;
		(*n)--;
	}
	return iov;
}

int blk_req_parse(struct virtq_elem *e, struct blk_req_view *v)
{
	uint8_t hdr[HDR_LEN];
	struct iovec *last;
	unsigned nout = e->nout;

	memset(v, 0, sizeof(*v));
	if (e->out_len < HDR_LEN || e->in_len < 1)
		return -EINVAL;
	virtq_copy_from(e, 0, hdr, HDR_LEN);
	v->type = (uint32_t)le_get(hdr, 4);
	v->sector = le_get(hdr + 8, 8);
	last = &e->iov[e->nout + e->nin - 1];
	v->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	last->iov_len--; /* the status byte is not data */
	if (v->type == VIRTIO_BLK_T_IN || v->type == VIRTIO_BLK_T_GET_ID) {
		v->data = e->iov + e->nout;
		v->ndata = e->nin;
		v->data_len = e->in_len - 1;
	} else {
		v->data = trim_front(e->iov, &nout, HDR_LEN);
		v->ndata = nout;
		v->data_len = e->out_len - HDR_LEN;
	}
	/* entries the trimming emptied at the end */
	while (v->ndata && !v->data[v->ndata - 1].iov_len)
		v->ndata--;
	return 0;
}

uint8_t blk_req_check_rw(const struct blk_req_view *v, uint64_t capacity, bool readonly,
			 uint64_t *off)
{
	if (v->type == VIRTIO_BLK_T_OUT && readonly)
		return VIRTIO_BLK_S_IOERR;
	if (v->data_len % SECTOR || v->sector > capacity / SECTOR)
		return VIRTIO_BLK_S_IOERR;
	*off = v->sector * SECTOR;
	if (v->data_len > capacity - *off)
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

uint8_t blk_req_segment(const struct blk_req_view *v, unsigned i, uint64_t capacity,
			uint32_t max_sectors, struct blk_seg *s)
{
	uint8_t seg[SEG_LEN];
	uint64_t sector;
	uint32_t num, flags;

	if ((uint64_t)i * SEG_LEN + SEG_LEN > v->data_len ||
	    iov_copy(v->data, v->ndata, (uint64_t)i * SEG_LEN, seg, SEG_LEN, true) != SEG_LEN)
		return VIRTIO_BLK_S_IOERR;
	sector = le_get(seg, 8);
	num = (uint32_t)le_get(seg + 8, 4);
	flags = (uint32_t)le_get(seg + 12, 4);
	if (flags & ~VIRTIO_BLK_WZ_UNMAP)
		return VIRTIO_BLK_S_UNSUPP;
	if ((flags & VIRTIO_BLK_WZ_UNMAP) && v->type == VIRTIO_BLK_T_DISCARD)
		return VIRTIO_BLK_S_UNSUPP;
	if (num > max_sectors || sector > capacity / SECTOR ||
	    num > capacity / SECTOR - sector)
		return VIRTIO_BLK_S_IOERR;
	s->off = sector * SECTOR;
	s->len = (uint64_t)num * SECTOR;
	s->unmap = flags & VIRTIO_BLK_WZ_UNMAP;
	return VIRTIO_BLK_S_OK;
}

uint64_t iov_copy(const struct iovec *iov, unsigned n, uint64_t off, void *buf, uint64_t len,
		  bool from_iov)
{
	uint64_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		uint64_t l = iov[i].iov_len, c;

		if (off >= l) {
			off -= l;
			continue;
		}
		c = l - off < len - done ? l - off : len - done;
		if (from_iov)
			memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, c);
		else
			memcpy((uint8_t *)iov[i].iov_base + off, (uint8_t *)buf + done, c);
		done += c;
		off = 0;
	}
	return done;
}

unsigned iov_slice(const struct iovec *iov, unsigned n, uint64_t off, uint64_t len,
		   struct iovec *out, unsigned max)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		uint64_t l = iov[i].iov_len, c;

		if (off >= l) {
			off -= l;
			continue;
		}
		if (k == max)
			return 0;
		c = l - off < len ? l - off : len;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[k].iov_len = c;
		k++;
		len -= c;
		off = 0;
	}
	return len ? 0 : k;
}
