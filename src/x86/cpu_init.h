/* cpu_init.h: architectural start state of an x86 vCPU (MSRs, FPU, LAPIC LVTs, and the
 * registers a boot protocol's entry point wants). */
#ifndef TV_CPU_INIT_H
#define TV_CPU_INIT_H

#include <linux/kvm.h>

#include "x86/boot.h"

/* Fill sregs/regs for entering at e (starting from the vCPU's current sregs). Pure. */
void cpu_entry_state(const struct boot_entry *e, struct kvm_sregs *sregs, struct kvm_regs *regs);

/* Set MSRs (those in KVM's index list), FPU control words, and LAPIC LINT0=ExtINT, LINT1=NMI.
 * Returns 0 or -errno. */
int cpu_init_msrs_fpu_lapic(int kvm_fd, int vcpu_fd);

#endif
