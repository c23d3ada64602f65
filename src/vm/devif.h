/* devif.h: the narrow interface a device sees instead of all of vm/vm.h. A device gets a
 * `struct vm *` (opaque here) in its init and reaches the machine only through these calls:
 * bus ranges, interrupt lines, MSI routes and irqfds, ioeventfds, the event loop, guest
 * memory (through the one checked accessor, mem/gmem.h), its configuration, a stop request.
 * Everything here may be called from the device's init; the calls marked "any thread" also
 * while the vCPUs run. */
#ifndef TV_DEVIF_H
#define TV_DEVIF_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/gmem.h"
#include "util/err.h"
#include "vm/bus.h"
#include "vm/device.h"

struct vm;
struct vm_config;
struct loop;
struct console;
struct pci_host;

/* Why a device stops the VM (a subset of vm.h's reasons, same values). */
enum devif_stop { DEVIF_STOP_POWEROFF = 1, DEVIF_STOP_REBOOT = 2, DEVIF_STOP_HOST_ERROR = 7 };

/* The VM's guest RAM; use gmem_ptr on it for every guest address. Any thread. */
const struct gmem *devif_mem(struct vm *vm);

/* The validated configuration the VM was built from. Any thread. */
const struct vm_config *devif_config(struct vm *vm);

/* The VM's event-loop thread (loop.h), and its console and PCI host (NULL when absent). */
struct loop *devif_loop(struct vm *vm);
struct console *devif_console(struct vm *vm);
struct pci_host *devif_pci(struct vm *vm);

/* Make h the VM's PCI host, the one devif_pci returns; only the PCI host's own init
 * (DEV_PHASE_CORE, before the devices that plug into it) and its teardown call this. NULL
 * takes the host away. 0, or -EBUSY when another host is already set. Init only. */
int devif_set_pci(struct vm *vm, struct pci_host *h);

/* Claim a port-I/O or MMIO range (bus.h's bus_register). Init only. */
int devif_pio_register(struct vm *vm, uint64_t base, uint64_t len, const struct bus_ops *ops,
		       void *opaque, const char *name) __attribute__((warn_unused_result));
int devif_mmio_register(struct vm *vm, uint64_t base, uint64_t len, const struct bus_ops *ops,
			void *opaque, const char *name) __attribute__((warn_unused_result));

/* The port-I/O range that claims port (bus.h's bus_find), or NULL: how a device's own public
 * function finds its state from the VM (compare ->ops with the device's ops before using
 * ->opaque). Any thread once the devices exist (the tables no longer change). */
const struct bus_range *devif_pio_find(struct vm *vm, uint64_t port);

/* Let guest writes to ports [port, port + len) not exit: KVM queues them and a vCPU replays
 * them on the bus, in order, before it handles its next exit (vm/coalesced.h). Only for ports
 * whose writes have no side effect the guest could see before then. 0, -ENOTSUP when KVM lacks
 * KVM_CAP_COALESCED_PIO (the writes simply exit), or -errno. Init only. */
int devif_pio_coalesce(struct vm *vm, uint16_t port, uint32_t len);

/* Attach a device's state for teardown by vm_destroy (reverse order). -ENOMEM. Init only. */
int devif_add_device(struct vm *vm, const char *name, void *state, void (*destroy)(void *))
	__attribute__((warn_unused_result));

/* Where a failing init writes its one-line message (errf); vm_create prints it instead of the
 * generic "cannot create device" line. Init only. */
struct err *devif_err(struct vm *vm);

/* Drive interrupt line gsi of the in-kernel irqchip to level. 0 or -errno. Any thread. */
int devif_set_irq(struct vm *vm, unsigned gsi, int level);

/* Ask the VM to stop (the first reason wins). Any thread. */
void devif_request_stop(struct vm *vm, enum devif_stop why);

/* The test device (--testdev): ask the VM to stop so that the process exits with status
 * (vm.h's VM_STOP_TESTDEV; the first reason wins, as above). Any thread. */
void devif_request_exit(struct vm *vm, int status);

/* A new GSI routed as an MSI (address, data); KVM's GSI routing table is rewritten whole.
 * Returns the GSI (>= 24) or -errno. Init only. */
int devif_msi_alloc(struct vm *vm) __attribute__((warn_unused_result));

/* Point an allocated MSI GSI at (address, data). 0 or -errno. Any thread (serialized). */
int devif_msi_route(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data);

/* Signal an interrupt into gsi whenever eventfd fd is written (KVM_IRQFD); assign false
 * removes it. 0 or -errno. */
int devif_irqfd(struct vm *vm, int fd, unsigned gsi, bool assign);

/* Have guest writes of len bytes (0 = any length, MMIO only) at addr signal eventfd fd
 * instead of exiting (KVM_IOEVENTFD); with datamatch only writes of value data do. pio
 * selects port I/O. assign false removes it. 0 or -errno (-ENOTSUP: the caller falls back to
 * its bus handler). */
int devif_ioeventfd(struct vm *vm, int fd, uint64_t addr, unsigned len, bool pio,
		    bool datamatch, uint64_t data, bool assign);

/* Accesses to ports no range claims go to miss(opaque, ...) first (bus.h's bus_set_miss): how
 * a PCI function decodes a programmable I/O BAR. One per VM; -EBUSY. Init only. */
int devif_pio_set_miss(struct vm *vm,
		       bool (*miss)(void *opaque, uint64_t port, uint8_t *data, unsigned len,
				    bool is_write),
		       void *opaque) __attribute__((warn_unused_result));

/* Take the next virtio-mmio slot: its base (PLAT_VIRTIO_MMIO_BASE + i * stride) and GSI,
 * described to the guest in the DSDT (LNRO0005). 0 or -ENOSPC. Init only. */
int devif_virtio_mmio_slot(struct vm *vm, uint64_t *base, unsigned *gsi)
	__attribute__((warn_unused_result));

#endif
