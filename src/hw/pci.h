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

#endif
