/* img_create.c: `thinvisor img create`. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "img/img_util.h"
#include "util/log.h"

int img_create_main(int argc, char **argv)
{
	/* As qemu-img create does, an existing FILE is replaced (convert refuses, see there). */
	struct vhd_create_opts o = {.type = VHD_TYPE_DYNAMIC, .overwrite = true};
	struct vhdx_create_opts x = {0};
	const char *fmt = "raw", *opts = NULL, *parent = NULL;
	uint64_t actual = 0;
	struct err e;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "+f:o:b:F:q")) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'o': opts = optarg; break;
		case 'b': parent = optarg; break;
		case 'F': break; /* the parent's format: always probed */
		case 'q': break;
		default: return img_usage("create", "bad option (see `thinvisor help img`)");
		}
	}
	if (!strcmp(fmt, "vpc"))
		fmt = "vhd";
	if (strcmp(fmt, "vhd") && strcmp(fmt, "raw") && strcmp(fmt, "vhdx"))
		return img_usage("create", "format must be raw, vhd or vhdx");
	if (img_parse_opts(fmt, opts, &o, &x, &e))
		return img_usage("create", e.msg);
	if (optind >= argc)
		return img_usage("create", "missing FILE");
	if (parent) {
		if (strcmp(fmt, "vhd") && strcmp(fmt, "vhdx"))
			return img_usage("create", "-b needs -f vhd or -f vhdx");
		if (optind + 1 < argc && optind + 2 == argc) {
			/* qemu-img allows a size with -b; it must not differ from the parent's. */
		} else if (optind + 1 != argc) {
			return img_usage("create", "too many arguments");
		}
		o.type = VHD_TYPE_DIFF;
		o.parent = parent;
	} else {
		if (optind + 2 != argc)
			return img_usage("create", optind + 1 == argc ? "missing SIZE" : "too many arguments");
		if (img_parse_size(argv[optind + 1], &o.size))
			return img_usage("create", "bad SIZE (use e.g. 512, 64k, 10M, 2G)");
	}
	if (img_create_file(fmt, argv[optind], &o, &x, &actual, &e)) {
		log_err("img create: %s", e.msg);
		return 1;
	}
	if (parent)
		printf("Formatting '%s', fmt=%s subformat=differencing parent=%s\n", argv[optind],
		       fmt, parent);
	else
		printf("Formatting '%s', fmt=%s size=%" PRIu64 "\n", argv[optind], fmt, actual);
	return 0;
}
