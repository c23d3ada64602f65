#include "x86/cpu_init.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "x86/platform.h"

#define CR0_PE 0x1ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static struct kvm_segment flat_seg(uint16_t sel, uint8_t type, int l, int db)
{
	return (struct kvm_segment){.base = 0, .limit = 0xffffffff, .selector = sel,
		.type = type, .present = 1, .dpl = 0, .db = (uint8_t)db, .s = 1,
		.l = (uint8_t)l, .g = 1};
}

void cpu_entry_state(const struct boot_entry *e, struct kvm_sregs *s, struct kvm_regs *r)
{
	int long64 = e->mode == BOOT_MODE_LONG64;
	struct kvm_segment data = flat_seg(BOOT_SEL_DATA, 0x3, 0, 1);

	s->cs = long64 ? flat_seg(BOOT_SEL_CODE64, 0xb, 1, 0) : flat_seg(BOOT_SEL_CODE32, 0xb, 0, 1);
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct kvm_segment){.base = 0, .limit = 0x67, .selector = BOOT_SEL_TSS,
		.type = 0xb, .present = 1};
	s->ldt = (struct kvm_segment){.selector = 0, .type = 0x2, .present = 1, .limit = 0xffff};
	s->gdt.base = PLAT_GDT_ADDR;
	s->gdt.limit = BOOT_GDT_LIMIT;
	s->idt.base = PLAT_IDT_ADDR;
	s->idt.limit = 0;
	s->cr0 = CR0_PE | CR0_ET | CR0_NE;
	s->cr4 = 0;
	s->efer = 0;
	if (long64) {
		s->cr0 |= CR0_PG;
		s->cr3 = e->cr3;
		s->cr4 = CR4_PAE;
		s->efer = EFER_LME | EFER_LMA;
	}
	memset(r, 0, sizeof(*r));
	r->rflags = 0x2;
	r->rip = e->rip;
	r->rsp = e->rsp;
	r->rax = e->rax;
	r->rbx = e->rbx;
	r->rsi = e->rsi;
}

static int in_list(const struct kvm_msr_list *l, uint32_t idx)
{
	for (uint32_t i = 0; i < l->nmsrs; i++)
		if (l->indices[i] == idx)
			return 1;
	return 0;
}

static int init_msrs(int kvm_fd, int vcpu_fd)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} want[] = {
		{MSR_IA32_SYSENTER_CS, 0}, {MSR_IA32_SYSENTER_ESP, 0}, {MSR_IA32_SYSENTER_EIP, 0},
		{MSR_STAR, 0}, {MSR_LSTAR, 0}, {MSR_CSTAR, 0}, {MSR_SYSCALL_MASK, 0},
		{MSR_KERNEL_GS_BASE, 0}, {MSR_IA32_TSC, 0},
		{MSR_IA32_MISC_ENABLE, 1 /* fast strings */},
		{MSR_MTRR_DEF_TYPE, (1 << 11) | 6 /* MTRRs on, default write-back */},
	};
	struct kvm_msr_list probe = {.nmsrs = 0}, *list = NULL;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[sizeof(want) / sizeof(want[0])];
	} msrs;
	int ret, n = 0;

	memset(&msrs, 0, sizeof(msrs));
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
	if (!list)
		return -ENOMEM;
	list->nmsrs = probe.nmsrs;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		ret = -errno;
		goto free_list;
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		/* MISC_ENABLE and MTRR_DEF_TYPE are emulated MSRs, not always listed. */
		if (!in_list(list, want[i].index) && want[i].index != MSR_IA32_MISC_ENABLE &&
		    want[i].index != MSR_MTRR_DEF_TYPE)
			continue;
		msrs.e[n].index = want[i].index;
		msrs.e[n].data = want[i].value;
		n++;
	}
	msrs.hdr.nmsrs = (uint32_t)n;
	ret = ioctl(vcpu_fd, KVM_SET_MSRS, &msrs);
	ret = ret < 0 ? -errno : 0; /* a short count means an MSR KVM refused: not fatal */
free_list:
	free(list);
	return ret;
}

static void set_lvt(struct kvm_lapic_state *l, unsigned reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], 4);
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&l->regs[reg], &v, 4);
}

int cpu_init_msrs_fpu_lapic(int kvm_fd, int vcpu_fd)
{
	struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
	struct kvm_lapic_state lapic;
	int ret = init_msrs(kvm_fd, vcpu_fd);

	if (ret)
		return ret;
	if (ioctl(vcpu_fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	set_lvt(&lapic, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	set_lvt(&lapic, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}
