/* img_util.h: helpers shared by the `thinvisor img` subcommands. */
#ifndef TV_IMG_UTIL_H
#define TV_IMG_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "block/block.h"
#include "block/vhd.h"
#include "block/vhdx.h"

/* Parse a size with an optional qemu-style suffix (k/K, M, G, T, P, E: powers of 1024; b or
 * B: bytes). Returns 0 or -EINVAL. */
int img_parse_size(const char *s, uint64_t *out) __attribute__((warn_unused_result));

/* Apply "-o key=value,key=value" options for format fmt ("vhd", "vhdx", "raw") to o (vhd) or
 * x (vhdx). Returns 0, or -EINVAL with a message in e. */
int img_parse_opts(const char *fmt, const char *opts, struct vhd_create_opts *o,
		   struct vhdx_create_opts *x, struct err *e) __attribute__((warn_unused_result));

/* Create an image of format fmt at path: vhd per o, vhdx per x (size, parent and overwrite
 * taken from o), raw as a sparse file of o->size bytes. *actual gets the virtual size created.
 * An existing path is replaced only with o->overwrite; on failure a file this call created is
 * removed. */
int img_create_file(const char *fmt, const char *path, const struct vhd_create_opts *o,
		    struct vhdx_create_opts *x, uint64_t *actual, struct err *e)
	__attribute__((warn_unused_result));

/* The block_io to use: the default, or (test seam) one that _exit(99)s at the Nth step of a
 * crash-ordered update when THINVISOR_TEST_CRASH_AT=N is set. hook must outlive the io. */
struct img_hook {
	struct block_io io;
	long crash_at, seen;
};
const struct block_io *img_io(struct img_hook *hook);

/* Print a usage error "img CMD: msg" and return 1. */
int img_usage(const char *cmd, const char *msg);

/* Subcommands: each gets argv[0] = its name and returns the exit status. */
int img_create_main(int argc, char **argv);
int img_info_main(int argc, char **argv);
int img_check_main(int argc, char **argv);
int img_convert_main(int argc, char **argv);
int img_commit_main(int argc, char **argv);
int img_compare_main(int argc, char **argv);
int img_write_main(int argc, char **argv);
int img_bench_main(int argc, char **argv);

#endif
