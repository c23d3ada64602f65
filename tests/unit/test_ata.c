/* test_ata.c: the IDE channel's ATA/ATAPI state machine over a raw disk image: IDENTIFY, PIO
 * reads and writes with their DRQ/IRQ steps, range errors, bus-master DMA with good and bad PRD
 * tables (ATA error status, never an access outside RAM), ATAPI packets with the byte count
 * limit and interrupt reasons. The I/O thread is replaced by drain(). */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/ata.h"
#include "hw_fakes.h"
#include "util/bytes.h"

#define RAM (1u << 20)
#define NSECT 2048

static struct ata_channel ch;
static struct block_dev *bd;
static uint8_t *ram;
static char path[64];
static int submits;

static void submit(struct ata_channel *c) { submits++; }

static int no_init(struct vm *vm) { return 0; }
DEVICE_REGISTER(test_ata_none, DEV_PHASE_LATE, no_init); /* hw_fakes walks the table */

static void drain(void)
{
	if (ch.job_busy) {
		ata_job_run(&ch);
		ata_job_done(&ch);
	}
}

static int setup(void **st)
{
	struct vm *vm = hw_vm();
	struct block_open_opts o = {.flags = BLOCK_RDWR};
	struct err e;
	uint8_t sec[512];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_ata.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (unsigned i = 0; i < NSECT; i++) {
		memset(sec, (int)(i & 0xff), sizeof(sec));
		assert_int_equal(pwrite(fd, sec, 512, (off_t)i * 512), 512);
	}
	close(fd);
	assert_int_equal(block_open(path, "raw", &o, &bd, &e), 0);
	ram = calloc(1, RAM);
	vm->mem.nregions = 1;
	vm->mem.r[0] = (struct gmem_region){.gpa = 0, .size = RAM, .hva = ram};
	assert_int_equal(ata_channel_init(&ch, vm, 14), 0);
	ch.submit = submit;
	submits = 0;
	return 0;
}

static int teardown(void **st)
{
	ata_channel_destroy(&ch);
	block_close(bd);
	unlink(path);
	free(ram);
	return 0;
}

static uint8_t in8(unsigned off)
{
	uint8_t b;

	ata_cmd_read(&ch, off, &b, 1);
	return b;
}

static void out8(unsigned off, uint8_t v) { ata_cmd_write(&ch, off, &v, 1); }

static uint16_t in16(void)
{
	uint8_t b[2];

	ata_cmd_read(&ch, 0, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

static void test_identify_and_pio(void **st)
{
	uint16_t id[256];

	ata_drive_attach(&ch, 0, bd, false, false, "SN1");
	assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_DSC);
	out8(6, 0xa0);
	out8(7, 0xec);
	assert_int_equal(ata_ctl_read(&ch), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
	assert_true(fake.irq_level == 1);
	for (int i = 0; i < 256; i++)
		id[i] = in16();
	assert_int_equal(id[0], 0x0040);
	assert_int_equal(id[83] & 0x0400, 0x0400);
	assert_int_equal(id[100], NSECT);
	assert_int_equal(id[27], ('t' << 8) | 'h');
	assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_DSC);
	assert_int_equal(fake.irq_level, 0); /* the status read acknowledged it */
	/* READ SECTORS, LBA 5, 2 sectors: BSY until the worker ran, then one DRQ block each */
	out8(2, 2);
	out8(3, 5);
	out8(4, 0);
	out8(5, 0);
	out8(6, 0xe0);
	out8(7, 0x20);
	assert_int_equal(ata_ctl_read(&ch) & ATA_SR_BSY, ATA_SR_BSY);
	assert_int_equal(submits, 1);
	assert_int_equal(in16(), 0xffff); /* no data while BSY */
	drain();
	assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
	for (int i = 0; i < 256; i++)
		assert_int_equal(in16(), 0x0505);
	assert_int_equal(fake.irq_level, 1); /* the second block's interrupt */
	for (int i = 0; i < 256; i++)
		assert_int_equal(in16(), 0x0606);
	assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_DSC);
	/* beyond the end: IDNF; unknown command: ABRT */
	out8(2, 2);
	out8(3, 0xff);
	out8(4, 0x07);
	out8(6, 0xe0);
	out8(7, 0x20);
	assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_ERR);
	assert_int_equal(in8(1), ATA_ER_IDNF);
	out8(7, 0x00);
	assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_ERR);
	assert_int_equal(in8(1), ATA_ER_ABRT);
	/* WRITE SECTORS (LBA48) 1 sector at 7: DRQ at once, written after 512 bytes */
	out8(2, 0);
	out8(2, 1);
	out8(3, 0);
	out8(3, 7);
	out8(4, 0);
	out8(4, 0);
	out8(5, 0);
	out8(5, 0);
	out8(7, 0x34);
	assert_int_equal(ata_ctl_read(&ch), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
	for (int i = 0; i < 256; i++) {
		uint8_t w[2] = {0xab, 0xcd};
		ata_cmd_write(&ch, 0, w, 2);
	}
	drain();
	assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_DSC);
	uint8_t sec[512];
	assert_int_equal(block_read(bd, sec, 512, 7 * 512), 0);
	assert_int_equal(sec[0], 0xab);
	assert_int_equal(sec[511], 0xcd);
}

static void put_prd(uint32_t at, uint32_t addr, uint32_t len, bool eot)
{
	le_put(ram + at, addr, 4);
	le_put(ram + at + 4, len & 0xffff, 2);
	le_put(ram + at + 6, eot ? 0x8000 : 0, 2);
}

static void dma_read(uint8_t lba, uint8_t count, uint32_t prd)
{
	uint8_t v[4];

	le_put(v, prd, 4);
	ata_bm_write(&ch, BM_PRD, v, 4);
	out8(2, count);
	out8(3, lba);
	out8(4, 0);
	out8(5, 0);
	out8(6, 0xe0);
	out8(7, 0xc8);
	assert_int_equal(submits, 0); /* waits for the engine */
	v[0] = BM_CMD_START | BM_CMD_READ;
	ata_bm_write(&ch, BM_CMD, v, 1);
	drain();
}

static void test_dma(void **st)
{
	uint8_t s;

	ata_drive_attach(&ch, 0, bd, false, false, NULL);
	/* two entries, 512 + 512 */
	put_prd(0x1000, 0x2000, 512, false);
	put_prd(0x1008, 0x3000, 512, true);
	dma_read(9, 2, 0x1000);
	assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_DSC);
	ata_bm_read(&ch, BM_STATUS, &s, 1);
	assert_int_equal(s & (BM_ST_INTR | BM_ST_ACTIVE | BM_ST_ERROR), BM_ST_INTR);
	assert_int_equal(ram[0x2000], 9);
	assert_int_equal(ram[0x3000], 10);
	s = BM_ST_INTR;
	ata_bm_write(&ch, BM_STATUS, &s, 1);
	s = 0;
	ata_bm_write(&ch, BM_CMD, &s, 1);
	/* an entry outside RAM: ATA error, BM error, nothing written */
	submits = 0;
	put_prd(0x1000, RAM - 256, 512, true);
	dma_read(3, 1, 0x1000);
	assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_ERR);
	assert_int_equal(in8(1), ATA_ER_ABRT);
	ata_bm_read(&ch, BM_STATUS, &s, 1);
	assert_int_equal(s & BM_ST_ERROR, BM_ST_ERROR);
	s = 0;
	ata_bm_write(&ch, BM_CMD, &s, 1);
	/* a table too short for the data, and one beyond RAM itself */
	submits = 0;
	put_prd(0x1000, 0x2000, 512, true);
	dma_read(3, 2, 0x1000);
	assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_ERR);
	s = 0;
	ata_bm_write(&ch, BM_CMD, &s, 1);
	submits = 0;
	dma_read(3, 1, 0xfffffff0u);
	assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_ERR);
}

static void test_atapi(void **st)
{
	static const uint8_t inquiry[12] = {0x12, 0, 0, 0, 36};
	static const uint8_t bad[12] = {0xff};
	uint8_t b[2];

	ata_drive_attach(&ch, 0, bd, true, true, NULL);
	assert_int_equal(in8(4), 0x14);
	assert_int_equal(in8(5), 0xeb);
	out8(7, 0xec); /* IDENTIFY DEVICE: aborted, signature kept */
	assert_int_equal(in8(1) & ATA_ER_ABRT, ATA_ER_ABRT);
	assert_int_equal(in8(5), 0xeb);
	/* PACKET with a byte count limit of 16: INQUIRY comes in 16+16+4 bytes */
	out8(1, 0);
	out8(4, 16);
	out8(5, 0);
	out8(7, 0xa0);
	assert_int_equal(in8(2), 0x01); /* CoD: waiting for the packet */
	assert_int_equal(ata_ctl_read(&ch) & ATA_SR_DRQ, ATA_SR_DRQ);
	for (int i = 0; i < 12; i += 2)
		ata_cmd_write(&ch, 0, inquiry + i, 2);
	for (int chunk = 0; chunk < 3; chunk++) {
		unsigned n = chunk < 2 ? 16 : 4;

		assert_int_equal(fake.irq_level, 1);
		assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_DRQ);
		assert_int_equal(in8(2), 0x02); /* IO, data */
		assert_int_equal(in8(4) | in8(5) << 8, n);
		for (unsigned i = 0; i < n; i += 2) {
			ata_cmd_read(&ch, 0, b, 2);
			if (!chunk && !i)
				assert_int_equal(b[0], 0x05);
		}
	}
	assert_int_equal(fake.irq_level, 1);
	assert_int_equal(in8(2), 0x03); /* completion */
	assert_int_equal(in8(7), ATA_SR_DRDY);
	/* an unknown packet: CHECK CONDITION, ILLEGAL REQUEST in the error register */
	out8(7, 0xa0);
	for (int i = 0; i < 12; i += 2)
		ata_cmd_write(&ch, 0, bad + i, 2);
	assert_int_equal(in8(7), ATA_SR_DRDY | ATA_SR_ERR);
	assert_int_equal(in8(1) >> 4, 5);
	assert_int_equal(in8(2), 0x03);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identify_and_pio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atapi, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
