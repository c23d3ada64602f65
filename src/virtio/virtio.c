/* virtio.c: the transport-independent virtio 1.x device core (virtio.h). */
#include "virtio/virtio.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "virtio/transport.h"
#include "vm/config.h"
#include "vm/devif.h"
#include "vm/loop.h"

#define VF(bit) (1ULL << (bit))

static void on_kick(void *opaque, uint32_t events)
{
	struct virtio_kick *k = opaque;
	struct virtio_dev *d = k->d;
	uint64_t n;

	if (read(k->fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	if (virtio_queue_live(d, k->q))
		d->ops->queue_notify(d, k->q);
	pthread_mutex_unlock(&d->lock);
}

static void state_reset(struct virtio_dev *d)
{
	uint8_t gen = d->st.config_generation;

	memset(&d->st, 0, sizeof(d->st));
	d->st.config_generation = gen;
	d->st.msix_config = VIRTIO_NO_VECTOR;
	for (unsigned i = 0; i < d->nqueues; i++)
		virtq_reset(&d->st.q[i], d->queue_size);
	d->broken = false;
}

int virtio_dev_init(struct virtio_dev *d, struct vm *vm)
{
	int ret;

	if (!d->nqueues || d->nqueues > VIRTIO_MAX_QUEUES || !d->queue_size ||
	    d->queue_size > VIRTQ_MAX_SIZE || (d->queue_size & (d->queue_size - 1)))
		return -EINVAL;
	d->vm = vm;
	d->mem = devif_mem(vm);
	d->features |= VF(VIRTIO_F_VERSION_1);
	if (!d->loop)
		d->loop = devif_loop(vm);
	pthread_mutex_init(&d->lock, NULL);
	state_reset(d);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		d->kick[i] = (struct virtio_kick){d, i, -1};
	for (unsigned i = 0; i < d->nqueues; i++) {
		d->kick[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->kick[i].fd < 0)
			return -errno;
		ret = loop_add(d->loop, d->kick[i].fd, EPOLLIN, on_kick, &d->kick[i]);
		if (ret) {
			close(d->kick[i].fd);
			d->kick[i].fd = -1;
			return ret;
		}
	}
	return 0;
}

void virtio_dev_destroy(struct virtio_dev *d)
{
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (d->kick[i].fd < 0)
			continue;
		close(d->kick[i].fd);
		d->kick[i].fd = -1;
	}
	if (d->vm)
		pthread_mutex_destroy(&d->lock);
	d->vm = NULL;
}

uint32_t virtio_get_features(struct virtio_dev *d)
{
	return d->st.dev_feat_sel > 1 ? 0 : (uint32_t)(d->features >> (32 * d->st.dev_feat_sel));
}

uint32_t virtio_get_driver_features(struct virtio_dev *d)
{
	return d->st.drv_feat_sel > 1 ? 0
				       : (uint32_t)(d->st.driver_features >> (32 * d->st.drv_feat_sel));
}

void virtio_set_features(struct virtio_dev *d, uint32_t v)
{
	unsigned sh;

	/* only before FEATURES_OK; other windows have no bits */
	if ((d->st.status & VIRTIO_S_FEATURES_OK) || d->st.drv_feat_sel > 1)
		return;
	sh = 32 * d->st.drv_feat_sel;
	d->st.driver_features = (d->st.driver_features & ~(0xffffffffULL << sh)) | ((uint64_t)v << sh);
}

static void reset(struct virtio_dev *d)
{
	if (d->ops->reset)
		d->ops->reset(d);
	state_reset(d);
}

void virtio_set_status(struct virtio_dev *d, uint8_t v)
{
	uint8_t old = d->st.status;
	uint64_t f = d->st.driver_features;

	if (v == 0) {
		reset(d);
		return;
	}
	/* FEATURES_OK only for a subset of what we offered, with VERSION_1 (modern only) */
	if ((v & VIRTIO_S_FEATURES_OK) && !(old & VIRTIO_S_FEATURES_OK) &&
	    ((f & ~d->features) || !(f & VF(VIRTIO_F_VERSION_1))))
		v &= (uint8_t)~VIRTIO_S_FEATURES_OK;
	/* DRIVER_OK needs FEATURES_OK */
	if ((v & VIRTIO_S_DRIVER_OK) && !(v & VIRTIO_S_FEATURES_OK))
		v &= (uint8_t)~VIRTIO_S_DRIVER_OK;
	d->st.status = (uint8_t)(v | (old & VIRTIO_S_NEEDS_RESET));
	if ((v & VIRTIO_S_DRIVER_OK) && !(old & VIRTIO_S_DRIVER_OK)) {
		if (d->ops->activate)
			d->ops->activate(d);
		/* work the driver queued before DRIVER_OK */
		for (unsigned i = 0; i < d->nqueues; i++)
			if (virtio_queue_live(d, i))
				d->ops->queue_notify(d, i);
	}
}

struct virtq *virtio_selected_queue(struct virtio_dev *d)
{
	return d->st.queue_sel < d->nqueues ? &d->st.q[d->st.queue_sel] : NULL;
}

int virtio_queue_enable(struct virtio_dev *d, unsigned qi)
{
	struct virtq *q;

	if (qi >= d->nqueues)
		return -EINVAL;
	q = &d->st.q[qi];
	q->event_idx = d->st.driver_features & VF(VIRTIO_F_RING_EVENT_IDX);
	q->indirect = d->st.driver_features & VF(VIRTIO_F_RING_INDIRECT_DESC);
	if (virtq_check(q, d->mem)) {
		virtio_needs_reset(d, "queue enabled with a bad size or rings outside guest RAM");
		return -EINVAL;
	}
	q->ready = true;
	return 0;
}

void virtio_config_access(struct virtio_dev *d, unsigned off, uint8_t *data, unsigned len,
			  bool write)
{
	if (off >= d->config_len || len > d->config_len - off) {
		if (!write)
			memset(data, 0, len);
		return;
	}
	if (write) {
		if (d->ops->config_write)
			d->ops->config_write(d, off, data, len);
	} else if (d->ops->config_read) {
		d->ops->config_read(d, off, data, len);
	} else {
		memset(data, 0, len);
	}
}

bool virtio_queue_live(struct virtio_dev *d, unsigned q)
{
	return q < d->nqueues && !d->broken && (d->st.status & VIRTIO_S_DRIVER_OK) &&
	       d->st.q[q].ready;
}

void virtio_queue_notify_guest(struct virtio_dev *d, unsigned q)
{
	if (!virtq_should_notify(&d->st.q[q], d->mem))
		return;
	d->st.isr |= VIRTIO_ISR_QUEUE;
	d->tops->signal(d, d->st.q[q].msix_vector);
}

void virtio_config_changed(struct virtio_dev *d)
{
	d->st.config_generation++;
	if (!(d->st.status & VIRTIO_S_DRIVER_OK))
		return;
	d->st.isr |= VIRTIO_ISR_CONFIG;
	d->tops->signal(d, d->st.msix_config);
}

void virtio_needs_reset(struct virtio_dev *d, const char *why)
{
	int64_t t = mono_ns();

	if (d->broken)
		return;
	d->broken = true;
	if (!d->last_log_ns || t - d->last_log_ns >= 1000000000) {
		if (d->suppressed)
			log_warn("%s: device needs reset: %s (%u more not shown)", d->name, why,
				 d->suppressed);
		else
			log_warn("%s: device needs reset: %s", d->name, why);
		d->last_log_ns = t;
		d->suppressed = 0;
	} else {
		d->suppressed++;
	}
	d->st.status |= VIRTIO_S_NEEDS_RESET;
	if (d->st.status & VIRTIO_S_DRIVER_OK) {
		d->st.isr |= VIRTIO_ISR_CONFIG;
		if (d->tops)
			d->tops->signal(d, d->st.msix_config);
	}
}

void virtio_process(struct virtio_dev *d, unsigned qi, struct virtq_elem *e,
		    int64_t (*fn)(struct virtio_dev *d, unsigned q, struct virtq_elem *e))
{
	struct virtq *q = &d->st.q[qi];
	const char *why;
	bool pushed = false;
	int r = 0;

	do {
		virtq_set_notify(q, d->mem, false);
		while (!d->broken && (r = virtq_pop(q, d->mem, e, &why)) > 0) {
			int64_t n = fn(d, qi, e);

			if (n >= 0) {
				if (virtq_push(q, d->mem, e->head, (uint32_t)n) < 0)
					r = -EFAULT, why = "used ring outside guest RAM";
				pushed = true;
			}
			if (r < 0)
				break;
		}
		if (d->broken)
			return;
		if (r < 0) {
			virtio_needs_reset(d, why);
			return;
		}
	} while (virtq_set_notify(q, d->mem, true));
	if (pushed)
		virtio_queue_notify_guest(d, qi);
}

void virtio_complete(struct virtio_dev *d, unsigned qi, uint16_t head, uint32_t len, bool notify)
{
	if (!virtio_queue_live(d, qi))
		return;
	if (virtq_push(&d->st.q[qi], d->mem, head, len) < 0) {
		virtio_needs_reset(d, "used ring outside guest RAM");
		return;
	}
	if (notify)
		virtio_queue_notify_guest(d, qi);
}

int virtio_attach(struct virtio_dev *d)
{
	if (devif_config(d->vm)->transport == TRANSPORT_MMIO)
		return virtio_mmio_attach(d);
	return virtio_pci_attach(d);
}

void virtio_save(struct virtio_dev *d, struct virtio_state *out)
{
	pthread_mutex_lock(&d->lock);
	*out = d->st;
	pthread_mutex_unlock(&d->lock);
}

int virtio_restore(struct virtio_dev *d, const struct virtio_state *in)
{
	int ret = 0;

	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->nqueues && !ret; i++) {
		const struct virtq *q = &in->q[i];

		if (q->max_size != d->queue_size || (q->ready && virtq_check(q, d->mem)))
			ret = -EINVAL;
	}
	if (!ret && (in->driver_features & ~d->features))
		ret = -EINVAL;
	if (!ret) {
		d->st = *in;
		d->broken = in->status & VIRTIO_S_NEEDS_RESET;
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}
