/* irq.c: the KVM side of devif.h: the GSI routing table (MSI routes), irqfds, ioeventfds. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "vm/devif.h"
#include "vm/vm.h"

#define IRQCHIP_GSIS 24 /* IOAPIC pins; the first MSI GSI */
#define MAX_ROUTES 1024

/* KVM's default routes, which a KVM_SET_GSI_ROUTING replaces: GSI 0-15 to both PICs and the
 * IOAPIC, 16-23 to the IOAPIC. */
static struct kvm_irq_routing *routes_new(void)
{
	struct kvm_irq_routing *r =
		calloc(1, sizeof(*r) + MAX_ROUTES * sizeof(struct kvm_irq_routing_entry));

	if (!r)
		return NULL;
	for (unsigned gsi = 0; gsi < IRQCHIP_GSIS; gsi++) {
		if (gsi < 16)
			r->entries[r->nr++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = {.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
								 : KVM_IRQCHIP_PIC_SLAVE,
					      .pin = gsi % 8}};
		r->entries[r->nr++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = {.irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi}};
	}
	return r;
}

int devif_msi_alloc(struct vm *vm)
{
	struct kvm_irq_routing *r;
	unsigned gsi = IRQCHIP_GSIS;
	int ret;

	pthread_mutex_lock(&vm->irq_lock);
	if (!vm->irq_routes && !(vm->irq_routes = routes_new())) {
		ret = -ENOMEM;
		goto out;
	}
	r = vm->irq_routes;
	for (unsigned i = 0; i < r->nr; i++)
		if (r->entries[i].gsi >= gsi)
			gsi = r->entries[i].gsi + 1;
	if (r->nr == MAX_ROUTES) {
		ret = -ENOSPC;
		goto out;
	}
	r->entries[r->nr++] = (struct kvm_irq_routing_entry){.gsi = gsi,
							     .type = KVM_IRQ_ROUTING_MSI};
	ret = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0 ? -errno : (int)gsi;
	if (ret < 0)
		r->nr--;
out:
	pthread_mutex_unlock(&vm->irq_lock);
	return ret;
}

int devif_msi_route(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&vm->irq_lock);
	for (unsigned i = 0; vm->irq_routes && i < vm->irq_routes->nr; i++) {
		struct kvm_irq_routing_entry *e = &vm->irq_routes->entries[i];

		if (e->gsi != gsi || e->type != KVM_IRQ_ROUTING_MSI)
			continue;
		if (e->u.msi.address_lo == (uint32_t)addr &&
		    e->u.msi.address_hi == (uint32_t)(addr >> 32) && e->u.msi.data == data) {
			ret = 0;
			break;
		}
		e->u.msi.address_lo = (uint32_t)addr;
		e->u.msi.address_hi = (uint32_t)(addr >> 32);
		e->u.msi.data = data;
		ret = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, vm->irq_routes) < 0 ? -errno : 0;
		break;
	}
	pthread_mutex_unlock(&vm->irq_lock);
	return ret;
}

int devif_irqfd(struct vm *vm, int fd, unsigned gsi, bool assign)
{
	struct kvm_irqfd f = {.fd = (uint32_t)fd, .gsi = gsi,
			      .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN};

	return ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int devif_ioeventfd(struct vm *vm, int fd, uint64_t addr, unsigned len, bool pio,
		    bool datamatch, uint64_t data, bool assign)
{
	struct kvm_ioeventfd io = {.datamatch = data, .addr = addr, .len = len, .fd = fd};

	if (pio)
		io.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (datamatch)
		io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (!assign)
		io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
		return errno == ENOSYS || errno == EINVAL ? -ENOTSUP : -errno;
	return 0;
}

