/* slirp.c: user-mode networking with libslirp, driven from an event loop. No privileges:
 * the guest sits on 10.0.2.0/24 behind a NAT (gateway and host 10.0.2.2, DNS 10.0.2.3, DHCP
 * from 10.0.2.15); its TCP/UDP leaves through ordinary host sockets, and port forwards listen
 * on the host.
 *
 * libslirp wants poll(): before sleeping it names its sockets (slirp_pollfds_fill), after
 * waking it asks what happened (slirp_pollfds_poll). Here the sockets live in an inner epoll
 * fd that the loop watches; after every piece of work the set is refilled and the inner epoll
 * brought in line, and a timerfd covers slirp's TCP timers and its own timers. Frames for the
 * guest wait in a bounded queue that the device drains (recv); libslirp's TCP retransmits what
 * a full queue drops. */
#include <errno.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "util/clock.h"
#include "util/dynlib.h"
#include "util/log.h"
#include "vm/loop.h"

#define SLIRP_RXQ_MAX 1024  /* frames waiting for the guest */
#define SLIRP_MAX_TIMERS 8
#define SLIRP_GUEST_ADDR 0x0a00020f /* 10.0.2.15 */
enum { FD_EPOLL, FD_TIMER, FD_KICK };

struct pkt {
	struct pkt *next;
	size_t len; /* vnet header included */
	uint8_t data[];
};

struct stimer {
	bool used;
	SlirpTimerId id;
	void *cb_opaque;
	SlirpTimerCb cb; /* timer_new (old interface) */
	int64_t expire_ms; /* -1: not armed */
};

struct slirp_be {
	struct net_backend b;
	Slirp *slirp;
	int fds[3]; /* the inner epoll, the timerfd, the kick eventfd: watched by the loop */
	bool rx_on, tx_waiting;
	struct pollfd *pfd; /* the last fill */
	unsigned npfd, pfd_cap;
	int *reg; /* fds registered in epfd */
	unsigned nreg, reg_cap;
	struct stimer timers[SLIRP_MAX_TIMERS];
	struct pkt *head, **tail;
	unsigned nq;
	uint8_t buf[NET_MAX_FRAME]; /* a guest frame made linear for slirp_input */
};

static struct slirp_be *to_sb(struct net_backend *b)
{
	return (struct slirp_be *)b;
}

/* ---- libslirp callbacks ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_be *s = opaque;
	struct pkt *p;
	uint64_t one = 1;

	if (s->nq >= SLIRP_RXQ_MAX || len > NET_MAX_FRAME)
		return (ssize_t)len; /* dropped: TCP retransmits */
	p = malloc(sizeof(*p) + VNET_HDR_LEN + len);
	if (!p)
		return (ssize_t)len;
	p->next = NULL;
	p->len = VNET_HDR_LEN + len;
	memset(p->data, 0, VNET_HDR_LEN);
	memcpy(p->data + VNET_HDR_LEN, buf, len);
	*s->tail = p;
	s->tail = &p->next;
	if (s->nq++ == 0 && s->rx_on && write(s->fds[FD_KICK], &one, sizeof(one)) < 0) {
		/* the eventfd cannot overflow here */
	}
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	log_warn("user network: guest error: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	return mono_ns();
}

static struct stimer *timer_alloc(struct slirp_be *s)
{
	for (int i = 0; i < SLIRP_MAX_TIMERS; i++)
		if (!s->timers[i].used) {
			s->timers[i] = (struct stimer){.used = true, .expire_ms = -1};
			return &s->timers[i];
		}
	log_err("user network: out of timers");
	return NULL;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct stimer *t = timer_alloc(opaque);

	if (t) {
		t->cb = cb;
		t->cb_opaque = cb_opaque;
	}
	return t;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct stimer *t = timer_alloc(opaque);

	if (t) {
		t->id = id;
		t->cb_opaque = cb_opaque;
	}
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	if (timer)
		((struct stimer *)timer)->used = false;
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	if (timer)
		((struct stimer *)timer)->expire_ms = expire_ms;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
	struct slirp_be *s = opaque;
	uint64_t one = 1;

	if (write(s->fds[FD_KICK], &one, sizeof(one)) < 0) {
		/* cannot overflow */
	}
}

/* The libslirp calls made here, resolved by load_slirp (util/dynlib.h: a VM without --net
 * user does not map libslirp and glib); process-wide like the dynamic linker's own tables. */
static struct {
	__typeof__(&slirp_new) new_;
	__typeof__(&slirp_cleanup) cleanup;
	__typeof__(&slirp_input) input;
	__typeof__(&slirp_pollfds_fill) fill;
	__typeof__(&slirp_pollfds_poll) poll;
	__typeof__(&slirp_handle_timer) handle_timer;
	__typeof__(&slirp_add_hostfwd) add_hostfwd;
} sl;

static int load_slirp(struct err *e)
{
	static const struct dynsym syms[] = {
		DYNSYM(&sl, new_, slirp_new),
		DYNSYM(&sl, cleanup, slirp_cleanup),
		DYNSYM(&sl, input, slirp_input),
		DYNSYM(&sl, fill, slirp_pollfds_fill),
		DYNSYM(&sl, poll, slirp_pollfds_poll),
		DYNSYM(&sl, handle_timer, slirp_handle_timer),
		DYNSYM(&sl, add_hostfwd, slirp_add_hostfwd),
	};

	return dynlib_load("libslirp.so.0", "libslirp0", "--net user", syms,
			   sizeof(syms) / sizeof(syms[0]), e);
}

static const SlirpCb slirp_cbs = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
	.timer_new_opaque = cb_timer_new_opaque,
};

/* ---- polling ---- */

static int add_poll(int fd, int events, void *opaque)
{
	struct slirp_be *s = opaque;
	short ev = 0;

	if (s->npfd == s->pfd_cap) {
		unsigned cap = s->pfd_cap ? 2 * s->pfd_cap : 32;
		struct pollfd *p = realloc(s->pfd, cap * sizeof(*p));

		if (!p)
			return -1; /* slirp skips a socket with index -1 */
		s->pfd = p;
		s->pfd_cap = cap;
	}
	ev |= (events & SLIRP_POLL_IN) ? POLLIN : 0;
	ev |= (events & SLIRP_POLL_OUT) ? POLLOUT : 0;
	ev |= (events & SLIRP_POLL_PRI) ? POLLPRI : 0;
	s->pfd[s->npfd] = (struct pollfd){.fd = fd, .events = ev};
	return (int)s->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct slirp_be *s = opaque;
	short r;
	int out = 0;

	if (idx < 0 || (unsigned)idx >= s->npfd)
		return 0;
	r = s->pfd[idx].revents;
	out |= (r & POLLIN) ? SLIRP_POLL_IN : 0;
	out |= (r & POLLOUT) ? SLIRP_POLL_OUT : 0;
	out |= (r & POLLPRI) ? SLIRP_POLL_PRI : 0;
	out |= (r & POLLERR) ? SLIRP_POLL_ERR : 0;
	out |= (r & POLLHUP) ? SLIRP_POLL_HUP : 0;
	return out;
}

/* Bring the inner epoll set in line with pfd[]: every fd of the fill is (re)registered with
 * its events (a closed-and-reused number is re-added), the others are removed. */
static void sync_epoll(struct slirp_be *s)
{
	unsigned keep = 0;

	for (unsigned i = 0; i < s->npfd; i++) {
		struct epoll_event ev = {.data.fd = s->pfd[i].fd};

		ev.events = ((s->pfd[i].events & POLLIN) ? EPOLLIN : 0) |
			    ((s->pfd[i].events & POLLOUT) ? EPOLLOUT : 0) |
			    ((s->pfd[i].events & POLLPRI) ? EPOLLPRI : 0);
		if (epoll_ctl(s->fds[FD_EPOLL], EPOLL_CTL_MOD, s->pfd[i].fd, &ev) < 0 && errno == ENOENT)
			epoll_ctl(s->fds[FD_EPOLL], EPOLL_CTL_ADD, s->pfd[i].fd, &ev);
	}
	for (unsigned j = 0; j < s->nreg; j++) {
		bool found = false;

		for (unsigned i = 0; i < s->npfd && !found; i++)
			found = s->pfd[i].fd == s->reg[j];
		if (!found)
			epoll_ctl(s->fds[FD_EPOLL], EPOLL_CTL_DEL, s->reg[j], NULL); /* may be closed */
	}
	if (s->npfd > s->reg_cap) {
		int *r = realloc(s->reg, s->npfd * sizeof(*r));

		if (!r)
			return; /* keep the old list: at worst a stale fd is removed later */
		s->reg = r;
		s->reg_cap = s->npfd;
	}
	for (unsigned i = 0; i < s->npfd; i++)
		s->reg[keep++] = s->pfd[i].fd;
	s->nreg = keep;
}

/* Refill slirp's socket set, update the inner epoll and arm the timer. */
static void slirp_sync(struct slirp_be *s)
{
	uint32_t timeout = UINT32_MAX;
	int64_t now = mono_ns() / 1000000, next = -1;
	struct itimerspec its = {0};

	s->npfd = 0;
	sl.fill(s->slirp, &timeout, add_poll, s);
	sync_epoll(s);
	if (timeout != UINT32_MAX)
		next = now + timeout;
	for (int i = 0; i < SLIRP_MAX_TIMERS; i++)
		if (s->timers[i].used && s->timers[i].expire_ms >= 0 &&
		    (next < 0 || s->timers[i].expire_ms < next))
			next = s->timers[i].expire_ms;
	if (next >= 0) {
		int64_t ms = next > now ? next - now : 0;

		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (ms % 1000) * 1000000 + 1; /* never all zero (disarm) */
	}
	timerfd_settime(s->fds[FD_TIMER], 0, &its, NULL);
}

static void run_timers(struct slirp_be *s)
{
	int64_t now = mono_ns() / 1000000;

	for (int i = 0; i < SLIRP_MAX_TIMERS; i++) {
		struct stimer *t = &s->timers[i];

		if (!t->used || t->expire_ms < 0 || t->expire_ms > now)
			continue;
		t->expire_ms = -1;
		if (t->cb)
			t->cb(t->cb_opaque);
		else
			sl.handle_timer(s->slirp, t->id, t->cb_opaque);
	}
}

/* Sockets, timers or a kick: let slirp work, then tell the device about frames. */
static void slirp_work(struct slirp_be *s)
{
	int n = s->npfd ? poll(s->pfd, s->npfd, 0) : 0;

	sl.poll(s->slirp, n < 0, get_revents, s);
	run_timers(s);
	slirp_sync(s);
	if (s->tx_waiting) {
		s->tx_waiting = false;
		s->b.tx_ready(s->b.opaque, 0);
	}
	if (s->head && s->rx_on)
		s->b.rx_ready(s->b.opaque, 0);
}

static void on_event(void *opaque, uint32_t events)
{
	struct slirp_be *s = opaque;
	uint64_t v;

	if (read(s->fds[FD_TIMER], &v, sizeof(v)) < 0) {
		/* not expired: nothing to clear */
	}
	if (read(s->fds[FD_KICK], &v, sizeof(v)) < 0) {
		/* not kicked */
	}
	slirp_work(s);
}

/* ---- backend ops ---- */

static int sl_send(struct net_backend *b, unsigned q, const struct iovec *iov, int iovcnt)
{
	struct slirp_be *s = to_sb(b);
	size_t len = 0, skip = VNET_HDR_LEN;

	for (int i = 0; i < iovcnt; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t n = iov[i].iov_len;

		if (skip) {
			size_t k = n < skip ? n : skip;

			p += k;
			n -= k;
			skip -= k;
		}
		if (n > sizeof(s->buf) - len)
			return -EMSGSIZE;
		memcpy(s->buf + len, p, n);
		len += n;
	}
	if (skip || len < 14)
		return -EINVAL;
	sl.input(s->slirp, s->buf, (int)len);
	slirp_sync(s); /* a new connection brings a new socket to watch */
	return 0;
}

static ssize_t sl_recv(struct net_backend *b, unsigned q, const struct iovec *iov, int iovcnt)
{
	struct slirp_be *s = to_sb(b);
	struct pkt *p = s->head;
	size_t room = 0, off = 0;

	if (!p)
		return -EAGAIN;
	for (int i = 0; i < iovcnt; i++)
		room += iov[i].iov_len;
	if (room < p->len)
		return -EMSGSIZE;
	for (int i = 0; i < iovcnt && off < p->len; i++) {
		size_t n = p->len - off < iov[i].iov_len ? p->len - off : iov[i].iov_len;

		memcpy(iov[i].iov_base, p->data + off, n);
		off += n;
	}
	s->head = p->next;
	if (!s->head)
		s->tail = &s->head;
	s->nq--;
	off = p->len;
	free(p);
	return (ssize_t)off;
}

static ssize_t sl_peek(struct net_backend *b, unsigned q)
{
	struct slirp_be *s = to_sb(b);

	return s->head ? (ssize_t)s->head->len : 0;
}

static void sl_rx_watch(struct net_backend *b, unsigned q, bool on)
{
	struct slirp_be *s = to_sb(b);

	s->rx_on = on;
	if (on && s->head)
		cb_notify(s); /* rx_ready from the loop, never from inside the caller */
}

static void sl_tx_wait(struct net_backend *b, unsigned q)
{
	struct slirp_be *s = to_sb(b);

	s->tx_waiting = true;
	cb_notify(s);
}

static int sl_set_queues(struct net_backend *b, unsigned n)
{
	return 0; /* one queue */
}

static int sl_set_offload(struct net_backend *b, unsigned off)
{
	return 0; /* slirp hands over plain frames: nothing for the guest to take */
}

static void sl_destroy(struct net_backend *b)
{
	struct slirp_be *s = to_sb(b);

	if (!s)
		return;
	for (int i = 0; i < 3; i++)
		if (s->fds[i] >= 0) {
			loop_del(b->loop, s->fds[i]);
			close(s->fds[i]);
		}
	if (s->slirp)
		sl.cleanup(s->slirp);
	while (s->head) {
		struct pkt *p = s->head;

		s->head = p->next;
		free(p);
	}
	free(s->pfd);
	free(s->reg);
	free(s);
}

static const struct net_backend_ops slirp_ops = {
	.send = sl_send,
	.recv = sl_recv,
	.peek = sl_peek,
	.rx_watch = sl_rx_watch,
	.tx_wait = sl_tx_wait,
	.set_queues = sl_set_queues,
	.set_offload = sl_set_offload,
	.destroy = sl_destroy,
};

int net_slirp_create(struct net_backend **out, const struct net_config *o,
		     struct loop *l, struct err *e)
{
	SlirpConfig cfg = {
		.version = 4,
		.in_enabled = true,
		.vnetwork.s_addr = htonl(0x0a000200),
		.vnetmask.s_addr = htonl(0xffffff00),
		.vhost.s_addr = htonl(0x0a000202),
		.vdhcp_start.s_addr = htonl(SLIRP_GUEST_ADDR),
		.vnameserver.s_addr = htonl(0x0a000203),
		.vhostname = "thinvisor",
		.if_mtu = 1500,
		.if_mru = 1500,
	};
	struct slirp_be *s;
	int ret = load_slirp(e);

	if (ret)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s)
		return errf(e, -ENOMEM, "out of memory");
	s->b = (struct net_backend){.ops = &slirp_ops, .kind = "user", .queues = 1,
				    .link_up = true, .loop = l};
	s->tail = &s->head;
	s->fds[FD_EPOLL] = epoll_create1(EPOLL_CLOEXEC);
	s->fds[FD_TIMER] = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->fds[FD_KICK] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->fds[FD_EPOLL] < 0 || s->fds[FD_TIMER] < 0 || s->fds[FD_KICK] < 0) {
		ret = errf(e, -errno, "user network: %s", strerror(errno));
		goto fail;
	}
	s->slirp = sl.new_(&cfg, &slirp_cbs, s);
	if (!s->slirp) {
		ret = errf(e, -ENOMEM, "user network: libslirp failed to start");
		goto fail;
	}
	for (unsigned i = 0; i < o->nhostfwd; i++) {
		const struct net_hostfwd *f = &o->hostfwd[i];
		struct in_addr host = {.s_addr = htonl(f->host_addr)};
		struct in_addr guest = {.s_addr = htonl(f->guest_addr ? f->guest_addr
							       : SLIRP_GUEST_ADDR)};

		if (sl.add_hostfwd(s->slirp, f->udp, host, f->host_port, guest,
				      f->guest_port) < 0) {
			ret = errf(e, -EADDRINUSE,
				   "hostfwd=%s:%u-:%u: cannot listen on host port %u (in use?)",
				   f->udp ? "udp" : "tcp", f->host_port, f->guest_port,
				   f->host_port);
			goto fail;
		}
	}
	slirp_sync(s);
	for (int i = 0; i < 3; i++) {
		ret = loop_add(l, s->fds[i], EPOLLIN, on_event, s);
		if (ret) {
			errf(e, ret, "user network: cannot watch its sockets: %s", strerror(-ret));
			goto fail;
		}
	}
	*out = &s->b;
	return 0;
fail:
	/* fds not added to the loop make loop_del return -ENOENT, which is harmless */
	sl_destroy(&s->b);
	return ret;
}
