#include "vm/coalesced.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vm/vcpu.h"
#include "vm/vm.h"

int coalesced_pio_add(struct vm *vm, uint16_t port, uint32_t len)
{
	struct kvm_coalesced_mmio_zone zone = {.addr = port, .size = len, .pio = 1};

	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0)
		return -ENOTSUP;
	if (ioctl(vm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) < 0)
		return -errno;
	vm->coalesced_zones++;
	return 0;
}

void coalesced_attach(struct vm *vm)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t off = (size_t)KVM_COALESCED_MMIO_PAGE_OFFSET * (size_t)page;

	if (vm->coalesced_zones && vm->ncpus_created &&
	    off + (size_t)page <= (size_t)vm->vcpu_mmap_size)
		vm->coalesced_ring = (struct kvm_coalesced_mmio_ring *)((char *)vm->vcpus[0].run + off);
}

void coalesced_flush(struct vm *vm)
{
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced_ring;
	const uint32_t max = (uint32_t)((sysconf(_SC_PAGESIZE) - sizeof(*ring)) /
					sizeof(struct kvm_coalesced_mmio));

	if (!ring || __atomic_load_n(&ring->first, __ATOMIC_ACQUIRE) ==
			     __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vm->coalesced_lock);
	while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		struct kvm_coalesced_mmio *w = &ring->coalesced_mmio[ring->first % max];
		uint32_t len = w->len <= sizeof(w->data) ? w->len : sizeof(w->data);

		if (w->pio)
			bus_access(&vm->pio, w->phys_addr, w->data, len, true);
		else
			bus_access(&vm->mmio, w->phys_addr, w->data, len, true);
		__atomic_store_n(&ring->first, (ring->first + 1) % max, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->coalesced_lock);
}
