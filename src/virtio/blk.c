/* blk.c: virtio-blk (--disk, if=virtio) on the block layer (src/block/).
 *
 * Each disk has its own I/O thread (a struct loop): queue kicks (ioeventfds) and I/O
 * completions both run there, never on a vCPU. Reads and writes are mapped through the image
 * format (block_map): data that lies in a file (raw, VHD fixed, allocated VHD blocks, a
 * differencing disk's parent) goes to the aio engine (io_uring, or a thread pool), submitted in
 * one batch per kick; what needs the format's logic (a new VHD block, bitmap updates, the probe
 * guard of a raw disk) goes through block_read/block_write on the I/O thread. cache=none reads
 * and writes the top image through a second O_DIRECT descriptor, bouncing only buffers that are
 * not aligned. A completed FLUSH is an fdatasync of the image. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "virtio/aio.h"
#include "block/block.h"
#include "util/bytes.h"
#include "util/log.h"
#include "util/zmem.h"
#include "virtio/blk_lock.h"
#include "virtio/blk_req.h"
#include "virtio/virtio.h"
#include "vm/config.h"
#include "vm/counters.h"
#include "vm/devif.h"
#include "vm/loop.h"

#define BLK_QSIZE 256
#define BLK_SEG_MAX 254
#define BLK_MAX_SUB 4		   /* extents of one request sent to the aio engine */
#define BLK_MAX_ZERO_SECTORS 0x400000u /* per DISCARD / WRITE_ZEROES segment (2 GiB) */
#define BLK_CFG_LEN 60
#define BLK_MAX_QUEUES 16

#define F_SEG_MAX 2
#define F_RO 5
#define F_BLK_SIZE 6
#define F_FLUSH 9
#define F_TOPOLOGY 10
#define F_MQ 12
#define F_DISCARD 13
#define F_WRITE_ZEROES 14

struct vblk;
struct blk_req;

struct blk_sub {
	struct aio_req a;
	struct blk_req *r;
	struct iovec *slice;   /* malloc'd sub-vector, or NULL (the request's own data) */
	void *bounce;	       /* aligned copy for O_DIRECT, or NULL */
	struct iovec biov;
	uint64_t doff, len;    /* the part of the request's data it covers */
};

struct blk_req {
	struct vblk *b;
	uint16_t q, slot;
	uint32_t gen;
	unsigned pending;
	uint8_t status;
	uint32_t written;      /* bytes written into the guest's buffers, status byte included */
	struct blk_req_view v;
	struct blk_sub sub[BLK_MAX_SUB];
	struct virtq_elem e;
};

struct blk_queue {
	struct blk_req *reqs; /* BLK_QSIZE, zmem_alloc'd: untouched ones cost no memory */
	uint16_t free[BLK_QSIZE];
	unsigned nfree;
	bool notify;
};

/* Counters for vm.counters and /metrics (src/vm/counters.h). */
enum { CTR_READS, CTR_READ_BYTES, CTR_WRITES, CTR_WRITE_BYTES, CTR_FLUSHES, CTR_ERRORS, NCTR };
static const char *const ctr_names[NCTR] = {
	[CTR_READS] = "read_requests",	 [CTR_READ_BYTES] = "read_bytes",
	[CTR_WRITES] = "write_requests", [CTR_WRITE_BYTES] = "write_bytes",
	[CTR_FLUSHES] = "flush_requests", [CTR_ERRORS] = "errors",
};

struct vblk {
	struct virtio_dev d;
	atomic_ullong ctr[NCTR];
	struct vm *vm;
	const struct disk_config *dc;
	struct block_dev *bd;
	int dfd;	      /* O_DIRECT descriptor of the top image (cache=none), or -1 */
	unsigned align;	      /* O_DIRECT alignment */
	uint64_t capacity;
	bool ro, zeroes;      /* read-only; DISCARD / WRITE_ZEROES offered */
	uint32_t gen;	      /* bumped by each reset: older completions are dropped */
	struct loop *loop;
	struct aio *aio;
	uint8_t cfg[BLK_CFG_LEN];
	char serial[VIRTIO_BLK_ID_BYTES];
	struct blk_queue q[BLK_MAX_QUEUES];
};

/* ---- completion ---- */

static void count(struct vblk *b, unsigned c, uint64_t v)
{
	atomic_fetch_add_explicit(&b->ctr[c], v, memory_order_relaxed);
}

static void count_request(struct vblk *b, const struct blk_req_view *v, uint8_t status)
{
	if (status != VIRTIO_BLK_S_OK)
		count(b, CTR_ERRORS, 1);
	else if (v->type == VIRTIO_BLK_T_IN) {
		count(b, CTR_READS, 1);
		count(b, CTR_READ_BYTES, v->data_len);
	} else if (v->type == VIRTIO_BLK_T_OUT) {
		count(b, CTR_WRITES, 1);
		count(b, CTR_WRITE_BYTES, v->data_len);
	} else if (v->type == VIRTIO_BLK_T_FLUSH)
		count(b, CTR_FLUSHES, 1);
}

static void finish(struct blk_req *r, uint8_t status)
{
	struct vblk *b = r->b;
	struct blk_queue *q = &b->q[r->q];

	if (r->gen == b->gen) {
		count_request(b, &r->v, status);
		*r->v.status = status;
		virtio_complete(&b->d, r->q, r->e.head, r->written + 1, false);
		q->notify = true;
	}
	q->free[q->nfree++] = r->slot;
}

static void sub_done(struct aio_req *a, long res)
{
	struct blk_sub *s = (struct blk_sub *)a;
	struct blk_req *r = s->r;

	if (res < 0 || (uint64_t)res != s->len) {
		r->status = VIRTIO_BLK_S_IOERR;
		if (r->gen == r->b->gen)
			log_warn("%s: %s at byte %llu of %s failed: %s", r->b->d.name,
				 a->op == AIO_READ ? "read" : a->op == AIO_WRITE ? "write" : "flush",
				 (unsigned long long)a->off, r->b->dc->path,
				 res < 0 ? strerror((int)-res) : "short transfer");
	} else if (a->op == AIO_READ && s->bounce && r->gen == r->b->gen) {
		iov_copy(r->v.data, r->v.ndata, s->doff, s->bounce, s->len, false);
	}
	free(s->bounce);
	free(s->slice);
	s->bounce = s->slice = NULL;
	if (--r->pending == 0)
		finish(r, r->status);
}

static void batch_done(void *opaque)
{
	struct vblk *b = opaque;

	for (unsigned i = 0; i < b->d.nqueues; i++) {
		if (!b->q[i].notify)
			continue;
		b->q[i].notify = false;
		if (virtio_queue_live(&b->d, i))
			virtio_queue_notify_guest(&b->d, i);
	}
}

/* ---- reads and writes ---- */

static bool aligned(const struct iovec *iov, unsigned n, uint64_t off, uint64_t len,
		    unsigned align)
{
	if (off % align || len % align)
		return false;
	for (unsigned i = 0; i < n; i++)
		if ((uintptr_t)iov[i].iov_base % align || iov[i].iov_len % align)
			return false;
	return true;
}

/* The format's own path for [doff, doff+len) of the request's data at disk offset off. */
static int slow_rw(struct blk_req *r, uint64_t off, uint64_t doff, uint64_t len, bool wr)
{
	struct vblk *b = r->b;
	void *buf = malloc(len);
	int ret;

	if (!buf)
		return -ENOMEM;
	if (wr) {
		iov_copy(r->v.data, r->v.ndata, doff, buf, len, true);
		ret = block_write(b->bd, buf, len, off);
		if (ret && b->bd->last_err.msg[0])
			log_warn("%s: %s", b->d.name, b->bd->last_err.msg);
	} else {
		ret = block_read(b->bd, buf, len, off);
		if (!ret)
			iov_copy(r->v.data, r->v.ndata, doff, buf, len, false);
	}
	free(buf);
	return ret;
}

static void zero_data(struct blk_req *r, uint64_t doff, uint64_t len)
{
	static const uint8_t zeros[4096];

	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < sizeof(zeros) ? len - done : sizeof(zeros);

		iov_copy(r->v.data, r->v.ndata, doff + done, (void *)zeros, n, false);
		done += n;
	}
}

/* Send one DATA extent to the aio engine. 0, or -errno (the caller uses the slow path). */
static int submit_extent(struct blk_req *r, struct blk_sub *s, const struct block_map *m,
			 uint64_t doff, bool wr)
{
	struct vblk *b = r->b;
	bool whole = doff == 0 && m->len == r->v.data_len;
	int fd = m->fd == b->bd->fd && b->dfd >= 0 ? b->dfd : m->fd;
	const struct iovec *iov = r->v.data;
	unsigned n = r->v.ndata;

	*s = (struct blk_sub){.r = r, .doff = doff, .len = m->len};
	if (!whole) {
		s->slice = malloc(sizeof(*s->slice) * (r->v.ndata ? r->v.ndata : 1));
		if (!s->slice)
			return -ENOMEM;
		n = iov_slice(r->v.data, r->v.ndata, doff, m->len, s->slice, r->v.ndata);
		iov = s->slice;
	}
	if (fd == b->dfd && !aligned(iov, n, m->file_off, m->len, b->align)) {
		if (m->len % b->align || m->file_off % b->align ||
		    posix_memalign(&s->bounce, b->align, m->len)) {
			free(s->slice);
			s->slice = s->bounce = NULL;
			return -EINVAL;
		}
		if (wr)
			iov_copy(r->v.data, r->v.ndata, doff, s->bounce, m->len, true);
		s->biov = (struct iovec){s->bounce, m->len};
		iov = &s->biov;
		n = 1;
	}
	s->a = (struct aio_req){.op = wr ? AIO_WRITE : AIO_READ, .fd = fd, .off = m->file_off,
				.iov = iov, .niov = n, .cached = fd != b->dfd, .done = sub_done};
	if (aio_add(b->aio, &s->a)) {
		free(s->bounce);
		free(s->slice);
		s->bounce = s->slice = NULL;
		return -EAGAIN;
	}
	r->pending++;
	return 0;
}

static void do_rw(struct blk_req *r, uint64_t off)
{
	struct vblk *b = r->b;
	bool wr = r->v.type == VIRTIO_BLK_T_OUT;
	unsigned nsub = 0;
	uint64_t done = 0;

	if (!wr)
		r->written = (uint32_t)r->v.data_len;
	while (done < r->v.data_len) {
		struct block_map m;
		int ret = block_map(b->bd, off + done, r->v.data_len - done, wr, &m);

		if (ret) {
			r->status = VIRTIO_BLK_S_IOERR;
			break;
		}
		if (m.kind == BLOCK_MAP_ZERO)
			zero_data(r, done, m.len);
		else if (m.kind != BLOCK_MAP_DATA || nsub == BLK_MAX_SUB ||
			 submit_extent(r, &r->sub[nsub], &m, done, wr) < 0)
			ret = slow_rw(r, off + done, done, m.len, wr);
		else
			nsub++;
		if (ret) {
			r->status = VIRTIO_BLK_S_IOERR;
			break;
		}
		done += m.len;
	}
}

/* ---- other requests ---- */

static uint8_t do_zeroes(struct blk_req *r)
{
	struct vblk *b = r->b;
	struct blk_seg s;
	uint8_t st;

	if (b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (!b->zeroes)
		return VIRTIO_BLK_S_UNSUPP;
	if (r->v.data_len != 16) /* max_discard_seg = max_write_zeroes_seg = 1 */
		return VIRTIO_BLK_S_UNSUPP;
	st = blk_req_segment(&r->v, 0, b->capacity, BLK_MAX_ZERO_SECTORS, &s);
	if (st)
		return st;
	if (r->v.type == VIRTIO_BLK_T_DISCARD)
		return block_discard(b->bd, s.off, s.len) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	/* raw only (b->zeroes): the file is the disk */
	if (fallocate(b->bd->fd, s.unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
					 : FALLOC_FL_ZERO_RANGE,
		      (off_t)s.off, (off_t)s.len) == 0)
		return VIRTIO_BLK_S_OK;
	for (uint64_t done = 0; done < s.len;) { /* no fallocate here: write zeros */
		static const uint8_t z[65536];
		uint64_t n = s.len - done < sizeof(z) ? s.len - done : sizeof(z);

		if (block_write(b->bd, z, n, s.off + done))
			return VIRTIO_BLK_S_IOERR;
		done += n;
	}
	return VIRTIO_BLK_S_OK;
}

static void handle(struct blk_req *r)
{
	struct vblk *b = r->b;
	uint64_t off;
	uint32_t n;

	r->status = VIRTIO_BLK_S_OK;
	r->written = 0;
	r->pending = 1; /* held until everything is submitted */
	switch (r->v.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		r->status = blk_req_check_rw(&r->v, b->capacity, b->ro, &off);
		if (!r->status)
			do_rw(r, off);
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (b->ro)
			break;
		r->sub[0] = (struct blk_sub){.r = r};
		r->sub[0].a = (struct aio_req){.op = AIO_FSYNC, .fd = b->bd->fd, .done = sub_done};
		if (aio_add(b->aio, &r->sub[0].a) == 0)
			r->pending++;
		else if (block_flush(b->bd))
			r->status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID:
		n = r->v.data_len < VIRTIO_BLK_ID_BYTES ? (uint32_t)r->v.data_len
							: VIRTIO_BLK_ID_BYTES;
		r->written = (uint32_t)iov_copy(r->v.data, r->v.ndata, 0, b->serial, n, false);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		r->status = do_zeroes(r);
		break;
	default:
		r->status = VIRTIO_BLK_S_UNSUPP;
	}
	if (--r->pending == 0)
		finish(r, r->status);
}

/* ---- the queue ---- */

static void blk_notify(struct virtio_dev *d, unsigned qi)
{
	struct vblk *b = d->priv;
	struct blk_queue *bq = &b->q[qi];
	struct virtq *q = &d->st.q[qi];
	const char *why;
	int ret;

	do {
		virtq_set_notify(q, d->mem, false);
		while (bq->nfree) {
			uint16_t slot = bq->free[--bq->nfree];
			struct blk_req *r = &bq->reqs[slot];

			ret = virtq_pop(q, d->mem, &r->e, &why);
			if (ret <= 0) {
				bq->free[bq->nfree++] = slot;
				if (ret < 0) {
					aio_submit(b->aio);
					virtio_needs_reset(d, why);
					return;
				}
				break;
			}
			r->b = b;
			r->q = (uint16_t)qi;
			r->slot = slot;
			r->gen = b->gen;
			if (blk_req_parse(&r->e, &r->v) < 0) {
				bq->free[bq->nfree++] = slot;
				aio_submit(b->aio);
				virtio_needs_reset(d, "request without a header or a status byte");
				return;
			}
			handle(r);
		}
		aio_submit(b->aio);
	} while (bq->nfree && virtq_set_notify(q, d->mem, true));
	if (bq->notify) {
		bq->notify = false;
		virtio_queue_notify_guest(d, qi);
	}
}

static void blk_reset(struct virtio_dev *d)
{
	struct vblk *b = d->priv;

	b->gen++; /* in-flight requests finish into nothing and give their slots back */
	/* now, on this thread: after a reset the device writes nothing into guest memory (the
	 * driver owns its buffers again), so reads still in the kernel must land first */
	aio_drain(b->aio);
}

static void blk_config_read(struct virtio_dev *d, unsigned off, uint8_t *data, unsigned len)
{
	struct vblk *b = d->priv;

	memcpy(data, b->cfg + off, len);
}

static const struct virtio_dev_ops blk_ops = {
	.config_read = blk_config_read,
	.queue_notify = blk_notify,
	.reset = blk_reset,
};

/* ---- set-up ---- */

static void blk_destroy(void *opaque)
{
	struct vblk *b = opaque;

	if (b->loop)
		loop_stop(b->loop);
	aio_destroy(b->aio);
	virtio_dev_destroy(&b->d);
	loop_destroy(b->loop);
	if (b->dfd >= 0)
		close(b->dfd);
	block_close(b->bd);
	for (unsigned i = 0; i < BLK_MAX_QUEUES; i++)
		zmem_free(b->q[i].reqs, BLK_QSIZE * sizeof(*b->q[i].reqs));
	free(b);
}

/* Lock the image and its parents (read-only), so no other VM writes under us. */
static int lock_chain(struct vblk *b, struct err *e)
{
	struct block_info *info = malloc(sizeof(*info));
	struct block_dev *p;
	int ret;

	if (!info)
		return -ENOMEM;
	ret = blk_lock(b->bd->fd, b->dc->path, !b->ro, e);
	for (p = b->bd; !ret && p;) {
		block_get_info(p, info);
		p = info->parent;
		if (p)
			ret = blk_lock(p->fd, p->path, false, e);
	}
	free(info);
	return ret;
}

static int open_direct(struct vblk *b, struct err *e)
{
	char path[64];

	b->align = 512;
	if (b->dc->cache != DISK_CACHE_NONE)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", b->bd->fd);
	b->dfd = open(path, (b->ro ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC);
	if (b->dfd < 0)
		return errf(e, -errno, "disk %s: cache=none needs O_DIRECT: %s", b->dc->path,
			    errno == EINVAL ? "this file system does not support it"
					    : strerror(errno));
#ifdef STATX_DIOALIGN
	{
		struct statx sx;

		if (statx(b->dfd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
		    (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_mem_align > 0) {
			b->align = sx.stx_dio_offset_align > sx.stx_dio_mem_align
					   ? sx.stx_dio_offset_align
					   : sx.stx_dio_mem_align;
		}
	}
#endif
	return 0;
}

static void fill_config(struct vblk *b)
{
	uint8_t *c = b->cfg;

	le_put(c + 0, b->capacity / 512, 8);
	le_put(c + 12, BLK_SEG_MAX, 4);
	/* blk_size: the format's logical sector (VHDX may say 4096), else 512 */
	le_put(c + 20, b->bd->logical_sector ? b->bd->logical_sector : 512, 4);
	le_put(c + 34, b->d.nqueues, 2);
	le_put(c + 36, BLK_MAX_ZERO_SECTORS, 4); /* max_discard_sectors */
	le_put(c + 40, 1, 4);			 /* max_discard_seg */
	le_put(c + 44, 8, 4);			 /* discard_sector_alignment */
	le_put(c + 48, BLK_MAX_ZERO_SECTORS, 4);
	le_put(c + 52, 1, 4);
	c[56] = 1; /* write_zeroes_may_unmap */
}

static int blk_create(struct vm *vm, const struct disk_config *dc, unsigned idx)
{
	struct block_open_opts o = {.flags = dc->readonly ? 0 : BLOCK_RDWR};
	struct err *e = devif_err(vm);
	struct vblk *b = calloc(1, sizeof(*b));
	unsigned ncpus = devif_config(vm)->ncpus;
	/* one queue per vCPU unless told (as QEMU does): completions reach the submitting vCPU */
	unsigned nq = dc->queues ? dc->queues : ncpus < BLK_MAX_QUEUES ? ncpus : BLK_MAX_QUEUES;
	char id[COUNTER_ID_MAX];
	int ret;

	if (!b)
		return -ENOMEM;
	b->vm = vm;
	b->dc = dc;
	b->dfd = -1;
	b->ro = dc->readonly;
	ret = devif_add_device(vm, "virtio-blk", b, blk_destroy);
	if (ret) {
		free(b);
		return ret;
	}
	if (nq > BLK_MAX_QUEUES)
		return errf(e, -EINVAL, "disk %s: queues=%u, at most %u", dc->path, nq,
			    BLK_MAX_QUEUES);
	ret = block_open(dc->path, dc->format, &o, &b->bd, e);
	if (ret)
		return ret;
	if ((ret = lock_chain(b, e)) || (ret = open_direct(b, e)))
		return ret;
	b->capacity = block_size(b->bd);
	b->zeroes = !b->ro && b->bd->ops == &block_raw_ops;
	if (dc->serial)
		memcpy(b->serial, dc->serial, strnlen(dc->serial, sizeof(b->serial)));
	for (unsigned i = 0; i < nq; i++) {
		b->q[i].reqs = zmem_alloc(BLK_QSIZE * sizeof(*b->q[i].reqs));
		if (!b->q[i].reqs)
			return -ENOMEM;
		for (unsigned s = 0; s < BLK_QSIZE; s++)
			b->q[i].free[s] = (uint16_t)(BLK_QSIZE - 1 - s);
		b->q[i].nfree = BLK_QSIZE;
	}
	if ((ret = loop_create(&b->loop)))
		return ret;
	ret = aio_create(&b->aio, 1024, b->loop, &b->d.lock, getenv("THINVISOR_AIO_THREADS") != NULL);
	if (ret)
		return ret;
	aio_set_batch_done(b->aio, batch_done, b);
	snprintf(b->d.name, sizeof(b->d.name), "virtio-blk%u", idx);
	if (strcmp(aio_backend(b->aio), "io_uring"))
		log_info("%s: %s: I/O through a thread pool (%s)", b->d.name, dc->path,
			 getenv("THINVISOR_AIO_THREADS") ? "THINVISOR_AIO_THREADS is set"
							: "io_uring is not available");
	b->d.device_id = VIRTIO_ID_BLOCK;
	b->d.features = 1ULL << VIRTIO_F_RING_INDIRECT_DESC | 1ULL << VIRTIO_F_RING_EVENT_IDX |
			1ULL << F_SEG_MAX | 1ULL << F_BLK_SIZE | 1ULL << F_FLUSH |
			(nq > 1 ? 1ULL << F_MQ : 0) | (b->ro ? 1ULL << F_RO : 0) |
			(b->zeroes ? 1ULL << F_DISCARD | 1ULL << F_WRITE_ZEROES : 0);
	b->d.nqueues = nq;
	b->d.queue_size = BLK_QSIZE;
	b->d.config_len = BLK_CFG_LEN;
	b->d.pci_class[1] = 0x80; /* mass storage, other */
	b->d.pci_class[2] = 0x01;
	b->d.ops = &blk_ops;
	b->d.priv = b;
	b->d.loop = b->loop;
	fill_config(b);
	snprintf(id, sizeof(id), "disk%u", (unsigned)(dc - devif_config(vm)->disks));
	if ((ret = vm_counters_register(vm, id, "disk", ctr_names, b->ctr, NCTR)))
		return ret;
	if ((ret = virtio_dev_init(&b->d, vm)) || (ret = virtio_attach(&b->d)))
		return ret;
	return loop_start(b->loop);
}

static int blk_init(struct vm *vm)
{
	const struct vm_config *c = devif_config(vm);
	unsigned n = 0;

	for (unsigned i = 0; i < c->ndisks; i++) {
		int ret;

		if (c->disks[i].iface != DISK_IF_VIRTIO)
			continue;
		ret = blk_create(vm, &c->disks[i], n++);
		if (ret)
			return ret;
	}
	return 0;
}

DEVICE_REGISTER(virtio_blk, DEV_PHASE_PCI, blk_init);
