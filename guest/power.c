/* power: a 32-bit PVH guest that stops the machine the way its command line says:
 *   poweroff     ACPI PM1a_CNT <- SLP_TYP(S5) | SLP_EN     (monitor exit status 0)
 *   reboot-acpi  ACPI RESET_REG (0x60c) <- 0x01            (exit status 2)
 *   reboot-kbd   i8042 command 0xfe (pulse reset line)     (exit status 2)
 *   reboot-92    port 0x92 fast reset (bit 0)              (exit status 2)
 * Proves those exits and the PVH command line and RSDP pointer in start_info. Exits 0x70
 * through the test device if the machine kept running, 0x71 for an unknown command line. */
#include "lib/guest.h"

#define PVH_START_MAGIC 0x336ec578u

struct __attribute__((packed)) hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
};

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }

void gmain(uint32_t eax, uint32_t ebx)
{
	const struct hvm_start_info *si = (const struct hvm_start_info *)(uintptr_t)ebx;
	const char *cmd = "";

	con_puts("hello from power guest\n");
	if (si && si->magic == PVH_START_MAGIC && si->cmdline_paddr)
		cmd = (const char *)(uintptr_t)si->cmdline_paddr;
	if (si && si->magic == PVH_START_MAGIC && si->rsdp_paddr) {
		const char *r = (const char *)(uintptr_t)si->rsdp_paddr;
		int ok = 1;
		for (int i = 0; i < 8; i++)
			ok &= r[i] == "RSD PTR "[i];
		con_puts(ok ? "rsdp: ok\n" : "rsdp: bad signature\n");
	} else {
		con_puts("rsdp: none\n");
	}
	con_puts("power: ");
	con_puts(cmd);
	con_putc('\n');
	if (streq(cmd, "poweroff"))
		outw(0x604, (5 << 10) | (1 << 13));
	else if (streq(cmd, "reboot-acpi"))
		outb(0x60c, 0x01);
	else if (streq(cmd, "reboot-kbd"))
		outb(0x64, 0xfe);
	else if (streq(cmd, "reboot-92"))
		outb(0x92, inb(0x92) | 1);
	else
		guest_exit(0x71);
	con_puts("power: still running\n");
	guest_exit(0x70);
}
