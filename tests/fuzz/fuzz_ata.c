/* fuzz_ata.c: libFuzzer over the IDE channel's command, packet and PRD parsing: the input is a
 * script of port accesses (taskfile, data, control, bus-master registers) to an ATA disk and an
 * ATAPI CD on a small raw image, with guest RAM (PRD tables, descriptors) taken from the input;
 * the I/O thread's jobs run inline. Any access outside RAM or the image is a sanitizer report. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/ata.h"
#include "vm/devif.h"
#include "vm/vm.h"

#define RAM (64u << 10)

static struct vm vm;
static struct block_dev *bd;

int devif_set_irq(struct vm *v, unsigned gsi, int level) { return 0; }
const struct gmem *devif_mem(struct vm *v) { return &v->mem; }

static void submit(struct ata_channel *ch) {}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/tmp/fuzz_ata.XXXXXX";
	int fd = mkstemp(path);
	struct block_open_opts o = {.flags = BLOCK_RDWR};
	struct err e;

	if (fd < 0 || ftruncate(fd, 1 << 20))
		abort();
	close(fd);
	if (block_open(path, "raw", &o, &bd, &e))
		abort();
	unlink(path);
	vm.mem.nregions = 1;
	vm.mem.r[0] = (struct gmem_region){.gpa = 0, .size = RAM, .hva = calloc(1, RAM)};
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ata_channel ch;
	size_t ram = size < 256 ? size : 256;

	memset(vm.mem.r[0].hva, 0, RAM);
	memcpy(vm.mem.r[0].hva, data, ram); /* PRD tables point anywhere in here, or out */
	if (ata_channel_init(&ch, &vm, 14))
		return 0;
	ch.submit = submit;
	ata_drive_attach(&ch, 0, bd, false, false, NULL);
	ata_drive_attach(&ch, 1, bd, true, true, NULL);
	for (size_t i = ram; i + 2 <= size; i += 2) {
		uint8_t op = data[i], v = data[i + 1], b[4] = {v, v, v, v};

		switch (op & 7) {
		case 0: ata_cmd_write(&ch, op >> 3 & 7, b, 1); break;
		case 1: ata_cmd_read(&ch, op >> 3 & 7, b, 1 + (op >> 6 & 1)); break;
		case 2: ata_cmd_write(&ch, 0, b, 2); break;
		case 3: ata_ctl_write(&ch, v); break;
		case 4: ata_bm_write(&ch, op >> 3 & 7, b, 1); break;
		case 5: ata_bm_read(&ch, op >> 3 & 7, b, 4 - (op >> 3 & 3)); break;
		default: ata_cmd_read(&ch, 0, b, 2); break;
		}
		if (ch.job_busy) {
			ata_job_run(&ch);
			ata_job_done(&ch);
		}
	}
	ata_channel_destroy(&ch);
	return 0;
}
