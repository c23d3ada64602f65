/* ide_pci.c: the PIIX3 IDE controller (8086:7010), function 1 of PCI slot PLAT_PIIX_SLOT, in
 * compatibility mode: primary channel 0x1f0-0x1f7 / 0x3f6 on IRQ 14, secondary 0x170-0x177 /
 * 0x376 on IRQ 15; bus-master DMA registers in the 16-byte I/O BAR4 (programmable: decoded
 * through the port bus's miss handler while PCI I/O decoding is on). The IDETIM decode-enable
 * bits (0x41, 0x43 bit 7) start set, so a guest booted without a BIOS finds both channels.
 * Disks (--disk ...,if=ide) are opened here; their reads, writes and flushes run on the
 * controller's own I/O thread, never on a vCPU (ata.h). */
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/ata.h"
#include "hw/pci.h"
#include "hw/pci_cfg.h"
#include "hw/piix3.h"
#include "util/bytes.h"
#include "util/log.h"
#include "util/thread.h"
#include "vm/config.h"
#include "vm/devif.h"
#include "x86/platform.h"

#define IDE_FN 1
#define BAR4_SIZE 16
#define ISO_MAGIC_OFF (16 * 2048 + 1)

struct ide {
	struct vm *vm;
	pthread_mutex_t cfg_lock;
	struct pci_cfg cfg;
	uint32_t bar4; /* I/O base (bit 0 set) */
	struct ata_channel ch[2];
	struct block_dev *bd[4];
	pthread_t thread;
	bool started;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	bool pending[2], stop;
};

/* --- the I/O thread --- */

static void ide_submit(struct ata_channel *ch)
{
	struct ide *s = ch->submit_opaque;

	pthread_mutex_lock(&s->qlock);
	s->pending[ch == &s->ch[1]] = true;
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
}

static void *ide_worker(void *opaque)
{
	struct ide *s = opaque;

	pthread_mutex_lock(&s->qlock);
	while (!s->stop) {
		int i = s->pending[0] ? 0 : s->pending[1] ? 1 : -1;

		if (i < 0) {
			pthread_cond_wait(&s->qcond, &s->qlock);
			continue;
		}
		s->pending[i] = false;
		pthread_mutex_unlock(&s->qlock);
		ata_job_run(&s->ch[i]);
		ata_job_done(&s->ch[i]);
		pthread_mutex_lock(&s->qlock);
	}
	pthread_mutex_unlock(&s->qlock);
	return NULL;
}

/* --- ports --- */

static void cmd_rd(void *o, uint64_t off, uint8_t *d, unsigned len)
{
	ata_cmd_read(o, (unsigned)off, d, len);
}

static void cmd_wr(void *o, uint64_t off, const uint8_t *d, unsigned len)
{
	ata_cmd_write(o, (unsigned)off, d, len);
}

static void ctl_rd(void *o, uint64_t off, uint8_t *d, unsigned len)
{
	memset(d, 0xff, len);
	d[0] = ata_ctl_read(o);
}

static void ctl_wr(void *o, uint64_t off, const uint8_t *d, unsigned len)
{
	ata_ctl_write(o, d[0]);
}

static const struct bus_ops cmd_ops = {.read = cmd_rd, .write = cmd_wr};
static const struct bus_ops ctl_ops = {.read = ctl_rd, .write = ctl_wr};

/* Port accesses nobody registered: the bus-master block if BAR4 decodes there. */
static bool bm_miss(void *opaque, uint64_t port, uint8_t *data, unsigned len, bool wr)
{
	struct ide *s = opaque;
	uint32_t base;
	bool on;
	unsigned off;

	pthread_mutex_lock(&s->cfg_lock);
	base = s->bar4 & ~(uint32_t)(BAR4_SIZE - 1);
	on = (s->cfg.b[PCI_COMMAND] & PCI_COMMAND_IO) && base && base <= 0xffff;
	pthread_mutex_unlock(&s->cfg_lock);
	if (!on || port < base || port - base >= BAR4_SIZE)
		return false;
	off = (unsigned)(port - base);
	if (len > BAR4_SIZE - off)
		len = BAR4_SIZE - off;
	if (wr)
		ata_bm_write(&s->ch[off / 8], off % 8, data, len);
	else
		ata_bm_read(&s->ch[off / 8], off % 8, data, len);
	return true;
}

/* --- configuration space --- */

static uint32_t ide_cfg_read(void *opaque, unsigned off, unsigned len)
{
	struct ide *s = opaque;
	uint32_t v;

	pthread_mutex_lock(&s->cfg_lock);
	le_put(s->cfg.b + PCI_BASE_ADDRESS_4, s->bar4, 4);
	v = pci_cfg_read(&s->cfg, off, len);
	pthread_mutex_unlock(&s->cfg_lock);
	return v;
}

static void ide_cfg_write(void *opaque, unsigned off, unsigned len, uint32_t v)
{
	struct ide *s = opaque;

	pthread_mutex_lock(&s->cfg_lock);
	if (off >= PCI_BASE_ADDRESS_4 && off < PCI_BASE_ADDRESS_4 + 4) {
		uint8_t b[4];

		le_put(b, s->bar4, 4);
		for (unsigned i = 0; i < len && off + i < PCI_BASE_ADDRESS_4 + 4; i++)
			b[off - PCI_BASE_ADDRESS_4 + i] = (uint8_t)(v >> (8 * i));
		s->bar4 = ((uint32_t)le_get(b, 4) & ~(uint32_t)(BAR4_SIZE - 1)) |
			  PCI_BASE_ADDRESS_SPACE_IO;
	} else {
		pci_cfg_write(&s->cfg, off, len, v);
	}
	pthread_mutex_unlock(&s->cfg_lock);
}

static const struct pci_device_ops ide_pci_ops = {.cfg_read = ide_cfg_read,
						  .cfg_write = ide_cfg_write};

/* --- disks --- */

/* A CD image must carry an ISO 9660 (or UDF) volume descriptor at sector 16. */
static int check_iso(struct block_dev *bd, const char *path, struct err *e)
{
	uint8_t vd[2048];

	if (block_size(bd) < ISO_MAGIC_OFF + 2047 ||
	    block_read(bd, vd, sizeof(vd), 16 * 2048) ||
	    (memcmp(vd + 1, "CD001", 5) && memcmp(vd + 1, "BEA01", 5)))
		return errf(e, -EINVAL, "disk '%s': not an ISO 9660 image (no CD001 volume "
			    "descriptor at sector 16)", path);
	return 0;
}

static int open_disks(struct ide *s, struct err *e)
{
	const struct vm_config *c = devif_config(s->vm);

	for (unsigned i = 0; i < c->ndisks; i++) {
		const struct disk_config *d = &c->disks[i];
		bool cd = d->media == DISK_MEDIA_CDROM, ro = cd || d->readonly;
		struct block_open_opts o = {.flags = ro ? 0 : BLOCK_RDWR};
		struct block_dev *bd;
		int ret;

		if (d->iface != DISK_IF_IDE)
			continue;
		if (d->index < 0 || d->index > 3)
			return errf(e, -EINVAL, "disk '%s': IDE position %d", d->path, d->index);
		ret = block_open(d->path, d->format, &o, &bd, e);
		if (ret)
			return ret;
		s->bd[d->index] = bd;
		if (cd && (ret = check_iso(bd, d->path, e)))
			return ret;
		ata_drive_attach(&s->ch[d->index / 2], (unsigned)d->index % 2, bd, cd, ro,
				 d->serial);
	}
	return 0;
}

static void ide_destroy(void *opaque)
{
	struct ide *s = opaque;

	if (s->started) {
		pthread_mutex_lock(&s->qlock);
		s->stop = true;
		pthread_cond_signal(&s->qcond);
		pthread_mutex_unlock(&s->qlock);
		pthread_join(s->thread, NULL);
	}
	for (int i = 0; i < 4; i++)
		block_close(s->bd[i]);
	ata_channel_destroy(&s->ch[0]);
	ata_channel_destroy(&s->ch[1]);
	pthread_cond_destroy(&s->qcond);
	pthread_mutex_destroy(&s->qlock);
	pthread_mutex_destroy(&s->cfg_lock);
	free(s);
}

static int ide_init(struct vm *vm)
{
	struct ide *s;
	int ret;

	if (!piix3_wanted(devif_config(vm)))
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->vm = vm;
	pthread_mutex_init(&s->cfg_lock, NULL);
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	if ((ret = ata_channel_init(&s->ch[0], vm, PLAT_IDE0_IRQ)) ||
	    (ret = ata_channel_init(&s->ch[1], vm, PLAT_IDE1_IRQ))) {
		ide_destroy(s);
		return ret;
	}
	for (int i = 0; i < 2; i++) {
		s->ch[i].submit = ide_submit;
		s->ch[i].submit_opaque = s;
	}
	if ((ret = devif_add_device(vm, "ide", s, ide_destroy))) {
		ide_destroy(s);
		return ret;
	}
	pci_cfg_init(&s->cfg, 0x8086, 0x7010, 0, 0x010180, PCI_HEADER_TYPE_NORMAL);
	s->cfg.b[0x41] = s->cfg.b[0x43] = 0x80; /* IDETIM: both channels decode */
	s->bar4 = PCI_BASE_ADDRESS_SPACE_IO;
	ret = open_disks(s, devif_err(vm));
	if (ret)
		return ret;
	if ((ret = pci_register_function(devif_pci(vm), PLAT_PIIX_SLOT, IDE_FN, &ide_pci_ops, s)) ||
	    (ret = devif_pio_register(vm, PLAT_IDE0_PORT, 8, &cmd_ops, &s->ch[0], "ide0")) ||
	    (ret = devif_pio_register(vm, PLAT_IDE0_CTL, 1, &ctl_ops, &s->ch[0], "ide0-ctl")) ||
	    (ret = devif_pio_register(vm, PLAT_IDE1_PORT, 8, &cmd_ops, &s->ch[1], "ide1")) ||
	    (ret = devif_pio_register(vm, PLAT_IDE1_CTL, 1, &ctl_ops, &s->ch[1], "ide1-ctl")) ||
	    (ret = devif_pio_set_miss(vm, bm_miss, s)))
		return ret;
	ret = thread_start(&s->thread, ide_worker, s);
	if (ret)
		return ret;
	s->started = true;
	return 0;
}

/* After the PIIX3 ISA bridge (function 0, DEV_PHASE_PLATFORM) is in its slot. */
DEVICE_REGISTER(ide, DEV_PHASE_PCI, ide_init);
