/* emulfail: a 32-bit PVH guest that loads an x87 value from MMIO (fldl from the test device's
 * window, or from nothing). The access exits to KVM's instruction emulator, which has no x87
 * loads: KVM reports an emulation failure (KVM_EXIT_INTERNAL_ERROR), and the monitor must stop
 * with exit status 4 and say so. Reaching the line after the load exits 0x7e. */
#include "lib/guest.h"

void gmain(uint32_t eax, uint32_t ebx)
{
	con_puts("emulfail: x87 load from MMIO\n");
	__asm__ volatile("fninit; fldl 0xfeb00008" ::: "memory");
	con_puts("emulfail: FAIL: the load was emulated\n");
	guest_exit(0x7e);
}
