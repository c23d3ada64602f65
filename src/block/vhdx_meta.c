/* vhdx_meta.c: the VHDX metadata table and items, the geometry they imply, and the BAT check. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "block/vhdx_format.h"
#include "util/bytes.h"

#define META_ENTRY_OFF 32u
#define META_MAX_ENTRIES 2047u
#define META_ITEM_MAX VHDX_MiB

static const struct {
	const vhdx_guid *g;
	const char *name;
	uint32_t len; /* exact length; 0: variable (parent locator) */
} known_items[] = {
	{&vhdx_guid_file_params, "file parameters", 8}, {&vhdx_guid_disk_size, "virtual disk size", 8},
	{&vhdx_guid_page83, "page 83 data", 16},	 {&vhdx_guid_lsec, "logical sector size", 4},
	{&vhdx_guid_psec, "physical sector size", 4},	 {&vhdx_guid_parent_locator, "parent locator", 0},
};

int vhdx_meta_parse(const uint8_t *rg, uint32_t meta_len, struct vhdx_meta *m, struct err *e)
{
	uint32_t n, seen = 0;
	char gs[40];

	memset(m, 0, sizeof(*m));
	if (meta_len < VHDX_META_TABLE_SIZE || memcmp(rg, "metadata", 8))
		return errf(e, -EINVAL, "no metadata table signature");
	n = (uint32_t)le_get(rg + 10, 2);
	if (n > META_MAX_ENTRIES)
		return errf(e, -EINVAL, "metadata table has %" PRIu32 " entries (at most 2047)", n);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = rg + META_ENTRY_OFF + 32 * i, *item;
		uint32_t off = (uint32_t)le_get(p + 16, 4), len = (uint32_t)le_get(p + 20, 4);
		uint32_t flags = (uint32_t)le_get(p + 24, 4);
		bool user = flags & 1, required = flags & 4;
		vhdx_guid g;
		size_t k;

		memcpy(&g, p, 16);
		vhdx_guid_str(&g, gs);
		if (len > META_ITEM_MAX || (len && (off < VHDX_META_TABLE_SIZE || off > meta_len ||
						    len > meta_len - off)) || (!len && off))
			return errf(e, -EINVAL, "metadata item %s at %" PRIu32 " (%" PRIu32 " bytes) lies "
				    "outside the metadata region", gs, off, len);
		for (uint32_t j = 0; j < i; j++)
			if (!memcmp(rg + META_ENTRY_OFF + 32 * j, p, 16) &&
			    ((le_get(rg + META_ENTRY_OFF + 32 * j + 24, 4) & 1) == user))
				return errf(e, -EINVAL, "metadata item %s appears twice", gs);
		for (k = 0; k < sizeof(known_items) / sizeof(known_items[0]); k++)
			if (!user && vhdx_guid_eq(&g, known_items[k].g))
				break;
		if (k == sizeof(known_items) / sizeof(known_items[0])) {
			if (required)
				return errf(e, -EOPNOTSUPP, "unknown required metadata item %s", gs);
			continue;
		}
		if (known_items[k].len && len != known_items[k].len)
			return errf(e, -EINVAL, "metadata item %s is %" PRIu32 " bytes, not %" PRIu32,
				    known_items[k].name, len, known_items[k].len);
		item = rg + off;
		seen |= 1u << k;
		switch (k) {
		case 0:
			m->block_size = (uint32_t)le_get(item, 4);
			m->leave_allocated = le_get(item + 4, 4) & 1;
			m->has_parent = le_get(item + 4, 4) & 2;
			break;
		case 1: m->disk_size = le_get(item, 8); break;
		case 2: memcpy(&m->page83, item, 16); break;
		case 3: m->lsec = (uint32_t)le_get(item, 4); break;
		case 4: m->psec = (uint32_t)le_get(item, 4); break;
		case 5: m->loc_off = off, m->loc_len = len; break;
		}
	}
	for (size_t k = 0; k < 5; k++)
		if (!(seen & (1u << k)) && k != 2)
			return errf(e, -EINVAL, "the metadata has no %s item", known_items[k].name);
	if (m->block_size < VHDX_MiB || m->block_size > 256 * VHDX_MiB ||
	    (m->block_size & (m->block_size - 1)))
		return errf(e, -EINVAL, "block size %" PRIu32 " is not a power of two from 1 MiB to "
			    "256 MiB", m->block_size);
	if (m->lsec != 512 && m->lsec != 4096)
		return errf(e, -EINVAL, "logical sector size %" PRIu32 " (512 or 4096)", m->lsec);
	if (m->psec != 512 && m->psec != 4096)
		return errf(e, -EINVAL, "physical sector size %" PRIu32 " (512 or 4096)", m->psec);
	if (!m->disk_size || m->disk_size > VHDX_MAX_SIZE || m->disk_size % m->lsec)
		return errf(e, -EINVAL, "virtual disk size %" PRIu64 " is not a multiple of the "
			    "logical sector size from 1 sector to 64 TiB", m->disk_size);
	if (m->has_parent && !(seen & (1u << 5)))
		return errf(e, -EINVAL, "a differencing disk without a parent locator");
	return 0;
}

int vhdx_geom(const struct vhdx_meta *m, struct vhdx_geom *g, struct err *e)
{
	g->chunk_ratio = ((uint64_t)1 << 23) * m->lsec / m->block_size;
	g->data_blocks = (m->disk_size + m->block_size - 1) / m->block_size;
	g->bitmap_blocks = (g->data_blocks + g->chunk_ratio - 1) / g->chunk_ratio;
	g->bitmap_bytes = (uint32_t)(m->block_size / m->lsec / 8);
	if (m->has_parent)
		g->bat_entries = g->bitmap_blocks * (g->chunk_ratio + 1);
	else
		g->bat_entries = g->data_blocks + (g->data_blocks - 1) / g->chunk_ratio;
	if (!g->chunk_ratio || g->bat_entries > ((uint64_t)1 << 32))
		return errf(e, -EINVAL, "absurd geometry (chunk ratio %" PRIu64 ", %" PRIu64
			    " BAT entries)", g->chunk_ratio, g->bat_entries);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int vhdx_bat_check(const uint64_t *bat, const struct vhdx_geom *g, const struct vhdx_meta *m,
		   uint64_t file_size, const struct vhdx_range *res, int nr, uint64_t *scratch,
		   uint64_t *data_end, struct err *e)
{
	uint64_t n = 0, end = 0;

	for (int i = 0; i < nr; i++)
		if (res[i].off + res[i].len > end)
			end = res[i].off + res[i].len;
	for (uint64_t i = 0; i < g->bat_entries; i++) {
		bool sb = (i % (g->chunk_ratio + 1)) == g->chunk_ratio;
		unsigned st = vhdx_bat_state(bat[i]);
		uint64_t off = vhdx_bat_off(bat[i]), len = sb ? VHDX_SB_SIZE : m->block_size;
		bool present;

		if (sb) {
			if (st != VHDX_SB_NOT_PRESENT && st != VHDX_SB_PRESENT)
				return errf(e, -EINVAL, "BAT entry %" PRIu64 ": bad sector bitmap state %u",
					    i, st);
			if (st == VHDX_SB_PRESENT && !m->has_parent)
				return errf(e, -EINVAL, "BAT entry %" PRIu64 ": a sector bitmap block in a "
					    "disk without a parent", i);
			present = st == VHDX_SB_PRESENT;
		} else {
			if (st == 4 || st == 5)
				return errf(e, -EINVAL, "BAT entry %" PRIu64 ": bad payload state %u", i, st);
			if (st == VHDX_PB_PARTIALLY_PRESENT && !m->has_parent)
				return errf(e, -EINVAL, "BAT entry %" PRIu64 ": partially present block in "
					    "a disk without a parent", i);
			present = st == VHDX_PB_FULLY_PRESENT || st == VHDX_PB_PARTIALLY_PRESENT;
		}
		if (!present)
			continue;
		if (off > file_size || len > file_size - off)
			return errf(e, -EINVAL, "BAT entry %" PRIu64 ": block at %" PRIu64 " lies outside "
				    "the file (%" PRIu64 " bytes)", i, off, file_size);
		for (int r = 0; r < nr; r++)
			if (off < res[r].off + res[r].len && res[r].off < off + len)
				return errf(e, -EINVAL, "BAT entry %" PRIu64 ": block at %" PRIu64 " lies in "
					    "the %s", i, off, res[r].what);
		if (off + len > end)
			end = off + len;
		/* Sort key: offset, with the entry's size class in the low bits (both aligned). */
		scratch[n++] = off | (sb ? 1 : 0);
	}
	qsort(scratch, n, sizeof(*scratch), cmp_u64);
	for (uint64_t i = 1; i < n; i++) {
		uint64_t prev = scratch[i - 1] & ~(uint64_t)1;
		uint64_t plen = scratch[i - 1] & 1 ? VHDX_SB_SIZE : m->block_size;

		if ((scratch[i] & ~(uint64_t)1) < prev + plen)
			return errf(e, -EINVAL, "BAT: two blocks overlap at file offset %" PRIu64,
				    scratch[i] & ~(uint64_t)1);
	}
	*data_end = end;
	return 0;
}
