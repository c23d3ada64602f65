/* net_io.c: virtio-net's data path, on the NIC's loop thread with the device lock held.
 *
 * Receive: chains are taken from the ring into a small stash until it can hold the largest
 * frame the guest may get (with mergeable buffers: several chains), their buffers go to the
 * backend's readv as they are (guest memory, through the checked accessor), and the chains the
 * frame filled are handed back with num_buffers set; the rest wait for the next frame.
 * Transmit: guest kicks are switched off while a burst is drained, each chain's buffers go to
 * the backend's writev as they are. Used entries are published and the guest interrupted once
 * per VNET_BATCH frames (and at the end), as far as its event index wants. */
#include <endian.h>
#include <errno.h>
#include <unistd.h>

#include "virtio/net_dev.h"

static struct virtq *vq(struct vnet *n, unsigned i)
{
	return &n->vdev.st.q[i];
}

static void publish(struct vnet *n, unsigned qi)
{
	virtq_flush(vq(n, qi), n->vdev.mem);
	virtio_queue_notify_guest(&n->vdev, qi);
}

/* Come back to queue qi after the loop served the others (the budget ran out). */
static void requeue(struct vnet *n, unsigned qi)
{
	uint64_t one = 1;

	if (write(n->vdev.kick[qi].fd, &one, sizeof(one)) < 0) {
		/* an eventfd cannot overflow here */
	}
}

static struct virtq_elem *stash_at(struct vnet_pair *qp, unsigned i)
{
	return &qp->stash[(qp->s_first + i) % VNET_STASH];
}

/* Fill the stash. 1: a frame can be received; 0: the guest must give buffers first; -1: the
 * guest broke the ring (NEEDS_RESET set). */
static int stash_fill(struct vnet *n, struct vnet_pair *qp, struct virtq *q)
{
	const char *why;

	for (;;) {
		struct virtq_elem *e;
		int r;

		if (qp->s_count && (!n->mrg || qp->s_bytes >= n->rx_need))
			return 1;
		if (qp->s_count == VNET_STASH)
			return 1; /* odd tiny buffers: take what fits */
		e = stash_at(qp, qp->s_count);
		r = virtq_pop(q, n->vdev.mem, e, &why);
		if (r < 0) {
			virtio_needs_reset(&n->vdev, why);
			return -1;
		}
		if (r == 0) /* all the guest gave is here: enough unless it is still refilling */
			return qp->s_count && qp->s_count >= q->size ? 1 : 0;
		if (e->nout || e->in_len < VNET_HDR_LEN) {
			virtio_needs_reset(&n->vdev, "receive buffer not writable or shorter than "
						     "the header");
			return -1;
		}
		qp->s_count++;
		qp->s_bytes += e->in_len;
	}
}

void vnet_rx_forget(struct vnet *n, unsigned p)
{
	struct vnet_pair *qp = &n->qp[p];

	qp->s_first = qp->s_count = 0;
	qp->s_bytes = 0;
	qp->rx_starved = false;
	qp->tx_blocked = false;
}

/* The iovecs of the stashed chains that a frame may fill, into n->riov. Returns their count. */
static int rx_iov(struct vnet *n, struct vnet_pair *qp)
{
	unsigned niov = 0, chains = n->mrg ? qp->s_count : 1;
	uint64_t room = 0;

	for (unsigned i = 0; i < chains && room < n->rx_need; i++) {
		struct virtq_elem *e = stash_at(qp, i);

		for (unsigned k = e->nout; k < e->nout + e->nin && niov < VNET_RX_IOV; k++) {
			n->riov[niov++] = e->iov[k];
			room += e->iov[k].iov_len;
		}
	}
	return (int)niov;
}

/* Hand the chains a len-byte frame filled back to the guest. */
static void rx_complete(struct vnet *n, struct vnet_pair *qp, struct virtq *q, uint32_t len)
{
	uint32_t left = len;
	uint16_t used = 0, nb;

	for (unsigned i = 0; left && i < qp->s_count; i++) {
		uint32_t l = stash_at(qp, i)->in_len;

		left -= l < left ? l : left;
		used++;
		if (!n->mrg)
			break;
	}
	nb = htole16(used);
	virtq_copy_to(stash_at(qp, 0), 10, &nb, 2);
	left = len;
	for (uint16_t i = 0; i < used; i++) {
		struct virtq_elem *e = stash_at(qp, 0);
		uint32_t l = e->in_len < left ? e->in_len : left;

		virtq_fill(q, n->vdev.mem, e->head, l);
		left -= l;
		qp->s_bytes -= e->in_len;
		qp->s_first = (qp->s_first + 1) % VNET_STASH;
		qp->s_count--;
	}
}

void vnet_rx(struct vnet *n, unsigned p)
{
	struct vnet_pair *qp = &n->qp[p];
	unsigned qi = 2 * p, frames = 0, pending = 0;
	struct virtq *q = vq(n, qi);

	if (!n->active || p >= n->ctrl.pairs || !virtio_queue_live(&n->vdev, qi))
		return;
	while (frames < VNET_BUDGET) {
		int r = stash_fill(n, qp, q);
		ssize_t len;
		int niov;

		if (r < 0)
			break;
		if (r == 0) {
			if (virtq_set_notify(q, n->vdev.mem, true))
				continue; /* buffers arrived meanwhile */
			qp->rx_starved = true; /* the guest's next kick brings us back */
			n->be->ops->rx_watch(n->be, p, false);
			break;
		}
		niov = rx_iov(n, qp);
		len = n->be->ops->recv(n->be, p, n->riov, niov);
		if (len == -EAGAIN)
			break;
		if (len == -EMSGSIZE) { /* the frame waits in the backend for more buffers */
			qp->rx_starved = true;
			n->be->ops->rx_watch(n->be, p, false);
			virtq_set_notify(q, n->vdev.mem, true);
			break;
		}
		if (len < VNET_HDR_LEN) { /* lost (tap: did not fit, -EFAULT) or failing */
			qp->rx_dropped++;
			vnet_count(n, VNET_DROPPED, 1);
			if (len >= 0 || len == -EFAULT || len == -EINVAL)
				continue;
			break;
		}
		if (n->riov[0].iov_len >= 2) /* the backend's header: gso_type */
			qp->rx_gso += ((const uint8_t *)n->riov[0].iov_base)[1] != VNET_HDR_GSO_NONE;
		rx_complete(n, qp, q, (uint32_t)len);
		qp->rx_frames++;
		vnet_count(n, VNET_RX_FRAMES, 1);
		vnet_count(n, VNET_RX_BYTES, (uint64_t)len - VNET_HDR_LEN);
		frames++;
		if (++pending == VNET_BATCH) {
			publish(n, qi);
			pending = 0;
		}
	}
	if (pending)
		publish(n, qi);
	if (frames == VNET_BUDGET)
		requeue(n, qi);
}

/* Send chain e; 0 when done with it (sent or dropped), -EAGAIN when the backend is full. */
static int tx_one(struct vnet *n, struct vnet_pair *qp, unsigned p, struct virtq_elem *e)
{
	struct vnet_hdr h;
	const char *why;
	int ret;

	if (e->out_len < VNET_HDR_LEN ||
	    virtq_copy_from(e, 0, &h, VNET_HDR_LEN) != VNET_HDR_LEN ||
	    vnet_tx_check(&h, n->features, e->out_len - VNET_HDR_LEN, &why)) {
		qp->tx_dropped++; /* a malformed frame is dropped, as a NIC would */
		vnet_count(n, VNET_DROPPED, 1);
		return 0;
	}
	ret = n->be->ops->send(n->be, p, e->iov, (int)e->nout);
	if (ret == -EAGAIN)
		return ret;
	if (ret) {
		qp->tx_dropped++;
		vnet_count(n, VNET_DROPPED, 1);
	} else {
		qp->tx_frames++;
		vnet_count(n, VNET_TX_FRAMES, 1);
		vnet_count(n, VNET_TX_BYTES, e->out_len - VNET_HDR_LEN);
		qp->tx_gso += h.gso_type != VNET_HDR_GSO_NONE;
	}
	return 0;
}

void vnet_tx(struct vnet *n, unsigned p)
{
	struct vnet_pair *qp = &n->qp[p];
	unsigned qi = 2 * p + 1, frames = 0, pending = 0;
	struct virtq *q = vq(n, qi);
	const char *why;

	if (!n->active || qp->tx_blocked || !virtio_queue_live(&n->vdev, qi))
		return;
	virtq_set_notify(q, n->vdev.mem, false); /* no kicks while we drain */
	for (;;) {
		int r;

		if (frames == VNET_BUDGET) {
			requeue(n, qi);
			break;
		}
		r = virtq_pop(q, n->vdev.mem, &n->txe, &why);
		if (r < 0) {
			virtio_needs_reset(&n->vdev, why);
			break;
		}
		if (r == 0) {
			if (virtq_set_notify(q, n->vdev.mem, true))
				continue;
			break;
		}
		if (tx_one(n, qp, p, &n->txe) == -EAGAIN) {
			virtq_unpop(q); /* sent again when the backend has room */
			qp->tx_blocked = true;
			n->be->ops->tx_wait(n->be, p);
			break;
		}
		virtq_fill(q, n->vdev.mem, n->txe.head, 0);
		frames++;
		if (++pending == VNET_BATCH) {
			publish(n, qi);
			pending = 0;
		}
	}
	if (pending)
		publish(n, qi);
}
