/* devif.c: the device-facing interface (devif.h) over struct vm; the KVM interrupt and
 * eventfd parts are in irq.c. */
#include "vm/devif.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm/coalesced.h"
#include "vm/vm.h"
#include "x86/platform.h"

_Static_assert((int)DEVIF_STOP_POWEROFF == (int)VM_STOP_POWEROFF, "stop reasons");
_Static_assert((int)DEVIF_STOP_REBOOT == (int)VM_STOP_REBOOT, "stop reasons");
_Static_assert((int)DEVIF_STOP_HOST_ERROR == (int)VM_STOP_HOST_ERROR, "stop reasons");


const struct gmem *devif_mem(struct vm *vm) { return &vm->mem; }
const struct vm_config *devif_config(struct vm *vm) { return &vm->cfg; }
struct loop *devif_loop(struct vm *vm) { return vm->loop; }
struct console *devif_console(struct vm *vm) { return vm->console; }
struct pci_host *devif_pci(struct vm *vm) { return vm->pci; }
struct err *devif_err(struct vm *vm) { return &vm->dev_err; }

int devif_set_pci(struct vm *vm, struct pci_host *h)
{
	if (h && vm->pci && vm->pci != h)
		return -EBUSY;
	vm->pci = h;
	return 0;
}

const struct bus_range *devif_pio_find(struct vm *vm, uint64_t port)
{
	return bus_find(&vm->pio, port);
}

int devif_pio_coalesce(struct vm *vm, uint16_t port, uint32_t len)
{
	return coalesced_pio_add(vm, port, len);
}

int devif_pio_register(struct vm *vm, uint64_t base, uint64_t len, const struct bus_ops *ops,
		       void *opaque, const char *name)
{
	return bus_register(&vm->pio, base, len, ops, opaque, name);
}

int devif_mmio_register(struct vm *vm, uint64_t base, uint64_t len, const struct bus_ops *ops,
			void *opaque, const char *name)
{
	return bus_register(&vm->mmio, base, len, ops, opaque, name);
}

int devif_add_device(struct vm *vm, const char *name, void *state, void (*destroy)(void *))
{
	return vm_add_device(vm, name, state, destroy);
}

int devif_set_irq(struct vm *vm, unsigned gsi, int level) { return vm_set_irq(vm, gsi, level); }

void devif_request_stop(struct vm *vm, enum devif_stop why)
{
	vm_request_stop(vm, (enum vm_stop_reason)why, 0);
}

void devif_request_exit(struct vm *vm, int status) { vm_request_stop(vm, VM_STOP_TESTDEV, status); }

int devif_pio_set_miss(struct vm *vm,
		       bool (*miss)(void *opaque, uint64_t port, uint8_t *data, unsigned len,
				    bool is_write),
		       void *opaque)
{
	return bus_set_miss(&vm->pio, miss, opaque);
}


int devif_virtio_mmio_slot(struct vm *vm, uint64_t *base, unsigned *gsi)
{
	unsigned i = vm->nvmmio;

	if (i >= PLAT_VIRTIO_MMIO_MAX || i >= sizeof(vm->vmmio) / sizeof(vm->vmmio[0]))
		return -ENOSPC;
	*base = PLAT_VIRTIO_MMIO_BASE + i * PLAT_VIRTIO_MMIO_STRIDE;
	*gsi = plat_virtio_mmio_gsi(i);
	vm->vmmio[i] = (struct vm_mmio_dev){*base, *gsi};
	vm->nvmmio++;
	return 0;
}
