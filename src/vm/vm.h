/* vm.h: the VM object. All state of one virtual machine hangs off struct vm. */
#ifndef TV_VM_H
#define TV_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "util/err.h"
#include "vm/bus.h"
#include "vm/config.h"
#include "mem/gmem.h"
#include "vm/counters.h"
#include "vm/lifecycle.h"

struct vcpu;
struct loop;
struct pci_host;
struct console;
struct fw_cfg;
struct bios;

/* Why the VM stopped; vm_exit_status maps each to the process exit status (README.md). */
enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF,      /* ACPI S5 */
	VM_STOP_REBOOT,        /* reset requested by the guest */
	VM_STOP_QUIT,          /* Ctrl-A x, or SIGINT/SIGTERM to the monitor */
	VM_STOP_TESTDEV,       /* the test device asked to exit with a status */
	VM_STOP_TRIPLE_FAULT,  /* KVM_EXIT_SHUTDOWN */
	VM_STOP_INTERNAL,      /* KVM internal error, emulation failure, failed entry */
	VM_STOP_HOST_ERROR,    /* a monitor-side failure while running */
	VM_STOP_API_SHUTDOWN,  /* vm.shutdown or vmm.shutdown from the control API */
};

/* Exit counters, one per reason; updated with relaxed atomics by the vCPU threads. */
enum vm_stat {
	STAT_EXIT_IO,
	STAT_EXIT_MMIO,
	STAT_EXIT_HLT,
	STAT_EXIT_SHUTDOWN,
	STAT_EXIT_SYSTEM_EVENT,
	STAT_EXIT_INTR,
	STAT_EXIT_OTHER,
	STAT_IO_UNCLAIMED,
	STAT_MMIO_UNCLAIMED,
	STAT_COUNT
};

struct vm_device {
	const char *name;
	void *state;
	void (*destroy)(void *state);
};

struct vm {
	struct vm_config cfg;
	int kvm_fd, vm_fd;
	int vcpu_mmap_size;
	struct gmem mem;
	struct bus pio, mmio;
	struct pci_host *pci;
	struct console *console;
	struct loop *loop;
	struct fw_cfg *fw_cfg; /* --firmware bios only (hw/fw_cfg.c) */
	struct bios *bios;     /* --firmware bios only (x86/bios.c): ROM, shadow RAM */

	struct vcpu *vcpus;
	unsigned ncpus;         /* configured */
	unsigned ncpus_created; /* vcpus[0..ncpus_created) exist */
	int sigfd;              /* SIGINT/SIGTERM/SIGHUP, read by the event loop */

	struct vm_device *devices;
	unsigned ndevices;

	pthread_mutex_t stop_lock;
	enum vm_stop_reason stop_reason; /* first reason wins */
	int stop_status;                 /* VM_STOP_TESTDEV: the status asked for */
	char stop_detail[512];           /* registers and reason, for fatal stops */
	atomic_bool stopping;
	atomic_bool quit;                /* a quit (signal, Ctrl-A x) was asked for, even if it lost
					    to another reason: no --on-reboot restart then */

	atomic_ullong stats[STAT_COUNT];
	struct kvm_coalesced_mmio_ring *coalesced_ring; /* in vCPU 0's run area, or NULL */
	uint32_t coalesced_max;                         /* entries the ring holds */
	pthread_mutex_t coalesced_lock;                 /* one replayer at a time */
	atomic_uint *port_exits; /* with --stats: port-I/O exits per port (65536), else NULL */
	struct timespec first_run; /* CLOCK_MONOTONIC at vCPU 0's first KVM_RUN (for --stats) */

	/* KVM's GSI routing table (vm/devif.c): the irqchip defaults plus MSI routes from GSI 24
	 * up; rewritten whole by devif_msi_route under irq_lock. NULL until the first MSI. */
	struct kvm_irq_routing *irq_routes;
	pthread_mutex_t irq_lock;

	struct err dev_err; /* a failing device init's one-line message (devif_err) */

	/* virtio-mmio devices, for the DSDT (devif_virtio_mmio_slot) */
	unsigned nvmmio;
	struct vm_mmio_dev {
		uint64_t base;
		unsigned gsi;
	} vmmio[8];

	struct vm_lifecycle life;          /* pause/resume (vm/lifecycle.c) */
	struct counter_set *counter_sets;  /* vm.counters and /metrics (vm/counters.c) */
	unsigned ncounter_sets;
};

/* Build the VM from a validated config: KVM checks, memory, irqchip, devices, vCPUs, guest
 * image. On failure returns -errno with a one-line message in e, and leaves nothing open. */
int vm_create(struct vm *vm, const struct vm_config *cfg, struct err *e)
	__attribute__((warn_unused_result));

/* Run until the guest stops; returns the process exit status (see vm_exit_status). */
int vm_run(struct vm *vm);

/* Join every thread, close every fd, free everything. Safe after a failed vm_create. */
void vm_destroy(struct vm *vm);

/* Record why the VM stops (the first caller wins) and kick every vCPU out of KVM_RUN.
 * Callable from any thread, including device callbacks. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status);

/* Set an interrupt line (GSI) of the in-kernel irqchip to level 0/1. Returns 0 or -errno. */
int vm_set_irq(struct vm *vm, unsigned gsi, int level);

/* Attach a device's state so vm_destroy tears it down (in reverse order). -ENOMEM. */
int vm_add_device(struct vm *vm, const char *name, void *state, void (*destroy)(void *));

/* Exit status for a stop reason: poweroff 0, reboot 2, quit 130... (documented in README). */
int vm_exit_status(enum vm_stop_reason why, int testdev_status);

/* The counter's name in --stats, vm.counters and /metrics: "io", "mmio", "hlt", ... */
const char *vm_stat_name(enum vm_stat s);

static inline void vm_stat_inc(struct vm *vm, enum vm_stat s)
{
	atomic_fetch_add_explicit(&vm->stats[s], 1, memory_order_relaxed);
}

#endif
