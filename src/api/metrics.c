/* metrics.c: GET /metrics, Prometheus' text exposition format (version 0.0.4). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/server.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void __attribute__((format(printf, 2, 3))) put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap <= b->len + (size_t)n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static unsigned long long rss_bytes(void)
{
	unsigned long long size, res = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%llu %llu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (unsigned long long)sysconf(_SC_PAGESIZE);
}

/* Device counters of one kind ("disk", "net"): one family per counter name, in the order the
 * names first appear. */
static void device_families(struct buf *b, struct vm *vm, const char *kind)
{
	for (unsigned s = 0; s < vm->ncounter_sets; s++) {
		const struct counter_set *cs = &vm->counter_sets[s];

		if (!cs->kind || strcmp(cs->kind, kind))
			continue;
		for (unsigned i = 0; i < cs->n; i++) {
			bool seen = false;

			/* emitted already with an earlier set of this kind? */
			for (unsigned t = 0; t < s && !seen; t++) {
				const struct counter_set *ct = &vm->counter_sets[t];

				for (unsigned j = 0; ct->kind && !strcmp(ct->kind, kind) && j < ct->n;
				     j++)
					seen |= !strcmp(ct->names[j], cs->names[i]);
			}
			if (seen)
				continue;
			put(b, "# TYPE thinvisor_%s_%s_total counter\n", kind, cs->names[i]);
			for (unsigned t = s; t < vm->ncounter_sets; t++) {
				const struct counter_set *ct = &vm->counter_sets[t];

				if (!ct->kind || strcmp(ct->kind, kind))
					continue;
				for (unsigned j = 0; j < ct->n; j++)
					if (!strcmp(ct->names[j], cs->names[i]))
						put(b, "thinvisor_%s_%s_total{%s=\"%s\"} %llu\n", kind,
						    cs->names[i], kind, ct->id,
						    atomic_load_explicit(&ct->values[j],
									 memory_order_relaxed));
			}
		}
	}
}

char *api_metrics_text(struct api *a)
{
	struct vm *vm = a->vm;
	struct buf b = {0};
	enum vm_state st = vm_state_now(vm);

	family(&b, "thinvisor_vm_state", "gauge", "1 for the VM's current state");
	for (int s = 0; s < VMS_COUNT; s++)
		put(&b, "thinvisor_vm_state{state=\"%s\"} %d\n", vm_state_name((enum vm_state)s),
		    s == (int)st);
	family(&b, "thinvisor_exits_total", "counter", "vCPU exits handled, by reason");
	for (int i = 0; i < STAT_COUNT; i++)
		put(&b, "thinvisor_exits_total{reason=\"%s\"} %llu\n",
		    vm_stat_name((enum vm_stat)i),
		    atomic_load_explicit(&vm->stats[i], memory_order_relaxed));
	family(&b, "thinvisor_vcpu_seconds_total", "counter",
	       "CPU time of each vCPU thread (guest and monitor)");
	for (unsigned i = 0; i < vm->ncpus_created; i++)
		put(&b, "thinvisor_vcpu_seconds_total{vcpu=\"%u\"} %.6f\n", i,
		    (double)vcpu_cpu_ns(&vm->vcpus[i]) / 1e9);
	family(&b, "thinvisor_guest_memory_bytes", "gauge", "guest RAM");
	put(&b, "thinvisor_guest_memory_bytes %llu\n", (unsigned long long)vm->cfg.mem_size);
	family(&b, "thinvisor_monitor_rss_bytes", "gauge",
	       "resident memory of the monitor process (guest RAM it touched included)");
	put(&b, "thinvisor_monitor_rss_bytes %llu\n", rss_bytes());
	device_families(&b, vm, "disk");
	device_families(&b, vm, "net");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
