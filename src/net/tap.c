/* tap.c: an existing tap device as a network backend. The tap speaks the 12-byte virtio-net
 * header (IFF_VNET_HDR + TUNSETVNETHDRSZ), so frames pass between guest buffers and the tap
 * with readv/writev and no copy; checksum and TSO offloads go both ways (TUNSETOFFLOAD for
 * what the host may hand the guest). Several queue pairs open the device with
 * IFF_MULTI_QUEUE, one fd each. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net/net.h"
#include "vm/loop.h"

#define TAP_MAX_QUEUES 16

struct tap_queue {
	int fd;
	bool rx_on, tx_waiting, watched;
	bool detached; /* IFF_DETACH_QUEUE: the kernel sends nothing to it */
	unsigned idx;
	struct tap *tap;
};

struct tap {
	struct net_backend b;
	struct tap_queue q[TAP_MAX_QUEUES];
};

static struct tap *to_tap(struct net_backend *b)
{
	return (struct tap *)b;
}

static void tap_update(struct tap_queue *q)
{
	uint32_t ev = (q->rx_on ? EPOLLIN : 0) | (q->tx_waiting ? EPOLLOUT : 0);

	if (q->watched)
		loop_mod(q->tap->b.loop, q->fd, ev);
}

static void tap_event(void *opaque, uint32_t events)
{
	struct tap_queue *q = opaque;
	struct net_backend *b = &q->tap->b;

	if ((events & EPOLLOUT) && q->tx_waiting) {
		q->tx_waiting = false;
		tap_update(q);
		b->tx_ready(b->opaque, q->idx);
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* the device was deleted under us: link down, stop watching (it would spin) */
		b->link_up = false;
		q->watched = false;
		loop_del(b->loop, q->fd);
		b->rx_ready(b->opaque, q->idx);
		return;
	}
	if ((events & EPOLLIN) && q->rx_on)
		b->rx_ready(b->opaque, q->idx);
}

static int tap_send(struct net_backend *b, unsigned qi, const struct iovec *iov, int iovcnt)
{
	ssize_t n = writev(to_tap(b)->q[qi].fd, iov, iovcnt);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

static ssize_t tap_recv(struct net_backend *b, unsigned qi, const struct iovec *iov, int iovcnt)
{
	ssize_t n = readv(to_tap(b)->q[qi].fd, iov, iovcnt);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n < VNET_HDR_LEN)
		return -EIO;
	return n;
}

static ssize_t tap_peek(struct net_backend *b, unsigned qi)
{
	return -1;
}

static void tap_rx_watch(struct net_backend *b, unsigned qi, bool on)
{
	struct tap_queue *q = &to_tap(b)->q[qi];

	if (q->rx_on != on) {
		q->rx_on = on;
		tap_update(q);
	}
}

static void tap_tx_wait(struct net_backend *b, unsigned qi)
{
	struct tap_queue *q = &to_tap(b)->q[qi];

	if (!q->tx_waiting) {
		q->tx_waiting = true;
		tap_update(q);
	}
}

static int tap_set_queues(struct net_backend *b, unsigned n)
{
	struct tap *t = to_tap(b);

	if (b->queues < 2)
		return 0;
	for (unsigned i = 0; i < b->queues; i++) {
		struct ifreq ifr = {.ifr_flags = i < n ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE};
		bool detach = i >= n;

		if (t->q[i].detached == detach)
			continue;
		if (ioctl(t->q[i].fd, TUNSETQUEUE, &ifr) < 0)
			return -errno;
		t->q[i].detached = detach;
	}
	return 0;
}

static int tap_set_offload(struct net_backend *b, unsigned off)
{
	unsigned long f = 0;

	if (off & NET_OFF_CSUM) {
		f = TUN_F_CSUM;
		f |= (off & NET_OFF_TSO4) ? TUN_F_TSO4 : 0;
		f |= (off & NET_OFF_TSO6) ? TUN_F_TSO6 : 0;
		f |= (off & (NET_OFF_TSO4 | NET_OFF_TSO6)) && (off & NET_OFF_ECN) ? TUN_F_TSO_ECN
										   : 0;
	}
	/* the offloads are the device's: one attached queue (0 always is) sets them */
	return ioctl(to_tap(b)->q[0].fd, TUNSETOFFLOAD, f) < 0 ? -errno : 0;
}

static void tap_destroy(struct net_backend *b)
{
	struct tap *t = to_tap(b);

	for (unsigned i = 0; i < TAP_MAX_QUEUES; i++) {
		if (t->q[i].watched)
			loop_del(b->loop, t->q[i].fd);
		if (t->q[i].fd >= 0)
			close(t->q[i].fd);
	}
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.send = tap_send,
	.recv = tap_recv,
	.peek = tap_peek,
	.rx_watch = tap_rx_watch,
	.tx_wait = tap_tx_wait,
	.set_queues = tap_set_queues,
	.set_offload = tap_set_offload,
	.destroy = tap_destroy,
};

/* Open one queue of the tap called name. 0 or -errno with a line in e. */
static int tap_open_queue(struct tap_queue *q, const char *name, unsigned queues, struct err *e)
{
	struct ifreq ifr = {0};
	unsigned int features = 0;
	int hdrsz = VNET_HDR_LEN;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return errf(e, -errno, "tap device '%s': cannot open /dev/net/tun: %s", name,
			    strerror(errno));
	if (ioctl(fd, TUNGETFEATURES, &features) < 0 || !(features & IFF_VNET_HDR) ||
	    (queues > 1 && !(features & IFF_MULTI_QUEUE))) {
		close(fd);
		return errf(e, -ENOTSUP, "tap device '%s': the kernel's tun driver lacks %s", name,
			    queues > 1 ? "IFF_MULTI_QUEUE" : "IFF_VNET_HDR");
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (queues > 1 ? IFF_MULTI_QUEUE : 0);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = errno;

		close(fd);
		if (err == EBUSY)
			return errf(e, -err, "tap device '%s' is in use by another process", name);
		if (err == EINVAL)
			return errf(e, -err, "tap device '%s' is not a tap device%s", name,
				    queues > 1 ? " created with multi_queue" : " (or is multi_queue)");
		return errf(e, -err, "tap device '%s': %s", name, strerror(err));
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0 || ioctl(fd, TUNSETOFFLOAD, 0ul) < 0) {
		int err = errno;

		close(fd);
		return errf(e, -err, "tap device '%s': cannot set the vnet header: %s", name,
			    strerror(err));
	}
	q->fd = fd;
	return 0;
}

int net_tap_create(struct net_backend **out, const struct net_config *o, struct loop *l,
		   struct err *e)
{
	unsigned queues = o->queues ? o->queues : 1;
	struct tap *t;
	int ret;

	if (!o->ifname || !*o->ifname || strlen(o->ifname) >= IFNAMSIZ)
		return errf(e, -EINVAL, "invalid tap device name '%s'", o->ifname ? o->ifname : "");
	if (queues > TAP_MAX_QUEUES)
		return errf(e, -EINVAL, "tap device '%s': at most %d queues", o->ifname,
			    TAP_MAX_QUEUES);
	/* TUNSETIFF would create a missing device (with CAP_NET_ADMIN): only take existing ones */
	if (!if_nametoindex(o->ifname))
		return errf(e, -ENODEV,
			    "tap device '%s' does not exist (create it: ip tuntap add dev %s mode "
			    "tap%s)",
			    o->ifname, o->ifname, queues > 1 ? " multi_queue" : "");
	t = calloc(1, sizeof(*t));
	if (!t)
		return errf(e, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < TAP_MAX_QUEUES; i++)
		t->q[i] = (struct tap_queue){.fd = -1, .idx = i, .tap = t};
	t->b = (struct net_backend){.ops = &tap_ops, .kind = "tap", .queues = queues,
				    .offloads = NET_OFF_CSUM | NET_OFF_TSO4 | NET_OFF_TSO6 |
						NET_OFF_ECN,
				    .link_up = true, .loop = l};
	for (unsigned i = 0; i < queues; i++) {
		ret = tap_open_queue(&t->q[i], o->ifname, queues, e);
		if (ret)
			goto fail;
		ret = loop_add(l, t->q[i].fd, 0, tap_event, &t->q[i]);
		if (ret) {
			errf(e, ret, "tap device '%s': cannot watch it: %s", o->ifname,
			     strerror(-ret));
			goto fail;
		}
		t->q[i].watched = true;
	}
	ret = tap_set_queues(&t->b, 1); /* the others once the guest turns them on */
	if (ret) {
		errf(e, ret, "tap device '%s': TUNSETQUEUE: %s", o->ifname, strerror(-ret));
		goto fail;
	}
	*out = &t->b;
	return 0;
fail:
	tap_destroy(&t->b);
	return ret;
}
