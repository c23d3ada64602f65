/* boot.h: loading a guest image into guest memory. The image type is probed from its
 * contents: Linux bzImage (64-bit or 32-bit boot protocol), ELF with a PVH entry note,
 * Multiboot v1. Pure with respect to the host: works on a struct gmem and buffers only. */
#ifndef TV_BOOT_H
#define TV_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "vm/memory.h"

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

/* Boot GDT layout at PLAT_GDT_ADDR (selectors). */
#define BOOT_SEL_CODE64 0x08
#define BOOT_SEL_CODE32 0x10
#define BOOT_SEL_DATA 0x18
#define BOOT_SEL_TSS 0x20

struct boot_entry {
	enum boot_kind kind;
	enum boot_cpu_mode mode;
	uint64_t rip;
	uint64_t rsp;
	uint64_t rax, rbx, rsi; /* protocol registers: multiboot magic, info pointers, zero page */
	uint64_t cr3;           /* BOOT_MODE_LONG64 only */
};

/* Human name of a boot kind ("Linux bzImage (64-bit boot protocol)", ...). */
const char *boot_kind_name(enum boot_kind k);

/* Probe the image, load kernel, initrd and command line into m, write the boot structures
 * (boot_params with e820 / PVH start_info / multiboot info), the boot GDT and (for 64-bit
 * entry) identity page tables, and say how to enter. Returns 0 or -errno with a one-line
 * message in e: "not a Linux bzImage, ELF (PVH) or Multiboot kernel", "truncated bzImage: ...",
 * "initrd (N bytes) does not fit below ...", "command line is N bytes, the kernel accepts M". */
int boot_load(struct gmem *m, const struct boot_config *bc, struct boot_entry *out,
	      struct err *e) __attribute__((warn_unused_result));

#endif
