/* vhdx_create.c: creating fixed, dynamic and differencing VHDX files, laid out as Hyper-V does
 * (header area, a 1 MiB log at 1 MiB, metadata at 2 MiB, BAT at 3 MiB, 1 MiB-aligned blocks). */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/vhdx.h"
#include "util/bytes.h"

#define LOG_OFF VHDX_MiB
#define META_OFF (2u * VHDX_MiB)
#define BAT_OFF (3ull * VHDX_MiB)
#define CREATOR "thinvisor"

struct item {
	const vhdx_guid *g;
	uint32_t flags; /* 2: IsVirtualDisk, 4: IsRequired */
	uint32_t len;
	const uint8_t *data;
};

static void build_meta(uint8_t *m, const struct item *it, int n)
{
	uint32_t at = VHDX_META_TABLE_SIZE;

	memcpy(m, "metadata", 8);
	le_put(m + 10, (uint64_t)n, 2);
	for (int i = 0; i < n; i++) {
		uint8_t *p = m + 32 + 32 * i;

		memcpy(p, it[i].g, 16);
		le_put(p + 16, at, 4);
		le_put(p + 20, it[i].len, 4);
		le_put(p + 24, it[i].flags, 4);
		memcpy(m + at, it[i].data, it[i].len);
		at += (it[i].len + 7) / 8 * 8;
	}
}

/* "..\\dir\\parent.vhdx"-style path of parent relative to the child's directory, and the
 * Windows-style absolute path ("C:" + the path here with backslashes). */
static int parent_paths(const char *child, const char *parent, struct vhdx_locator *l,
			struct err *e)
{
	char cdir[PATH_MAX], pabs[PATH_MAX], *dup = strdup(child), *rel;
	size_t i = 0, last = 0, n;
	int ups = 0;

	if (!dup)
		return errf(e, -ENOMEM, "out of memory");
	if (!realpath(dirname(dup), cdir) || !realpath(parent, pabs)) {
		free(dup);
		return errf(e, -errno, "%s: %s", parent, strerror(errno));
	}
	free(dup);
	if (strlen(pabs) + 4 > sizeof(l->val[0]) || strlen(cdir) + 4 > sizeof(l->val[0]))
		return errf(e, -ENAMETOOLONG, "%s: path too long for a parent locator", parent);
	while (cdir[i] && cdir[i] == pabs[i]) {
		if (cdir[i] == '/')
			last = i;
		i++;
	}
	if (!cdir[i] && pabs[i] == '/')
		last = i;
	for (const char *p = cdir + last; strcmp(cdir, "/") && *p; p++)
		ups += *p == '/';
	rel = l->val[l->n];
	n = 0;
	if (!ups)
		n = (size_t)snprintf(rel, sizeof(l->val[0]), ".\\");
	for (int u = 0; u < ups && n < sizeof(l->val[0]); u++)
		n += (size_t)snprintf(rel + n, sizeof(l->val[0]) - n, "..\\");
	if (n < sizeof(l->val[0]))
		snprintf(rel + n, sizeof(l->val[0]) - n, "%s", pabs + last + 1);
	strcpy(l->key[l->n++], "relative_path");
	snprintf(l->val[l->n], sizeof(l->val[0]), "C:%.1016s", pabs);
	strcpy(l->key[l->n++], "absolute_win32_path");
	for (int k = 0; k < l->n; k++)
		for (char *p = l->val[k]; *p; p++)
			if (*p == '/')
				*p = '\\';
	return 0;
}

static int write_at(int fd, const void *buf, size_t len, uint64_t off)
{
	return block_pwrite_full(&block_io_default, fd, buf, len, off);
}

int vhdx_create(const char *path, const struct vhdx_create_opts *o, struct err *e)
{
	struct vhdx_meta m = {.block_size = o->block_size ? o->block_size : 32 * VHDX_MiB,
			      .lsec = o->lsec ? o->lsec : 512, .psec = o->psec ? o->psec : 4096,
			      .leave_allocated = o->fixed};
	struct vhdx_locator *loc = NULL;
	struct vhdx_geom g;
	struct vhdx_header h = {.version = 1, .log_length = VHDX_MiB, .log_offset = LOG_OFF};
	struct vhdx_regions rg = {.meta_off = META_OFF, .meta_len = VHDX_MiB, .bat_off = BAT_OFF};
	uint8_t *buf = NULL, fp[8], ds[8], ls[4], ps[4], *locbuf = NULL;
	struct item it[6];
	uint64_t end;
	bool created;
	int fd = -1, ret, loclen = 0, nit = 5;

	if (o->parent) {
		struct block_dev *p;
		struct block_info *pi = malloc(sizeof(*pi));

		loc = calloc(1, sizeof(*loc));
		locbuf = malloc(64 * 1024);
		if (!pi || !loc || !locbuf) {
			free(pi);
			ret = errf(e, -ENOMEM, "out of memory");
			goto out;
		}
		ret = block_open(o->parent, NULL, NULL, &p, e);
		if (!ret && p->ops != &block_vhdx_ops) {
			ret = errf(e, -EINVAL, "%s: the parent of a VHDX must be a VHDX, not %s",
				   o->parent, p->ops->name);
			block_close(p);
		}
		if (ret) {
			free(pi);
			goto out;
		}
		block_get_info(p, pi);
		m.disk_size = pi->virtual_size;
		m.lsec = pi->logical_sector;
		m.psec = pi->physical_sector;
		if (!o->block_size)
			m.block_size = 2 * VHDX_MiB; /* Hyper-V's for differencing disks */
		m.has_parent = true;
		m.leave_allocated = false;
		strcpy(loc->key[0], "parent_linkage");
		snprintf(loc->val[0], sizeof(loc->val[0]), "{%s}", pi->data_write_guid);
		loc->n = 1;
		free(pi);
		block_close(p);
		ret = parent_paths(path, o->parent, loc, e);
		if (ret)
			goto out;
		loclen = vhdx_locator_build(loc, locbuf, 64 * 1024);
		if (loclen < 0) {
			ret = errf(e, -ENAMETOOLONG, "%s: parent path too long", o->parent);
			goto out;
		}
		nit = 6;
	} else {
		if (m.lsec != 512 && m.lsec != 4096)
			return errf(e, -EINVAL, "logical_sector_size must be 512 or 4096");
		m.disk_size = (o->size + m.lsec - 1) / m.lsec * m.lsec;
		if (!m.disk_size || m.disk_size > VHDX_MAX_SIZE)
			return errf(e, -EINVAL, "size %" PRIu64 " must be from one sector to 64 TiB",
				    o->size);
	}
	if (m.block_size < VHDX_MiB || m.block_size > 256 * VHDX_MiB ||
	    (m.block_size & (m.block_size - 1))) {
		ret = errf(e, -EINVAL, "block_size must be a power of two from 1M to 256M");
		goto out;
	}
	ret = vhdx_geom(&m, &g, e);
	if (ret)
		goto out;
	rg.bat_len = (uint32_t)((g.bat_entries * 8 + VHDX_MiB - 1) / VHDX_MiB * VHDX_MiB);
	end = BAT_OFF + rg.bat_len;
	buf = calloc(1, VHDX_MiB > rg.bat_len ? VHDX_MiB : rg.bat_len);
	if (!buf) {
		ret = errf(e, -ENOMEM, "out of memory");
		goto out;
	}
	fd = block_create_fd(path, o->overwrite, &created, e);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	/* File identifier, headers (sequence 1 and 2: both valid), region tables. */
	memcpy(buf, "vhdxfile", 8);
	vhdx_utf8_to_utf16(CREATOR, buf + 8, 2 * VHDX_CREATOR_CHARS);
	vhdx_guid_random(&h.file_write);
	vhdx_guid_random(&h.data_write);
	h.seq = 1;
	vhdx_header_build(&h, buf + VHDX_HEADER1_OFF);
	h.seq = 2;
	vhdx_header_build(&h, buf + VHDX_HEADER2_OFF);
	vhdx_region_build(&rg, buf + VHDX_RT1_OFF);
	vhdx_region_build(&rg, buf + VHDX_RT2_OFF);
	ret = write_at(fd, buf, VHDX_MiB, 0);
	if (ret)
		goto fail;
	/* Metadata. */
	memset(buf, 0, VHDX_MiB);
	le_put(fp, m.block_size, 4);
	le_put(fp + 4, (m.leave_allocated ? 1u : 0u) | (m.has_parent ? 2u : 0u), 4);
	le_put(ds, m.disk_size, 8);
	le_put(ls, m.lsec, 4);
	le_put(ps, m.psec, 4);
	vhdx_guid_random(&m.page83);
	it[0] = (struct item){&vhdx_guid_file_params, 4, 8, fp};
	it[1] = (struct item){&vhdx_guid_disk_size, 6, 8, ds};
	it[2] = (struct item){&vhdx_guid_page83, 6, 16, m.page83.b};
	it[3] = (struct item){&vhdx_guid_lsec, 6, 4, ls};
	it[4] = (struct item){&vhdx_guid_psec, 6, 4, ps};
	it[5] = (struct item){&vhdx_guid_parent_locator, 4, (uint32_t)loclen, locbuf};
	build_meta(buf, it, nit);
	ret = write_at(fd, buf, VHDX_MiB, META_OFF);
	if (ret)
		goto fail;
	/* BAT: a fixed disk has every payload block present, back to back after it. */
	memset(buf, 0, rg.bat_len);
	if (o->fixed && !m.has_parent) {
		for (uint64_t b = 0; b < g.data_blocks; b++)
			le_put(buf + vhdx_bat_pb(&g, b) * 8,
			       vhdx_bat_make(VHDX_PB_FULLY_PRESENT, end + b * m.block_size), 8);
		ret = write_at(fd, buf, rg.bat_len, BAT_OFF);
		if (ret)
			goto fail;
		end += g.data_blocks * m.block_size;
	}
	if (ftruncate(fd, (off_t)end) || fdatasync(fd)) {
		ret = errf(e, -errno, "%s: %s", path, strerror(errno));
		goto fail_msg;
	}
	if (close(fd)) {
		fd = -1;
		ret = errf(e, -errno, "%s: %s", path, strerror(errno));
		goto fail_msg;
	}
	fd = -1;
	goto out;
fail:
	errf(e, ret, "%s: %s", path, strerror(-ret));
fail_msg:
	if (fd >= 0)
		close(fd);
	fd = -1;
	if (created)
		unlink(path);
out:
	free(buf);
	free(loc);
	free(locbuf);
	return ret;
}
