/* triple: a 32-bit PVH guest that loads an IDT with limit 0 and executes ud2. The #UD
 * cannot be delivered (#GP), nor can that (#DF), so the CPU shuts down: the monitor must
 * report a triple fault (exit status 3). Reaching the line after ud2 exits 0x7f. */
#include "lib/guest.h"

void gmain(uint32_t eax, uint32_t ebx)
{
	static const struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} idt = { 0, 0 };

	con_puts("triple: faulting now\n");
	__asm__ volatile("lidt %0; ud2" ::"m"(idt));
	con_puts("triple: FAIL: survived ud2\n");
	guest_exit(0x7f);
}
