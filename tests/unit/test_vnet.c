/* test_vnet.c: virtio-net protocol pieces (virtio/net_proto.c): the check of a transmitted
 * frame's header against the negotiated features, and the control-queue commands. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <string.h>

#include "virtio/net_proto.h"

#define F(x) VNET_F(VIRTIO_NET_F_##x)

static void tx_header_checks(void **st)
{
	uint64_t all = F(CSUM) | F(HOST_TSO4) | F(HOST_TSO6) | F(HOST_ECN);
	struct vnet_hdr h = {0};
	const char *why = NULL;

	assert_int_equal(vnet_tx_check(&h, 0, 60, &why), 0);
	assert_int_equal(vnet_tx_check(&h, 0, 13, &why), -EINVAL);
	assert_string_equal(why, "frame shorter than an Ethernet header");
	/* partial checksum: needs CSUM and must lie inside the frame */
	h.flags = VNET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 16;
	assert_int_equal(vnet_tx_check(&h, 0, 100, &why), -EINVAL);
	assert_string_equal(why, "partial checksum without the CSUM feature");
	assert_int_equal(vnet_tx_check(&h, all, 52, &why), 0);
	assert_int_equal(vnet_tx_check(&h, all, 51, &why), -EINVAL);
	assert_string_equal(why, "checksum position outside the frame");
	h.csum_start = 0xffff;
	h.csum_offset = 0xffff; /* no 16-bit wrap */
	assert_int_equal(vnet_tx_check(&h, all, 65000, &why), -EINVAL);
	/* segmentation */
	h.csum_start = 34;
	h.csum_offset = 16;
	h.gso_type = VNET_HDR_GSO_TCPV4;
	h.gso_size = 1448;
	assert_int_equal(vnet_tx_check(&h, all, 65000, &why), 0);
	assert_int_equal(vnet_tx_check(&h, F(CSUM) | F(HOST_TSO6), 65000, &why), -EINVAL);
	assert_string_equal(why, "segmentation of a kind not negotiated");
	h.gso_type = VNET_HDR_GSO_TCPV6 | VNET_HDR_GSO_ECN;
	assert_int_equal(vnet_tx_check(&h, all, 65000, &why), 0);
	assert_int_equal(vnet_tx_check(&h, all & ~F(HOST_ECN), 65000, &why), -EINVAL);
	assert_string_equal(why, "ECN segmentation not negotiated");
	h.gso_type = VNET_HDR_GSO_UDP;
	assert_int_equal(vnet_tx_check(&h, all, 65000, &why), -EINVAL);
	h.gso_type = 2; /* no such kind */
	assert_int_equal(vnet_tx_check(&h, all, 65000, &why), -EINVAL);
	h.gso_type = VNET_HDR_GSO_TCPV4;
	h.gso_size = 0;
	assert_int_equal(vnet_tx_check(&h, all, 65000, &why), -EINVAL);
	assert_string_equal(why, "segmentation without a partial checksum or a segment size");
	h.gso_size = 1448;
	h.flags = 0;
	assert_int_equal(vnet_tx_check(&h, all, 65000, &why), -EINVAL);
	h.gso_type = VNET_HDR_GSO_ECN;
	assert_int_equal(vnet_tx_check(&h, all, 65000, &why), -EINVAL);
	assert_string_equal(why, "ECN flag without GSO");
}

static void offloads_map(void **st)
{
	assert_int_equal(vnet_offloads_of(0), 0);
	assert_int_equal(vnet_offloads_of(F(GUEST_CSUM) | F(GUEST_TSO4) | F(GUEST_TSO6) |
					  F(GUEST_ECN) | F(HOST_TSO4)),
			 NET_OFF_CSUM | NET_OFF_TSO4 | NET_OFF_TSO6 | NET_OFF_ECN);
}

static uint8_t run(struct vnet_ctrl *c, uint64_t f, const char *req, size_t len)
{
	return vnet_ctrl_exec(c, f, 4, (const uint8_t *)req, len);
}

static void ctrl_commands(void **st)
{
	uint64_t f = F(CTRL_VQ) | F(CTRL_RX) | F(MQ) | F(CTRL_GUEST_OFFLOADS) | F(GUEST_CSUM) |
		     F(GUEST_TSO4) | F(CTRL_MAC_ADDR) | F(GUEST_ANNOUNCE);
	struct vnet_ctrl c = {.pairs = 1};

	assert_int_equal(run(&c, f, "", 0), VIRTIO_NET_ERR);
	assert_int_equal(run(&c, f, "\0", 1), VIRTIO_NET_ERR);
	/* RX mode */
	assert_int_equal(run(&c, f, "\0\0\1", 3), VIRTIO_NET_OK);
	assert_true(c.promisc);
	assert_int_equal(run(&c, f, "\0\1\1", 3), VIRTIO_NET_OK);
	assert_true(c.allmulti);
	assert_int_equal(run(&c, f, "\0\0\0\0", 4), VIRTIO_NET_ERR);
	assert_int_equal(run(&c, f & ~F(CTRL_RX), "\0\0\0", 3), VIRTIO_NET_ERR);
	/* MAC: address, and tables that must fill the command exactly */
	assert_int_equal(run(&c, f, "\1\1\x52\0\0\0\0\1", 8), VIRTIO_NET_OK);
	assert_memory_equal(c.mac, "\x52\0\0\0\0\1", 6);
	assert_int_equal(run(&c, f, "\1\1\x53\0\0\0\0\1", 8), VIRTIO_NET_ERR); /* multicast */
	assert_int_equal(run(&c, f, "\1\0\1\0\0\0\x52\0\0\0\0\2\2\0\0\0\1\0\0\0\0\1\1\0\0\0\0\2",
			     28),
			 VIRTIO_NET_OK);
	assert_int_equal(c.uc_entries, 1);
	assert_int_equal(c.mc_entries, 2);
	assert_int_equal(run(&c, f, "\1\0\1\0\0\0\x52\0\0\0\0\2\2\0\0\0\1\0\0\0\0\1", 22),
			 VIRTIO_NET_ERR);
	assert_int_equal(run(&c, f, "\1\0\xff\xff\xff\xff\0\0\0\0", 10), VIRTIO_NET_ERR);
	/* MQ */
	assert_int_equal(run(&c, f, "\4\0\3\0", 4), VIRTIO_NET_OK);
	assert_int_equal(c.pairs, 3);
	assert_int_equal(run(&c, f, "\4\0\5\0", 4), VIRTIO_NET_ERR);
	assert_int_equal(run(&c, f, "\4\0\0\0", 4), VIRTIO_NET_ERR);
	assert_int_equal(c.pairs, 3);
	/* guest offloads: receive bits, negotiated ones only */
	assert_int_equal(run(&c, f, "\5\0\x82\0\0\0\0\0\0\0", 10), VIRTIO_NET_OK);
	assert_int_equal(c.guest_offloads, F(GUEST_CSUM) | F(GUEST_TSO4));
	assert_int_equal(run(&c, f, "\5\0\0\1\0\0\0\0\0\0", 10), VIRTIO_NET_ERR); /* TSO6 */
	assert_int_equal(run(&c, f, "\5\0\1\0\0\0\0\0\0\0", 10), VIRTIO_NET_ERR); /* CSUM */
	assert_int_equal(c.guest_offloads, F(GUEST_CSUM) | F(GUEST_TSO4));
	/* announce ack, VLAN (not offered), unknown class */
	assert_int_equal(run(&c, f, "\3\0", 2), VIRTIO_NET_OK);
	assert_int_equal(run(&c, f, "\2\0\1\0", 4), VIRTIO_NET_ERR);
	assert_int_equal(run(&c, f, "\x77\0", 2), VIRTIO_NET_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tx_header_checks),
		cmocka_unit_test(offloads_map),
		cmocka_unit_test(ctrl_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
