/* vhd.c: the VHD driver's open path: footer (or its copy), dynamic header, BAT, parent chain. */
#include "block/vhd.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define VHD_MAX_CHAIN 64

static int vhd_probe(const uint8_t *head, size_t hl, const uint8_t *tail, size_t tl)
{
	/* Only the end footer: the copy at offset 0 may be guest data (a fixed disk's sector 0,
	 * a raw disk's). A damaged end footer is refused by the probe chain's table (probe.c). */
	return tl >= 8 && !memcmp(tail, "conectix", 8) ? 100 : 0;
}

static int load_footer(struct block_dev *bd, struct vhd *v, struct err *e)
{
	uint8_t buf[VHD_FOOTER_SIZE];
	struct err e_end, e_copy;
	int ret, rc;

	if (v->file_size < VHD_FOOTER_SIZE)
		return errf(e, -EINVAL, "%s: file too small for a VHD (%" PRIu64 " bytes)", bd->path,
			    v->file_size);
	ret = block_pread_full(&bd->io, bd->fd, buf, sizeof(buf), v->file_size - VHD_FOOTER_SIZE);
	if (ret)
		return errf(e, ret, "%s: reading the footer: %s", bd->path, strerror(-ret));
	ret = vhd_footer_parse(buf, &v->footer, &e_end);
	if (ret == 0) {
		v->footer_off = v->file_size - VHD_FOOTER_SIZE;
		return 0;
	}
	/* The spec keeps a copy at offset 0 for dynamic and differencing disks; only `img check`
	 * may use it (BLOCK_FOOTER_COPY): on a fixed disk those bytes are the guest's. */
	if (!(bd->flags & BLOCK_FOOTER_COPY))
		return errf(e, ret, "%s: bad VHD footer: %s", bd->path, e_end.msg);
	/* Even for check: not when the damaged end footer still says "fixed" (sector 0 is data). */
	if (!memcmp(buf, "conectix", 8) && vhd_be32(buf + 60) == VHD_TYPE_FIXED)
		return errf(e, ret, "%s: bad VHD footer: %s", bd->path, e_end.msg);
	rc = block_pread_full(&bd->io, bd->fd, buf, sizeof(buf), 0);
	if (rc || vhd_footer_parse(buf, &v->footer, &e_copy) || v->footer.type == VHD_TYPE_FIXED)
		return errf(e, ret, "%s: bad VHD footer: %s", bd->path, e_end.msg);
	v->footer_from_copy = true;
	v->footer_off = (v->file_size + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
	return 0;
}

static int load_dynamic(struct block_dev *bd, struct vhd *v, struct err *e)
{
	uint8_t hbuf[VHD_DYN_HEADER_SIZE];
	struct vhd_dyn_header *h = &v->hdr;
	uint64_t bat_bytes, data_end;
	struct err pe;
	int ret;

	if (v->footer.data_offset + VHD_DYN_HEADER_SIZE > v->file_size)
		return errf(e, -EINVAL, "%s: truncated: dynamic header at %" PRIu64
			    " is past the end of the file", bd->path, v->footer.data_offset);
	ret = block_pread_full(&bd->io, bd->fd, hbuf, sizeof(hbuf), v->footer.data_offset);
	if (ret)
		return errf(e, ret, "%s: reading the dynamic header: %s", bd->path, strerror(-ret));
	ret = vhd_dyn_header_parse(hbuf, &v->footer, v->file_size, h, &pe);
	if (ret)
		return errf(e, ret, "%s: %s", bd->path, pe.msg);
	v->spb = h->block_size / VHD_SECTOR;
	v->bitmap_size = vhd_bitmap_size(h->block_size);
	bat_bytes = (uint64_t)h->max_table_entries * 4;
	v->meta_end = v->footer.data_offset + VHD_DYN_HEADER_SIZE;
	if (h->table_offset + bat_bytes > v->meta_end)
		v->meta_end = h->table_offset + bat_bytes;
	for (int i = 0; i < VHD_MAX_LOCATORS; i++) {
		const struct vhd_locator *l = &h->loc[i];

		if (l->code != VHD_PLAT_NONE && l->offset + l->length <= v->file_size &&
		    l->offset + l->length > v->meta_end && l->length <= 65536)
			v->meta_end = l->offset + l->length;
	}
	/* The BAT is parsed in place; bitmaps come lazily (vhd_bm_slot): no per-block state is
	 * allocated up front beyond the BAT itself, which vhd_dyn_header_parse capped. */
	v->bat = malloc(bat_bytes ? bat_bytes : 1);
	v->bm_dir = calloc(h->max_table_entries / VHD_BM_CHUNK + 1, sizeof(*v->bm_dir));
	v->full = malloc(v->bitmap_size);
	if (!v->bat || !v->bm_dir || !v->full)
		return errf(e, -ENOMEM, "%s: out of memory for a BAT of %" PRIu32 " entries", bd->path,
			    h->max_table_entries);
	memset(v->full, 0xFF, v->bitmap_size);
	ret = block_pread_full(&bd->io, bd->fd, v->bat, bat_bytes, h->table_offset);
	if (ret)
		return errf(e, ret, "%s: reading the BAT: %s", bd->path, strerror(-ret));
	data_end = v->footer_from_copy ? v->file_size : v->footer_off;
	ret = vhd_bat_parse((const uint8_t *)v->bat, h->max_table_entries, h->block_size,
			    v->meta_end, data_end, v->bat, &pe);
	return ret ? errf(e, ret, "%s: %s", bd->path, pe.msg) : 0;
}

int vhd_load(struct block_dev *bd, struct vhd *v, struct err *e)
{
	int ret = block_fd_size(bd->fd, &v->file_size);

	if (ret)
		return errf(e, ret, "%s: %s", bd->path, strerror(-ret));
	ret = load_footer(bd, v, e);
	if (ret)
		return ret;
	bd->size = vhd_virtual_size(&v->footer);
	if (v->footer.type == VHD_TYPE_FIXED) {
		if (bd->size > v->footer_off)
			return errf(e, -EINVAL, "%s: truncated: a fixed disk of %" PRIu64
				    " bytes needs a file of %" PRIu64 " bytes, it has %" PRIu64,
				    bd->path, bd->size, bd->size + VHD_FOOTER_SIZE, v->file_size);
		return 0;
	}
	return load_dynamic(bd, v, e);
}

void vhd_free(struct vhd *v)
{
	for (uint32_t c = 0; v->bm_dir && c <= v->hdr.max_table_entries / VHD_BM_CHUNK; c++) {
		for (uint32_t i = 0; v->bm_dir[c] && i < VHD_BM_CHUNK; i++)
			if (v->bm_dir[c][i] != v->full)
				free(v->bm_dir[c][i]);
		free(v->bm_dir[c]);
	}
	free(v->bm_dir);
	free(v->full);
	free(v->bat);
	block_close(v->parent);
}

static void uuid_str(const uint8_t u[16], char out[40])
{
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

/* Try one parent candidate; 0 with v->parent set, or -errno with why in e. */
static int try_parent(struct block_dev *bd, struct vhd *v, const char *cand,
		      const struct block_open_opts *o, struct err *e)
{
	struct block_chain link;
	struct block_dev *p;
	struct block_info *pi;
	struct stat st, self;
	char want[40], got[40];
	int depth = 0, ret;

	if (stat(cand, &st))
		return errf(e, -errno, "parent %s: %s", cand, strerror(errno));
	if (fstat(bd->fd, &self))
		return errf(e, -errno, "%s: %s", bd->path, strerror(errno));
	link = (struct block_chain){self.st_dev, self.st_ino, o->chain};
	for (const struct block_chain *c = &link; c; c = c->next, depth++)
		if (c->dev == st.st_dev && c->ino == st.st_ino)
			return errf(e, -ELOOP, "parent %s: differencing chain loops back to it", cand);
	if (depth > VHD_MAX_CHAIN)
		return errf(e, -ELOOP, "parent %s: differencing chain deeper than %d", cand,
			    VHD_MAX_CHAIN);
	ret = block_open(cand, NULL, &(struct block_open_opts){.io = &bd->io, .chain = &link}, &p,
			 e);
	if (ret)
		return ret;
	if (p->ops != &block_vhd_ops) {
		block_close(p);
		return errf(e, -EINVAL, "parent %s: not a VHD", cand);
	}
	pi = malloc(sizeof(*pi));
	if (!pi) {
		block_close(p);
		return errf(e, -ENOMEM, "out of memory");
	}
	block_get_info(p, pi);
	uuid_str(v->hdr.parent_uuid, want);
	strcpy(got, pi->uuid);
	free(pi);
	if (strcmp(want, got)) {
		block_close(p);
		return errf(e, -EINVAL, "parent %s: UUID %s does not match %s recorded in the child",
			    cand, got, want);
	}
	v->parent = p;
	return 0;
}

/* Locator candidates in order of preference: relative first, so copied pairs work. */
static const uint32_t loc_order[] = {VHD_PLAT_W2RU, VHD_PLAT_W2KU, VHD_PLAT_MACX, VHD_PLAT_WI2R,
				     VHD_PLAT_WI2K};

/* dir + "/" + rel, without "./" noise; an absolute rel is taken as is. */
static void join_path(const char *dir, const char *rel, char *out, size_t size)
{
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	if (rel[0] == '/' || !strcmp(dir, "."))
		snprintf(out, size, "%s", rel);
	else
		snprintf(out, size, "%s/%s", dir, rel);
}

/* Last resort, as libvhdi does: the base name of the parent name field, beside the child. */
static int try_by_name(struct block_dev *bd, struct vhd *v, const struct block_open_opts *o)
{
	char *name = malloc(VHD_PATH_MAX), *cand = malloc(2 * VHD_PATH_MAX), *dup = strdup(bd->path);
	const char *base;
	struct err le;
	int r = -ENOENT;

	if (name && cand && dup) {
		vhd_parent_name_decode(v->hdr.parent_name, name, VHD_PATH_MAX);
		base = name;
		for (const char *p = name; *p; p++)
			if (*p == '\\' || *p == '/')
				base = p + 1;
		if (*base) {
			join_path(dirname(dup), base, cand, 2 * VHD_PATH_MAX);
			r = try_parent(bd, v, cand, o, &le);
			if (!r)
				snprintf(v->parent_path, sizeof(v->parent_path), "%s", cand);
		}
	}
	free(name), free(cand), free(dup);
	return r;
}

static int open_parent(struct block_dev *bd, struct vhd *v, const struct block_open_opts *o,
		       struct err *e)
{
	struct err why = {"no usable parent locator"};
	int ret = -ENOENT, tried = 0;
	bool keep_why = false;

	for (size_t k = 0; k < sizeof(loc_order) / sizeof(loc_order[0]); k++) {
		for (int i = 0; i < VHD_MAX_LOCATORS; i++) {
			const struct vhd_locator *l = &v->hdr.loc[i];
			char *path, *dir, *dup, *cand;
			uint8_t *data;
			struct err le;
			int r;

			if (l->code != loc_order[k])
				continue;
			if (l->length == 0 || l->length > 65536 || l->offset > v->file_size ||
			    l->length > v->file_size - l->offset) {
				if (!keep_why)
					errf(&why, -EINVAL, "parent locator %d lies outside the file", i);
				continue;
			}
			data = malloc(l->length);
			path = malloc(VHD_PATH_MAX);
			cand = malloc(2 * VHD_PATH_MAX + 2);
			dup = strdup(bd->path);
			if (!data || !path || !cand || !dup) {
				free(data), free(path), free(cand), free(dup);
				return errf(e, -ENOMEM, "%s: out of memory", bd->path);
			}
			r = block_pread_full(&bd->io, bd->fd, data, l->length, l->offset);
			if (!r)
				r = vhd_locator_decode(l->code, data, l->length, path, VHD_PATH_MAX, &le);
			else
				errf(&le, r, "reading parent locator %d: %s", i, strerror(-r));
			if (!r) {
				dir = dirname(dup);
				join_path(dir, path, cand, 2 * VHD_PATH_MAX + 2);
				tried++;
				r = try_parent(bd, v, cand, o, &le);
				if (!r)
					snprintf(v->parent_path, sizeof(v->parent_path), "%s", cand);
			}
			free(data), free(path), free(cand), free(dup);
			if (!r)
				return 0;
			/* Prefer explaining a parent that exists but was rejected over ENOENT. */
			if (!keep_why || (r != -ENOENT && ret == -ENOENT)) {
				why = le;
				ret = r;
				keep_why = true;
			}
		}
	}
	if (try_by_name(bd, v, o) == 0)
		return 0;
	return errf(e, tried ? ret : -ENOENT, "%s: cannot open parent: %s", bd->path, why.msg);
}

static int vhd_open(struct block_dev *bd, const struct block_open_opts *o, struct err *e)
{
	struct vhd *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return errf(e, -ENOMEM, "%s: out of memory", bd->path);
	bd->priv = v;
	ret = vhd_load(bd, v, e);
	if (ret)
		goto fail;
	if (v->footer.saved_state && (bd->flags & BLOCK_RDWR)) {
		ret = errf(e, -EBUSY, "%s: the disk has saved state (its VM was saved, not shut "
			   "down); refusing to open it for writing", bd->path);
		goto fail;
	}
	if (v->footer.type == VHD_TYPE_DIFF && !(bd->flags & BLOCK_NOPARENT)) {
		ret = open_parent(bd, v, o, e);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	vhd_free(v);
	free(v);
	bd->priv = NULL;
	return ret;
}

static void vhd_close(struct block_dev *bd)
{
	struct vhd *v = bd->priv;

	vhd_free(v);
	free(v);
}

static void vhd_info(struct block_dev *bd, struct block_info *out)
{
	static const char *const sub[] = {"", "", "fixed", "dynamic", "differencing"};
	struct vhd *v = bd->priv;
	uint32_t os = v->footer.creator_os;
	struct stat st;

	strcpy(out->format, "vhd");
	strcpy(out->subformat, sub[v->footer.type]);
	out->virtual_size = bd->size;
	if (!fstat(bd->fd, &st)) {
		out->allocated = (uint64_t)st.st_blocks * 512;
		if (block_fd_size(bd->fd, &out->file_size))
			out->file_size = (uint64_t)st.st_size;
	}
	vhd_creator_str(v->footer.creator_app, out->creator);
	out->creator_version = v->footer.creator_version;
	vhd_creator_str((const char[4]){(char)(os >> 24), (char)(os >> 16), (char)(os >> 8),
					 (char)os},
			out->creator_os);
	uuid_str(v->footer.uuid, out->uuid);
	out->sized_by_chs = vhd_sized_by_chs(&v->footer);
	out->cylinders = v->footer.geom.cylinders;
	out->heads = v->footer.geom.heads;
	out->sectors = v->footer.geom.sectors;
	out->saved_state = v->footer.saved_state;
	out->footer_from_copy = v->footer_from_copy;
	if (v->footer.type == VHD_TYPE_FIXED)
		return;
	out->block_size = v->hdr.block_size;
	out->blocks_total = v->hdr.max_table_entries;
	for (uint32_t i = 0; i < v->hdr.max_table_entries; i++)
		out->blocks_allocated += v->bat[i] != VHD_BAT_UNUSED;
	if (v->footer.type == VHD_TYPE_DIFF) {
		uuid_str(v->hdr.parent_uuid, out->parent_uuid);
		snprintf(out->parent_path, sizeof(out->parent_path), "%s", v->parent_path);
		out->parent = v->parent;
	}
}

static int vhd_flush(struct block_dev *bd) { return bd->io.fsync(bd->fd) ? -errno : 0; }

static int vhd_discard(struct block_dev *bd, uint64_t off, uint64_t len) { return 0; }

const struct block_ops block_vhd_ops = {
	.name = "vhd",
	.probe = vhd_probe,
	.open = vhd_open,
	.read = vhd_read,
	.write = vhd_write,
	.flush = vhd_flush,
	.discard = vhd_discard,
	.info = vhd_info,
	.status = vhd_status,
	.close = vhd_close,
	.map = vhd_map,
};
