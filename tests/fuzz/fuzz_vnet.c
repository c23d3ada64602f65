/* fuzz_vnet.c: libFuzzer target over virtio-net's request parsing and data path, under
 * fuzz-chosen negotiated features: the header check of a transmitted frame, the control-queue
 * commands, and the transmit and receive paths (net_io.c) over split virtqueues whose rings
 * and descriptor tables are the input (a fake backend; a hostile chain must end in
 * NEEDS_RESET, never a crash). Input: 8 bytes of features, 1 byte selecting the part (bit 0:
 * tx header; else bit 1: data path; else control), the rest its data. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "virtio/net_dev.h"
#include "virtio/net_proto.h"

/* ---- the data path (net_io.c) over guest memory made of the input ---- */

#define FZ_RAM (1u << 20)
#define FZ_RXQ 0x1000
#define FZ_TXQ 0x3000
#define FZ_QSZ 16

/* The device core's calls, faked as in tests/unit/test_vnet_io.c. */
bool virtio_queue_live(struct virtio_dev *d, unsigned q)
{
	return !d->broken && d->st.q[q].ready;
}

void virtio_queue_notify_guest(struct virtio_dev *d, unsigned q)
{
	(void)virtq_should_notify(&d->st.q[q], d->mem);
}

void virtio_needs_reset(struct virtio_dev *d, const char *why)
{
	if (!why)
		__builtin_trap(); /* every refusal says why */
	d->broken = true;
}

static int fz_frames; /* frames the fake backend still has */

static int fz_send(struct net_backend *b, unsigned q, const struct iovec *iov, int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		const volatile uint8_t *p = iov[i].iov_base;

		if (iov[i].iov_len) /* touch both ends: ASan checks they are in guest RAM */
			(void)(p[0] + p[iov[i].iov_len - 1]);
		len += iov[i].iov_len;
	}
	return len > 70000 ? -EINVAL : 0;
}

static ssize_t fz_recv(struct net_backend *b, unsigned q, const struct iovec *iov, int n)
{
	size_t room = 0, want = 60 + 1500 * (size_t)(fz_frames & 3);

	if (fz_frames-- <= 0)
		return -EAGAIN;
	for (int i = 0; i < n; i++)
		room += iov[i].iov_len;
	if (room < want)
		return -EFAULT;
	for (int i = 0; i < n && want; i++) {
		size_t c = iov[i].iov_len < want ? iov[i].iov_len : want;

		memset(iov[i].iov_base, 0x5a, c);
		want -= c;
	}
	return (ssize_t)(60 + 1500 * (size_t)((fz_frames + 1) & 3));
}

static void fz_rx_watch(struct net_backend *b, unsigned q, bool on)
{
}

static void fz_tx_wait(struct net_backend *b, unsigned q)
{
}

static const struct net_backend_ops fz_ops = {
	.send = fz_send, .recv = fz_recv, .rx_watch = fz_rx_watch, .tx_wait = fz_tx_wait};

static void data_path(uint64_t features, const uint8_t *d, size_t n)
{
	static struct gmem mem;
	static struct vnet *v;
	static struct net_backend be = {.ops = &fz_ops, .queues = 1};

	if (!v) {
		if (gmem_init(&mem, FZ_RAM, 0))
			__builtin_trap();
		v = calloc(1, sizeof(*v));
		v->qp[0].stash = calloc(VNET_STASH, sizeof(struct virtq_elem));
	}
	memset(mem.r[0].hva, 0, 0x8000);
	/* the input fills the rings and descriptor tables (its first byte picks the frames) */
	memcpy(mem.r[0].hva + FZ_RXQ, d + 1, n - 1 < 0x4000 ? n - 1 : 0x4000);
	memset(&v->vdev, 0, sizeof(v->vdev));
	memset(v->qp[0].stash, 0, VNET_STASH * sizeof(struct virtq_elem));
	v->qp[0].s_first = v->qp[0].s_count = 0;
	v->qp[0].s_bytes = 0;
	v->qp[0].rx_starved = v->qp[0].tx_blocked = false;
	v->vdev.mem = &mem;
	v->vdev.nqueues = 3;
	for (unsigned i = 0; i < 2; i++) {
		struct virtq *q = &v->vdev.st.q[i];
		uint64_t base = i ? FZ_TXQ : FZ_RXQ;

		virtq_reset(q, FZ_QSZ);
		q->desc = base, q->avail = base + 0x100, q->used = base + 0x200;
		q->event_idx = d[0] & 0x40;
		q->indirect = d[0] & 0x80;
		q->ready = true;
	}
	v->be = &be;
	v->max_pairs = v->ctrl.pairs = 1;
	v->active = true;
	v->features = features;
	v->mrg = d[0] & 0x20;
	v->rx_need = VNET_HDR_LEN + ((d[0] & 0x10) ? NET_MAX_FRAME : 1518);
	fz_frames = d[0] & 15;
	vnet_tx(v, 0);
	vnet_rx(v, 0);
	vnet_tx(v, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	uint64_t features;
	const char *why = NULL;

	if (n < 9)
		return 0;
	features = le_get(d, 8);
	if (d[8] & 1) {
		struct vnet_hdr h;

		if (n < 9 + sizeof(h) + 4)
			return 0;
		memcpy(&h, d + 9, sizeof(h));
		if (vnet_tx_check(&h, features, (uint32_t)le_get(d + 9 + sizeof(h), 4), &why) &&
		    !why)
			__builtin_trap(); /* a refusal always says why */
	} else if (d[8] & 2) {
		if (n > 10)
			data_path(features, d + 9, n - 9);
	} else {
		struct vnet_ctrl c = {.pairs = 1};
		uint16_t max = (uint16_t)(d[8] >> 1) % (VNET_MQ_MAX_PAIRS + 1);
		uint8_t r = vnet_ctrl_exec(&c, features, max ? max : 1, d + 9, n - 9);

		if (r != VIRTIO_NET_OK && r != VIRTIO_NET_ERR)
			__builtin_trap();
		if (c.pairs < 1 || c.pairs > (max ? max : 1) || (c.mac[0] & 1) ||
		    (c.guest_offloads & ~features))
			__builtin_trap(); /* only valid state is ever accepted */
	}
	return 0;
}
