/* vhdx_format.c: VHDX GUIDs, CRC-32C, file identifier, headers, region tables, metadata, BAT. */
#include "block/vhdx_format.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"

#define G(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)                                              \
	{{(a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff, (b) & 0xff,     \
	  ((b) >> 8) & 0xff, (c) & 0xff, ((c) >> 8) & 0xff, d0, d1, d2, d3, d4, d5, d6, d7}}
const vhdx_guid vhdx_guid_bat = G(0x2DC27766, 0xF623, 0x4200, 0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD,
				  0x4A, 0x08);
const vhdx_guid vhdx_guid_metadata = G(0x8B7CA206, 0x4790, 0x4B9A, 0xB8, 0xFE, 0x57, 0x5F, 0x05,
				       0x0F, 0x88, 0x6E);
const vhdx_guid vhdx_guid_file_params = G(0xCAA16737, 0xFA36, 0x4D43, 0xB3, 0xB6, 0x33, 0xF0,
					  0xAA, 0x44, 0xE7, 0x6B);
const vhdx_guid vhdx_guid_disk_size = G(0x2FA54224, 0xCD1B, 0x4876, 0xB2, 0x11, 0x5D, 0xBE, 0xD8,
					0x3B, 0xF4, 0xB8);
const vhdx_guid vhdx_guid_page83 = G(0xBECA12AB, 0xB2E6, 0x4523, 0x93, 0xEF, 0xC3, 0x09, 0xE0,
				     0x00, 0xC7, 0x46);
const vhdx_guid vhdx_guid_lsec = G(0x8141BF1D, 0xA96F, 0x4709, 0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA,
				   0xAB, 0x5F);
const vhdx_guid vhdx_guid_psec = G(0xCDA348C7, 0x445D, 0x4471, 0x9C, 0xC9, 0xE9, 0x88, 0x52, 0x51,
				   0xC5, 0x56);
const vhdx_guid vhdx_guid_parent_locator = G(0xA8D35F2D, 0xB30B, 0x454D, 0xAB, 0xF7, 0xD3, 0xD8,
					     0x48, 0x34, 0xAB, 0x0C);
const vhdx_guid vhdx_guid_locator_type = G(0xB04AEFB7, 0xD19E, 0x4A81, 0xB7, 0x89, 0x25, 0xB8,
					   0xE9, 0x44, 0x59, 0x13);

bool vhdx_guid_is_zero(const vhdx_guid *g)
{
	static const vhdx_guid z;

	return !memcmp(g, &z, sizeof(z));
}

bool vhdx_guid_eq(const vhdx_guid *a, const vhdx_guid *b) { return !memcmp(a, b, sizeof(*a)); }

void vhdx_guid_str(const vhdx_guid *g, char out[40])
{
	const uint8_t *b = g->b;

	snprintf(out, 40, "%08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 (uint32_t)le_get(b, 4), (unsigned)le_get(b + 4, 2), (unsigned)le_get(b + 6, 2),
		 b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vhdx_guid_parse(const char *s, vhdx_guid *out)
{
	uint8_t v[16];
	int n = 0;
	size_t len = strlen(s);

	if (len == 38 && s[0] == '{' && s[37] == '}') {
		s++;
		len = 36;
	}
	if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return -EINVAL;
	for (size_t i = 0; i < 36; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23)
			continue;
		hi = hexval(s[i]);
		lo = hexval(s[++i]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		v[n++] = (uint8_t)(hi << 4 | lo);
	}
	/* Text is big-endian for Data1..3; the disk order is little-endian. */
	*out = (vhdx_guid){{v[3], v[2], v[1], v[0], v[5], v[4], v[7], v[6], v[8], v[9], v[10],
			    v[11], v[12], v[13], v[14], v[15]}};
	return 0;
}

static uint32_t crc_table[8][256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
					  crc_table[0][crc_table[t - 1][i] & 0xff];
}

/* The raw CRC register update (no initial or final inversion), slicing by 8. Pure arithmetic:
 * the fuzzers gain nothing from coverage feedback inside it, and it dominated their time. */
#if defined(__clang__)
__attribute__((no_sanitize("coverage")))
#endif
static uint32_t crc_upd(uint32_t crc, const uint8_t *p, size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, crc_init);
	while (n >= 8) {
		uint32_t lo = crc ^ (uint32_t)le_get(p, 4), hi = (uint32_t)le_get(p + 4, 4);

		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

uint32_t vhdx_crc32c(const void *p, size_t n) { return ~crc_upd(0xFFFFFFFFu, p, n); }

uint32_t vhdx_checksum(const uint8_t *p, size_t n, size_t csum_off)
{
	static const uint8_t zero[4];
	uint32_t crc = crc_upd(0xFFFFFFFFu, p, csum_off);

	crc = crc_upd(crc, zero, 4);
	return ~crc_upd(crc, p + csum_off + 4, n - csum_off - 4);
}

bool vhdx_is_file_id(const uint8_t *p, size_t n) { return n >= 8 && !memcmp(p, "vhdxfile", 8); }

void vhdx_creator_decode(const uint8_t *id, size_t n, char *out, size_t size)
{
	size_t k = 0;

	for (size_t i = 8; i + 1 < n && i < 8 + 2 * VHDX_CREATOR_CHARS && k + 1 < size; i += 2) {
		unsigned c = (unsigned)le_get(id + i, 2);

		if (!c)
			break;
		out[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[k] = 0;
}

int vhdx_header_parse(const uint8_t *b, uint64_t file_size, struct vhdx_header *h,
		      struct err *e)
{
	uint32_t want = (uint32_t)le_get(b + 4, 4), got;

	if (memcmp(b, "head", 4))
		return errf(e, -EINVAL, "no header signature");
	got = vhdx_checksum(b, VHDX_HEADER_SIZE, 4);
	if (want != got)
		return errf(e, -EINVAL, "header checksum 0x%08" PRIx32 " should be 0x%08" PRIx32, want,
			    got);
	h->seq = le_get(b + 8, 8);
	memcpy(&h->file_write, b + 16, 16);
	memcpy(&h->data_write, b + 32, 16);
	memcpy(&h->log_guid, b + 48, 16);
	h->log_version = (uint16_t)le_get(b + 64, 2);
	h->version = (uint16_t)le_get(b + 66, 2);
	h->log_length = (uint32_t)le_get(b + 68, 4);
	h->log_offset = le_get(b + 72, 8);
	if (h->version != 1)
		return errf(e, -EINVAL, "header version %u (only 1 is defined)", h->version);
	if (h->log_version != 0)
		return errf(e, -EINVAL, "log version %u (only 0 is defined)", h->log_version);
	if (h->log_offset % VHDX_MiB || h->log_length % VHDX_MiB || !h->log_length ||
	    h->log_offset < VHDX_MiB)
		return errf(e, -EINVAL, "log at %" PRIu64 " (%" PRIu32 " bytes) is not 1 MiB aligned "
			    "after the header area", h->log_offset, h->log_length);
	if (file_size && (h->log_offset > file_size || h->log_length > file_size - h->log_offset))
		return errf(e, -EINVAL, "log at %" PRIu64 " (%" PRIu32 " bytes) lies outside the "
			    "file (%" PRIu64 " bytes)", h->log_offset, h->log_length, file_size);
	return 0;
}

void vhdx_header_build(const struct vhdx_header *h, uint8_t *b)
{
	memset(b, 0, VHDX_HEADER_SIZE);
	memcpy(b, "head", 4);
	le_put(b + 8, h->seq, 8);
	memcpy(b + 16, &h->file_write, 16);
	memcpy(b + 32, &h->data_write, 16);
	memcpy(b + 48, &h->log_guid, 16);
	le_put(b + 64, h->log_version, 2);
	le_put(b + 66, h->version, 2);
	le_put(b + 68, h->log_length, 4);
	le_put(b + 72, h->log_offset, 8);
	le_put(b + 4, vhdx_crc32c(b, VHDX_HEADER_SIZE), 4);
}

int vhdx_header_pick(bool ok0, const struct vhdx_header *h0, bool ok1,
		     const struct vhdx_header *h1)
{
	if (ok0 && ok1) {
		if (h0->seq > h1->seq)
			return 0;
		if (h1->seq > h0->seq)
			return 1;
		/* Equal numbers: only identical headers (Disk2VHD writes them) are usable. */
		return memcmp(h0, h1, sizeof(*h0)) ? -EINVAL : 0;
	}
	return ok0 ? 0 : ok1 ? 1 : -EINVAL;
}

static bool overlaps(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

int vhdx_region_parse(const uint8_t *b, uint64_t file_size, uint64_t log_off, uint64_t log_len,
		      struct vhdx_regions *r, struct err *e)
{
	uint32_t want = (uint32_t)le_get(b + 4, 4), got, n = (uint32_t)le_get(b + 8, 4);
	bool have_bat = false, have_meta = false;
	char gs[40];

	if (memcmp(b, "regi", 4))
		return errf(e, -EINVAL, "no region table signature");
	got = vhdx_checksum(b, VHDX_RT_SIZE, 4);
	if (want != got)
		return errf(e, -EINVAL, "region table checksum 0x%08" PRIx32 " should be 0x%08" PRIx32,
			    want, got);
	if (n > 2047)
		return errf(e, -EINVAL, "region table has %" PRIu32 " entries (at most 2047)", n);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = b + 16 + 32 * i;
		vhdx_guid g;
		uint64_t off = le_get(p + 16, 8);
		uint32_t len = (uint32_t)le_get(p + 24, 4), req = (uint32_t)le_get(p + 28, 4) & 1;

		memcpy(&g, p, 16);
		vhdx_guid_str(&g, gs);
		if (off % VHDX_MiB || len % VHDX_MiB || !len || off < VHDX_MiB)
			return errf(e, -EINVAL, "region %s at %" PRIu64 " (%" PRIu32 " bytes) is not "
				    "1 MiB aligned after the header area", gs, off, len);
		if (off > file_size || len > file_size - off)
			return errf(e, -EINVAL, "region %s at %" PRIu64 " (%" PRIu32 " bytes) lies "
				    "outside the file (%" PRIu64 " bytes)", gs, off, len, file_size);
		if (overlaps(off, len, log_off, log_len))
			return errf(e, -EINVAL, "region %s at %" PRIu64 " overlaps the log", gs, off);
		for (uint32_t j = 0; j < i; j++) {
			const uint8_t *q = b + 16 + 32 * j;

			if (overlaps(off, len, le_get(q + 16, 8), (uint32_t)le_get(q + 24, 4)))
				return errf(e, -EINVAL, "regions %" PRIu32 " and %" PRIu32 " overlap", j, i);
		}
		if (vhdx_guid_eq(&g, &vhdx_guid_bat) || vhdx_guid_eq(&g, &vhdx_guid_metadata)) {
			bool bat = vhdx_guid_eq(&g, &vhdx_guid_bat);

			if (bat ? have_bat : have_meta)
				return errf(e, -EINVAL, "the %s region appears twice",
					    bat ? "BAT" : "metadata");
			if (bat) {
				r->bat_off = off, r->bat_len = len, have_bat = true;
			} else {
				r->meta_off = off, r->meta_len = len, have_meta = true;
			}
		} else if (req) {
			return errf(e, -EOPNOTSUPP, "unknown required region %s", gs);
		}
	}
	if (!have_bat || !have_meta)
		return errf(e, -EINVAL, "the region table has no %s region", have_bat ? "metadata" :
			    "BAT");
	return 0;
}

void vhdx_region_build(const struct vhdx_regions *r, uint8_t *b)
{
	memset(b, 0, VHDX_RT_SIZE);
	memcpy(b, "regi", 4);
	le_put(b + 8, 2, 4);
	memcpy(b + 16, &vhdx_guid_bat, 16);
	le_put(b + 32, r->bat_off, 8);
	le_put(b + 40, r->bat_len, 4);
	le_put(b + 44, 1, 4);
	memcpy(b + 48, &vhdx_guid_metadata, 16);
	le_put(b + 64, r->meta_off, 8);
	le_put(b + 72, r->meta_len, 4);
	le_put(b + 76, 1, 4);
	le_put(b + 4, vhdx_crc32c(b, VHDX_RT_SIZE), 4);
}
