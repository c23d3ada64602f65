/* net.h: network backends (tap, user-mode slirp), separate from the virtio-net device.
 *
 * A backend moves Ethernet frames between the device and the host. Every frame crossing this
 * interface starts with a 12-byte struct vnet_hdr (the virtio 1.x header, num_buffers
 * included), in both directions, so tap needs no conversion and the device can hand guest
 * buffers straight to readv/writev. A backend belongs to one event loop (src/vm/loop.c): all
 * its callbacks run on that loop's thread, and the device calls it only from there. */
#ifndef TV_NET_H
#define TV_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "util/err.h"
#include "vm/config.h" /* struct net_config, enum net_kind */

struct loop;

/* The virtio-net header (virtio 1.x, little-endian), the same bytes as Linux's tap vnet
 * header of size 12. */
struct vnet_hdr {
	uint8_t flags;        /* VNET_HDR_F_* */
	uint8_t gso_type;     /* VNET_HDR_GSO_* */
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers; /* rx with mergeable buffers: how many buffers the frame spans */
} __attribute__((packed));

#define VNET_HDR_LEN 12
#define VNET_HDR_F_NEEDS_CSUM 1
#define VNET_HDR_F_DATA_VALID 2
#define VNET_HDR_GSO_NONE 0
#define VNET_HDR_GSO_TCPV4 1
#define VNET_HDR_GSO_UDP 3
#define VNET_HDR_GSO_TCPV6 4
#define VNET_HDR_GSO_ECN 0x80

/* The largest frame a backend hands over: a 64 KiB GSO frame plus its Ethernet (and VLAN)
 * header, without the vnet header. */
#define NET_MAX_FRAME (65535 + 14 + 4)

/* Offloads: what the guest can take from the backend (rx), set after feature negotiation. */
#define NET_OFF_CSUM 1u /* partial checksums (NEEDS_CSUM) */
#define NET_OFF_TSO4 2u
#define NET_OFF_TSO6 4u
#define NET_OFF_ECN 8u
#define NET_OFF_UFO 16u

struct net_backend;

/* Called on the loop thread: queue q has frames to read (rx) or room again after -EAGAIN
 * (tx). */
typedef void (*net_ready_fn)(void *opaque, unsigned q);

struct net_backend_ops {
	/* Send one frame (vnet header first) on queue q. 0, -EAGAIN (full: wait for tx_ready
	 * after net_tx_wait), or another -errno (the frame is dropped). */
	int (*send)(struct net_backend *b, unsigned q, const struct iovec *iov, int iovcnt);
	/* Read one frame (vnet header first) into iov. Returns its length, -EAGAIN when there
	 * is none, -EMSGSIZE when it does not fit (it stays queued where the backend can tell:
	 * see peek), another -errno on failure. */
	ssize_t (*recv)(struct net_backend *b, unsigned q, const struct iovec *iov, int iovcnt);
	/* Length (vnet header included) of the next frame on q, 0 if none, -1 if unknown
	 * before reading (tap). */
	ssize_t (*peek)(struct net_backend *b, unsigned q);
	/* Watch q for frames (rx_ready calls) or stop (the guest has no buffers). */
	void (*rx_watch)(struct net_backend *b, unsigned q, bool on);
	/* Call tx_ready once q can take frames again (after send returned -EAGAIN). */
	void (*tx_wait)(struct net_backend *b, unsigned q);
	/* Use queues [0, n) only (the guest's pairs in use); a tap detaches the others so the
	 * kernel steers no flow to a queue nobody reads. 0 or -errno. */
	int (*set_queues)(struct net_backend *b, unsigned n);
	/* Tell the backend which offloads the guest accepts (NET_OFF_*). 0 or -errno. */
	int (*set_offload)(struct net_backend *b, unsigned off);
	void (*destroy)(struct net_backend *b);
};

struct net_backend {
	const struct net_backend_ops *ops;
	const char *kind;      /* "tap", "user" */
	unsigned queues;       /* queue pairs */
	unsigned offloads;     /* NET_OFF_* the backend can accept from the guest and deliver */
	bool link_up;
	net_ready_fn rx_ready, tx_ready;
	void *opaque;
	struct loop *loop;
};

/* Create the backend of NIC nc (user or tap, nc->queues pairs, port forwards) bound to loop,
 * calling rx_ready/tx_ready(opaque, q) on the loop thread. On failure returns -errno with one
 * line in e (e.g. "tap device 'tap0' does not exist ..."). */
int net_backend_create(struct net_backend **out, const struct net_config *nc,
		       struct loop *loop, net_ready_fn rx_ready, net_ready_fn tx_ready,
		       void *opaque, struct err *e) __attribute__((warn_unused_result));

/* Stop watching, close everything, free. NULL is fine. */
void net_backend_destroy(struct net_backend *b);

/* tap.c, slirp.c: the constructors behind net_backend_create. */
int net_tap_create(struct net_backend **out, const struct net_config *nc, struct loop *l,
		   struct err *e) __attribute__((warn_unused_result));
int net_slirp_create(struct net_backend **out, const struct net_config *nc,
		     struct loop *l, struct err *e) __attribute__((warn_unused_result));

/* The MAC for NIC number index of the VM called name (NULL: unnamed) with backend kind and
 * ifname (NULL for user): a stable hash of those, locally administered and unicast. */
void net_mac_derive(uint8_t mac[6], const char *name, unsigned index, enum net_kind kind,
		    const char *ifname);

/* Write mac as "xx:xx:xx:xx:xx:xx" into buf (18 bytes). Returns buf. */
char *net_mac_format(const uint8_t mac[6], char buf[18]);

#endif
