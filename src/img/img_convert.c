/* img_convert.c: `thinvisor img convert`, `commit`, `compare` and `write`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/img_util.h"
#include "util/log.h"

#define CHUNK (2u << 20)

static bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

/* Write the parts of buf (64 KiB granules) that are not all zero: sparse output. */
static int write_nonzero(struct block_dev *dst, const uint8_t *buf, size_t n, uint64_t off)
{
	const size_t g = 64u << 10;

	for (size_t i = 0; i < n;) {
		size_t start, len;

		while (i < n && all_zero(buf + i, n - i < g ? n - i : g))
			i += g;
		if (i >= n)
			break;
		start = i;
		while (i < n && !all_zero(buf + i, n - i < g ? n - i : g))
			i += g;
		len = (i < n ? i : n) - start;
		int ret = block_write(dst, buf + start, len, off + start);

		if (ret)
			return ret;
	}
	return 0;
}

/* Refuse a destination that is the source or one of its parents (same device and inode). */
static int dst_in_chain(struct block_dev *src, const char *dst)
{
	struct block_info *i = malloc(sizeof(*i));
	struct stat d, s;
	int depth = 0, ret = 0;

	if (!i)
		return -ENOMEM;
	if (stat(dst, &d) == 0)
		for (struct block_dev *b = src; b && !ret; depth++) {
			if (fstat(b->fd, &s) == 0 && s.st_dev == d.st_dev && s.st_ino == d.st_ino) {
				log_err("img convert: %s: the destination is %s", dst, depth ?
					"in the source's backing chain" : "the source itself");
				ret = -EINVAL;
			}
			block_get_info(b, i);
			b = i->parent;
		}
	free(i);
	return ret;
}

static int open_or_say(const char *cmd, const char *path, const char *fmt, unsigned flags,
		       const struct block_io *io, struct block_dev **bd)
{
	struct block_open_opts o = {.flags = flags, .io = io};
	struct err e;

	if (block_open(path, fmt, &o, bd, &e)) {
		log_err("img %s: %s", cmd, e.msg);
		return -1;
	}
	return 0;
}

int img_convert_main(int argc, char **argv)
{
	static const struct option lo[] = {{"overwrite", no_argument, NULL, 'W'}, {NULL, 0, NULL, 0}};
	struct vhd_create_opts o = {.type = VHD_TYPE_DYNAMIC};
	struct vhdx_create_opts x = {0};
	const char *ifmt = NULL, *ofmt = "raw", *opts = NULL, *dpath;
	bool overwrite = false;
	struct block_dev *src, *dst;
	struct img_hook hook;
	uint64_t size, actual, off;
	uint8_t *buf;
	struct err e;
	bool created;
	int c, ret = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:O:o:pq", lo, NULL)) != -1) {
		switch (c) {
		case 'W': overwrite = true; break;
		case 'f': ifmt = optarg; break;
		case 'O': ofmt = optarg; break;
		case 'o': opts = optarg; break;
		case 'p': case 'q': break;
		default: return img_usage("convert", "bad option (see `thinvisor help img`)");
		}
	}
	if (!strcmp(ofmt, "vpc"))
		ofmt = "vhd";
	if (strcmp(ofmt, "vhd") && strcmp(ofmt, "raw") && strcmp(ofmt, "vhdx"))
		return img_usage("convert", "output format must be raw, vhd or vhdx");
	if (img_parse_opts(ofmt, opts, &o, &x, &e))
		return img_usage("convert", e.msg);
	if (optind + 2 != argc)
		return img_usage("convert", "want SRC and DST");
	if (open_or_say("convert", argv[optind], ifmt, 0, NULL, &src))
		return 1;
	dpath = argv[optind + 1];
	if (dst_in_chain(src, dpath)) {
		block_close(src);
		return 1;
	}
	size = block_size(src);
	o.size = size;
	o.overwrite = overwrite;
	created = access(dpath, F_OK) != 0;
	if (img_create_file(ofmt, dpath, &o, &x, &actual, &e)) {
		log_err("img convert: %s%s", e.msg, overwrite || !strstr(e.msg, ": already exists") ?
			"" : "; give --overwrite to replace it");
		block_close(src);
		return 1;
	}
	if (open_or_say("convert", dpath, ofmt, BLOCK_RDWR, img_io(&hook), &dst)) {
		block_close(src);
		if (created)
			unlink(dpath);
		return 1;
	}
	buf = malloc(CHUNK);
	for (off = 0; buf && !ret && off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;

		ret = block_read(src, buf, n, off);
		if (!ret)
			ret = write_nonzero(dst, buf, n, off);
	}
	if (!buf)
		ret = -ENOMEM;
	if (!ret)
		ret = block_flush(dst);
	if (ret)
		log_err("img convert: at offset %" PRIu64 ": %s", off, strerror(-ret));
	free(buf);
	block_close(dst);
	block_close(src);
	if (ret && created)
		unlink(dpath); /* a partial copy; never a file that was there before */
	return ret ? 1 : 0;
}

int img_commit_main(int argc, char **argv)
{
	struct block_dev *child, *parent;
	struct block_info *info;
	struct img_hook hook;
	uint64_t off, size;
	uint8_t *buf;
	int ret = 0;

	if (argc == 2 && argv[1][0] != '-') {
	} else {
		return img_usage("commit", "want exactly one CHILD");
	}
	if (open_or_say("commit", argv[1], NULL, 0, NULL, &child))
		return 1;
	info = calloc(1, sizeof(*info));
	buf = malloc(CHUNK);
	if (!info || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	block_get_info(child, info);
	if (!info->parent) {
		log_err("img commit: %s: not a differencing disk", argv[1]);
		ret = -EINVAL;
		goto out;
	}
	if (open_or_say("commit", info->parent_path, NULL, BLOCK_RDWR, img_io(&hook), &parent)) {
		ret = -EINVAL;
		goto out;
	}
	size = block_size(child) < block_size(parent) ? block_size(child) : block_size(parent);
	/* Only sectors the child holds; block_read of those reads the child's file alone. */
	for (off = 0; !ret && off < size;) {
		uint64_t run;
		int present = block_status(child, off, size - off, &run);

		if (present < 0) {
			ret = present;
			break;
		}
		for (uint64_t done = 0; present && !ret && done < run;) {
			size_t n = run - done < CHUNK ? (size_t)(run - done) : CHUNK;

			ret = block_read(child, buf, n, off + done);
			if (!ret)
				ret = block_write(parent, buf, n, off + done);
			done += n;
		}
		off += run;
	}
	if (!ret)
		ret = block_flush(parent);
	if (ret)
		log_err("img commit: %s: %s", info->parent_path, strerror(-ret));
	else
		printf("Image committed.\n");
	block_close(parent);
out:
	free(buf);
	free(info);
	block_close(child);
	return ret ? 1 : 0;
}

int img_compare_main(int argc, char **argv)
{
	const char *fa = NULL, *fb = NULL;
	struct block_dev *a, *b;
	uint8_t *ba, *bb;
	uint64_t sa, sb, common, off;
	bool strict = false;
	int c, ret = 0, diff = 0;

	optind = 1;
	while ((c = getopt(argc, argv, "+f:F:sq")) != -1) {
		switch (c) {
		case 'f': fa = optarg; break;
		case 'F': fb = optarg; break;
		case 's': strict = true; break;
		case 'q': break;
		default: img_usage("compare", "bad option (see `thinvisor help img`)"); return 2;
		}
	}
	if (optind + 2 != argc) {
		img_usage("compare", "want two images");
		return 2;
	}
	if (open_or_say("compare", argv[optind], fa, 0, NULL, &a))
		return 2;
	if (open_or_say("compare", argv[optind + 1], fb, 0, NULL, &b)) {
		block_close(a);
		return 2;
	}
	sa = block_size(a);
	sb = block_size(b);
	if (strict && sa != sb) {
		printf("Strict mode: Image size mismatch!\n");
		diff = 1;
		goto out;
	}
	common = sa < sb ? sa : sb;
	ba = malloc(CHUNK);
	bb = malloc(CHUNK);
	for (off = 0; ba && bb && !ret && !diff && off < common; off += CHUNK) {
		size_t n = common - off < CHUNK ? (size_t)(common - off) : CHUNK, i = 0;

		ret = block_read(a, ba, n, off);
		if (!ret)
			ret = block_read(b, bb, n, off);
		if (!ret && memcmp(ba, bb, n)) {
			while (ba[i] == bb[i])
				i++;
			printf("Content mismatch at offset %" PRIu64 "!\n", off + i / 512 * 512);
			diff = 1;
		}
	}
	/* The larger image's extra part must read as zeros. */
	for (off = common; ba && !ret && !diff && off < (sa > sb ? sa : sb); off += CHUNK) {
		uint64_t end = sa > sb ? sa : sb;
		size_t n = end - off < CHUNK ? (size_t)(end - off) : CHUNK, i = 0;

		ret = block_read(sa > sb ? a : b, ba, n, off);
		if (!ret && !all_zero(ba, n)) {
			while (!ba[i])
				i++;
			printf("Content mismatch at offset %" PRIu64 "!\n", off + i / 512 * 512);
			diff = 1;
		}
	}
	if (!ba || !bb)
		ret = -ENOMEM;
	free(ba);
	free(bb);
	if (ret) {
		log_err("img compare: %s", strerror(-ret));
		diff = 2;
	} else if (!diff) {
		printf("Images are identical.\n");
	}
out:
	block_close(a);
	block_close(b);
	return diff;
}

int img_write_main(int argc, char **argv)
{
	const char *fmt = NULL;
	struct block_dev *bd;
	struct img_hook hook;
	struct stat st;
	uint64_t off;
	uint8_t *buf = NULL;
	int c, fd, ret;

	optind = 1;
	while ((c = getopt(argc, argv, "+f:")) != -1) {
		if (c != 'f')
			return img_usage("write", "bad option (see `thinvisor help img`)");
		fmt = optarg;
	}
	if (optind + 3 != argc)
		return img_usage("write", "want FILE OFFSET DATAFILE");
	if (img_parse_size(argv[optind + 1], &off))
		return img_usage("write", "bad OFFSET");
	fd = open(argv[optind + 2], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		log_err("img write: %s: %s", argv[optind + 2], strerror(errno));
		return 1;
	}
	if (open_or_say("write", argv[optind], fmt, BLOCK_RDWR, img_io(&hook), &bd)) {
		close(fd);
		return 1;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	ret = buf ? block_pread_full(&block_io_default, fd, buf, (size_t)st.st_size, 0) : -ENOMEM;
	if (!ret)
		ret = block_write(bd, buf, (size_t)st.st_size, off);
	if (!ret)
		ret = block_flush(bd);
	if (ret == -EINVAL)
		log_err("img write: %s: offset %" PRIu64 " and length %jd must be multiples of 512 "
			"inside the disk (%" PRIu64 " bytes)", argv[optind], off, (intmax_t)st.st_size,
			block_size(bd));
	else if (ret == -EPERM && bd->last_err.msg[0])
		log_err("img write: %s", bd->last_err.msg);
	else if (ret)
		log_err("img write: %s: %s", argv[optind], strerror(-ret));
	free(buf);
	close(fd);
	block_close(bd);
	return ret ? 1 : 0;
}
