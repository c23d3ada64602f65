/* smp: a 64-bit PVH guest run with --cpus 2. The BSP copies a real-mode trampoline to
 * 0x10000 and starts the AP (APIC ID 1) with INIT-SIPI-SIPI through its local APIC; the AP
 * increments a flag in the trampoline and halts. Proves: a second vCPU exists, sits in
 * wait-for-SIPI, starts in real mode at the SIPI vector, and the monitor ends the VM while
 * it is halted. Exits 42 on success; 0x50 if the BSP is not APIC ID 0, 0x51 if the AP
 * never ran. */
#include "lib/guest.h"
#include "lib/lapic.h"

#define TRAMPOLINE 0x10000u

__asm__(".section .rodata\n"
	".code16\n"
	"tramp_start:\n"
	"	cli\n"
	"	mov %cs, %ax\n"
	"	mov %ax, %ds\n"
	"	lock incl (tramp_flag - tramp_start)\n"
	"1:	cli\n"
	"	hlt\n"
	"	jmp 1b\n"
	"	.balign 4\n"
	"tramp_flag: .long 0\n"
	"tramp_end:\n"
	".code64\n"
	".set tramp_flag_off, tramp_flag - tramp_start\n"
	".set tramp_len, tramp_end - tramp_start\n"
	".globl tramp_start, tramp_flag_off, tramp_len\n"
	".text\n");
extern const char tramp_start[];
extern const char tramp_flag_off[], tramp_len[]; /* absolute symbols: use their addresses */

static void ipi(uint32_t dest, uint32_t lo)
{
	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, lo);
	for (int i = 0; i < 100000 && (lapic_read(LAPIC_ICR_LO) & (1u << 12)); i++)
		cpu_relax();
}

void gmain(uint32_t eax, uint32_t ebx)
{
	con_puts("hello from smp guest\n");
	uint32_t id = lapic_read(LAPIC_ID) >> 24;
	if (id != 0) {
		con_puts("FAIL: BSP APIC ID ");
		con_putu(id);
		con_putc('\n');
		guest_exit(0x50);
	}
	volatile char *dst = (volatile char *)(uintptr_t)TRAMPOLINE;
	for (uintptr_t i = 0; i < (uintptr_t)tramp_len; i++)
		dst[i] = tramp_start[i];
	volatile uint32_t *flag = (volatile uint32_t *)(uintptr_t)(TRAMPOLINE + (uintptr_t)tramp_flag_off);
	*flag = 0;

	lapic_write(LAPIC_SVR, 0x1ff);
	ipi(1, 0x4500);                      /* INIT, assert */
	ipi(1, 0x4600 | (TRAMPOLINE >> 12)); /* STARTUP, twice as the MP spec says */
	ipi(1, 0x4600 | (TRAMPOLINE >> 12));

	for (unsigned long i = 0; i < 50000000ul && !*flag; i++)
		cpu_relax();
	if (*flag != 1) {
		con_puts("FAIL: AP flag ");
		con_putu(*flag);
		con_putc('\n');
		guest_exit(0x51);
	}
	con_puts("AP started and ran the trampoline\n");
	con_puts("smp: PASS\n");
	guest_exit(0x2a);
}
