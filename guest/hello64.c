/* hello64: a 64-bit PVH guest. Proves: the PVH entry (start_info magic in ebx), that the
 * guest can enter long mode on its own, COM1 output, and the test device: port magic, MMIO
 * magic, an 8-byte MMIO scratch write read back whole, the MMIO write counter, and that
 * COUNTER_WRITES port writes all reach the device. Exits 42 if everything held, else with
 * the code of the first check that failed (0x30 + check number). */
#include "lib/guest.h"

#define PVH_START_MAGIC 0x336ec578u
#define COUNTER_WRITES 100
#define SCRATCH_VALUE 0x1122334455667788ull

static uint32_t first_failure;

static void verdict(int ok, uint32_t code, const char *what)
{
	con_puts(ok ? "ok: " : "FAIL: ");
	con_puts(what);
	con_putc('\n');
	if (!ok && !first_failure)
		first_failure = code;
}

void gmain(uint32_t eax, uint32_t start_info)
{
	con_puts("hello from 64-bit guest\n");

	verdict(start_info && *(volatile uint32_t *)(uintptr_t)start_info == PVH_START_MAGIC, 0x30,
		"pvh start_info magic");

	uint32_t magic = inl(TESTDEV_MAGIC);
	verdict(magic == TESTDEV_MAGIC_VALUE, 0x31, "testdev port magic");

	uint32_t mmagic = mmio_read32(TESTDEV_MMIO + TESTDEV_MMIO_MAGIC);
	verdict(mmagic == TESTDEV_MMIO_MAGIC_VALUE, 0x32, "testdev mmio magic");

	uint32_t writes0 = mmio_read32(TESTDEV_MMIO + TESTDEV_MMIO_WRITES);
	mmio_write64(TESTDEV_MMIO + TESTDEV_MMIO_SCRATCH, SCRATCH_VALUE);
	uint64_t back = mmio_read64(TESTDEV_MMIO + TESTDEV_MMIO_SCRATCH);
	verdict(back == SCRATCH_VALUE, 0x33, "mmio scratch 64-bit write/read");
	uint32_t writes1 = mmio_read32(TESTDEV_MMIO + TESTDEV_MMIO_WRITES);
	verdict(writes1 - writes0 == 1, 0x34, "mmio write counter");

	uint32_t c0 = inl(TESTDEV_COUNTER);
	for (int i = 0; i < COUNTER_WRITES; i++)
		outl(TESTDEV_COUNTER, 1);
	uint32_t c1 = inl(TESTDEV_COUNTER);
	verdict(c1 - c0 == COUNTER_WRITES, 0x35, "port counter");
	con_puts("port counter writes: ");
	con_putu(c1 - c0);
	con_putc('\n');

	if (first_failure) {
		con_puts("hello64: FAIL\n");
		guest_exit(first_failure);
	}
	con_puts("hello64: PASS\n");
	guest_exit(0x2a);
}
