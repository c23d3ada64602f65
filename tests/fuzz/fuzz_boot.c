/* fuzz_boot.c: boot_load on arbitrary images with a 16 MiB guest. Input byte 0 steers the
 * rest: bit 0 adds an initrd of ((byte >> 2) * 256 KiB + 1) bytes, bit 1 a long command line.
 * The kernel image is the remaining bytes, so reads past it hit ASan's redzone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "x86/boot.h"

#define RAM (16u << 20)
#define INITRD_STEP (256u << 10)

static uint8_t initrd[64 * INITRD_STEP + 1];
static char long_cmdline[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gmem m;
	static int ready;
	struct boot_config bc = {.cmdline = "console=ttyS0", .rsdp_gpa = 0xe0000};
	struct boot_entry out;
	struct err e = {{0}};
	uint8_t ctl;
	int ret;

	if (!ready) {
		if (gmem_init(&m, RAM, 0) < 0)
			abort();
		memset(long_cmdline, 'x', sizeof(long_cmdline) - 1);
		ready = 1;
	}
	if (size < 1)
		return 0;
	ctl = data[0];
	bc.kernel = data + 1;
	bc.kernel_len = size - 1;
	if (ctl & 1) {
		bc.initrd = initrd;
		bc.initrd_len = (size_t)(ctl >> 2) * INITRD_STEP + 1;
	}
	if (ctl & 2)
		bc.cmdline = long_cmdline;
	ret = boot_load(&m, &bc, &out, &e);
	if (ret > 0)
		abort();
	if (ret < 0 && (e.msg[0] == '\0' || !memchr(e.msg, '\0', sizeof(e.msg))))
		abort(); /* every failure says why */
	if (ret == 0 && out.mode == BOOT_MODE_PROT32 && out.rip >= RAM)
		abort(); /* entries point into guest RAM */
	if (ret == 0 && out.initrd_size && out.initrd_gpa + out.initrd_size > RAM)
		abort();
	return 0;
}
