/* guest.h: what every test guest can use: the COM1 console, the thinvisor test device
 * (--testdev), and a stop that never returns. */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdint.h>

#include "io.h"

#define COM1 0x3f8
#ifndef TESTDEV_EXIT /* overridable only to try the guests under QEMU (isa-debug-exit) */
#define TESTDEV_EXIT 0x520     /* dword write v: the monitor exits with status v & 0xff */
#endif
#define TESTDEV_MAGIC 0x524    /* dword read: TESTDEV_MAGIC_VALUE */
#define TESTDEV_COUNTER 0x528  /* write: count += 1; read: count */
#define TESTDEV_MAGIC_VALUE 0x54564453u
#define TESTDEV_MMIO 0xfeb00000u
#define TESTDEV_MMIO_MAGIC 0x00 /* dword read: TESTDEV_MMIO_MAGIC_VALUE */
#define TESTDEV_MMIO_SCRATCH 0x08
#define TESTDEV_MMIO_WRITES 0x10
#define TESTDEV_MMIO_MAGIC_VALUE 0x746d6d69u

/* The entry stub calls this; it must not return (it ends with guest_exit). */
void gmain(uint32_t eax, uint32_t ebx);

void con_putc(char c);
void con_puts(const char *s);           /* as is, no newline added */
void con_putu(unsigned long v);         /* decimal */
void con_putx(unsigned long v);         /* 0x-prefixed hex */
/* Exit through the test device with status code; if that does not stop the guest (no
 * --testdev), print a line saying so and triple-fault (monitor exit status 3). */
__attribute__((noreturn)) void guest_exit(uint32_t code);
__attribute__((noreturn)) void halt_forever(void);

#endif
