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
	return 0;
}

void coalesced_attach(struct vm *vm)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t off = (size_t)KVM_COALESCED_MMIO_PAGE_OFFSET * page;

	/* KVM maps the ring whenever it has coalesced MMIO; with no zone it stays empty */
	if (!vm->ncpus_created || off + page > (size_t)vm->vcpu_mmap_size)
		return;
	vm->coalesced_ring = (struct kvm_coalesced_mmio_ring *)((char *)vm->vcpus[0].run + off);
	vm->coalesced_max = (uint32_t)((page - sizeof(*vm->coalesced_ring)) /
				       sizeof(struct kvm_coalesced_mmio));
}

void coalesced_flush(struct vm *vm)
{
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced_ring;

	if (!ring || __atomic_load_n(&ring->first, __ATOMIC_ACQUIRE) ==
			     __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vm->coalesced_lock);
	while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		struct kvm_coalesced_mmio *w = &ring->coalesced_mmio[ring->first];
		uint32_t len = w->len <= sizeof(w->data) ? w->len : sizeof(w->data);

		bus_access(w->pio ? &vm->pio : &vm->mmio, w->phys_addr, w->data, len, true);
		__atomic_store_n(&ring->first, (ring->first + 1) % vm->coalesced_max, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->coalesced_lock);
}
