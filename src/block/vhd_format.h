/* vhd_format.h: pure parsers and builders for Microsoft's VHD on-disk structures (Virtual Hard
 * Disk Image Format Specification, v1.0): the 512-byte footer, the 1024-byte dynamic disk
 * header, the block allocation table (BAT), sector bitmaps and parent locators.
 * Every function here works on caller-supplied buffers only: no I/O, no allocation unless
 * stated, no global state. All multi-byte fields on disk are big-endian. */
#ifndef TV_VHD_FORMAT_H
#define TV_VHD_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define VHD_SECTOR 512u
#define VHD_FOOTER_SIZE 512u
#define VHD_DYN_HEADER_SIZE 1024u
#define VHD_BAT_UNUSED 0xFFFFFFFFu
#define VHD_NO_DATA_OFFSET UINT64_MAX
#define VHD_DEFAULT_BLOCK_SIZE (2u << 20)
/* The 2040 GiB limit of Virtual PC / Hyper-V VHDs: 0xFF000000 sectors. */
#define VHD_MAX_SECTORS UINT64_C(0xFF000000)
#define VHD_MAX_SIZE (VHD_MAX_SECTORS * VHD_SECTOR)
/* The largest CHS geometry, 65535 x 16 x 255 sectors. */
#define VHD_MAX_CHS_SECTORS (UINT64_C(65535) * 16 * 255)
#define VHD_MAX_LOCATORS 8
/* thinvisor's cap on BAT entries (16 MiB of BAT): 2040 GiB in blocks of 512 KiB or more. */
#define VHD_MAX_BAT_ENTRIES (1u << 22)
#define VHD_PATH_MAX 4096

enum vhd_type { VHD_TYPE_FIXED = 2, VHD_TYPE_DYNAMIC = 3, VHD_TYPE_DIFF = 4 };

/* Platform codes of parent locator entries. */
#define VHD_PLAT_NONE 0u
#define VHD_PLAT_W2RU 0x57327275u /* "W2ru": relative Windows path, UTF-16 */
#define VHD_PLAT_W2KU 0x57326B75u /* "W2ku": absolute Windows path, UTF-16 */
#define VHD_PLAT_MACX 0x4D616358u /* "MacX": file:// URL, UTF-8 */
#define VHD_PLAT_WI2R 0x57693272u /* "Wi2r": deprecated, ANSI relative */
#define VHD_PLAT_WI2K 0x5769326Bu /* "Wi2k": deprecated, ANSI absolute */

struct vhd_geom {
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors; /* per track */
};

struct vhd_footer {
	uint32_t features;
	uint32_t version;
	uint64_t data_offset; /* dynamic header offset, VHD_NO_DATA_OFFSET for fixed disks */
	uint32_t timestamp;   /* seconds since 2000-01-01 00:00:00 UTC */
	char creator_app[4];
	uint32_t creator_version;
	uint32_t creator_os;
	uint64_t original_size;
	uint64_t current_size;
	struct vhd_geom geom;
	uint32_t type;
	uint32_t checksum; /* as stored */
	uint8_t uuid[16];
	uint8_t saved_state;
};

struct vhd_locator {
	uint32_t code;
	uint32_t space;  /* as stored: sectors per the spec, bytes in some writers */
	uint32_t length; /* bytes of path data */
	uint64_t offset; /* absolute file offset of the path data */
};

struct vhd_dyn_header {
	uint64_t data_offset;
	uint64_t table_offset;
	uint32_t version;
	uint32_t max_table_entries;
	uint32_t block_size;
	uint32_t checksum;
	uint8_t parent_uuid[16];
	uint32_t parent_timestamp;
	uint16_t parent_name[256]; /* UTF-16BE code units as stored, host order here */
	struct vhd_locator loc[VHD_MAX_LOCATORS];
};

/* Read a big-endian 16/32/64-bit value from p. */
uint16_t vhd_be16(const uint8_t *p);
uint32_t vhd_be32(const uint8_t *p);
uint64_t vhd_be64(const uint8_t *p);
/* Store v big-endian at p. */
void vhd_put_be16(uint8_t *p, uint16_t v);
void vhd_put_be32(uint8_t *p, uint32_t v);
void vhd_put_be64(uint8_t *p, uint64_t v);

/* The spec's checksum: one's complement of the byte sum of buf[0..len), skipping the 4 bytes
 * at skip_off (the checksum field itself). */
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t skip_off);

/* The spec's CHS algorithm for a disk of total_sectors sectors (capped at 65535x16x255). */
struct vhd_geom vhd_chs(uint64_t total_sectors);

/* Product cylinders * heads * sectors. */
uint64_t vhd_geom_sectors(struct vhd_geom g);

/* Parse a 512-byte footer. Returns 0, or -EINVAL with a message in e for a wrong cookie,
 * a bad checksum (-EBADMSG), an unknown disk type or an absurd size. */
int vhd_footer_parse(const uint8_t buf[VHD_FOOTER_SIZE], struct vhd_footer *f, struct err *e)
	__attribute__((warn_unused_result));

/* Encode f into a 512-byte footer, computing and storing the checksum (f->checksum is set). */
void vhd_footer_build(struct vhd_footer *f, uint8_t buf[VHD_FOOTER_SIZE]);

/* True when a reader should take the disk size from the CHS geometry rather than current_size:
 * creator 'vpc ' (Virtual PC) and 'qemu' (QEMU without force_size) size by CHS; everything
 * else ('win ', 'qem2', 'd2v ', 'tap\0', 'CTXS', ...) by current_size; the maximum CHS
 * geometry always means current_size. */
bool vhd_sized_by_chs(const struct vhd_footer *f);

/* The virtual disk size in bytes per the rule above. */
uint64_t vhd_virtual_size(const struct vhd_footer *f);

/* Parse a 1024-byte dynamic disk header of a file file_size bytes long for the footer f.
 * Checks cookie, checksum, block size (a power of two, 512 B .. 256 MiB), that the BAT covers
 * the virtual size, lies inside the file and has at most VHD_MAX_BAT_ENTRIES entries. Returns 0 or -errno with a message in e. */
int vhd_dyn_header_parse(const uint8_t buf[VHD_DYN_HEADER_SIZE], const struct vhd_footer *f,
			 uint64_t file_size, struct vhd_dyn_header *h, struct err *e)
	__attribute__((warn_unused_result));

/* Encode h into a 1024-byte header, computing the checksum (h->checksum is set). */
void vhd_dyn_header_build(struct vhd_dyn_header *h, uint8_t buf[VHD_DYN_HEADER_SIZE]);

/* Bytes of the sector bitmap in front of each block, rounded up to whole sectors. */
uint32_t vhd_bitmap_size(uint32_t block_size);

/* Validate a BAT of n big-endian entries (raw bytes from disk) for a file of file_size bytes
 * whose metadata (footer copy, header, BAT, locator data) ends at meta_end: every used entry
 * must point at or after meta_end, the whole block (bitmap + data) must end inside the file
 * (allowing for the footer at the end), and no two blocks may overlap. bat_out receives the
 * host-order entries (bat_out may be raw itself: parsed in place). Uses a scratch allocation for the overlap check; returns 0, -ENOMEM, or
 * -EINVAL with a message in e naming the first bad entry. */
int vhd_bat_parse(const uint8_t *raw, uint32_t n, uint32_t block_size, uint64_t meta_end,
		  uint64_t file_size, uint32_t *bat_out, struct err *e)
	__attribute__((warn_unused_result));

/* Sector bitmaps: bit for sector i is bit (7 - i%8) of byte i/8 (most significant bit first). */
bool vhd_bitmap_test(const uint8_t *bm, uint32_t i);
void vhd_bitmap_set(uint8_t *bm, uint32_t i);
/* Number of consecutive sectors from i (at most n) whose bit equals the bit of sector i. */
uint32_t vhd_bitmap_run(const uint8_t *bm, uint32_t i, uint32_t n);

/* Parse locator entry i from header bytes (already in h->loc after vhd_dyn_header_parse). */

/* Decode the path data of a parent locator (code W2ru/W2ku: UTF-16, either byte order,
 * detected by BOM or by the zero-byte pattern; MacX: UTF-8 URL "file://..." percent-decoded;
 * Wi2r/Wi2k: ANSI) into a NUL-terminated UTF-8 host path out (size out_size), converting
 * backslashes to '/'. A leading ".\" is kept as "./", drive letters are kept as "C:/...".
 * Returns 0 or -EINVAL with a message in e. */
int vhd_locator_decode(uint32_t code, const uint8_t *data, size_t len, char *out,
		       size_t out_size, struct err *e) __attribute__((warn_unused_result));

/* Encode a UTF-8 path as UTF-16LE (W2ru/W2ku style, '/' written as '\\') into out. Returns the
 * number of bytes written or -ENAMETOOLONG / -EINVAL (invalid UTF-8). */
int vhd_utf16le_encode(const char *path, uint8_t *out, size_t out_size);

/* Encode a UTF-8 name as UTF-16BE into the 512-byte parent name field (truncating at 255
 * code units). */
void vhd_parent_name_encode(const char *name, uint16_t out[256]);

/* Decode the parent name field into UTF-8 (out_size bytes, NUL-terminated). */
void vhd_parent_name_decode(const uint16_t name[256], char *out, size_t out_size);

/* The creator app field as a printable string ("vpc ", "qemu", "tap\0" shown as "tap"). */
void vhd_creator_str(const char app[4], char out[8]);

#endif
