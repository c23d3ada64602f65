/* mb32: a 32-bit Multiboot v1 guest (header with address fields, so the loader needs no ELF
 * parsing). Proves: the multiboot entry state (eax magic, ebx info), that the loader filled
 * mem_lower/mem_upper and the command line, and 32-bit COM1 output. Exits 0x21 on success,
 * 0x41 for a bad magic, 0x42 for missing memory info, 0x43 for a missing command line. */
#include "lib/guest.h"

#define MB_BOOT_MAGIC 0x2badb002u
#define MBI_MEM 0x1
#define MBI_CMDLINE 0x4

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
};

void gmain(uint32_t eax, uint32_t ebx)
{
	con_puts("hello from 32-bit multiboot guest\n");
	if (eax != MB_BOOT_MAGIC) {
		con_puts("FAIL: eax=");
		con_putx(eax);
		con_putc('\n');
		guest_exit(0x41);
	}
	const struct mb_info *mbi = (const struct mb_info *)(uintptr_t)ebx;
	if (!mbi || !(mbi->flags & MBI_MEM)) {
		con_puts("FAIL: no memory info\n");
		guest_exit(0x42);
	}
	con_puts("mem_lower: ");
	con_putu(mbi->mem_lower);
	con_puts(" KiB\nmem_upper: ");
	con_putu(mbi->mem_upper);
	con_puts(" KiB\n");
	if (!(mbi->flags & MBI_CMDLINE) || !mbi->cmdline) {
		con_puts("FAIL: no command line\n");
		guest_exit(0x43);
	}
	con_puts("cmdline: ");
	con_puts((const char *)(uintptr_t)mbi->cmdline);
	con_puts("\nmb32: PASS\n");
	guest_exit(0x21);
}
