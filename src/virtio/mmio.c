/* mmio.c: the virtio-mmio transport, version 2 (virtio 1.2, section 4.2), at a platform slot
 * (PLAT_VIRTIO_MMIO_BASE + i * 4 KiB) described in the DSDT as LNRO0005 with its GSI. The
 * interrupt is edge-triggered through an irqfd; InterruptStatus says why. QueueNotify writes
 * are one ioeventfd per queue, matched on the queue index. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/bytes.h"
#include "virtio/transport.h"
#include "vm/devif.h"

#define MMIO_MAGIC 0x74726976 /* "virt" */
#define MMIO_VERSION 2
#define MMIO_VENDOR 0x1af4
#define MMIO_NOTIFY 0x050
#define MMIO_CONFIG 0x100

struct vmmio {
	struct virtio_dev *d;
	struct vm *vm;
	uint64_t base;
	unsigned gsi;
	int irq_fd;
	bool irqfd, kick_ioeventfd;
};

static void vmmio_signal(struct virtio_dev *d, uint16_t vector)
{
	struct vmmio *m = d->transport;
	uint64_t one = 1;

	if (m->irqfd) {
		if (write(m->irq_fd, &one, sizeof(one)) < 0) {
			/* overflow only: the interrupt is pending anyway */
		}
		return;
	}
	devif_set_irq(m->vm, m->gsi, 1);
	devif_set_irq(m->vm, m->gsi, 0);
}

static const struct virtio_transport_ops vmmio_tops = {.signal = vmmio_signal};

static uint32_t reg_read(struct vmmio *m, unsigned off)
{
	struct virtio_dev *d = m->d;
	struct virtq *q = virtio_selected_queue(d);

	switch (off) {
	case 0x000: return MMIO_MAGIC;
	case 0x004: return MMIO_VERSION;
	case 0x008: return d->device_id;
	case 0x00c: return MMIO_VENDOR;
	case 0x010: return virtio_get_features(d);
	case 0x034: return q ? q->max_size : 0;
	case 0x044: return q ? q->ready : 0;
	case 0x060: return d->st.isr;
	case 0x070: return d->st.status;
	case 0x080: return q ? (uint32_t)q->desc : 0;
	case 0x084: return q ? (uint32_t)(q->desc >> 32) : 0;
	case 0x090: return q ? (uint32_t)q->avail : 0;
	case 0x094: return q ? (uint32_t)(q->avail >> 32) : 0;
	case 0x0a0: return q ? (uint32_t)q->used : 0;
	case 0x0a4: return q ? (uint32_t)(q->used >> 32) : 0;
	case 0x0fc: return d->st.config_generation;
	}
	return 0;
}

static void set_half(uint64_t *f, bool hi, uint32_t v)
{
	*f = hi ? (*f & 0xffffffffULL) | (uint64_t)v << 32 : (*f & ~0xffffffffULL) | v;
}

static void reg_write(struct vmmio *m, unsigned off, uint32_t v)
{
	struct virtio_dev *d = m->d;
	struct virtq *q = virtio_selected_queue(d);
	bool idle = q && !q->ready;
	uint64_t one = 1;

	switch (off) {
	case 0x014: d->st.dev_feat_sel = v; break;
	case 0x020: virtio_set_features(d, v); break;
	case 0x024: d->st.drv_feat_sel = v; break;
	case 0x030: d->st.queue_sel = (uint16_t)v; break;
	case 0x038: if (idle) q->size = (uint16_t)v; break;
	case 0x044:
		if (idle && v == 1)
			(void)virtio_queue_enable(d, d->st.queue_sel);
		else if (q && v == 0)
			q->ready = false;
		break;
	case MMIO_NOTIFY:
		if (v < d->nqueues && write(d->kick[v].fd, &one, sizeof(one)) < 0) {
			/* overflow only */
		}
		break;
	case 0x064: d->st.isr &= (uint8_t)~v; break;
	case 0x070: virtio_set_status(d, (uint8_t)v); break;
	case 0x080: case 0x084: if (idle) set_half(&q->desc, off & 4, v); break;
	case 0x090: case 0x094: if (idle) set_half(&q->avail, off & 4, v); break;
	case 0x0a0: case 0x0a4: if (idle) set_half(&q->used, off & 4, v); break;
	}
}

static void vmmio_access(struct vmmio *m, uint64_t off, uint8_t *data, unsigned len, bool wr)
{
	pthread_mutex_lock(&m->d->lock);
	if (off >= MMIO_CONFIG)
		virtio_config_access(m->d, (unsigned)(off - MMIO_CONFIG), data, len, wr);
	else if (len == 4 && off % 4 == 0 && wr)
		reg_write(m, (unsigned)off, (uint32_t)le_get(data, 4));
	else if (len == 4 && off % 4 == 0)
		le_put(data, reg_read(m, (unsigned)off), 4);
	else if (!wr)
		memset(data, 0, len);
	pthread_mutex_unlock(&m->d->lock);
}

static void vmmio_read(void *o, uint64_t off, uint8_t *data, unsigned len)
{
	vmmio_access(o, off, data, len, false);
}

static void vmmio_write(void *o, uint64_t off, const uint8_t *data, unsigned len)
{
	uint8_t b[8] = {0};

	memcpy(b, data, len > 8 ? 8 : len);
	vmmio_access(o, off, b, len > 8 ? 8 : len, true);
}

static const struct bus_ops vmmio_ops = {.read = vmmio_read, .write = vmmio_write};

static void vmmio_destroy(void *opaque)
{
	struct vmmio *m = opaque;

	for (unsigned q = 0; m->kick_ioeventfd && q < m->d->nqueues; q++)
		devif_ioeventfd(m->vm, m->d->kick[q].fd, m->base + MMIO_NOTIFY, 4, false, true, q,
				false);
	if (m->irq_fd >= 0) {
		if (m->irqfd)
			devif_irqfd(m->vm, m->irq_fd, m->gsi, false);
		close(m->irq_fd);
	}
	free(m);
}

int virtio_mmio_attach(struct virtio_dev *d)
{
	struct vmmio *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return -ENOMEM;
	m->d = d;
	m->vm = d->vm;
	m->irq_fd = -1;
	ret = devif_add_device(d->vm, d->name, m, vmmio_destroy);
	if (ret) {
		free(m);
		return ret;
	}
	d->tops = &vmmio_tops;
	d->transport = m;
	if ((ret = devif_virtio_mmio_slot(d->vm, &m->base, &m->gsi)) ||
	    (ret = devif_mmio_register(d->vm, m->base, 0x1000, &vmmio_ops, m,
				       d->name)))
		return ret;
	m->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->irq_fd < 0)
		return -errno;
	m->irqfd = devif_irqfd(d->vm, m->irq_fd, m->gsi, true) == 0;
	for (unsigned q = 0; q < d->nqueues; q++) {
		ret = devif_ioeventfd(d->vm, d->kick[q].fd, m->base + MMIO_NOTIFY, 4, false, true, q,
				      true);
		if (ret == -ENOTSUP && q == 0)
			break; /* kicks exit to reg_write */
		if (ret)
			return ret;
		m->kick_ioeventfd = true;
	}
	return 0;
}
