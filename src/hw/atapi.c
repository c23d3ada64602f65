/* atapi.c: the ATAPI CD-ROM side of an IDE channel (ata.h): PACKET phases per SFF-8020 /
 * ATA/ATAPI-6 (command packet DRQ without an interrupt; each data DRQ chunk, at most the host's
 * byte count limit, with an interrupt and interrupt reason IO=1 CoD=0; completion with IO=1
 * CoD=1 and an interrupt), and the MMC commands a BIOS and Linux's sr driver use on a
 * read-only disc image. Sense data is kept for REQUEST SENSE. */
#include <errno.h>
#include <string.h>

#include "hw/ata.h"
#include "util/bytes.h"

#define IR_COD 0x01
#define IR_IO 0x02
#define SK_NOT_READY 0x02
#define SK_MEDIUM_ERROR 0x03
#define SK_ILLEGAL 0x05
#define SK_ABORTED 0x0b
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_RANGE 0x21
#define ASC_INVALID_FIELD 0x24
#define ASC_READ_ERROR 0x11
#define ASC_WRITE_PROTECTED 0x27

static struct ata_drive *cur(struct ata_channel *ch)
{
	return &ch->drive[(ch->dev & ATA_DEV_SLAVE) ? 1 : 0];
}

static uint64_t blocks(const struct ata_drive *d) { return d->sectors / 4; }

void atapi_signature(struct ata_channel *ch)
{
	ch->nsect = ch->lbal = 1;
	ch->lbam = 0x14;
	ch->lbah = 0xeb;
}

void atapi_identify(struct ata_channel *ch, uint16_t *id)
{
	struct ata_drive *d = cur(ch);

	memset(id, 0, 512);
	id[0] = 0x85c0;  /* ATAPI, CD-ROM, removable, accelerated DRQ, 12-byte packets */
	ata_put_string(id + 10, 10, d->serial);
	ata_put_string(id + 23, 4, "1.0");
	ata_put_string(id + 27, 20, d->model);
	id[49] = 0x0300; /* LBA, DMA */
	id[53] = 0x0007;
	id[63] = 0x0407;
	id[64] = 0x0003;
	id[65] = id[66] = id[67] = id[68] = 120;
	id[71] = id[72] = 30;
	id[80] = 0x007e;
	id[82] = 0x4014; /* PACKET, removable media */
	id[83] = 0x4000;
	id[84] = 0x4000;
	id[85] = 0x4014;
	id[87] = 0x4000;
	id[88] = 0x003f;
	for (int i = 0; i < 256; i++) {
		uint16_t v = id[i];

		((uint8_t *)id)[2 * i] = (uint8_t)v;
		((uint8_t *)id)[2 * i + 1] = (uint8_t)(v >> 8);
	}
}

static void complete(struct ata_channel *ch)
{
	ch->xfer = XFER_NONE;
	ch->status = ATA_SR_DRDY;
	ch->error = 0;
	ch->nsect = IR_IO | IR_COD;
	ata_set_irq(ch);
}

void atapi_error(struct ata_channel *ch, uint8_t key, uint8_t asc)
{
	struct ata_drive *d = cur(ch);

	d->sense_key = key;
	d->asc = asc;
	ch->xfer = XFER_NONE;
	ch->status = ATA_SR_DRDY | ATA_SR_ERR;
	ch->error = (uint8_t)(key << 4 | ATA_ER_ABRT);
	ch->nsect = IR_IO | IR_COD;
	ata_set_irq(ch);
}

/* Present the next DRQ chunk of buf[pos..end) (PIO data-in). */
static void next_chunk(struct ata_channel *ch)
{
	uint32_t n = ch->end - ch->pos;

	if (n > ch->atapi_limit)
		n = ch->atapi_limit;
	ch->chunk = ch->pos + n;
	ch->lbam = (uint8_t)n;
	ch->lbah = (uint8_t)(n >> 8);
	ch->nsect = IR_IO;
	ch->xfer = XFER_PIO_IN;
	ch->status = ATA_SR_DRDY | ATA_SR_DRQ;
	ata_set_irq(ch);
}

static void read_fill(struct ata_channel *ch)
{
	uint64_t n = ch->atapi_left < ATA_BUF_SIZE ? ch->atapi_left : ATA_BUF_SIZE;

	ata_submit(ch, JOB_READ, ch->lba * ATAPI_SECTOR, n);
}

void atapi_continue(struct ata_channel *ch)
{
	if (ch->pos < ch->end)
		next_chunk(ch);
	else if (ch->atapi_left)
		read_fill(ch);
	else
		complete(ch);
}

/* Reply with buf[0..len), cut to the host's allocation length. */
static void reply(struct ata_channel *ch, uint32_t len, uint32_t alloc)
{
	uint32_t n = len < alloc ? len : alloc;

	cur(ch)->sense_key = cur(ch)->asc = 0;
	if (!n) {
		complete(ch);
		return;
	}
	ch->pos = 0;
	ch->end = n;
	ch->atapi_left = 0;
	if (ch->atapi_dma) {
		ch->job_len = n;
		ata_dma_arm(ch, false, true);
	} else {
		next_chunk(ch);
	}
}

static void cmd_read(struct ata_channel *ch, struct ata_drive *d, uint64_t lba, uint64_t n)
{
	if (lba > blocks(d) || n > blocks(d) - lba) {
		atapi_error(ch, SK_ILLEGAL, ASC_LBA_RANGE);
		return;
	}
	d->sense_key = d->asc = 0;
	if (!n) {
		complete(ch);
		return;
	}
	ch->lba = lba;
	if (ch->atapi_dma) {
		if (n > (32u << 20) / ATAPI_SECTOR) { /* one DMA command moves at most 32 MiB */
			atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD);
			return;
		}
		ch->left = n;
		ata_dma_arm(ch, false, false);
		return;
	}
	ch->atapi_left = n * ATAPI_SECTOR;
	ch->pos = ch->end = 0;
	read_fill(ch);
}

/* READ TOC/PMA/ATIP formats 0 (TOC) and 1 (session info) of a one-track data disc. */
static int toc(struct ata_channel *ch, struct ata_drive *d, const uint8_t *p)
{
	bool msf = p[1] & 2;
	unsigned fmt = p[2] & 0x0f, start = p[6];
	uint8_t *b = ch->buf;
	int len;

	if (!fmt && p[9] >> 6)
		fmt = p[9] >> 6;
	memset(b, 0, 32);
	if (fmt == 1) {
		b[1] = 10;
		b[2] = b[3] = 1;
		b[5] = 0x14;
		b[6] = 1;
		if (msf)
			b[10] = 2; /* 00:02:00 */
		return 12;
	}
	if (fmt || start > 1) {
		if (fmt || start != 0xaa)
			return -1;
	}
	b[2] = b[3] = 1;
	len = 4;
	if (start <= 1) {
		b[len + 1] = 0x14;
		b[len + 2] = 1;
		if (msf)
			b[len + 6] = 2;
		len += 8;
	}
	b[len + 1] = 0x14;
	b[len + 2] = 0xaa;
	if (msf) {
		uint64_t f = blocks(d) + 150;

		b[len + 5] = (uint8_t)(f / 75 / 60);
		b[len + 6] = (uint8_t)(f / 75 % 60);
		b[len + 7] = (uint8_t)(f % 75);
	} else {
		be_put(b + len + 4, blocks(d), 4);
	}
	len += 8;
	be_put(b, (uint64_t)len - 2, 2);
	return len;
}

static uint32_t mode_sense(struct ata_channel *ch, unsigned page)
{
	uint8_t *b = ch->buf;
	uint32_t len = 8;

	memset(b, 0, 64);
	b[2] = 0x70; /* medium type: no disc info, 120 mm data CD */
	if (page == 0x01 || page == 0x3f) {
		b[len] = 0x01;
		b[len + 1] = 6;
		b[len + 3] = 5; /* read retry count */
		len += 8;
	}
	if (page == 0x2a || page == 0x3f) {
		uint8_t *c = b + len;

		c[0] = 0x2a;
		c[1] = 0x14;
		c[2] = 0x3b; /* reads CD-R/RW, DVD-ROM... */
		c[4] = 0x71; /* audio play, mode 2 forms, multi-session */
		c[5] = 0xff;
		c[6] = 0x2d; /* lock, eject, tray */
		c[7] = 0x00;
		be_put(c + 8, 706, 2);   /* max speed KB/s (4x) */
		be_put(c + 10, 2, 2);    /* volume levels */
		be_put(c + 12, 512, 2);  /* buffer KB */
		be_put(c + 14, 706, 2);
		len += 22;
	}
	be_put(b, len - 2, 2);
	return len;
}

static uint32_t get_config(struct ata_channel *ch, struct ata_drive *d)
{
	uint8_t *b = ch->buf;
	bool dvd = blocks(d) > 360000; /* larger than a CD holds: report DVD-ROM */

	memset(b, 0, 32);
	be_put(b + 6, dvd ? 0x10 : 0x08, 2);
	b[8 + 1] = 0;      /* feature 0: profile list */
	b[8 + 2] = 0x03;   /* persistent, current */
	b[8 + 3] = 8;
	be_put(b + 12, 0x10, 2);
	b[14] = dvd;
	be_put(b + 16, 0x08, 2);
	b[18] = !dvd;
	be_put(b + 20, 0x01, 2); /* feature 1: core */
	b[22] = 0x0b;
	b[23] = 8;
	be_put(b + 24, 2, 4);    /* ATAPI interface */
	b[28] = 1;               /* DBE */
	be_put(b, 32 - 4, 4);
	return 32;
}

void atapi_packet(struct ata_channel *ch)
{
	struct ata_drive *d = cur(ch);
	const uint8_t *p = ch->packet;
	uint8_t *b = ch->buf;
	int n;

	ch->atapi_limit = (uint32_t)ch->lbah << 8 | ch->lbam;
	if (!ch->atapi_limit || ch->atapi_limit > 0xfffe)
		ch->atapi_limit = 0xfffe;
	ch->atapi_limit &= ~1u;
	ch->status = ATA_SR_BSY | ATA_SR_DRDY;
	switch (p[0]) {
	case 0x00: /* TEST UNIT READY */
	case 0x1b: /* START STOP UNIT */
	case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
	case 0x2b: /* SEEK */
	case 0x35: /* SYNCHRONIZE CACHE */
	case 0xbb: /* SET CD SPEED */
		d->sense_key = d->asc = 0;
		complete(ch);
		break;
	case 0x03: /* REQUEST SENSE */
		memset(b, 0, 18);
		b[0] = 0x70;
		b[2] = d->sense_key;
		b[7] = 10;
		b[12] = d->asc;
		reply(ch, 18, p[4]);
		break;
	case 0x12: /* INQUIRY */
		if (p[1] & 1) { /* no vital product data pages */
			atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD);
			break;
		}
		memset(b, 0, 36);
		b[0] = 0x05;
		b[1] = 0x80;
		b[2] = 0x00;
		b[3] = 0x21;
		b[4] = 31;
		memcpy(b + 8, "THINVSR DVD-ROM         1.0 ", 28);
		reply(ch, 36, p[4]);
		break;
	case 0x25: /* READ CAPACITY */
		be_put(b, blocks(d) ? blocks(d) - 1 : 0, 4);
		be_put(b + 4, ATAPI_SECTOR, 4);
		reply(ch, 8, 8);
		break;
	case 0x28: /* READ(10) */
		cmd_read(ch, d, be_get(p + 2, 4), be_get(p + 7, 2));
		break;
	case 0xa8: /* READ(12) */
		cmd_read(ch, d, be_get(p + 2, 4), be_get(p + 6, 4));
		break;
	case 0x43: /* READ TOC */
		n = toc(ch, d, p);
		if (n < 0)
			atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD);
		else
			reply(ch, (uint32_t)n, (uint32_t)be_get(p + 7, 2));
		break;
	case 0x46: /* GET CONFIGURATION */
		reply(ch, get_config(ch, d), (uint32_t)be_get(p + 7, 2));
		break;
	case 0x5a: /* MODE SENSE(10) */
		if ((p[2] & 0x3f) != 0x01 && (p[2] & 0x3f) != 0x2a && (p[2] & 0x3f) != 0x3f) {
			atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD);
			break;
		}
		reply(ch, mode_sense(ch, p[2] & 0x3f), (uint32_t)be_get(p + 7, 2));
		break;
	case 0x4a: /* GET EVENT STATUS NOTIFICATION */
		if (!(p[1] & 1)) { /* only polled */
			atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD);
			break;
		}
		memset(b, 0, 8);
		if (p[4] & 0x10) { /* media class */
			be_put(b, 6, 2);
			b[2] = 0x04;
			b[3] = 0x10;
			b[5] = 0x02; /* media present, tray closed */
			reply(ch, 8, (uint32_t)be_get(p + 7, 2));
		} else {
			be_put(b, 2, 2);
			b[2] = 0x80; /* no event available */
			b[3] = 0x10;
			reply(ch, 4, (uint32_t)be_get(p + 7, 2));
		}
		break;
	case 0xbd: /* MECHANISM STATUS */
		memset(b, 0, 8);
		reply(ch, 8, (uint32_t)be_get(p + 8, 2));
		break;
	case 0x2a: case 0xaa: case 0x2e: /* writes: a read-only disc */
		atapi_error(ch, SK_ILLEGAL, ASC_WRITE_PROTECTED);
		break;
	default:
		atapi_error(ch, SK_ILLEGAL, ASC_INVALID_OPCODE);
	}
}

void atapi_job_done(struct ata_channel *ch)
{
	if (ch->job == JOB_DMA) {
		ch->bm_status |= BM_ST_INTR;
		if (ch->job_fault)
			ch->bm_status |= BM_ST_ERROR;
		if (ch->job_fault || ch->job_prd_end || ch->job_ret)
			ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
		if (ch->job_fault)
			atapi_error(ch, SK_ABORTED, 0);
		else if (ch->job_ret)
			atapi_error(ch, SK_MEDIUM_ERROR, ASC_READ_ERROR);
		else
			complete(ch);
		return;
	}
	if (ch->job_ret) {
		atapi_error(ch, SK_MEDIUM_ERROR, ASC_READ_ERROR);
		return;
	}
	ch->lba += ch->job_len / ATAPI_SECTOR;
	ch->atapi_left -= ch->job_len;
	ch->pos = 0;
	ch->end = (uint32_t)ch->job_len;
	next_chunk(ch);
}
