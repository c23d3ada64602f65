/* net_dev.h: the virtio-net device's state, shared by net.c (device, control queue, set-up)
 * and net_io.c (the receive and transmit paths). Not for other files. */
#ifndef TV_VIRTIO_NET_DEV_H
#define TV_VIRTIO_NET_DEV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "net/net.h"
#include "virtio/net_proto.h"
#include "virtio/virtio.h"

#define VNET_QUEUE_SIZE 256
#define VNET_STASH 64      /* receive chains held at once (a 64 KiB frame in 1.5 KiB buffers) */
#define VNET_RX_IOV 1024   /* iovecs handed to one readv (IOV_MAX) */
#define VNET_BUDGET 256    /* frames per turn before the loop serves others */
#define VNET_BATCH 64      /* used entries published (and the guest told) at once */

/* One queue pair: receive queue 2p, transmit queue 2p+1. */
struct vnet_pair {
	/* receive: chains taken from the ring but not yet filled, oldest first */
	struct virtq_elem *stash;  /* VNET_STASH entries, a ring */
	unsigned s_first, s_count;
	uint64_t s_bytes;          /* writable bytes in the stash */
	bool rx_starved;           /* waiting for the guest's buffers: backend not watched */
	bool tx_blocked;           /* the backend is full: waiting for its tx_ready */
	uint64_t rx_frames, tx_frames, rx_gso, tx_gso, tx_dropped, rx_dropped;
};

/* Counters for vm.counters and /metrics (src/vm/counters.h), written by the I/O thread only. */
enum { VNET_RX_FRAMES, VNET_RX_BYTES, VNET_TX_FRAMES, VNET_TX_BYTES, VNET_DROPPED, VNET_NCTR };

struct vnet {
	struct virtio_dev vdev;
	atomic_ullong ctr[VNET_NCTR];
	struct loop *loop;          /* this NIC's I/O thread: kicks, backend, control */
	struct net_backend *be;
	int ctlfd;                  /* eventfd: re-apply the backend state on the loop thread */
	unsigned index;
	unsigned max_pairs;
	struct vnet_config cfg;     /* what the guest reads (mac, status, max pairs) */
	struct vnet_ctrl ctrl;
	uint64_t features;          /* negotiated, fixed at DRIVER_OK */
	bool active;                /* DRIVER_OK and not reset */
	bool mrg;                   /* mergeable receive buffers */
	bool stats;                 /* --stats: print the counters at teardown */
	bool ever_active;           /* a driver got this far: counters worth printing */
	uint32_t rx_need;           /* bytes a receive must be able to take (header included) */
	struct vnet_pair qp[VNET_MQ_MAX_PAIRS];
	struct iovec riov[VNET_RX_IOV];
	struct virtq_elem txe, ctle;
};

/* Add v to counter c (one writer: a relaxed load and store, no locked instruction). */
static inline void vnet_count(struct vnet *n, unsigned c, uint64_t v)
{
	atomic_store_explicit(&n->ctr[c],
			      atomic_load_explicit(&n->ctr[c], memory_order_relaxed) + v,
			      memory_order_relaxed);
}

/* net_io.c, called with vdev.lock held on the loop thread. */
/* Receive into pair p's queue until the backend or the guest's buffers run out. */
void vnet_rx(struct vnet *n, unsigned p);
/* Transmit what the guest queued on pair p (at most VNET_BUDGET frames per turn). */
void vnet_tx(struct vnet *n, unsigned p);
/* Drop pair p's stashed receive chains (reset). */
void vnet_rx_forget(struct vnet *n, unsigned p);

#endif
