/* pci.h: PCI bus 0 behind configuration mechanism #1 (ports 0xcf8-0xcff). The host bridge
 * is device 0; the virtio issue adds devices through pci_register_device. */
#ifndef TV_PCI_H
#define TV_PCI_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct pci_host;

struct pci_device_ops {
	/* Configuration space read/write of len 1, 2 or 4 at offset (0..4095, aligned to len;
	 * beyond 255 only through ECAM). */
	uint32_t (*cfg_read)(void *opaque, unsigned offset, unsigned len);
	void (*cfg_write)(void *opaque, unsigned offset, unsigned len, uint32_t value);
};

/* Put a device in slot (1..31) of bus 0. Returns 0, -EBUSY (slot taken) or -EINVAL. */
int pci_register_device(struct pci_host *h, unsigned slot, const struct pci_device_ops *ops,
			void *opaque);

/* Put function fn (0..7) of a multi-function device in slot (1..31); function 0 first (its
 * header type says multi-function). Returns 0, -EBUSY (taken) or -EINVAL. */
int pci_register_function(struct pci_host *h, unsigned slot, unsigned fn,
			  const struct pci_device_ops *ops, void *opaque);

/* --firmware bios: the i440FX's PAM registers (PCI_I440FX_NPAM bytes from PCI_I440FX_PAM in the
 * host bridge) drive shadow RAM; fn(opaque, the 7 values) runs after each guest write to
 * them, on the vCPU thread, without the host's lock. */
#define PCI_I440FX_PAM 0x59
#define PCI_I440FX_NPAM 7
void pci_host_set_pam(struct pci_host *h, void (*fn)(void *opaque, const uint8_t *pam),
		      void *opaque);

/* Put a device in the lowest free slot of bus 0. Returns the slot (1..31), -ENOSPC (bus
 * full) or -EINVAL. Slots are numbered in registration order, so the guest sees a stable
 * layout for a given configuration. */
int pci_add_device(struct pci_host *h, const struct pci_device_ops *ops, void *opaque);

/* Address for a memory BAR of size bytes (a power of two >= 4 KiB), naturally aligned, in the
 * 32-bit window (PLAT_PCI_MMIO32_*); a 64-bit BAR (high) goes to the 64-bit prefetchable
 * window above RAM (plat_pci_mmio64_base) only when the 32-bit one is full, as SeaBIOS does,
 * so a guest that cannot address above 4 GiB (a 32-bit kernel without PAE) reaches every
 * device. 0 when no window has room. BARs are assigned once, at start, and
 * never move (docs/ARCHITECTURE.md: the bus tables are read without locks). */
uint64_t pci_alloc_bar(struct pci_host *h, uint64_t size, bool high);

/* Threading: cfg_read/cfg_write run on vCPU threads, possibly several at once, without the
 * host's lock held; a device serializes its own state. Only function 0 of each slot is
 * visible unless registered with pci_register_function; the extended space (256..4095) is reached through ECAM only. Register devices
 * before the vCPUs start (DEV_PHASE_PCI); devif_pci returns the host from DEV_PHASE_CORE on. */

#endif
