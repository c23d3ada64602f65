/* boot_common.c: the boot GDT, identity page tables, e820 map, command line and initrd
 * placement shared by the Linux, PVH and Multiboot loaders. */
#include "x86/boot_common.h"

#include <errno.h>
#include <string.h>

#include "x86/platform.h"

#define PAGE_SIZE 0x1000ULL
#define PT_PRESENT 0x1ULL
#define PT_WRITE 0x2ULL
#define PT_HUGE 0x80ULL
#define PT_ENTRIES 512
#define PD_COUNT 4
#define SZ_2M 0x200000ULL
#define SZ_1G 0x40000000ULL

uint64_t boot_low_end(const struct gmem *m)
{
	return m->nregions > 0 && m->r[0].gpa == 0 ? m->r[0].size : 0;
}

int boot_e820_build(const struct gmem *m, struct boot_e820_entry out[BOOT_E820_MAX])
{
	uint64_t low = boot_low_end(m);
	int n = 0;

	if (low < PLAT_HIMEM_START)
		return -EINVAL;
	out[n++] = (struct boot_e820_entry){0, PLAT_EBDA_START, BOOT_E820_RAM};
	out[n++] = (struct boot_e820_entry){PLAT_EBDA_START, PLAT_HIMEM_START - PLAT_EBDA_START,
					    BOOT_E820_RESERVED};
	if (low > PLAT_HIMEM_START)
		out[n++] = (struct boot_e820_entry){PLAT_HIMEM_START, low - PLAT_HIMEM_START,
						    BOOT_E820_RAM};
	if (m->nregions > 1 && m->r[1].size > 0)
		out[n++] = (struct boot_e820_entry){m->r[1].gpa, m->r[1].size, BOOT_E820_RAM};
	return n;
}

int boot_write_gdt(struct gmem *m, struct err *e)
{
	const uint64_t gdt[(BOOT_GDT_LIMIT + 1) / 8] = {
	    0, BOOT_GDT_CODE64, BOOT_GDT_CODE32, BOOT_GDT_DATA, BOOT_GDT_TSS, 0,
	};

	if (gmem_write(m, PLAT_GDT_ADDR, gdt, sizeof(gdt)) < 0)
		return errf(e, -EFAULT, "no guest RAM for the boot GDT at 0x%llx", PLAT_GDT_ADDR);
	return 0;
}

int boot_write_identity_map(struct gmem *m, uint64_t *cr3, struct err *e)
{
	uint64_t *pml4 = gmem_ptr(m, PLAT_PML4_ADDR, PAGE_SIZE);
	uint64_t *pdpt = gmem_ptr(m, PLAT_PDPT_ADDR, PAGE_SIZE);
	uint64_t *pd = gmem_ptr(m, PLAT_PD_ADDR, PD_COUNT * PAGE_SIZE);

	if (!pml4 || !pdpt || !pd)
		return errf(e, -EFAULT, "no guest RAM for the page tables at 0x%llx",
			    PLAT_PML4_ADDR);
	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	pml4[0] = PLAT_PDPT_ADDR | PT_PRESENT | PT_WRITE;
	for (unsigned i = 0; i < PD_COUNT; i++)
		pdpt[i] = (PLAT_PD_ADDR + i * PAGE_SIZE) | PT_PRESENT | PT_WRITE;
	for (uint64_t i = 0; i < PD_COUNT * PT_ENTRIES; i++)
		pd[i] = (i * SZ_2M) | PT_PRESENT | PT_WRITE | PT_HUGE;
	*cr3 = PLAT_PML4_ADDR;
	return 0;
}

int boot_write_cmdline(struct gmem *m, const char *cmdline, uint64_t max, struct err *e)
{
	size_t len = strlen(cmdline);

	if (max > PLAT_CMDLINE_MAX - 1)
		max = PLAT_CMDLINE_MAX - 1;
	if (len > max)
		return errf(e, -E2BIG, "command line is %zu bytes, the kernel accepts at most %llu",
			    len, (unsigned long long)max);
	if (gmem_write(m, PLAT_CMDLINE_ADDR, cmdline, len + 1) < 0)
		return errf(e, -EFAULT, "no guest RAM for the command line at 0x%llx",
			    PLAT_CMDLINE_ADDR);
	return 0;
}

int boot_place_initrd(struct gmem *m, const struct boot_config *bc, uint64_t floor,
		      uint64_t ceiling, uint64_t *gpa, struct err *e)
{
	uint64_t low = boot_low_end(m), addr;

	*gpa = 0;
	if (!bc->initrd || bc->initrd_len == 0)
		return 0;
	if (ceiling > low)
		ceiling = low;
	if (floor > UINT64_MAX - (PAGE_SIZE - 1))
		goto nospace;
	floor = (floor + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (floor < PLAT_HIMEM_START)
		floor = PLAT_HIMEM_START;
	if (bc->initrd_len > ceiling)
		goto nospace;
	addr = (ceiling - bc->initrd_len) & ~(PAGE_SIZE - 1);
	if (addr < floor)
		goto nospace;
	if (gmem_write(m, addr, bc->initrd, bc->initrd_len) < 0)
		goto nospace;
	*gpa = addr;
	return 0;

nospace:
	return errf(e, -ENOSPC, "initrd (%zu bytes) does not fit in guest memory below 0x%llx",
		    bc->initrd_len, (unsigned long long)ceiling);
}

int boot_load_range(struct gmem *m, uint64_t gpa, const uint8_t *src, uint64_t len, uint64_t memsz,
		    const char *what, struct err *e)
{
	uint64_t low = boot_low_end(m);
	uint8_t *dst;

	if (memsz == 0)
		return 0;
	if (gpa < PLAT_HIMEM_START)
		return errf(e, -EINVAL, "%s at 0x%llx overlaps the boot area below 0x%llx", what,
			    (unsigned long long)gpa, PLAT_HIMEM_START);
	if (gpa > low || memsz > low - gpa)
		return errf(e, -ENOMEM, "%s needs %llu bytes at 0x%llx, guest RAM ends at 0x%llx",
			    what, (unsigned long long)memsz, (unsigned long long)gpa,
			    (unsigned long long)low);
	dst = gmem_ptr(m, gpa, memsz);
	if (!dst || len > memsz)
		return errf(e, -EFAULT, "%s does not fit guest RAM at 0x%llx", what,
			    (unsigned long long)gpa);
	if (len)
		memcpy(dst, src, len);
	memset(dst + len, 0, memsz - len);
	return 0;
}
