/* virtio.h: a virtio 1.x device, independent of its transport (virtio/pci.c, virtio/mmio.c).
 *
 * A device file (blk.c, console.c, rng.c, ...) fills a struct virtio_dev (id, offered
 * features, queues, config size, ops) and calls virtio_dev_init, then virtio_attach, which
 * puts it on the configured transport. The core owns status, feature negotiation (refusing
 * features that were not offered, and any driver without VERSION_1), queue set-up, reset,
 * config generation and NEEDS_RESET. Kicks arrive on one eventfd per queue (KVM ioeventfd),
 * handled on the device's loop thread; interrupts leave through the transport (irqfd).
 *
 * Locking: d->lock serializes the transport (vCPU threads) and the device's queue work (its
 * loop thread). ops are called with it held. */
#ifndef TV_VIRTIO_H
#define TV_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mem/gmem.h"
#include "virtio/queue.h"

struct vm;
struct loop;

#define VIRTIO_MAX_QUEUES 64
#define VIRTIO_NO_VECTOR 0xffff

/* device status bits */
#define VIRTIO_S_ACKNOWLEDGE 1
#define VIRTIO_S_DRIVER 2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_NEEDS_RESET 0x40
#define VIRTIO_S_FAILED 0x80

/* feature bits the core knows */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* ISR bits */
#define VIRTIO_ISR_QUEUE 1
#define VIRTIO_ISR_CONFIG 2

/* device ids */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

struct virtio_dev;

struct virtio_dev_ops {
	/* Device config space, off + len <= config_len (the core checks). */
	void (*config_read)(struct virtio_dev *d, unsigned off, uint8_t *data, unsigned len);
	void (*config_write)(struct virtio_dev *d, unsigned off, const uint8_t *data,
			     unsigned len);
	/* Queue q was kicked (or has work): take and complete chains. Loop thread. */
	void (*queue_notify)(struct virtio_dev *d, unsigned q);
	/* DRIVER_OK was set: features and queues are final. */
	void (*activate)(struct virtio_dev *d);
	/* The driver reset the device: forget in-flight work (its completions are dropped). */
	void (*reset)(struct virtio_dev *d);
};

/* What a transport does for the core. */
struct virtio_transport_ops {
	/* Raise the interrupt for vector (PCI MSI-X; ignored otherwise) after the core set the
	 * ISR bit (queue or config). Any thread, with d->lock held. */
	void (*signal)(struct virtio_dev *d, uint16_t vector);
};

/* The part of a device that is saved and restored: plain data only. */
struct virtio_state {
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;
	uint32_t dev_feat_sel, drv_feat_sel;
	uint64_t driver_features;
	uint16_t queue_sel;
	uint16_t msix_config;
	struct virtq q[VIRTIO_MAX_QUEUES];
};

struct virtio_kick {
	struct virtio_dev *d;
	unsigned q;
	int fd;
};

struct virtio_dev {
	/* filled by the device before virtio_dev_init */
	char name[24];           /* "virtio-blk0": log lines */
	uint16_t device_id;
	uint64_t features;       /* offered (the core adds VERSION_1) */
	unsigned nqueues;
	uint16_t queue_size;     /* max size of every queue */
	unsigned config_len;
	uint8_t pci_class[3];    /* programming interface, subclass, class */
	const struct virtio_dev_ops *ops;
	void *priv;
	struct loop *loop;       /* where kicks run; NULL: the VM's event loop */

	/* the core's */
	struct vm *vm;
	const struct gmem *mem;
	pthread_mutex_t lock;
	struct virtio_state st;
	struct virtio_kick kick[VIRTIO_MAX_QUEUES];
	const struct virtio_transport_ops *tops;
	void *transport;
	bool broken;             /* NEEDS_RESET set; no queue work until reset */
	int64_t last_log_ns;     /* rate limit of the NEEDS_RESET line */
	unsigned suppressed;
};

/* Set up the core part of d (lock, state, one kick eventfd per queue watched on d->loop).
 * 0 or -errno. */
int virtio_dev_init(struct virtio_dev *d, struct vm *vm) __attribute__((warn_unused_result));

/* Put d on the configured transport (PCI or MMIO, devif_config(vm)->transport). 0 or -errno
 * (init only). The transport frees nothing; d lives until virtio_dev_destroy. */
int virtio_attach(struct virtio_dev *d) __attribute__((warn_unused_result));

/* Close the kick eventfds and destroy the lock. Call once the loop watching the kicks has
 * stopped (vm_destroy stops the VM's loop before it destroys devices). */
void virtio_dev_destroy(struct virtio_dev *d);

/* Transport entry points (d->lock held by the caller). */
uint32_t virtio_get_features(struct virtio_dev *d);      /* window dev_feat_sel */
void virtio_set_features(struct virtio_dev *d, uint32_t v); /* window drv_feat_sel */
uint32_t virtio_get_driver_features(struct virtio_dev *d);
void virtio_set_status(struct virtio_dev *d, uint8_t v);
/* queue_sel's queue is enabled by the driver: checks it; 0 or -EINVAL (device broken). */
int virtio_queue_enable(struct virtio_dev *d, unsigned q);
void virtio_config_access(struct virtio_dev *d, unsigned off, uint8_t *data, unsigned len,
			  bool write);
/* The selected queue, or NULL when queue_sel is beyond nqueues. */
struct virtq *virtio_selected_queue(struct virtio_dev *d);

/* Device entry points (d->lock held). */
/* Interrupt the guest for queue q if it wants one (event index / flags). */
void virtio_queue_notify_guest(struct virtio_dev *d, unsigned q);
/* The guest broke the protocol: set NEEDS_RESET, tell the driver (config interrupt), stop the
 * device's queue work, and log one line (at most one per second per device). */
void virtio_needs_reset(struct virtio_dev *d, const char *why);
/* Device config changed: bump the generation and raise the config interrupt. */
void virtio_config_changed(struct virtio_dev *d);
/* Whether queue work may run: DRIVER_OK, not broken, q ready. */
bool virtio_queue_live(struct virtio_dev *d, unsigned q);

/* Take every available chain of queue q and hand each to fn, with notifications off while
 * doing so (re-checked before returning, so no kick is lost). fn returns the bytes it wrote
 * (the chain is pushed at once) or VIRTIO_ASYNC (the device pushes it later with
 * virtio_complete). A malformed chain sets NEEDS_RESET. Interrupts the guest at the end if it
 * wants one. e is scratch space owned by the caller. d->lock held. */
#define VIRTIO_ASYNC (-1)
void virtio_process(struct virtio_dev *d, unsigned q, struct virtq_elem *e,
		    int64_t (*fn)(struct virtio_dev *d, unsigned q, struct virtq_elem *e));

/* Complete chain head of queue q with len bytes written; notify is false while more
 * completions follow (the last one interrupts). d->lock held. */
void virtio_complete(struct virtio_dev *d, unsigned q, uint16_t head, uint32_t len, bool notify);

/* Saved state, as plain bytes (struct virtio_state): copy out and back; restore checks every
 * enabled queue against guest RAM. 0 or -EINVAL. */
void virtio_save(struct virtio_dev *d, struct virtio_state *out);
int virtio_restore(struct virtio_dev *d, const struct virtio_state *in)
	__attribute__((warn_unused_result));

#endif
