/* test_boot.c: the kernel loaders (bzImage, PVH ELF, Multiboot) on synthetic images built here,
 * on the host's /boot/vmlinuz-* when present, and the exact messages for bad input. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "x86/boot.h"
#include "x86/bootparam.h"
#include "x86/platform.h"

#define MiB (1024ULL * 1024)
#define RAM_SIZE (64 * MiB)

struct fx {
	struct gmem m;
	struct boot_config bc;
	struct boot_entry out;
	struct err e;
	uint8_t img[64 * 1024];
	size_t len;
};

static void put16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	put16(p, off, (uint16_t)v);
	put16(p, off + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
	put32(p, off, (uint32_t)v);
	put32(p, off + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || gmem_init(&f->m, RAM_SIZE, 0) < 0)
		return -1;
	f->bc.cmdline = "console=ttyS0";
	f->bc.rsdp_gpa = PLAT_ACPI_ADDR;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	gmem_destroy(&f->m);
	free(f);
	return 0;
}

static int load(struct fx *f)
{
	f->bc.kernel = f->img;
	f->bc.kernel_len = f->len;
	memset(&f->e, 0, sizeof(f->e));
	return boot_load(&f->m, &f->bc, &f->out, &f->e);
}

static void *gp(struct fx *f, uint64_t gpa, uint64_t len)
{
	void *p = gmem_ptr(&f->m, gpa, len);

	assert_non_null(p);
	return p;
}

/* ---- synthetic images ---- */

#define BZ_SETUP_SECTS 4
#define BZ_SETUP_LEN ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_PM_LEN 4096

static void make_bzimage(struct fx *f, int is64)
{
	uint8_t *b = f->img;

	memset(b, 0, sizeof(f->img));
	b[0x1f1] = BZ_SETUP_SECTS;
	put32(b, 0x1f4, BZ_PM_LEN / 16);
	put16(b, 0x1fa, 0xffff);
	put16(b, 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a; /* header ends at 0x26c */
	put32(b, 0x202, LINUX_HDRS_MAGIC);
	put16(b, 0x206, 0x020f);
	b[0x211] = LINUX_LOADED_HIGH;
	put32(b, 0x214, 0x100000);
	put32(b, 0x22c, 0x7fffffff);
	put32(b, 0x230, 0x200000);
	b[0x234] = 1;
	put16(b, 0x236, is64 ? LINUX_XLF_KERNEL_64 | LINUX_XLF_CAN_BE_LOADED_ABOVE_4G : 0);
	put32(b, 0x238, 0x7ff);
	put64(b, 0x258, 0x1000000);
	put32(b, 0x260, 0x200000);
	for (size_t i = 0; i < BZ_PM_LEN; i++)
		b[BZ_SETUP_LEN + i] = (uint8_t)(i * 7 + 1);
	f->len = BZ_SETUP_LEN + BZ_PM_LEN;
}

#define ELF_PHOFF 0x40
#define ELF_NOTE_OFF 0x200
#define ELF_CODE_OFF 0x1000
#define ELF_CODE_LEN 0x100
#define ELF_LOAD_PA 0x200000ULL
#define ELF_BSS 0x3000

/* An x86 ELF (class 32 or 64) with one PT_LOAD at ELF_LOAD_PA (vaddr = vbase + paddr) and, if
 * note_entry != 0, a PT_NOTE holding the Xen PVH entry note. */
static void make_elf(struct fx *f, int is64, uint64_t note_entry, uint64_t vbase, uint64_t entry)
{
	uint8_t *b = f->img;
	size_t phent = is64 ? 56 : 32, ph = ELF_PHOFF;
	unsigned phnum = note_entry ? 2 : 1;

	memset(b, 0, sizeof(f->img));
	memcpy(b, "\177ELF", 4);
	b[4] = is64 ? 2 : 1;
	b[5] = 1;
	b[6] = 1;
	put16(b, 16, 2);
	put16(b, 18, is64 ? 62 : 3);
	put32(b, 20, 1);
	if (is64) {
		put64(b, 24, entry);
		put64(b, 32, ELF_PHOFF);
		put16(b, 52, 64);
		put16(b, 54, (uint16_t)phent);
		put16(b, 56, (uint16_t)phnum);
		put32(b, ph, 1);
		put32(b, ph + 4, 7);
		put64(b, ph + 8, ELF_CODE_OFF);
		put64(b, ph + 16, vbase + ELF_LOAD_PA);
		put64(b, ph + 24, ELF_LOAD_PA);
		put64(b, ph + 32, ELF_CODE_LEN);
		put64(b, ph + 40, ELF_CODE_LEN + ELF_BSS);
		put64(b, ph + 48, 0x1000);
	} else {
		put32(b, 24, (uint32_t)entry);
		put32(b, 28, ELF_PHOFF);
		put16(b, 40, 52);
		put16(b, 42, (uint16_t)phent);
		put16(b, 44, (uint16_t)phnum);
		put32(b, ph, 1);
		put32(b, ph + 4, ELF_CODE_OFF);
		put32(b, ph + 8, (uint32_t)(vbase + ELF_LOAD_PA));
		put32(b, ph + 12, (uint32_t)ELF_LOAD_PA);
		put32(b, ph + 16, ELF_CODE_LEN);
		put32(b, ph + 20, ELF_CODE_LEN + ELF_BSS);
		put32(b, ph + 24, 7);
		put32(b, ph + 28, 0x1000);
	}
	if (note_entry) {
		/* A GNU note first, then the Xen one, to exercise the walk. */
		size_t n = ELF_NOTE_OFF, len;

		put32(b, n, 4);
		put32(b, n + 4, 4);
		put32(b, n + 8, 1);
		memcpy(b + n + 12, "GNU", 4);
		put32(b, n + 16, 0x12345678);
		n += 20;
		put32(b, n, 4);
		put32(b, n + 4, 4);
		put32(b, n + 8, 18);
		memcpy(b + n + 12, "Xen", 4);
		put32(b, n + 16, (uint32_t)note_entry);
		len = n + 20 - ELF_NOTE_OFF;
		ph += phent;
		put32(b, ph, 4);
		if (is64) {
			put64(b, ph + 8, ELF_NOTE_OFF);
			put64(b, ph + 32, len);
			put64(b, ph + 40, len);
			put64(b, ph + 48, 4);
		} else {
			put32(b, ph + 4, ELF_NOTE_OFF);
			put32(b, ph + 16, (uint32_t)len);
			put32(b, ph + 20, (uint32_t)len);
			put32(b, ph + 28, 4);
		}
	}
	for (size_t i = 0; i < ELF_CODE_LEN; i++)
		b[ELF_CODE_OFF + i] = (uint8_t)(0x90 + (i & 3));
	f->len = ELF_CODE_OFF + ELF_CODE_LEN;
}

static void put_mb_header(uint8_t *b, size_t off, uint32_t flags)
{
	put32(b, off, 0x1BADB002);
	put32(b, off + 4, flags);
	put32(b, off + 8, (uint32_t)(0u - 0x1BADB002u - flags));
}

#define MB_LOAD 0x100000U
#define MB_HDR_OFF 0x40
#define MB_LEN 0x800
#define MB_BSS_END (MB_LOAD + 0x4000)
#define MB_ENTRY (MB_LOAD + 0x100)

/* A raw (non-ELF) Multiboot kernel using the header's address fields. */
static void make_mb_aout(struct fx *f, uint32_t extra_flags)
{
	uint8_t *b = f->img;

	memset(b, 0, sizeof(f->img));
	for (size_t i = 0; i < MB_LEN; i++)
		b[i] = (uint8_t)(i ^ 0x5a);
	put_mb_header(b, MB_HDR_OFF, (1U << 16) | (1U << 1) | (1U << 0) | extra_flags);
	put32(b, MB_HDR_OFF + 12, MB_LOAD + MB_HDR_OFF);
	put32(b, MB_HDR_OFF + 16, MB_LOAD);
	put32(b, MB_HDR_OFF + 20, MB_LOAD + MB_LEN);
	put32(b, MB_HDR_OFF + 24, MB_BSS_END);
	put32(b, MB_HDR_OFF + 28, MB_ENTRY);
	f->len = MB_LEN;
}

/* ---- e820 ---- */

static void test_e820_small(void **state)
{
	struct gmem m = {.nregions = 1, .r = {{.gpa = 0, .size = 64 * MiB}}};
	struct boot_e820_entry map[BOOT_E820_MAX];

	(void)state;
	assert_int_equal(boot_e820_build(&m, map), 3);
	assert_int_equal(map[0].addr, 0);
	assert_int_equal(map[0].size, PLAT_EBDA_START);
	assert_int_equal(map[0].type, BOOT_E820_RAM);
	assert_int_equal(map[1].addr, PLAT_EBDA_START);
	assert_int_equal(map[1].addr + map[1].size, 1 * MiB);
	assert_int_equal(map[1].type, BOOT_E820_RESERVED);
	assert_true(map[1].addr <= PLAT_ACPI_ADDR &&
		    PLAT_ACPI_ADDR + PLAT_ACPI_MAX <= map[1].addr + map[1].size);
	assert_int_equal(map[2].addr, 1 * MiB);
	assert_int_equal(map[2].size, 63 * MiB);
	assert_int_equal(map[2].type, BOOT_E820_RAM);
}

static void test_e820_high_and_tiny(void **state)
{
	struct gmem big = {.nregions = 2,
			   .r = {{.gpa = 0, .size = GMEM_HOLE_START},
				 {.gpa = GMEM_HIGH_START, .size = 512 * MiB}}};
	struct gmem one = {.nregions = 1, .r = {{.gpa = 0, .size = 1 * MiB}}};
	struct gmem none = {.nregions = 1, .r = {{.gpa = 0, .size = 512 * 1024}}};
	struct boot_e820_entry map[BOOT_E820_MAX];

	(void)state;
	assert_int_equal(boot_e820_build(&big, map), 4);
	assert_int_equal(map[2].addr + map[2].size, GMEM_HOLE_START);
	assert_int_equal(map[3].addr, GMEM_HIGH_START);
	assert_int_equal(map[3].size, 512 * MiB);
	assert_int_equal(map[3].type, BOOT_E820_RAM);
	assert_int_equal(boot_e820_build(&one, map), 2);
	assert_int_equal(boot_e820_build(&none, map), -EINVAL);
}

/* ---- bzImage ---- */

static void check_gdt(struct fx *f)
{
	uint64_t *g = gp(f, PLAT_GDT_ADDR, BOOT_GDT_LIMIT + 1);

	assert_int_equal(g[0], 0);
	assert_int_equal(g[BOOT_SEL_CODE64 / 8], BOOT_GDT_CODE64);
	assert_int_equal(g[BOOT_SEL_CODE32 / 8], BOOT_GDT_CODE32);
	assert_int_equal(g[BOOT_SEL_DATA / 8], BOOT_GDT_DATA);
	assert_int_equal(g[BOOT_SEL_TSS / 8], BOOT_GDT_TSS);
	assert_int_equal(g[BOOT_SEL_TSS / 8 + 1], 0);
}

static void test_bzimage64(void **state)
{
	struct fx *f = *state;
	static uint8_t initrd[10000];
	struct boot_params *bp;
	uint64_t *pml4, *pdpt, *pd;

	memset(initrd, 0xab, sizeof(initrd));
	make_bzimage(f, 1);
	f->bc.initrd = initrd;
	f->bc.initrd_len = sizeof(initrd);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->out.kind, BOOT_BZIMAGE64);
	assert_int_equal(f->out.mode, BOOT_MODE_LONG64);
	assert_int_equal(f->out.rip, 0x100200);
	assert_int_equal(f->out.rsi, PLAT_ZEROPAGE_ADDR);
	assert_int_equal(f->out.rsp, PLAT_STACK_TOP);
	assert_int_equal(f->out.cr3, PLAT_PML4_ADDR);
	assert_memory_equal(gp(f, 1 * MiB, BZ_PM_LEN), f->img + BZ_SETUP_LEN, BZ_PM_LEN);

	bp = gp(f, PLAT_ZEROPAGE_ADDR, sizeof(*bp));
	assert_int_equal(bp->hdr.header, LINUX_HDRS_MAGIC);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.loadflags, LINUX_LOADED_HIGH | LINUX_CAN_USE_HEAP);
	assert_int_equal(bp->hdr.heap_end_ptr, 0xfe00);
	assert_int_equal(bp->hdr.cmd_line_ptr, PLAT_CMDLINE_ADDR);
	assert_string_equal(gp(f, PLAT_CMDLINE_ADDR, 14), "console=ttyS0");
	assert_int_equal(bp->hdr.ramdisk_size, sizeof(initrd));
	assert_int_equal(bp->hdr.ramdisk_image, (RAM_SIZE - sizeof(initrd)) & ~0xfffULL);
	assert_int_equal(bp->ext_ramdisk_image, 0);
	assert_int_equal(f->out.initrd_gpa, bp->hdr.ramdisk_image);
	assert_memory_equal(gp(f, bp->hdr.ramdisk_image, sizeof(initrd)), initrd, sizeof(initrd));
	assert_int_equal(bp->acpi_rsdp_addr, PLAT_ACPI_ADDR);
	assert_int_equal(bp->e820_entries, 3);
	assert_int_equal(bp->e820_table[0].size, PLAT_EBDA_START);
	assert_int_equal(bp->e820_table[1].type, BOOT_E820_RESERVED);
	assert_int_equal(bp->e820_table[2].addr, 1 * MiB);
	assert_int_equal(bp->e820_table[2].size, RAM_SIZE - 1 * MiB);
	assert_int_equal(bp->sentinel, 0);
	check_gdt(f);

	pml4 = gp(f, PLAT_PML4_ADDR, 4096);
	pdpt = gp(f, PLAT_PDPT_ADDR, 4096);
	pd = gp(f, PLAT_PD_ADDR, 4 * 4096);
	assert_int_equal(pml4[0], PLAT_PDPT_ADDR | 3);
	assert_int_equal(pml4[1], 0);
	assert_int_equal(pdpt[3], (PLAT_PD_ADDR + 3 * 4096) | 3);
	assert_int_equal(pdpt[4], 0);
	assert_int_equal(pd[0], 0x83);
	assert_int_equal(pd[2047], (2047ULL << 21) | 0x83);
}

static void test_bzimage32(void **state)
{
	struct fx *f = *state;
	struct boot_params *bp;

	make_bzimage(f, 0);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->out.kind, BOOT_BZIMAGE32);
	assert_int_equal(f->out.mode, BOOT_MODE_PROT32);
	assert_int_equal(f->out.rip, 0x100000);
	assert_int_equal(f->out.rsi, PLAT_ZEROPAGE_ADDR);
	bp = gp(f, PLAT_ZEROPAGE_ADDR, sizeof(*bp));
	assert_int_equal(bp->hdr.code32_start, 0x100000);
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->hdr.ramdisk_size, 0);
	check_gdt(f);
}

static void test_bzimage_initrd_below_max(void **state)
{
	struct fx *f = *state;
	static uint8_t initrd[5000];
	struct boot_params *bp;

	make_bzimage(f, 1);
	put32(f->img, 0x22c, 0x01ffffff); /* initrd_addr_max 32 MiB - 1 */
	f->bc.initrd = initrd;
	f->bc.initrd_len = sizeof(initrd);
	assert_int_equal(load(f), 0);
	bp = gp(f, PLAT_ZEROPAGE_ADDR, sizeof(*bp));
	assert_int_equal(bp->hdr.ramdisk_image, (32 * MiB - sizeof(initrd)) & ~0xfffULL);
}

static int find_vmlinuz(char *path, size_t n)
{
	DIR *d = opendir("/boot");
	struct dirent *de;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d)))
		if (!strncmp(de->d_name, "vmlinuz-", 8)) {
			snprintf(path, n, "/boot/%s", de->d_name);
			found = 1;
		}
	closedir(d);
	return found;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long sz;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (sz = ftell(fp)) > 0 && fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)sz);
		if (buf && fread(buf, 1, (size_t)sz, fp) != (size_t)sz) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)sz;
	}
	fclose(fp);
	return buf;
}

static void test_real_vmlinuz(void **state)
{
	char path[512];
	struct gmem m;
	struct boot_config bc = {.cmdline = "console=ttyS0 panic=-1", .rsdp_gpa = PLAT_ACPI_ADDR};
	struct boot_entry out;
	struct err e = {{0}};
	struct boot_params *bp;
	static uint8_t initrd[1 << 20];
	uint8_t *img;
	size_t len = 0;

	(void)state;
	if (!find_vmlinuz(path, sizeof(path)))
		skip();
	img = read_file(path, &len);
	if (!img)
		skip(); /* unreadable for this user */
	assert_int_equal(gmem_init(&m, 256 * MiB, 0), 0);
	bc.kernel = img;
	bc.kernel_len = len;
	bc.initrd = initrd;
	bc.initrd_len = sizeof(initrd);
	if (boot_load(&m, &bc, &out, &e) != 0)
		fail_msg("%s: %s", path, e.msg);
	assert_int_equal(out.kind, BOOT_BZIMAGE64);
	assert_string_equal(boot_kind_name(out.kind), "Linux bzImage (64-bit boot protocol)");
	assert_int_equal(out.mode, BOOT_MODE_LONG64);
	assert_int_equal(out.rip, 0x100200);
	bp = gmem_ptr(&m, PLAT_ZEROPAGE_ADDR, sizeof(*bp));
	assert_non_null(bp);
	assert_int_equal(bp->hdr.header, LINUX_HDRS_MAGIC);
	assert_true(bp->hdr.version >= 0x020c);
	assert_int_equal(bp->hdr.setup_sects, img[0x1f1]);
	assert_int_equal(bp->hdr.init_size, get32(img + 0x260));
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_true(bp->hdr.loadflags & LINUX_LOADED_HIGH);
	assert_true(bp->hdr.loadflags & LINUX_CAN_USE_HEAP);
	assert_int_equal(bp->hdr.cmd_line_ptr, PLAT_CMDLINE_ADDR);
	assert_int_equal(bp->hdr.ramdisk_size, sizeof(initrd));
	assert_int_equal(bp->hdr.ramdisk_image, 255 * MiB);
	assert_true(bp->hdr.ramdisk_image >= bp->hdr.pref_address + bp->hdr.init_size);
	assert_int_equal(bp->acpi_rsdp_addr, PLAT_ACPI_ADDR);
	assert_int_equal(bp->e820_entries, 3);
	assert_int_equal(bp->e820_table[2].addr + bp->e820_table[2].size, 256 * MiB);
	gmem_destroy(&m);
	free(img);
}

/* ---- PVH ---- */

static void check_pvh(struct fx *f, int is64)
{
	static uint8_t initrd[3000];
	uint8_t *bss;
	const uint32_t *si32;
	const uint64_t *mod, *map;

	make_elf(f, is64, ELF_LOAD_PA + 0x10, 0, ELF_LOAD_PA);
	memset(gp(f, ELF_LOAD_PA, ELF_CODE_LEN + ELF_BSS), 0xcc, ELF_CODE_LEN + ELF_BSS);
	f->bc.initrd = initrd;
	f->bc.initrd_len = sizeof(initrd);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->out.kind, BOOT_PVH);
	assert_int_equal(f->out.mode, BOOT_MODE_PROT32);
	assert_int_equal(f->out.rip, ELF_LOAD_PA + 0x10);
	assert_int_equal(f->out.rbx, PLAT_BOOTINFO_ADDR);
	assert_memory_equal(gp(f, ELF_LOAD_PA, ELF_CODE_LEN), f->img + ELF_CODE_OFF, ELF_CODE_LEN);
	bss = gp(f, ELF_LOAD_PA + ELF_CODE_LEN, ELF_BSS);
	for (size_t i = 0; i < ELF_BSS; i++)
		assert_int_equal(bss[i], 0);

	si32 = gp(f, PLAT_BOOTINFO_ADDR, 56);
	assert_int_equal(si32[0], 0x336ec578);
	assert_int_equal(si32[1], 1);
	assert_int_equal(si32[3], 1); /* nr_modules */
	assert_int_equal(*(const uint64_t *)(si32 + 6), PLAT_CMDLINE_ADDR);
	assert_int_equal(*(const uint64_t *)(si32 + 8), PLAT_ACPI_ADDR);
	assert_int_equal(si32[12], 3); /* memmap_entries */
	mod = gp(f, *(const uint64_t *)(si32 + 4), 32);
	assert_int_equal(mod[0], (RAM_SIZE - sizeof(initrd)) & ~0xfffULL);
	assert_int_equal(mod[1], sizeof(initrd));
	map = gp(f, *(const uint64_t *)(si32 + 10), 3 * 24);
	assert_int_equal(map[0], 0);
	assert_int_equal(map[1], PLAT_EBDA_START);
	assert_int_equal((uint32_t)map[2], BOOT_E820_RAM);
	assert_int_equal((uint32_t)map[5], BOOT_E820_RESERVED);
	assert_int_equal(map[6], 1 * MiB);
	assert_int_equal(map[7], RAM_SIZE - 1 * MiB);
	assert_string_equal(gp(f, PLAT_CMDLINE_ADDR, 14), "console=ttyS0");
	check_gdt(f);
}

static void test_pvh_elf64(void **state) { check_pvh(*state, 1); }

static void test_pvh_elf32(void **state) { check_pvh(*state, 0); }

/* ---- Multiboot ---- */

static void test_multiboot_aout(void **state)
{
	struct fx *f = *state;
	static uint8_t initrd[6000];
	const uint32_t *mbi, *mod;
	const uint8_t *mmap, *bss;

	make_mb_aout(f, 0);
	memset(gp(f, MB_LOAD, MB_BSS_END - MB_LOAD), 0xcc, MB_BSS_END - MB_LOAD);
	f->bc.initrd = initrd;
	f->bc.initrd_len = sizeof(initrd);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->out.kind, BOOT_MULTIBOOT);
	assert_int_equal(f->out.mode, BOOT_MODE_PROT32);
	assert_int_equal(f->out.rip, MB_ENTRY);
	assert_int_equal(f->out.rax, 0x2BADB002);
	assert_int_equal(f->out.rbx, PLAT_BOOTINFO_ADDR);
	assert_memory_equal(gp(f, MB_LOAD, MB_LEN), f->img, MB_LEN);
	bss = gp(f, MB_LOAD + MB_LEN, MB_BSS_END - MB_LOAD - MB_LEN);
	for (size_t i = 0; i < MB_BSS_END - MB_LOAD - MB_LEN; i++)
		assert_int_equal(bss[i], 0);

	mbi = gp(f, PLAT_BOOTINFO_ADDR, 72);
	assert_int_equal(mbi[0] & 0x4d, 0x4d); /* mem, cmdline, mods, mmap */
	assert_int_equal(mbi[1], 639);
	assert_int_equal(mbi[2], (RAM_SIZE - 1 * MiB) / 1024);
	assert_int_equal(mbi[4], PLAT_CMDLINE_ADDR);
	assert_int_equal(mbi[5], 1);
	mod = gp(f, mbi[6], 16);
	assert_int_equal(mod[0], (RAM_SIZE - sizeof(initrd)) & ~0xfffULL);
	assert_int_equal(mod[1] - mod[0], sizeof(initrd));
	assert_int_equal(mod[0] & 0xfff, 0);
	assert_int_equal(mbi[11], 3 * 24);
	mmap = gp(f, mbi[12], 3 * 24);
	assert_int_equal(get32(mmap), 20);
	assert_int_equal(get64(mmap + 4), 0);
	assert_int_equal(get64(mmap + 12), PLAT_EBDA_START);
	assert_int_equal(get32(mmap + 20), BOOT_E820_RAM);
	assert_int_equal(get64(mmap + 48 + 4), 1 * MiB);
	assert_string_equal(gp(f, mbi[16], 10), "thinvisor");
	check_gdt(f);
}

static void test_multiboot_elf(void **state)
{
	struct fx *f = *state;

	/* Higher-half style: vaddr = 0xC0000000 + paddr, entry given as a virtual address. */
	make_elf(f, 0, 0, 0xC0000000ULL, 0xC0000000ULL + ELF_LOAD_PA + 0x20);
	put_mb_header(f->img, ELF_CODE_OFF, 0x3);
	assert_int_equal(load(f), 0);
	assert_int_equal(f->out.kind, BOOT_MULTIBOOT);
	assert_int_equal(f->out.rip, ELF_LOAD_PA + 0x20);
	assert_int_equal(f->out.rax, 0x2BADB002);
	assert_int_equal(f->out.rbx, PLAT_BOOTINFO_ADDR);
	assert_int_equal(f->out.initrd_gpa, 0);
	assert_string_equal(boot_kind_name(f->out.kind), "Multiboot kernel");
}

/* ---- negative tests: the exact message a user sees ---- */

static void expect_err(struct fx *f, int code, const char *msg)
{
	int ret = load(f);

	assert_int_equal(ret, code);
	assert_string_equal(f->e.msg, msg);
}

static void test_not_a_kernel(void **state)
{
	struct fx *f = *state;

	memset(f->img, 0x41, 4096);
	f->len = 4096;
	expect_err(f, -ENOEXEC, "not a Linux bzImage, ELF (PVH) or Multiboot kernel");
	/* A Multiboot magic with a wrong checksum is not a Multiboot header. */
	put32(f->img, 0x10, 0x1BADB002);
	expect_err(f, -ENOEXEC, "not a Linux bzImage, ELF (PVH) or Multiboot kernel");
	f->len = 0;
	expect_err(f, -ENOEXEC, "kernel image is empty");
}

static void test_truncated_bzimage(void **state)
{
	struct fx *f = *state;

	make_bzimage(f, 1);
	f->len = 1000;
	expect_err(f, -ENOEXEC, "truncated bzImage: setup needs 2560 bytes, file has 1000");
	make_bzimage(f, 1);
	f->len = BZ_SETUP_LEN + 100;
	expect_err(f, -ENOEXEC,
		   "truncated bzImage: kernel needs 4096 bytes after the setup, file has 100");
	/* syssize rounds up to 16 bytes: up to 15 bytes short of it load (by the file's size) */
	make_bzimage(f, 1);
	f->len = BZ_SETUP_LEN + 4096 - 15;
	assert_int_equal(load(f), 0);
	make_bzimage(f, 1);
	f->len = BZ_SETUP_LEN + 4096 - 16;
	expect_err(f, -ENOEXEC,
		   "truncated bzImage: kernel needs 4096 bytes after the setup, file has 4080");
}

static void test_old_bzimage(void **state)
{
	struct fx *f = *state;

	make_bzimage(f, 1);
	put16(f->img, 0x206, 0x0205);
	expect_err(f, -ENOEXEC, "Linux boot protocol 2.05 is too old (2.06 or later needed)");
	make_bzimage(f, 1);
	f->img[0x211] = 0;
	expect_err(f, -ENOEXEC, "zImage kernels (not loaded high) are not supported");
}

static void test_cmdline_too_long(void **state)
{
	struct fx *f = *state;

	make_bzimage(f, 1);
	put32(f->img, 0x238, 16);
	f->bc.cmdline = "console=ttyS0 quiet";
	expect_err(f, -E2BIG, "command line is 19 bytes, the kernel accepts at most 16");
	f->bc.cmdline = "console=ttyS0 q";
	assert_int_equal(load(f), 0);
}

static void test_initrd_too_big(void **state)
{
	struct fx *f = *state;
	size_t n = 50 * MiB;
	uint8_t *initrd = calloc(1, n);

	assert_non_null(initrd);
	make_bzimage(f, 1);
	f->bc.initrd = initrd;
	f->bc.initrd_len = n;
	/* The kernel may use [16 MiB, 18 MiB) (pref_address + init_size): 50 MiB cannot fit. */
	expect_err(f, -ENOSPC,
		   "initrd (52428800 bytes) does not fit in guest memory below "
		   "0x4000000");
	make_elf(f, 1, ELF_LOAD_PA, 0, ELF_LOAD_PA);
	f->bc.initrd_len = RAM_SIZE;
	expect_err(f, -ENOSPC,
		   "initrd (67108864 bytes) does not fit in guest memory below "
		   "0x4000000");
	free(initrd);
}

static void test_kernel_bigger_than_ram(void **state)
{
	struct fx *f = *state;

	make_bzimage(f, 1);
	put32(f->img, 0x260, 128 * MiB);
	expect_err(f, -ENOMEM,
		   "kernel needs 134217728 bytes at 0x100000, guest RAM ends at 0x4000000");
	make_bzimage(f, 1);
	put32(f->img, 0x260, 56 * MiB); /* fits at 1 MiB, not at pref_address 16 MiB */
	expect_err(f, -ENOMEM,
		   "kernel needs 58720256 bytes at its preferred address 0x1000000, "
		   "guest RAM ends at 0x4000000");
	make_elf(f, 1, ELF_LOAD_PA, 0, ELF_LOAD_PA);
	put64(f->img, ELF_PHOFF + 40, 70 * MiB);
	expect_err(f, -ENOMEM,
		   "ELF segment 0 needs 73400320 bytes at 0x200000, guest RAM "
		   "ends at 0x4000000");
}

static void test_bad_elf(void **state)
{
	struct fx *f = *state;

	make_elf(f, 1, ELF_LOAD_PA, 0, ELF_LOAD_PA);
	put16(f->img, 56, 200); /* e_phnum: (0x1100 - 0x40) / 56 = 76 headers fit */
	expect_err(f, -ENOEXEC, "ELF program header 76 lies outside the file");

	make_elf(f, 1, ELF_LOAD_PA, 0, ELF_LOAD_PA);
	put64(f->img, 32, 0xfffffffffffffff0ULL); /* e_phoff */
	expect_err(f, -ENOEXEC, "ELF program header 0 lies outside the file");

	make_elf(f, 1, ELF_LOAD_PA, 0, ELF_LOAD_PA);
	put64(f->img, ELF_PHOFF + 32, 0x10000); /* p_filesz past the end */
	expect_err(f, -ENOEXEC, "ELF segment 0 (file bytes 0x1000+0x10000) lies outside the file");

	make_elf(f, 1, ELF_LOAD_PA, 0, ELF_LOAD_PA);
	put64(f->img, ELF_PHOFF + 40, 0x10); /* p_memsz < p_filesz */
	expect_err(f, -ENOEXEC, "ELF segment 0 has p_filesz 0x100 above p_memsz 0x10");

	make_elf(f, 1, ELF_LOAD_PA, 0, ELF_LOAD_PA);
	put64(f->img, ELF_PHOFF + 24, 0x8000); /* p_paddr in the boot area */
	expect_err(f, -EINVAL, "ELF segment 0 at 0x8000 overlaps the boot area below 0x100000");

	make_elf(f, 1, 0, 0, ELF_LOAD_PA);
	expect_err(f, -ENOEXEC, "ELF kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");

	make_elf(f, 1, ELF_LOAD_PA, 0, ELF_LOAD_PA);
	put32(f->img, ELF_NOTE_OFF + 20, 0x1000); /* Xen note namesz past the segment */
	expect_err(f, -ENOEXEC, "ELF note in segment 1 is truncated");

	make_elf(f, 1, ELF_LOAD_PA, 0, ELF_LOAD_PA);
	f->len = 40;
	expect_err(f, -ENOEXEC, "truncated ELF header: needs 64 bytes, file has 40");

	make_elf(f, 1, ELF_LOAD_PA, 0, ELF_LOAD_PA);
	put16(f->img, 18, 40); /* ARM */
	expect_err(f, -ENOEXEC, "ELF kernel is for machine 40, not x86");
}

static void test_bad_multiboot(void **state)
{
	struct fx *f = *state;

	make_mb_aout(f, 1U << 2);
	expect_err(f, -ENOTSUP,
		   "Multiboot kernel requires video mode information (header flag "
		   "bit 2), which thinvisor cannot provide");
	make_mb_aout(f, 1U << 5);
	expect_err(f, -ENOTSUP, "Multiboot header requires unknown features (flags 0x0020)");

	memset(f->img, 0, sizeof(f->img));
	put_mb_header(f->img, 0, 0);
	f->len = 4096;
	expect_err(f, -ENOEXEC,
		   "Multiboot kernel is not ELF and its header has no address "
		   "fields (flag bit 16)");

	make_mb_aout(f, 0);
	put32(f->img, MB_HDR_OFF + 20, MB_LOAD + 0x10000); /* load_end past the file */
	expect_err(f, -ENOEXEC,
		   "truncated Multiboot kernel: needs 65536 bytes from offset 0x0, "
		   "file has 2048");

	make_mb_aout(f, 0);
	put32(f->img, MB_HDR_OFF + 12, MB_LOAD + 0x1000); /* header_addr too far from load_addr */
	expect_err(f, -ENOEXEC,
		   "Multiboot header_addr 0x101000 and load_addr 0x100000 do not "
		   "match the header's file offset 0x40");

	make_mb_aout(f, 0);
	put32(f->img, MB_HDR_OFF + 28, 0x50000); /* entry outside */
	expect_err(f, -ENOEXEC,
		   "Multiboot entry_addr 0x50000 lies outside the loaded image "
		   "[0x100000, 0x100800)");

	make_mb_aout(f, 0);
	put32(f->img, MB_HDR_OFF + 24, MB_LOAD + 0x100); /* bss_end below load_end */
	expect_err(f, -ENOEXEC,
		   "Multiboot bss_end_addr 0x100100 is below the image end "
		   "0x100800");

	make_mb_aout(f, 0);
	put32(f->img, MB_HDR_OFF + 24, 0x7ff00000); /* bss beyond RAM */
	expect_err(f, -ENOMEM,
		   "kernel needs 2145386496 bytes at 0x100000, guest RAM ends at "
		   "0x4000000");
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(boot_kind_name(BOOT_BZIMAGE64), "Linux bzImage (64-bit boot protocol)");
	assert_string_equal(boot_kind_name(BOOT_BZIMAGE32), "Linux bzImage (32-bit boot protocol)");
	assert_string_equal(boot_kind_name(BOOT_PVH), "ELF kernel (PVH entry)");
	assert_string_equal(boot_kind_name(BOOT_MULTIBOOT), "Multiboot kernel");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_e820_small),
	    cmocka_unit_test(test_e820_high_and_tiny),
	    T(test_bzimage64),
	    T(test_bzimage32),
	    T(test_bzimage_initrd_below_max),
	    cmocka_unit_test(test_real_vmlinuz),
	    T(test_pvh_elf64),
	    T(test_pvh_elf32),
	    T(test_multiboot_aout),
	    T(test_multiboot_elf),
	    T(test_not_a_kernel),
	    T(test_truncated_bzimage),
	    T(test_old_bzimage),
	    T(test_cmdline_too_long),
	    T(test_initrd_too_big),
	    T(test_kernel_bigger_than_ram),
	    T(test_bad_elf),
	    T(test_bad_multiboot),
	    cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
