/* boot_pvh.c: the PVH boot ABI (xen/include/public/arch-x86/hvm/start_info.h): an ELF kernel
 * with a XEN_ELFNOTE_PHYS32_ENTRY note, entered in flat 32-bit protected mode with
 * ebx = hvm_start_info (version 1, with the memory map). */
#include "x86/boot_common.h"

#include <errno.h>
#include <string.h>

#include "x86/platform.h"

#define HVM_START_MAGIC 0x336ec578
#define HVM_START_VERSION 1
#define SZ_4G 0x100000000ULL

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap layout");

/* Layout of the page at PLAT_BOOTINFO_ADDR. */
struct pvh_page {
	struct hvm_start_info si;
	uint8_t pad[8];
	struct hvm_modlist_entry mod[1];		  /* +0x40 */
	struct hvm_memmap_table_entry map[BOOT_E820_MAX]; /* +0x60 */
};

_Static_assert(sizeof(struct pvh_page) <= 0x1000, "PVH info fits its page");

int boot_pvh_load(struct gmem *m, const struct boot_config *bc, const struct boot_elf *elf,
		  uint64_t entry, struct boot_entry *out, struct err *e)
{
	struct boot_e820_entry map[BOOT_E820_MAX];
	struct pvh_page *pg;
	uint64_t end, unused, initrd_gpa;
	int ret, n;

	if (entry >= boot_low_end(m))
		return errf(e, -ENOEXEC, "PVH entry 0x%llx lies outside guest RAM (ends at 0x%llx)",
			    (unsigned long long)entry, (unsigned long long)boot_low_end(m));
	ret = boot_write_cmdline(m, bc->cmdline, PLAT_CMDLINE_MAX - 1, e);
	if (ret < 0)
		return ret;
	ret = boot_elf_load(m, elf, &end, &unused, e);
	if (ret < 0)
		return ret;
	ret = boot_place_initrd(m, bc, end, SZ_4G, &initrd_gpa, e);
	if (ret < 0)
		return ret;
	n = boot_e820_build(m, map);
	if (n < 0)
		return errf(e, n, "guest RAM is too small for a memory map");

	pg = gmem_ptr(m, PLAT_BOOTINFO_ADDR, sizeof(*pg));
	if (!pg)
		return errf(e, -EFAULT, "no guest RAM for start_info at 0x%llx",
			    PLAT_BOOTINFO_ADDR);
	memset(pg, 0, sizeof(*pg));
	pg->si.magic = HVM_START_MAGIC;
	pg->si.version = HVM_START_VERSION;
	pg->si.cmdline_paddr = PLAT_CMDLINE_ADDR;
	pg->si.rsdp_paddr = bc->rsdp_gpa;
	if (initrd_gpa) {
		pg->mod[0].paddr = initrd_gpa;
		pg->mod[0].size = bc->initrd_len;
		pg->si.nr_modules = 1;
		pg->si.modlist_paddr = PLAT_BOOTINFO_ADDR + offsetof(struct pvh_page, mod);
	}
	for (int i = 0; i < n; i++)
		pg->map[i] =
		    (struct hvm_memmap_table_entry){map[i].addr, map[i].size, map[i].type, 0};
	pg->si.memmap_paddr = PLAT_BOOTINFO_ADDR + offsetof(struct pvh_page, map);
	pg->si.memmap_entries = (uint32_t)n;

	ret = boot_write_gdt(m, e);
	if (ret < 0)
		return ret;
	memset(out, 0, sizeof(*out));
	out->kind = BOOT_PVH;
	out->mode = BOOT_MODE_PROT32;
	out->rip = entry;
	out->rbx = PLAT_BOOTINFO_ADDR;
	out->rsp = PLAT_STACK_TOP;
	out->initrd_gpa = initrd_gpa;
	out->initrd_size = initrd_gpa ? bc->initrd_len : 0;
	return 0;
}
