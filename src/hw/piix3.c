/* piix3.c: the PIIX3 PCI-to-ISA bridge (8086:7000), function 0 of PCI slot PLAT_PIIX_SLOT,
 * present on the PC platform (--firmware bios, or any IDE disk): the identity SeaBIOS and
 * guests look for. PIRQ routing registers 0x60-0x63 (reset 0x80: disabled) and the other
 * device registers are stored; the routing itself is the in-kernel irqchip's (ACPI _PRT). The
 * edge/level control registers (ports 0x4d0/0x4d1) are the in-kernel PIC's. Function 1 is the
 * IDE controller (ide_pci.c). */
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdlib.h>

#include "hw/pci.h"
#include "hw/pci_cfg.h"
#include "hw/piix3.h"
#include "util/bytes.h"
#include "vm/devif.h"
#include "x86/platform.h"

struct piix3 {
	pthread_mutex_t lock;
	struct pci_cfg cfg;
};

static uint32_t isa_read(void *opaque, unsigned off, unsigned len)
{
	struct piix3 *p = opaque;
	uint32_t v;

	pthread_mutex_lock(&p->lock);
	v = pci_cfg_read(&p->cfg, off, len);
	pthread_mutex_unlock(&p->lock);
	return v;
}

static void isa_write(void *opaque, unsigned off, unsigned len, uint32_t v)
{
	struct piix3 *p = opaque;

	pthread_mutex_lock(&p->lock);
	pci_cfg_write(&p->cfg, off, len, v);
	pthread_mutex_unlock(&p->lock);
}

static const struct pci_device_ops isa_ops = {.cfg_read = isa_read, .cfg_write = isa_write};

static void piix3_destroy(void *opaque)
{
	struct piix3 *p = opaque;

	pthread_mutex_destroy(&p->lock);
	free(p);
}

bool piix3_wanted(const struct vm_config *c)
{
	if (c->firmware == FIRMWARE_BIOS)
		return true;
	for (unsigned i = 0; i < c->ndisks; i++)
		if (c->disks[i].iface == DISK_IF_IDE)
			return true;
	return false;
}

static int piix3_init(struct vm *vm)
{
	struct piix3 *p;
	int ret;

	if (!piix3_wanted(devif_config(vm)))
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pci_cfg_init(&p->cfg, 0x8086, 0x7000, 0, 0x060100, PCI_HEADER_TYPE_NORMAL | 0x80);
	le_put(p->cfg.b + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
	       2);
	for (unsigned i = 0; i < 4; i++)
		p->cfg.b[0x60 + i] = 0x80;
	ret = devif_add_device(vm, "piix3", p, piix3_destroy);
	if (ret) {
		piix3_destroy(p);
		return ret;
	}
	return pci_register_device(devif_pci(vm), PLAT_PIIX_SLOT, &isa_ops, p);
}

DEVICE_REGISTER(piix3, DEV_PHASE_PLATFORM, piix3_init);
