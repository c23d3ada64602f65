/* coalesced.h: KVM's coalesced port I/O. Writes to a registered port range do not exit: KVM
 * appends them to a ring shared with the monitor, which replays them, in order, on the buses
 * before it handles the next exit of any vCPU. For ports whose writes have no immediate side
 * effect the guest could observe before its next exit (the PCI CONFIG_ADDRESS latch). */
#ifndef TV_COALESCED_H
#define TV_COALESCED_H

#include <stdint.h>

struct vm;

/* Coalesce guest writes to ports [port, port + len). Returns 0, -ENOTSUP when KVM lacks
 * KVM_CAP_COALESCED_PIO (writes then simply exit as usual), or -errno. */
int coalesced_pio_add(struct vm *vm, uint16_t port, uint32_t len);

/* Find the ring in vCPU 0's run area; call once vCPU 0 exists. */
void coalesced_attach(struct vm *vm);

/* Replay every pending coalesced write on the buses (any vCPU thread; serialized). */
void coalesced_flush(struct vm *vm);

#endif
