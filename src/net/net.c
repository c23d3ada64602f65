/* net.c: backend construction and MAC addresses. */
#include "net/net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int net_backend_create(struct net_backend **out, const struct net_config *nc,
		       struct loop *loop, net_ready_fn rx_ready, net_ready_fn tx_ready,
		       void *opaque, struct err *e)
{
	struct net_backend *b = NULL;
	int ret;

	switch (nc->kind) {
	case NET_TAP: ret = net_tap_create(&b, nc, loop, e); break;
	case NET_USER: ret = net_slirp_create(&b, nc, loop, e); break;
	default: return errf(e, -EINVAL, "unknown network backend %d", (int)nc->kind);
	}
	if (ret)
		return ret;
	b->loop = loop;
	b->rx_ready = rx_ready;
	b->tx_ready = tx_ready;
	b->opaque = opaque;
	*out = b;
	return 0;
}

void net_backend_destroy(struct net_backend *b)
{
	if (b)
		b->ops->destroy(b);
}

/* FNV-1a, 64-bit, continuing from h over n bytes. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t fnv1a_str(uint64_t h, const char *s)
{
	/* the terminating NUL is hashed too, so ("ab","c") and ("a","bc") differ */
	return fnv1a(h, s ? s : "", (s ? strlen(s) : 0) + 1);
}

void net_mac_derive(uint8_t mac[6], const char *name, unsigned index, enum net_kind kind,
		    const char *ifname)
{
	uint64_t h = fnv1a_str(0xcbf29ce484222325ULL, "thinvisor-nic");
	uint8_t idx[4] = {(uint8_t)index, (uint8_t)(index >> 8), (uint8_t)(index >> 16),
			  (uint8_t)(index >> 24)};

	h = fnv1a_str(h, name);
	h = fnv1a(h, idx, sizeof(idx));
	h = fnv1a_str(h, kind == NET_TAP ? "tap" : "user");
	h = fnv1a_str(h, kind == NET_TAP ? ifname : NULL);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & ~1u) | 2u); /* unicast, locally administered */
}

char *net_mac_format(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return buf;
}
