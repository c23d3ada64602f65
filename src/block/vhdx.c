/* vhdx.c: the VHDX driver's open path: file identifier, headers, log, region tables, metadata,
 * BAT; info, flush and close. */
#include "block/vhdx.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "util/bytes.h"

#define META_MAX (32u * VHDX_MiB)

static int vhdx_probe(const uint8_t *head, size_t hl, const uint8_t *tail, size_t tl)
{
	return vhdx_is_file_id(head, hl) ? 100 : 0;
}

void vhdx_guid_random(vhdx_guid *g)
{
	if (getrandom(g->b, sizeof(g->b), 0) != (ssize_t)sizeof(g->b))
		for (size_t i = 0; i < sizeof(g->b); i++)
			g->b[i] = (uint8_t)rand();
	g->b[7] = (uint8_t)((g->b[7] & 0x0F) | 0x40); /* version 4 (Data3's high nibble) */
	g->b[8] = (uint8_t)((g->b[8] & 0x3F) | 0x80);
}

int vhdx_pread(struct block_dev *bd, void *vbuf, size_t len, uint64_t off)
{
	struct vhdx *v = bd->priv;
	uint8_t *buf = vbuf;
	size_t have = len;
	int ret;

	if (!v || !v->log_mem)
		return block_pread_full(&bd->io, bd->fd, buf, len, off);
	if (off + len > v->file_size)
		have = off >= v->file_size ? 0 : (size_t)(v->file_size - off);
	if (off + len > (v->log.last_end > v->file_size ? v->log.last_end : v->file_size))
		return -EIO;
	ret = have ? block_pread_full(&bd->io, bd->fd, buf, have, off) : 0;
	if (ret)
		return ret;
	memset(buf + have, 0, len - have);
	for (uint32_t i = 0; i < v->log.nops; i++) {
		const struct vhdx_log_op *op = &v->log.ops[i];
		uint64_t lo = op->off > off ? op->off : off;
		uint64_t hi = op->off + op->len < off + len ? op->off + op->len : off + len;

		if (lo >= hi)
			continue;
		if (op->data)
			memcpy(buf + (lo - off), op->data + (lo - op->off), (size_t)(hi - lo));
		else
			memset(buf + (lo - off), 0, (size_t)(hi - lo));
	}
	return 0;
}

static int load_headers(struct block_dev *bd, struct vhdx *v, struct err *e)
{
	struct vhdx_header h[2];
	struct err he[2];
	uint8_t *buf = malloc(VHDX_HEADER_SIZE);
	int ok[2], pick;

	if (!buf)
		return errf(e, -ENOMEM, "%s: out of memory", bd->path);
	for (int i = 0; i < 2; i++) {
		int r = block_pread_full(&bd->io, bd->fd, buf, VHDX_HEADER_SIZE,
					 i ? VHDX_HEADER2_OFF : VHDX_HEADER1_OFF);

		ok[i] = r ? (errf(&he[i], r, "cannot read it"), 0) :
			    !vhdx_header_parse(buf, v->file_size, &h[i], &he[i]);
		v->hdr_bad[i] = !ok[i];
	}
	free(buf);
	pick = vhdx_header_pick(ok[0], &h[0], ok[1], &h[1]);
	if (pick < 0 && ok[0] && ok[1])
		return errf(e, -EINVAL, "%s: both VHDX headers are valid with sequence number %" PRIu64
			    " but differ", bd->path, h[0].seq);
	if (pick < 0)
		return errf(e, -EINVAL, "%s: both VHDX headers are damaged (header 1: %s; header 2: "
			    "%s)", bd->path, he[0].msg, he[1].msg);
	v->cur = pick;
	v->hdr = h[pick];
	return 0;
}

static int load_log(struct block_dev *bd, struct vhdx *v, struct err *e)
{
	struct vhdx_log_replay r;
	uint8_t *log;
	struct err le;
	int ret;

	if (vhdx_guid_is_zero(&v->hdr.log_guid))
		return 0;
	log = malloc(v->hdr.log_length);
	if (!log)
		return errf(e, -ENOMEM, "%s: out of memory for a log of %" PRIu32 " bytes", bd->path,
			    v->hdr.log_length);
	ret = block_pread_full(&bd->io, bd->fd, log, v->hdr.log_length, v->hdr.log_offset);
	if (ret) {
		free(log);
		return errf(e, ret, "%s: reading the log: %s", bd->path, strerror(-ret));
	}
	ret = vhdx_log_find(log, v->hdr.log_length, &v->hdr.log_guid, &r, &le);
	free(log);
	if (ret == -ENOENT) /* LogGuid set, nothing valid written: nothing to replay */
		return (bd->flags & BLOCK_RDWR) ? vhdx_log_apply(bd, v, &(struct vhdx_log_replay){0}, e)
						: 0;
	if (ret)
		return errf(e, ret, "%s: log: %s", bd->path, le.msg);
	if (r.flushed_end > v->file_size) {
		vhdx_log_replay_free(&r);
		return errf(e, -EINVAL, "%s: the log says the file had at least %" PRIu64 " bytes, it "
			    "has %" PRIu64 " (truncated?)", bd->path, r.flushed_end, v->file_size);
	}
	for (uint32_t i = 0; i < r.nops; i++)
		if (r.ops[i].off < VHDX_MiB || r.ops[i].off + r.ops[i].len > VHDX_MAX_SIZE * 2) {
			vhdx_log_replay_free(&r);
			return errf(e, -EINVAL, "%s: the log writes at offset %" PRIu64 " (the header "
				    "area or absurdly far)", bd->path, r.ops[i].off);
		}
	v->log_pending = r.entries;
	if (bd->flags & BLOCK_RDWR) {
		ret = vhdx_log_apply(bd, v, &r, e);
		vhdx_log_replay_free(&r);
		return ret;
	}
	v->log = r;
	v->log_mem = true;
	return 0;
}

static int load_regions(struct block_dev *bd, struct vhdx *v, struct err *e)
{
	uint64_t vsize = v->log_mem && v->log.last_end > v->file_size ? v->log.last_end :
									v->file_size;
	uint8_t *buf = malloc(VHDX_RT_SIZE);
	struct err re[2];
	int ok = -1;

	if (!buf)
		return errf(e, -ENOMEM, "%s: out of memory", bd->path);
	for (int i = 0; i < 2 && (ok < 0 || (bd->flags & BLOCK_VERIFY)); i++) {
		struct vhdx_regions r;
		int rc = vhdx_pread(bd, buf, VHDX_RT_SIZE, i ? VHDX_RT2_OFF : VHDX_RT1_OFF);

		if (!rc)
			rc = vhdx_region_parse(buf, vsize, v->hdr.log_offset, v->hdr.log_length, &r,
					       &re[i]);
		else
			errf(&re[i], rc, "cannot read it");
		v->rt_bad[i] = rc != 0;
		if (!rc && ok < 0) {
			v->rg = r;
			ok = i;
		} else if (rc == -EOPNOTSUPP) {
			free(buf);
			return errf(e, rc, "%s: %s", bd->path, re[i].msg);
		}
	}
	free(buf);
	if (ok < 0)
		return errf(e, -EINVAL, "%s: both region tables are damaged (%s; %s)", bd->path,
			    re[0].msg, re[1].msg);
	return 0;
}

static int load_meta(struct block_dev *bd, struct vhdx *v, struct err *e)
{
	uint64_t need = VHDX_META_TABLE_SIZE;
	uint8_t *rg = malloc(VHDX_META_TABLE_SIZE), *more;
	struct err me;
	int ret;

	/* The table first, then only as much of the region as its items reach (a region is 1 MiB
	 * or more; its items usually fit in a few KiB past the table). */
	if (!rg)
		return errf(e, -ENOMEM, "%s: out of memory", bd->path);
	ret = vhdx_pread(bd, rg, VHDX_META_TABLE_SIZE, v->rg.meta_off);
	for (uint32_t i = 0; !ret && i < 2047 && 32 + 32 * (i + 1) <= VHDX_META_TABLE_SIZE &&
			     i < le_get(rg + 10, 2); i++) {
		const uint8_t *p = rg + 32 + 32 * i;
		uint64_t end = le_get(p + 16, 4) + le_get(p + 20, 4);

		if (end > need)
			need = end;
	}
	if (need > v->rg.meta_len)
		need = v->rg.meta_len; /* the parser says which item lies outside */
	if (!ret && need > META_MAX) {
		free(rg);
		return errf(e, -EINVAL, "%s: metadata items reach %" PRIu64 " bytes into the region "
			    "(at most %u)", bd->path, need, META_MAX);
	}
	if (!ret && need > VHDX_META_TABLE_SIZE) {
		more = realloc(rg, (size_t)need);
		if (!more) {
			free(rg);
			return errf(e, -ENOMEM, "%s: out of memory", bd->path);
		}
		rg = more;
		ret = vhdx_pread(bd, rg + VHDX_META_TABLE_SIZE, (size_t)need - VHDX_META_TABLE_SIZE,
				 v->rg.meta_off + VHDX_META_TABLE_SIZE);
	}
	if (ret)
		ret = errf(e, ret, "%s: reading the metadata: %s", bd->path, strerror(-ret));
	else if ((ret = vhdx_meta_parse(rg, (uint32_t)need, &v->meta, &me)) != 0)
		ret = errf(e, ret, "%s: metadata: %s", bd->path, me.msg);
	else if ((ret = vhdx_geom(&v->meta, &v->geom, &me)) != 0)
		ret = errf(e, ret, "%s: %s", bd->path, me.msg);
	if (!ret && v->meta.has_parent) {
		v->loc = malloc(sizeof(*v->loc));
		if (!v->loc)
			ret = errf(e, -ENOMEM, "%s: out of memory", bd->path);
		else if ((ret = vhdx_locator_parse(rg + v->meta.loc_off, v->meta.loc_len, v->loc,
						   &me)) != 0)
			ret = errf(e, ret, "%s: %s", bd->path, me.msg);
	}
	free(rg);
	return ret;
}

static int load_bat(struct block_dev *bd, struct vhdx *v, struct err *e)
{
	uint64_t n = v->geom.bat_entries, *scratch, present = 0;
	struct vhdx_range res[4] = {
		{0, VHDX_MiB, "header area"},
		{v->hdr.log_offset, v->hdr.log_length, "log"},
		{v->rg.meta_off, v->rg.meta_len, "metadata region"},
		{v->rg.bat_off, v->rg.bat_len, "BAT region"},
	};
	struct err be;
	int ret;

	if (n * 8 > v->rg.bat_len)
		return errf(e, -EINVAL, "%s: the BAT region (%" PRIu32 " bytes) is too small for %"
			    PRIu64 " entries", bd->path, v->rg.bat_len, n);
	v->bat = malloc(n * 8);
	if (!v->bat)
		return errf(e, -ENOMEM, "%s: out of memory for %" PRIu64 " BAT entries", bd->path, n);
	ret = vhdx_pread(bd, v->bat, n * 8, v->rg.bat_off);
	if (ret)
		return errf(e, ret, "%s: reading the BAT: %s", bd->path, strerror(-ret));
	for (uint64_t i = 0; i < n; i++) {
		v->bat[i] = le_get((const uint8_t *)&v->bat[i], 8);
		present += vhdx_bat_state(v->bat[i]) >= VHDX_PB_FULLY_PRESENT; /* 6, 7: SB too */
	}
	/* the overlap check sorts the present entries only: a fresh disk needs nothing */
	scratch = malloc(present ? present * 8 : 8);
	if (!scratch)
		return errf(e, -ENOMEM, "%s: out of memory for %" PRIu64 " BAT entries", bd->path, n);
	ret = vhdx_bat_check(v->bat, &v->geom, &v->meta,
			     v->log_mem && v->log.last_end > v->file_size ? v->log.last_end :
									   v->file_size,
			     res, 4, scratch, &v->used_end, &be);
	free(scratch);
	if (ret)
		return errf(e, ret, "%s: %s", bd->path, be.msg);
	if (v->meta.has_parent) {
		v->bm = calloc(v->geom.data_blocks / VHDX_BM_CHUNK + 1, sizeof(*v->bm));
		if (!v->bm)
			return errf(e, -ENOMEM, "%s: out of memory", bd->path);
	}
	v->alloc_at = (v->used_end > v->file_size ? v->used_end : v->file_size);
	v->alloc_at = (v->alloc_at + VHDX_MiB - 1) / VHDX_MiB * VHDX_MiB;
	v->prealloc_end = v->file_size;
	return 0;
}

int vhdx_load(struct block_dev *bd, struct vhdx *v, struct err *e)
{
	uint8_t id[8 + 2 * VHDX_CREATOR_CHARS];
	int ret = block_fd_size(bd->fd, &v->file_size);

	if (ret)
		return errf(e, ret, "%s: %s", bd->path, strerror(-ret));
	if (v->file_size < 3 * VHDX_MiB)
		return errf(e, -EINVAL, "%s: truncated: %" PRIu64 " bytes is too small for a VHDX",
			    bd->path, v->file_size);
	ret = block_pread_full(&bd->io, bd->fd, id, sizeof(id), 0);
	if (ret)
		return errf(e, ret, "%s: %s", bd->path, strerror(-ret));
	if (!vhdx_is_file_id(id, sizeof(id)))
		return errf(e, -EINVAL, "%s: not a VHDX (no \"vhdxfile\" identifier)", bd->path);
	vhdx_creator_decode(id, sizeof(id), v->creator, sizeof(v->creator));
	if ((ret = load_headers(bd, v, e)) || (ret = load_log(bd, v, e)) ||
	    (ret = load_regions(bd, v, e)) || (ret = load_meta(bd, v, e)) ||
	    (ret = load_bat(bd, v, e)))
		return ret;
	bd->size = v->meta.disk_size;
	bd->logical_sector = v->meta.lsec;
	return 0;
}

void vhdx_free(struct vhdx *v)
{
	for (uint64_t c = 0; v->bm && c <= v->geom.data_blocks / VHDX_BM_CHUNK; c++) {
		for (uint32_t i = 0; v->bm[c] && i < VHDX_BM_CHUNK; i++)
			free(v->bm[c][i]);
		free(v->bm[c]);
	}
	free(v->bm);
	free(v->bat);
	free(v->loc);
	vhdx_log_replay_free(&v->log);
	block_close(v->parent);
}

static int vhdx_open(struct block_dev *bd, const struct block_open_opts *o, struct err *e)
{
	struct vhdx *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return errf(e, -ENOMEM, "%s: out of memory", bd->path);
	bd->priv = v;
	ret = vhdx_load(bd, v, e);
	if (!ret && v->meta.has_parent && !(bd->flags & BLOCK_NOPARENT))
		ret = vhdx_open_parent(bd, v, o, e);
	if (ret) {
		vhdx_free(v);
		free(v);
		bd->priv = NULL;
	}
	return ret;
}

static void vhdx_close(struct block_dev *bd)
{
	struct vhdx *v = bd->priv;

	vhdx_trim(bd, v);
	vhdx_free(v);
	free(v);
}

static void vhdx_info(struct block_dev *bd, struct block_info *out)
{
	struct vhdx *v = bd->priv;
	struct stat st;

	strcpy(out->format, "vhdx");
	strcpy(out->subformat, v->meta.has_parent ? "differencing" :
			       v->meta.leave_allocated ? "fixed" : "dynamic");
	out->virtual_size = bd->size;
	if (!fstat(bd->fd, &st)) {
		out->allocated = (uint64_t)st.st_blocks * 512;
		if (block_fd_size(bd->fd, &out->file_size))
			out->file_size = (uint64_t)st.st_size;
	}
	snprintf(out->creator, sizeof(out->creator), "%s", v->creator);
	vhdx_guid_str(&v->meta.page83, out->uuid);
	vhdx_guid_str(&v->hdr.data_write, out->data_write_guid);
	out->block_size = v->meta.block_size;
	out->logical_sector = v->meta.lsec;
	out->physical_sector = v->meta.psec;
	out->blocks_total = (uint32_t)v->geom.data_blocks;
	for (uint64_t b = 0; b < v->geom.data_blocks; b++) {
		unsigned s = vhdx_bat_state(v->bat[vhdx_bat_pb(&v->geom, b)]);

		out->blocks_allocated += s == VHDX_PB_FULLY_PRESENT || s == VHDX_PB_PARTIALLY_PRESENT;
	}
	if (v->log_mem)
		snprintf(out->log_state, sizeof(out->log_state), "needs replay (%" PRIu32 " entries)",
			 v->log_pending);
	else if (v->log_replayed)
		snprintf(out->log_state, sizeof(out->log_state), "replayed (%" PRIu32 " entries)",
			 v->log_pending);
	else
		strcpy(out->log_state, "clean");
	if (v->meta.has_parent) {
		const char *l = v->loc ? vhdx_locator_get(v->loc, "parent_linkage") : NULL;

		snprintf(out->parent_uuid, sizeof(out->parent_uuid), "%s", l ? l : "");
		snprintf(out->parent_path, sizeof(out->parent_path), "%s", v->parent_path);
		out->parent = v->parent;
	}
}

static int vhdx_flush(struct block_dev *bd) { return bd->io.fsync(bd->fd) ? -errno : 0; }

static int vhdx_status_op(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *run)
{
	return vhdx_status(bd, off, len, run);
}

const struct block_ops block_vhdx_ops = {
	.name = "vhdx",
	.probe = vhdx_probe,
	.open = vhdx_open,
	.read = vhdx_read,
	.write = vhdx_write,
	.flush = vhdx_flush,
	.info = vhdx_info,
	.status = vhdx_status_op,
	.close = vhdx_close,
	.map = vhdx_map,
};
