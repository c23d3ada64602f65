/* boot.h: loading a guest image into guest memory. The image type is probed from its
 * contents: Linux bzImage (64-bit or 32-bit boot protocol), ELF with a PVH entry note,
 * Multiboot v1. Pure with respect to the host: works on a struct gmem and buffers only. */
#ifndef TV_BOOT_H
#define TV_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "mem/gmem.h"

enum boot_kind { BOOT_BZIMAGE64, BOOT_BZIMAGE32, BOOT_PVH, BOOT_MULTIBOOT };

/* The CPU state the entry point expects. */
enum boot_cpu_mode {
	BOOT_MODE_LONG64, /* long mode, paging on (identity map at PLAT_PML4_ADDR), CS=code64 */
	BOOT_MODE_PROT32, /* flat 32-bit protected mode, paging off */
};

struct boot_config {
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd; /* NULL: none */
	size_t initrd_len;
	const char *cmdline;   /* never NULL; may be "" */
	uint64_t rsdp_gpa;     /* ACPI RSDP address to pass on (boot_params / start_info) */
};

/* Boot GDT layout at PLAT_GDT_ADDR (selectors). boot_load always writes it, for every entry
 * kind; load GDTR with base PLAT_GDT_ADDR, limit BOOT_GDT_LIMIT (6 slots of 8 bytes):
 *   0x00 null
 *   0x08 code64: base 0, limit 4 GiB (G=1), type 0xb (exec/read, accessed), S=1, DPL 0, P=1, L=1
 *   0x10 code32: as code64 but L=0, D=1 (flat 32-bit code; Linux's __BOOT_CS)
 *   0x18 data:   base 0, limit 4 GiB (G=1), type 0x3 (read/write, accessed), D/B=1
 *                (Linux's __BOOT_DS; use for DS, ES, FS, GS, SS)
 *   0x20 tss:    base 0, limit 0x67, type 0xb (busy 32/64-bit TSS), S=0, P=1, 16 bytes: the
 *                slot at 0x28 holds base[63:32] = 0, as a long-mode TSS descriptor wants.
 * The raw descriptors are BOOT_GDT_* below, so the vCPU code can derive KVM segments. */
#define BOOT_SEL_CODE64 0x08
#define BOOT_SEL_CODE32 0x10
#define BOOT_SEL_DATA 0x18
#define BOOT_SEL_TSS 0x20
#define BOOT_GDT_LIMIT 0x2f
#define BOOT_GDT_CODE64 0x00af9b000000ffffULL
#define BOOT_GDT_CODE32 0x00cf9b000000ffffULL
#define BOOT_GDT_DATA 0x00cf93000000ffffULL
#define BOOT_GDT_TSS 0x00008b0000000067ULL

/* Identity map written for BOOT_MODE_LONG64: PML4 at PLAT_PML4_ADDR, one PDPT, four PDs of
 * 2 MiB pages covering [0, 4 GiB) present+writable+supervisor; cr3 = PLAT_PML4_ADDR. */

/* e820 map handed to every protocol (boot_params e820_table, PVH memmap, multiboot mmap). */
#define BOOT_E820_RAM 1
#define BOOT_E820_RESERVED 2
#define BOOT_E820_MAX 4

struct boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* BOOT_E820_RAM or BOOT_E820_RESERVED */
};

/* Build the guest's memory map from m, in address order: RAM [0, PLAT_EBDA_START), reserved
 * [PLAT_EBDA_START, 1 MiB) (EBDA, ACPI tables, BIOS area), RAM [1 MiB, end of low RAM) if any,
 * RAM [4 GiB, 4 GiB + high size) if m has high RAM. The PCI hole is left out (so reserved).
 * Pure. Returns the entry count (2..BOOT_E820_MAX) or -EINVAL if m has under 1 MiB of RAM. */
int boot_e820_build(const struct gmem *m, struct boot_e820_entry out[BOOT_E820_MAX])
	__attribute__((warn_unused_result));

struct boot_entry {
	enum boot_kind kind;
	enum boot_cpu_mode mode;
	uint64_t rip;
	uint64_t rsp;
	uint64_t rax, rbx, rsi; /* protocol registers: multiboot magic, info pointers, zero page */
	uint64_t cr3;           /* BOOT_MODE_LONG64 only */
	/* rsp: always PLAT_STACK_TOP (a usable stack below the zero page and page tables), even
	 * where the protocol leaves the stack undefined. rsi is the zero page for bzImage entries;
	 * rbx is start_info (PVH) or the multiboot info; rax is 0x2BADB002 for Multiboot. Every
	 * register not named here, and rflags apart from bit 1, should start at zero. */
	uint64_t initrd_gpa, initrd_size; /* where the initrd went (0, 0: none); informational */
};

/* Human name of a boot kind ("Linux bzImage (64-bit boot protocol)", ...). */
const char *boot_kind_name(enum boot_kind k);

/* Probe the image, load kernel, initrd and command line into m, write the boot structures
 * (boot_params with e820 / PVH start_info / multiboot info), the boot GDT and (for 64-bit
 * entry) identity page tables, and say how to enter. Probe order: bzImage ("HdrS" at 0x202,
 * protocol >= 2.06, loaded at PLAT_HIMEM_START), Multiboot v1 header (so a Multiboot ELF is
 * Multiboot), ELF with a PVH note. Kernel pieces must lie in low RAM at or above 1 MiB; the
 * initrd goes page-aligned as high as allowed in low RAM. Returns 0 or -errno with a one-line
 * message in e, e.g. "not a Linux bzImage, ELF (PVH) or Multiboot kernel", "truncated bzImage:
 * setup needs N bytes, file has M", "ELF program header N lies outside the file", "ELF kernel
 * has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)", "kernel needs N bytes at 0x100000, guest
 * RAM ends at 0x...", "initrd (N bytes) does not fit in guest memory below 0x...", "command
 * line is N bytes, the kernel accepts at most M". Guest memory may be partly written on error. */
int boot_load(struct gmem *m, const struct boot_config *bc, struct boot_entry *out,
	      struct err *e) __attribute__((warn_unused_result));

#endif
