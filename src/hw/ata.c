/* ata.c: the ATA side of an IDE channel (ata.h): registers, ATA commands, PIO phases, bus-master
 * DMA over PRD tables, the job hand-off to the I/O thread. */
#include "hw/ata.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "vm/devif.h"

#define SECTOR 512u
#define MAX_MULT 16
#define PRD_MAX_ENTRIES 8192 /* a table lies in one 64 KiB page */

static struct ata_drive *cur(struct ata_channel *ch)
{
	return &ch->drive[(ch->dev & ATA_DEV_SLAVE) ? 1 : 0];
}

static void update_line(struct ata_channel *ch)
{
	bool level = ch->irq_pending && !(ch->ctl & ATA_CTL_NIEN);

	if (level != ch->irq_line) {
		ch->irq_line = level;
		devif_set_irq(ch->vm, ch->irq, level);
	}
}

void ata_set_irq(struct ata_channel *ch)
{
	ch->irq_pending = true;
	update_line(ch);
}

static void clear_irq(struct ata_channel *ch)
{
	ch->irq_pending = false;
	update_line(ch);
}

int ata_channel_init(struct ata_channel *ch, struct vm *vm, unsigned irq)
{
	memset(ch, 0, sizeof(*ch));
	ch->buf = calloc(1, ATA_BUF_SIZE);
	if (!ch->buf)
		return -ENOMEM;
	pthread_mutex_init(&ch->lock, NULL);
	ch->vm = vm;
	ch->irq = irq;
	ch->dev = 0xa0;
	return 0;
}

void ata_channel_destroy(struct ata_channel *ch)
{
	if (!ch->buf)
		return;
	free(ch->buf);
	ch->buf = NULL;
	pthread_mutex_destroy(&ch->lock);
}

/* The registers after a reset or EXECUTE DEVICE DIAGNOSTIC: the device's signature. */
static void signature(struct ata_channel *ch, struct ata_drive *d)
{
	ch->nsect = ch->lbal = 1;
	ch->lbam = ch->lbah = 0;
	ch->dev &= ATA_DEV_SLAVE;
	ch->dev |= 0xa0;
	ch->error = 0x01; /* no error */
	if (d->atapi) {
		atapi_signature(ch);
		ch->status = 0;
	} else {
		ch->status = d->present ? ATA_SR_DRDY | ATA_SR_DSC : 0;
	}
}

void ata_drive_attach(struct ata_channel *ch, unsigned unit, struct block_dev *bd, bool atapi,
		      bool readonly, const char *serial)
{
	struct ata_drive *d = &ch->drive[unit & 1];
	uint64_t chs;

	memset(d, 0, sizeof(*d));
	d->present = true;
	d->atapi = atapi;
	d->readonly = readonly || atapi;
	d->bd = bd;
	d->sectors = block_size(bd) / SECTOR;
	d->heads = 16;
	d->spt = 63;
	chs = d->sectors / (16 * 63);
	d->cyls = (uint16_t)(chs > 16383 ? 16383 : chs ? chs : 1);
	if (serial && *serial)
		snprintf(d->serial, sizeof(d->serial), "%s", serial);
	else
		snprintf(d->serial, sizeof(d->serial), "TV%02u%016u", ch->irq * 2 + unit, 0);
	snprintf(d->model, sizeof(d->model), "%s", atapi ? "thinvisor DVD-ROM" : "thinvisor HARDDISK");
	if (unit == 0 || !ch->drive[0].present)
		signature(ch, d);
}

void ata_put_string(uint16_t *w, unsigned n, const char *s)
{
	size_t l = strlen(s);

	for (unsigned i = 0; i < n * 2; i++) {
		uint8_t c = i < l ? (uint8_t)s[i] : ' ';

		if (i % 2)
			w[i / 2] |= c;
		else
			w[i / 2] = (uint16_t)(c << 8);
	}
}

static void identify(struct ata_channel *ch, struct ata_drive *d, uint16_t *id)
{
	uint64_t lba28 = d->sectors < 0x0fffffff ? d->sectors : 0x0fffffff;
	uint32_t chs = (uint32_t)d->cyls * d->heads * d->spt;

	memset(id, 0, 512);
	id[0] = 0x0040;
	id[1] = d->cyls;
	id[3] = d->heads;
	id[6] = d->spt;
	ata_put_string(id + 10, 10, d->serial);
	ata_put_string(id + 23, 4, "1.0");
	ata_put_string(id + 27, 20, d->model);
	id[47] = 0x8000 | MAX_MULT;
	id[49] = 0x0b00;       /* IORDY, LBA, DMA */
	id[50] = 0x4000;
	id[51] = 0x0200;
	id[53] = 0x0007;       /* words 54-58, 64-70, 88 valid */
	id[54] = d->cyls;
	id[55] = d->heads;
	id[56] = d->spt;
	id[57] = (uint16_t)chs;
	id[58] = (uint16_t)(chs >> 16);
	id[59] = (uint16_t)(d->mult ? 0x100 | d->mult : 0);
	id[60] = (uint16_t)lba28;
	id[61] = (uint16_t)(lba28 >> 16);
	id[63] = 0x0407;       /* multiword DMA 0-2, mode 2 selected */
	id[64] = 0x0003;       /* PIO 3, 4 */
	id[65] = id[66] = id[67] = id[68] = 120;
	id[80] = 0x007e;       /* ATA-1 to ATA-6 */
	id[82] = 0x4020;       /* write cache */
	id[83] = 0x7400;       /* LBA48, FLUSH CACHE (EXT) */
	id[84] = 0x4000;
	id[85] = 0x4020;
	id[86] = 0x3400;
	id[87] = 0x4000;
	id[88] = 0x003f;       /* UDMA 0-5 supported, none selected */
	id[93] = 0x6001;
	for (int i = 0; i < 4; i++)
		id[100 + i] = (uint16_t)(d->sectors >> (16 * i));
	/* A disk whose format has 4096-byte logical sectors (VHDX): ATA here moves 512-byte
	 * sectors, so it is reported as 512-byte logical, 4096-byte physical (512e, word 106) and
	 * guests align their I/O to it. */
	if (d->bd && block_logical_sector(d->bd) == 4096)
		id[106] = 0x6003; /* valid, several logical sectors per physical one: 2^3 */
	for (int i = 0; i < 256; i++) { /* little-endian words in the buffer */
		uint16_t v = id[i];

		((uint8_t *)id)[2 * i] = (uint8_t)v;
		((uint8_t *)id)[2 * i + 1] = (uint8_t)(v >> 8);
	}
}

static void cmd_abort(struct ata_channel *ch)
{
	ch->status = ATA_SR_DRDY | ATA_SR_ERR;
	ch->error = ATA_ER_ABRT;
	ch->xfer = XFER_NONE;
	ata_set_irq(ch);
}

static void cmd_ok(struct ata_channel *ch)
{
	ch->status = ATA_SR_DRDY | ATA_SR_DSC;
	ch->error = 0;
	ch->xfer = XFER_NONE;
	ata_set_irq(ch);
}

void ata_submit(struct ata_channel *ch, enum ata_job_kind kind, uint64_t off, uint64_t len)
{
	ch->status = ATA_SR_BSY | ATA_SR_DRDY;
	ch->job = kind;
	ch->job_off = off;
	ch->job_len = len;
	ch->job_ret = 0;
	ch->job_busy = true;
	ch->submit(ch);
}

/* Show [pos, end) of buf as a PIO data-in phase starting with a DRQ block. */
static void pio_in_block(struct ata_channel *ch)
{
	uint32_t blk = ch->block * SECTOR;

	ch->chunk = ch->pos + blk < ch->end ? ch->pos + blk : ch->end;
	ch->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
	ata_set_irq(ch);
}

/* Read the next piece of a PIO read into buf. */
static void pio_in_fill(struct ata_channel *ch)
{
	uint64_t n = ch->left < ATA_BUF_SIZE / SECTOR ? ch->left : ATA_BUF_SIZE / SECTOR;

	ata_submit(ch, JOB_READ, ch->lba * SECTOR, n * SECTOR);
}

static void pio_out_block(struct ata_channel *ch, bool irq)
{
	uint64_t n = ch->left < ch->block ? ch->left : ch->block;

	ch->pos = 0;
	ch->chunk = (uint32_t)(n * SECTOR);
	ch->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
	if (irq)
		ata_set_irq(ch);
}

/* Decode the LBA (28 or 48 bit, or CHS) and count of a read/write command; check the range.
 * Returns false (and aborts with IDNF) when it does not fit the disk. */
static bool rw_setup(struct ata_channel *ch, struct ata_drive *d, bool lba48)
{
	uint64_t lba, count;

	if (lba48) {
		lba = (uint64_t)ch->lbah_hob << 40 | (uint64_t)ch->lbam_hob << 32 |
		      (uint64_t)ch->lbal_hob << 24 | (uint64_t)ch->lbah << 16 |
		      (uint64_t)ch->lbam << 8 | ch->lbal;
		count = (uint64_t)ch->nsect_hob << 8 | ch->nsect;
		if (!count)
			count = 65536;
	} else if (ch->dev & ATA_DEV_LBA) {
		lba = (uint64_t)(ch->dev & 0x0f) << 24 | (uint64_t)ch->lbah << 16 |
		      (uint64_t)ch->lbam << 8 | ch->lbal;
		count = ch->nsect ? ch->nsect : 256;
	} else {
		unsigned cyl = (unsigned)ch->lbah << 8 | ch->lbam, head = ch->dev & 0x0f;

		if (!ch->lbal || ch->lbal > d->spt || head >= d->heads) {
			ch->error = ATA_ER_IDNF;
			ch->status = ATA_SR_DRDY | ATA_SR_ERR;
			ata_set_irq(ch);
			return false;
		}
		lba = ((uint64_t)cyl * d->heads + head) * d->spt + ch->lbal - 1;
		count = ch->nsect ? ch->nsect : 256;
	}
	if (lba > d->sectors || count > d->sectors - lba) {
		ch->error = ATA_ER_IDNF;
		ch->status = ATA_SR_DRDY | ATA_SR_ERR;
		ch->xfer = XFER_NONE;
		ata_set_irq(ch);
		return false;
	}
	ch->lba = lba;
	ch->left = count;
	ch->lba48 = lba48;
	return true;
}

void ata_dma_start(struct ata_channel *ch)
{
	uint64_t unit = cur(ch)->atapi ? ATAPI_SECTOR : SECTOR;

	ch->dma_waiting = false;
	ch->bm_status |= BM_ST_ACTIVE;
	if (ch->job_off == UINT64_MAX) /* an ATAPI reply already in buf */
		ata_submit(ch, JOB_DMA, UINT64_MAX, ch->job_len);
	else
		ata_submit(ch, JOB_DMA, ch->lba * unit, ch->left * unit);
}

void ata_dma_arm(struct ata_channel *ch, bool write, bool from_buf)
{
	ch->xfer = XFER_DMA;
	ch->xfer_write = write;
	ch->job_off = from_buf ? UINT64_MAX : 0;
	ch->status = ATA_SR_BSY | ATA_SR_DRDY;
	if (ch->bm_cmd & BM_CMD_START)
		ata_dma_start(ch);
	else
		ch->dma_waiting = true;
}

static void exec_rw(struct ata_channel *ch, struct ata_drive *d, uint8_t cmd)
{
	bool lba48 = cmd == 0x24 || cmd == 0x29 || cmd == 0x34 || cmd == 0x39 || cmd == 0x25 ||
		     cmd == 0x35;
	bool write = cmd == 0x30 || cmd == 0x31 || cmd == 0x34 || cmd == 0xc5 || cmd == 0x39 ||
		     cmd == 0xca || cmd == 0xcb || cmd == 0x35;
	bool multi = cmd == 0xc4 || cmd == 0x29 || cmd == 0xc5 || cmd == 0x39;
	bool dma = cmd == 0xc8 || cmd == 0xc9 || cmd == 0x25 || cmd == 0xca || cmd == 0xcb ||
		   cmd == 0x35;

	if ((multi && !d->mult) || (write && d->readonly)) {
		cmd_abort(ch);
		return;
	}
	if (!rw_setup(ch, d, lba48))
		return;
	ch->block = multi ? d->mult : 1;
	if (dma) {
		ata_dma_arm(ch, write, false);
	} else if (write) {
		ch->xfer = XFER_PIO_OUT;
		pio_out_block(ch, false);
	} else {
		ch->xfer = XFER_PIO_IN;
		ch->pos = ch->end = 0;
		pio_in_fill(ch);
	}
}

static void exec_set_features(struct ata_channel *ch)
{
	switch (ch->feature) {
	case 0x03: /* transfer mode */
	case 0x02: case 0x82: /* write cache on / off */
	case 0x66: case 0xcc: /* power-on defaults */
	case 0xaa: case 0x55: /* read look-ahead */
		cmd_ok(ch);
		break;
	default:
		cmd_abort(ch);
	}
}

static void exec_native_max(struct ata_channel *ch, struct ata_drive *d, bool lba48)
{
	uint64_t max = d->sectors ? d->sectors - 1 : 0;

	ch->lbal = (uint8_t)max;
	ch->lbam = (uint8_t)(max >> 8);
	ch->lbah = (uint8_t)(max >> 16);
	if (lba48) {
		ch->lbal_hob = (uint8_t)(max >> 24);
		ch->lbam_hob = (uint8_t)(max >> 32);
		ch->lbah_hob = (uint8_t)(max >> 40);
	} else {
		ch->dev = (uint8_t)((ch->dev & 0xf0) | ((max >> 24) & 0x0f));
	}
	cmd_ok(ch);
}

static void exec_command(struct ata_channel *ch, uint8_t cmd)
{
	struct ata_drive *d = cur(ch);

	if (!d->present)
		return; /* nobody answers */
	if (ch->status & ATA_SR_BSY && cmd != 0x08)
		return;
	ch->cmd = cmd;
	ch->xfer = XFER_NONE;
	ch->dma_waiting = false;
	clear_irq(ch);
	if (d->atapi) {
		switch (cmd) {
		case 0xa0: /* PACKET */
			ch->atapi_dma = ch->feature & 1;
			ch->xfer = XFER_PACKET;
			ch->pos = 0;
			ch->chunk = sizeof(ch->packet);
			ch->nsect = 0x01; /* CoD: a command packet is wanted */
			ch->status = ATA_SR_DRDY | ATA_SR_DRQ;
			return;
		case 0xa1: /* IDENTIFY PACKET DEVICE */
			atapi_identify(ch, (uint16_t *)ch->buf);
			ch->xfer = XFER_PIO_IN;
			ch->pos = 0;
			ch->end = ch->chunk = 512;
			ch->left = 0;
			ch->status = ATA_SR_DRDY | ATA_SR_DRQ;
			ata_set_irq(ch);
			return;
		case 0x08: /* DEVICE RESET */
			signature(ch, d);
			return;
		case 0x90:
			signature(ch, d);
			ata_set_irq(ch);
			return;
		case 0xef:
			exec_set_features(ch);
			return;
		case 0xe5: /* CHECK POWER MODE */
			ch->nsect = 0xff;
			cmd_ok(ch);
			return;
		case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe6: case 0xe7:
			cmd_ok(ch);
			return;
		default: /* IDENTIFY DEVICE included: abort with the signature in place */
			atapi_signature(ch);
			cmd_abort(ch);
			return;
		}
	}
	switch (cmd) {
	case 0xec: /* IDENTIFY DEVICE */
		identify(ch, d, (uint16_t *)ch->buf);
		ch->xfer = XFER_PIO_IN;
		ch->pos = 0;
		ch->end = ch->chunk = 512;
		ch->left = 0;
		ch->block = 1;
		ch->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
		ata_set_irq(ch);
		break;
	case 0x20: case 0x21: case 0x24: case 0xc4: case 0x29:
	case 0x30: case 0x31: case 0x34: case 0xc5: case 0x39:
	case 0xc8: case 0xc9: case 0x25: case 0xca: case 0xcb: case 0x35:
		exec_rw(ch, d, cmd);
		break;
	case 0x40: case 0x41: case 0x42: /* READ VERIFY: the range only */
		if (rw_setup(ch, d, cmd == 0x42))
			cmd_ok(ch);
		break;
	case 0xc6: /* SET MULTIPLE MODE */
		if (ch->nsect > MAX_MULT || (ch->nsect & (ch->nsect - 1))) {
			cmd_abort(ch);
		} else {
			d->mult = ch->nsect;
			cmd_ok(ch);
		}
		break;
	case 0xe7: case 0xea: /* FLUSH CACHE (EXT) */
		ata_submit(ch, JOB_FLUSH, 0, 0);
		break;
	case 0xf8: case 0x27:
		exec_native_max(ch, d, cmd == 0x27);
		break;
	case 0xef:
		exec_set_features(ch);
		break;
	case 0x90: /* EXECUTE DEVICE DIAGNOSTIC */
		signature(ch, d);
		ata_set_irq(ch);
		break;
	case 0xe5:
		ch->nsect = 0xff;
		cmd_ok(ch);
		break;
	case 0x91: case 0x10: case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: case 0x16:
	case 0x17: case 0x18: case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e:
	case 0x1f: case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe6: case 0x70:
		cmd_ok(ch);
		break;
	default: /* NOP, unknown, packet commands to a disk */
		cmd_abort(ch);
	}
}

/* A PIO data-in DRQ block was read to its end. */
static void pio_in_next(struct ata_channel *ch)
{
	if (ch->drive[(ch->dev >> 4) & 1].atapi && ch->cmd == 0xa0) {
		atapi_continue(ch);
		return;
	}
	if (ch->pos < ch->end) {
		pio_in_block(ch);
	} else if (ch->left) {
		pio_in_fill(ch);
	} else {
		ch->xfer = XFER_NONE;
		ch->status = ATA_SR_DRDY | ATA_SR_DSC;
	}
}

static void data_read(struct ata_channel *ch, uint8_t *data, unsigned len)
{
	unsigned n = 0;

	if (ch->xfer == XFER_PIO_IN && (ch->status & ATA_SR_DRQ) && !ch->job_busy) {
		n = ch->chunk - ch->pos < len ? ch->chunk - ch->pos : len;
		memcpy(data, ch->buf + ch->pos, n);
		ch->pos += n;
		if (ch->pos == ch->chunk)
			pio_in_next(ch);
	}
	memset(data + n, 0xff, len - n);
}

static void data_write(struct ata_channel *ch, const uint8_t *data, unsigned len)
{
	unsigned n;

	if (!(ch->status & ATA_SR_DRQ) || ch->job_busy)
		return;
	if (ch->xfer == XFER_PACKET) {
		n = ch->chunk - ch->pos < len ? ch->chunk - ch->pos : len;
		memcpy(ch->packet + ch->pos, data, n);
		ch->pos += n;
		if (ch->pos == ch->chunk) {
			ch->xfer = XFER_NONE;
			atapi_packet(ch);
		}
	} else if (ch->xfer == XFER_PIO_OUT) {
		n = ch->chunk - ch->pos < len ? ch->chunk - ch->pos : len;
		memcpy(ch->buf + ch->pos, data, n);
		ch->pos += n;
		if (ch->pos == ch->chunk)
			ata_submit(ch, JOB_WRITE, ch->lba * SECTOR, ch->chunk);
	}
}

void ata_cmd_read(struct ata_channel *ch, unsigned off, uint8_t *data, unsigned len)
{
	bool hob;

	pthread_mutex_lock(&ch->lock);
	hob = ch->ctl & ATA_CTL_HOB;
	if (!ch->drive[0].present && !ch->drive[1].present) {
		memset(data, 0xff, len); /* an empty channel floats */
	} else if (!cur(ch)->present) {
		memset(data, 0, len); /* an absent slave: the master answers zeros (no ghost drive) */
	} else if (off == 0) {
		data_read(ch, data, len);
	} else {
		for (unsigned i = 0; i < len; i++) {
			unsigned r = off + i;

			switch (r) {
			case 1: data[i] = hob ? 0 : ch->error; break;
			case 2: data[i] = hob ? ch->nsect_hob : ch->nsect; break;
			case 3: data[i] = hob ? ch->lbal_hob : ch->lbal; break;
			case 4: data[i] = hob ? ch->lbam_hob : ch->lbam; break;
			case 5: data[i] = hob ? ch->lbah_hob : ch->lbah; break;
			case 6: data[i] = ch->dev; break;
			case 7:
				data[i] = cur(ch)->present ? ch->status : 0;
				clear_irq(ch);
				break;
			default: data[i] = 0xff;
			}
		}
	}
	pthread_mutex_unlock(&ch->lock);
}

void ata_cmd_write(struct ata_channel *ch, unsigned off, const uint8_t *data, unsigned len)
{
	pthread_mutex_lock(&ch->lock);
	if (off == 0) {
		data_write(ch, data, len);
		pthread_mutex_unlock(&ch->lock);
		return;
	}
	for (unsigned i = 0; i < len; i++) {
		uint8_t v = data[i];

		if (off + i >= 1 && off + i <= 5)
			ch->ctl &= (uint8_t)~ATA_CTL_HOB;
		switch (off + i) {
		case 1: ch->feature_hob = ch->feature; ch->feature = v; break;
		case 2: ch->nsect_hob = ch->nsect; ch->nsect = v; break;
		case 3: ch->lbal_hob = ch->lbal; ch->lbal = v; break;
		case 4: ch->lbam_hob = ch->lbam; ch->lbam = v; break;
		case 5: ch->lbah_hob = ch->lbah; ch->lbah = v; break;
		case 6: ch->dev = v | 0xa0; break;
		case 7: exec_command(ch, v); break;
		}
	}
	pthread_mutex_unlock(&ch->lock);
}

uint8_t ata_ctl_read(struct ata_channel *ch)
{
	uint8_t v;

	pthread_mutex_lock(&ch->lock);
	if (!ch->drive[0].present && !ch->drive[1].present)
		v = 0xff;
	else
		v = cur(ch)->present ? ch->status : 0;
	pthread_mutex_unlock(&ch->lock);
	return v;
}

/* Both drives back to their power-on state after SRST (lock held, no job running). */
static void channel_reset(struct ata_channel *ch)
{
	ch->xfer = XFER_NONE;
	ch->dma_waiting = false;
	ch->dev = 0xa0;
	for (int u = 0; u < 2; u++)
		ch->drive[u].mult = 0;
	signature(ch, ch->drive[0].present ? &ch->drive[0] : &ch->drive[1]);
}

void ata_ctl_write(struct ata_channel *ch, uint8_t v)
{
	pthread_mutex_lock(&ch->lock);
	if ((ch->ctl & ATA_CTL_SRST) && !(v & ATA_CTL_SRST)) {
		if (ch->job_busy)
			ch->reset_after_job = true;
		else
			channel_reset(ch);
	} else if (v & ATA_CTL_SRST) {
		ch->status = ATA_SR_BSY;
		ch->irq_pending = false;
	}
	ch->ctl = v;
	update_line(ch);
	pthread_mutex_unlock(&ch->lock);
}

void ata_bm_read(struct ata_channel *ch, unsigned off, uint8_t *data, unsigned len)
{
	pthread_mutex_lock(&ch->lock);
	for (unsigned i = 0; i < len; i++) {
		unsigned r = off + i;

		if (r == BM_CMD)
			data[i] = ch->bm_cmd;
		else if (r == BM_STATUS)
			data[i] = ch->bm_status;
		else if (r >= BM_PRD && r < BM_PRD + 4)
			data[i] = (uint8_t)(ch->bm_prd >> (8 * (r - BM_PRD)));
		else
			data[i] = 0;
	}
	pthread_mutex_unlock(&ch->lock);
}

void ata_bm_write(struct ata_channel *ch, unsigned off, const uint8_t *data, unsigned len)
{
	pthread_mutex_lock(&ch->lock);
	for (unsigned i = 0; i < len; i++) {
		unsigned r = off + i;
		uint8_t v = data[i];

		if (r == BM_CMD) {
			bool start = !(ch->bm_cmd & BM_CMD_START) && (v & BM_CMD_START);

			ch->bm_cmd = v & (BM_CMD_START | BM_CMD_READ);
			if (!(v & BM_CMD_START) && !ch->job_busy)
				ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
			if (start && ch->dma_waiting && !ch->job_busy)
				ata_dma_start(ch);
		} else if (r == BM_STATUS) {
			ch->bm_status = (uint8_t)((ch->bm_status & ~(BM_ST_CAPS | BM_ST_ERROR |
								    BM_ST_INTR)) |
						  (v & BM_ST_CAPS) |
						  (ch->bm_status & (BM_ST_ERROR | BM_ST_INTR) & ~v));
		} else if (r >= BM_PRD && r < BM_PRD + 4) {
			unsigned sh = 8 * (r - BM_PRD);

			ch->bm_prd = (ch->bm_prd & ~(0xffu << sh)) | (uint32_t)v << sh;
			ch->bm_prd &= ~3u;
		}
	}
	pthread_mutex_unlock(&ch->lock);
}

/* Walk the PRD table moving len bytes between buf[0..len) and guest RAM, starting at byte
 * *skip of the table's data. Returns 0, or -EFAULT for an entry outside RAM / a table that
 * ends (or runs past PRD_MAX_ENTRIES) before the data. *end: the last entry was used up. */
static int prd_move(struct ata_channel *ch, uint32_t prd, uint64_t skip, uint8_t *buf,
		    uint64_t len, bool to_guest, bool *end)
{
	uint64_t done = 0;

	*end = false;
	for (unsigned i = 0; i < PRD_MAX_ENTRIES && done < len; i++) {
		uint8_t e[8];
		uint64_t addr, n, take;
		bool eot;
		uint8_t *p;

		if (gmem_read(devif_mem(ch->vm), (uint64_t)prd + 8ULL * i, e, sizeof(e)))
			return -EFAULT;
		addr = le_get(e, 4) & ~1ULL;
		n = le_get(e + 4, 2);
		n = n ? n : 0x10000;
		eot = e[7] & 0x80;
		if (skip >= n) {
			skip -= n;
			if (eot)
				return -EFAULT;
			continue;
		}
		take = n - skip < len - done ? n - skip : len - done;
		p = gmem_ptr(devif_mem(ch->vm), addr + skip, take);
		if (!p)
			return -EFAULT;
		if (to_guest)
			memcpy(p, buf + done, take);
		else
			memcpy(buf + done, p, take);
		done += take;
		if (done == len && skip + take == n && eot)
			*end = true;
		skip = 0;
		if (eot && done < len)
			return -EFAULT;
	}
	return done == len ? 0 : -EFAULT;
}

/* JOB_DMA: move job_len bytes between the disk at job_off (or buf) and the PRD table. */
static void job_dma(struct ata_channel *ch, struct ata_drive *d)
{
	bool to_guest = !ch->xfer_write, end = false;
	uint64_t done = 0;

	ch->job_fault = false;
	if (to_guest != !!(ch->bm_cmd & BM_CMD_READ)) {
		ch->job_fault = true;
		return;
	}
	while (done < ch->job_len) {
		uint64_t n = ch->job_len - done < ATA_BUF_SIZE ? ch->job_len - done : ATA_BUF_SIZE;
		int ret = 0;

		if (ch->job_off == UINT64_MAX) {
			n = ch->job_len; /* buf holds the whole reply */
		} else if (to_guest) {
			ret = block_read(d->bd, ch->buf, n, ch->job_off + done);
		}
		if (ret) {
			ch->job_ret = ret;
			return;
		}
		if (prd_move(ch, ch->bm_prd, done, ch->buf, n, to_guest, &end)) {
			ch->job_fault = true;
			return;
		}
		if (!to_guest && (ret = block_write(d->bd, ch->buf, n, ch->job_off + done))) {
			ch->job_ret = ret;
			return;
		}
		done += n;
	}
	ch->job_prd_end = end;
}

void ata_job_run(struct ata_channel *ch)
{
	struct ata_drive *d = &ch->drive[(ch->dev >> 4) & 1];

	switch (ch->job) {
	case JOB_READ:
		ch->job_ret = block_read(d->bd, ch->buf, ch->job_len, ch->job_off);
		break;
	case JOB_WRITE:
		ch->job_ret = block_write(d->bd, ch->buf, ch->job_len, ch->job_off);
		break;
	case JOB_FLUSH:
		ch->job_ret = block_flush(d->bd);
		break;
	case JOB_DMA:
		job_dma(ch, d);
		break;
	case JOB_NONE:
		break;
	}
}

static void job_error(struct ata_channel *ch, uint8_t err)
{
	ch->xfer = XFER_NONE;
	ch->error = err;
	ch->status = ATA_SR_DRDY | ATA_SR_ERR;
	ata_set_irq(ch);
}

static void dma_done(struct ata_channel *ch)
{
	ch->bm_status |= BM_ST_INTR;
	if (ch->job_fault)
		ch->bm_status |= BM_ST_ERROR;
	if (ch->job_fault || ch->job_prd_end || ch->job_ret)
		ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
	if (ch->job_fault)
		job_error(ch, ATA_ER_ABRT);
	else if (ch->job_ret)
		job_error(ch, ch->xfer_write ? ATA_ER_ABRT : ATA_ER_UNC);
	else
		cmd_ok(ch);
}

void ata_job_done(struct ata_channel *ch)
{
	enum ata_job_kind kind;

	pthread_mutex_lock(&ch->lock);
	kind = ch->job;
	ch->job_busy = false;
	if (ch->reset_after_job) {
		ch->reset_after_job = false;
		if (!(ch->ctl & ATA_CTL_SRST))
			channel_reset(ch);
	} else if (ch->drive[(ch->dev >> 4) & 1].atapi && ch->cmd == 0xa0) {
		atapi_job_done(ch);
	} else if (kind == JOB_DMA) {
		dma_done(ch);
	} else if (ch->job_ret) {
		job_error(ch, kind == JOB_READ ? ATA_ER_UNC : ATA_ER_ABRT);
	} else if (kind == JOB_READ) {
		uint64_t n = ch->job_len / SECTOR;

		ch->lba += n;
		ch->left -= n;
		ch->pos = 0;
		ch->end = (uint32_t)ch->job_len;
		pio_in_block(ch);
	} else if (kind == JOB_WRITE) {
		uint64_t n = ch->job_len / SECTOR;

		ch->lba += n;
		ch->left -= n;
		if (ch->left) {
			pio_out_block(ch, true);
		} else {
			ch->xfer = XFER_NONE;
			cmd_ok(ch);
		}
	} else {
		cmd_ok(ch);
	}
	ch->job = JOB_NONE;
	pthread_mutex_unlock(&ch->lock);
}
