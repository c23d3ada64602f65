/* cpuid.h: the CPUID table each vCPU sees, built from KVM_GET_SUPPORTED_CPUID. Pure. */
#ifndef TV_CPUID_H
#define TV_CPUID_H

#include <linux/kvm.h>
#include <stdint.h>

#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

/* A kvm_cpuid2 with room for CPUID_MAX_ENTRIES entries. */
#define CPUID_MAX_ENTRIES 256
struct cpuid_table {
	struct kvm_cpuid2 hdr;
	struct kvm_cpuid_entry2 e[CPUID_MAX_ENTRIES];
};

/* Fill out for vCPU `cpu` of `ncpus` from the host-supported table: one package, ncpus cores
 * with one thread each, APIC ID = cpu. Sets the hypervisor bit, the APIC ID and logical
 * count in leaf 1, cache-sharing counts in leaf 4, the x2APIC topology leaves 0xB/0x1F,
 * AMD's 0x80000008 core count and 0x8000001E IDs, and keeps KVM's paravirtual leaves
 * (0x40000000..., kvmclock). Returns 0 or -E2BIG when the result would not fit. */
int cpuid_build(const struct kvm_cpuid2 *supported, unsigned cpu, unsigned ncpus,
		struct cpuid_table *out);

/* Put the 48-byte processor brand string (NUL-padded, as leaves 0x80000002-4 of the host's
 * CPUID return it) in t's leaves 0x80000002-4, which KVM_GET_SUPPORTED_CPUID leaves zero: the
 * guest's "model name" then is the host's, as with QEMU's -cpu host. Adds the leaves when t
 * lacks them; does nothing when t's extended range (0x80000000's eax) ends below 0x80000004.
 * Returns 0, or -E2BIG when there is no room. */
int cpuid_set_brand(struct cpuid_table *t, const char brand[48]);

/* The entry for (function, index) in t, or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct cpuid_table *t, uint32_t function, uint32_t index);

#endif
