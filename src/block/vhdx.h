/* vhdx.h: the VHDX driver's shared state and its operations beyond block_ops: creation,
 * check/repair, the allocation map (for commit and convert), header updates and log replay. */
#ifndef TV_VHDX_H
#define TV_VHDX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "block/block.h"
#include "block/vhdx_format.h"

#define VHDX_PATH_MAX 4096

struct vhdx {
	struct vhdx_header hdr;	  /* the current header */
	int cur;		  /* its slot: 0 (64 KiB) or 1 (128 KiB) */
	bool hdr_bad[2];	  /* a header slot that failed to parse (check reports it) */
	bool rt_bad[2];		  /* a region table copy that failed to parse */
	struct vhdx_regions rg;
	struct vhdx_meta meta;
	struct vhdx_geom geom;
	uint64_t *bat;		  /* host order, geom.bat_entries */
	/* Per payload block sector bitmap (differencing), lazily: a directory of chunks of
	 * VHDX_BM_CHUNK slots, each chunk allocated on first use (vhdx_bm_slot). */
	uint8_t ***bm;
	uint64_t file_size;	  /* at open (after an RW replay) */
	uint64_t used_end;	  /* end of the last structure or block the metadata uses */
	uint64_t alloc_at;	  /* where the next block goes (1 MiB aligned, past the file) */
	uint64_t prealloc_end;	  /* the file is extended (and flushed) up to here */
	struct vhdx_log_replay log; /* pending entries replayed in memory (read-only open) */
	bool log_mem;
	uint32_t log_pending;	  /* entries of the active sequence found at open */
	bool log_replayed;	  /* a read-write open replayed them into the file */
	bool guids_bumped;	  /* FileWriteGuid/DataWriteGuid renewed since open */
	char creator[128];
	struct vhdx_locator *loc; /* differencing: the parent locator */
	struct block_dev *parent;
	char parent_path[VHDX_PATH_MAX];
};

/* Options of vhdx_create. */
struct vhdx_create_opts {
	bool fixed;
	uint64_t size;		/* bytes (differencing: ignored, the parent's) */
	uint32_t block_size;	/* 0: 32 MiB (1 MiB for ... never: Hyper-V's default) */
	uint32_t lsec;		/* 0: 512 */
	uint32_t psec;		/* 0: 4096 */
	const char *parent;	/* differencing: the parent's path as given */
	bool overwrite;
};

/* Create a VHDX at path (fixed, dynamic, or differencing when o->parent). Layout: header area,
 * 1 MiB log at 1 MiB, metadata at 2 MiB, BAT at 3 MiB, blocks 1 MiB aligned. Returns 0 or
 * -errno with e; a file this call created is removed on failure. */
int vhdx_create(const char *path, const struct vhdx_create_opts *o, struct err *e)
	__attribute__((warn_unused_result));

/* Read len bytes of the image file at off, through the in-memory log replay when one is
 * pending (bytes past the end of the file up to the log's LastFileOffset read as zeros). */
int vhdx_pread(struct block_dev *bd, void *buf, size_t len, uint64_t off);

/* Renew FileWriteGuid (and DataWriteGuid when data; LogGuid when log_guid): the non-current
 * header is written with the next sequence number and flushed, becoming the current one; the
 * other copy stays as it was (valid, one update behind). 0 or -errno. */
int vhdx_bump_headers(struct block_dev *bd, bool data, const vhdx_guid *log_guid);

/* Replay the pending log (r) into the file: data sectors, zero ranges, the file extended to
 * LastFileOffset, flushed, then LogGuid cleared in the headers. 0 or -errno with e. */
int vhdx_log_apply(struct block_dev *bd, struct vhdx *v, const struct vhdx_log_replay *r,
		   struct err *e);

/* Present (1) / not present in this layer (0: zeros, or the parent's data) for the range from
 * off; *run gets how many bytes (at most len) share the answer. 1, 0 or -errno. */
int vhdx_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *run);

/* Result of vhdx_check. */
struct vhdx_check_report {
	int errors, repaired;
	uint64_t leaked;
	char first[ERR_MSG_MAX];
};
/* Check the VHDX at path (io: NULL, or the test seam for --repair's writes): both headers, both region tables, metadata, BAT, log, leaked space at
 * the end, the parent chain. With repair: rewrite a damaged header or region table from the
 * good one, replay a pending log, cut leaked space. Prints findings to out (may be NULL).
 * Returns 0 when the image could be examined (see r), -errno with e when it is not usable. */
int vhdx_check(const char *path, bool repair, const struct block_io *io,
	       struct vhdx_check_report *r, FILE *out, struct err *e)
	__attribute__((warn_unused_result));

/* Driver internals shared between vhdx*.c. */
#define VHDX_BM_CHUNK 4096u
/* The bitmap slot of payload block blk (its chunk allocated), or NULL when out of memory. */
uint8_t **vhdx_bm_slot(struct vhdx *v, uint64_t blk);
int vhdx_load(struct block_dev *bd, struct vhdx *v, struct err *e);
void vhdx_free(struct vhdx *v);
int vhdx_open_parent(struct block_dev *bd, struct vhdx *v, const struct block_open_opts *o,
		     struct err *e);
int vhdx_read(struct block_dev *bd, void *buf, size_t len, uint64_t off);
int vhdx_write(struct block_dev *bd, const void *buf, size_t len, uint64_t off);
/* block_ops.map: present sectors map into the file (reads and writes), absent ones read
 * through the parent (or as zeros) and write through the slow path (allocation, bitmap). */
int vhdx_map(struct block_dev *bd, uint64_t off, uint64_t len, bool write, struct block_map *m);
/* Cut the zeros extended ahead of allocation that no block used (a clean close). */
void vhdx_trim(struct block_dev *bd, struct vhdx *v);
/* Fill a fresh random GUID (version 4). */
void vhdx_guid_random(vhdx_guid *g);

#endif
