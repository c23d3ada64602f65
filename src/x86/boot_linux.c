/* boot_linux.c: the Linux x86 boot protocol (bzImage, protocol 2.06 or later), entered through
 * the 64-bit entry (load address + 0x200, long mode) or the 32-bit one (code32_start). */
#include "x86/boot_common.h"

#include <errno.h>
#include <string.h>

#include "x86/bootparam.h"
#include "x86/platform.h"

#define SECTOR 512
#define HDR_MIN_END 0x206 /* through the "HdrS" magic */
#define SZ_4G 0x100000000ULL

/* What the loader needs from the image, after validation. */
struct linux_image {
	struct setup_header hdr; /* as in the file, zero past the header's end */
	size_t hdr_len;		 /* bytes of setup header copied from the file */
	size_t pm_off, pm_len;	 /* protected-mode kernel in the file */
	uint64_t need;		 /* bytes it occupies at PLAT_HIMEM_START */
	uint64_t end;		 /* lowest address above everything the kernel may use */
};

bool boot_linux_probe(const uint8_t *buf, size_t len)
{
	return len >= HDR_MIN_END && boot_le32(buf, 0x202) == LINUX_HDRS_MAGIC;
}

static int parse(const uint8_t *buf, size_t len, struct linux_image *li, struct err *e)
{
	const struct setup_header *h = &li->hdr;
	size_t sects, setup_len, hdr_end;
	uint64_t init, pref_end;

	memset(li, 0, sizeof(*li));
	sects = buf[LINUX_HDR_OFFSET] ? buf[LINUX_HDR_OFFSET] : LINUX_DEFAULT_SETUP_SECTS;
	setup_len = (sects + 1) * SECTOR;
	if (len < setup_len)
		return errf(e, -ENOEXEC, "truncated bzImage: setup needs %zu bytes, file has %zu",
			    setup_len, len);
	/* setup_len >= 1024 > sizeof the header, so the whole header is inside the file. */
	hdr_end = 0x202 + (size_t)buf[0x201];
	if (hdr_end > LINUX_HDR_OFFSET + sizeof(li->hdr))
		hdr_end = LINUX_HDR_OFFSET + sizeof(li->hdr);
	li->hdr_len = hdr_end - LINUX_HDR_OFFSET;
	memcpy(&li->hdr, buf + LINUX_HDR_OFFSET, li->hdr_len);
	if (boot_le16(buf, 0x206) < LINUX_MIN_VERSION)
		return errf(e, -ENOEXEC,
			    "Linux boot protocol %u.%02u is too old (2.06 or later "
			    "needed)",
			    buf[0x207], buf[0x206]);
	if (li->hdr_len < offsetof(struct setup_header, cmdline_size) + 4)
		return errf(e, -ENOEXEC, "bzImage setup header ends at 0x%zx, before cmdline_size",
			    hdr_end);
	if (!(h->loadflags & LINUX_LOADED_HIGH))
		return errf(e, -ENOEXEC, "zImage kernels (not loaded high) are not supported");
	li->pm_off = setup_len;
	li->pm_len = len - setup_len;
	/* syssize counts 16-byte units, so it may run up to 15 bytes past the file's end (Debian's
	 * memtest86+ 6.10): GRUB and QEMU load by the file's size, and so do we. */
	if ((uint64_t)h->syssize * 16 > (uint64_t)li->pm_len + 15)
		return errf(e, -ENOEXEC,
			    "truncated bzImage: kernel needs %llu bytes after the "
			    "setup, file has %zu",
			    (unsigned long long)h->syssize * 16, li->pm_len);
	if (li->pm_len == 0)
		return errf(e, -ENOEXEC, "truncated bzImage: no kernel after the setup");
	init = h->version >= 0x020a ? h->init_size : 0;
	li->need = init > li->pm_len ? init : li->pm_len;
	li->end = PLAT_HIMEM_START + li->need;
	/* The decompressor puts the kernel at max(load address aligned up, pref_address), so
	 * [pref_address, + init_size) must be RAM too, and the initrd must stay clear of it. */
	if (h->version >= 0x020a && h->pref_address > PLAT_HIMEM_START && h->pref_address < SZ_4G) {
		pref_end = h->pref_address + init;
		if (pref_end > li->end)
			li->end = pref_end;
	}
	return 0;
}

static void fill_e820(struct boot_params *bp, const struct gmem *m)
{
	struct boot_e820_entry map[BOOT_E820_MAX];
	int n = boot_e820_build(m, map);

	for (int i = 0; i < n; i++) {
		bp->e820_table[i].addr = map[i].addr;
		bp->e820_table[i].size = map[i].size;
		bp->e820_table[i].type = map[i].type;
	}
	bp->e820_entries = n > 0 ? (uint8_t)n : 0;
}

int boot_linux_load(struct gmem *m, const struct boot_config *bc, struct boot_entry *out,
		    struct err *e)
{
	struct linux_image li;
	struct boot_params *bp;
	uint64_t initrd_max, initrd_gpa = 0, low = boot_low_end(m);
	int ret;

	ret = parse(bc->kernel, bc->kernel_len, &li, e);
	if (ret < 0)
		return ret;
	if (li.need > low || PLAT_HIMEM_START > low - li.need)
		return errf(e, -ENOMEM,
			    "kernel needs %llu bytes at 0x%llx, guest RAM ends at 0x%llx",
			    (unsigned long long)li.need, PLAT_HIMEM_START, (unsigned long long)low);
	if (li.end > low)
		return errf(e, -ENOMEM,
			    "kernel needs %llu bytes at its preferred address 0x%llx, "
			    "guest RAM ends at 0x%llx",
			    (unsigned long long)li.hdr.init_size,
			    (unsigned long long)li.hdr.pref_address, (unsigned long long)low);
	ret = boot_write_cmdline(m, bc->cmdline, li.hdr.cmdline_size, e);
	if (ret < 0)
		return ret;
	/* The kernel clears what it uses beyond the file (bss, decompression buffer) itself. */
	ret = boot_load_range(m, PLAT_HIMEM_START, bc->kernel + li.pm_off, li.pm_len, li.pm_len,
			      "kernel", e);
	if (ret < 0)
		return ret;
	initrd_max = li.hdr.version >= 0x0203 ? li.hdr.initrd_addr_max : LINUX_OLD_INITRD_MAX;
	/* Even with XLF_CAN_BE_LOADED_ABOVE_4G the initrd stays below 4 GiB (in low RAM). */
	ret = boot_place_initrd(m, bc, li.end, initrd_max + 1ULL, &initrd_gpa, e);
	if (ret < 0)
		return ret;

	bp = gmem_ptr(m, PLAT_ZEROPAGE_ADDR, sizeof(*bp));
	if (!bp)
		return errf(e, -EFAULT, "no guest RAM for the zero page at 0x%llx",
			    PLAT_ZEROPAGE_ADDR);
	memset(bp, 0, sizeof(*bp));
	memcpy(&bp->hdr, &li.hdr, li.hdr_len);
	bp->hdr.type_of_loader = LINUX_LOADER_UNDEFINED;
	bp->hdr.loadflags |= LINUX_CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = LINUX_HEAP_END_PTR;
	bp->hdr.code32_start = (uint32_t)PLAT_HIMEM_START;
	bp->hdr.cmd_line_ptr = (uint32_t)PLAT_CMDLINE_ADDR;
	bp->ext_cmd_line_ptr = 0;
	if (initrd_gpa) {
		bp->hdr.ramdisk_image = (uint32_t)initrd_gpa;
		bp->hdr.ramdisk_size = (uint32_t)bc->initrd_len;
		bp->ext_ramdisk_image = (uint32_t)(initrd_gpa >> 32);
		bp->ext_ramdisk_size = (uint32_t)((uint64_t)bc->initrd_len >> 32);
	}
	if (li.hdr.version >= 0x020e)
		bp->acpi_rsdp_addr = bc->rsdp_gpa;
	fill_e820(bp, m);

	ret = boot_write_gdt(m, e);
	if (ret < 0)
		return ret;
	memset(out, 0, sizeof(*out));
	out->rsp = PLAT_STACK_TOP;
	out->rsi = PLAT_ZEROPAGE_ADDR;
	out->initrd_gpa = initrd_gpa;
	out->initrd_size = initrd_gpa ? bc->initrd_len : 0;
	if (li.hdr.version >= 0x020c && (li.hdr.xloadflags & LINUX_XLF_KERNEL_64)) {
		out->kind = BOOT_BZIMAGE64;
		out->mode = BOOT_MODE_LONG64;
		out->rip = PLAT_HIMEM_START + LINUX_ENTRY64_OFFSET;
		return boot_write_identity_map(m, &out->cr3, e);
	}
	out->kind = BOOT_BZIMAGE32;
	out->mode = BOOT_MODE_PROT32;
	out->rip = PLAT_HIMEM_START;
	return 0;
}
