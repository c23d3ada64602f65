/* hlt: a 64-bit PVH guest that arms the local APIC timer (one-shot), then halts with
 * `sti; hlt` until the timer interrupt wakes it, three times. Proves: the in-kernel LAPIC
 * and its timer, interrupt delivery through the guest's own IDT, and that a halted vCPU is
 * woken by an interrupt (the sti/hlt pair is atomic, so the wake-up cannot be missed: the
 * test is deterministic). Exits 0x2b on success; 0x60 if the APIC is disabled, 0x61 for an
 * unexpected vector, 0x62 if the timer did not run down. */
#include "lib/guest.h"
#include "lib/lapic.h"

#define TIMER_VECTOR 0x40
#define ROUNDS 3

volatile uint32_t ticks;
volatile uint32_t bad_vector;

/* Interrupt stubs: the timer counts and EOIs; every other vector stops the guest. */
__asm__(".text\n"
	"timer_isr:\n"
	"	push %rax\n"
	"	incl ticks(%rip)\n"
	"	mov $0xfee000b0, %eax\n"
	"	movl $0, (%rax)\n"
	"	pop %rax\n"
	"	iretq\n"
	"other_isr:\n"
	"	mov $0x61, %edi\n"
	"	jmp guest_exit\n");
void timer_isr(void);
void other_isr(void);

struct __attribute__((packed)) idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};
static struct idt_gate idt[256] __attribute__((aligned(16)));

static void set_gate(int v, void (*fn)(void))
{
	uintptr_t a = (uintptr_t)fn;
	idt[v] = (struct idt_gate){ .off0 = (uint16_t)a, .sel = 0x08, .type = 0x8e,
				    .off1 = (uint16_t)(a >> 16), .off2 = (uint32_t)(a >> 32) };
}

void gmain(uint32_t eax, uint32_t ebx)
{
	con_puts("hello from hlt guest\n");
	uint64_t base = rdmsr(0x1b);
	if (!(base & (1u << 11)) || (base & ~0xfffull) != LAPIC_BASE) {
		con_puts("FAIL: local APIC disabled or moved\n");
		guest_exit(0x60);
	}
	for (int v = 0; v < 256; v++)
		set_gate(v, other_isr);
	set_gate(TIMER_VECTOR, timer_isr);
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = { sizeof(idt) - 1, (uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(idtr));

	lapic_write(LAPIC_SVR, 0x1ff); /* APIC software-enabled, spurious vector 0xff */
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_TIMER_DIV, 0xb); /* divide by 1 */
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR); /* one-shot, unmasked */

	for (uint32_t round = 1; round <= ROUNDS; round++) {
		uint32_t t0 = ticks;
		lapic_write(LAPIC_TIMER_INIT, 1000000);
		while (ticks == t0)
			__asm__ volatile("sti; hlt; cli" ::: "memory");
		if (lapic_read(LAPIC_TIMER_CUR) != 0) {
			con_puts("FAIL: woke before the timer ran down\n");
			guest_exit(0x62);
		}
		con_puts("woke from hlt by timer interrupt ");
		con_putu(round);
		con_putc('\n');
	}
	con_puts("hlt: PASS\n");
	guest_exit(0x2b);
}
