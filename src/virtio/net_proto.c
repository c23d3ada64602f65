/* net_proto.c: transmitted-header checks and control commands of virtio-net (net_proto.h). */
#include "virtio/net_proto.h"

#include <errno.h>
#include <string.h>

#include "util/bytes.h"

int vnet_tx_check(const struct vnet_hdr *h, uint64_t features, uint32_t frame_len,
		  const char **why)
{
	uint8_t gso = h->gso_type & (uint8_t)~VNET_HDR_GSO_ECN;
	uint16_t cstart = (uint16_t)le_get((const uint8_t *)&h->csum_start, 2);
	uint16_t coff = (uint16_t)le_get((const uint8_t *)&h->csum_offset, 2);
	uint16_t gso_size = (uint16_t)le_get((const uint8_t *)&h->gso_size, 2);

	if (frame_len < 14) {
		*why = "frame shorter than an Ethernet header";
		return -EINVAL;
	}
	if (h->flags & VNET_HDR_F_NEEDS_CSUM) {
		if (!(features & VNET_F(VIRTIO_NET_F_CSUM))) {
			*why = "partial checksum without the CSUM feature";
			return -EINVAL;
		}
		if ((uint32_t)cstart + coff + 2 > frame_len) {
			*why = "checksum position outside the frame";
			return -EINVAL;
		}
	}
	if (gso == VNET_HDR_GSO_NONE) {
		if (h->gso_type & VNET_HDR_GSO_ECN) {
			*why = "ECN flag without GSO";
			return -EINVAL;
		}
		return 0;
	}
	if ((gso == VNET_HDR_GSO_TCPV4 && !(features & VNET_F(VIRTIO_NET_F_HOST_TSO4))) ||
	    (gso == VNET_HDR_GSO_TCPV6 && !(features & VNET_F(VIRTIO_NET_F_HOST_TSO6))) ||
	    (gso == VNET_HDR_GSO_UDP && !(features & VNET_F(VIRTIO_NET_F_HOST_UFO))) ||
	    (gso != VNET_HDR_GSO_TCPV4 && gso != VNET_HDR_GSO_TCPV6 && gso != VNET_HDR_GSO_UDP)) {
		*why = "segmentation of a kind not negotiated";
		return -EINVAL;
	}
	if ((h->gso_type & VNET_HDR_GSO_ECN) && !(features & VNET_F(VIRTIO_NET_F_HOST_ECN))) {
		*why = "ECN segmentation not negotiated";
		return -EINVAL;
	}
	if (!(h->flags & VNET_HDR_F_NEEDS_CSUM) || !gso_size) {
		*why = "segmentation without a partial checksum or a segment size";
		return -EINVAL;
	}
	return 0;
}

unsigned vnet_offloads_of(uint64_t g)
{
	unsigned off = 0;

	off |= (g & VNET_F(VIRTIO_NET_F_GUEST_CSUM)) ? NET_OFF_CSUM : 0;
	off |= (g & VNET_F(VIRTIO_NET_F_GUEST_TSO4)) ? NET_OFF_TSO4 : 0;
	off |= (g & VNET_F(VIRTIO_NET_F_GUEST_TSO6)) ? NET_OFF_TSO6 : 0;
	off |= (g & VNET_F(VIRTIO_NET_F_GUEST_ECN)) ? NET_OFF_ECN : 0;
	off |= (g & VNET_F(VIRTIO_NET_F_GUEST_UFO)) ? NET_OFF_UFO : 0;
	return off;
}

/* A MAC table: le32 entries, then entries * 6 bytes. Its length, or 0 when malformed. */
static size_t mac_table(const uint8_t *p, size_t len, unsigned *entries)
{
	uint64_t n;

	if (len < 4)
		return 0;
	n = le_get(p, 4);
	if (n > (len - 4) / 6)
		return 0;
	*entries = (unsigned)n;
	return 4 + (size_t)n * 6;
}

static uint8_t ctrl_rx(struct vnet_ctrl *c, uint64_t f, uint8_t cmd, const uint8_t *d,
		       size_t len)
{
	if (!(f & VNET_F(VIRTIO_NET_F_CTRL_RX)) || len != 1 || cmd > 1)
		return VIRTIO_NET_ERR;
	if (cmd == 0)
		c->promisc = d[0];
	else
		c->allmulti = d[0];
	return VIRTIO_NET_OK;
}

static uint8_t ctrl_mac(struct vnet_ctrl *c, uint64_t f, uint8_t cmd, const uint8_t *d,
			size_t len)
{
	unsigned uc = 0, mc = 0;
	size_t a, b;

	if (cmd == 1) { /* ADDR_SET */
		if (!(f & VNET_F(VIRTIO_NET_F_CTRL_MAC_ADDR)) || len != 6 || (d[0] & 1))
			return VIRTIO_NET_ERR;
		memcpy(c->mac, d, 6);
		return VIRTIO_NET_OK;
	}
	if (cmd != 0 || !(f & VNET_F(VIRTIO_NET_F_CTRL_RX)))
		return VIRTIO_NET_ERR;
	/* TABLE_SET: unicast table then multicast table, exactly filling the command */
	a = mac_table(d, len, &uc);
	if (!a)
		return VIRTIO_NET_ERR;
	b = mac_table(d + a, len - a, &mc);
	if (!b || a + b != len)
		return VIRTIO_NET_ERR;
	c->uc_entries = uc;
	c->mc_entries = mc;
	return VIRTIO_NET_OK;
}

uint8_t vnet_ctrl_exec(struct vnet_ctrl *c, uint64_t features, uint16_t max_pairs,
		       const uint8_t *req, size_t len)
{
	const uint8_t *d = req + 2;
	uint64_t v;

	if (len < 2)
		return VIRTIO_NET_ERR;
	len -= 2;
	switch (req[0]) {
	case VIRTIO_NET_CTRL_RX:
		return ctrl_rx(c, features, req[1], d, len);
	case VIRTIO_NET_CTRL_MAC:
		return ctrl_mac(c, features, req[1], d, len);
	case VIRTIO_NET_CTRL_ANNOUNCE:
		return (features & VNET_F(VIRTIO_NET_F_GUEST_ANNOUNCE)) && req[1] == 0
			       ? VIRTIO_NET_OK
			       : VIRTIO_NET_ERR;
	case VIRTIO_NET_CTRL_MQ:
		if (!(features & VNET_F(VIRTIO_NET_F_MQ)) || req[1] != 0 || len != 2)
			return VIRTIO_NET_ERR;
		v = le_get(d, 2);
		if (v < 1 || v > max_pairs)
			return VIRTIO_NET_ERR;
		c->pairs = (uint16_t)v;
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
		if (!(features & VNET_F(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)) || req[1] != 0 ||
		    len != 8)
			return VIRTIO_NET_ERR;
		v = le_get(d, 8);
		/* only receive offloads, only negotiated ones */
		if ((v & ~VNET_GUEST_OFFLOAD_BITS) || (v & ~features))
			return VIRTIO_NET_ERR;
		c->guest_offloads = v;
		return VIRTIO_NET_OK;
	default:
		return VIRTIO_NET_ERR; /* VLAN filtering is not offered */
	}
}
