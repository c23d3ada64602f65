/* pci_cfg.h: a 256-byte type-0 configuration space with a write mask, the common part of the
 * emulated PCI functions (PIIX3 ISA bridge, IDE). Callers serialize access. */
#ifndef TV_PCI_CFG_H
#define TV_PCI_CFG_H

#include <stdint.h>

struct pci_cfg {
	uint8_t b[256];
	uint8_t wmask[256]; /* bits a guest may change */
};

/* Identity and class; command register I/O, memory and bus-master bits writable, registers
 * 0x40-0xff plain storage (writable). header is PCI_HEADER_TYPE_NORMAL, | 0x80 for
 * multi-function. */
void pci_cfg_init(struct pci_cfg *c, uint16_t vendor, uint16_t device, uint8_t rev,
		  uint32_t class_prog, uint8_t header);

/* An aligned access of len 1, 2 or 4 at offset (what pci_device_ops get). */
uint32_t pci_cfg_read(const struct pci_cfg *c, unsigned offset, unsigned len);
void pci_cfg_write(struct pci_cfg *c, unsigned offset, unsigned len, uint32_t value);

#endif
