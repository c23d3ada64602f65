/* test_fwcfg.c: the BIOS path's pure parts: fw_cfg's port and DMA interface over a fake guest
 * RAM, the ACPI table-loader script (applied here as SeaBIOS would, the result compared with
 * tables built for those addresses), SMBIOS entry point and structures, the bootorder file,
 * the firmware image checks with their exact messages. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/fw_cfg.h"
#include "hw_fakes.h"
#include "util/bytes.h"
#include "x86/acpi.h"
#include "x86/acpi_loader.h"
#include "x86/bios.h"
#include "x86/platform.h"
#include "x86/smbios.h"

#define RAM (1u << 20)

static struct gmem mem;
static uint8_t *ram;

static struct fw_cfg *mkfc(void)
{
	struct fw_cfg *fc;

	ram = calloc(1, RAM);
	assert_non_null(ram);
	memset(&mem, 0, sizeof(mem));
	mem.nregions = 1;
	mem.r[0] = (struct gmem_region){.gpa = 0, .size = RAM, .hva = ram};
	assert_int_equal(fw_cfg_create(&mem, &fc), 0);
	return fc;
}

static void sel(struct fw_cfg *fc, uint16_t key)
{
	uint8_t b[2] = {(uint8_t)key, (uint8_t)(key >> 8)};

	fw_cfg_io(fc, 0, b, 2, true);
}

static void rd(struct fw_cfg *fc, uint8_t *out, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fw_cfg_io(fc, 1, out + i, 1, false);
}

static void be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* Run a DMA descriptor at gpa (RAM offset) asking ctl/len/addr; returns the control word. */
static uint32_t dma(struct fw_cfg *fc, uint64_t gpa, uint32_t ctl, uint32_t len, uint64_t addr)
{
	uint8_t hi[4], lo[4];

	be(ram + gpa, ctl, 4);
	be(ram + gpa + 4, len, 4);
	be(ram + gpa + 8, addr, 8);
	be(hi, gpa >> 32, 4);
	be(lo, gpa & 0xffffffff, 4);
	fw_cfg_io(fc, 4, hi, 4, true);
	fw_cfg_io(fc, 8, lo, 4, true);
	return (uint32_t)(ram[gpa] << 24 | ram[gpa + 1] << 16 | ram[gpa + 2] << 8 | ram[gpa + 3]);
}

static void test_ports(void **st)
{
	struct fw_cfg *fc = mkfc();
	uint8_t b[16], sig[8];

	sel(fc, FW_CFG_SIGNATURE);
	rd(fc, b, 5);
	assert_memory_equal(b, "QEMU\0", 5); /* zero past the end */
	sel(fc, FW_CFG_ID);
	rd(fc, b, 4);
	assert_int_equal(le_get(b, 4), 3); /* traditional + DMA */
	for (unsigned i = 0; i < 8; i++)
		fw_cfg_io(fc, 4 + i, sig + i, 1, false);
	assert_memory_equal(sig, "QEMU CFG", 8);
	assert_int_equal(fw_cfg_add_file(fc, "etc/a", "xyz", 3), 0);
	assert_int_equal(fw_cfg_add_file(fc, "etc/a", "x", 1), -EEXIST);
	assert_int_equal(fw_cfg_add_file(fc, "", "x", 1), -EINVAL);
	memset(b, 'n', sizeof(b));
	char longname[80];
	memset(longname, 'n', sizeof(longname));
	longname[FW_CFG_NAME_MAX] = 0;
	assert_int_equal(fw_cfg_add_file(fc, longname, "x", 1), -EINVAL);
	assert_int_equal(fw_cfg_add(fc, FW_CFG_FILE_DIR, "x", 1), -EINVAL);
	/* the directory: count 1, size 3, select 0x20, name */
	uint8_t dir[4 + 64];
	sel(fc, FW_CFG_FILE_DIR);
	rd(fc, dir, sizeof(dir));
	assert_memory_equal(dir, "\0\0\0\1\0\0\0\3\0\x20\0\0etc/a\0", 18);
	sel(fc, 0x20);
	rd(fc, b, 3);
	assert_memory_equal(b, "xyz", 3);
	sel(fc, 0x7fff); /* no such item: zeros */
	rd(fc, b, 2);
	assert_int_equal(b[0] | b[1], 0);
	fw_cfg_destroy(fc);
	free(ram);
}

static void test_dma(void **st)
{
	struct fw_cfg *fc = mkfc();

	assert_int_equal(fw_cfg_add_file(fc, "f", "abcdef", 6), 0);
	memset(ram + 0x2000, 0xee, 16);
	/* select + read 8: 6 bytes and 2 zeros */
	assert_int_equal(dma(fc, 0x1000, 0x20u << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 8,
			     0x2000), 0);
	assert_memory_equal(ram + 0x2000, "abcdef\0\0", 8);
	assert_int_equal(ram[0x2008], 0xee);
	/* skip 2 then read 2 of the re-selected file */
	assert_int_equal(dma(fc, 0x1000, 0x20u << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_SKIP, 2, 0), 0);
	assert_int_equal(dma(fc, 0x1000, FW_CFG_DMA_READ, 2, 0x3000), 0);
	assert_memory_equal(ram + 0x3000, "cd", 2);
	/* a buffer outside RAM, or straddling its end: error, nothing written */
	assert_int_equal(dma(fc, 0x1000, FW_CFG_DMA_READ, 16, RAM - 8), FW_CFG_DMA_ERROR);
	assert_int_equal(dma(fc, 0x1000, FW_CFG_DMA_READ, 0xffffffffu, 0x10), FW_CFG_DMA_ERROR);
	assert_int_equal(dma(fc, 0x1000, FW_CFG_DMA_READ, 4, 0xfffffffffffff000ULL),
			 FW_CFG_DMA_ERROR);
	/* writes are refused */
	assert_int_equal(dma(fc, 0x1000, 0x20u << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE, 2,
			     0x2000), FW_CFG_DMA_ERROR);
	assert_memory_equal(ram + 0x2000, "abcdef", 6);
	/* a descriptor outside RAM: nothing happens, nothing crashes */
	uint8_t hi[4] = {0, 0, 0, 1}, lo[4] = {0xff, 0xff, 0xff, 0xf8};
	fw_cfg_io(fc, 4, hi, 4, true);
	fw_cfg_io(fc, 8, lo, 4, true);
	fw_cfg_destroy(fc);
	free(ram);
}

/* Apply the loader script as SeaBIOS does: files at rsdp_at / tables_at in img. */
static void apply(const uint8_t *cmds, long n, uint8_t *img, const uint8_t *blob, size_t len,
		  uint32_t rsdp_at, uint32_t tables_at)
{
	int allocs = 0;

	for (long off = 0; off < n; off += ACPI_LOADER_CMD_SIZE) {
		const uint8_t *c = cmds + off + 4;
		uint32_t op = (uint32_t)le_get(cmds + off, 4);
		const char *f = (const char *)c;
		uint32_t base_of = !strcmp(f, ACPI_LOADER_RSDP_FILE) ? rsdp_at : tables_at;

		if (op == ACPI_LOADER_ALLOCATE) {
			allocs++;
			if (base_of == rsdp_at) {
				assert_int_equal(c[60], ACPI_LOADER_ZONE_FSEG);
				memcpy(img + rsdp_at, blob, 36);
			} else {
				assert_int_equal(le_get(c + 56, 4), 64);
				memcpy(img + tables_at, blob, len);
			}
		} else if (op == ACPI_LOADER_ADD_POINTER) {
			uint32_t at = (uint32_t)le_get(c + 112, 4);
			unsigned sz = c[116];
			uint64_t v = le_get(img + base_of + at, sz) + tables_at;

			assert_string_equal((const char *)c + 56, ACPI_LOADER_TABLES_FILE);
			le_put(img + base_of + at, v, sz);
		} else if (op == ACPI_LOADER_ADD_CHECKSUM) {
			uint32_t at = (uint32_t)le_get(c + 56, 4), start = (uint32_t)le_get(c + 60, 4);
			uint32_t l = (uint32_t)le_get(c + 64, 4);
			uint8_t s = 0;

			for (uint32_t i = 0; i < l; i++)
				s = (uint8_t)(s + img[base_of + start + i]);
			img[base_of + at] = (uint8_t)(img[base_of + at] - s);
		} else {
			fail_msg("unknown loader command %u", op);
		}
	}
	assert_int_equal(allocs, 2);
}

static void test_acpi_loader(void **st)
{
	struct acpi_config ac = {.ncpus = 3};
	static uint8_t blob[PLAT_ACPI_MAX], want[PLAT_ACPI_MAX], cmds[64 * 128], img[0x100000];
	struct err e = {0};
	const uint32_t rsdp_at = 0xf5a0, tables_at = 0x40000;
	long used = acpi_build(blob, sizeof(blob), 0, &ac, &e), n, used2;

	assert_true(used > 0);
	n = acpi_loader_build(blob, (size_t)used, cmds, sizeof(cmds), &e);
	assert_true(n > 0 && n % 128 == 0);
	apply(cmds, n, img, blob, (size_t)used, rsdp_at, tables_at);
	used2 = acpi_build(want, sizeof(want), tables_at, &ac, &e);
	assert_int_equal(used2, used);
	/* every table as if built for its final address; the RSDP too */
	assert_memory_equal(img + tables_at + 36, want + 36, (size_t)used - 36);
	assert_memory_equal(img + rsdp_at, want, 36);
	/* too small a buffer, a blob that is not tables */
	assert_int_equal(acpi_loader_build(blob, (size_t)used, cmds, 256, &e), -ENOSPC);
	assert_string_equal(e.msg, "acpi loader: the command buffer is too small");
	memset(want, 0, 64);
	assert_int_equal(acpi_loader_build(want, 64, cmds, sizeof(cmds), &e), -EINVAL);
	assert_string_equal(e.msg, "acpi loader: no RSDP at the start of the tables");
	memcpy(want, blob, 36);
	le_put(want + 16, 0x7ff0, 4); /* RSDT beyond the blob */
	assert_int_equal(acpi_loader_build(want, 64, cmds, sizeof(cmds), &e), -EINVAL);
	assert_string_equal(e.msg, "acpi loader: RSDT at 0x7ff0 is cut short");
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_smbios(void **st)
{
	struct smbios_config c = {.ncpus = 2, .low_ram = 3ULL << 30, .high_ram = 1ULL << 30,
				  .bios_version = "direct"};
	uint8_t buf[4096], a[SMBIOS_ANCHOR_LEN];
	long n = smbios_build(&c, buf, sizeof(buf), 0xf0020, a);
	unsigned count = 0, types[32];
	size_t off = 0;

	assert_true(n > 0);
	assert_memory_equal(a, "_SM_", 4);
	assert_memory_equal(a + 16, "_DMI_", 5);
	assert_int_equal(sum(a, SMBIOS_ANCHOR_LEN), 0);
	assert_int_equal(sum(a + 16, 15), 0);
	assert_int_equal(le_get(a + 22, 2), n);
	assert_int_equal(le_get(a + 24, 4), 0xf0020);
	/* walk the structures: formatted area, strings, double NUL */
	while (off < (size_t)n) {
		size_t p = off + buf[off + 1];

		assert_true(count < 32);
		types[count++] = buf[off];
		while (buf[p] || buf[p + 1])
			p++;
		off = p + 2;
	}
	assert_int_equal(off, n);
	assert_int_equal(count, le_get(a + 28, 2));
	unsigned want[] = {0, 1, 3, 4, 4, 16, 17, 19, 19, 32, 127};
	assert_int_equal(count, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < count; i++)
		assert_int_equal(types[i], want[i]);
	assert_int_equal(smbios_build(&c, buf, 64, 0, a), -ENOSPC);
}

static void test_bootorder(void **st)
{
	struct vm_config c;
	char buf[512];

	memset(&c, 0, sizeof(c));
	c.ndisks = 3;
	c.disks[0] = (struct disk_config){.iface = DISK_IF_IDE, .media = DISK_MEDIA_DISK, .index = 1};
	c.disks[1] = (struct disk_config){.iface = DISK_IF_IDE, .media = DISK_MEDIA_CDROM, .index = 2};
	c.disks[2] = (struct disk_config){.iface = DISK_IF_IDE, .media = DISK_MEDIA_DISK, .index = 0};
	assert_int_equal(bios_bootorder(&c, buf, sizeof(buf)), 3 * 34 - 1);
	assert_string_equal(buf, "/pci@i0cf8/ide@1,1/drive@0/disk@0\n"
				 "/pci@i0cf8/ide@1,1/drive@0/disk@1\n"
				 "/pci@i0cf8/ide@1,1/drive@1/disk@0");
	c.boot_order[0] = BOOT_CD;
	c.boot_order[1] = BOOT_DISK;
	assert_int_equal(bios_bootorder(&c, buf, sizeof(buf)), 3 * 34 - 1);
	assert_string_equal(buf, "/pci@i0cf8/ide@1,1/drive@1/disk@0\n"
				 "/pci@i0cf8/ide@1,1/drive@0/disk@0\n"
				 "/pci@i0cf8/ide@1,1/drive@0/disk@1");
	assert_int_equal(bios_bootorder(&c, buf, 40), -ENOSPC);
}

static void test_image(void **st)
{
	static uint8_t img[256 << 10];
	struct err e = {0};

	img[sizeof(img) - 16] = 0xea;
	assert_int_equal(bios_check_image(img, sizeof(img), "b.bin", &e), 0);
	assert_int_equal(bios_check_image(img, 100000, "b.bin", &e), -EINVAL);
	assert_string_equal(e.msg, "firmware 'b.bin' is 100000 bytes: a BIOS image is a multiple "
				   "of 64 KiB from 128 KiB to 16 MiB (truncated?)");
	assert_int_equal(bios_check_image(img, 64 << 10, "b.bin", &e), -EINVAL);
	img[sizeof(img) - 16] = 0;
	assert_int_equal(bios_check_image(img, sizeof(img), "b.bin", &e), -EINVAL);
	assert_string_equal(e.msg, "firmware 'b.bin' has no jump at its reset vector (not a BIOS "
				   "image?)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),	    cmocka_unit_test(test_dma),
		cmocka_unit_test(test_acpi_loader), cmocka_unit_test(test_smbios),
		cmocka_unit_test(test_bootorder),   cmocka_unit_test(test_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
