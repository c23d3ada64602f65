/* fuzz_vnet.c: libFuzzer target over virtio-net's request parsing: the header check of a
 * transmitted frame and the control-queue commands, each under fuzz-chosen negotiated
 * features. Input: 8 bytes of features, 1 byte selecting the part, the rest its data. */
#include <stdint.h>
#include <string.h>

#include "util/bytes.h"
#include "virtio/net_proto.h"

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
