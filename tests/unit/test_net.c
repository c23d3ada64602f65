/* test_net.c: network backends. MAC addresses; the user-mode (libslirp) backend on a real
 * event loop, spoken to with hand-made frames (ARP, DHCP, a port forward reached from a host
 * socket); the tap backend's refusals, and on a tap made in a private network namespace (when
 * the test may make one) frames both ways with the vnet header and a partial checksum. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "util/bytes.h"
#include "vm/loop.h"

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static void mac_derive_is_stable_and_local(void **st)
{
	uint8_t a[6], b[6], c[6], d[6], e[6];

	net_mac_derive(a, "web", 0, NET_USER, NULL);
	net_mac_derive(b, "web", 0, NET_USER, NULL);
	net_mac_derive(c, "web", 1, NET_USER, NULL);
	net_mac_derive(d, "db", 0, NET_USER, NULL);
	net_mac_derive(e, "web", 0, NET_TAP, "tap0");
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	assert_memory_not_equal(a, d, 6);
	assert_memory_not_equal(a, e, 6);
	for (unsigned i = 0; i < 64; i++) {
		net_mac_derive(a, i & 1 ? NULL : "x", i, NET_TAP, "t");
		assert_int_equal(a[0] & 3, 2); /* locally administered, unicast */
	}
}

static void mac_format(void **st)
{
	const uint8_t m[6] = {0x52, 0x54, 0, 0xab, 0xcd, 0xef};
	char buf[18];

	assert_string_equal(net_mac_format(m, buf), "52:54:00:ab:cd:ef");
}

/* ---- a tiny "device": counts rx_ready calls, waits for them ---- */

struct dev {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned rx_calls;
};

static void on_rx(void *opaque, unsigned q)
{
	struct dev *d = opaque;

	pthread_mutex_lock(&d->lock);
	d->rx_calls++;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static void on_tx(void *opaque, unsigned q)
{
}

/* Pump the loop on this thread (its own thread is never started, so the backend is only
 * touched here) until the backend has a frame, up to 5 s; read it into buf. Returns its
 * length or -ETIMEDOUT. */
static ssize_t wait_frame(struct loop *l, struct net_backend *b, uint8_t *buf, size_t len)
{
	struct iovec iov = {buf, len};

	for (int i = 0; i < 100; i++) {
		ssize_t n = b->ops->recv(b, 0, &iov, 1);

		if (n != -EAGAIN)
			return n;
		loop_poll(l, 50);
	}
	return -ETIMEDOUT;
}

static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memset(f, 0, VNET_HDR_LEN);
	memcpy(f + VNET_HDR_LEN, dst, 6);
	memcpy(f + VNET_HDR_LEN + 6, guest_mac, 6);
	f[VNET_HDR_LEN + 12] = (uint8_t)(type >> 8);
	f[VNET_HDR_LEN + 13] = (uint8_t)type;
	return VNET_HDR_LEN + 14;
}

static int send_frame(struct net_backend *b, uint8_t *f, size_t len)
{
	struct iovec iov[2] = {{f, 5}, {f + 5, len - 5}}; /* the header split across buffers */

	return b->ops->send(b, 0, iov, 2);
}

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

struct slirp_fixture {
	struct loop *loop;
	struct net_backend *b;
	struct dev d;
	uint16_t fwd_port;
};

static uint16_t free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
	close(s);
	return ntohs(a.sin_port);
}

static int slirp_setup(void **st)
{
	struct slirp_fixture *f = calloc(1, sizeof(*f));
	struct net_config o = {.kind = NET_USER, .nhostfwd = 1};
	struct net_hostfwd *fwd = &o.hostfwd[0];
	struct err e = {{0}};

	pthread_mutex_init(&f->d.lock, NULL);
	pthread_cond_init(&f->d.cond, NULL);
	fwd->guest_port = 80;
	f->fwd_port = fwd->host_port = free_port();
	assert_int_equal(loop_create(&f->loop), 0);
	assert_int_equal(net_backend_create(&f->b, &o, f->loop, on_rx, on_tx, &f->d, &e), 0);
	assert_string_equal(f->b->kind, "user");
	assert_true(f->b->link_up);
	f->b->ops->rx_watch(f->b, 0, true);
	*st = f;
	return 0;
}

static int slirp_teardown(void **st)
{
	struct slirp_fixture *f = *st;

	net_backend_destroy(f->b);
	loop_destroy(f->loop);
	free(f);
	return 0;
}

static void slirp_answers_arp_for_the_gateway(void **st)
{
	struct slirp_fixture *f = *st;
	uint8_t fr[128], in[2048];
	size_t n = eth(fr, bcast, 0x0806);
	uint8_t *a = fr + n;
	ssize_t got;

	/* ARP request: who has 10.0.2.2? tell 10.0.2.15 */
	memcpy(a, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memcpy(a + 8, guest_mac, 6);
	memcpy(a + 14, "\x0a\x00\x02\x0f", 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, "\x0a\x00\x02\x02", 4);
	n += 28;
	memset(fr + n, 0, sizeof(fr) - n); /* padded to the 60-byte minimum */
	assert_int_equal(send_frame(f->b, fr, VNET_HDR_LEN + 60), 0);
	/* the reply is queued during the send; the device hears of it from the loop */
	for (int i = 0; i < 20 && !f->d.rx_calls; i++)
		loop_poll(f->loop, 50);
	assert_true(f->d.rx_calls >= 1);
	got = wait_frame(f->loop, f->b, in, sizeof(in));
	assert_true(got >= VNET_HDR_LEN + 42);
	/* a zero vnet header, then a reply to us from the gateway */
	for (int i = 0; i < VNET_HDR_LEN; i++)
		assert_int_equal(in[i], 0);
	assert_memory_equal(in + VNET_HDR_LEN, guest_mac, 6);
	assert_int_equal(le_get(in + VNET_HDR_LEN + 12, 2), 0x0608);
	assert_int_equal(in[VNET_HDR_LEN + 14 + 7], 2); /* ARP reply */
	assert_memory_equal(in + VNET_HDR_LEN + 14 + 14, "\x0a\x00\x02\x02", 4);
}

static void slirp_offers_a_dhcp_lease(void **st)
{
	struct slirp_fixture *f = *st;
	uint8_t fr[600] = {0}, in[2048];
	size_t n = eth(fr, bcast, 0x0800);
	uint8_t *ip = fr + n, *udp = ip + 20, *bootp = udp + 8, *opt;
	size_t blen = 240 + 4, ulen, total;
	ssize_t got;
	int found = 0;

	bootp[0] = 1;     /* BOOTREQUEST */
	bootp[1] = 1;     /* Ethernet */
	bootp[2] = 6;
	memcpy(bootp + 4, "\x12\x34\x56\x78", 4); /* xid */
	memcpy(bootp + 28, guest_mac, 6);
	memcpy(bootp + 236, "\x63\x82\x53\x63", 4); /* magic cookie */
	opt = bootp + 240;
	opt[0] = 53, opt[1] = 1, opt[2] = 1; /* DHCPDISCOVER */
	opt[3] = 255;
	blen = 300;
	ulen = 8 + blen;
	total = 20 + ulen;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(total >> 8), ip[3] = (uint8_t)total;
	ip[8] = 64, ip[9] = 17;
	memset(ip + 16, 0xff, 4); /* 0.0.0.0 -> 255.255.255.255 */
	ip[10] = (uint8_t)(ip_csum(ip, 20) >> 8), ip[11] = (uint8_t)ip_csum(ip, 20);
	udp[1] = 68, udp[3] = 67;
	udp[4] = (uint8_t)(ulen >> 8), udp[5] = (uint8_t)ulen; /* checksum 0: none */
	assert_int_equal(send_frame(f->b, fr, n + total), 0);
	got = wait_frame(f->loop, f->b, in, sizeof(in));
	assert_true(got > VNET_HDR_LEN + 14 + 20 + 8 + 240);
	bootp = in + VNET_HDR_LEN + 14 + 20 + 8;
	assert_int_equal(in[VNET_HDR_LEN + 14 + 9], 17);
	assert_int_equal(bootp[0], 2); /* BOOTREPLY */
	assert_memory_equal(bootp + 4, "\x12\x34\x56\x78", 4);
	assert_memory_equal(bootp + 16, "\x0a\x00\x02\x0f", 4); /* yiaddr 10.0.2.15 */
	for (opt = bootp + 240; opt < in + got && *opt != 255; opt += opt[1] + 2)
		if (opt[0] == 53 && opt[2] == 2)
			found = 1; /* DHCPOFFER */
	assert_true(found);
}

static void slirp_hostfwd_reaches_the_guest(void **st)
{
	struct slirp_fixture *f = *st;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->fwd_port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	uint8_t in[2048];
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ssize_t got;
	int seen_syn = 0;

	/* teach slirp our MAC first (an ARP request from 10.0.2.15) */
	slirp_answers_arp_for_the_gateway(st);
	assert_true(s >= 0);
	connect(s, (struct sockaddr *)&a, sizeof(a)); /* EINPROGRESS is fine */
	for (int i = 0; i < 4 && !seen_syn; i++) {
		uint8_t *ip, *tcp;

		got = wait_frame(f->loop, f->b, in, sizeof(in));
		assert_true(got > 0);
		if (le_get(in + VNET_HDR_LEN + 12, 2) != 0x0008)
			continue; /* an ARP request for the guest: not yet */
		ip = in + VNET_HDR_LEN + 14;
		tcp = ip + (ip[0] & 15) * 4;
		assert_int_equal(ip[9], 6);
		assert_memory_equal(ip + 16, "\x0a\x00\x02\x0f", 4);
		assert_int_equal(tcp[2] << 8 | tcp[3], 80);
		assert_true(tcp[13] & 2); /* SYN */
		seen_syn = 1;
	}
	assert_true(seen_syn);
	close(s);
}

static void slirp_refuses_a_taken_port(void **st)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct net_config o = {.kind = NET_USER, .nhostfwd = 1};
	struct net_hostfwd *fwd = &o.hostfwd[0];
	struct net_backend *b = NULL;
	struct loop *loop;
	struct err e = {{0}};
	char want[128];

	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 1), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
	fwd->guest_port = 22;
	fwd->host_port = ntohs(a.sin_port);
	assert_int_equal(loop_create(&loop), 0);
	assert_int_equal(net_backend_create(&b, &o, loop, on_rx, on_tx, NULL, &e), -EADDRINUSE);
	snprintf(want, sizeof(want), "hostfwd=tcp:%u-:22: cannot listen on host port %u (in use?)",
		 fwd->host_port, fwd->host_port);
	assert_string_equal(e.msg, want);
	assert_null(b);
	loop_destroy(loop);
	close(s);
}

static void tap_refusals(void **st)
{
	struct net_config o = {.kind = NET_TAP, .ifname = "tvnope0"};
	struct net_backend *b = NULL;
	struct loop *loop;
	struct err e = {{0}};

	assert_int_equal(loop_create(&loop), 0);
	assert_int_equal(net_backend_create(&b, &o, loop, on_rx, on_tx, NULL, &e), -ENODEV);
	assert_string_equal(e.msg, "tap device 'tvnope0' does not exist (create it: ip tuntap "
				   "add dev tvnope0 mode tap)");
	o.ifname = "a-name-far-too-long-for-linux";
	assert_int_equal(net_backend_create(&b, &o, loop, on_rx, on_tx, NULL, &e), -EINVAL);
	assert_string_equal(e.msg, "invalid tap device name 'a-name-far-too-long-for-linux'");
	o.ifname = "lo"; /* exists, but is no tap */
	assert_int_equal(net_backend_create(&b, &o, loop, on_rx, on_tx, NULL, &e), -EINVAL);
	assert_string_equal(e.msg, "tap device 'lo' is not a tap device (or is multi_queue)");
	assert_null(b);
	loop_destroy(loop);
}

/* ---- tap, in a private network namespace ---- */

static int ifreq_ioctl(int s, unsigned long req, const char *name, struct ifreq *r)
{
	snprintf(r->ifr_name, IFNAMSIZ, "%s", name);
	return ioctl(s, req, r);
}

/* Make a persistent tap "tvt0" with 10.9.0.1/24, up; its MAC in mac. 0, or -1 when this
 * process may not (no CAP_NET_ADMIN / user namespaces): the test is skipped then. */
/* The next frame from the tap that is not IPv6 (the namespace's own router solicitations and
 * MLD reports come and go as they please). */
static ssize_t wait_v4_frame(struct loop *l, struct net_backend *b, uint8_t *buf, size_t len)
{
	ssize_t n;

	do
		n = wait_frame(l, b, buf, len);
	while (n >= VNET_HDR_LEN + 14 && le_get(buf + VNET_HDR_LEN + 12, 2) == 0xdd86);
	return n;
}

static int make_tap(uint8_t mac[6])
{
	struct ifreq r = {0};
	struct sockaddr_in *a = (struct sockaddr_in *)&r.ifr_addr;
	int fd, s;

	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	assert_int_equal(ifreq_ioctl(fd, TUNSETIFF, "tvt0", &r), 0);
	assert_int_equal(ioctl(fd, TUNSETPERSIST, 1), 0);
	close(fd);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&r, 0, sizeof(r));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(0x0a090001);
	assert_int_equal(ifreq_ioctl(s, SIOCSIFADDR, "tvt0", &r), 0);
	a->sin_addr.s_addr = htonl(0xffffff00);
	assert_int_equal(ifreq_ioctl(s, SIOCSIFNETMASK, "tvt0", &r), 0);
	assert_int_equal(ifreq_ioctl(s, SIOCGIFFLAGS, "tvt0", &r), 0);
	r.ifr_flags |= IFF_UP;
	assert_int_equal(ifreq_ioctl(s, SIOCSIFFLAGS, "tvt0", &r), 0);
	assert_int_equal(ifreq_ioctl(s, SIOCGIFHWADDR, "tvt0", &r), 0);
	memcpy(mac, r.ifr_hwaddr.sa_data, 6);
	close(s);
	return 0;
}

static const uint8_t guest_ip[4] = {10, 9, 0, 2}, host_ip[4] = {10, 9, 0, 1};

/* A UDP frame guest:4000 -> host:port with payload, checksum left partial (NEEDS_CSUM). */
static size_t udp_frame(uint8_t *f, const uint8_t *dst_mac, uint16_t port, const char *payload)
{
	size_t n = eth(f, dst_mac, 0x0800), plen = strlen(payload);
	uint8_t *ip = f + n, *udp = ip + 20;
	uint16_t ulen = (uint16_t)(8 + plen), tot = (uint16_t)(20 + ulen);
	uint32_t ps = 0;
	struct vnet_hdr *h = (struct vnet_hdr *)f;

	memset(ip, 0, tot);
	ip[0] = 0x45, ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot, ip[8] = 64, ip[9] = 17;
	memcpy(ip + 12, guest_ip, 4);
	memcpy(ip + 16, host_ip, 4);
	ip[10] = (uint8_t)(ip_csum(ip, 20) >> 8), ip[11] = (uint8_t)ip_csum(ip, 20);
	udp[0] = 4000 >> 8, udp[1] = 4000 & 255, udp[2] = (uint8_t)(port >> 8),
	udp[3] = (uint8_t)port;
	udp[4] = (uint8_t)(ulen >> 8), udp[5] = (uint8_t)ulen;
	memcpy(udp + 8, payload, plen);
	/* pseudo-header sum, not inverted, as a sender with checksum offload leaves it */
	for (int i = 12; i < 20; i += 2)
		ps += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	ps += 17 + ulen;
	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	udp[6] = (uint8_t)(ps >> 8), udp[7] = (uint8_t)ps;
	h->flags = VNET_HDR_F_NEEDS_CSUM;
	h->csum_start = 14 + 20;
	h->csum_offset = 6;
	return n + tot;
}

static void tap_frames_both_ways(void **st)
{
	struct net_config o = {.kind = NET_TAP, .ifname = "tvt0"};
	struct sockaddr_in host = {.sin_family = AF_INET, .sin_port = htons(5555)};
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(4000)};
	struct net_backend *b = NULL;
	struct loop *loop;
	struct dev d = {0};
	struct err e = {{0}};
	uint8_t tap_mac[6], fr[256], in[70000], *p;
	char got[64] = {0};
	ssize_t n;
	int s;

	if (make_tap(tap_mac) < 0)
		skip();
	assert_int_equal(loop_create(&loop), 0);
	assert_int_equal(net_backend_create(&b, &o, loop, on_rx, on_tx, &d, &e), 0);
	assert_string_equal(b->kind, "tap");
	assert_int_equal(b->offloads, NET_OFF_CSUM | NET_OFF_TSO4 | NET_OFF_TSO6 | NET_OFF_ECN);
	b->ops->rx_watch(b, 0, true);
	/* guest -> host: a partial checksum that the host's stack accepts */
	memcpy(&host.sin_addr, host_ip, 4);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&host, sizeof(host)), 0);
	assert_int_equal(send_frame(b, fr, udp_frame(fr, tap_mac, 5555, "from-guest")), 0);
	assert_int_equal(recv(s, got, sizeof(got), 0), 10);
	assert_string_equal(got, "from-guest");
	/* host -> guest: first the host's ARP request, with a vnet header in front */
	assert_int_equal(b->ops->set_offload(b, NET_OFF_CSUM | NET_OFF_TSO4), 0);
	memcpy(&to.sin_addr, guest_ip, 4);
	assert_int_equal(sendto(s, "to-guest", 8, 0, (struct sockaddr *)&to, sizeof(to)), 8);
	for (int i = 0; i < 20 && !d.rx_calls; i++)
		loop_poll(loop, 50); /* the device hears of it from the loop */
	assert_true(d.rx_calls >= 1);
	n = wait_v4_frame(loop, b, in, sizeof(in));
	assert_true(n >= VNET_HDR_LEN + 42);
	assert_int_equal(in[0], 0);
	assert_memory_equal(in + VNET_HDR_LEN, bcast, 6);
	assert_int_equal(le_get(in + VNET_HDR_LEN + 12, 2), 0x0608);
	/* answer it: 10.9.0.2 is at guest_mac */
	p = fr + eth(fr, tap_mac, 0x0806);
	memcpy(p, "\x00\x01\x08\x00\x06\x04\x00\x02", 8);
	memcpy(p + 8, guest_mac, 6);
	memcpy(p + 14, guest_ip, 4);
	memcpy(p + 18, tap_mac, 6);
	memcpy(p + 24, host_ip, 4);
	assert_int_equal(send_frame(b, fr, VNET_HDR_LEN + 60), 0);
	/* then the datagram, its checksum left to the guest (offload on) */
	n = wait_v4_frame(loop, b, in, sizeof(in));
	assert_int_equal(n, VNET_HDR_LEN + 14 + 20 + 8 + 8);
	assert_int_equal(in[0] & VNET_HDR_F_NEEDS_CSUM, VNET_HDR_F_NEEDS_CSUM);
	assert_int_equal(le_get(in + 6, 2), 14 + 20); /* csum_start */
	assert_memory_equal(in + n - 8, "to-guest", 8);
	/* offload off: the host completes the checksum itself */
	assert_int_equal(b->ops->set_offload(b, 0), 0);
	assert_int_equal(sendto(s, "to-guest", 8, 0, (struct sockaddr *)&to, sizeof(to)), 8);
	n = wait_v4_frame(loop, b, in, sizeof(in));
	assert_int_equal(n, VNET_HDR_LEN + 14 + 20 + 8 + 8);
	assert_int_equal(in[0] & VNET_HDR_F_NEEDS_CSUM, 0);
	/* a second user of the same single-queue tap is refused */
	{
		struct net_backend *b2 = NULL;

		assert_int_equal(net_backend_create(&b2, &o, loop, on_rx, on_tx, &d, &e), -EBUSY);
		assert_string_equal(e.msg, "tap device 'tvt0' is in use by another process");
	}
	close(s);
	net_backend_destroy(b);
	/* two queues want a multi_queue tap */
	o.queues = 2;
	assert_int_equal(net_backend_create(&b, &o, loop, on_rx, on_tx, &d, &e), -EINVAL);
	assert_string_equal(e.msg, "tap device 'tvt0' is not a tap device created with multi_queue");
	{
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		struct ifreq r = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE};

		assert_int_equal(ifreq_ioctl(fd, TUNSETIFF, "tvt1", &r), 0);
		assert_int_equal(ioctl(fd, TUNSETPERSIST, 1), 0);
		close(fd);
	}
	o.ifname = "tvt1";
	assert_int_equal(net_backend_create(&b, &o, loop, on_rx, on_tx, &d, &e), 0);
	assert_int_equal(b->queues, 2);
	assert_int_equal(b->ops->set_queues(b, 2), 0); /* attach the second queue */
	assert_int_equal(b->ops->set_queues(b, 1), 0); /* and detach it again */
	assert_int_equal(b->ops->set_offload(b, NET_OFF_CSUM | NET_OFF_TSO6), 0);
	net_backend_destroy(b);
	loop_destroy(loop);
}

/* ---- the loop additions a NIC's I/O thread relies on ---- */

struct onthread {
	struct loop *l;
	int fd;
	int seen; /* 1: the callback ran on the loop thread */
};

static void onthread_cb(void *opaque, uint32_t events)
{
	struct onthread *o = opaque;
	uint64_t v;

	if (read(o->fd, &v, sizeof(v)) == sizeof(v))
		o->seen = loop_on_thread(o->l) ? 1 : -1;
}

static void loop_thread_stop_and_reuse(void **st)
{
	struct onthread o = {.fd = eventfd(0, EFD_NONBLOCK)};
	uint64_t one = 1;

	assert_int_equal(loop_create(&o.l), 0);
	assert_false(loop_on_thread(o.l));
	assert_int_equal(loop_add(o.l, o.fd, EPOLLIN, onthread_cb, &o), 0);
	assert_int_equal(loop_mod(o.l, o.fd, EPOLLIN), 0);
	assert_int_equal(loop_mod(o.l, 12345, EPOLLIN), -ENOENT);
	assert_int_equal(loop_start(o.l), 0);
	assert_false(loop_on_thread(o.l)); /* this is not the loop's thread */
	assert_int_equal(write(o.fd, &one, sizeof(one)), sizeof(one));
	for (int i = 0; i < 500 && !__atomic_load_n(&o.seen, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	assert_int_equal(__atomic_load_n(&o.seen, __ATOMIC_ACQUIRE), 1);
	loop_stop(o.l);
	loop_stop(o.l); /* idempotent */
	assert_int_equal(loop_del(o.l, o.fd), 0); /* still usable after the stop */
	loop_destroy(o.l);
	close(o.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mac_derive_is_stable_and_local),
		cmocka_unit_test(mac_format),
		cmocka_unit_test_setup_teardown(slirp_answers_arp_for_the_gateway, slirp_setup,
						slirp_teardown),
		cmocka_unit_test_setup_teardown(slirp_offers_a_dhcp_lease, slirp_setup,
						slirp_teardown),
		cmocka_unit_test_setup_teardown(slirp_hostfwd_reaches_the_guest, slirp_setup,
						slirp_teardown),
		cmocka_unit_test(slirp_refuses_a_taken_port),
		cmocka_unit_test(tap_refusals),
		cmocka_unit_test(tap_frames_both_ways),
		cmocka_unit_test(loop_thread_stop_and_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
