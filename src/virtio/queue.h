/* queue.h: virtio 1.x split virtqueues (descriptor table, available and used rings) over
 * guest memory, with indirect descriptors and event-index notification suppression.
 * Everything the guest wrote is checked: a chain that loops, is longer than the queue (or
 * its indirect table), points outside RAM, overflows 32-bit lengths, nests indirect tables or
 * puts a readable buffer after a writable one makes virtq_pop fail; the device then goes to
 * NEEDS_RESET. Pure: no host calls, only gmem_ptr. */
#ifndef TV_VIRTQ_H
#define TV_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mem/gmem.h"

#define VIRTQ_MAX_SIZE 1024  /* largest queue size offered */
#define VIRTQ_MAX_IOV 260    /* buffers in one chain we accept (blk's seg_max + 2, with room) */

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1

/* A queue's whole state, plain data (saved and restored as is). */
struct virtq {
	uint16_t size;        /* negotiated size, a power of two <= max_size */
	uint16_t max_size;
	uint16_t msix_vector; /* PCI: the MSI-X vector, 0xffff for none */
	bool ready;
	bool event_idx;       /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;        /* VIRTIO_F_RING_INDIRECT_DESC negotiated */
	uint64_t desc, avail, used;  /* guest-physical addresses */
	uint16_t last_avail;  /* next available entry to take */
	uint16_t used_idx;    /* next used entry to fill */
	uint16_t signalled;   /* used_idx when the guest was last interrupted */
	bool signalled_valid;
};

/* One chain taken from the available ring: device-readable buffers first (out), then
 * device-writable ones (in), as host pointers into guest RAM. */
struct virtq_elem {
	uint16_t head;
	unsigned nout, nin;
	uint32_t out_len, in_len; /* total bytes of each kind */
	struct iovec iov[VIRTQ_MAX_IOV]; /* out buffers, then in buffers */
};

/* Reset q to an unconfigured queue of max_size entries (state after a device reset). */
void virtq_reset(struct virtq *q, uint16_t max_size);

/* Check a queue the driver is enabling: size a power of two in 1..max_size, rings aligned
 * (16, 2, 4) and inside RAM. 0 or -EINVAL. */
int virtq_check(const struct virtq *q, const struct gmem *m);

/* Take the next chain. Returns 1 with *e filled, 0 when the ring is empty, or -EINVAL
 * (malformed chain or index) / -EFAULT (outside RAM) with a reason in *why (static string). */
int virtq_pop(struct virtq *q, const struct gmem *m, struct virtq_elem *e, const char **why);

/* Give chain head back with len bytes written into its in buffers. Publishes used->idx with
 * release ordering after the element. 0 or -EFAULT. */
int virtq_push(struct virtq *q, const struct gmem *m, uint16_t head, uint32_t len);

/* virtq_push in two steps, for batches: virtq_fill writes a used entry without publishing
 * it (0 or -EFAULT); virtq_flush publishes every filled entry (used->idx, release order).
 * Ask virtq_should_notify only after the flush. */
int virtq_fill(struct virtq *q, const struct gmem *m, uint16_t head, uint32_t len);
void virtq_flush(struct virtq *q, const struct gmem *m);

/* Give back the chain the last virtq_pop took (the device could not use it yet): the next
 * virtq_pop returns it again. Only right after a successful virtq_pop. */
void virtq_unpop(struct virtq *q);

/* Whether the guest wants an interrupt for what was pushed since the last call that said yes
 * (event index or the NO_INTERRUPT flag). */
bool virtq_should_notify(struct virtq *q, const struct gmem *m);

/* Ask the guest for kicks (enable true, with event index: at the next entry) or not. With
 * enable it returns true when more entries arrived meanwhile (process again before sleeping). */
bool virtq_set_notify(struct virtq *q, const struct gmem *m, bool enable);

/* Copy up to len bytes out of / into an element's buffers starting at byte off of the out
 * (readable) or in (writable) part. Returns bytes copied. */
uint32_t virtq_copy_from(const struct virtq_elem *e, uint32_t off, void *dst, uint32_t len);
uint32_t virtq_copy_to(const struct virtq_elem *e, uint32_t off, const void *src, uint32_t len);

#endif
