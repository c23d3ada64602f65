/* vhd_create.c: creating fixed, dynamic and differencing VHDs. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "block/vhd.h"

#define VHD_EPOCH 946684800 /* 2000-01-01T00:00:00Z in Unix time */
/* Creator app for images sized by CHS (their current size equals the CHS product, so every
 * reader agrees); exact-size images say "win " so QEMU and Hyper-V both read current_size. */
static const char creator_chs[4] = {'t', 'v', 's', 'r'};
static const char creator_exact[4] = {'w', 'i', 'n', ' '};
#define CREATOR_VERSION 0x00010000u
#define CREATOR_OS_WI2K 0x5769326Bu

int vhd_create_size(const struct vhd_create_opts *o, uint64_t *out, struct err *e)
{
	uint64_t total, want;

	if (o->size > VHD_MAX_SIZE + (1ull << 20))
		goto too_big;
	if (o->azure)
		want = (o->size + (1ull << 20) - 1) & ~((1ull << 20) - 1);
	else
		want = (o->size + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
	total = want / VHD_SECTOR;
	if (!o->force_size && !o->azure) {
		struct vhd_geom g = {0, 0, 0};

		/* As QEMU does: the smallest CHS geometry holding the size, unless it is the largest
		 * geometry, in which case the exact size is kept. */
		for (uint64_t i = 0; vhd_geom_sectors(g) < total; i++) {
			g = vhd_chs(total + i);
			if (vhd_geom_sectors(g) == VHD_MAX_CHS_SECTORS)
				break;
		}
		if (vhd_geom_sectors(g) != VHD_MAX_CHS_SECTORS)
			total = vhd_geom_sectors(g);
	}
	if (total > VHD_MAX_SECTORS)
		goto too_big;
	if (total == 0)
		return errf(e, -EINVAL, "a VHD cannot be empty");
	*out = total * VHD_SECTOR;
	return 0;
too_big:
	return errf(e, -EFBIG, "size %" PRIu64 " exceeds the VHD limit of 2040 GiB (%" PRIu64
		    " bytes)", o->size, VHD_MAX_SIZE);
}

static void new_footer(struct vhd_footer *f, enum vhd_type type, uint64_t size, bool exact)
{
	memset(f, 0, sizeof(*f));
	f->features = 2;
	f->version = 0x00010000;
	f->data_offset = type == VHD_TYPE_FIXED ? VHD_NO_DATA_OFFSET : VHD_SECTOR;
	f->timestamp = (uint32_t)(time(NULL) - VHD_EPOCH);
	memcpy(f->creator_app, exact ? creator_exact : creator_chs, 4);
	f->creator_version = CREATOR_VERSION;
	f->creator_os = CREATOR_OS_WI2K;
	f->original_size = f->current_size = size;
	f->geom = vhd_chs(size / VHD_SECTOR);
	f->type = type;
	if (getrandom(f->uuid, sizeof(f->uuid), 0) != sizeof(f->uuid))
		for (int i = 0; i < 16; i++) /* only if getrandom fails: still unique enough */
			f->uuid[i] = (uint8_t)(rand() ^ time(NULL) >> (i % 4 * 8));
	f->uuid[6] = (f->uuid[6] & 0x0F) | 0x40;
	f->uuid[8] = (f->uuid[8] & 0x3F) | 0x80;
}

/* Relative path from directory `from` to file `to`, both absolute and canonical, Windows
 * style: "./name" in the same directory, "../x/name" otherwise ('/' becomes '\\' later). */
static int rel_path(const char *from, const char *to, char *out, size_t size)
{
	size_t i = 0, common = 0, n;
	int ups = 0;

	/* common = length of the longest shared prefix ending at a component boundary */
	while (from[i] && from[i] == to[i])
		i++;
	if (!from[i] && to[i] == '/')
		common = i;
	else
		for (common = i; common > 0 && to[common - 1] != '/'; common--)
			;
	if (common > 0 && to[common - 1] == '/' && from[common - 1] == '/')
		common--; /* point at the separator */
	for (const char *p = from + common; *p; p++)
		if (*p == '/' && p[1])
			ups++;
	if (from[common] && from[common] != '/')
		ups++; /* only when common == 0 for the root */
	if (ups == 0)
		n = (size_t)snprintf(out, size, ".");
	else
		for (n = 0; ups-- > 0 && n < size;)
			n += (size_t)snprintf(out + n, size - n, n ? "/.." : "..");
	if (n < size)
		n += (size_t)snprintf(out + n, size - n, "%s", to + common);
	return n < size ? 0 : -ENAMETOOLONG;
}

static void macx_encode(const char *path, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "file://");

	for (const unsigned char *p = (const unsigned char *)path; *p && n + 4 < size; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/._-~", *p))
			out[n++] = (char)*p;
		else
			n += (size_t)snprintf(out + n, size - n, "%%%02X", *p);
	}
	out[n] = 0;
}

/* Fill h's parent fields and the locator data (loc_buf, returned length) for the child at
 * child_dir whose parent is the canonical absolute path parent_abs. */
static int make_locators(struct vhd_dyn_header *h, const char *child_dir, const char *parent_abs,
			 uint64_t loc_off, uint8_t *buf, size_t size, size_t *used, struct err *e)
{
	char rel[VHD_PATH_MAX], url[3 * VHD_PATH_MAX + 8], rel_win[VHD_PATH_MAX];
	const char *texts[3] = {parent_abs, rel, url};
	const uint32_t codes[3] = {VHD_PLAT_W2KU, VHD_PLAT_W2RU, VHD_PLAT_MACX};
	size_t off = 0;

	if (rel_path(child_dir, parent_abs, rel, sizeof(rel)))
		return errf(e, -ENAMETOOLONG, "parent path too long");
	macx_encode(parent_abs, url, sizeof(url));
	/* Windows writes the parent's absolute path with '\\' (libvhdi takes its base name). */
	snprintf(rel_win, sizeof(rel_win), "%s", parent_abs);
	for (char *p = rel_win; *p; p++)
		if (*p == '/')
			*p = '\\';
	vhd_parent_name_encode(rel_win, h->parent_name);
	for (int i = 0; i < 3; i++) {
		int len;
		size_t space;

		if (codes[i] == VHD_PLAT_MACX) {
			len = (int)strlen(url);
			if (off + (size_t)len > size)
				return errf(e, -ENAMETOOLONG, "parent path too long");
			memcpy(buf + off, url, (size_t)len);
		} else {
			len = vhd_utf16le_encode(texts[i], buf + off, size - off);
			if (len < 0)
				return errf(e, len, "parent path is not valid UTF-8 or too long");
		}
		space = ((size_t)len + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
		h->loc[i] = (struct vhd_locator){codes[i], (uint32_t)space, (uint32_t)len,
						 loc_off + off};
		off += space;
	}
	*used = off;
	return 0;
}

struct parent_meta {
	struct vhd_footer footer;
	uint64_t vsize;
	uint32_t mtime;
	uint32_t block_size; /* 0 for a fixed parent */
	char abs[PATH_MAX];
};

static int read_parent(const char *child, const char *parent, struct parent_meta *pm,
		       struct err *e)
{
	char *dup = strdup(child), joined[2 * PATH_MAX + 2];
	struct block_dev *p;
	struct stat st;
	int ret;

	if (!dup)
		return errf(e, -ENOMEM, "out of memory");
	/* A relative parent is relative to the child's directory, as with qemu-img -b. */
	if (parent[0] == '/')
		snprintf(joined, sizeof(joined), "%s", parent);
	else
		snprintf(joined, sizeof(joined), "%s/%s", dirname(dup), parent);
	free(dup);
	ret = block_open(joined, NULL, NULL, &p, e);
	if (ret)
		return ret;
	if (p->ops != &block_vhd_ops) {
		block_close(p);
		return errf(e, -EINVAL, "parent %s: not a VHD", joined);
	}
	pm->footer = ((struct vhd *)p->priv)->footer;
	pm->vsize = p->size;
	pm->block_size = ((struct vhd *)p->priv)->hdr.block_size;
	if (fstat(p->fd, &st) == 0)
		pm->mtime = (uint32_t)(st.st_mtime - VHD_EPOCH);
	block_close(p);
	if (!realpath(joined, pm->abs))
		return errf(e, -errno, "parent %s: %s", joined, strerror(errno));
	return 0;
}

static int write_dynamic(int fd, struct vhd_footer *f, const struct vhd_create_opts *o,
			 const struct parent_meta *pm, const char *child_dir, struct err *e)
{
	struct vhd_dyn_header h;
	uint8_t fbuf[VHD_FOOTER_SIZE], hbuf[VHD_DYN_HEADER_SIZE], *bat = NULL, *loc = NULL;
	uint64_t bat_bytes, end;
	size_t loc_len = 0;
	int ret = 0;

	memset(&h, 0, sizeof(h));
	h.data_offset = VHD_NO_DATA_OFFSET;
	h.table_offset = VHD_SECTOR + VHD_DYN_HEADER_SIZE;
	h.version = 0x00010000;
	h.block_size = o->block_size ? o->block_size : VHD_DEFAULT_BLOCK_SIZE;
	if (!o->block_size && pm && pm->block_size)
		h.block_size = pm->block_size; /* a child takes its parent's block size */
	h.max_table_entries = (uint32_t)((f->current_size + h.block_size - 1) / h.block_size);
	bat_bytes = ((uint64_t)h.max_table_entries * 4 + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
	end = h.table_offset + bat_bytes;
	bat = malloc(bat_bytes);
	loc = calloc(1, 8 * VHD_PATH_MAX + 3 * VHD_SECTOR);
	if (!bat || !loc) {
		ret = errf(e, -ENOMEM, "out of memory");
		goto out;
	}
	memset(bat, 0xFF, bat_bytes);
	if (pm) {
		memcpy(h.parent_uuid, pm->footer.uuid, 16);
		h.parent_timestamp = pm->mtime;
		ret = make_locators(&h, child_dir, pm->abs, end, loc, 8 * VHD_PATH_MAX + 3 * VHD_SECTOR,
				    &loc_len, e);
		if (ret)
			goto out;
	}
	vhd_footer_build(f, fbuf);
	vhd_dyn_header_build(&h, hbuf);
	/* Whole writes only: a short one is an error with its own errno (EFBIG, ENOSPC) or EIO. */
	ret = block_pwrite_full(&block_io_default, fd, fbuf, sizeof(fbuf), 0);
	if (!ret)
		ret = block_pwrite_full(&block_io_default, fd, hbuf, sizeof(hbuf), VHD_SECTOR);
	if (!ret)
		ret = block_pwrite_full(&block_io_default, fd, bat, bat_bytes, h.table_offset);
	if (!ret && loc_len)
		ret = block_pwrite_full(&block_io_default, fd, loc, loc_len, end);
	if (!ret)
		ret = block_pwrite_full(&block_io_default, fd, fbuf, sizeof(fbuf), end + loc_len);
	if (ret)
		errf(e, ret, "writing: %s", strerror(-ret));
out:
	free(bat);
	free(loc);
	return ret;
}

int vhd_create(const char *path, const struct vhd_create_opts *o, struct err *e)
{
	struct parent_meta *pm = NULL;
	struct vhd_footer f;
	char child_dir[PATH_MAX], *dup = NULL;
	uint64_t size;
	bool exact;
	struct stat st, pst;
	bool created = false;
	int fd, ret;
	uint8_t fbuf[VHD_FOOTER_SIZE];
	struct err we;

	if (o->block_size && (o->block_size < VHD_SECTOR || o->block_size > (256u << 20) ||
			      (o->block_size & (o->block_size - 1))))
		return errf(e, -EINVAL, "block_size must be a power of two from 512 to 256M");
	if (o->type == VHD_TYPE_DIFF) {
		pm = calloc(1, sizeof(*pm));
		if (!pm)
			return errf(e, -ENOMEM, "out of memory");
		ret = read_parent(path, o->parent, pm, e);
		if (ret)
			goto out;
		if (stat(path, &st) == 0 && stat(pm->abs, &pst) == 0 && st.st_dev == pst.st_dev &&
		    st.st_ino == pst.st_ino) {
			ret = errf(e, -EINVAL, "%s: would overwrite its own parent", path);
			goto out;
		}
		size = pm->vsize;
		exact = vhd_geom_sectors(pm->footer.geom) * VHD_SECTOR != size;
		new_footer(&f, o->type, size, exact);
		f.geom = pm->footer.geom;
	} else {
		ret = vhd_create_size(o, &size, e);
		if (ret)
			return ret;
		exact = vhd_geom_sectors(vhd_chs(size / VHD_SECTOR)) * VHD_SECTOR != size;
		new_footer(&f, o->type, size, exact);
	}
	fd = block_create_fd(path, o->overwrite, &created, e);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	if (o->type == VHD_TYPE_FIXED) {
		vhd_footer_build(&f, fbuf);
		ret = ftruncate(fd, (off_t)size) ? -errno : 0;
		if (!ret)
			ret = block_pwrite_full(&block_io_default, fd, fbuf, sizeof(fbuf), size);
		if (ret)
			errf(e, ret, "%s: writing: %s", path, strerror(-ret));
	} else {
		dup = strdup(path);
		if (!dup || !realpath(dirname(dup), child_dir))
			ret = errf(e, -errno, "%s: %s", path, strerror(errno));
		else if ((ret = write_dynamic(fd, &f, o, pm, child_dir, &we)))
			errf(e, ret, "%s: %s", path, we.msg);
	}
	if (close(fd) && !ret)
		ret = errf(e, -errno, "%s: %s", path, strerror(errno));
	if (ret && created)
		unlink(path);
out:
	free(dup);
	free(pm);
	return ret;
}
