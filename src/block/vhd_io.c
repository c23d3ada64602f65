/* vhd_io.c: the VHD data path: reads through the BAT and sector bitmaps (falling through to the
 * parent), writes, and crash-ordered block allocation.
 *
 * New blocks go at the end of the file, data 4 KiB-aligned.
 * Allocation order (each step is a separate write; tests stop the process after each one via
 * block_io.step), chosen so that the file's last 512 bytes are a valid footer at every instant
 * (guest data never is the last sector, so it can never be read as the footer):
 *   1. the footer, at the new end of the file (the gap before it reads as zeros);
 *   2. the new block's bitmap and data, into that gap (after the old footer, kept intact);
 *   3. the BAT entry.
 * Killed after 1 or 2, the block is unreferenced (leaked): `img check` reports it and
 * `--repair` truncates it. A write failing in 1 or 2 truncates the file back after the old
 * footer; failing in 3 writes the entry back as unused, then truncates. Ordering is
 * against process crashes; against power loss, see block_flush and README.md. */
#include <unistd.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/vhd.h"

#define VHD_DATA_ALIGN 4096u

static uint64_t data_off(const struct vhd *v, uint32_t blk)
{
	return (uint64_t)v->bat[blk] * VHD_SECTOR + v->bitmap_size;
}

uint8_t **vhd_bm_slot(struct vhd *v, uint32_t blk, bool create)
{
	uint8_t ***chunk = &v->bm_dir[blk / VHD_BM_CHUNK];

	if (!*chunk && create)
		*chunk = calloc(VHD_BM_CHUNK, sizeof(**chunk));
	return *chunk ? &(*chunk)[blk % VHD_BM_CHUNK] : NULL;
}

static bool bitmap_full(const uint8_t *bm, uint32_t spb)
{
	for (uint32_t i = 0; i < spb / 8; i++)
		if (bm[i] != 0xFF)
			return false;
	for (uint32_t i = spb / 8 * 8; i < spb; i++)
		if (!vhd_bitmap_test(bm, i))
			return false;
	return true;
}

static int get_bitmap(struct block_dev *bd, struct vhd *v, uint32_t blk, uint8_t **out)
{
	uint8_t *bm, **slot = vhd_bm_slot(v, blk, true);
	int ret;

	if (!slot)
		return -ENOMEM;
	if (*slot) {
		*out = *slot;
		return 0;
	}
	bm = malloc(v->bitmap_size);
	if (!bm)
		return -ENOMEM;
	ret = block_pread_full(&bd->io, bd->fd, bm, v->bitmap_size,
			       (uint64_t)v->bat[blk] * VHD_SECTOR);
	if (ret) {
		free(bm);
		return ret;
	}
	if (bitmap_full(bm, v->spb)) {
		free(bm);
		bm = v->full;
	}
	*slot = bm;
	*out = bm;
	return 0;
}

/* Sectors not present in this layer: the parent's data, or zeros. */
static int read_absent(struct vhd *v, uint8_t *buf, size_t len, uint64_t off)
{
	struct block_dev *p = v->parent;
	size_t n = 0;

	if (p && off < p->size) {
		n = p->size - off < len ? (size_t)(p->size - off) : len;
		int ret = p->ops->read(p, buf, n, off);

		if (ret)
			return ret;
	}
	memset(buf + n, 0, len - n);
	return 0;
}

int vhd_read(struct block_dev *bd, void *vbuf, size_t len, uint64_t off)
{
	struct vhd *v = bd->priv;
	uint8_t *buf = vbuf, *bm;
	uint32_t bs = v->hdr.block_size;
	int ret;

	if (v->footer.type == VHD_TYPE_FIXED)
		return block_pread_full(&bd->io, bd->fd, buf, len, off);
	while (len) {
		uint32_t blk = (uint32_t)(off / bs), in = (uint32_t)(off % bs);
		size_t n = bs - in < len ? bs - in : len;

		if (v->bat[blk] == VHD_BAT_UNUSED) {
			ret = read_absent(v, buf, n, off);
		} else if ((ret = get_bitmap(bd, v, blk, &bm)) == 0 && bm == v->full) {
			ret = block_pread_full(&bd->io, bd->fd, buf, n, data_off(v, blk) + in);
		} else {
			for (size_t done = 0; !ret && done < n;) {
				uint32_t s = (uint32_t)((in + done) / VHD_SECTOR);
				size_t k = (size_t)vhd_bitmap_run(bm, s, (uint32_t)((n - done) / VHD_SECTOR)) *
					   VHD_SECTOR;

				if (vhd_bitmap_test(bm, s))
					ret = block_pread_full(&bd->io, bd->fd, buf + done, k,
							       data_off(v, blk) + in + done);
				else
					ret = read_absent(v, buf + done, k, off + done);
				done += k;
			}
		}
		if (ret)
			return ret;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

static void step(struct block_dev *bd, int n)
{
	if (bd->io.step)
		bd->io.step(bd->io.ctx, n);
}

/* Undo a failed allocation whose footer already went to the new end: cut the file after the
 * old footer (still intact), so the last 512 bytes are a valid footer throughout. */
static void footer_back(struct block_dev *bd, struct vhd *v, uint64_t old)
{
	if (ftruncate(bd->fd, (off_t)(old + VHD_FOOTER_SIZE)) == 0)
		v->footer_off = old;
	/* else the block stays leaked behind a valid footer: `img check` reports it */
}

static int alloc_block(struct block_dev *bd, struct vhd *v, uint32_t blk, uint32_t in,
		       const uint8_t *buf, size_t n)
{
	/* The data starts on a 4 KiB boundary, so that a 4 KiB guest read is one host page (the
	 * spec lets a BAT entry point anywhere). The bitmap goes after the old footer, never over
	 * it: the old footer stays intact until the file is cut after it or the BAT entry is in. */
	uint64_t old = v->footer_off;
	uint64_t data = (old + VHD_FOOTER_SIZE + v->bitmap_size + VHD_DATA_ALIGN - 1) &
			~(uint64_t)(VHD_DATA_ALIGN - 1);
	uint64_t boff = data - v->bitmap_size, foot = data + v->hdr.block_size;
	uint8_t footer[VHD_FOOTER_SIZE], ent[4], *bm = v->full, **slot = vhd_bm_slot(v, blk, true);
	int ret;

	if (!slot)
		return -ENOMEM;
	if (boff / VHD_SECTOR >= VHD_BAT_UNUSED)
		return -EFBIG;
	if (v->footer.type == VHD_TYPE_DIFF) {
		bm = calloc(1, v->bitmap_size);
		if (!bm)
			return -ENOMEM;
		for (uint32_t s = in / VHD_SECTOR; s < (in + n) / VHD_SECTOR; s++)
			vhd_bitmap_set(bm, s);
	}
	vhd_footer_build(&v->footer, footer);
	ret = block_pwrite_full(&bd->io, bd->fd, footer, sizeof(footer), foot);
	if (ret) {
		/* Nothing of the block is written yet: cut off any part of the new footer. */
		if (ftruncate(bd->fd, (off_t)(old + VHD_FOOTER_SIZE)))
			v->footer_off = foot; /* a partial footer stays: next allocation goes after */
		goto fail;
	}
	v->footer_off = foot;
	step(bd, 1);
	ret = block_pwrite_full(&bd->io, bd->fd, bm, v->bitmap_size, boff);
	if (!ret)
		ret = block_pwrite_full(&bd->io, bd->fd, buf, n, boff + v->bitmap_size + in);
	/* Power loss: on a differencing disk the bitmap must be durable before the BAT entry
	 * points at it (one not written reads as zeros: "all from the parent", fine; but see
	 * README.md for why one barrier here, none on dynamic disks). */
	if (!ret && v->footer.type == VHD_TYPE_DIFF && bd->io.fsync(bd->fd))
		ret = -errno;
	if (ret) {
		footer_back(bd, v, old);
		goto fail;
	}
	step(bd, 2);
	vhd_put_be32(ent, (uint32_t)(boff / VHD_SECTOR));
	ret = block_pwrite_full(&bd->io, bd->fd, ent, 4, v->hdr.table_offset + (uint64_t)blk * 4);
	if (ret) {
		/* The entry may be half written: put "unused" back, then the footer. */
		vhd_put_be32(ent, VHD_BAT_UNUSED);
		if (!block_pwrite_full(&bd->io, bd->fd, ent, 4, v->hdr.table_offset + (uint64_t)blk * 4))
			footer_back(bd, v, old);
		goto fail;
	}
	step(bd, 3);
	v->bat[blk] = (uint32_t)(boff / VHD_SECTOR);
	if (bm != v->full && bitmap_full(bm, v->spb)) {
		free(bm);
		bm = v->full;
	}
	*slot = bm;
	return 0;
fail:
	if (bm != v->full)
		free(bm);
	return ret;
}

/* Mark sectors [in, in+n) of an allocated block present, writing changed bitmap sectors. */
static int mark_present(struct block_dev *bd, struct vhd *v, uint32_t blk, uint32_t in, size_t n)
{
	uint32_t first = in / VHD_SECTOR, last = (uint32_t)((in + n) / VHD_SECTOR), lo, hi;
	uint8_t *bm;
	bool changed = false;
	int ret = get_bitmap(bd, v, blk, &bm);

	if (ret || bm == v->full)
		return ret;
	for (uint32_t s = first; s < last; s++) {
		if (!vhd_bitmap_test(bm, s)) {
			vhd_bitmap_set(bm, s);
			changed = true;
		}
	}
	if (!changed)
		return 0;
	lo = first / 8 / VHD_SECTOR * VHD_SECTOR;
	hi = ((last - 1) / 8 / VHD_SECTOR + 1) * VHD_SECTOR;
	ret = block_pwrite_full(&bd->io, bd->fd, bm + lo, hi - lo,
				(uint64_t)v->bat[blk] * VHD_SECTOR + lo);
	if (ret)
		return ret;
	if (bitmap_full(bm, v->spb)) {
		free(bm);
		*vhd_bm_slot(v, blk, false) = v->full; /* get_bitmap made the slot */
	}
	return 0;
}

int vhd_write(struct block_dev *bd, const void *vbuf, size_t len, uint64_t off)
{
	struct vhd *v = bd->priv;
	const uint8_t *buf = vbuf;
	uint32_t bs = v->hdr.block_size;
	int ret;

	if (v->footer.type == VHD_TYPE_FIXED && off == 0 && len >= 8 && !memcmp(buf, "vhdxfile", 8))
		/* Sector 0 of a fixed VHD is the file's head: with VHDX's identifier there the file
		 * would probe as VHDX next time (VHDX wins over a VHD footer, which a VHDX guest can
		 * write at its file's end). */
		return errf(&bd->last_err, -EPERM, "%s: write at offset 0 refused: a VHDX identifier "
			    "at the head of a fixed VHD would make it open as vhdx next time", bd->path);
	if (v->footer.type == VHD_TYPE_FIXED)
		return block_pwrite_full(&bd->io, bd->fd, buf, len, off);
	while (len) {
		uint32_t blk = (uint32_t)(off / bs), in = (uint32_t)(off % bs);
		size_t n = bs - in < len ? bs - in : len;

		if (v->bat[blk] == VHD_BAT_UNUSED) {
			ret = alloc_block(bd, v, blk, in, buf, n);
		} else {
			ret = block_pwrite_full(&bd->io, bd->fd, buf, n, data_off(v, blk) + in);
			if (!ret)
				ret = mark_present(bd, v, blk, in, n);
		}
		if (ret)
			return ret;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

int vhd_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *run)
{
	struct vhd *v = bd->priv;
	uint32_t bs, blk, in, s;
	uint64_t n;
	uint8_t *bm;
	int ret;

	if (v->footer.type == VHD_TYPE_FIXED) {
		*run = len;
		return 1;
	}
	bs = v->hdr.block_size;
	blk = (uint32_t)(off / bs);
	in = (uint32_t)(off % bs);
	n = bs - in < len ? bs - in : len;
	if (v->bat[blk] == VHD_BAT_UNUSED) {
		*run = n;
		return 0;
	}
	ret = get_bitmap(bd, v, blk, &bm);
	if (ret)
		return ret;
	s = in / VHD_SECTOR;
	*run = (uint64_t)vhd_bitmap_run(bm, s, (uint32_t)(n / VHD_SECTOR)) * VHD_SECTOR;
	return vhd_bitmap_test(bm, s);
}

/* Reads of sectors absent here: the parent's mapping, or zeros beyond it. */
static int map_absent(struct vhd *v, uint64_t off, uint64_t len, struct block_map *m)
{
	struct block_dev *p = v->parent;

	if (p && off < p->size)
		return block_map(p, off, p->size - off < len ? p->size - off : len, false, m);
	*m = (struct block_map){.kind = BLOCK_MAP_ZERO, .fd = -1, .len = len};
	return 0;
}

int vhd_map(struct block_dev *bd, uint64_t off, uint64_t len, bool write, struct block_map *m)
{
	struct vhd *v = bd->priv;
	uint32_t bs, blk, in, s;
	uint64_t n, run;
	uint8_t *bm;
	int ret;

	if (v->footer.type == VHD_TYPE_FIXED) {
		*m = (struct block_map){.kind = BLOCK_MAP_DATA, .fd = bd->fd, .file_off = off,
					.len = len};
		if (write && off == 0) /* vhd_write's check of a VHDX identifier at sector 0 */
			*m = (struct block_map){.kind = BLOCK_MAP_SLOW, .fd = -1, .len = VHD_SECTOR};
		return 0;
	}
	bs = v->hdr.block_size;
	blk = (uint32_t)(off / bs);
	in = (uint32_t)(off % bs);
	n = bs - in < len ? bs - in : len;
	*m = (struct block_map){.kind = BLOCK_MAP_SLOW, .fd = -1, .len = n};
	if (v->bat[blk] == VHD_BAT_UNUSED)
		return write ? 0 : map_absent(v, off, n, m);
	ret = get_bitmap(bd, v, blk, &bm);
	if (ret)
		return ret;
	s = in / VHD_SECTOR;
	run = bm == v->full ? n : (uint64_t)vhd_bitmap_run(bm, s, (uint32_t)(n / VHD_SECTOR)) *
					 VHD_SECTOR;
	if (bm == v->full || vhd_bitmap_test(bm, s)) {
		*m = (struct block_map){.kind = BLOCK_MAP_DATA, .fd = bd->fd,
					.file_off = data_off(v, blk) + in, .len = run};
		return 0;
	}
	m->len = run;
	return write ? 0 : map_absent(v, off, run, m);
}
