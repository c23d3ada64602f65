/* vhd.h: VHD-specific operations beyond the block_ops table: creation, check/repair, and the
 * allocation map used by commit. Shared state of the VHD driver lives in struct vhd. */
#ifndef TV_VHD_H
#define TV_VHD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "block/block.h"
#include "block/vhd_format.h"

struct vhd {
	struct vhd_footer footer;
	struct vhd_dyn_header hdr;
	bool footer_from_copy; /* end footer bad, copy at offset 0 used */
	uint64_t file_size;    /* at open */
	uint64_t footer_off;   /* where the end footer is (or goes): the next block's offset */
	uint64_t meta_end;     /* end of footer copy, header, BAT and locator data */
	uint32_t *bat;	       /* host order, hdr.max_table_entries entries */
	/* Per block, allocated lazily in chunks of VHD_BM_CHUNK (vhd_bm_slot): NULL = not loaded,
	 * full = all sectors present, else the block's own bitmap. */
	uint8_t ***bm_dir;
	uint8_t *full;	       /* a shared all-ones bitmap */
	uint32_t bitmap_size;  /* bytes */
	uint32_t spb;	       /* sectors per block */
	struct block_dev *parent;
	char parent_path[VHD_PATH_MAX];
};

/* Options of vhd_create. */
struct vhd_create_opts {
	enum vhd_type type;
	uint64_t size;	     /* requested bytes (ignored for differencing: the parent's) */
	uint32_t block_size; /* 0: 2 MiB */
	bool force_size;     /* keep the exact size (sector-rounded) instead of CHS rounding */
	bool azure;	     /* fixed disk with size rounded up to 1 MiB, exact size kept */
	const char *parent;  /* differencing: the parent's path as given */
	bool overwrite;	     /* replace an existing file (else refuse it: O_EXCL) */
};

/* Create a VHD file at path (which must not exist unless o->overwrite). Sizes are rounded as
 * qemu does: up to the CHS geometry unless force_size/azure. Every write is checked whole (a
 * short write is an error). Returns 0 or -errno with a message in e; on error a file this call
 * created is removed (an overwritten one is left as it is). */
int vhd_create(const char *path, const struct vhd_create_opts *o, struct err *e)
	__attribute__((warn_unused_result));

/* The size a VHD created with o will have (after CHS / Azure rounding); -EFBIG in e when it
 * exceeds 2040 GiB. */
int vhd_create_size(const struct vhd_create_opts *o, uint64_t *out, struct err *e)
	__attribute__((warn_unused_result));

/* Is the sector range starting at off present in this layer (1) or not (0: zeros for a dynamic
 * disk, the parent's data for a differencing one)? *run gets how many bytes from off (at most
 * len) share that answer. Fixed disks: always 1. Returns 1, 0 or -errno. */
int vhd_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *run);

/* Result of vhd_check. */
struct vhd_check_report {
	int errors;	     /* corruptions found (unrepairable ones stop the check) */
	int repaired;	     /* problems fixed by repair */
	uint64_t leaked;     /* bytes between the metadata and the footer no block uses */
	char first[ERR_MSG_MAX]; /* the first problem, one line */
};

/* Check the VHD at path: footers and their copy, header, BAT, leaked space, the parent chain.
 * With repair, rewrite a damaged end footer or copy and reclaim leaked space at the end of
 * the file. Prints one line per finding to out (may be NULL). Returns 0 when the image could
 * be examined (see r for findings), -errno with e when it is not a usable VHD at all. */
int vhd_check(const char *path, bool repair, struct vhd_check_report *r, FILE *out, struct err *e)
	__attribute__((warn_unused_result));

/* Open helpers shared by the driver, check and create (vhd.c). */
int vhd_load(struct block_dev *bd, struct vhd *v, struct err *e);
void vhd_free(struct vhd *v);
#define VHD_BM_CHUNK 4096u
/* The bitmap slot of block blk, its chunk allocated when create; NULL when absent (or out of
 * memory with create). */
uint8_t **vhd_bm_slot(struct vhd *v, uint32_t blk, bool create);
/* The driver's data path (vhd_io.c), behind block_read/block_write's checks. */
int vhd_read(struct block_dev *bd, void *buf, size_t len, uint64_t off);
int vhd_write(struct block_dev *bd, const void *buf, size_t len, uint64_t off);
/* block_ops.map: fixed disks map 1:1; allocated sectors map into the file; unallocated ones
 * read through the parent (or as zeros) and write through the slow path. */
int vhd_map(struct block_dev *bd, uint64_t off, uint64_t len, bool write, struct block_map *m);

#endif
