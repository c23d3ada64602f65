/* vhd_format.c: VHD footer, dynamic header, CHS, BAT and bitmap parsing (pure functions). */
#include "block/vhd_format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

uint16_t vhd_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
uint32_t vhd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
uint64_t vhd_be64(const uint8_t *p) { return (uint64_t)vhd_be32(p) << 32 | vhd_be32(p + 4); }
void vhd_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}
void vhd_put_be32(uint8_t *p, uint32_t v)
{
	vhd_put_be16(p, v >> 16);
	vhd_put_be16(p + 2, (uint16_t)v);
}
void vhd_put_be64(uint8_t *p, uint64_t v)
{
	vhd_put_be32(p, v >> 32);
	vhd_put_be32(p + 4, (uint32_t)v);
}

uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t skip_off)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		if (i < skip_off || i >= skip_off + 4)
			sum += buf[i];
	return ~sum;
}

struct vhd_geom vhd_chs(uint64_t total)
{
	uint64_t spt, heads, cth;
	struct vhd_geom g;

	if (total > VHD_MAX_CHS_SECTORS)
		total = VHD_MAX_CHS_SECTORS;
	if (total >= 65535ull * 16 * 63) {
		spt = 255;
		heads = 16;
		cth = total / spt;
	} else {
		spt = 17;
		cth = total / spt;
		heads = (cth + 1023) / 1024;
		if (heads < 4)
			heads = 4;
		if (cth >= heads * 1024 || heads > 16) {
			spt = 31;
			heads = 16;
			cth = total / spt;
		}
		if (cth >= heads * 1024) {
			spt = 63;
			heads = 16;
			cth = total / spt;
		}
	}
	g.cylinders = (uint16_t)(cth / heads);
	g.heads = (uint8_t)heads;
	g.sectors = (uint8_t)spt;
	return g;
}

uint64_t vhd_geom_sectors(struct vhd_geom g) { return (uint64_t)g.cylinders * g.heads * g.sectors; }

int vhd_footer_parse(const uint8_t b[VHD_FOOTER_SIZE], struct vhd_footer *f, struct err *e)
{
	uint32_t sum;

	if (memcmp(b, "conectix", 8))
		return errf(e, -EINVAL, "no VHD footer (cookie is not 'conectix')");
	f->features = vhd_be32(b + 8);
	f->version = vhd_be32(b + 12);
	f->data_offset = vhd_be64(b + 16);
	f->timestamp = vhd_be32(b + 24);
	memcpy(f->creator_app, b + 28, 4);
	f->creator_version = vhd_be32(b + 32);
	f->creator_os = vhd_be32(b + 36);
	f->original_size = vhd_be64(b + 40);
	f->current_size = vhd_be64(b + 48);
	f->geom.cylinders = vhd_be16(b + 56);
	f->geom.heads = b[58];
	f->geom.sectors = b[59];
	f->type = vhd_be32(b + 60);
	f->checksum = vhd_be32(b + 64);
	memcpy(f->uuid, b + 68, 16);
	f->saved_state = b[84];
	sum = vhd_checksum(b, VHD_FOOTER_SIZE, 64);
	if (sum != f->checksum)
		return errf(e, -EBADMSG, "footer checksum mismatch (stored 0x%08" PRIx32
			    ", computed 0x%08" PRIx32 ")", f->checksum, sum);
	if (f->version >> 16 != 1)
		return errf(e, -EINVAL, "unsupported VHD version 0x%08" PRIx32, f->version);
	if (f->type != VHD_TYPE_FIXED && f->type != VHD_TYPE_DYNAMIC && f->type != VHD_TYPE_DIFF)
		return errf(e, -EINVAL, "unsupported disk type %" PRIu32, f->type);
	if (vhd_virtual_size(f) > VHD_MAX_SIZE)
		return errf(e, -EFBIG, "virtual size %" PRIu64 " exceeds the VHD limit of 2040 GiB",
			    vhd_virtual_size(f));
	if (f->type != VHD_TYPE_FIXED && (f->data_offset % VHD_SECTOR || f->data_offset == 0 ||
					  f->data_offset > (1ull << 40)))
		return errf(e, -EINVAL, "bad dynamic header offset %" PRIu64, f->data_offset);
	return 0;
}

void vhd_footer_build(struct vhd_footer *f, uint8_t b[VHD_FOOTER_SIZE])
{
	memset(b, 0, VHD_FOOTER_SIZE);
	memcpy(b, "conectix", 8);
	vhd_put_be32(b + 8, f->features);
	vhd_put_be32(b + 12, f->version);
	vhd_put_be64(b + 16, f->data_offset);
	vhd_put_be32(b + 24, f->timestamp);
	memcpy(b + 28, f->creator_app, 4);
	vhd_put_be32(b + 32, f->creator_version);
	vhd_put_be32(b + 36, f->creator_os);
	vhd_put_be64(b + 40, f->original_size);
	vhd_put_be64(b + 48, f->current_size);
	vhd_put_be16(b + 56, f->geom.cylinders);
	b[58] = f->geom.heads;
	b[59] = f->geom.sectors;
	vhd_put_be32(b + 60, f->type);
	memcpy(b + 68, f->uuid, 16);
	b[84] = f->saved_state;
	f->checksum = vhd_checksum(b, VHD_FOOTER_SIZE, 64);
	vhd_put_be32(b + 64, f->checksum);
}

bool vhd_sized_by_chs(const struct vhd_footer *f)
{
	if (vhd_geom_sectors(f->geom) == VHD_MAX_CHS_SECTORS || vhd_geom_sectors(f->geom) == 0)
		return false;
	return !memcmp(f->creator_app, "vpc ", 4) || !memcmp(f->creator_app, "qemu", 4);
}

uint64_t vhd_virtual_size(const struct vhd_footer *f)
{
	if (vhd_sized_by_chs(f))
		return vhd_geom_sectors(f->geom) * VHD_SECTOR;
	return f->current_size / VHD_SECTOR * VHD_SECTOR;
}

uint32_t vhd_bitmap_size(uint32_t block_size)
{
	uint32_t bytes = block_size / VHD_SECTOR / 8;

	if (bytes == 0)
		bytes = 1;
	return (bytes + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;
}

int vhd_dyn_header_parse(const uint8_t b[VHD_DYN_HEADER_SIZE], const struct vhd_footer *f,
			 uint64_t file_size, struct vhd_dyn_header *h, struct err *e)
{
	uint64_t vsize = vhd_virtual_size(f), need, bat_end;
	uint32_t sum;

	if (memcmp(b, "cxsparse", 8))
		return errf(e, -EINVAL, "bad dynamic header cookie (not 'cxsparse')");
	h->data_offset = vhd_be64(b + 8);
	h->table_offset = vhd_be64(b + 16);
	h->version = vhd_be32(b + 24);
	h->max_table_entries = vhd_be32(b + 28);
	h->block_size = vhd_be32(b + 32);
	h->checksum = vhd_be32(b + 36);
	memcpy(h->parent_uuid, b + 40, 16);
	h->parent_timestamp = vhd_be32(b + 56);
	for (int i = 0; i < 256; i++)
		h->parent_name[i] = vhd_be16(b + 64 + 2 * i);
	for (int i = 0; i < VHD_MAX_LOCATORS; i++) {
		const uint8_t *l = b + 576 + 24 * i;

		h->loc[i].code = vhd_be32(l);
		h->loc[i].space = vhd_be32(l + 4);
		h->loc[i].length = vhd_be32(l + 8);
		h->loc[i].offset = vhd_be64(l + 16);
	}
	sum = vhd_checksum(b, VHD_DYN_HEADER_SIZE, 36);
	if (sum != h->checksum)
		return errf(e, -EBADMSG, "dynamic header checksum mismatch (stored 0x%08" PRIx32
			    ", computed 0x%08" PRIx32 ")", h->checksum, sum);
	if (h->version >> 16 != 1)
		return errf(e, -EINVAL, "unsupported dynamic header version 0x%08" PRIx32, h->version);
	if (h->block_size < VHD_SECTOR || h->block_size > (256u << 20) ||
	    (h->block_size & (h->block_size - 1)))
		return errf(e, -EINVAL, "bad block size %" PRIu32, h->block_size);
	need = (vsize + h->block_size - 1) / h->block_size;
	if (h->max_table_entries < need)
		return errf(e, -EINVAL, "BAT has %" PRIu32 " entries, %" PRIu64 " needed for %" PRIu64
			    " bytes", h->max_table_entries, need, vsize);
	if (h->max_table_entries > VHD_MAX_SIZE / h->block_size + 1)
		return errf(e, -EINVAL, "absurd BAT size of %" PRIu32 " entries", h->max_table_entries);
	if (h->max_table_entries > VHD_MAX_BAT_ENTRIES)
		return errf(e, -EFBIG, "BAT of %" PRIu32 " entries is over thinvisor's limit of %u "
			    "(blocks of %" PRIu32 " bytes are too small for this disk)",
			    h->max_table_entries, VHD_MAX_BAT_ENTRIES, h->block_size);
	bat_end = h->table_offset + (uint64_t)h->max_table_entries * 4;
	if (h->table_offset > file_size || bat_end > file_size)
		return errf(e, -EINVAL, "BAT at %" PRIu64 " (%" PRIu32 " entries) extends past end of file"
			    " (%" PRIu64 " bytes)", h->table_offset, h->max_table_entries, file_size);
	if (h->table_offset < f->data_offset + VHD_DYN_HEADER_SIZE && bat_end > f->data_offset)
		return errf(e, -EINVAL, "BAT at %" PRIu64 " overlaps the dynamic header", h->table_offset);
	return 0;
}

void vhd_dyn_header_build(struct vhd_dyn_header *h, uint8_t b[VHD_DYN_HEADER_SIZE])
{
	memset(b, 0, VHD_DYN_HEADER_SIZE);
	memcpy(b, "cxsparse", 8);
	vhd_put_be64(b + 8, h->data_offset);
	vhd_put_be64(b + 16, h->table_offset);
	vhd_put_be32(b + 24, h->version);
	vhd_put_be32(b + 28, h->max_table_entries);
	vhd_put_be32(b + 32, h->block_size);
	memcpy(b + 40, h->parent_uuid, 16);
	vhd_put_be32(b + 56, h->parent_timestamp);
	for (int i = 0; i < 256; i++)
		vhd_put_be16(b + 64 + 2 * i, h->parent_name[i]);
	for (int i = 0; i < VHD_MAX_LOCATORS; i++) {
		uint8_t *l = b + 576 + 24 * i;

		vhd_put_be32(l, h->loc[i].code);
		vhd_put_be32(l + 4, h->loc[i].space);
		vhd_put_be32(l + 8, h->loc[i].length);
		vhd_put_be64(l + 16, h->loc[i].offset);
	}
	h->checksum = vhd_checksum(b, VHD_DYN_HEADER_SIZE, 36);
	vhd_put_be32(b + 36, h->checksum);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int vhd_bat_parse(const uint8_t *raw, uint32_t n, uint32_t block_size, uint64_t meta_end,
		  uint64_t file_size, uint32_t *bat, struct err *e)
{
	uint64_t span = vhd_bitmap_size(block_size) + (uint64_t)block_size;
	uint64_t *sorted; /* sector << 32 | entry index */
	uint32_t used = 0;
	int ret = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t off;

		bat[i] = vhd_be32(raw + 4 * (size_t)i);
		if (bat[i] == VHD_BAT_UNUSED)
			continue;
		off = (uint64_t)bat[i] * VHD_SECTOR;
		if (off < meta_end)
			return errf(e, -EINVAL, "BAT entry %" PRIu32 " points into metadata (offset %"
				    PRIu64 ")", i, off);
		if (off + span > file_size)
			return errf(e, -EINVAL, "BAT entry %" PRIu32 " points outside the file (block at %"
				    PRIu64 ", file is %" PRIu64 " bytes)", i, off, file_size);
		used++;
	}
	if (used < 2)
		return 0;
	sorted = malloc(sizeof(*sorted) * used);
	if (!sorted)
		return errf(e, -ENOMEM, "out of memory checking the BAT");
	used = 0;
	for (uint32_t i = 0; i < n; i++)
		if (bat[i] != VHD_BAT_UNUSED)
			sorted[used++] = (uint64_t)bat[i] << 32 | i;
	qsort(sorted, used, sizeof(*sorted), cmp_u64);
	for (uint32_t i = 1; i < used; i++) {
		uint32_t s0 = (uint32_t)(sorted[i - 1] >> 32), s1 = (uint32_t)(sorted[i] >> 32);
		uint32_t i0 = (uint32_t)sorted[i - 1], i1 = (uint32_t)sorted[i];

		if ((uint64_t)(s1 - s0) * VHD_SECTOR < span) {
			ret = errf(e, -EINVAL, "BAT entry %" PRIu32 " overlaps the block of entry %" PRIu32
				   " (sector %" PRIu32 ")", i0 > i1 ? i0 : i1, i0 > i1 ? i1 : i0,
				   i0 > i1 ? s0 : s1);
			break;
		}
	}
	free(sorted);
	return ret;
}

bool vhd_bitmap_test(const uint8_t *bm, uint32_t i) { return bm[i / 8] & (0x80 >> (i % 8)); }
void vhd_bitmap_set(uint8_t *bm, uint32_t i) { bm[i / 8] |= (uint8_t)(0x80 >> (i % 8)); }

uint32_t vhd_bitmap_run(const uint8_t *bm, uint32_t i, uint32_t n)
{
	bool v = vhd_bitmap_test(bm, i);
	uint32_t k = 1;

	while (k < n) {
		uint32_t s = i + k;

		if (s % 8 == 0 && n - k >= 8 && bm[s / 8] == (v ? 0xFF : 0)) {
			k += 8;
			continue;
		}
		if (vhd_bitmap_test(bm, s) != v)
			break;
		k++;
	}
	return k;
}

void vhd_creator_str(const char app[4], char out[8])
{
	int n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)app[i];

		if (c == 0)
			break;
		out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[n] = 0;
}
