/* pci_host.c: PCI bus 0 behind configuration mechanism #1 (PLAT_PCI_CONF_PORT, 8 ports).
 *
 *   0xcf8  dword-only CONFIG_ADDRESS: bit 31 enable, 23:16 bus, 15:11 device, 10:8 function,
 *          7:2 register. Narrower accesses to 0xcf8-0xcfb never touch it.
 *   0xcf9  byte: reset control register; writing bit 2 (RST_CPU) set reboots the VM.
 *   0xcfc-0xcff  CONFIG_DATA: 1, 2 or 4 bytes at register + (port - 0xcfc).
 * Only bus 0 exists. Through 0xcf8 there is no extended space (CONFIG_ADDRESS bits 27:24
 * set: all ones); the ECAM window at PLAT_PCI_ECAM_BASE (MCFG) reaches all 4 KiB. Slot 0 is
 * the host bridge (1b36:0008, class 060000, header type 0, no BARs; only the command register
 * and latency timer are writable); with --firmware bios it is the PC's i440FX (8086:1237 rev
 * 2) whose PAM registers (0x59-0x5f) drive the BIOS shadow RAM (x86/bios.c). Other slots and
 * functions answer all ones unless a device was registered there. Unaligned or odd data
 * accesses are split
 * into byte accesses, so device cfg ops only ever see aligned 1, 2 or 4 bytes. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hw/pci.h"
#include "util/bytes.h"
#include "vm/config.h"
#include "vm/devif.h"
#include "x86/platform.h"

#define PCI_NSLOTS 32
#define PCI_CONF_NPORTS 8
#define PCI_CONF_RCR 1 /* 0xcf9, offset in the port range */
#define PCI_RCR_RST_CPU 0x04
#define PCI_RCR_MASK 0x0e
#define HB_CLASS 0x0600	 /* bridge, host */
#define HB_VENDOR 0x1b36 /* Red Hat, Inc. */
#define HB_DEVICE 0x0008 /* QEMU PCIe host bridge */
#define HB_SUBVENDOR 0x1af4
#define HB_SUBSYSTEM 0x1100
#define I440FX_VENDOR 0x8086 /* --firmware bios: the PC's i440FX host bridge */
#define I440FX_DEVICE 0x1237
#define I440FX_REVISION 0x02
#define PCI_NFUNCS 8

struct pci_slot {
	const struct pci_device_ops *ops;
	void *opaque;
};

struct pci_host {
	struct vm *vm;
	pthread_mutex_t lock;
	uint32_t addr;
	uint8_t rcr;
	uint8_t hb[256]; /* host bridge configuration space */
	struct pci_slot slot[PCI_NSLOTS][PCI_NFUNCS];
	uint64_t mmio32_next, mmio64_next, mmio64_end; /* BAR allocation (pci_alloc_bar) */
	bool i440fx;                                   /* --firmware bios: the PC's bridge */
	void (*pam_fn)(void *opaque, const uint8_t *pam); /* PAM writes go here (pci_host_set_pam) */
	void *pam_opaque;
};

/* Host bridge bits a guest may change. */
static const uint8_t hb_wmask[256] = {
    [PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY,
    [PCI_COMMAND + 1] = PCI_COMMAND_SERR >> 8,
    [PCI_LATENCY_TIMER] = 0xff,
};

/* i440FX PAM0 (high nibble only) and PAM1-6: read/write enable bits of the shadow segments. */
static uint8_t hb_mask(bool i440fx, unsigned reg)
{
	if (i440fx && reg == PCI_I440FX_PAM)
		return 0x30;
	if (i440fx && reg > PCI_I440FX_PAM && reg < PCI_I440FX_PAM + PCI_I440FX_NPAM)
		return 0x33;
	return hb_wmask[reg];
}

static uint32_t ones(unsigned len) { return len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1; }

static void hb_init(uint8_t *c, bool i440fx)
{
	le_put(c + PCI_VENDOR_ID, i440fx ? I440FX_VENDOR : HB_VENDOR, 2);
	le_put(c + PCI_DEVICE_ID, i440fx ? I440FX_DEVICE : HB_DEVICE, 2);
	c[PCI_REVISION_ID] = i440fx ? I440FX_REVISION : 0;
	le_put(c + PCI_CLASS_DEVICE, HB_CLASS, 2);
	c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	le_put(c + PCI_SUBSYSTEM_VENDOR_ID, HB_SUBVENDOR, 2);
	le_put(c + PCI_SUBSYSTEM_ID, HB_SUBSYSTEM, 2);
}

/* One aligned configuration access of len 1, 2 or 4 at reg for the function in addr. */
static void pci_cfg_access(struct pci_host *h, uint32_t addr, unsigned reg, uint8_t *data,
			   unsigned len, bool wr)
{
	unsigned bus = (addr >> 16) & 0xff, dev = (addr >> 11) & 0x1f, fn = (addr >> 8) & 7;
	bool i440fx = h->i440fx, pam = false;
	uint8_t pamv[PCI_I440FX_NPAM];
	struct pci_slot s = {0};
	unsigned i;

	/* bits 27:24 (AMD extended register number) address beyond the 256 bytes we have */
	if (!(addr & 0x80000000u) || bus || (dev == 0 && fn) || (addr & 0x0f000000u)) {
		if (!wr)
			le_put(data, ones(len), len);
		return;
	}
	pthread_mutex_lock(&h->lock);
	if (dev == 0 && reg >= sizeof(h->hb)) {
		if (!wr)
			memset(data, 0, len);
	} else if (dev == 0) {
		for (i = 0; i < len; i++) {
			uint8_t m = hb_mask(i440fx, reg + i);

			if (wr)
				h->hb[reg + i] = (uint8_t)((h->hb[reg + i] & ~m) | (data[i] & m));
			else
				data[i] = h->hb[reg + i];
			pam |= wr && m && i440fx && reg + i >= PCI_I440FX_PAM &&
			       reg + i < PCI_I440FX_PAM + PCI_I440FX_NPAM;
		}
		memcpy(pamv, h->hb + PCI_I440FX_PAM, PCI_I440FX_NPAM);
	} else {
		s = h->slot[dev][fn];
	}
	pthread_mutex_unlock(&h->lock);
	if (pam && h->pam_fn)
		h->pam_fn(h->pam_opaque, pamv);
	if (dev == 0)
		return;
	/* The device's ops run without our lock; they serialize their own state. */
	if (wr) {
		if (s.ops && s.ops->cfg_write)
			s.ops->cfg_write(s.opaque, reg, len, (uint32_t)le_get(data, len));
	} else {
		le_put(data, s.ops ? s.ops->cfg_read(s.opaque, reg, len) : ones(len), len);
	}
}

/* CONFIG_DATA at byte o (0..3), o + len <= 4. */
static void pci_data(struct pci_host *h, unsigned o, uint8_t *data, unsigned len, bool wr)
{
	uint32_t addr;
	unsigned i;

	pthread_mutex_lock(&h->lock);
	addr = h->addr;
	pthread_mutex_unlock(&h->lock);
	if ((len == 1 || len == 2 || len == 4) && o % len == 0) {
		pci_cfg_access(h, addr, (addr & 0xfc) + o, data, len, wr);
		return;
	}
	for (i = 0; i < len; i++)
		pci_cfg_access(h, addr, (addr & 0xfc) + o + i, data + i, 1, wr);
}

/* A byte of 0xcf8-0xcfb that is not part of a dword access. Returns true to reboot. */
static bool pci_misc_byte(struct pci_host *h, unsigned port, uint8_t *b, bool wr)
{
	bool reset = false;

	if (port != PCI_CONF_RCR) {
		if (!wr)
			*b = 0xff;
		return false;
	}
	pthread_mutex_lock(&h->lock);
	if (wr) {
		h->rcr = *b & PCI_RCR_MASK;
		reset = *b & PCI_RCR_RST_CPU;
	} else {
		*b = h->rcr;
	}
	pthread_mutex_unlock(&h->lock);
	return reset;
}

static void pci_io(struct pci_host *h, uint64_t off, uint8_t *data, unsigned len, bool wr)
{
	bool reset = false;
	unsigned i;

	if (off == 0 && len == 4) {
		pthread_mutex_lock(&h->lock);
		if (wr)
			h->addr = (uint32_t)le_get(data, 4) & ~3u;
		else
			le_put(data, h->addr, 4);
		pthread_mutex_unlock(&h->lock);
	} else if (off >= 4 && off < PCI_CONF_NPORTS && off + len <= PCI_CONF_NPORTS) {
		pci_data(h, (unsigned)off - 4, data, len, wr);
	} else {
		for (i = 0; i < len && off + i < PCI_CONF_NPORTS; i++) {
			if (off + i < 4)
				reset |= pci_misc_byte(h, (unsigned)off + i, data + i, wr);
			else
				pci_data(h, (unsigned)off + i - 4, data + i, 1, wr);
		}
	}
	if (reset)
		devif_request_stop(h->vm, DEVIF_STOP_REBOOT);
}

static void pci_pio_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	pci_io(opaque, off, data, len, false);
}

static void pci_pio_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	uint8_t buf[8];

	if (len > sizeof(buf))
		len = sizeof(buf);
	memcpy(buf, data, len);
	pci_io(opaque, off, buf, len, true);
}

static const struct bus_ops pci_conf_ops = {.read = pci_pio_read, .write = pci_pio_write};

/* ECAM: offset = bus << 20 | device << 15 | function << 12 | register; only bus 0 has
 * devices (pci_cfg_access answers all ones elsewhere). */
static void ecam_access(struct pci_host *h, uint64_t off, uint8_t *data, unsigned len, bool wr)
{
	uint32_t addr = 0x80000000u | (uint32_t)(off >> 12 & 0xffff) << 8;
	unsigned reg = off & 0xfff, i;

	if ((len == 1 || len == 2 || len == 4) && reg % len == 0) {
		pci_cfg_access(h, addr, reg, data, len, wr);
		return;
	}
	for (i = 0; i < len && reg + i < 0x1000; i++)
		pci_cfg_access(h, addr, reg + i, data + i, 1, wr);
}

static void ecam_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	ecam_access(opaque, off, data, len, false);
}

static void ecam_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	uint8_t buf[8];

	if (len > sizeof(buf))
		len = sizeof(buf);
	memcpy(buf, data, len);
	ecam_access(opaque, off, buf, len, true);
}

static const struct bus_ops ecam_ops = {.read = ecam_read, .write = ecam_write};

void pci_host_set_pam(struct pci_host *h, void (*fn)(void *opaque, const uint8_t *pam),
		      void *opaque)
{
	pthread_mutex_lock(&h->lock);
	h->pam_fn = fn;
	h->pam_opaque = opaque;
	pthread_mutex_unlock(&h->lock);
}

/* Place size bytes in one window; 0 when it is full. Called with h->lock held. */
static uint64_t alloc_in(uint64_t *next, uint64_t end, uint64_t size)
{
	uint64_t at = (*next + size - 1) & ~(size - 1);

	if (at < *next || at > end || size > end - at)
		return 0;
	*next = at + size;
	return at;
}

uint64_t pci_alloc_bar(struct pci_host *h, uint64_t size, bool high)
{
	uint64_t at;

	if (!size || (size & (size - 1)) || size < 0x1000)
		return 0;
	pthread_mutex_lock(&h->lock);
	at = alloc_in(&h->mmio32_next, PLAT_PCI_MMIO32_BASE + PLAT_PCI_MMIO32_SIZE, size);
	if (!at && high)
		at = alloc_in(&h->mmio64_next, h->mmio64_end, size);
	pthread_mutex_unlock(&h->lock);
	return at;
}

int pci_register_function(struct pci_host *h, unsigned slot, unsigned fn,
			  const struct pci_device_ops *ops, void *opaque)
{
	int ret = 0;

	if (!h || slot == 0 || slot >= PCI_NSLOTS || fn >= PCI_NFUNCS || !ops || !ops->cfg_read)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	if (fn && !h->slot[slot][0].ops)
		ret = -EINVAL;
	else if (h->slot[slot][fn].ops)
		ret = -EBUSY;
	else
		h->slot[slot][fn] = (struct pci_slot){ops, opaque};
	pthread_mutex_unlock(&h->lock);
	return ret;
}

int pci_register_device(struct pci_host *h, unsigned slot, const struct pci_device_ops *ops,
			void *opaque)
{
	return pci_register_function(h, slot, 0, ops, opaque);
}

int pci_add_device(struct pci_host *h, const struct pci_device_ops *ops, void *opaque)
{
	unsigned slot;
	int ret;

	for (slot = 1; slot < PCI_NSLOTS; slot++) {
		ret = pci_register_device(h, slot, ops, opaque);
		if (ret != -EBUSY)
			return ret ? ret : (int)slot;
	}
	return -ENOSPC;
}

static void pci_host_destroy(void *opaque)
{
	struct pci_host *h = opaque;

	if (devif_pci(h->vm) == h)
		devif_set_pci(h->vm, NULL);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static int pci_host_init(struct vm *vm)
{
	struct pci_host *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return -ENOMEM;
	h->vm = vm;
	h->mmio32_next = PLAT_PCI_MMIO32_BASE;
	h->mmio64_next = plat_pci_mmio64_base(devif_config(vm)->mem_size);
	h->mmio64_end = h->mmio64_next + PLAT_PCI_MMIO64_SIZE;
	pthread_mutex_init(&h->lock, NULL);
	h->i440fx = devif_config(vm)->firmware == FIRMWARE_BIOS;
	hb_init(h->hb, h->i440fx);
	ret = devif_add_device(vm, "pci_host", h, pci_host_destroy);
	if (ret) {
		pci_host_destroy(h);
		return ret;
	}
	ret = devif_set_pci(vm, h);
	if (ret)
		return ret;
	ret = devif_pio_register(vm, PLAT_PCI_CONF_PORT, PCI_CONF_NPORTS, &pci_conf_ops, h,
				 "pci-conf");
	if (ret)
		return ret;
	ret = devif_mmio_register(vm, PLAT_PCI_ECAM_BASE, PLAT_PCI_ECAM_SIZE, &ecam_ops, h,
				  "pci-ecam");
	if (ret)
		return ret;
	/* CONFIG_ADDRESS writes only latch an address (and 0xcf9's reset may wait for the next
	 * exit): no exit for them. Linux's boot makes thousands of config accesses. */
	ret = devif_pio_coalesce(vm, PLAT_PCI_CONF_PORT, 4);
	return ret == -ENOTSUP ? 0 : ret;
}

DEVICE_REGISTER(pci_host, DEV_PHASE_CORE, pci_host_init);
