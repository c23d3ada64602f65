/* img_info.c: `thinvisor img info` (text and JSON) and `thinvisor img check`. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img/img_util.h"
#include "util/log.h"

static void human(uint64_t v, char *out, size_t n)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, n, "%" PRIu64 " B", v);
	else
		snprintf(out, n, "%.3g %s", d, unit[u]);
}

static void print_text(const char *path, const struct block_info *i)
{
	char a[32], b[32];

	human(i->virtual_size, a, sizeof(a));
	human(i->allocated, b, sizeof(b));
	printf("image: %s\nfile format: %s\n", path, i->format);
	if (i->subformat[0])
		printf("subformat: %s\n", i->subformat);
	printf("virtual size: %s (%" PRIu64 " bytes)\ndisk size: %s\n", a, i->virtual_size, b);
	if (!strcmp(i->format, "vhdx")) {
		printf("creator: '%s'\ndisk id: %s\ndata write guid: %s\n", i->creator, i->uuid,
		       i->data_write_guid);
		printf("block size: %" PRIu32 "\nblocks allocated: %" PRIu32 "/%" PRIu32 "\n",
		       i->block_size, i->blocks_allocated, i->blocks_total);
		printf("logical sector size: %" PRIu32 "\nphysical sector size: %" PRIu32 "\n",
		       i->logical_sector, i->physical_sector);
		printf("log: %s\n", i->log_state);
		if (i->parent_uuid[0])
			printf("parent: %s\nparent linkage: %s\n", i->parent_path, i->parent_uuid);
		return;
	}
	if (strcmp(i->format, "vhd"))
		return;
	printf("creator: '%s' version 0x%08" PRIx32 " on '%s'\n", i->creator, i->creator_version,
	       i->creator_os);
	printf("uuid: %s\n", i->uuid);
	printf("geometry: %u/%u/%u (C/H/S); size taken from %s\n", i->cylinders, i->heads, i->sectors,
	       i->sized_by_chs ? "CHS geometry" : "current size");
	if (i->block_size)
		printf("block size: %" PRIu32 "\nblocks allocated: %" PRIu32 "/%" PRIu32 "\n",
		       i->block_size, i->blocks_allocated, i->blocks_total);
	if (i->saved_state)
		printf("saved state: yes\n");
	if (i->footer_from_copy)
		printf("warning: end footer damaged, the copy at offset 0 was used\n");
	if (i->parent_uuid[0])
		printf("parent: %s\nparent uuid: %s\n", i->parent_path, i->parent_uuid);
}

static json_object *to_json(const char *path, const struct block_info *i)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "filename", json_object_new_string(path));
	json_object_object_add(o, "format", json_object_new_string(i->format));
	json_object_object_add(o, "virtual-size", json_object_new_int64((int64_t)i->virtual_size));
	json_object_object_add(o, "actual-size", json_object_new_int64((int64_t)i->allocated));
	json_object_object_add(o, "file-size", json_object_new_int64((int64_t)i->file_size));
	if (!strcmp(i->format, "vhdx")) {
		json_object_object_add(o, "subformat", json_object_new_string(i->subformat));
		json_object_object_add(o, "creator", json_object_new_string(i->creator));
		json_object_object_add(o, "disk-id", json_object_new_string(i->uuid));
		json_object_object_add(o, "data-write-guid", json_object_new_string(i->data_write_guid));
		json_object_object_add(o, "block-size", json_object_new_int64(i->block_size));
		json_object_object_add(o, "blocks-allocated", json_object_new_int64(i->blocks_allocated));
		json_object_object_add(o, "blocks-total", json_object_new_int64(i->blocks_total));
		json_object_object_add(o, "logical-sector-size", json_object_new_int64(i->logical_sector));
		json_object_object_add(o, "physical-sector-size", json_object_new_int64(i->physical_sector));
		json_object_object_add(o, "log", json_object_new_string(i->log_state));
		if (i->parent_uuid[0]) {
			json_object_object_add(o, "parent", json_object_new_string(i->parent_path));
			json_object_object_add(o, "parent-linkage", json_object_new_string(i->parent_uuid));
		}
		return o;
	}
	if (strcmp(i->format, "vhd"))
		return o;
	json_object_object_add(o, "subformat", json_object_new_string(i->subformat));
	json_object_object_add(o, "creator-app", json_object_new_string(i->creator));
	json_object_object_add(o, "creator-version", json_object_new_int64(i->creator_version));
	json_object_object_add(o, "creator-os", json_object_new_string(i->creator_os));
	json_object_object_add(o, "uuid", json_object_new_string(i->uuid));
	json_object_object_add(o, "size-from", json_object_new_string(i->sized_by_chs ? "chs" : "current-size"));
	json_object_object_add(o, "cylinders", json_object_new_int(i->cylinders));
	json_object_object_add(o, "heads", json_object_new_int(i->heads));
	json_object_object_add(o, "sectors-per-track", json_object_new_int(i->sectors));
	json_object_object_add(o, "saved-state", json_object_new_boolean(i->saved_state));
	if (i->block_size) {
		json_object_object_add(o, "block-size", json_object_new_int64(i->block_size));
		json_object_object_add(o, "blocks-allocated", json_object_new_int64(i->blocks_allocated));
		json_object_object_add(o, "blocks-total", json_object_new_int64(i->blocks_total));
	}
	if (i->parent_uuid[0]) {
		json_object_object_add(o, "parent", json_object_new_string(i->parent_path));
		json_object_object_add(o, "parent-uuid", json_object_new_string(i->parent_uuid));
	}
	return o;
}

int img_info_main(int argc, char **argv)
{
	static const struct option lo[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	const char *fmt = NULL;
	struct block_info *info;
	struct block_dev *bd, *cur;
	json_object *chain = NULL, *top = NULL;
	bool json = false;
	struct err e;
	int c, depth = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:", lo, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'j')
			json = true;
		else
			return img_usage("info", "bad option (see `thinvisor help img`)");
	}
	if (optind + 1 != argc)
		return img_usage("info", "want exactly one FILE");
	if (block_open(argv[optind], fmt, NULL, &bd, &e)) {
		log_err("img info: %s", e.msg);
		return 1;
	}
	info = malloc(sizeof(*info));
	if (!info) {
		block_close(bd);
		return 1;
	}
	if (json)
		chain = json_object_new_array();
	/* The whole chain, child first, like qemu-img info --backing-chain. */
	for (cur = bd; cur; cur = info->parent, depth++) {
		const char *name = cur == bd ? argv[optind] : cur->path;

		block_get_info(cur, info);
		if (json && depth == 0) {
			top = to_json(name, info);
		} else if (json) {
			json_object_array_add(chain, to_json(name, info));
		} else {
			if (depth)
				printf("\n");
			print_text(name, info);
		}
	}
	if (json) {
		json_object_object_add(top, "parent-chain", chain);
		printf("%s\n", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(top);
	}
	free(info);
	block_close(bd);
	return 0;
}

/* qemu-img check's summary and exit status: 2 errors (the first named on stderr), 3 leaks
 * only, 0 clean. */
static int check_summary(const char *path, int errors, const char *first, uint64_t leaked)
{
	if (errors) {
		printf("%d errors were found on the image.\n", errors);
		log_err("img check: %s: %s", path, first);
		return 2;
	}
	if (leaked) {
		printf("%" PRIu64 " bytes of leaked space were found on the image.\n"
		       "This means waste of disk space, but no harm to data.\n", leaked);
		return 3;
	}
	printf("No errors were found on the image.\n");
	return 0;
}

static int check_vhdx(const char *path, bool repair)
{
	struct vhdx_check_report r;
	struct img_hook hook;
	struct err e;

	if (vhdx_check(path, repair, img_io(&hook), &r, stdout, &e)) {
		log_err("img check: %s", e.msg);
		return 2;
	}
	return check_summary(path, r.errors, r.first, r.leaked);
}

int img_check_main(int argc, char **argv)
{
	static const struct option lo[] = {{"repair", no_argument, NULL, 'r'}, {NULL, 0, NULL, 0}};
	struct vhd_check_report r;
	const struct block_ops *ops;
	const char *fmt = NULL, *known;
	bool repair = false;
	struct err e;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:r:", lo, NULL)) != -1) {
		if (c == 'r')
			repair = true; /* --repair, or qemu-img's -r leaks|all */
		else if (c == 'f')
			fmt = optarg;
		else
			return img_usage("check", "bad option (see `thinvisor help img`)");
	}
	if (optind + 1 != argc)
		return img_usage("check", "want exactly one FILE");
	ops = fmt ? block_find(fmt) : block_probe(argv[optind], &known, &e);
	if (!ops && fmt)
		errf(&e, -EINVAL, "unknown format '%s'", fmt);
	else if (!ops && known && !strcmp(known, "vhd"))
		ops = &block_vhd_ops; /* no valid end footer: vhd_check looks at the copy */
	if (!ops) {
		log_err("img check: %s", e.msg);
		return 1;
	}
	if (ops == &block_vhdx_ops)
		return check_vhdx(argv[optind], repair);
	if (ops != &block_vhd_ops) {
		printf("No errors were found on the image (format %s has no metadata to check).\n",
		       ops->name);
		return 0;
	}
	if (vhd_check(argv[optind], repair, &r, stdout, &e)) {
		log_err("img check: %s", e.msg);
		return 2;
	}
	return check_summary(argv[optind], r.errors, r.first, r.leaked);
}
