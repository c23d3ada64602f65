/* vhdx_format.h: Microsoft VHDX ([MS-VHDX] 1.0) on-disk structures and their pure parsers and
 * builders: file identifier, headers, region tables, metadata table and items, BAT entries,
 * parent locators and log entries. No I/O here: every function works on buffers, checks every
 * size it adds, and says in one line what was wrong (unit-tested and fuzzed). */
#ifndef TV_VHDX_FORMAT_H
#define TV_VHDX_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define VHDX_KiB 1024u
#define VHDX_MiB (1024u * 1024u)
#define VHDX_HEADER1_OFF (64u * VHDX_KiB)
#define VHDX_HEADER2_OFF (128u * VHDX_KiB)
#define VHDX_RT1_OFF (192u * VHDX_KiB)
#define VHDX_RT2_OFF (256u * VHDX_KiB)
#define VHDX_HEADER_SIZE 4096u	       /* the part of the 64 KiB slot the checksum covers */
#define VHDX_RT_SIZE (64u * VHDX_KiB)
#define VHDX_META_TABLE_SIZE (64u * VHDX_KiB)
#define VHDX_LOG_SECTOR 4096u
#define VHDX_MAX_SIZE (64ull << 40)    /* 64 TiB */
#define VHDX_SB_SIZE VHDX_MiB	       /* a sector bitmap block */
#define VHDX_CREATOR_CHARS 256u

/* GUIDs are kept in their on-disk byte order (Data1..3 little-endian). */
typedef struct {
	uint8_t b[16];
} vhdx_guid;

extern const vhdx_guid vhdx_guid_bat, vhdx_guid_metadata, vhdx_guid_file_params,
	vhdx_guid_disk_size, vhdx_guid_page83, vhdx_guid_lsec, vhdx_guid_psec,
	vhdx_guid_parent_locator, vhdx_guid_locator_type;

bool vhdx_guid_is_zero(const vhdx_guid *g);
bool vhdx_guid_eq(const vhdx_guid *a, const vhdx_guid *b);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lower case, 37 bytes with the NUL). */
void vhdx_guid_str(const vhdx_guid *g, char out[40]);
/* Parse "{...}" or the bare form, any case. 0 or -EINVAL. */
int vhdx_guid_parse(const char *s, vhdx_guid *out);

/* CRC-32C (Castagnoli) of n bytes, as the spec's checksums use it. */
uint32_t vhdx_crc32c(const void *p, size_t n);
/* The checksum of a structure of n bytes whose checksum field (4 bytes at csum_off) counts as
 * zero. */
uint32_t vhdx_checksum(const uint8_t *p, size_t n, size_t csum_off);

/* File type identifier at offset 0: "vhdxfile" and the creator (UTF-16LE, 256 chars). */
bool vhdx_is_file_id(const uint8_t *p, size_t n);
/* The creator string as UTF-8 (non-ASCII shown as '?'), NUL-terminated in out. */
void vhdx_creator_decode(const uint8_t *id, size_t n, char *out, size_t size);

struct vhdx_header {
	uint64_t seq;
	vhdx_guid file_write, data_write, log_guid;
	uint16_t log_version, version;
	uint32_t log_length;
	uint64_t log_offset;
};

/* Parse one header (4 KiB): signature "head", CRC-32C, version 1, log version 0, a log that is
 * 1 MiB-aligned and (when file_size is not 0) inside the file. 0 or -EINVAL with why. */
int vhdx_header_parse(const uint8_t *buf, uint64_t file_size,
		      struct vhdx_header *h, struct err *e);
/* Build a 4 KiB header with its checksum. */
void vhdx_header_build(const struct vhdx_header *h, uint8_t *buf);
/* Which header is current: 0 or 1 (index), from validity and sequence numbers; -EINVAL when
 * neither is valid, or both are with the same sequence number and different contents. */
int vhdx_header_pick(bool ok0, const struct vhdx_header *h0, bool ok1,
		     const struct vhdx_header *h1);

struct vhdx_regions {
	uint64_t bat_off, meta_off;
	uint32_t bat_len, meta_len;
};

/* Parse a region table (64 KiB): signature, checksum, entry count, every entry 1 MiB-aligned,
 * inside file_size, above the header area, not overlapping each other or the log
 * [log_off, log_off+log_len); BAT and metadata present once; an unknown region marked required
 * refused by its GUID. */
int vhdx_region_parse(const uint8_t *buf, uint64_t file_size, uint64_t log_off,
		      uint64_t log_len, struct vhdx_regions *r, struct err *e);
/* Build a region table with exactly the BAT and metadata entries (both required). */
void vhdx_region_build(const struct vhdx_regions *r, uint8_t *buf);

/* What the metadata region says. */
struct vhdx_meta {
	uint32_t block_size;
	bool leave_allocated, has_parent;
	uint64_t disk_size;
	vhdx_guid page83;
	uint32_t lsec, psec;
	uint32_t loc_off, loc_len; /* parent locator item inside the region (0,0: none) */
};

/* Parse the metadata table (its first 64 KiB) and the items it points to inside the region
 * (region: meta_len bytes, already read). Every known item is validated (sizes in range,
 * power-of-two block size, sector sizes 512 or 4096, disk size at most 64 TiB and a whole
 * number of logical sectors); an unknown item marked required is refused by GUID; required
 * system items must be there. */
int vhdx_meta_parse(const uint8_t *region, uint32_t meta_len, struct vhdx_meta *m,
		    struct err *e);

/* Geometry that follows from the metadata. */
struct vhdx_geom {
	uint64_t chunk_ratio;	 /* payload blocks per sector bitmap block */
	uint64_t data_blocks;	 /* payload blocks of the virtual disk */
	uint64_t bitmap_blocks;	 /* sector bitmap blocks */
	uint64_t bat_entries;	 /* entries the BAT needs */
	uint32_t bitmap_bytes;	 /* sector-bitmap bytes per payload block */
};
/* Compute g from m; -EINVAL when the result is absurd. */
int vhdx_geom(const struct vhdx_meta *m, struct vhdx_geom *g, struct err *e);

/* BAT entry fields. */
enum {
	VHDX_PB_NOT_PRESENT = 0,
	VHDX_PB_UNDEFINED = 1,
	VHDX_PB_ZERO = 2,
	VHDX_PB_UNMAPPED = 3,
	VHDX_PB_FULLY_PRESENT = 6,
	VHDX_PB_PARTIALLY_PRESENT = 7,
	VHDX_SB_NOT_PRESENT = 0,
	VHDX_SB_PRESENT = 6,
};
static inline unsigned vhdx_bat_state(uint64_t e) { return (unsigned)(e & 7); }
static inline uint64_t vhdx_bat_off(uint64_t e) { return (e >> 20) << 20; }
static inline uint64_t vhdx_bat_make(unsigned state, uint64_t off)
{
	return (off & ~(uint64_t)(VHDX_MiB - 1)) | state;
}
/* BAT index of payload block blk / of chunk c's sector bitmap block. */
static inline uint64_t vhdx_bat_pb(const struct vhdx_geom *g, uint64_t blk)
{
	return blk + blk / g->chunk_ratio;
}
static inline uint64_t vhdx_bat_sb(const struct vhdx_geom *g, uint64_t c)
{
	return c * (g->chunk_ratio + 1) + g->chunk_ratio;
}

/* A file range that no block may overlap (headers, log, metadata, BAT). */
struct vhdx_range {
	uint64_t off, len;
	const char *what;
};
/* Validate the BAT (entries in host order, n = g->bat_entries): states legal for the disk type,
 * offsets 1 MiB aligned, blocks inside file_size, not over any of the nr reserved ranges, not
 * over each other. *data_end gets the end of the last block (at least the end of the ranges).
 * scratch has room for n uint64_t (for sorting). */
int vhdx_bat_check(const uint64_t *bat, const struct vhdx_geom *g, const struct vhdx_meta *m,
		   uint64_t file_size, const struct vhdx_range *res, int nr, uint64_t *scratch,
		   uint64_t *data_end, struct err *e);

/* Parent locator: the key/value pairs, decoded to UTF-8. */
#define VHDX_LOC_MAX 16
struct vhdx_locator {
	int n;
	char key[VHDX_LOC_MAX][32];
	char val[VHDX_LOC_MAX][1024];
};
/* Parse a parent locator item (locator type must be the VHDX one). */
int vhdx_locator_parse(const uint8_t *p, uint32_t len, struct vhdx_locator *l, struct err *e);
/* The value of key, or NULL. */
const char *vhdx_locator_get(const struct vhdx_locator *l, const char *key);
/* Build a locator item from the pairs (values UTF-8, written as UTF-16LE); returns its length
 * or -ENOSPC when it does not fit in size. */
int vhdx_locator_build(const struct vhdx_locator *l, uint8_t *p, size_t size);

/* UTF-16LE <-> UTF-8 (BMP and surrogate pairs). Return the output length or -EINVAL. */
int vhdx_utf16_to_utf8(const uint8_t *in, size_t in_bytes, char *out, size_t size);
int vhdx_utf8_to_utf16(const char *in, uint8_t *out, size_t size);

/* One change a log entry makes: data (a 4 KiB sector at off) or zeros (len bytes at off). */
struct vhdx_log_op {
	uint64_t off, len;
	const uint8_t *data; /* NULL: zeros; else 4096 bytes inside a caller-owned buffer */
};
struct vhdx_log_replay {
	uint32_t entries;	      /* entries in the active sequence */
	uint64_t flushed_end, last_end; /* FlushedFileOffset / LastFileOffset of the head */
	uint32_t nops;
	struct vhdx_log_op *ops;      /* in replay order; data points into the caller's sector
				       * buffer (assembled sectors) */
	uint8_t *sectors;	      /* assembled data sectors, 4 KiB each (malloc'd) */
};
/* Find the active sequence in a log (log_len bytes, a multiple of 4 KiB) whose entries carry
 * log_guid, validating every entry (signature, length, checksum, descriptors, data sectors and
 * their sequence numbers), and turn it into ops. Returns 0 (r filled; free with
 * vhdx_log_replay_free), -ENOENT when there is no valid sequence, -EINVAL/-ENOMEM otherwise. The
 * allocations are bounded by log_len. */
int vhdx_log_find(const uint8_t *log, uint32_t log_len, const vhdx_guid *log_guid,
		  struct vhdx_log_replay *r, struct err *e);
void vhdx_log_replay_free(struct vhdx_log_replay *r);

/* Build one log entry (for tests and for thinvisor's own writers): the data sectors given as
 * (off, 4 KiB) pairs and zero ranges, at sequence seq with tail offset tail; out has room for
 * the entry (vhdx_log_entry_size). Returns the entry length. */
struct vhdx_log_write {
	uint64_t off;
	uint64_t zero_len;   /* 0: a data sector */
	const uint8_t *data; /* 4096 bytes when zero_len is 0 */
};
uint32_t vhdx_log_entry_size(const struct vhdx_log_write *w, int n);
uint32_t vhdx_log_entry_build(const struct vhdx_log_write *w, int n, uint64_t seq, uint32_t tail,
			      const vhdx_guid *log_guid, uint64_t flushed_end, uint64_t last_end,
			      uint8_t *out);

#endif
