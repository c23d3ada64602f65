/* vhdx_io.c: the VHDX data path: reads through the BAT and sector bitmaps (falling through to
 * the parent), writes, and crash-ordered block allocation.
 *
 * Allocation, each step a separate write (tests stop the process after each via block_io.step):
 *   [differencing, first block of a chunk: the 1 MiB sector bitmap block is appended (zeros),
 *    flushed, and its BAT entry written]
 *   1. the file is extended by one block at a 1 MiB boundary past everything in use;
 *   2. the guest's data is written into it;
 *   3. differencing, partial block: the block's whole stretch of the sector bitmap is written
 *      (the written sectors set, every other bit cleared: stale bits of an earlier cut-short
 *      allocation never survive);
 *   differencing: one fdatasync (after a power loss a BAT entry never points at data or a
 *   bitmap that did not reach the disk), and
 *   4. the payload BAT entry (8 bytes, one sector: atomic).
 * The file is extended ahead of need and flushed then (see extend), so a BAT entry never points
 * past the end of the file on disk either.
 * Killed before 4, the block is unreferenced space at the end of the file (`img check` reports
 * it as leaked, `--repair` cuts it); the metadata is never inconsistent, so the log is not
 * needed for thinvisor's own updates (LogGuid stays zero). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/vhdx.h"
#include "util/bytes.h"

static void step(struct block_dev *bd)
{
	if (bd->io.step)
		bd->io.step(bd->io.ctx, 0);
}

static bool bit(const uint8_t *bm, uint64_t i) { return bm[i / 8] >> (i % 8) & 1; }

/* How many sectors from s (at most max) share sector s's bit. */
static uint64_t bit_run(const uint8_t *bm, uint64_t s, uint64_t max)
{
	bool b = bit(bm, s);
	uint64_t n = 1;

	while (n < max && bit(bm, s + n) == b)
		n++;
	return n;
}

uint8_t **vhdx_bm_slot(struct vhdx *v, uint64_t blk)
{
	uint8_t ***chunk = &v->bm[blk / VHDX_BM_CHUNK];

	if (!*chunk)
		*chunk = calloc(VHDX_BM_CHUNK, sizeof(**chunk));
	return *chunk ? &(*chunk)[blk % VHDX_BM_CHUNK] : NULL;
}

/* The sector bitmap stretch of block blk (differencing), loaded on first use. */
static int get_bitmap(struct block_dev *bd, struct vhdx *v, uint64_t blk, uint8_t **out)
{
	uint64_t c = blk / v->geom.chunk_ratio, sb = v->bat[vhdx_bat_sb(&v->geom, c)];
	uint8_t *bm, **slot = vhdx_bm_slot(v, blk);
	int ret;

	if (!slot)
		return -ENOMEM;
	if (*slot) {
		*out = *slot;
		return 0;
	}
	bm = calloc(1, v->geom.bitmap_bytes);
	if (!bm)
		return -ENOMEM;
	if (vhdx_bat_state(sb) == VHDX_SB_PRESENT) {
		ret = vhdx_pread(bd, bm, v->geom.bitmap_bytes,
				 vhdx_bat_off(sb) + (blk % v->geom.chunk_ratio) * v->geom.bitmap_bytes);
		if (ret) {
			free(bm);
			return ret;
		}
	}
	*slot = bm;
	*out = bm;
	return 0;
}

/* Bytes not in this layer: the parent's, or zeros. */
static int read_absent(struct vhdx *v, uint8_t *buf, size_t len, uint64_t off)
{
	struct block_dev *p = v->parent;
	size_t n = 0;

	if (p && off < p->size) {
		int ret;

		n = p->size - off < len ? (size_t)(p->size - off) : len;
		ret = p->ops->read(p, buf, n, off);
		if (ret)
			return ret;
	}
	memset(buf + n, 0, len - n);
	return 0;
}

int vhdx_read(struct block_dev *bd, void *vbuf, size_t len, uint64_t off)
{
	struct vhdx *v = bd->priv;
	uint8_t *buf = vbuf, *bm;
	uint32_t bs = v->meta.block_size, ls = v->meta.lsec;
	int ret = 0;

	while (len && !ret) {
		uint64_t blk = off / bs, e = v->bat[vhdx_bat_pb(&v->geom, blk)];
		uint32_t in = (uint32_t)(off % bs);
		size_t n = bs - in < len ? bs - in : len;

		switch (vhdx_bat_state(e)) {
		case VHDX_PB_FULLY_PRESENT:
			ret = vhdx_pread(bd, buf, n, vhdx_bat_off(e) + in);
			break;
		case VHDX_PB_PARTIALLY_PRESENT:
			ret = get_bitmap(bd, v, blk, &bm);
			for (size_t done = 0; !ret && done < n;) {
				uint64_t s = (in + done) / ls, k = bit_run(bm, s, (bs / ls) - s);
				size_t m = (size_t)((s + k) * ls - (in + done));

				if (m > n - done)
					m = n - done;
				if (bit(bm, s))
					ret = vhdx_pread(bd, buf + done, m, vhdx_bat_off(e) + in + done);
				else
					ret = read_absent(v, buf + done, m, off + done);
				done += m;
			}
			break;
		case VHDX_PB_NOT_PRESENT:
			ret = read_absent(v, buf, n, off);
			break;
		default: /* ZERO, UNDEFINED, UNMAPPED: zeros, never the parent's data */
			memset(buf, 0, n);
		}
		buf += n;
		off += n;
		len -= n;
	}
	return ret;
}

static int put_bat(struct block_dev *bd, struct vhdx *v, uint64_t idx, uint64_t val)
{
	uint8_t ent[8];
	int ret;

	le_put(ent, val, 8);
	ret = block_pwrite_full(&bd->io, bd->fd, ent, 8, v->rg.bat_off + idx * 8);
	if (!ret)
		v->bat[idx] = val;
	return ret;
}

/* Room for len bytes at v->alloc_at, *at = that offset. The file is extended ahead (zeros) by up
 * to 8 blocks (at most 256 MiB) and flushed once, so that its size is on disk before any BAT
 * entry points into that stretch: allocations inside it need no flush of their own on a dynamic
 * disk (after a power loss such a block reads as zeros, its old contents). A clean close cuts
 * what was not used (vhdx_trim). */
static int extend(struct block_dev *bd, struct vhdx *v, uint64_t len, uint64_t *at)
{
	if (v->alloc_at + len > v->prealloc_end) {
		uint64_t ahead = 8 * (uint64_t)v->meta.block_size;

		if (ahead > 256ull * VHDX_MiB)
			ahead = 256ull * VHDX_MiB;
		if (ahead < len)
			ahead = len;
		if (ftruncate(bd->fd, (off_t)(v->alloc_at + ahead)) || bd->io.fsync(bd->fd))
			return -errno;
		v->prealloc_end = v->alloc_at + ahead;
	}
	*at = v->alloc_at;
	return 0;
}

/* A failed allocation: its stretch may hold part of the data, so it is never reused (leaked
 * until `img check --repair`), and the next block goes after it. */
static void skip(struct vhdx *v, uint64_t at, uint64_t len)
{
	if (at + len > v->alloc_at)
		v->alloc_at = at + len;
}

void vhdx_trim(struct block_dev *bd, struct vhdx *v)
{
	uint64_t size;

	if ((bd->flags & BLOCK_RDWR) && v->prealloc_end > v->alloc_at &&
	    !block_fd_size(bd->fd, &size) && size > v->alloc_at && v->alloc_at >= v->file_size &&
	    ftruncate(bd->fd, (off_t)v->alloc_at) == 0)
		v->prealloc_end = v->alloc_at;
}

static int alloc_sb(struct block_dev *bd, struct vhdx *v, uint64_t c)
{
	uint64_t at = 0;
	int ret = extend(bd, v, VHDX_SB_SIZE, &at);

	if (ret)
		return ret;
	step(bd);
	ret = put_bat(bd, v, vhdx_bat_sb(&v->geom, c), vhdx_bat_make(VHDX_SB_PRESENT, at));
	if (ret) {
		skip(v, at, VHDX_SB_SIZE);
		return ret;
	}
	step(bd);
	v->alloc_at = at + VHDX_SB_SIZE;
	return 0;
}

static int alloc_block(struct block_dev *bd, struct vhdx *v, uint64_t blk, uint32_t in,
		       const uint8_t *buf, size_t n)
{
	uint64_t idx = vhdx_bat_pb(&v->geom, blk), c = blk / v->geom.chunk_ratio, at = 0;
	uint32_t ls = v->meta.lsec, bs = v->meta.block_size;
	bool partial = v->meta.has_parent &&
		       vhdx_bat_state(v->bat[idx]) == VHDX_PB_NOT_PRESENT && n < bs;
	uint8_t *bm = NULL;
	int ret;

	if (partial && vhdx_bat_state(v->bat[vhdx_bat_sb(&v->geom, c)]) != VHDX_SB_PRESENT) {
		ret = alloc_sb(bd, v, c);
		if (ret)
			return ret;
	}
	if (partial) {
		ret = get_bitmap(bd, v, blk, &bm);
		if (ret)
			return ret;
	}
	ret = extend(bd, v, bs, &at);
	if (ret)
		return ret;
	step(bd);
	ret = block_pwrite_full(&bd->io, bd->fd, buf, n, at + in);
	if (!ret)
		step(bd);
	if (!ret && partial) {
		uint8_t *nb = calloc(1, v->geom.bitmap_bytes);
		uint64_t sb = vhdx_bat_off(v->bat[vhdx_bat_sb(&v->geom, c)]);

		if (!nb) {
			ret = -ENOMEM;
		} else {
			for (uint64_t s = in / ls; s < (in + n) / ls; s++)
				nb[s / 8] |= (uint8_t)(1u << (s % 8));
			ret = block_pwrite_full(&bd->io, bd->fd, nb, v->geom.bitmap_bytes,
						sb + (blk % v->geom.chunk_ratio) * v->geom.bitmap_bytes);
			if (!ret) {
				memcpy(bm, nb, v->geom.bitmap_bytes);
				step(bd);
			} else {
				/* the on-disk stretch is unknown now: reload it next time */
				free(*vhdx_bm_slot(v, blk)); /* get_bitmap made the slot */
				*vhdx_bm_slot(v, blk) = NULL;
			}
			free(nb);
		}
	}
	/* Differencing: the data and its bitmap must be on disk before the entry (a lost bitmap
	 * reads "from the parent", fine; lost data under a set bit would not be). */
	if (!ret && v->meta.has_parent && bd->io.fsync(bd->fd))
		ret = -errno;
	if (!ret)
		ret = put_bat(bd, v, idx, vhdx_bat_make(partial ? VHDX_PB_PARTIALLY_PRESENT :
							 VHDX_PB_FULLY_PRESENT, at));
	if (ret) {
		skip(v, at, bs);
		return ret;
	}
	step(bd);
	v->alloc_at = at + bs;
	return 0;
}

/* Sectors [in, in+n) of a partially present block now hold data: set their bits. */
static int mark_present(struct block_dev *bd, struct vhdx *v, uint64_t blk, uint32_t in,
			size_t n)
{
	uint32_t ls = v->meta.lsec, first = in / ls, last = (uint32_t)((in + n) / ls), lo, hi;
	uint64_t c = blk / v->geom.chunk_ratio, sb = vhdx_bat_off(v->bat[vhdx_bat_sb(&v->geom, c)]);
	bool changed = false, full = true;
	uint8_t *bm;
	int ret = get_bitmap(bd, v, blk, &bm);

	if (ret)
		return ret;
	for (uint32_t s = first; s < last; s++) {
		if (!bit(bm, s)) {
			bm[s / 8] |= (uint8_t)(1u << (s % 8));
			changed = true;
		}
	}
	if (!changed)
		return 0;
	lo = first / 8;
	hi = (last - 1) / 8 + 1;
	ret = block_pwrite_full(&bd->io, bd->fd, bm + lo, hi - lo,
				sb + (blk % v->geom.chunk_ratio) * v->geom.bitmap_bytes + lo);
	if (ret) {
		free(*vhdx_bm_slot(v, blk));
		*vhdx_bm_slot(v, blk) = NULL;
		return ret;
	}
	for (uint32_t i = 0; i < v->geom.bitmap_bytes && full; i++)
		full = bm[i] == 0xFF;
	if (full) { /* every sector here now: reads skip the bitmap */
		uint64_t idx = vhdx_bat_pb(&v->geom, blk);

		return put_bat(bd, v, idx, vhdx_bat_make(VHDX_PB_FULLY_PRESENT,
							 vhdx_bat_off(v->bat[idx])));
	}
	return 0;
}

/* A write to a differencing disk with 4 KiB logical sectors that does not cover whole sectors:
 * merge it with the current contents (the parent's, where this layer has none), so that each
 * sector's bit stays true. */
static int write_merged(struct block_dev *bd, struct vhdx *v, const uint8_t *buf, size_t len,
			uint64_t off)
{
	uint32_t ls = v->meta.lsec;
	uint64_t a = off / ls * ls, b = (off + len + ls - 1) / ls * ls;
	uint8_t *tmp = malloc((size_t)(b - a));
	int ret;

	if (!tmp)
		return -ENOMEM;
	ret = vhdx_read(bd, tmp, (size_t)(b - a), a);
	if (!ret) {
		memcpy(tmp + (off - a), buf, len);
		ret = vhdx_write(bd, tmp, (size_t)(b - a), a);
	}
	free(tmp);
	return ret;
}

int vhdx_write(struct block_dev *bd, const void *vbuf, size_t len, uint64_t off)
{
	struct vhdx *v = bd->priv;
	const uint8_t *buf = vbuf;
	uint32_t bs = v->meta.block_size;
	int ret = 0;

	if (!v->guids_bumped && (ret = vhdx_bump_headers(bd, true, NULL)) != 0)
		return ret;
	if (v->meta.has_parent && ((off | len) % v->meta.lsec))
		return write_merged(bd, v, buf, len, off);
	while (len && !ret) {
		uint64_t blk = off / bs, e = v->bat[vhdx_bat_pb(&v->geom, blk)];
		uint32_t in = (uint32_t)(off % bs);
		size_t n = bs - in < len ? bs - in : len;

		switch (vhdx_bat_state(e)) {
		case VHDX_PB_FULLY_PRESENT:
			ret = block_pwrite_full(&bd->io, bd->fd, buf, n, vhdx_bat_off(e) + in);
			break;
		case VHDX_PB_PARTIALLY_PRESENT:
			ret = block_pwrite_full(&bd->io, bd->fd, buf, n, vhdx_bat_off(e) + in);
			if (!ret)
				ret = mark_present(bd, v, blk, in, n);
			break;
		default:
			ret = alloc_block(bd, v, blk, in, buf, n);
		}
		buf += n;
		off += n;
		len -= n;
	}
	return ret;
}

int vhdx_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *run)
{
	struct vhdx *v = bd->priv;
	uint32_t bs = v->meta.block_size, ls = v->meta.lsec, in = (uint32_t)(off % bs);
	uint64_t blk = off / bs, e = v->bat[vhdx_bat_pb(&v->geom, blk)], s, k;
	uint64_t n = bs - in < len ? bs - in : len;
	uint8_t *bm;
	int ret;

	*run = n;
	switch (vhdx_bat_state(e)) {
	case VHDX_PB_FULLY_PRESENT: return 1;
	case VHDX_PB_NOT_PRESENT: return 0;
	case VHDX_PB_PARTIALLY_PRESENT: break;
	default: return v->meta.has_parent; /* zeros that hide the parent's data */
	}
	ret = get_bitmap(bd, v, blk, &bm);
	if (ret)
		return ret;
	s = in / ls;
	k = bit_run(bm, s, bs / ls - s);
	if ((s + k) * ls - in < n)
		*run = (s + k) * ls - in;
	return bit(bm, s);
}

/* Reads of a range this layer does not hold: the parent's mapping, or zeros beyond it. */
static int map_absent(struct vhdx *v, uint64_t off, uint64_t len, struct block_map *m)
{
	struct block_dev *p = v->parent;

	if (p && off < p->size)
		return block_map(p, off, p->size - off < len ? p->size - off : len, false, m);
	*m = (struct block_map){.kind = BLOCK_MAP_ZERO, .fd = -1, .len = len};
	return 0;
}

int vhdx_map(struct block_dev *bd, uint64_t off, uint64_t len, bool write, struct block_map *m)
{
	struct vhdx *v = bd->priv;
	uint32_t bs = v->meta.block_size, ls = v->meta.lsec, in = (uint32_t)(off % bs);
	uint64_t blk = off / bs, e = v->bat[vhdx_bat_pb(&v->geom, blk)], n, s, k;
	uint8_t *bm;
	int ret;

	n = bs - in < len ? bs - in : len;
	*m = (struct block_map){.kind = BLOCK_MAP_SLOW, .fd = -1, .len = n};
	/* the headers say "changed" before any data is written in place */
	if (write && !v->guids_bumped && (ret = vhdx_bump_headers(bd, true, NULL)) != 0)
		return ret;
	if (v->log_mem) /* reads go through the in-memory replay */
		return 0;
	switch (vhdx_bat_state(e)) {
	case VHDX_PB_FULLY_PRESENT:
		*m = (struct block_map){.kind = BLOCK_MAP_DATA, .fd = bd->fd,
					.file_off = vhdx_bat_off(e) + in, .len = n};
		return 0;
	case VHDX_PB_PARTIALLY_PRESENT:
		break;
	case VHDX_PB_NOT_PRESENT:
		return write ? 0 : map_absent(v, off, n, m);
	default:
		if (!write)
			*m = (struct block_map){.kind = BLOCK_MAP_ZERO, .fd = -1, .len = n};
		return 0;
	}
	ret = get_bitmap(bd, v, blk, &bm);
	if (ret)
		return ret;
	s = in / ls;
	k = bit_run(bm, s, bs / ls - s);
	if ((s + k) * ls - in < n)
		n = (s + k) * ls - in;
	if (in % ls && !bit(bm, s) && write)
		n = ls - in % ls; /* a part of an absent 4 KiB sector: merged by the slow path */
	if (bit(bm, s)) {
		*m = (struct block_map){.kind = BLOCK_MAP_DATA, .fd = bd->fd,
					.file_off = vhdx_bat_off(e) + in, .len = n};
		return 0;
	}
	m->len = n;
	return write ? 0 : map_absent(v, off, n, m);
}
