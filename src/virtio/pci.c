/* pci.c: the virtio-pci transport (virtio 1.2, section 4.1), modern only.
 *
 * Configuration space: header (vendor 1af4, device 1040 + id, revision 1), BAR 0 (64-bit
 * prefetchable: common config, ISR, device config, notify area), BAR 2 (32-bit: MSI-X table and
 * PBA), capabilities MSI-X -> common -> ISR -> device -> notify -> PCI cfg access. BARs are
 * placed by the monitor (pci_alloc_bar) and never move: a write of all ones sizes a BAR, any
 * other value is ignored. Queue kicks are ioeventfds on the notify area; interrupts leave
 * through one irqfd per MSI-X vector, or the INTx line when MSI-X is off. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hw/pci.h"
#include "util/bytes.h"
#include "util/log.h"
#include "virtio/transport.h"
#include "vm/devif.h"
#include "x86/acpi.h"

#define NVEC_MAX (VIRTIO_MAX_QUEUES + 1)
#define BAR0_FLAGS (PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH)

struct msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

struct vpci {
	struct virtio_dev *d;
	struct vm *vm;
	unsigned slot, intx_gsi, nvec;
	uint8_t cfg[256];      /* the header and capabilities as read (writable bits below) */
	uint64_t bar0, bar2;   /* fixed addresses */
	bool sizing[6];        /* the BAR register at 0x10 + 4 i was written all ones */
	bool intx_level;
	bool notify_ioeventfd; /* kicks bypass our MMIO handler */
	struct msix_entry msix[NVEC_MAX];
	bool pending[NVEC_MAX];
	int vec_fd[NVEC_MAX], vec_gsi[NVEC_MAX];
};

static uint16_t msix_ctrl(struct vpci *p) { return (uint16_t)le_get(p->cfg + VPCI_CAP_MSIX + 2, 2); }
static bool msix_on(struct vpci *p) { return msix_ctrl(p) & PCI_MSIX_FLAGS_ENABLE; }

static bool vec_masked(struct vpci *p, unsigned v)
{
	return (msix_ctrl(p) & PCI_MSIX_FLAGS_MASKALL) || (p->msix[v].ctrl & 1);
}

static void intx_update(struct vpci *p)
{
	bool want = p->d->st.isr && !msix_on(p) &&
		    !(le_get(p->cfg + PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE);

	p->cfg[PCI_STATUS] = (uint8_t)((p->cfg[PCI_STATUS] & ~PCI_STATUS_INTERRUPT) |
				       (want ? PCI_STATUS_INTERRUPT : 0));
	if (want != p->intx_level) {
		p->intx_level = want;
		devif_set_irq(p->vm, p->intx_gsi, want);
	}
}

static void fire(struct vpci *p, unsigned v)
{
	uint64_t one = 1;

	if (write(p->vec_fd[v], &one, sizeof(one)) < 0) {
		/* an eventfd write fails only on counter overflow: the guest has it pending */
	}
}

static void vpci_signal(struct virtio_dev *d, uint16_t vector)
{
	struct vpci *p = d->transport;

	if (!msix_on(p)) {
		intx_update(p);
		return;
	}
	if (vector >= p->nvec)
		return;
	if (vec_masked(p, vector))
		p->pending[vector] = true;
	else
		fire(p, vector);
}

static const struct virtio_transport_ops vpci_tops = {.signal = vpci_signal};

/* Deliver what became unmasked. */
static void msix_unmasked(struct vpci *p)
{
	for (unsigned v = 0; v < p->nvec; v++)
		if (p->pending[v] && !vec_masked(p, v)) {
			p->pending[v] = false;
			fire(p, v);
		}
}

/* ---- BAR 0: the virtio structures ---- */

static uint64_t common_read(struct vpci *p, unsigned off)
{
	struct virtio_dev *d = p->d;
	struct virtq *q = virtio_selected_queue(d);

	switch (off) {
	case 0x00: return d->st.dev_feat_sel;
	case 0x04: return virtio_get_features(d);
	case 0x08: return d->st.drv_feat_sel;
	case 0x0c: return virtio_get_driver_features(d);
	case 0x10: return d->st.msix_config;
	case 0x12: return d->nqueues;
	case 0x14: return d->st.status;
	case 0x15: return d->st.config_generation;
	case 0x16: return d->st.queue_sel;
	case 0x18: return q ? q->size : 0;
	case 0x1a: return q ? q->msix_vector : VIRTIO_NO_VECTOR;
	case 0x1c: return q ? q->ready : 0;
	case 0x1e: return q ? d->st.queue_sel : 0;
	case 0x20: return q ? (uint32_t)q->desc : 0;
	case 0x24: return q ? q->desc >> 32 : 0;
	case 0x28: return q ? (uint32_t)q->avail : 0;
	case 0x2c: return q ? q->avail >> 32 : 0;
	case 0x30: return q ? (uint32_t)q->used : 0;
	case 0x34: return q ? q->used >> 32 : 0;
	}
	return 0;
}

static void set_half(uint64_t *f, unsigned hi, uint64_t v)
{
	*f = hi ? (*f & 0xffffffffULL) | v << 32 : (*f & ~0xffffffffULL) | (uint32_t)v;
}

static void common_write(struct vpci *p, unsigned off, uint64_t v)
{
	struct virtio_dev *d = p->d;
	struct virtq *q = virtio_selected_queue(d);
	bool idle = q && !q->ready;

	switch (off) {
	case 0x00: d->st.dev_feat_sel = (uint32_t)v; break;
	case 0x08: d->st.drv_feat_sel = (uint32_t)v; break;
	case 0x0c: virtio_set_features(d, (uint32_t)v); break;
	case 0x10: d->st.msix_config = v < p->nvec ? (uint16_t)v : VIRTIO_NO_VECTOR; break;
	case 0x14:
		virtio_set_status(d, (uint8_t)v);
		if (!v) {
			memset(p->pending, 0, sizeof(p->pending));
			intx_update(p);
		}
		break;
	case 0x16: d->st.queue_sel = (uint16_t)v; break;
	case 0x18: if (idle) q->size = (uint16_t)v; break;
	case 0x1a: if (q) q->msix_vector = v < p->nvec ? (uint16_t)v : VIRTIO_NO_VECTOR; break;
	case 0x1c: if (idle && v == 1) (void)virtio_queue_enable(d, d->st.queue_sel); break;
	case 0x20: case 0x24: if (idle) set_half(&q->desc, off & 4, v); break;
	case 0x28: case 0x2c: if (idle) set_half(&q->avail, off & 4, v); break;
	case 0x30: case 0x34: if (idle) set_half(&q->used, off & 4, v); break;
	}
}

/* Field width of the common config register at off (0: not a register start). */
static unsigned common_width(unsigned off)
{
	if (off < 0x10 || (off >= 0x20 && off < 0x38))
		return off % 4 ? 0 : 4;
	if (off == 0x14 || off == 0x15)
		return 1;
	return off < 0x20 && off % 2 == 0 ? 2 : 0;
}

static void bar0_access(struct vpci *p, uint64_t off, uint8_t *data, unsigned len, bool wr)
{
	struct virtio_dev *d = p->d;

	if (off < VPCI_COMMON_LEN) {
		unsigned w = common_width((unsigned)off);

		if (wr && len == 8 && (off == 0x20 || off == 0x28 || off == 0x30)) {
			common_write(p, (unsigned)off, le_get(data, 4));
			common_write(p, (unsigned)off + 4, le_get(data + 4, 4));
		} else if (w && len == w) {
			if (wr)
				common_write(p, (unsigned)off, le_get(data, len));
			else
				le_put(data, common_read(p, (unsigned)off), len);
		} else if (!wr) {
			memset(data, 0, len);
		}
	} else if (off >= VPCI_ISR_OFF && off < VPCI_ISR_OFF + 4) {
		if (!wr) {
			memset(data, 0, len);
			if (off == VPCI_ISR_OFF) {
				data[0] = d->st.isr;
				d->st.isr = 0;
				intx_update(p);
			}
		}
	} else if (off >= VPCI_DEVCFG_OFF && off < VPCI_DEVCFG_OFF + 0x1000) {
		virtio_config_access(d, (unsigned)(off - VPCI_DEVCFG_OFF), data, len, wr);
	} else if (off >= VPCI_NOTIFY_OFF && off < VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT * d->nqueues) {
		unsigned q = (unsigned)(off - VPCI_NOTIFY_OFF) / VPCI_NOTIFY_MULT;
		uint64_t one = 1;

		if (wr && write(d->kick[q].fd, &one, sizeof(one)) < 0) {
			/* counter overflow only: a kick is already pending */
		}
		if (!wr)
			memset(data, 0, len);
	} else if (!wr) {
		memset(data, 0, len);
	}
}

/* ---- BAR 2: MSI-X table and PBA ---- */

static void msix_route(struct vpci *p, unsigned v)
{
	struct msix_entry *m = &p->msix[v];

	if (p->vec_gsi[v] >= 0)
		devif_msi_route(p->vm, (unsigned)p->vec_gsi[v],
				(uint64_t)m->addr_hi << 32 | m->addr_lo, m->data);
}

static void bar2_access(struct vpci *p, uint64_t off, uint8_t *data, unsigned len, bool wr)
{
	if (off < 16ULL * p->nvec && len == 4 && off % 4 == 0) {
		unsigned v = (unsigned)(off / 16), f = (unsigned)(off % 16) / 4;
		uint32_t *field = f == 0 ? &p->msix[v].addr_lo : f == 1 ? &p->msix[v].addr_hi
						 : f == 2 ? &p->msix[v].data : &p->msix[v].ctrl;

		if (!wr) {
			le_put(data, *field, 4);
			return;
		}
		*field = (uint32_t)le_get(data, 4) & (f == 3 ? 1u : 0xffffffffu);
		if (f < 3)
			msix_route(p, v);
		else
			msix_unmasked(p);
	} else if (off < 16ULL * p->nvec && len == 8 && off % 8 == 0 && wr) {
		bar2_access(p, off, data, 4, true);
		bar2_access(p, off + 4, data + 4, 4, true);
	} else if (!wr && off >= VPCI_MSIX_PBA_OFF && off < VPCI_MSIX_PBA_OFF + 16) {
		memset(data, 0, len);
		for (unsigned i = 0; i < len * 8; i++) {
			unsigned v = (unsigned)(off - VPCI_MSIX_PBA_OFF) * 8 + i;

			if (v < p->nvec && p->pending[v])
				data[i / 8] |= (uint8_t)(1u << (i % 8));
		}
	} else if (!wr) {
		memset(data, 0, len);
	}
}

static void bar_access(struct vpci *p, unsigned bar, uint64_t off, uint8_t *data, unsigned len,
		       bool wr)
{
	pthread_mutex_lock(&p->d->lock);
	if (bar == 0)
		bar0_access(p, off, data, len, wr);
	else
		bar2_access(p, off, data, len, wr);
	pthread_mutex_unlock(&p->d->lock);
}

static void bar0_read(void *o, uint64_t off, uint8_t *data, unsigned len)
{
	bar_access(o, 0, off, data, len, false);
}
static void bar0_write(void *o, uint64_t off, const uint8_t *data, unsigned len)
{
	uint8_t b[8] = {0};

	memcpy(b, data, len > 8 ? 8 : len);
	bar_access(o, 0, off, b, len > 8 ? 8 : len, true);
}
static void bar2_read(void *o, uint64_t off, uint8_t *data, unsigned len)
{
	bar_access(o, 2, off, data, len, false);
}
static void bar2_write(void *o, uint64_t off, const uint8_t *data, unsigned len)
{
	uint8_t b[8] = {0};

	memcpy(b, data, len > 8 ? 8 : len);
	bar_access(o, 2, off, b, len > 8 ? 8 : len, true);
}

static const struct bus_ops bar0_ops = {.read = bar0_read, .write = bar0_write};
static const struct bus_ops bar2_ops = {.read = bar2_read, .write = bar2_write};

/* ---- configuration space ---- */

/* The BAR register i (0..5) as the guest reads it. */
static uint32_t bar_reg(struct vpci *p, unsigned i)
{
	switch (i) {
	case 0: return p->sizing[0] ? (uint32_t)~(VPCI_BAR0_SIZE - 1) | BAR0_FLAGS
				    : (uint32_t)p->bar0 | BAR0_FLAGS;
	case 1: return p->sizing[1] ? 0xffffffffu : (uint32_t)(p->bar0 >> 32);
	case 2: return p->sizing[2] ? (uint32_t)~(VPCI_BAR2_SIZE - 1) : (uint32_t)p->bar2;
	}
	return 0;
}

static uint32_t cfg_read_locked(struct vpci *p, unsigned off, unsigned len)
{
	uint8_t b[4];

	if (off >= sizeof(p->cfg))
		return 0;
	memcpy(b, p->cfg + off, len);
	if (off >= PCI_BASE_ADDRESS_0 && off < PCI_BASE_ADDRESS_0 + 24) {
		unsigned i = (off - PCI_BASE_ADDRESS_0) / 4;

		le_put(b, bar_reg(p, i) >> (8 * (off % 4)), len);
	} else if (off >= VPCI_CAP_PCICFG + 16 && off < VPCI_CAP_PCICFG + 20) {
		uint8_t *c = p->cfg + VPCI_CAP_PCICFG;
		unsigned bl = (unsigned)le_get(c + 12, 4);

		memset(b, 0, sizeof(b));
		if ((bl == 1 || bl == 2 || bl == 4) && (c[4] == 0 || c[4] == 2)) {
			if (c[4] == 0)
				bar0_access(p, le_get(c + 8, 4), b, bl, false);
			else
				bar2_access(p, le_get(c + 8, 4), b, bl, false);
		}
		return (uint32_t)le_get(b + (off - VPCI_CAP_PCICFG - 16), len);
	}
	return (uint32_t)le_get(b, len);
}

static uint32_t vpci_cfg_read(void *opaque, unsigned off, unsigned len)
{
	struct vpci *p = opaque;
	uint32_t v;

	pthread_mutex_lock(&p->d->lock);
	v = cfg_read_locked(p, off, len);
	pthread_mutex_unlock(&p->d->lock);
	return v;
}

static void cfg_write_byte(struct vpci *p, unsigned off, uint8_t v)
{
	static const uint8_t cmd_mask[2] = {PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
						    PCI_COMMAND_PARITY,
					    (PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE) >> 8};
	uint8_t *c = p->cfg;

	if (off == PCI_COMMAND || off == PCI_COMMAND + 1) {
		c[off] = v & cmd_mask[off - PCI_COMMAND];
		intx_update(p);
	} else if (off == PCI_INTERRUPT_LINE || off == PCI_LATENCY_TIMER) {
		c[off] = v;
	} else if (off == VPCI_CAP_MSIX + 3) {
		/* enable (bit 15) and function mask (bit 14) of the message control */
		c[off] = v & 0xc0;
		intx_update(p);
		msix_unmasked(p);
	} else if (off >= VPCI_CAP_PCICFG + 4 && off < VPCI_CAP_PCICFG + 20 &&
		   (off < VPCI_CAP_PCICFG + 5 || off >= VPCI_CAP_PCICFG + 8)) {
		c[off] = v; /* bar, offset, length, data of the access window */
	}
}

static void vpci_cfg_write(void *opaque, unsigned off, unsigned len, uint32_t v)
{
	struct vpci *p = opaque;
	uint8_t *c = p->cfg + VPCI_CAP_PCICFG;

	pthread_mutex_lock(&p->d->lock);
	if (off >= PCI_BASE_ADDRESS_0 && off < PCI_BASE_ADDRESS_0 + 24 && len == 4) {
		unsigned i = (off - PCI_BASE_ADDRESS_0) / 4;

		/* all ones: the guest sizes the BAR; anything else puts it back (BARs never move) */
		p->sizing[i] = v == 0xffffffffu;
		if (v != 0xffffffffu && v != (bar_reg(p, i) & ~0xfu) && v != bar_reg(p, i) &&
		    (i == 0 || i == 2))
			log_warn("%s: the guest tried to move BAR %u to 0x%x; BARs stay where the "
				 "monitor put them", p->d->name, i, v);
	} else if (off >= sizeof(p->cfg)) {
		/* extended space: nothing */
	} else if (off >= VPCI_CAP_PCICFG + 16 && off < VPCI_CAP_PCICFG + 20) {
		unsigned bl = (unsigned)le_get(c + 12, 4);
		uint8_t b[4];

		le_put(b, v << 8 * (off - VPCI_CAP_PCICFG - 16), 4);
		if ((bl == 1 || bl == 2 || bl == 4) && off == VPCI_CAP_PCICFG + 16 && len >= bl) {
			if (c[4] == 0)
				bar0_access(p, le_get(c + 8, 4), b, bl, true);
			else if (c[4] == 2)
				bar2_access(p, le_get(c + 8, 4), b, bl, true);
		}
	} else {
		for (unsigned i = 0; i < len; i++)
			cfg_write_byte(p, off + i, (uint8_t)(v >> (8 * i)));
	}
	pthread_mutex_unlock(&p->d->lock);
}

static const struct pci_device_ops vpci_ops = {.cfg_read = vpci_cfg_read,
					       .cfg_write = vpci_cfg_write};

/* A virtio vendor capability at off: type, bar, offset, length; next at off+len. */
static void vcap(uint8_t *c, unsigned off, unsigned caplen, uint8_t next, uint8_t type,
		 uint8_t bar, uint32_t boff, uint32_t blen)
{
	c[off] = PCI_CAP_ID_VNDR;
	c[off + 1] = next;
	c[off + 2] = (uint8_t)caplen;
	c[off + 3] = type;
	c[off + 4] = bar;
	le_put(c + off + 8, boff, 4);
	le_put(c + off + 12, blen, 4);
}

static void build_cfg(struct vpci *p)
{
	struct virtio_dev *d = p->d;
	uint8_t *c = p->cfg;

	le_put(c + PCI_VENDOR_ID, 0x1af4, 2);
	le_put(c + PCI_DEVICE_ID, 0x1040 + d->device_id, 2);
	le_put(c + PCI_STATUS, PCI_STATUS_CAP_LIST, 2);
	c[PCI_REVISION_ID] = 1;
	memcpy(c + PCI_CLASS_PROG, d->pci_class, 3);
	c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	le_put(c + PCI_SUBSYSTEM_VENDOR_ID, 0x1af4, 2);
	le_put(c + PCI_SUBSYSTEM_ID, 0x40 + d->device_id, 2);
	c[PCI_CAPABILITY_LIST] = VPCI_CAP_MSIX;
	c[PCI_INTERRUPT_LINE] = (uint8_t)p->intx_gsi;
	c[PCI_INTERRUPT_PIN] = 1;
	/* the monitor placed the BARs: memory decoding is on, as firmware would leave it */
	le_put(c + PCI_COMMAND, PCI_COMMAND_MEMORY, 2);

	c[VPCI_CAP_MSIX] = PCI_CAP_ID_MSIX;
	c[VPCI_CAP_MSIX + 1] = VPCI_CAP_COMMON;
	le_put(c + VPCI_CAP_MSIX + 2, p->nvec - 1, 2);
	le_put(c + VPCI_CAP_MSIX + 4, 0 | 2, 4);		   /* table: BAR 2, offset 0 */
	le_put(c + VPCI_CAP_MSIX + 8, VPCI_MSIX_PBA_OFF | 2, 4); /* PBA */
	vcap(c, VPCI_CAP_COMMON, 16, VPCI_CAP_ISR, 1, 0, VPCI_COMMON_OFF, VPCI_COMMON_LEN);
	vcap(c, VPCI_CAP_ISR, 16, VPCI_CAP_DEVICE, 3, 0, VPCI_ISR_OFF, 4);
	vcap(c, VPCI_CAP_DEVICE, 16, VPCI_CAP_NOTIFY, 4, 0, VPCI_DEVCFG_OFF,
	     d->config_len ? d->config_len : 4);
	vcap(c, VPCI_CAP_NOTIFY, 20, VPCI_CAP_PCICFG, 2, 0, VPCI_NOTIFY_OFF,
	     VPCI_NOTIFY_MULT * d->nqueues);
	le_put(c + VPCI_CAP_NOTIFY + 16, VPCI_NOTIFY_MULT, 4);
	vcap(c, VPCI_CAP_PCICFG, 20, 0, 5, 0, 0, 0);
}

static void vpci_destroy(void *opaque)
{
	struct vpci *p = opaque;

	for (unsigned q = 0; p->notify_ioeventfd && q < p->d->nqueues; q++)
		devif_ioeventfd(p->vm, p->d->kick[q].fd, p->bar0 + VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT * q,
				0, false, false, 0, false);
	for (unsigned v = 0; v < p->nvec; v++) {
		if (p->vec_fd[v] < 0)
			continue;
		if (p->vec_gsi[v] >= 0)
			devif_irqfd(p->vm, p->vec_fd[v], (unsigned)p->vec_gsi[v], false);
		close(p->vec_fd[v]);
	}
	if (p->intx_level)
		devif_set_irq(p->vm, p->intx_gsi, 0);
	free(p);
}

/* Kicks on ioeventfds: any length where KVM allows it, else the 16-bit write drivers make. */
static int wire_kicks(struct vpci *p)
{
	for (unsigned q = 0; q < p->d->nqueues; q++) {
		uint64_t a = p->bar0 + VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT * q;
		int ret = devif_ioeventfd(p->vm, p->d->kick[q].fd, a, 0, false, false, 0, true);

		if (ret == -ENOTSUP)
			ret = devif_ioeventfd(p->vm, p->d->kick[q].fd, a, 2, false, false, 0, true);
		if (ret == -ENOTSUP && q == 0)
			return 0; /* no ioeventfd: kicks exit to bar0_access */
		if (ret)
			return ret;
		p->notify_ioeventfd = true;
	}
	return 0;
}

static int wire_vectors(struct vpci *p)
{
	int ret;

	for (unsigned v = 0; v < p->nvec; v++) {
		p->msix[v].ctrl = 1; /* masked at reset */
		p->vec_fd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->vec_fd[v] < 0)
			return -errno;
		p->vec_gsi[v] = devif_msi_alloc(p->vm);
		if (p->vec_gsi[v] < 0)
			return p->vec_gsi[v];
		ret = devif_irqfd(p->vm, p->vec_fd[v], (unsigned)p->vec_gsi[v], true);
		if (ret) {
			p->vec_gsi[v] = -1;
			return ret;
		}
	}
	return 0;
}

int virtio_pci_attach(struct virtio_dev *d)
{
	struct pci_host *h = devif_pci(d->vm);
	struct vpci *p;
	int ret, slot;

	if (!h)
		return -ENODEV;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->d = d;
	p->vm = d->vm;
	p->nvec = d->nqueues + 1;
	for (unsigned v = 0; v < NVEC_MAX; v++)
		p->vec_fd[v] = p->vec_gsi[v] = -1;
	ret = devif_add_device(d->vm, d->name, p, vpci_destroy);
	if (ret) {
		free(p);
		return ret;
	}
	d->tops = &vpci_tops;
	d->transport = p;
	p->bar0 = pci_alloc_bar(h, VPCI_BAR0_SIZE, true);
	p->bar2 = pci_alloc_bar(h, VPCI_BAR2_SIZE, false);
	if (!p->bar0 || !p->bar2)
		return -ENOSPC;
	slot = pci_add_device(h, &vpci_ops, p);
	if (slot < 0)
		return slot;
	p->slot = (unsigned)slot;
	p->intx_gsi = ACPI_PCI_INTX_GSI(p->slot, 0);
	build_cfg(p);
	if ((ret = devif_mmio_register(d->vm, p->bar0, VPCI_BAR0_SIZE, &bar0_ops, p, d->name)) ||
	    (ret = devif_mmio_register(d->vm, p->bar2, VPCI_BAR2_SIZE, &bar2_ops, p, d->name)))
		return ret;
	if ((ret = wire_vectors(p)))
		return ret;
	return wire_kicks(p);
}

int virtio_pci_save(struct virtio_dev *d, struct vpci_state *out)
{
	struct vpci *p = d->transport;

	if (d->tops != &vpci_tops)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&d->lock);
	memcpy(out->cfg, p->cfg, sizeof(out->cfg));
	for (unsigned v = 0; v < p->nvec; v++) {
		out->msix[v][0] = p->msix[v].addr_lo;
		out->msix[v][1] = p->msix[v].addr_hi;
		out->msix[v][2] = p->msix[v].data;
		out->msix[v][3] = p->msix[v].ctrl;
		out->pending[v] = p->pending[v];
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int virtio_pci_restore(struct virtio_dev *d, const struct vpci_state *in)
{
	struct vpci *p = d->transport;

	if (d->tops != &vpci_tops || memcmp(in->cfg, p->cfg, PCI_COMMAND) ||
	    le_get(in->cfg + VPCI_CAP_MSIX + 2, 2) != le_get(p->cfg + VPCI_CAP_MSIX + 2, 2))
		return -EINVAL; /* another device, or another vector count */
	pthread_mutex_lock(&d->lock);
	memcpy(p->cfg, in->cfg, sizeof(p->cfg));
	for (unsigned v = 0; v < p->nvec; v++) {
		p->msix[v] = (struct msix_entry){in->msix[v][0], in->msix[v][1], in->msix[v][2],
						 in->msix[v][3] & 1};
		p->pending[v] = in->pending[v];
		msix_route(p, v);
	}
	intx_update(p);
	msix_unmasked(p);
	pthread_mutex_unlock(&d->lock);
	return 0;
}
