/* net_proto.h: the virtio-net protocol pieces that need no device: feature bits, the config
 * layout, the check of a transmitted frame's header, and the control-queue commands. Pure
 * functions over buffers, unit-tested and fuzzed (tests/fuzz/fuzz_vnet.c). */
#ifndef TV_VIRTIO_NET_PROTO_H
#define TV_VIRTIO_NET_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

/* feature bits */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_CTRL_VLAN 19
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23

#define VNET_F(bit) (1ULL << (bit))

/* config status bits */
#define VIRTIO_NET_S_LINK_UP 1
#define VIRTIO_NET_S_ANNOUNCE 2

/* control queue */
#define VIRTIO_NET_OK 0
#define VIRTIO_NET_ERR 1
#define VIRTIO_NET_CTRL_RX 0
#define VIRTIO_NET_CTRL_MAC 1
#define VIRTIO_NET_CTRL_VLAN 2
#define VIRTIO_NET_CTRL_ANNOUNCE 3
#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS 5
#define VNET_CTRL_MAX 4096 /* longest command we read (a MAC table of ~680 entries) */

#define VNET_MQ_MAX_PAIRS 16

/* The device's config space, as the guest reads it (little-endian). */
struct vnet_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

/* What the control queue can change: plain data. */
struct vnet_ctrl {
	uint8_t mac[6];
	bool promisc, allmulti;
	unsigned uc_entries, mc_entries; /* sizes of the last MAC filter tables */
	uint16_t pairs;                 /* queue pairs in use */
	uint64_t guest_offloads;        /* GUEST_* feature bits in force */
};

/* The receive offloads (VIRTIO_NET_F_GUEST_* bits) that CTRL_GUEST_OFFLOADS may switch. */
#define VNET_GUEST_OFFLOAD_BITS                                                                \
	(VNET_F(VIRTIO_NET_F_GUEST_CSUM) | VNET_F(VIRTIO_NET_F_GUEST_TSO4) |                   \
	 VNET_F(VIRTIO_NET_F_GUEST_TSO6) | VNET_F(VIRTIO_NET_F_GUEST_ECN) |                    \
	 VNET_F(VIRTIO_NET_F_GUEST_UFO))

/* Check the header of a frame the guest sends (frame_len bytes after the header) against
 * the negotiated features: GSO only of a negotiated HOST_* kind, with NEEDS_CSUM, a nonzero
 * gso_size; a partial checksum only with CSUM and inside the frame. 0, or -EINVAL with a
 * static reason in *why. */
int vnet_tx_check(const struct vnet_hdr *h, uint64_t features, uint32_t frame_len,
		  const char **why);

/* The backend offloads (NET_OFF_*) matching GUEST_* feature bits. */
unsigned vnet_offloads_of(uint64_t guest_bits);

/* Run one control command req[0..len) (class, command, data) on c. features: negotiated;
 * max_pairs: offered. Returns VIRTIO_NET_OK or VIRTIO_NET_ERR. */
uint8_t vnet_ctrl_exec(struct vnet_ctrl *c, uint64_t features, uint16_t max_pairs,
		       const uint8_t *req, size_t len);

#endif
