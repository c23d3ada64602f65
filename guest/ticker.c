/* ticker: a 64-bit PVH guest that prints "tick N us=T" every 10 ms for ever, T being the
 * ACPI PM timer in microseconds since the guest started. Between ticks it halts (LAPIC
 * timer, periodic), so it costs the host little. Used by the API tests: a pause stops the
 * lines, a gap in T between lines shows how long the vCPU could not run. Each tick it also
 * polls PM1_STS: when the power button was pressed (vm.power-button) it prints "power button"
 * and powers off through ACPI S5, as an ACPI guest would. */
#include "lib/guest.h"
#include "lib/lapic.h"

#define TIMER_VECTOR 0x40
#define PM1_STS 0x600
#define PM1_CNT 0x604
#define PM_TMR 0x608
#define PWRBTN_STS (1u << 8)
#define S5 ((5u << 10) | (1u << 13)) /* SLP_TYP 5, SLP_EN */
#define PM_TMR_HZ 3579545u

volatile uint32_t ticks;

__asm__(".text\n"
	"ticker_isr:\n"
	"	push %rax\n"
	"	incl ticks(%rip)\n"
	"	mov $0xfee000b0, %eax\n"
	"	movl $0, (%rax)\n"
	"	pop %rax\n"
	"	iretq\n");
void ticker_isr(void);

struct __attribute__((packed)) idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};
static struct idt_gate idt[256] __attribute__((aligned(16)));

/* The PM timer is 24 bits wide (wraps every 4.7 s): extend it, read at least once a tick. */
static uint64_t pm_us(void)
{
	static uint32_t last;
	static uint64_t high;
	uint32_t t = inl(PM_TMR) & 0xffffff;

	if (t < last)
		high += 1u << 24;
	last = t;
	return (high + t) * 1000000u / PM_TMR_HZ;
}

void gmain(uint32_t eax, uint32_t ebx)
{
	uintptr_t a = (uintptr_t)ticker_isr;
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = {sizeof(idt) - 1, (uintptr_t)idt};
	uint64_t t0 = pm_us();

	idt[TIMER_VECTOR] = (struct idt_gate){.off0 = (uint16_t)a, .sel = 0x08, .type = 0x8e,
					      .off1 = (uint16_t)(a >> 16),
					      .off2 = (uint32_t)(a >> 32)};
	__asm__ volatile("lidt %0" ::"m"(idtr));
	lapic_write(LAPIC_SVR, 0x1ff);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_TIMER_DIV, 0xb);                      /* divide by 1 */
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR | (1u << 17)); /* periodic */
	lapic_write(LAPIC_TIMER_INIT, 10000000);                /* 10 ms at KVM's 1 GHz */
	con_puts("ticker: start\n");
	for (unsigned long n = 1;; n++) {
		uint32_t t = ticks;

		while (ticks == t)
			__asm__ volatile("sti; hlt; cli" ::: "memory");
		con_puts("tick ");
		con_putu(n);
		con_puts(" us=");
		con_putu(pm_us() - t0);
		con_putc('\n');
		if (inl(PM1_STS) & PWRBTN_STS) {
			outl(PM1_STS, PWRBTN_STS);
			con_puts("power button\n");
			outl(PM1_CNT, S5); /* 16-bit register; the dword write covers it */
			halt_forever();
		}
	}
}
