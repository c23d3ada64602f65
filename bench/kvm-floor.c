/* bench/kvm-floor.c: the floor for port-I/O exit rate: a bare KVM_RUN loop with no device
 * model running the same guest loop as bench/pioloop.S (flat 32-bit code at 1 MiB). The VM has
 * the same KVM-side configuration as thinvisor's (in-kernel irqchip and PIT), so the difference
 * is the monitor's own work per exit.
 * usage: kvm-floor ITER   prints "exits=N seconds=S" and exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "x86/cpu_init.h"

#define MEM (2 << 20)
#define LOAD 0x100000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned iter = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 100000;
	/* mov $0x528,%dx; mov $iter,%ecx; 1: out %eax,%dx; dec %ecx; jnz 1b;
	 * mov $0x520,%dx; xor %eax,%eax; out %eax,%dx; hlt */
	uint8_t code[] = {0x66, 0xba, 0x18, 0x05, 0xb9, 0, 0, 0, 0, 0xef, 0x49, 0x75, 0xfc,
			  0x66, 0xba, 0x10, 0x05, 0x31, 0xc0, 0xef, 0xf4};
	struct boot_entry entry = {.mode = BOOT_MODE_PROT32, .rip = LOAD};
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	unsigned long exits = 0;
	double t0;
	int kvm, vm, vcpu, size;
	uint8_t *mem;
	struct kvm_run *run;

	memcpy(code + 5, &iter, 4);
	kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0) {
		perror("/dev/kvm");
		return 1;
	}
	t0 = now();
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memcpy(mem + LOAD, code, sizeof(code));
	struct kvm_userspace_memory_region r = {.slot = 0, .memory_size = MEM,
						.userspace_addr = (uintptr_t)mem};
	struct kvm_pit_config pit = {.flags = 0};
	if (vm < 0 || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0 ||
	    ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0 ||
	    ioctl(vm, KVM_CREATE_PIT2, &pit) < 0) {
		perror("vm setup");
		return 1;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	ioctl(vcpu, KVM_GET_SREGS, &sregs);
	cpu_entry_state(&entry, &sregs, &regs);
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
		perror("vcpu setup");
		return 1;
	}
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			perror("KVM_RUN");
			return 1;
		}
		exits++;
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0x520)
			break;
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
			return 1;
		}
	}
	printf("exits=%lu seconds=%.6f\n", exits, now() - t0);
	return 0;
}
