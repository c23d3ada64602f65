/* ata.h: one IDE channel (two drive positions) with the ATA/ATAPI-6 register protocol: the
 * taskfile (with the LBA48 "previous" bytes), PIO data phases, bus-master DMA through PRD
 * tables, ATAPI packets (atapi.c) for read-only CD-ROMs, INTRQ. Disk I/O never runs on the
 * caller: a command that touches the disk sets BSY and hands a job to ch->submit (the IDE
 * device's I/O thread, or a synchronous runner in tests), which calls ata_job_run without the
 * lock and ata_job_done with it; the drive then raises its interrupt.
 * Everything the guest supplies (counts, LBAs, PRD entries, packet fields) is checked: a bad
 * request ends in an ATA/ATAPI error status, never outside guest RAM or the disk. */
#ifndef TV_ATA_H
#define TV_ATA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "block/block.h"

struct vm;

#define ATA_SR_BSY 0x80
#define ATA_SR_DRDY 0x40
#define ATA_SR_DF 0x20
#define ATA_SR_DSC 0x10
#define ATA_SR_DRQ 0x08
#define ATA_SR_ERR 0x01
#define ATA_ER_ABRT 0x04
#define ATA_ER_IDNF 0x10
#define ATA_ER_UNC 0x40
#define ATA_CTL_NIEN 0x02
#define ATA_CTL_SRST 0x04
#define ATA_CTL_HOB 0x80
#define ATA_DEV_LBA 0x40
#define ATA_DEV_SLAVE 0x10

/* Bus-master IDE registers (offsets in the channel's 8 bytes of BAR4). */
#define BM_CMD 0
#define BM_STATUS 2
#define BM_PRD 4
#define BM_CMD_START 0x01
#define BM_CMD_READ 0x08 /* the device writes memory */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02
#define BM_ST_INTR 0x04
#define BM_ST_CAPS 0x60 /* drive 0/1 DMA capable (guest-writable bits) */

#define ATA_BUF_SIZE (128u << 10) /* data buffer: whole PIO/ATAPI chunks and DMA pieces */
#define ATAPI_SECTOR 2048u

enum ata_xfer { XFER_NONE, XFER_PIO_IN, XFER_PIO_OUT, XFER_PACKET, XFER_DMA };
enum ata_job_kind { JOB_NONE, JOB_READ, JOB_WRITE, JOB_FLUSH, JOB_DMA };

struct ata_drive {
	bool present, atapi, readonly;
	struct block_dev *bd;
	uint64_t sectors;       /* 512-byte sectors (ATAPI: the image's bytes / 512) */
	uint16_t cyls, heads, spt;
	unsigned mult;          /* sectors per DRQ block for READ/WRITE MULTIPLE (0: off) */
	uint8_t sense_key, asc; /* ATAPI: the last error, for REQUEST SENSE */
	char serial[21], model[41];
};

struct ata_channel {
	pthread_mutex_t lock;
	struct vm *vm;          /* vm_set_irq and guest RAM (checked accessor) */
	unsigned irq;
	struct ata_drive drive[2];
	/* taskfile; the *_hob bytes are the previous writes (LBA48) */
	uint8_t feature, nsect, lbal, lbam, lbah, dev;
	uint8_t feature_hob, nsect_hob, lbal_hob, lbam_hob, lbah_hob;
	uint8_t status, error, ctl, cmd;
	bool irq_pending, irq_line;
	/* the command in progress */
	enum ata_xfer xfer;
	bool lba48, xfer_write;
	uint64_t lba;           /* next sector (ATA: 512 bytes; ATAPI READ: 2048) */
	uint64_t left;          /* ATA: sectors still to move; ATAPI READ: 2048-byte blocks */
	unsigned block;         /* ATA PIO: sectors per DRQ block */
	uint32_t pos, end;      /* PIO: data at buf[pos..end) */
	uint32_t atapi_limit;   /* ATAPI PIO: byte count limit per DRQ */
	uint32_t chunk;         /* PIO: end of the current DRQ block/chunk in buf */
	uint64_t atapi_left;    /* ATAPI: bytes of data not yet in buf */
	bool atapi_dma;
	uint8_t packet[12];
	/* bus master */
	uint8_t bm_cmd, bm_status;
	uint32_t bm_prd;
	bool dma_waiting;       /* a DMA command waits for BM_CMD_START */
	/* the job handed to the I/O thread */
	enum ata_job_kind job;
	bool job_busy;          /* submitted, not yet done: buf belongs to the job */
	bool reset_after_job;   /* SRST arrived while the job ran */
	uint64_t job_off;       /* disk byte offset (JOB_DMA: UINT64_MAX = data already in buf) */
	uint64_t job_len;       /* bytes */
	int job_ret;
	bool job_prd_end;       /* DMA: the PRD table ended exactly with the data */
	bool job_fault;         /* DMA: a PRD entry outside RAM, too short a table, wrong direction */
	void (*submit)(struct ata_channel *ch); /* hand ch's job to the worker (lock held) */
	void *submit_opaque;
	uint8_t *buf;           /* ATA_BUF_SIZE bytes */
};

/* Set up ch (both drive positions empty) with its buffer; irq is the ISA line.
 * Returns 0 or -ENOMEM. */
int ata_channel_init(struct ata_channel *ch, struct vm *vm, unsigned irq);

/* Free the buffer and lock (not the drives' block devices). */
void ata_channel_destroy(struct ata_channel *ch);

/* Attach bd at position unit (0 master, 1 slave) as a hard disk or an ATAPI CD-ROM; serial
 * (NULL: derived from the position) goes into IDENTIFY. */
void ata_drive_attach(struct ata_channel *ch, unsigned unit, struct block_dev *bd, bool atapi,
		      bool readonly, const char *serial);

/* Port accesses: command block (offset 0-7: data, error/feature, count, LBA low/mid/high,
 * device, status/command), control block (alternate status / device control), bus master
 * (BM_* offsets). Take the lock themselves. */
void ata_cmd_read(struct ata_channel *ch, unsigned off, uint8_t *data, unsigned len);
void ata_cmd_write(struct ata_channel *ch, unsigned off, const uint8_t *data, unsigned len);
uint8_t ata_ctl_read(struct ata_channel *ch);
void ata_ctl_write(struct ata_channel *ch, uint8_t v);
void ata_bm_read(struct ata_channel *ch, unsigned off, uint8_t *data, unsigned len);
void ata_bm_write(struct ata_channel *ch, unsigned off, const uint8_t *data, unsigned len);

/* The worker's part: run ch's job (no lock held), then complete it (takes the lock). */
void ata_job_run(struct ata_channel *ch);
void ata_job_done(struct ata_channel *ch);

/* Internal to ata.c / atapi.c (lock held). */
void ata_set_irq(struct ata_channel *ch);
void ata_submit(struct ata_channel *ch, enum ata_job_kind kind, uint64_t byte_off, uint64_t len);
void atapi_packet(struct ata_channel *ch);
void atapi_continue(struct ata_channel *ch);
void atapi_job_done(struct ata_channel *ch);
void atapi_identify(struct ata_channel *ch, uint16_t *id);
void atapi_signature(struct ata_channel *ch);
void atapi_error(struct ata_channel *ch, uint8_t key, uint8_t asc);
void ata_put_string(uint16_t *words, unsigned n, const char *s);
void ata_dma_start(struct ata_channel *ch);
/* Arm a DMA transfer of the current command (lba/left set, or from_buf: job_len bytes of buf):
 * it runs once BM_CMD_START is set. */
void ata_dma_arm(struct ata_channel *ch, bool write, bool from_buf);

#endif
