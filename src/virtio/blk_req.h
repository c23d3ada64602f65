/* blk_req.h: virtio-blk request parsing (virtio 1.2, section 5.2.6), pure functions over a
 * chain taken by virtq_pop. A request is a 16-byte header (type, reserved, sector) in the
 * device-readable part, data, and a status byte: the last byte of the device-writable part. */
#ifndef TV_BLK_REQ_H
#define TV_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/queue.h"

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_WZ_UNMAP 1u

/* A parsed request. data points into the element's iov array (which parsing trims). */
struct blk_req_view {
	uint32_t type;
	uint64_t sector;
	uint8_t *status;
	struct iovec *data;
	unsigned ndata;
	uint64_t data_len;
};

/* Parse the chain in e (its iov is trimmed in place: header and status removed). Returns 0,
 * or -EINVAL when the chain has no room for a header or a status byte: the request cannot
 * even be answered (the device goes to NEEDS_RESET). */
int blk_req_parse(struct virtq_elem *e, struct blk_req_view *v);

/* Check a read (IN) or write (OUT) against a disk of capacity bytes: the byte offset in *off.
 * Returns VIRTIO_BLK_S_OK, or IOERR for a length that is not whole sectors, a range beyond
 * the disk (overflow-safe) or a write to a read-only disk. */
uint8_t blk_req_check_rw(const struct blk_req_view *v, uint64_t capacity, bool readonly,
			 uint64_t *off);

/* One DISCARD / WRITE_ZEROES segment. */
struct blk_seg {
	uint64_t off, len; /* bytes */
	bool unmap;
};

/* Read segment i (0..) of a DISCARD or WRITE_ZEROES request. Returns OK, UNSUPP (unknown
 * flags, or unmap on a discard) or IOERR (past the end of the data, a range beyond the disk,
 * or more than max_sectors). */
uint8_t blk_req_segment(const struct blk_req_view *v, unsigned i, uint64_t capacity,
			uint32_t max_sectors, struct blk_seg *s);

/* Copy iovs[0..n) [off, off+len) into dst (1) or from src into the iovs (0). Returns bytes. */
uint64_t iov_copy(const struct iovec *iov, unsigned n, uint64_t off, void *buf, uint64_t len,
		  bool from_iov);

/* The sub-vector of iov[0..n) covering bytes [off, off+len) into out (at most max entries).
 * Returns the number of entries, or 0 when max is too small. */
unsigned iov_slice(const struct iovec *iov, unsigned n, uint64_t off, uint64_t len,
		   struct iovec *out, unsigned max);

#endif
