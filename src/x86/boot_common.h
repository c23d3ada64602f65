/* boot_common.h: pieces the boot protocols share (internal to src/x86/boot*.c): little-endian
 * reads from the image buffer, the boot GDT, identity page tables, command line and initrd
 * placement, and the ELF reader used by PVH and Multiboot. */
#ifndef TV_BOOT_COMMON_H
#define TV_BOOT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x86/boot.h"

/* Little-endian loads; the caller has checked that off + width <= buffer length. */
static inline uint16_t boot_le16(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] | p[off + 1] << 8);
}

static inline uint32_t boot_le32(const uint8_t *p, size_t off)
{
	return (uint32_t)boot_le16(p, off) | (uint32_t)boot_le16(p, off + 2) << 16;
}

static inline uint64_t boot_le64(const uint8_t *p, size_t off)
{
	return (uint64_t)boot_le32(p, off) | (uint64_t)boot_le32(p, off + 4) << 32;
}

/* End of RAM below 4 GiB (the first region's end). */
uint64_t boot_low_end(const struct gmem *m);

/* Write the boot GDT described in boot.h at PLAT_GDT_ADDR. 0 or -EFAULT with a message. */
int boot_write_gdt(struct gmem *m, struct err *e) __attribute__((warn_unused_result));

/* Write the 4 GiB identity map described in boot.h; *cr3 = PLAT_PML4_ADDR. 0 or -errno. */
int boot_write_identity_map(struct gmem *m, uint64_t *cr3, struct err *e)
    __attribute__((warn_unused_result));

/* Copy cmdline (NUL-terminated) to PLAT_CMDLINE_ADDR if strlen(cmdline) <= max (further capped
 * at PLAT_CMDLINE_MAX - 1), else -E2BIG "command line is N bytes, the kernel accepts at most M". */
int boot_write_cmdline(struct gmem *m, const char *cmdline, uint64_t max, struct err *e)
    __attribute__((warn_unused_result));

/* Place bc's initrd page-aligned as high as possible inside [floor, ceiling) of low RAM (ceiling
 * is also capped at the end of low RAM) and copy it there. No initrd: *gpa = 0, returns 0.
 * Else 0, or -ENOSPC "initrd (N bytes) does not fit in guest memory below 0x...". */
int boot_place_initrd(struct gmem *m, const struct boot_config *bc, uint64_t floor,
		      uint64_t ceiling, uint64_t *gpa, struct err *e)
    __attribute__((warn_unused_result));

/* Copy len bytes of src to [gpa, gpa+len) and zero [gpa+len, gpa+memsz), memsz >= len; the range
 * must lie in low RAM at or above PLAT_HIMEM_START. what names the piece in messages
 * ("kernel", "ELF segment 2"): "%s needs N bytes at 0x..., guest RAM ends at 0x...". */
int boot_load_range(struct gmem *m, uint64_t gpa, const uint8_t *src, uint64_t len, uint64_t memsz,
		    const char *what, struct err *e) __attribute__((warn_unused_result));

/* ELF reading (boot_elf.c). */
struct boot_elf {
	const uint8_t *buf;
	size_t len;
	bool is64;
	uint64_t entry;
	uint64_t phoff;
	unsigned phentsize, phnum;
};

struct boot_phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* True if buf starts with the ELF magic. */
bool boot_elf_magic(const uint8_t *buf, size_t len);

/* Check the ELF header (32/64-bit, little-endian, x86) and the program header table's bounds.
 * 0 or -ENOEXEC with a message ("truncated ELF header...", "ELF program header N lies outside
 * the file"). */
int boot_elf_open(struct boot_elf *elf, const uint8_t *buf, size_t len, struct err *e)
    __attribute__((warn_unused_result));

/* Read program header i (< phnum) of an opened ELF. */
void boot_elf_phdr(const struct boot_elf *elf, unsigned i, struct boot_phdr *ph);

/* Load every PT_LOAD segment at p_paddr (file bytes, then zeroed bss) after checking it against
 * the file and guest RAM. *end = highest segment end. *entry_pa = e_entry translated from the
 * virtual to the physical address of the segment that holds it (unchanged if none does). */
int boot_elf_load(struct gmem *m, const struct boot_elf *elf, uint64_t *end, uint64_t *entry_pa,
		  struct err *e) __attribute__((warn_unused_result));

/* Find the Xen note XEN_ELFNOTE_PHYS32_ENTRY in the PT_NOTE segments. 0 with *entry, -ENOENT if
 * there is none (no message), or -ENOEXEC for a malformed note. */
int boot_elf_pvh_entry(const struct boot_elf *elf, uint64_t *entry, struct err *e)
    __attribute__((warn_unused_result));

/* The protocols: each probe is pure over the buffer; each load fills out (kind, mode, registers).
 */
bool boot_linux_probe(const uint8_t *buf, size_t len);
int boot_linux_load(struct gmem *m, const struct boot_config *bc, struct boot_entry *out,
		    struct err *e) __attribute__((warn_unused_result));

/* Offset of a valid Multiboot header (magic + checksum) in the first 8 KiB, or -ENOENT. */
long boot_multiboot_find(const uint8_t *buf, size_t len);
int boot_multiboot_load(struct gmem *m, const struct boot_config *bc, size_t hdr_off,
			struct boot_entry *out, struct err *e) __attribute__((warn_unused_result));

int boot_pvh_load(struct gmem *m, const struct boot_config *bc, const struct boot_elf *elf,
		  uint64_t entry, struct boot_entry *out, struct err *e)
    __attribute__((warn_unused_result));

#endif
