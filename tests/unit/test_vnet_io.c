/* test_vnet_io.c: virtio-net's data path (virtio/net_io.c) over real split virtqueues in a
 * gmem, with a fake backend: a frame spread over mergeable receive buffers with num_buffers
 * set, a starved ring stops the backend's watch, transmitted chains reach the backend as they
 * are (header first), a bad header is dropped, a full backend gets the same chain again, and a
 * hostile receive chain puts the device in NEEDS_RESET. The device core's calls are faked. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "virtio/net_dev.h"

#define QSZ 8
#define RAM (16u << 20)
#define RXQ 0x1000 /* desc, avail, used of the receive queue at +0, +0x200, +0x400 */
#define TXQ 0x2000
#define BUF 0x100000

/* ---- fakes of the device core ---- */
static int resets, notifies;
static const char *reset_why;

bool virtio_queue_live(struct virtio_dev *d, unsigned q)
{
	return !d->broken && d->st.q[q].ready;
}

void virtio_queue_notify_guest(struct virtio_dev *d, unsigned q)
{
	if (virtq_should_notify(&d->st.q[q], d->mem))
		notifies++;
}

void virtio_needs_reset(struct virtio_dev *d, const char *why)
{
	d->broken = true;
	resets++;
	reset_why = why;
}

/* ---- a fake backend ---- */
static struct {
	uint8_t frame[70000]; /* the next frame recv returns (vnet header first) */
	size_t frame_len;     /* 0: -EAGAIN */
	int send_ret;         /* what send returns */
	uint8_t sent[70000];
	size_t sent_len;
	int sends, rx_watch_on, rx_watch_off, tx_waits;
} be;

static int fb_send(struct net_backend *b, unsigned q, const struct iovec *iov, int n)
{
	be.sends++;
	if (be.send_ret)
		return be.send_ret;
	be.sent_len = 0;
	for (int i = 0; i < n; i++) {
		memcpy(be.sent + be.sent_len, iov[i].iov_base, iov[i].iov_len);
		be.sent_len += iov[i].iov_len;
	}
	return 0;
}

static ssize_t fb_recv(struct net_backend *b, unsigned q, const struct iovec *iov, int n)
{
	size_t off = 0;

	if (!be.frame_len)
		return -EAGAIN;
	for (int i = 0; i < n && off < be.frame_len; i++) {
		size_t c = be.frame_len - off < iov[i].iov_len ? be.frame_len - off : iov[i].iov_len;

		memcpy(iov[i].iov_base, be.frame + off, c);
		off += c;
	}
	if (off < be.frame_len)
		return -EFAULT; /* as tap does for a frame that did not fit */
	off = be.frame_len;
	be.frame_len = 0;
	return (ssize_t)off;
}

static void fb_rx_watch(struct net_backend *b, unsigned q, bool on)
{
	on ? be.rx_watch_on++ : be.rx_watch_off++;
}

static void fb_tx_wait(struct net_backend *b, unsigned q)
{
	be.tx_waits++;
}

static const struct net_backend_ops fb_ops = {
	.send = fb_send, .recv = fb_recv, .rx_watch = fb_rx_watch, .tx_wait = fb_tx_wait};

/* ---- the fixture: a vnet with one pair, its rings in a gmem ---- */
static struct gmem mem;
static struct vnet *n;
static struct net_backend fbe = {.ops = &fb_ops, .queues = 1};
static uint16_t avail_idx[2];

static void setq(struct virtq *q, uint64_t base)
{
	virtq_reset(q, QSZ);
	q->desc = base, q->avail = base + 0x200, q->used = base + 0x400;
	q->event_idx = false;
	q->ready = true;
}

static int setup(void **st)
{
	memset(&be, 0, sizeof(be));
	resets = notifies = 0;
	avail_idx[0] = avail_idx[1] = 0;
	assert_int_equal(gmem_init(&mem, RAM, 0), 0);
	n = calloc(1, sizeof(*n));
	n->qp[0].stash = calloc(VNET_STASH, sizeof(struct virtq_elem));
	n->vdev.mem = &mem;
	n->vdev.nqueues = 3;
	setq(&n->vdev.st.q[0], RXQ);
	setq(&n->vdev.st.q[1], TXQ);
	n->be = &fbe;
	n->max_pairs = 1;
	n->ctrl.pairs = 1;
	n->active = true;
	n->mrg = true;
	n->features = VNET_F(VIRTIO_NET_F_CSUM) | VNET_F(VIRTIO_NET_F_HOST_TSO4) |
		      VNET_F(VIRTIO_NET_F_MRG_RXBUF);
	n->rx_need = VNET_HDR_LEN + NET_MAX_FRAME;
	return 0;
}

static int teardown(void **st)
{
	free(n->qp[0].stash);
	free(n);
	gmem_destroy(&mem);
	return 0;
}

static void desc(uint64_t qbase, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	uint8_t *p = gmem_ptr(&mem, qbase + 16 * i, 16);

	le_put(p, addr, 8);
	le_put(p + 8, len, 4);
	le_put(p + 12, flags, 2);
	le_put(p + 14, next, 2);
}

static void post(unsigned qi, uint16_t head)
{
	uint64_t base = qi ? TXQ : RXQ;
	uint8_t *a = gmem_ptr(&mem, base + 0x200, 6 + 2 * QSZ);

	le_put(a + 4 + 2 * (avail_idx[qi] % QSZ), head, 2);
	avail_idx[qi]++;
	le_put(a + 2, avail_idx[qi], 2);
}

static uint32_t used_idx(unsigned qi)
{
	return (uint32_t)le_get(gmem_ptr(&mem, (qi ? TXQ : RXQ) + 0x400 + 2, 2), 2);
}

static uint32_t used_len(unsigned qi, unsigned i)
{
	return (uint32_t)le_get(gmem_ptr(&mem, (qi ? TXQ : RXQ) + 0x400 + 4 + 8 * i + 4, 4), 4);
}

static void rx_frame_over_mergeable_buffers(void **st)
{
	/* 8 writable buffers of 1536 bytes: the whole ring, less than a GSO frame */
	for (unsigned i = 0; i < QSZ; i++) {
		desc(RXQ, i, BUF + 0x1000 * i, 1536, VRING_DESC_F_WRITE, 0);
		post(0, (uint16_t)i);
	}
	be.frame_len = 4000;
	memset(be.frame, 0, VNET_HDR_LEN);
	be.frame[1] = VNET_HDR_GSO_TCPV4;
	for (size_t i = VNET_HDR_LEN; i < be.frame_len; i++)
		be.frame[i] = (uint8_t)(i * 7);
	vnet_rx(n, 0);
	assert_int_equal(resets, 0);
	assert_int_equal(used_idx(0), 3); /* 1536 + 1536 + 928 */
	assert_int_equal(used_len(0, 0), 1536);
	assert_int_equal(used_len(0, 1), 1536);
	assert_int_equal(used_len(0, 2), 4000 - 2 * 1536);
	assert_int_equal(le_get(gmem_ptr(&mem, BUF + 10, 2), 2), 3); /* num_buffers */
	assert_int_equal(*(uint8_t *)gmem_ptr(&mem, BUF + 1, 1), VNET_HDR_GSO_TCPV4);
	assert_memory_equal(gmem_ptr(&mem, BUF + 0x1000 + 0, 1536), be.frame + 1536, 1536);
	assert_memory_equal(gmem_ptr(&mem, BUF + 0x2000, 928), be.frame + 3072, 928);
	assert_int_equal(n->qp[0].rx_frames, 1);
	assert_int_equal(n->qp[0].rx_gso, 1);
	assert_int_equal(notifies, 1);
	/* the 5 chains left stay stashed; too few for a GSO frame while the guest still owes 3:
	 * the device waits for its refill with the backend unwatched */
	assert_int_equal(n->qp[0].s_count, 5);
	assert_true(n->qp[0].rx_starved);
	assert_int_equal(be.rx_watch_off, 1);
	be.frame_len = 100;
	/* the refill (the guest's kick) brings the whole ring back: a small frame takes the
	 * oldest stashed buffer */
	for (unsigned i = 0; i < 3; i++)
		post(0, (uint16_t)i);
	n->qp[0].rx_starved = false;
	vnet_rx(n, 0);
	assert_int_equal(used_idx(0), 4);
	assert_int_equal(used_len(0, 3), 100);
	assert_int_equal(le_get(gmem_ptr(&mem, BUF + 0x3000 + 10, 2), 2), 1);
}

static void rx_starved_ring_stops_the_watch(void **st)
{
	desc(RXQ, 0, BUF, 1536, VRING_DESC_F_WRITE, 0);
	post(0, 0);
	be.frame_len = 100;
	vnet_rx(n, 0); /* one buffer, and the guest may still add more: wait for it */
	assert_int_equal(used_idx(0), 0);
	assert_true(n->qp[0].rx_starved);
	assert_int_equal(be.rx_watch_off, 1);
	/* without mergeable buffers one chain is enough */
	n->mrg = false;
	n->qp[0].rx_starved = false;
	vnet_rx(n, 0);
	assert_int_equal(used_idx(0), 1);
	assert_int_equal(used_len(0, 0), 100);
	assert_int_equal(le_get(gmem_ptr(&mem, BUF + 10, 2), 2), 1);
}

static void rx_hostile_chain_needs_reset(void **st)
{
	desc(RXQ, 0, BUF, 1536, 0, 0); /* device-readable: not a receive buffer */
	post(0, 0);
	be.frame_len = 100;
	vnet_rx(n, 0);
	assert_int_equal(resets, 1);
	assert_string_equal(reset_why, "receive buffer not writable or shorter than the header");
	assert_int_equal(used_idx(0), 0);
	n->vdev.broken = false;
	desc(RXQ, 1, BUF, 1536, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1); /* loops */
	post(0, 1);
	vnet_rx(n, 0);
	assert_int_equal(resets, 2);
}

static void tx_chains_reach_the_backend(void **st)
{
	uint8_t *h = gmem_ptr(&mem, BUF, 12);

	/* header alone in one buffer, the frame in two more */
	memset(h, 0, 12);
	memset(gmem_ptr(&mem, BUF + 0x1000, 100), 0xab, 100);
	memset(gmem_ptr(&mem, BUF + 0x2000, 50), 0xcd, 50);
	desc(TXQ, 0, BUF, 12, VRING_DESC_F_NEXT, 1);
	desc(TXQ, 1, BUF + 0x1000, 100, VRING_DESC_F_NEXT, 2);
	desc(TXQ, 2, BUF + 0x2000, 50, 0, 0);
	post(1, 0);
	vnet_tx(n, 0);
	assert_int_equal(be.sends, 1);
	assert_int_equal(be.sent_len, 162);
	assert_int_equal(be.sent[12], 0xab);
	assert_int_equal(be.sent[161], 0xcd);
	assert_int_equal(used_idx(1), 1);
	assert_int_equal(used_len(1, 0), 0);
	/* segmentation of a kind not negotiated (TSO6): dropped, never sent, still completed */
	h[0] = VNET_HDR_F_NEEDS_CSUM;
	h[1] = VNET_HDR_GSO_TCPV6;
	le_put(h + 4, 1400, 2);
	post(1, 0);
	vnet_tx(n, 0);
	assert_int_equal(be.sends, 1);
	assert_int_equal(used_idx(1), 2);
	assert_int_equal(n->qp[0].tx_dropped, 1);
	/* TSO4 is negotiated: sent, counted as segmented */
	h[1] = VNET_HDR_GSO_TCPV4;
	le_put(h + 6, 34, 2);
	le_put(h + 8, 16, 2);
	post(1, 0);
	vnet_tx(n, 0);
	assert_int_equal(be.sends, 2);
	assert_int_equal(n->qp[0].tx_gso, 1);
	/* a chain without a whole header: dropped */
	desc(TXQ, 3, BUF, 8, 0, 0);
	post(1, 3);
	vnet_tx(n, 0);
	assert_int_equal(be.sends, 2);
	assert_int_equal(used_idx(1), 4);
}

static void tx_full_backend_resends_the_chain(void **st)
{
	memset(gmem_ptr(&mem, BUF, 12), 0, 12);
	desc(TXQ, 0, BUF, 60, 0, 0);
	post(1, 0);
	be.send_ret = -EAGAIN;
	vnet_tx(n, 0);
	assert_int_equal(be.tx_waits, 1);
	assert_true(n->qp[0].tx_blocked);
	assert_int_equal(used_idx(1), 0);
	vnet_tx(n, 0); /* still blocked: nothing tried */
	assert_int_equal(be.sends, 1);
	be.send_ret = 0;
	n->qp[0].tx_blocked = false; /* the backend's tx_ready */
	vnet_tx(n, 0);
	assert_int_equal(be.sends, 2);
	assert_int_equal(be.sent_len, 60);
	assert_int_equal(used_idx(1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rx_frame_over_mergeable_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(rx_starved_ring_stops_the_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(rx_hostile_chain_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(tx_chains_reach_the_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(tx_full_backend_resends_the_chain, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
