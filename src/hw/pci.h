/* pci.h: PCI bus 0 behind configuration mechanism #1 (ports 0xcf8-0xcff). The host bridge
 * is device 0; the virtio issue adds devices through pci_register_device. */
#ifndef TV_PCI_H
#define TV_PCI_H

#include <stdint.h>

struct vm;
struct pci_host;

struct pci_device_ops {
	/* Configuration space read/write of len 1, 2 or 4 at offset (0..255, aligned to len). */
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

/* Put a device in the lowest free slot of bus 0. Returns the slot (1..31), -ENOSPC (bus
 * full) or -EINVAL. Slots are numbered in registration order, so the guest sees a stable
 * layout for a given configuration. */
int pci_add_device(struct pci_host *h, const struct pci_device_ops *ops, void *opaque);

/* Threading: cfg_read/cfg_write run on vCPU threads, possibly several at once, without the
 * host's lock held; a device serializes its own state. Only function 0 of each slot is
 * visible unless registered with pci_register_function; offsets are the standard 256-byte space (no extended space). Register devices
 * before the vCPUs start (DEV_PHASE_PCI); vm->pci is set at DEV_PHASE_CORE. */

#endif
