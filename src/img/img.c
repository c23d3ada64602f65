/* img.c: `thinvisor img` dispatch, help text and shared helpers. */
#include "img/img.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img/img_util.h"
#include "util/log.h"
#include "util/size.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} subs[] = {
	{"create", img_create_main},   {"info", img_info_main},	    {"check", img_check_main},
	{"convert", img_convert_main}, {"commit", img_commit_main}, {"compare", img_compare_main},
	{"write", img_write_main},     {"bench", img_bench_main},
};

void help_img(void)
{
	printf(
"usage: thinvisor img COMMAND [OPTIONS] ...\n"
"\n"
"Disk images: raw, VHD (Virtual PC / Virtual Server / Hyper-V; fixed, dynamic, differencing)\n"
"and VHDX (Hyper-V; fixed, dynamic, differencing .avhdx, with log replay).\n"
"Formats are probed from the contents unless given with -f. SIZE takes k, M, G, T suffixes.\n"
"\n"
"  create -f FMT [-o OPTIONS] FILE SIZE\n"
"      Create an image (FMT raw, vhd or vhdx; 'vpc' is accepted for vhd). VHD options:\n"
"        subformat=dynamic|fixed  (default dynamic)\n"
"        block_size=SIZE          dynamic block size, a power of two (default 2M)\n"
"        force_size=on            keep SIZE exactly instead of rounding up to the CHS geometry\n"
"        azure=on                 fixed disk whose size is rounded up to 1 MiB (Azure's rule)\n"
"      Like qemu-img, sizes round up to a whole CHS geometry unless force_size/azure; exact\n"
"      sizes carry creator 'win ' so that Hyper-V and QEMU read the same size. Max 2040 GiB.\n"
"      VHDX options (Hyper-V's defaults):\n"
"        subformat=dynamic|fixed          (default dynamic)\n"
"        block_size=SIZE                  power of two, 1M to 256M (default 32M)\n"
"        logical_sector_size=512|4096     (default 512; guests see it)\n"
"        physical_sector_size=512|4096    (default 4096)\n"
"  create -f vhd -b PARENT FILE\n"
"  create -f vhdx -b PARENT.vhdx CHILD.avhdx\n"
"      A differencing VHDX (2M blocks) whose locator holds the parent's DataWriteGuid, a\n"
"      relative and an absolute path; the parent is found relative first when opened.\n"
"      Create a differencing disk over PARENT (a VHD). A relative PARENT is taken relative to\n"
"      FILE's directory, as qemu-img does. Relative (W2ru), absolute (W2ku) and MacX locators\n"
"      are stored, so the pair can be moved together.\n"
"  info [--json] [-f FMT] FILE\n"
"      Format, subformat, virtual and allocated size, creator, UUID and the parent chain;\n"
"      VHDX also block and sector sizes, DataWriteGuid and the log: clean or needs replay.\n"
"  check [--repair] FILE\n"
"      Check a VHD's footers, header, BAT, leaked space and parent, or a VHDX's headers,\n"
"      region tables, log, metadata, BAT and parent. Exit 0: clean, 2: errors, 3: leaked\n"
"      space only. --repair rewrites damaged footers (VHD), a damaged header or region table\n"
"      (VHDX), replays a pending VHDX log, and reclaims a leaked tail.\n"
"  convert [-f FMT] [-O FMT] [-o OPTIONS] [--overwrite] SRC DST\n"
"      Copy SRC (a differencing chain is flattened) into a new DST; zero data stays sparse.\n"
"      DST must not exist unless --overwrite, and never be SRC or a file of SRC's chain.\n"
"  commit CHILD\n"
"      Write the sectors a differencing disk holds into its parent (CHILD is left as is).\n"
"  compare [-f FMT] [-F FMT] [-s] A B\n"
"      Compare contents; a size difference is fine if the extra part is zero (unless -s).\n"
"      Exit 0: identical, 1: different, 2: error.\n"
"  write [-f FMT] FILE OFFSET DATAFILE\n"
"      Write DATAFILE's bytes into the disk at OFFSET (both multiples of 512).\n"
"  bench [-f FMT] [-c COUNT] [-s SIZE] [-S STEP] [-o OFFSET] [-w] [-r] [--flush] FILE\n"
"      Sequential (or with -r random, seeded) I/O of SIZE-byte requests through the block\n"
"      driver, like qemu-img bench: prints MiB/s and IOPS. -w writes, --flush ends with one.\n"
"\n"
"Test seam: THINVISOR_TEST_CRASH_AT=N makes a writing command _exit(99) right after the Nth\n"
"step of a crash-ordered VHD allocation (1 data+bitmap, 2 footer, 3 BAT entry; then 4, 5, 6\n"
"for the next block, and so on), or of a VHDX header update, allocation or log replay.\n");
}

int cmd_img(int argc, char **argv)
{
	if (argc < 2) {
		help_img();
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		help_img();
		return 0;
	}
	/* A file-size limit (ulimit -f) is a failing write (EFBIG) to handle, not a kill between
	 * two steps of an update. */
	signal(SIGXFSZ, SIG_IGN);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(subs[i].name, argv[1]))
			return subs[i].fn(argc - 1, argv + 1);
	log_err("img: unknown command '%s' (see `thinvisor help img`)", argv[1]);
	return 1;
}

int img_usage(const char *cmd, const char *msg)
{
	log_err("img %s: %s", cmd, msg);
	return 1;
}

int img_parse_size(const char *s, uint64_t *out)
{
	return parse_size_qemu(s, out) ? -EINVAL : 0;
}

static int on_off(const char *key, const char *val, bool *out, struct err *e)
{
	if (!strcmp(val, "on") || !strcmp(val, "true"))
		*out = true;
	else if (!strcmp(val, "off") || !strcmp(val, "false"))
		*out = false;
	else
		return errf(e, -EINVAL, "option %s wants on or off, not '%s'", key, val);
	return 0;
}

static int vhdx_opt(const char *tok, const char *val, struct vhdx_create_opts *x, struct err *e)
{
	uint64_t sz;

	if (!strcmp(tok, "subformat")) {
		if (strcmp(val, "dynamic") && strcmp(val, "fixed"))
			return errf(e, -EINVAL, "subformat must be dynamic or fixed, not '%s'", val);
		x->fixed = !strcmp(val, "fixed");
	} else if (!strcmp(tok, "block_size")) {
		if (img_parse_size(val, &sz) || sz < (1u << 20) || sz > (256u << 20) || (sz & (sz - 1)))
			return errf(e, -EINVAL, "block_size must be a power of two from 1M to 256M, "
				    "not '%s'", val);
		x->block_size = (uint32_t)sz;
	} else if (!strcmp(tok, "logical_sector_size") || !strcmp(tok, "physical_sector_size")) {
		if (strcmp(val, "512") && strcmp(val, "4096"))
			return errf(e, -EINVAL, "%s must be 512 or 4096, not '%s'", tok, val);
		*(tok[0] == 'l' ? &x->lsec : &x->psec) = (uint32_t)atoi(val);
	} else {
		return errf(e, -EINVAL, "unknown option '%s' for format vhdx", tok);
	}
	return 0;
}

int img_parse_opts(const char *fmt, const char *opts, struct vhd_create_opts *o,
		   struct vhdx_create_opts *x, struct err *e)
{
	char *dup, *save = NULL, *tok;
	int ret = 0;

	if (!opts)
		return 0;
	dup = strdup(opts);
	if (!dup)
		return errf(e, -ENOMEM, "out of memory");
	for (tok = strtok_r(dup, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');
		uint64_t sz;

		if (val)
			*val++ = 0;
		if (strcmp(fmt, "vhd") && strcmp(fmt, "vhdx")) {
			ret = errf(e, -EINVAL, "format %s takes no option '%s'", fmt, tok);
		} else if (!val) {
			ret = errf(e, -EINVAL, "option '%s' needs a value (%s=...)", tok, tok);
		} else if (!strcmp(fmt, "vhdx")) {
			ret = vhdx_opt(tok, val, x, e);
		} else if (!strcmp(tok, "subformat")) {
			if (!strcmp(val, "dynamic"))
				o->type = VHD_TYPE_DYNAMIC;
			else if (!strcmp(val, "fixed"))
				o->type = VHD_TYPE_FIXED;
			else
				ret = errf(e, -EINVAL, "subformat must be dynamic or fixed, not '%s'", val);
		} else if (!strcmp(tok, "block_size")) {
			if (img_parse_size(val, &sz) || sz < 512 || sz > (256u << 20) || (sz & (sz - 1)))
				ret = errf(e, -EINVAL, "block_size must be a power of two from 512 to 256M, "
					   "not '%s'", val);
			else
				o->block_size = (uint32_t)sz;
		} else if (!strcmp(tok, "force_size")) {
			ret = on_off(tok, val, &o->force_size, e);
		} else if (!strcmp(tok, "azure")) {
			ret = on_off(tok, val, &o->azure, e);
		} else {
			ret = errf(e, -EINVAL, "unknown option '%s' for format vhd", tok);
		}
	}
	if (!ret && o->azure)
		o->type = VHD_TYPE_FIXED;
	free(dup);
	return ret;
}

int img_create_file(const char *fmt, const char *path, const struct vhd_create_opts *o,
		    struct vhdx_create_opts *x, uint64_t *actual, struct err *e)
{
	bool created;
	int fd, ret;

	if (!strcmp(fmt, "vhdx")) {
		uint32_t ls = x->lsec ? x->lsec : 512;

		x->size = o->size;
		x->overwrite = o->overwrite;
		x->parent = o->parent;
		*actual = (o->size + ls - 1) / ls * ls;
		return vhdx_create(path, x, e);
	}

	if (!strcmp(fmt, "vhd")) {
		ret = o->type == VHD_TYPE_DIFF ? 0 : vhd_create_size(o, actual, e);
		return ret ? ret : vhd_create(path, o, e);
	}
	*actual = (o->size + 511) / 512 * 512;
	fd = block_create_fd(path, o->overwrite, &created, e);
	if (fd < 0)
		return fd;
	ret = ftruncate(fd, (off_t)*actual) ? -errno : 0;
	if (close(fd) && !ret)
		ret = -errno;
	if (ret && created)
		unlink(path);
	return ret ? errf(e, ret, "%s: %s", path, strerror(-ret)) : 0;
}

static void crash_step(void *ctx, int step)
{
	struct img_hook *h = ctx;

	if (++h->seen == h->crash_at)
		_exit(99);
}

const struct block_io *img_io(struct img_hook *h)
{
	const char *s = getenv("THINVISOR_TEST_CRASH_AT");

	h->io = block_io_default;
	h->seen = 0;
	h->crash_at = s ? strtol(s, NULL, 10) : 0;
	if (h->crash_at > 0) {
		h->io.step = crash_step;
		h->io.ctx = h;
	}
	return &h->io;
}
