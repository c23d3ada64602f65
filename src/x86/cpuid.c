#include "x86/cpuid.h"

#include <errno.h>
#include <string.h>

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define CPUID_80000001_ECX_CMPLEGACY (1u << 1)
#define TOPO_LEVEL_SMT 1
#define TOPO_LEVEL_CORE 2

struct kvm_cpuid_entry2 *cpuid_find(struct cpuid_table *t, uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < t->hdr.nent; i++) {
		struct kvm_cpuid_entry2 *e = &t->e[i];

		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != index)
			continue;
		return e;
	}
	return NULL;
}

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

/* Replace every subleaf of an x2APIC topology leaf (0xB or 0x1F) with ours. */
static int set_topology_leaf(struct cpuid_table *t, uint32_t leaf, unsigned cpu, unsigned ncpus)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->hdr.nent; i++)
		if (t->e[i].function != leaf)
			t->e[n++] = t->e[i];
	if (n + 3 > CPUID_MAX_ENTRIES)
		return -E2BIG;
	t->e[n++] = (struct kvm_cpuid_entry2){.function = leaf, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0, .ebx = 1,
		.ecx = (TOPO_LEVEL_SMT << 8) | 0, .edx = cpu};
	t->e[n++] = (struct kvm_cpuid_entry2){.function = leaf, .index = 1,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = bits_for(ncpus), .ebx = ncpus,
		.ecx = (TOPO_LEVEL_CORE << 8) | 1, .edx = cpu};
	t->e[n++] = (struct kvm_cpuid_entry2){.function = leaf, .index = 2,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ecx = 2, .edx = cpu};
	t->hdr.nent = n;
	return 0;
}

int cpuid_build(const struct kvm_cpuid2 *supported, unsigned cpu, unsigned ncpus,
		struct cpuid_table *out)
{
	struct kvm_cpuid_entry2 *e;
	uint32_t max_basic = 0;
	int ret;

	if (supported->nent > CPUID_MAX_ENTRIES - 6 || ncpus == 0 || cpu >= ncpus)
		return -E2BIG;
	memset(out, 0, sizeof(*out));
	out->hdr.nent = supported->nent;
	memcpy(out->e, supported->entries, supported->nent * sizeof(out->e[0]));

	if ((e = cpuid_find(out, 0, 0)))
		max_basic = e->eax;
	if ((e = cpuid_find(out, 1, 0))) {
		e->ebx = (e->ebx & 0x0000ffffu) | (cpu << 24) | ((ncpus > 255 ? 255 : ncpus) << 16);
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		if (ncpus > 1)
			e->edx |= CPUID_1_EDX_HTT;
		else
			e->edx &= ~CPUID_1_EDX_HTT;
	}
	/* Deterministic cache parameters: each cache shared by one thread, ncpus cores. */
	for (uint32_t i = 0; i < out->hdr.nent; i++) {
		e = &out->e[i];
		if (e->function != 4)
			continue;
		e->eax &= 0x00003fffu;
		if (e->eax & 0x1f)
			e->eax |= ((ncpus > 64 ? 63 : ncpus - 1) << 26);
	}
	if (max_basic >= 0xb && (ret = set_topology_leaf(out, 0xb, cpu, ncpus)))
		return ret;
	if (max_basic >= 0x1f && (ret = set_topology_leaf(out, 0x1f, cpu, ncpus)))
		return ret;
	if ((e = cpuid_find(out, 0x80000001, 0))) {
		if (ncpus > 1)
			e->ecx |= CPUID_80000001_ECX_CMPLEGACY;
		else
			e->ecx &= ~CPUID_80000001_ECX_CMPLEGACY;
	}
	if ((e = cpuid_find(out, 0x80000008, 0)))
		e->ecx = (e->ecx & ~0xf0ffu) | (bits_for(ncpus) << 12) | ((ncpus - 1) & 0xff);
	if ((e = cpuid_find(out, 0x8000001e, 0))) {
		e->eax = cpu;  /* extended APIC ID */
		e->ebx = cpu;  /* core ID, one thread per core */
		e->ecx = 0;    /* node 0, one node */
	}
	return 0;
}

int cpuid_set_brand(struct cpuid_table *t, const char brand[48])
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, 0x80000000, 0);

	if (!e || e->eax < 0x80000004)
		return 0;
	for (uint32_t leaf = 0; leaf < 3; leaf++) {
		uint32_t r[4];

		memcpy(r, brand + 16 * leaf, sizeof(r));
		e = cpuid_find(t, 0x80000002 + leaf, 0);
		if (!e) {
			if (t->hdr.nent >= CPUID_MAX_ENTRIES)
				return -E2BIG;
			e = &t->e[t->hdr.nent++];
			*e = (struct kvm_cpuid_entry2){.function = 0x80000002 + leaf};
		}
		e->eax = r[0];
		e->ebx = r[1];
		e->ecx = r[2];
		e->edx = r[3];
	}
	return 0;
}
