/* vcpu.h: one thread per vCPU running KVM_RUN and dispatching exits to the buses. */
#ifndef TV_VCPU_H
#define TV_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdbool.h>

#include "util/err.h"
#include "x86/boot.h"

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;     /* valid while started (joined by vcpu_join) */
	bool started;
	pthread_mutex_t kick_lock;
	pthread_t self;       /* the running vCPU thread, as it recorded itself */
	bool running;         /* self is in its KVM_RUN loop (under kick_lock) */
	clockid_t cpu_clock;  /* the thread's CPU-time clock, valid once has_cpu_clock (metrics) */
	atomic_bool has_cpu_clock;
};

/* Create vCPU id: fd, kvm_run mapping, CPUID, MSRs, FPU and LAPIC set up. The BSP (id 0)
 * also gets the entry state in `entry` (NULL: KVM's reset state, for firmware); APs wait for INIT/SIPI in the in-kernel LAPIC.
 * Returns 0 or -errno with e set. */
int vcpu_create(struct vm *vm, struct vcpu *v, unsigned id, const struct kvm_cpuid2 *supported,
		const struct boot_entry *entry, struct err *e) __attribute__((warn_unused_result));

/* Start the vCPU thread. 0 or -errno. */
int vcpu_start(struct vcpu *v);

/* Kick the vCPU out of KVM_RUN (from any thread, any time after vcpu_create): the next or
 * current KVM_RUN returns at once, and the loop ends if the VM is stopping. */
void vcpu_kick(struct vcpu *v);

/* Wait for the vCPU thread to end (if it was started). */
void vcpu_join(struct vcpu *v);

/* Join the thread (if started), unmap, close. */
void vcpu_destroy(struct vcpu *v);

/* CPU time the vCPU thread has used so far (guest and monitor), in ns; 0 before it started.
 * Any thread. */
unsigned long long vcpu_cpu_ns(struct vcpu *v);

/* Append a one-line register dump of v (called on its own thread) to buf. */
void vcpu_dump_regs(struct vcpu *v, char *buf, size_t len);

#endif
