/* flood: a 64-bit PVH guest that writes numbered lines to COM1 for ever. Used to show that guest
 * output never blocks the monitor: a stalled or vanished reader of its console (a pipe nobody
 * reads, `| head -c N`) must not wedge the vCPU, stop Ctrl-A x or signals, or kill the monitor. */
#include "lib/guest.h"

void gmain(uint32_t eax, uint32_t start_info)
{
	for (unsigned long n = 0;; n++) {
		con_puts("flood line ");
		con_putu(n);
		con_puts(" ................................................\n");
	}
}
