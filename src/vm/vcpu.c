#include "vm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "util/thread.h"
#include "vm/coalesced.h"
#include "vm/lifecycle.h"
#include "vm/vm.h"
#include "x86/cpu_init.h"
#include "x86/cpuid.h"

#define SIG_KICK SIGUSR1

int vcpu_create(struct vm *vm, struct vcpu *v, unsigned id, const struct kvm_cpuid2 *supported,
		const struct boot_entry *entry, struct err *e)
{
	struct cpuid_table *cpuid = NULL;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->kick_lock, NULL);
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		return errf(e, -errno, "cannot create vCPU %u: %s", id, strerror(errno));
	v->run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		ret = errf(e, -errno, "cannot map vCPU %u's run area: %s", id, strerror(errno));
		goto fail;
	}
	cpuid = malloc(sizeof(*cpuid));
	if (!cpuid) {
		ret = errf(e, -ENOMEM, "out of memory");
		goto fail;
	}
	ret = cpuid_build(supported, id, vm->ncpus, cpuid);
	if (ret) {
		errf(e, ret, "cannot build CPUID for vCPU %u", id);
		goto fail;
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, &cpuid->hdr) < 0) {
		ret = errf(e, -errno, "KVM_SET_CPUID2 on vCPU %u: %s", id, strerror(errno));
		goto fail;
	}
	ret = cpu_init_msrs_fpu_lapic(vm->kvm_fd, v->fd);
	if (ret) {
		errf(e, ret, "cannot set up MSRs/FPU/LAPIC of vCPU %u: %s", id, strerror(-ret));
		goto fail;
	}
	if (id == 0 && entry) { /* no entry: the firmware starts from the reset state */
		if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
			ret = errf(e, -errno, "KVM_GET_SREGS: %s", strerror(errno));
			goto fail;
		}
		cpu_entry_state(entry, &sregs, &regs);
		if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(v->fd, KVM_SET_REGS, &regs) < 0) {
			ret = errf(e, -errno, "cannot set the boot registers: %s", strerror(errno));
			goto fail;
		}
	}
	free(cpuid);
	return 0;

fail:
	free(cpuid);
	vcpu_destroy(v);
	return ret;
}

void vcpu_dump_regs(struct vcpu *v, char *buf, size_t len)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		snprintf(buf, len, "vCPU %u: registers unavailable: %s", v->id, strerror(errno));
		return;
	}
	snprintf(buf, len,
		 "vCPU %u: rip=%#llx rsp=%#llx rax=%#llx rbx=%#llx rcx=%#llx rdx=%#llx rsi=%#llx "
		 "rdi=%#llx rflags=%#llx cs=%#x(base %#llx) ss=%#x cr0=%#llx cr2=%#llx cr3=%#llx "
		 "cr4=%#llx efer=%#llx gdt=%#llx/%#x idt=%#llx/%#x",
		 v->id, r.rip, r.rsp, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rflags,
		 s.cs.selector, s.cs.base, s.ss.selector, s.cr0, s.cr2, s.cr3, s.cr4, s.efer,
		 s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
	/* AMD's KVM resets a vCPU when it reports a shutdown: where it faulted is lost */
	if (r.rip == 0xfff0 && s.cs.base == 0xffff0000 && !(s.cr0 & 1))
		snprintf(buf + strlen(buf), len - strlen(buf),
			 " (the power-on state: on AMD, KVM resets a vCPU that shut down, so where it faulted is lost)");
}

/* Stop the VM for a fatal reason with this vCPU's registers in the detail. */
static void fatal_stop(struct vcpu *v, enum vm_stop_reason why, const char *what)
{
	char regs[400];
	char detail[sizeof(v->vm->stop_detail)];

	vcpu_dump_regs(v, regs, sizeof(regs));
	snprintf(detail, sizeof(detail), "%s\n%s", what, regs);
	pthread_mutex_lock(&v->vm->stop_lock);
	if (v->vm->stop_reason == VM_RUNNING)
		snprintf(v->vm->stop_detail, sizeof(v->vm->stop_detail), "%s", detail);
	pthread_mutex_unlock(&v->vm->stop_lock);
	vm_request_stop(v->vm, why, 0);
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	if (v->vm->port_exits)
		atomic_fetch_add_explicit(&v->vm->port_exits[run->io.port], 1, memory_order_relaxed);

	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		if (bus_access(&v->vm->pio, run->io.port, data, run->io.size, out) == -ENOENT)
			vm_stat_inc(v->vm, STAT_IO_UNCLAIMED);
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (bus_access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
		       run->mmio.is_write) == -ENOENT)
		vm_stat_inc(v->vm, STAT_MMIO_UNCLAIMED);
}

static void handle_system_event(struct vcpu *v)
{
	char what[80];

	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(v->vm, VM_STOP_POWEROFF, 0);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(v->vm, VM_STOP_REBOOT, 0);
		break;
	default:
		snprintf(what, sizeof(what), "guest crash event (KVM_EXIT_SYSTEM_EVENT type %u)",
			 v->run->system_event.type);
		fatal_stop(v, VM_STOP_INTERNAL, what);
	}
}

/* One exit; returns false when the loop must end. */
static bool handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char what[160];

	coalesced_flush(v->vm); /* writes the guest made before this exit come first */
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vm_stat_inc(v->vm, STAT_EXIT_IO);
		handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		vm_stat_inc(v->vm, STAT_EXIT_MMIO);
		handle_mmio(v);
		return true;
	case KVM_EXIT_HLT:
		vm_stat_inc(v->vm, STAT_EXIT_HLT);
		return true;
	case KVM_EXIT_INTR:
		vm_stat_inc(v->vm, STAT_EXIT_INTR);
		return true;
	case KVM_EXIT_SHUTDOWN:
		vm_stat_inc(v->vm, STAT_EXIT_SHUTDOWN);
		fatal_stop(v, VM_STOP_TRIPLE_FAULT, "triple fault (KVM_EXIT_SHUTDOWN)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vm_stat_inc(v->vm, STAT_EXIT_SYSTEM_EVENT);
		handle_system_event(v);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error (suberror %u%s)",
			 run->internal.suberror,
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? ": emulation failure"
										  : "");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed (hardware reason %#llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u", run->exit_reason);
		break;
	}
	vm_stat_inc(v->vm, STAT_EXIT_OTHER);
	fatal_stop(v, VM_STOP_INTERNAL, what);
	return false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* From here on a kick signals this thread; one that came earlier left immediate_exit set. */
	pthread_mutex_lock(&v->kick_lock);
	v->self = pthread_self();
	v->running = true;
	pthread_mutex_unlock(&v->kick_lock);
	if (pthread_getcpuclockid(pthread_self(), &v->cpu_clock) == 0)
		atomic_store(&v->has_cpu_clock, true);
	if (v->id == 0) /* read after the join, by --stats */
		clock_gettime(CLOCK_MONOTONIC, &v->vm->first_run);

	while (!atomic_load(&v->vm->stopping)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				/* A safe point: the last exit is handled and, KVM_RUN having run
				 * with immediate_exit, completed in the kernel. */
				lifecycle_park_point(v);
				continue;
			}
			char what[96];

			snprintf(what, sizeof(what), "KVM_RUN failed: %s", strerror(errno));
			fatal_stop(v, VM_STOP_HOST_ERROR, what);
			break;
		}
		if (!handle_exit(v))
			break;
	}
	pthread_mutex_lock(&v->kick_lock);
	v->running = false;
	pthread_mutex_unlock(&v->kick_lock);
	return NULL;
}

unsigned long long vcpu_cpu_ns(struct vcpu *v)
{
	struct timespec ts;

	/* The clock names the thread's id: after the thread ends it reads EINVAL, never junk. */
	if (!atomic_load(&v->has_cpu_clock) || clock_gettime(v->cpu_clock, &ts) < 0)
		return 0;
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_start(struct vcpu *v)
{
	struct sigaction sa = {.sa_handler = kick_handler}; /* no SA_RESTART: KVM_RUN -> EINTR */
	int ret;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_KICK, &sa, NULL) < 0)
		return -errno;
	ret = thread_start(&v->thread, vcpu_thread, v);
	if (ret)
		return ret;
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	pthread_mutex_lock(&v->kick_lock);
	if (v->run)
		v->run->immediate_exit = 1;
	if (v->running)
		pthread_kill(v->self, SIG_KICK);
	pthread_mutex_unlock(&v->kick_lock);
}

void vcpu_join(struct vcpu *v)
{
	if (v->started) {
		pthread_join(v->thread, NULL);
		v->started = false;
	}
}

void vcpu_destroy(struct vcpu *v)
{
	vcpu_join(v);
	if (v->run)
		munmap(v->run, (size_t)v->vm->vcpu_mmap_size);
	v->run = NULL;
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	pthread_mutex_destroy(&v->kick_lock);
}
