/* net.c: virtio-net (modern), one device per --net. Queues: receive 2p and transmit 2p+1 for
 * each pair p, then the control queue. Offered: MAC, link status, mergeable receive buffers,
 * event index, indirect descriptors, the control queue (rx mode, MAC table, guest offloads,
 * multiqueue when the tap has several queues), and with a tap the checksum and TSO offloads
 * both ways. Each NIC has its own I/O thread (a struct loop): its kicks (ioeventfd), its
 * backend's fds and its control work run there, never on a vCPU; interrupts leave through
 * the transport's irqfds. The data path is net_io.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"
#include "util/zmem.h"
#include "virtio/net_dev.h"
#include "vm/counters.h"
#include "vm/config.h"
#include "vm/devif.h"
#include "vm/loop.h"

#define F(x) VNET_F(VIRTIO_NET_F_##x)

static unsigned ctrl_queue(const struct vnet *n)
{
	return 2 * n->max_pairs;
}

/* Bring the backend in line with the device (watch, offloads). Loop thread, lock held. */
static void apply_backend(struct vnet *n)
{
	n->be->ops->set_queues(n->be, n->active ? n->ctrl.pairs : 1);
	n->be->ops->set_offload(n->be, n->active ? vnet_offloads_of(n->ctrl.guest_offloads) : 0);
	for (unsigned p = 0; p < n->be->queues && p < n->max_pairs; p++)
		n->be->ops->rx_watch(n->be, p,
				     n->active && p < n->ctrl.pairs && !n->qp[p].rx_starved);
}

/* Link state from the backend into the config space (a config interrupt on change). */
static void update_link(struct vnet *n)
{
	uint16_t st = n->be->link_up ? VIRTIO_NET_S_LINK_UP : 0;

	if ((n->cfg.status & VIRTIO_NET_S_LINK_UP) != st) {
		n->cfg.status = (uint16_t)((n->cfg.status & ~VIRTIO_NET_S_LINK_UP) | st);
		virtio_config_changed(&n->vdev);
	}
}

static void ctrl_work(struct vnet *n);

/* Deferred work from a vCPU (activation, reset, the core's catch-up at DRIVER_OK): backend
 * state, then every queue. */
static void on_ctl(void *opaque, uint32_t events)
{
	struct vnet *n = opaque;
	uint64_t v;

	if (read(n->ctlfd, &v, sizeof(v)) < 0)
		return;
	pthread_mutex_lock(&n->vdev.lock);
	apply_backend(n);
	for (unsigned p = 0; n->active && p < n->ctrl.pairs; p++) {
		vnet_rx(n, p);
		vnet_tx(n, p);
	}
	if (n->active)
		ctrl_work(n);
	pthread_mutex_unlock(&n->vdev.lock);
}

/* Have on_ctl run on the loop thread (from a vCPU's status write). */
static void poke(struct vnet *n)
{
	uint64_t one = 1;

	if (write(n->ctlfd, &one, sizeof(one)) < 0) {
		/* cannot overflow */
	}
}

static void be_rx_ready(void *opaque, unsigned q)
{
	struct vnet *n = opaque;

	pthread_mutex_lock(&n->vdev.lock);
	update_link(n);
	vnet_rx(n, q);
	pthread_mutex_unlock(&n->vdev.lock);
}

static void be_tx_ready(void *opaque, unsigned q)
{
	struct vnet *n = opaque;

	pthread_mutex_lock(&n->vdev.lock);
	n->qp[q].tx_blocked = false;
	vnet_tx(n, q);
	pthread_mutex_unlock(&n->vdev.lock);
}

/* A control request: class, command, data (readable), then the ack byte (writable). */
static void ctrl_request(struct vnet *n, struct virtq_elem *e)
{
	uint8_t req[VNET_CTRL_MAX], ack = VIRTIO_NET_ERR;
	struct vnet_ctrl before = n->ctrl;

	if (e->out_len <= sizeof(req)) {
		virtq_copy_from(e, 0, req, e->out_len);
		ack = vnet_ctrl_exec(&n->ctrl, n->features, (uint16_t)n->max_pairs, req,
				     e->out_len);
	}
	virtq_copy_to(e, 0, &ack, 1);
	memcpy(n->cfg.mac, n->ctrl.mac, 6);
	if (n->ctrl.guest_offloads != before.guest_offloads || n->ctrl.pairs != before.pairs)
		apply_backend(n);
	for (unsigned p = before.pairs; p < n->ctrl.pairs; p++)
		vnet_rx(n, p);
}

static void ctrl_work(struct vnet *n)
{
	unsigned qi = ctrl_queue(n);
	struct virtq *q = &n->vdev.st.q[qi];
	const char *why;

	if (!virtio_queue_live(&n->vdev, qi))
		return;
	for (;;) {
		int r = virtq_pop(q, n->vdev.mem, &n->ctle, &why);

		if (r < 0) {
			virtio_needs_reset(&n->vdev, why);
			return;
		}
		if (r == 0) {
			/* with the event index, the guest kicks again only if we ask */
			if (virtq_set_notify(q, n->vdev.mem, true))
				continue;
			return;
		}
		if (!n->ctle.nin) {
			virtio_needs_reset(&n->vdev, "control request without room for its ack");
			return;
		}
		ctrl_request(n, &n->ctle);
		virtq_fill(q, n->vdev.mem, n->ctle.head, 1);
		virtq_flush(q, n->vdev.mem);
		virtio_queue_notify_guest(&n->vdev, qi);
	}
}

static void vnet_notify(struct virtio_dev *d, unsigned qi)
{
	struct vnet *n = d->priv;
	unsigned p = qi / 2;

	if (!loop_on_thread(n->loop)) { /* the core's catch-up at DRIVER_OK, on a vCPU */
		poke(n);
		return;
	}
	if (!n->active)
		return;
	if (qi == ctrl_queue(n)) {
		ctrl_work(n);
	} else if (qi & 1) {
		vnet_tx(n, p);
	} else {
		if (n->qp[p].rx_starved) { /* the guest gave buffers: watch the backend again */
			n->qp[p].rx_starved = false;
			n->be->ops->rx_watch(n->be, p, p < n->ctrl.pairs);
		}
		vnet_rx(n, p);
	}
}

static void vnet_activate(struct virtio_dev *d)
{
	struct vnet *n = d->priv;
	uint64_t f = d->st.driver_features;

	n->features = f;
	n->mrg = f & F(MRG_RXBUF);
	n->ctrl.guest_offloads = f & VNET_GUEST_OFFLOAD_BITS;
	n->ctrl.pairs = 1;
	/* the largest frame the guest may get: a GSO frame when it takes them */
	n->rx_need = VNET_HDR_LEN +
		     ((f & (F(GUEST_TSO4) | F(GUEST_TSO6) | F(GUEST_UFO))) ? NET_MAX_FRAME : 1518);
	for (unsigned p = 0; p < n->max_pairs; p++)
		vnet_rx_forget(n, p);
	n->active = true;
	n->ever_active = true;
	poke(n); /* offloads, watches and any queued work, on the loop thread */
}

static void vnet_reset(struct virtio_dev *d)
{
	struct vnet *n = d->priv;

	n->active = false;
	for (unsigned p = 0; p < n->max_pairs; p++)
		vnet_rx_forget(n, p); /* stashed chains belong to the old rings */
	memcpy(n->ctrl.mac, n->cfg.mac, 6);
	n->ctrl.pairs = 1;
	n->ctrl.guest_offloads = 0;
	poke(n);
}

static void vnet_config_read(struct virtio_dev *d, unsigned off, uint8_t *data, unsigned len)
{
	struct vnet *n = d->priv;

	memcpy(data, (const uint8_t *)&n->cfg + off, len);
}

static const struct virtio_dev_ops vnet_ops = {
	.config_read = vnet_config_read,
	.queue_notify = vnet_notify,
	.activate = vnet_activate,
	.reset = vnet_reset,
};

static void print_stats(const struct vnet *n)
{
	uint64_t rx = 0, tx = 0, rxg = 0, txg = 0, drop = 0;

	for (unsigned p = 0; p < n->max_pairs; p++) {
		rx += n->qp[p].rx_frames;
		tx += n->qp[p].tx_frames;
		rxg += n->qp[p].rx_gso;
		txg += n->qp[p].tx_gso;
		drop += n->qp[p].rx_dropped + n->qp[p].tx_dropped;
	}
	log_info("%s: rx %llu frames (%llu segmented), tx %llu frames (%llu segmented), "
		 "%llu dropped",
		 n->vdev.name, (unsigned long long)rx, (unsigned long long)rxg,
		 (unsigned long long)tx, (unsigned long long)txg, (unsigned long long)drop);
}

static void vnet_destroy(void *opaque)
{
	struct vnet *n = opaque;

	if (n->loop)
		loop_stop(n->loop); /* nothing runs on the I/O thread from here on */
	if (n->stats && n->ever_active)
		print_stats(n);
	if (n->vdev.vm) /* virtio_dev_init ran */
		virtio_dev_destroy(&n->vdev);
	net_backend_destroy(n->be);
	if (n->ctlfd >= 0) {
		if (n->loop)
			loop_del(n->loop, n->ctlfd);
		close(n->ctlfd);
	}
	loop_destroy(n->loop);
	for (unsigned p = 0; p < VNET_MQ_MAX_PAIRS; p++)
		zmem_free(n->qp[p].stash, VNET_STASH * sizeof(struct virtq_elem));
	free(n);
}

/* The features offered for backend be with pairs queue pairs. */
static uint64_t offered(const struct net_backend *be, unsigned pairs)
{
	uint64_t f = F(MAC) | F(STATUS) | F(MRG_RXBUF) | F(CTRL_VQ) | F(CTRL_RX) |
		     F(CTRL_MAC_ADDR) | 1ULL << VIRTIO_F_RING_EVENT_IDX |
		     1ULL << VIRTIO_F_RING_INDIRECT_DESC;

	if (be->offloads & NET_OFF_CSUM) {
		f |= F(CSUM) | F(GUEST_CSUM) | F(CTRL_GUEST_OFFLOADS);
		f |= (be->offloads & NET_OFF_TSO4) ? F(HOST_TSO4) | F(GUEST_TSO4) : 0;
		f |= (be->offloads & NET_OFF_TSO6) ? F(HOST_TSO6) | F(GUEST_TSO6) : 0;
		f |= (be->offloads & NET_OFF_ECN) ? F(HOST_ECN) | F(GUEST_ECN) : 0;
	}
	if (pairs > 1)
		f |= F(MQ);
	return f;
}

static const char *const ctr_names[VNET_NCTR] = {
	[VNET_RX_FRAMES] = "rx_frames", [VNET_RX_BYTES] = "rx_bytes",
	[VNET_TX_FRAMES] = "tx_frames", [VNET_TX_BYTES] = "tx_bytes",
	[VNET_DROPPED] = "dropped_frames",
};

static int vnet_create(struct vm *vm, unsigned index)
{
	const struct vm_config *cfg = devif_config(vm);
	const struct net_config *nc = &cfg->nets[index];
	char name[VM_NAME_MAX + 1];
	struct err e = {{0}};
	struct vnet *n = calloc(1, sizeof(*n));
	int ret;

	if (!n)
		return -ENOMEM;
	n->ctlfd = -1;
	n->index = index;
	n->max_pairs = nc->queues ? nc->queues : 1;
	n->stats = cfg->stats;
	ret = devif_add_device(vm, "virtio-net", n, vnet_destroy);
	if (ret) {
		free(n);
		return ret;
	}
	ret = loop_create(&n->loop);
	if (ret)
		return ret;
	ret = net_backend_create(&n->be, nc, n->loop, be_rx_ready, be_tx_ready, n, &e);
	if (ret)
		return errf(devif_err(vm), ret, "net %u: %s", index + 1, e.msg);
	if (n->max_pairs > n->be->queues) /* user mode has one queue */
		n->max_pairs = n->be->queues;
	for (unsigned p = 0; p < n->max_pairs; p++)
		if (!(n->qp[p].stash = zmem_alloc(VNET_STASH * sizeof(struct virtq_elem))))
			return -ENOMEM;
	n->ctlfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->ctlfd < 0)
		return -errno;
	ret = loop_add(n->loop, n->ctlfd, EPOLLIN, on_ctl, n);
	if (ret)
		return ret;
	if (nc->mac_set)
		memcpy(n->cfg.mac, nc->mac, 6);
	else
		net_mac_derive(n->cfg.mac, vm_config_name(cfg, name), index, nc->kind,
			       nc->ifname);
	memcpy(n->ctrl.mac, n->cfg.mac, 6);
	n->cfg.status = n->be->link_up ? VIRTIO_NET_S_LINK_UP : 0;
	n->cfg.max_virtqueue_pairs = (uint16_t)n->max_pairs;
	n->ctrl.pairs = 1;
	snprintf(n->vdev.name, sizeof(n->vdev.name), "virtio-net%u", index);
	n->vdev.device_id = VIRTIO_ID_NET;
	n->vdev.features = offered(n->be, n->max_pairs);
	n->vdev.nqueues = 2 * n->max_pairs + 1;
	n->vdev.queue_size = VNET_QUEUE_SIZE;
	n->vdev.config_len = sizeof(n->cfg);
	n->vdev.pci_class[2] = 0x02; /* network controller, Ethernet */
	n->vdev.ops = &vnet_ops;
	n->vdev.priv = n;
	n->vdev.loop = n->loop;
	snprintf(name, sizeof(name), "net%u", index);
	ret = vm_counters_register(vm, name, "net", ctr_names, n->ctr, VNET_NCTR);
	if (!ret)
		ret = virtio_dev_init(&n->vdev, vm);
	if (!ret)
		ret = virtio_attach(&n->vdev);
	if (!ret)
		ret = loop_start(n->loop);
	return ret;
}

static int vnet_init(struct vm *vm)
{
	const struct vm_config *cfg = devif_config(vm);

	for (unsigned i = 0; i < cfg->nnets; i++) {
		int ret = vnet_create(vm, i);

		if (ret)
			return ret;
	}
	return 0;
}

DEVICE_REGISTER(virtio_net, DEV_PHASE_PCI, vnet_init);
