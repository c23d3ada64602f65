/* boot_multiboot.c: Multiboot v1 (spec 0.6.96): the header in the first 8 KiB, the image
 * loaded by the header's address fields (flag 16) or as ELF, the multiboot info with memory
 * fields, command line, the initrd as module 0 and the memory map; eax = 0x2BADB002. */
#include "x86/boot_common.h"

#include <errno.h>
#include <string.h>

#include "x86/platform.h"

#define MB_MAGIC 0x1BADB002U
#define MB_BOOT_MAGIC 0x2BADB002U
#define MB_SEARCH 8192
#define MB_HDR_MIN 12
#define MB_HDR_ADDR_END 32
#define MB_PAGE_ALIGN (1U << 0)
#define MB_MEMORY_INFO (1U << 1)
#define MB_VIDEO_MODE (1U << 2)
#define MB_AOUT_KLUDGE (1U << 16)
#define MB_SUPPORTED_REQUIRED (MB_PAGE_ALIGN | MB_MEMORY_INFO)

#define MBI_MEM (1U << 0)
#define MBI_CMDLINE (1U << 2)
#define MBI_MODS (1U << 3)
#define MBI_MMAP (1U << 6)
#define MBI_LOADER_NAME (1U << 9)

#define SZ_4G 0x100000000ULL

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	uint32_t boot_loader_name, apm_table;
};

struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
};

struct mb_mmap {
	uint32_t size; /* of the rest of the entry: 20 */
	uint64_t base, len;
	uint32_t type;
} __attribute__((packed));

_Static_assert(offsetof(struct mb_info, mmap_length) == 44, "multiboot info layout");
_Static_assert(offsetof(struct mb_info, boot_loader_name) == 64, "multiboot info layout");
_Static_assert(sizeof(struct mb_mmap) == 24, "multiboot mmap layout");

/* Layout of the page at PLAT_BOOTINFO_ADDR. */
struct mb_page {
	struct mb_info info;
	uint8_t pad[0x80 - sizeof(struct mb_info)];
	struct mb_module mod[1];	    /* +0x80 */
	struct mb_mmap mmap[BOOT_E820_MAX]; /* +0x90 */
	char loader_name[16];
	char mod_name[16];
};

_Static_assert(sizeof(struct mb_page) <= 0x1000, "multiboot info fits its page");

#define MB_PAGE_OFF(field) (PLAT_BOOTINFO_ADDR + offsetof(struct mb_page, field))

long boot_multiboot_find(const uint8_t *buf, size_t len)
{
	size_t lim = len < MB_SEARCH ? len : MB_SEARCH;

	for (size_t off = 0; off + MB_HDR_MIN <= lim; off += 4) {
		uint32_t magic = boot_le32(buf, off);

		if (magic == MB_MAGIC &&
		    (uint32_t)(magic + boot_le32(buf, off + 4) + boot_le32(buf, off + 8)) == 0)
			return (long)off;
	}
	return -ENOENT;
}

/* Load by the header's address fields; *end = end of image + bss, *entry = entry_addr. */
static int load_aout(struct gmem *m, const uint8_t *buf, size_t len, size_t off, uint64_t *end,
		     uint64_t *entry, struct err *e)
{
	uint64_t hdr_addr, load, load_end, bss_end, file_off, load_len, mem_end;
	int ret;

	if (off + MB_HDR_ADDR_END > len || off + MB_HDR_ADDR_END > MB_SEARCH)
		return errf(e, -ENOEXEC,
			    "truncated Multiboot header: address fields need %d bytes "
			    "at offset 0x%zx",
			    MB_HDR_ADDR_END, off);
	hdr_addr = boot_le32(buf, off + 12);
	load = boot_le32(buf, off + 16);
	load_end = boot_le32(buf, off + 20);
	bss_end = boot_le32(buf, off + 24);
	*entry = boot_le32(buf, off + 28);
	if (hdr_addr < load || hdr_addr - load > off)
		return errf(e, -ENOEXEC,
			    "Multiboot header_addr 0x%llx and load_addr 0x%llx do not "
			    "match the header's file offset 0x%zx",
			    (unsigned long long)hdr_addr, (unsigned long long)load, off);
	file_off = off - (hdr_addr - load);
	if (load_end == 0) {
		load_len = len - file_off;
	} else {
		if (load_end < load)
			return errf(e, -ENOEXEC,
				    "Multiboot load_end_addr 0x%llx is below load_addr "
				    "0x%llx",
				    (unsigned long long)load_end, (unsigned long long)load);
		load_len = load_end - load;
		if (load_len > len - file_off)
			return errf(e, -ENOEXEC,
				    "truncated Multiboot kernel: needs %llu bytes from "
				    "offset 0x%llx, file has %zu",
				    (unsigned long long)load_len, (unsigned long long)file_off,
				    len);
	}
	mem_end = load + load_len;
	if (bss_end) {
		if (bss_end < mem_end)
			return errf(e, -ENOEXEC,
				    "Multiboot bss_end_addr 0x%llx is below the image "
				    "end 0x%llx",
				    (unsigned long long)bss_end, (unsigned long long)mem_end);
		mem_end = bss_end;
	}
	if (*entry < load || *entry >= load + load_len)
		return errf(e, -ENOEXEC,
			    "Multiboot entry_addr 0x%llx lies outside the loaded image "
			    "[0x%llx, 0x%llx)",
			    (unsigned long long)*entry, (unsigned long long)load,
			    (unsigned long long)(load + load_len));
	ret = boot_load_range(m, load, buf + file_off, load_len, mem_end - load, "kernel", e);
	if (ret < 0)
		return ret;
	*end = mem_end;
	return 0;
}

static int load_image(struct gmem *m, const struct boot_config *bc, size_t off, uint32_t flags,
		      uint64_t *end, uint64_t *entry, struct err *e)
{
	struct boot_elf elf;
	int ret;

	if (flags & MB_AOUT_KLUDGE)
		return load_aout(m, bc->kernel, bc->kernel_len, off, end, entry, e);
	if (!boot_elf_magic(bc->kernel, bc->kernel_len))
		return errf(e, -ENOEXEC,
			    "Multiboot kernel is not ELF and its header has no "
			    "address fields (flag bit 16)");
	ret = boot_elf_open(&elf, bc->kernel, bc->kernel_len, e);
	if (ret < 0)
		return ret;
	ret = boot_elf_load(m, &elf, end, entry, e);
	if (ret < 0)
		return ret;
	if (*entry < PLAT_HIMEM_START || *entry >= *end)
		return errf(e, -ENOEXEC, "Multiboot ELF entry 0x%llx lies outside the loaded image",
			    (unsigned long long)*entry);
	return 0;
}

static int write_info(struct gmem *m, const struct boot_config *bc, uint64_t initrd_gpa,
		      struct err *e)
{
	struct boot_e820_entry map[BOOT_E820_MAX];
	struct mb_page *pg = gmem_ptr(m, PLAT_BOOTINFO_ADDR, sizeof(*pg));
	int n = boot_e820_build(m, map);

	if (n < 0)
		return errf(e, n, "guest RAM is too small for a memory map");
	if (!pg)
		return errf(e, -EFAULT, "no guest RAM for the multiboot info at 0x%llx",
			    PLAT_BOOTINFO_ADDR);
	memset(pg, 0, sizeof(*pg));
	pg->info.flags = MBI_MEM | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME;
	pg->info.mem_lower = (uint32_t)(PLAT_EBDA_START / 1024);
	pg->info.mem_upper = (uint32_t)((boot_low_end(m) - PLAT_HIMEM_START) / 1024);
	pg->info.cmdline = (uint32_t)PLAT_CMDLINE_ADDR;
	strcpy(pg->loader_name, "thinvisor");
	pg->info.boot_loader_name = (uint32_t)MB_PAGE_OFF(loader_name);
	pg->info.mods_addr = (uint32_t)MB_PAGE_OFF(mod);
	if (initrd_gpa) {
		strcpy(pg->mod_name, "initrd");
		pg->mod[0].mod_start = (uint32_t)initrd_gpa;
		pg->mod[0].mod_end = (uint32_t)(initrd_gpa + bc->initrd_len);
		pg->mod[0].string = (uint32_t)MB_PAGE_OFF(mod_name);
		pg->info.mods_count = 1;
	}
	for (int i = 0; i < n; i++)
		pg->mmap[i] = (struct mb_mmap){sizeof(struct mb_mmap) - 4, map[i].addr, map[i].size,
					       map[i].type};
	pg->info.mmap_addr = (uint32_t)MB_PAGE_OFF(mmap);
	pg->info.mmap_length = (uint32_t)(n * sizeof(struct mb_mmap));
	return 0;
}

int boot_multiboot_load(struct gmem *m, const struct boot_config *bc, size_t hdr_off,
			struct boot_entry *out, struct err *e)
{
	uint32_t flags = boot_le32(bc->kernel, hdr_off + 4);
	uint32_t unsupported = flags & 0xffff & ~MB_SUPPORTED_REQUIRED;
	uint64_t end, entry, initrd_gpa;
	int ret;

	if (unsupported & MB_VIDEO_MODE)
		return errf(e, -ENOTSUP,
			    "Multiboot kernel requires video mode information "
			    "(header flag bit 2), which thinvisor cannot provide");
	if (unsupported)
		return errf(e, -ENOTSUP,
			    "Multiboot header requires unknown features (flags "
			    "0x%04x)",
			    unsupported);
	ret = boot_write_cmdline(m, bc->cmdline, PLAT_CMDLINE_MAX - 1, e);
	if (ret < 0)
		return ret;
	ret = load_image(m, bc, hdr_off, flags, &end, &entry, e);
	if (ret < 0)
		return ret;
	/* Modules are always page-aligned (flag bit 0) and kept below 4 GiB (32-bit fields). */
	ret = boot_place_initrd(m, bc, end, SZ_4G, &initrd_gpa, e);
	if (ret < 0)
		return ret;
	ret = write_info(m, bc, initrd_gpa, e);
	if (ret < 0)
		return ret;
	ret = boot_write_gdt(m, e);
	if (ret < 0)
		return ret;
	memset(out, 0, sizeof(*out));
	out->kind = BOOT_MULTIBOOT;
	out->mode = BOOT_MODE_PROT32;
	out->rip = entry;
	out->rax = MB_BOOT_MAGIC;
	out->rbx = PLAT_BOOTINFO_ADDR;
	out->rsp = PLAT_STACK_TOP;
	out->initrd_gpa = initrd_gpa;
	out->initrd_size = initrd_gpa ? bc->initrd_len : 0;
	return 0;
}
