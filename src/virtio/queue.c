/* queue.c: split virtqueues (virtio 1.2, section 2.7) over checked guest memory. */
#include "virtio/queue.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "util/bytes.h"

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static uint16_t ld16(const void *p) { return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED); }

void virtq_reset(struct virtq *q, uint16_t max_size)
{
	memset(q, 0, sizeof(*q));
	q->max_size = max_size;
	q->size = max_size;
	q->msix_vector = 0xffff;
}

static void *avail_ring(const struct virtq *q, const struct gmem *m)
{
	return gmem_ptr(m, q->avail, 6 + 2 * (uint64_t)q->size);
}

static void *used_ring(const struct virtq *q, const struct gmem *m)
{
	return gmem_ptr(m, q->used, 6 + 8 * (uint64_t)q->size);
}

int virtq_check(const struct virtq *q, const struct gmem *m)
{
	if (!q->size || q->size > q->max_size || (q->size & (q->size - 1)))
		return -EINVAL;
	if ((q->desc & 15) || (q->avail & 1) || (q->used & 3))
		return -EINVAL;
	if (!gmem_ptr(m, q->desc, 16 * (uint64_t)q->size) || !avail_ring(q, m) || !used_ring(q, m))
		return -EINVAL;
	return 0;
}

static void read_desc(const uint8_t *table, unsigned i, struct vdesc *d)
{
	const uint8_t *p = table + 16 * (size_t)i;

	memcpy(&d->addr, p, 8);
	memcpy(&d->len, p + 8, 4);
	memcpy(&d->flags, p + 12, 2);
	memcpy(&d->next, p + 14, 2);
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

#define FAIL(err, msg)                                                                          \
	do {                                                                                    \
		*why = (msg);                                                                   \
		return (err);                                                                   \
	} while (0)

/* Add one buffer to e. */
static int add_buf(const struct gmem *m, struct virtq_elem *e, const struct vdesc *d,
		   const char **why)
{
	struct iovec *v;
	uint64_t total;
	void *p;

	if (!d->len)
		return 0;
	if (e->nout + e->nin >= VIRTQ_MAX_IOV)
		FAIL(-EINVAL, "more buffers in one chain than the device takes");
	p = gmem_ptr(m, d->addr, d->len);
	if (!p)
		FAIL(-EFAULT, "descriptor points outside guest RAM");
	v = &e->iov[e->nout + e->nin];
	v->iov_base = p;
	v->iov_len = d->len;
	if (d->flags & VRING_DESC_F_WRITE) {
		total = (uint64_t)e->in_len + d->len;
		if (total > UINT32_MAX)
			FAIL(-EINVAL, "chain length overflows 32 bits");
		e->in_len = (uint32_t)total;
		e->nin++;
	} else {
		if (e->nin)
			FAIL(-EINVAL, "device-readable descriptor after a writable one");
		total = (uint64_t)e->out_len + d->len;
		if (total > UINT32_MAX)
			FAIL(-EINVAL, "chain length overflows 32 bits");
		e->out_len = (uint32_t)total;
		e->nout++;
	}
	return 0;
}

int virtq_pop(struct virtq *q, const struct gmem *m, struct virtq_elem *e, const char **why)
{
	const uint8_t *avail = avail_ring(q, m), *table;
	unsigned tlen, count = 0, i;
	bool in_indirect = false;
	uint16_t idx, head;
	struct vdesc d;
	int ret;

	*why = NULL;
	if (!q->ready || !avail)
		FAIL(-EFAULT, "queue rings outside guest RAM");
	idx = le16toh(__atomic_load_n((const uint16_t *)(avail + 2), __ATOMIC_ACQUIRE));
	if ((uint16_t)(idx - q->last_avail) > q->size)
		FAIL(-EINVAL, "available index moved by more than the queue size");
	if (idx == q->last_avail)
		return 0;
	head = le16toh(ld16(avail + 4 + 2 * (q->last_avail & (q->size - 1))));
	if (head >= q->size)
		FAIL(-EINVAL, "chain head index beyond the queue size");
	table = gmem_ptr(m, q->desc, 16 * (uint64_t)q->size);
	if (!table)
		FAIL(-EFAULT, "descriptor table outside guest RAM");
	tlen = q->size;
	e->head = head;
	e->nout = e->nin = 0;
	e->out_len = e->in_len = 0;
	i = head;
	for (;;) {
		if (++count > tlen)
			FAIL(-EINVAL, "descriptor chain loops or is longer than its table");
		read_desc(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!q->indirect)
				FAIL(-EINVAL, "indirect descriptor not negotiated");
			if (in_indirect)
				FAIL(-EINVAL, "nested indirect descriptor table");
			if (d.flags & VRING_DESC_F_NEXT)
				FAIL(-EINVAL, "indirect descriptor with NEXT set");
			if (!d.len || (d.len & 15))
				FAIL(-EINVAL, "indirect table length not a multiple of 16");
			table = gmem_ptr(m, d.addr, d.len);
			if (!table)
				FAIL(-EFAULT, "indirect table outside guest RAM");
			tlen = d.len / 16;
			in_indirect = true;
			count = 0;
			i = 0;
			continue;
		}
		ret = add_buf(m, e, &d, why);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		i = d.next;
		if (i >= tlen)
			FAIL(-EINVAL, "next descriptor index beyond its table");
	}
	q->last_avail++;
	return 1;
}

int virtq_fill(struct virtq *q, const struct gmem *m, uint16_t head, uint32_t len)
{
	uint8_t *used = used_ring(q, m);
	uint8_t *el;

	if (!used)
		return -EFAULT;
	el = used + 4 + 8 * (size_t)(q->used_idx & (q->size - 1));
	le_put(el, head, 4);
	le_put(el + 4, len, 4);
	q->used_idx++;
	return 0;
}

void virtq_flush(struct virtq *q, const struct gmem *m)
{
	uint8_t *used = used_ring(q, m);

	if (used)
		__atomic_store_n((uint16_t *)(used + 2), htole16(q->used_idx), __ATOMIC_RELEASE);
}

int virtq_push(struct virtq *q, const struct gmem *m, uint16_t head, uint32_t len)
{
	int ret = virtq_fill(q, m, head, len);

	if (!ret)
		virtq_flush(q, m);
	return ret;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
}

bool virtq_should_notify(struct virtq *q, const struct gmem *m)
{
	const uint8_t *avail = avail_ring(q, m);
	uint16_t old = q->signalled, now = q->used_idx, event;
	bool valid = q->signalled_valid;

	/* the used index store must be visible before we read the guest's wishes */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!avail)
		return false;
	if (!q->event_idx)
		return !(le16toh(ld16(avail)) & VRING_AVAIL_F_NO_INTERRUPT);
	q->signalled = now;
	q->signalled_valid = true;
	event = le16toh(ld16(avail + 4 + 2 * (size_t)q->size));
	if (!valid)
		return true;
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

bool virtq_set_notify(struct virtq *q, const struct gmem *m, bool enable)
{
	uint8_t *used = used_ring(q, m);
	const uint8_t *avail = avail_ring(q, m);

	if (!used || !avail)
		return false;
	if (q->event_idx) {
		if (enable)
			__atomic_store_n((uint16_t *)(used + 4 + 8 * (size_t)q->size),
					 htole16(q->last_avail), __ATOMIC_RELAXED);
	} else {
		__atomic_store_n((uint16_t *)used, htole16(enable ? 0 : VRING_USED_F_NO_NOTIFY),
				 __ATOMIC_RELAXED);
	}
	if (!enable)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return le16toh(__atomic_load_n((const uint16_t *)(avail + 2), __ATOMIC_ACQUIRE)) !=
	       q->last_avail;
}

static uint32_t copy_iov(const struct iovec *iov, unsigned n, uint32_t off, void *buf,
			 uint32_t len, bool to_iov)
{
	uint32_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		uint32_t l = (uint32_t)iov[i].iov_len, c;

		if (off >= l) {
			off -= l;
			continue;
		}
		c = l - off < len - done ? l - off : len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, (uint8_t *)buf + done, c);
		else
			memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, c);
		done += c;
		off = 0;
	}
	return done;
}

uint32_t virtq_copy_from(const struct virtq_elem *e, uint32_t off, void *dst, uint32_t len)
{
	return copy_iov(e->iov, e->nout, off, dst, len, false);
}

uint32_t virtq_copy_to(const struct virtq_elem *e, uint32_t off, const void *src, uint32_t len)
{
	return copy_iov(e->iov + e->nout, e->nin, off, (void *)src, len, true);
}
