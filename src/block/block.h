/* block.h: the block-driver interface (an ops table per image format) and the probe chain.
 *
 * A struct block_dev is one open disk image; virtio-blk and `thinvisor img` use only the
 * functions below. Offsets and lengths are bytes; reads and writes must be multiples of
 * BLOCK_SECTOR at sector-aligned offsets and lie inside the virtual size (else -EINVAL).
 *
 * Thread safety: a block_dev is NOT internally locked. One thread at a time may call into a
 * given block_dev (virtio-blk's event-loop thread, say); different block_devs are independent.
 * No function keeps global mutable state. */
#ifndef TV_BLOCK_H
#define TV_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

#define BLOCK_SECTOR 512u

/* block_open flags */
#define BLOCK_RDWR 0x1u	  /* open for writing (the default is read-only) */
#define BLOCK_NOPARENT 0x2u /* do not open a differencing disk's parent (metadata only) */
/* VHD: when the end footer is bad, use the copy at offset 0. Only `img check` sets it (after
 * saying so): on a plain open that copy could be guest data, so a bad end footer is refused. */
#define BLOCK_FOOTER_COPY 0x4u
/* VHDX: also verify the redundant copies (region table 2) that a plain open skips when the
 * first is good. `img check` sets it. */
#define BLOCK_VERIFY 0x8u

/* How many bytes of the file's head the probe chain looks at (signatures up to offset 1023). */
#define BLOCK_PROBE_HEAD 1024u

/* The host calls a driver makes, replaceable by tests (a seam, see tests/unit/test_block*.c):
 * error injection, or stopping the process between the steps of a block allocation. */
struct block_io {
	ssize_t (*pread)(int fd, void *buf, size_t len, off_t off);
	ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
	int (*fsync)(int fd);
	/* Called after each step of a crash-ordered metadata update (VHD allocation: 1 = block
	 * bitmap and data written, 2 = footer moved, 3 = BAT entry written); may _exit(). */
	void (*step)(void *ctx, int step);
	void *ctx;
};

/* The default block_io: pread/pwrite/fsync of libc, no step hook. */
extern const struct block_io block_io_default;

/* Ancestors of an image being opened, for parent-loop detection. */
struct block_chain {
	dev_t dev;
	ino_t ino;
	const struct block_chain *next;
};

struct block_open_opts {
	unsigned flags;
	const struct block_io *io;	 /* NULL: block_io_default */
	const struct block_chain *chain; /* NULL at the top */
};

/* What `img info` shows; filled by a driver's info op. Strings are NUL-terminated. */
struct block_info {
	char format[8];	      /* "raw", "vhd", "vhdx" */
	char subformat[16];   /* "fixed", "dynamic", "differencing", "" */
	uint64_t virtual_size;
	uint64_t allocated;   /* bytes the host file really occupies (st_blocks) */
	uint64_t file_size;
	char creator[128];    /* creator app, e.g. "qemu", "win " (VHDX: the creator string) */
	uint32_t creator_version;
	char creator_os[8];
	char uuid[40];	      /* "" when the format has none (VHDX: the page 83 disk id) */
	char data_write_guid[40]; /* VHDX: DataWriteGuid (what a child's parent_linkage names) */
	uint32_t logical_sector, physical_sector; /* 0 when the format does not say */
	char log_state[48];   /* VHDX: "clean", "needs replay (N entries)", "replayed (...)" */
	bool sized_by_chs;
	uint16_t cylinders;
	uint8_t heads, sectors;
	uint32_t block_size;  /* 0 for fixed / raw */
	uint32_t blocks_allocated, blocks_total;
	bool saved_state;
	bool footer_from_copy; /* the end footer was bad and the copy at offset 0 was used */
	char parent_path[4096]; /* resolved parent file, "" for none */
	char parent_uuid[40];
	struct block_dev *parent; /* the open parent, or NULL */
};

struct block_dev;

/* Where a range of the virtual disk lives (block_map). */
enum block_map_kind {
	BLOCK_MAP_DATA, /* in file fd at file_off, len bytes contiguous: read/write it directly */
	BLOCK_MAP_ZERO, /* reads as zeros (unallocated, no parent) */
	BLOCK_MAP_SLOW, /* go through block_read/block_write (allocation, bitmap, guard) */
};

struct block_map {
	enum block_map_kind kind;
	int fd;
	uint64_t file_off;
	uint64_t len; /* bytes from the start of the range with this answer, >= 1 sector */
};

struct block_ops {
	const char *name;
	/* Score 0..100 how sure the file with this head (the first BLOCK_PROBE_HEAD bytes) and
	 * tail (the last 512 bytes), each shorter when the file is, is in this format; 0 = not it. */
	int (*probe)(const uint8_t *head, size_t head_len, const uint8_t *tail, size_t tail_len);
	/* Attach to the open fd (owned by bd on success): set bd->priv and validate metadata.
	 * Returns 0 or -errno with a one-line message in e. */
	int (*open)(struct block_dev *bd, const struct block_open_opts *o, struct err *e);
	int (*read)(struct block_dev *bd, void *buf, size_t len, uint64_t off);
	int (*write)(struct block_dev *bd, const void *buf, size_t len, uint64_t off);
	int (*flush)(struct block_dev *bd);
	/* A hint that [off, off+len) is no longer needed (virtio-blk DISCARD): afterwards reads of
	 * the range return either the old data or zeros. raw punches a hole; vhd ignores it. */
	int (*discard)(struct block_dev *bd, uint64_t off, uint64_t len);
	void (*info)(struct block_dev *bd, struct block_info *out);
	/* Optional: is the range from off present in this layer (1) or not (0: zeros, or the
	 * parent's data)? *run = bytes (at most len) with that answer. NULL: always present. */
	int (*status)(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *run);
	void (*close)(struct block_dev *bd);
	/* Optional (NULL: always BLOCK_MAP_SLOW): see block_map. Called with a checked range. */
	int (*map)(struct block_dev *bd, uint64_t off, uint64_t len, bool write,
		   struct block_map *m);
};

struct block_dev {
	const struct block_ops *ops;
	void *priv;
	int fd;
	unsigned flags;
	bool probed;   /* the format came from the probe chain, not from the caller */
	uint64_t size; /* virtual size in bytes */
	uint32_t logical_sector; /* what guests are told: 512, or 4096 for such VHDX disks */
	struct block_io io;
	char path[4096];
	struct err last_err; /* why the last read/write/flush failed, when the driver knows */
};

/* The drivers, in probe order (most specific first), NULL-terminated; raw is last. */
extern const struct block_ops block_vhdx_ops;
extern const struct block_ops block_vhd_ops;
extern const struct block_ops block_raw_ops;
extern const struct block_ops *const block_drivers[];

/* The probe chain over a file's head and tail (see block_ops.probe): the driver that claims
 * them, else (NULL) a format thinvisor knows but does not read, with its short name in
 * *known_fmt ("qcow2", "vhdx", "vhd" for a VHD without a valid end footer, ...) and the
 * one-line refusal in *why; raw when nothing matches. Pure: no I/O. */
const struct block_ops *block_probe_buf(const uint8_t *head, size_t hl, const uint8_t *tail,
					size_t tl, const char **known_fmt, const char **why);

/* The size of a regular file (st_size) or block device (BLKGETSIZE64) open as fd. 0 or
 * -errno. */
int block_fd_size(int fd, uint64_t *out) __attribute__((warn_unused_result));

/* Find a driver by name ("raw", "vhd", "vhdx"; "vpc" is accepted for vhd). NULL when unknown. */
const struct block_ops *block_find(const char *name);

/* Open path with the named format, or probe the contents when format is NULL. *out gets the
 * device. Returns 0, or -errno with "PATH: why" in e. */
int block_open(const char *path, const char *format, const struct block_open_opts *o,
	       struct block_dev **out, struct err *e) __attribute__((warn_unused_result));

/* Probe the format of path without opening it as a device: returns the driver, or NULL with
 * "PATH: why" in e (a known but unsupported format also names itself in *known_fmt, which
 * may be NULL). */
const struct block_ops *block_probe(const char *path, const char **known_fmt, struct err *e);

/* Read/write len bytes at off (sector-aligned, inside the disk). 0 or -errno. On a raw disk
 * whose format was probed, a write that would make the next probe see another format (a
 * signature in the first BLOCK_PROBE_HEAD bytes or a VHD footer in the last sector) is
 * refused with -EPERM, the reason in bd->last_err: guest data never changes how a file opens. */
int block_read(struct block_dev *bd, void *buf, size_t len, uint64_t off)
	__attribute__((warn_unused_result));
int block_write(struct block_dev *bd, const void *buf, size_t len, uint64_t off)
	__attribute__((warn_unused_result));
/* Make written data durable (fsync of the image file). */
int block_flush(struct block_dev *bd) __attribute__((warn_unused_result));
/* See block_ops.discard. */
int block_discard(struct block_dev *bd, uint64_t off, uint64_t len)
	__attribute__((warn_unused_result));
/* Where [off, off+len) (sector-aligned, inside the disk) begins to live, for a data path that
 * reads and writes the files itself (virtio-blk's io_uring): m->len bytes from off are DATA in
 * m->fd at m->file_off (a write there needs no metadata change), ZERO, or SLOW. Reads of a
 * differencing disk map through to the parent's file. 0 or -errno (-EROFS: a write to a
 * read-only disk). Same threading rules as block_read. */
int block_map(struct block_dev *bd, uint64_t off, uint64_t len, bool write, struct block_map *m)
	__attribute__((warn_unused_result));
/* The virtual size in bytes. */
uint64_t block_size(const struct block_dev *bd);
/* The logical sector size guests should see (512 or 4096). */
uint32_t block_logical_sector(const struct block_dev *bd);
/* See block_ops.status: 1 present in this layer, 0 not (zeros or the parent's), -errno. */
int block_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *run)
	__attribute__((warn_unused_result));
/* Fill out (zeroed first) with what info shows. */
void block_get_info(struct block_dev *bd, struct block_info *out);
/* Close the device (and any parent it opened). NULL is fine. */
void block_close(struct block_dev *bd);

/* Create path for writing: O_EXCL, or truncating an existing file when overwrite. *created
 * says whether the file is new (only a new file may be removed when filling it fails). Returns
 * the fd, or -errno with "PATH: why" in e. */
int block_create_fd(const char *path, bool overwrite, bool *created, struct err *e);

/* Read exactly len bytes at off from fd through io; a short read past EOF is -EIO. */
int block_pread_full(const struct block_io *io, int fd, void *buf, size_t len, uint64_t off)
	__attribute__((warn_unused_result));
/* Write exactly len bytes at off; a short write that makes no progress is -EIO, never a
 * stale errno. */
int block_pwrite_full(const struct block_io *io, int fd, const void *buf, size_t len,
		      uint64_t off) __attribute__((warn_unused_result));

#endif
