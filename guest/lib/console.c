/* console.c: polled output on the COM1 16550 and the test-device exit. */
#include "guest.h"

#define LSR 5
#define LSR_THRE 0x20

void con_putc(char c)
{
	/* Bounded wait: a UART that never reports THRE must not hang the guest. */
	for (int i = 0; i < 100000 && !(inb(COM1 + LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1, (uint8_t)c);
}

void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

void con_putu(unsigned long v)
{
	char buf[24];
	int i = 0;
	do {
		buf[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		con_putc(buf[--i]);
}

void con_putx(unsigned long v)
{
	int shift = (int)sizeof(v) * 8 - 4;
	con_puts("0x");
	while (shift > 0 && !((v >> shift) & 0xf))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		con_putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_exit(uint32_t code)
{
	static const uint8_t zero_idtr[10];

	outl(TESTDEV_EXIT, code);
	/* Still running: no test device (or a broken one). Say so, then stop the VM at once
	 * with a triple fault rather than halting until the test's timeout. */
	con_puts("guest_exit: the test device did not stop the VM\n");
	__asm__ volatile("cli; lidt %0; ud2" ::"m"(zero_idtr));
	halt_forever();
}
