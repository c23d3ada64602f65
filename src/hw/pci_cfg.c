/* pci_cfg.c: configuration space helper (pci_cfg.h). */
#include "hw/pci_cfg.h"

#include <linux/pci_regs.h>
#include <string.h>

#include "util/bytes.h"

void pci_cfg_init(struct pci_cfg *c, uint16_t vendor, uint16_t device, uint8_t rev,
		  uint32_t class_prog, uint8_t header)
{
	memset(c, 0, sizeof(*c));
	le_put(c->b + PCI_VENDOR_ID, vendor, 2);
	le_put(c->b + PCI_DEVICE_ID, device, 2);
	c->b[PCI_REVISION_ID] = rev;
	le_put(c->b + PCI_CLASS_PROG, class_prog, 3);
	c->b[PCI_HEADER_TYPE] = header;
	le_put(c->b + PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM, 2);
	c->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	c->wmask[PCI_LATENCY_TIMER] = 0xff;
	c->wmask[PCI_INTERRUPT_LINE] = 0xff;
	memset(c->wmask + 0x40, 0xff, 0xc0);
}

uint32_t pci_cfg_read(const struct pci_cfg *c, unsigned offset, unsigned len)
{
	return offset + len <= sizeof(c->b) ? (uint32_t)le_get(c->b + offset, len) : 0xffffffffu;
}

void pci_cfg_write(struct pci_cfg *c, unsigned offset, unsigned len, uint32_t value)
{
	for (unsigned i = 0; i < len && offset + i < sizeof(c->b); i++) {
		uint8_t m = c->wmask[offset + i], v = (uint8_t)(value >> (8 * i));

		c->b[offset + i] = (uint8_t)((c->b[offset + i] & ~m) | (v & m));
	}
}
