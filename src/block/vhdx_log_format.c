/* vhdx_log_format.c: VHDX log entries: validation, finding the active sequence, building. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "block/vhdx_format.h"
#include "util/bytes.h"

#define LS VHDX_LOG_SECTOR
#define ENTRY_HDR 64u
#define DESC_SIZE 32u

struct entry {
	uint32_t pos, len, tail, ndesc, ndata;
	uint64_t seq, flushed, last;
};

static uint32_t hdr_sectors(uint64_t ndesc) { return (uint32_t)((ENTRY_HDR + DESC_SIZE * ndesc + LS - 1) / LS); }

/* Copy the entry at pos (len bytes, wrapping) into lin. */
static void linearise(const uint8_t *log, uint32_t log_len, uint32_t pos, uint32_t len,
		      uint8_t *lin)
{
	uint32_t first = log_len - pos < len ? log_len - pos : len;

	memcpy(lin, log + pos, first);
	memcpy(lin + first, log, len - first);
}

/* Is there a valid entry at pos? Fills *out, leaves the entry linear in lin. */
static bool entry_valid(const uint8_t *log, uint32_t log_len, uint32_t pos, const vhdx_guid *g,
			uint8_t *lin, struct entry *out)
{
	const uint8_t *h = log + pos;
	uint32_t len = (uint32_t)le_get(h + 8, 4), nd = (uint32_t)le_get(h + 24, 4), ndata = 0;
	uint64_t seq = le_get(h + 16, 8);

	if (memcmp(h, "loge", 4) || !len || len % LS || len > log_len || memcmp(h + 32, g, 16) ||
	    nd > (log_len - ENTRY_HDR) / DESC_SIZE || hdr_sectors(nd) * (uint64_t)LS > len)
		return false;
	out->tail = (uint32_t)le_get(h + 12, 4);
	if (out->tail % LS || out->tail >= log_len)
		return false;
	linearise(log, log_len, pos, len, lin);
	if (vhdx_checksum(lin, len, 4) != (uint32_t)le_get(h + 4, 4))
		return false;
	for (uint32_t i = 0; i < nd; i++) {
		const uint8_t *d = lin + ENTRY_HDR + DESC_SIZE * i;
		uint64_t off = le_get(d + 16, 8);

		if (le_get(d + 24, 8) != seq || off % LS)
			return false;
		if (!memcmp(d, "zero", 4)) {
			uint64_t zl = le_get(d + 8, 8);

			if (!zl || zl % LS || off + zl < off)
				return false;
		} else if (!memcmp(d, "desc", 4)) {
			uint64_t at = (uint64_t)(hdr_sectors(nd) + ndata) * LS;
			const uint8_t *s = lin + at;

			if (at + LS > len || memcmp(s, "data", 4) ||
			    (le_get(s + 4, 4) << 32 | le_get(s + LS - 4, 4)) != seq)
				return false;
			ndata++;
		} else {
			return false;
		}
	}
	if ((uint64_t)(hdr_sectors(nd) + ndata) * LS != len)
		return false;
	*out = (struct entry){pos, len, out->tail, nd, ndata, seq, le_get(h + 48, 8),
			      le_get(h + 56, 8)};
	return true;
}

/* Append the ops of the (linear) entry e to r. */
static void add_ops(const uint8_t *lin, const struct entry *en, struct vhdx_log_replay *r,
		    uint32_t *nsec)
{
	uint32_t ndata = 0;

	for (uint32_t i = 0; i < en->ndesc; i++) {
		const uint8_t *d = lin + ENTRY_HDR + DESC_SIZE * i;
		struct vhdx_log_op *op = &r->ops[r->nops++];

		op->off = le_get(d + 16, 8);
		if (!memcmp(d, "zero", 4)) {
			op->len = le_get(d + 8, 8);
			op->data = NULL;
		} else {
			const uint8_t *s = lin + (uint64_t)(hdr_sectors(en->ndesc) + ndata++) * LS;
			uint8_t *out = r->sectors + (uint64_t)(*nsec)++ * LS;

			memcpy(out, d + 8, 8);		   /* LeadingBytes */
			memcpy(out + 8, s + 8, LS - 12);   /* the sector's own data */
			memcpy(out + LS - 4, d + 4, 4);	   /* TrailingBytes */
			op->len = LS;
			op->data = out;
		}
	}
}

int vhdx_log_find(const uint8_t *log, uint32_t log_len, const vhdx_guid *g,
		  struct vhdx_log_replay *r, struct err *e)
{
	uint32_t nsec = log_len / LS, best_tail = 0, best_head = 0, best_n = 0;
	uint64_t best_seq = 0;
	uint8_t *seen = calloc(nsec ? nsec : 1, 1), *lin = malloc(log_len ? log_len : 1);
	struct entry en, cur;
	bool found = false;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	if (!seen || !lin || !log_len || log_len % LS) {
		ret = !log_len || log_len % LS ? errf(e, -EINVAL, "log length %" PRIu32 " is not a "
						      "multiple of 4 KiB", log_len) :
						 errf(e, -ENOMEM, "out of memory for the log");
		goto out;
	}
	for (uint32_t s = 0; s < nsec; s++) {
		uint32_t start = s * LS, n = 1, tail_idx = UINT32_MAX, pos;

		if (seen[s] || !entry_valid(log, log_len, start, g, lin, &cur))
			continue;
		seen[s] = 1;
		if (cur.tail == start)
			tail_idx = 0;
		for (pos = (start + cur.len) % log_len; pos != start && n < nsec;
		     pos = (pos + en.len) % log_len) {
			if (!entry_valid(log, log_len, pos, g, lin, &en) || en.seq != cur.seq + 1)
				break;
			seen[pos / LS] = 1;
			cur = en;
			if (tail_idx == UINT32_MAX && cur.tail == start)
				tail_idx = 0;
			n++;
		}
		/* The head's tail must be an entry of this sequence: walk from start to find it. */
		tail_idx = UINT32_MAX;
		pos = start;
		for (uint32_t i = 0; i < n; i++) {
			if (pos == cur.tail) {
				tail_idx = i;
				break;
			}
			entry_valid(log, log_len, pos, g, lin, &en);
			pos = (pos + en.len) % log_len;
		}
		if (tail_idx == UINT32_MAX || (found && cur.seq <= best_seq))
			continue;
		found = true;
		best_seq = cur.seq;
		best_tail = cur.tail;
		best_head = cur.pos;
		best_n = n - tail_idx;
	}
	if (!found) {
		ret = errf(e, -ENOENT, "the log has no valid sequence of entries");
		goto out;
	}
	/* Count, then collect: ops and sectors are bounded by the log's size. */
	{
		uint64_t nops = 0, ndata = 0;
		uint32_t pos = best_tail;

		for (uint32_t i = 0; i < best_n; i++) {
			entry_valid(log, log_len, pos, g, lin, &en);
			nops += en.ndesc;
			ndata += en.ndata;
			pos = (pos + en.len) % log_len;
		}
		r->ops = calloc(nops ? nops : 1, sizeof(*r->ops));
		r->sectors = malloc(ndata ? ndata * LS : 1);
		if (!r->ops || !r->sectors) {
			ret = errf(e, -ENOMEM, "out of memory for the log");
			goto out;
		}
		nsec = 0;
		pos = best_tail;
		for (uint32_t i = 0; i < best_n; i++) {
			entry_valid(log, log_len, pos, g, lin, &en);
			add_ops(lin, &en, r, &nsec);
			if (pos == best_head) {
				r->flushed_end = en.flushed;
				r->last_end = en.last;
			}
			pos = (pos + en.len) % log_len;
		}
		r->entries = best_n;
	}
out:
	if (ret)
		vhdx_log_replay_free(r);
	free(seen);
	free(lin);
	return ret;
}

void vhdx_log_replay_free(struct vhdx_log_replay *r)
{
	free(r->ops);
	free(r->sectors);
	r->ops = NULL;
	r->sectors = NULL;
	r->nops = 0;
}

uint32_t vhdx_log_entry_size(const struct vhdx_log_write *w, int n)
{
	uint32_t ndata = 0;

	for (int i = 0; i < n; i++)
		ndata += !w[i].zero_len;
	return (hdr_sectors((uint64_t)n) + ndata) * LS;
}

uint32_t vhdx_log_entry_build(const struct vhdx_log_write *w, int n, uint64_t seq, uint32_t tail,
			      const vhdx_guid *g, uint64_t flushed_end, uint64_t last_end,
			      uint8_t *out)
{
	uint32_t len = vhdx_log_entry_size(w, n), ds = hdr_sectors((uint64_t)n);

	memset(out, 0, len);
	memcpy(out, "loge", 4);
	le_put(out + 8, len, 4);
	le_put(out + 12, tail, 4);
	le_put(out + 16, seq, 8);
	le_put(out + 24, (uint64_t)n, 4);
	memcpy(out + 32, g, 16);
	le_put(out + 48, flushed_end, 8);
	le_put(out + 56, last_end, 8);
	for (int i = 0; i < n; i++) {
		uint8_t *d = out + ENTRY_HDR + DESC_SIZE * (uint32_t)i;

		le_put(d + 16, w[i].off, 8);
		le_put(d + 24, seq, 8);
		if (w[i].zero_len) {
			memcpy(d, "zero", 4);
			le_put(d + 8, w[i].zero_len, 8);
		} else {
			uint8_t *s = out + (uint64_t)ds++ * LS;

			memcpy(d, "desc", 4);
			memcpy(d + 4, w[i].data + LS - 4, 4);
			memcpy(d + 8, w[i].data, 8);
			memcpy(s, "data", 4);
			le_put(s + 4, seq >> 32, 4);
			memcpy(s + 8, w[i].data + 8, LS - 12);
			le_put(s + LS - 4, seq & 0xFFFFFFFFu, 4);
		}
	}
	le_put(out + 4, vhdx_crc32c(out, len), 4);
	return len;
}
