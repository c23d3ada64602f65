/* counters.h: per-device counters that vm.counters and /metrics report. A device (a disk, a
 * NIC, ...) registers one set at init time; the API reads it with relaxed atomic loads from the
 * event loop, so devices only ever atomic_fetch_add their own values. */
#ifndef TV_COUNTERS_H
#define TV_COUNTERS_H

#include <stdatomic.h>

struct vm;

#define COUNTER_ID_MAX 32

struct counter_set {
	char id[COUNTER_ID_MAX];        /* unique per VM: "disk0", "net0", "acpi_pm" */
	const char *kind;               /* "disk", "net", or NULL: in vm.counters only */
	const char *const *names;       /* n names, e.g. "read_bytes" (static storage) */
	const atomic_ullong *values;    /* n values, alive until vm_destroy */
	unsigned n;
};

/* Register n counters of one device for vm.counters ({"id": {"name": value}}) and, when kind
 * is "disk" or "net", /metrics (thinvisor_<kind>_<name>_total{<kind>="id"}; names ending in
 * _bytes, _ops, _requests, _errors are conventional). Only while the VM is built (vm_create,
 * device init); names and values must stay valid until vm_destroy. Returns 0, -EEXIST for an
 * id already registered, -EINVAL for an empty/too long id or n == 0, -ENOMEM. */
int vm_counters_register(struct vm *vm, const char *id, const char *kind,
			 const char *const *names, const atomic_ullong *values, unsigned n)
	__attribute__((warn_unused_result));

/* Forget every set (vm_destroy). */
void vm_counters_free(struct vm *vm);

#endif
