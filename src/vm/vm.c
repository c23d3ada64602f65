/* vm.c: building, running and tearing down one VM. */
#include "vm/vm.h"

#include <cpuid.h>
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "util/file.h"
#include "util/log.h"
#include "util/thread.h"
#include "vm/coalesced.h"
#include "vm/console.h"
#include "vm/device.h"
#include "vm/kvm.h"
#include "vm/loop.h"
#include "vm/vcpu.h"
#include "x86/acpi.h"
#include "x86/bios.h"
#include "x86/boot.h"
#include "x86/cpuid.h"
#include "x86/platform.h"
#include "x86/smbios.h"

#define KVM_TSS_ADDR 0xfffbd000UL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL

extern const struct device_desc __start_tv_devices[] __attribute__((weak));
extern const struct device_desc __stop_tv_devices[] __attribute__((weak));

static int create_memory(struct vm *vm, struct err *e)
{
	int ret = gmem_init(&vm->mem, vm->cfg.mem_size, 0);

	if (ret)
		return errf(e, ret, "cannot allocate %llu MiB of guest memory: %s",
			    (unsigned long long)(vm->cfg.mem_size >> 20), strerror(-ret));
	if (vm->cfg.firmware == FIRMWARE_BIOS)
		return bios_map(vm, e);
	for (unsigned i = 0; i < vm->mem.nregions; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = vm->mem.r[i].gpa,
			.memory_size = vm->mem.r[i].size,
			.userspace_addr = (uintptr_t)vm->mem.r[i].hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return errf(e, -errno, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	}
	return 0;
}

static int create_irqchip(struct vm *vm, struct err *e)
{
	struct kvm_pit_config pit = {.flags = 0};
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		return errf(e, -errno, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return errf(e, -errno, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return errf(e, -errno, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return errf(e, -errno, "KVM_CREATE_PIT2: %s", strerror(errno));
	return 0;
}

static int create_devices(struct vm *vm, struct err *e)
{
	for (int phase = DEV_PHASE_CORE; phase <= DEV_PHASE_LATE; phase++) {
		for (const struct device_desc *d = __start_tv_devices; d && d < __stop_tv_devices;
		     d++) {
			int ret;

			if ((int)d->phase != phase)
				continue;
			vm->dev_err.msg[0] = 0;
			ret = d->init(vm);
			if (ret && vm->dev_err.msg[0]) /* the device's own line (devif_err) */
				return errf(e, ret, "%s", vm->dev_err.msg);
			if (ret)
				return errf(e, ret, "cannot create device %s: %s", d->name,
					    strerror(-ret));
		}
	}
	return 0;
}

struct guest_files {
	uint8_t *kernel, *initrd;
	size_t klen, ilen;
};

/* The kernel and initrd are read on a helper thread while this one builds the VM (KVM, guest
 * memory, devices): the two overlap instead of adding up at start-up. */
struct file_reader {
	pthread_t thread;
	bool started;
	const struct vm_config *cfg;
	struct guest_files files;
	struct err err;
	int ret;
};

static void *file_reader_main(void *arg)
{
	struct file_reader *r = arg;
	const struct vm_config *c = r->cfg;
	struct guest_files *f = &r->files;

	r->ret = file_read_all(c->kernel, "kernel", c->mem_size, &f->kernel, &f->klen, &r->err);
	if (!r->ret && c->initrd)
		r->ret = file_read_all(c->initrd, "initrd", c->mem_size, &f->initrd, &f->ilen,
				       &r->err);
	return NULL;
}

/* Start reading the guest's files: the firmware at once (BIOS boot), the kernel and initrd on
 * the helper thread (or here, when no thread can be started). */
static int file_reader_start(struct vm *vm, struct file_reader *r, struct err *e)
{
	r->cfg = &vm->cfg;
	if (vm->cfg.firmware == FIRMWARE_BIOS)
		return bios_open(vm, e);
	if (thread_start(&r->thread, file_reader_main, r) == 0)
		r->started = true;
	else
		file_reader_main(r);
	return 0;
}

/* Wait for the reader. Returns 0, or its error (in *e) when a file could not be read. */
static int file_reader_join(struct file_reader *r, struct err *e)
{
	if (r->started) {
		pthread_join(r->thread, NULL);
		r->started = false;
	}
	if (r->ret)
		*e = r->err;
	return r->ret;
}

/* SMBIOS for direct boot: the entry point at PLAT_SMBIOS_ADDR (Linux's legacy scan of the F
 * segment finds it), the tables after it; the ACPI tables end below it. */
static int load_smbios(struct vm *vm, long acpi_used, struct err *e)
{
	struct smbios_config sc = {.ncpus = vm->ncpus, .low_ram = vm->mem.r[0].size,
		.high_ram = vm->mem.nregions > 1 ? vm->mem.r[1].size : 0, .bios_version = "direct"};
	uint64_t tables = PLAT_SMBIOS_ADDR + 32, room = 0x100000 - tables;
	uint8_t *anchor = gmem_ptr(&vm->mem, PLAT_SMBIOS_ADDR, SMBIOS_ANCHOR_LEN);
	uint8_t *buf = gmem_ptr(&vm->mem, tables, room);

	if (PLAT_ACPI_ADDR + (uint64_t)acpi_used > PLAT_SMBIOS_ADDR || !anchor || !buf)
		return errf(e, -ENOSPC, "no room for the SMBIOS tables");
	if (smbios_build(&sc, buf, room, (uint32_t)tables, anchor) < 0)
		return errf(e, -ENOSPC, "SMBIOS tables do not fit below 1 MiB");
	return 0;
}

/* Write the ACPI tables, kernel, initrd and command line into guest memory; fill *entry. */
static int load_guest(struct vm *vm, const struct guest_files *f, struct boot_entry *entry,
		      struct err *e)
{
	struct acpi_config ac = {.ncpus = vm->ncpus,
				 .pci64_base = plat_pci_mmio64_base(vm->cfg.mem_size),
				 .pci64_size = PLAT_PCI_MMIO64_SIZE,
				 .nmmio = vm->nvmmio};
	struct boot_config bc = {
		.kernel = f->kernel, .kernel_len = f->klen, .initrd = f->initrd,
		.initrd_len = f->ilen, .cmdline = vm->cfg.cmdline ? vm->cfg.cmdline : "",
		.rsdp_gpa = PLAT_ACPI_ADDR};
	void *acpi = gmem_ptr(&vm->mem, PLAT_ACPI_ADDR, PLAT_ACPI_MAX);
	struct err inner;
	long used;
	int ret;

	if (!acpi)
		return errf(e, -EINVAL, "guest memory too small for the ACPI tables");
	for (unsigned i = 0; i < vm->nvmmio && i < ACPI_MAX_MMIO_DEVS; i++)
		ac.mmio[i] = (struct acpi_mmio_dev){vm->vmmio[i].base, vm->vmmio[i].gsi};
	used = acpi_build(acpi, PLAT_ACPI_MAX, PLAT_ACPI_ADDR, &ac, e);
	if (used < 0)
		return (int)used;
	ret = load_smbios(vm, used, e);
	if (ret)
		return ret;
	ret = boot_load(&vm->mem, &bc, entry, &inner);
	if (ret)
		return errf(e, ret, "kernel '%s': %s", vm->cfg.kernel, inner.msg);
	return 0;
}

/* The host's processor brand string (leaves 0x80000002-4), or false when it has none. */
static bool host_brand(char brand[48])
{
	unsigned a, b, c, d;

	if (__get_cpuid_max(0x80000000, NULL) < 0x80000004)
		return false;
	for (unsigned leaf = 0; leaf < 3; leaf++) {
		__cpuid(0x80000002 + leaf, a, b, c, d);
		memcpy(brand + 16 * leaf, (unsigned[4]){a, b, c, d}, 16);
	}
	return true;
}

static int create_vcpus(struct vm *vm, const struct boot_entry *entry, struct err *e)
{
	struct cpuid_table *sup = calloc(1, sizeof(*sup));
	struct kvm_cpuid_entry2 *leaf1;
	char brand[48];
	int ret = 0;

	if (!sup)
		return errf(e, -ENOMEM, "out of memory");
	sup->hdr.nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, &sup->hdr) < 0) {
		ret = errf(e, -errno, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		goto free_sup;
	}
	/* KVM's in-kernel LAPIC emulates the TSC-deadline timer but leaves it out of the table; a
	 * guest without it arms a one-shot count in TMICT instead (QEMU and Cloud Hypervisor set
	 * the bit too) */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0 &&
	    (leaf1 = cpuid_find(sup, 1, 0)))
		leaf1->ecx |= CPUID_1_ECX_TSC_DEADLINE;
	if (host_brand(brand) && (ret = cpuid_set_brand(sup, brand))) {
		ret = errf(e, ret, "no room in the CPUID table for the brand string");
		goto free_sup;
	}
	vm->vcpus = calloc(vm->cfg.ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		ret = errf(e, -ENOMEM, "out of memory");
		goto free_sup;
	}
	for (unsigned i = 0; i < vm->cfg.ncpus; i++) {
		ret = vcpu_create(vm, &vm->vcpus[i], i, &sup->hdr, entry, e);
		if (ret)
			goto free_sup;
		vm->ncpus_created = i + 1;
	}
	coalesced_attach(vm);
free_sup:
	free(sup);
	return ret;
}

/* Block the stop signals in this thread and every thread it starts (before the terminal goes
 * raw, so no signal can kill the process with the terminal left raw); the event loop reads
 * SIGINT/SIGTERM/SIGHUP from a signalfd. SIGUSR1 only kicks vCPU threads. */
static int block_signals(struct vm *vm, struct err *e)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN); /* a reader that goes away ends console output (EPIPE) */
	signal(SIGXFSZ, SIG_IGN); /* a file-size limit fails the write (EFBIG), not the VM */
	sigdelset(&set, SIGUSR1);
	vm->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->sigfd < 0)
		return errf(e, -errno, "signalfd: %s", strerror(errno));
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, struct err *e)
{
	struct file_reader rd = {0};
	struct boot_entry entry;
	int max, ret;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->ncpus = cfg->ncpus;
	vm->kvm_fd = vm->vm_fd = vm->sigfd = -1;
	vm->mem.memfd = -1;
	vm->pio.name = "pio";
	vm->mmio.name = "mmio";
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->coalesced_lock, NULL);
	pthread_mutex_init(&vm->irq_lock, NULL);
	lifecycle_init(vm);

	if (cfg->stats && !(vm->port_exits = calloc(65536, sizeof(*vm->port_exits)))) {
		ret = errf(e, -ENOMEM, "out of memory");
		goto free_files;
	}
	/* before any thread starts, so every thread inherits the blocked stop signals */
	ret = block_signals(vm, e);
	if (!ret)
		ret = file_reader_start(vm, &rd, e);
	if (ret)
		goto free_files;
	vm->kvm_fd = ret = kvm_open_checked("/dev/kvm", e);
	if (ret < 0)
		goto free_files;
	max = kvm_max_vcpus(vm->kvm_fd);
	if ((int)cfg->ncpus > max) {
		ret = errf(e, -EINVAL, "--cpus %u is beyond this host's KVM limit of %d vCPUs",
			   cfg->ncpus, max);
		goto free_files;
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0) {
		ret = errf(e, -errno, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto free_files;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = errf(e, -errno, "cannot create a VM (KVM_CREATE_VM): %s", strerror(errno));
		goto free_files;
	}
	if ((ret = create_irqchip(vm, e)) || (ret = create_memory(vm, e)))
		goto free_files;
	ret = loop_create(&vm->loop);
	if (ret) {
		errf(e, ret, "cannot create the event loop: %s", strerror(-ret));
		goto free_files;
	}
	ret = console_open(vm, &vm->console);
	if (ret) {
		errf(e, ret, "cannot open console '%s': %s",
		     cfg->console_path ? cfg->console_path : "stdio", strerror(-ret));
		goto free_files;
	}
	ret = create_devices(vm, e);
	if (!ret && cfg->firmware == FIRMWARE_BIOS) {
		/* the vCPUs keep KVM's reset state: real mode at the reset vector */
		if (!(ret = bios_fw_cfg_fill(vm, e)))
			ret = create_vcpus(vm, NULL, e);
	} else if (!ret && !(ret = file_reader_join(&rd, e)) &&
		   !(ret = load_guest(vm, &rd.files, &entry, e))) {
		ret = create_vcpus(vm, &entry, e);
	}
free_files:
	/* a file that cannot be read is the error to report, whatever else failed meanwhile */
	if (file_reader_join(&rd, e))
		ret = rd.ret;
	free(rd.files.kernel);
	free(rd.files.initrd);
	return ret;
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_reason == VM_RUNNING) {
		vm->stop_reason = why;
		vm->stop_status = status;
	}
	pthread_mutex_unlock(&vm->stop_lock);
	if (why == VM_STOP_QUIT)
		atomic_store(&vm->quit, true);
	atomic_store(&vm->stopping, true);
	lifecycle_wake(vm); /* parked vCPUs see the stop */
	for (unsigned i = 0; i < vm->ncpus_created; i++)
		vcpu_kick(&vm->vcpus[i]);
}

int vm_set_irq(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level irq = {.irq = gsi, .level = (uint32_t)level};

	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}

int vm_add_device(struct vm *vm, const char *name, void *state, void (*destroy)(void *))
{
	struct vm_device *d = realloc(vm->devices, (vm->ndevices + 1) * sizeof(*d));

	if (!d)
		return -ENOMEM;
	vm->devices = d;
	d[vm->ndevices++] = (struct vm_device){name, state, destroy};
	return 0;
}

int vm_exit_status(enum vm_stop_reason why, int testdev_status)
{
	switch (why) {
	case VM_STOP_POWEROFF:
	case VM_STOP_API_SHUTDOWN:
		return 0;
	case VM_STOP_REBOOT:
		return 2;
	case VM_STOP_TRIPLE_FAULT:
		return 3;
	case VM_STOP_INTERNAL:
		return 4;
	case VM_STOP_HOST_ERROR:
	case VM_RUNNING:
		return 5;
	case VM_STOP_QUIT:
		return 130;
	case VM_STOP_TESTDEV:
		return testdev_status & 0xff;
	}
	return 5;
}

/* SIGINT, SIGTERM and SIGHUP arrive on a signalfd in the event loop and stop the VM. */
static void on_signal(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	if (read(vm->sigfd, &si, sizeof(si)) == sizeof(si))
		vm_request_stop(vm, VM_STOP_QUIT, 0);
}

const char *vm_stat_name(enum vm_stat s)
{
	static const char *const names[STAT_COUNT] = {
		"io", "mmio", "hlt", "shutdown", "system_event", "intr", "other",
		"io_unclaimed", "mmio_unclaimed"};

	return (unsigned)s < STAT_COUNT ? names[s] : "unknown";
}

static void print_stats(struct vm *vm)
{
	char line[512];
	size_t used = 0;

	for (int i = 0; i < STAT_COUNT; i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s=%llu",
					 i ? " " : "", vm_stat_name((enum vm_stat)i), atomic_load(&vm->stats[i]));
	log_info("exits: %s", line);
	/* an absolute time, so that a script that noted when it started us knows our start-up */
	log_info("first KVM_RUN at CLOCK_MONOTONIC %lld.%06ld s", (long long)vm->first_run.tv_sec,
		 vm->first_run.tv_nsec / 1000);
	if (!vm->port_exits)
		return;
	/* the busiest ports, most exits first */
	used = 0;
	for (int n = 0; n < 8; n++) {
		unsigned best = 0, hits = 0;

		for (unsigned p = 0; p < 65536; p++) {
			unsigned h = atomic_load(&vm->port_exits[p]);

			if (h > hits) {
				hits = h;
				best = p;
			}
		}
		if (!hits)
			break;
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%#x=%u", n ? " " : "",
					 best, hits);
		atomic_store(&vm->port_exits[best], 0);
	}
	if (used)
		log_info("busiest ports: %s", line);
}

int vm_run(struct vm *vm)
{
	int ret;

	if (loop_add(vm->loop, vm->sigfd, EPOLLIN, on_signal, vm) < 0) {
		log_err("cannot watch signals: %s", strerror(errno));
		return 5;
	}
	ret = loop_start(vm->loop);
	if (ret) {
		log_err("cannot start the event loop: %s", strerror(-ret));
		return 5;
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		ret = vcpu_start(&vm->vcpus[i]);
		if (ret) {
			log_err("cannot start vCPU %u: %s", i, strerror(-ret));
			vm_request_stop(vm, VM_STOP_HOST_ERROR, 0);
			break;
		}
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_join(&vm->vcpus[i]);
	if (vm->cfg.stats)
		print_stats(vm);
	return vm_exit_status(vm->stop_reason, vm->stop_status);
}

void vm_destroy(struct vm *vm)
{
	if (vm->ncpus_created)
		vm_request_stop(vm, VM_STOP_HOST_ERROR, 0);
	/* Join every vCPU before anything they use goes: vCPU 0's run area holds the coalesced
	 * ring that the others replay, and they write to the console, which uses the loop.
	 * Kicks from the loop's callbacks meanwhile are harmless (a joined vCPU is unregistered). */
	for (unsigned i = 0; i < vm->ncpus_created; i++)
		vcpu_join(&vm->vcpus[i]);
	loop_destroy(vm->loop); /* joins the loop thread: no callback runs after this */
	vm->loop = NULL;
	for (unsigned i = 0; i < vm->ncpus_created; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->ncpus_created = 0;
	if (vm->sigfd >= 0)
		close(vm->sigfd);
	vm->sigfd = -1;
	for (unsigned i = vm->ndevices; i-- > 0;)
		if (vm->devices[i].destroy)
			vm->devices[i].destroy(vm->devices[i].state);
	free(vm->devices);
	vm->devices = NULL;
	vm->ndevices = 0;
	console_close(vm->console);
	vm->console = NULL;
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	gmem_destroy(&vm->mem);
	free(vm->port_exits);
	vm->port_exits = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
	vm->coalesced_ring = NULL;
	vm_counters_free(vm);
	pthread_mutex_destroy(&vm->coalesced_lock);
	free(vm->irq_routes);
	vm->irq_routes = NULL;
	pthread_mutex_destroy(&vm->irq_lock);
	pthread_mutex_destroy(&vm->stop_lock);
	lifecycle_destroy(vm);
}
