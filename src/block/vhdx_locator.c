/* vhdx_locator.c: UTF-16LE text and the VHDX parent locator item (key/value pairs). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "block/vhdx_format.h"
#include "util/bytes.h"

#define LOC_HDR 20u
#define LOC_ENTRY 12u

int vhdx_utf16_to_utf8(const uint8_t *in, size_t in_bytes, char *out, size_t size)
{
	size_t k = 0;

	if (in_bytes % 2 || !size)
		return -EINVAL;
	for (size_t i = 0; i + 1 < in_bytes; i += 2) {
		uint32_t c = (uint32_t)le_get(in + i, 2);
		char tmp[4];
		int n;

		if (c >= 0xD800 && c < 0xDC00) {
			uint32_t lo = i + 3 < in_bytes ? (uint32_t)le_get(in + i + 2, 2) : 0;

			if (lo < 0xDC00 || lo >= 0xE000)
				return -EINVAL;
			c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
			i += 2;
		} else if (c >= 0xDC00 && c < 0xE000) {
			return -EINVAL;
		}
		if (c == 0)
			return -EINVAL; /* a NUL inside a path would cut it short */
		if (c < 0x80) {
			tmp[0] = (char)c, n = 1;
		} else if (c < 0x800) {
			tmp[0] = (char)(0xC0 | c >> 6), tmp[1] = (char)(0x80 | (c & 0x3F)), n = 2;
		} else if (c < 0x10000) {
			tmp[0] = (char)(0xE0 | c >> 12), tmp[1] = (char)(0x80 | ((c >> 6) & 0x3F));
			tmp[2] = (char)(0x80 | (c & 0x3F)), n = 3;
		} else {
			tmp[0] = (char)(0xF0 | c >> 18), tmp[1] = (char)(0x80 | ((c >> 12) & 0x3F));
			tmp[2] = (char)(0x80 | ((c >> 6) & 0x3F)), tmp[3] = (char)(0x80 | (c & 0x3F));
			n = 4;
		}
		if (k + (size_t)n >= size)
			return -EINVAL;
		memcpy(out + k, tmp, (size_t)n);
		k += (size_t)n;
	}
	out[k] = 0;
	return (int)k;
}

int vhdx_utf8_to_utf16(const char *s, uint8_t *out, size_t size)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t k = 0;

	while (*p) {
		uint32_t c;
		int extra;

		if (*p < 0x80)
			c = *p, extra = 0;
		else if ((*p & 0xE0) == 0xC0)
			c = *p & 0x1F, extra = 1;
		else if ((*p & 0xF0) == 0xE0)
			c = *p & 0x0F, extra = 2;
		else if ((*p & 0xF8) == 0xF0)
			c = *p & 0x07, extra = 3;
		else
			return -EINVAL;
		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xC0) != 0x80)
				return -EINVAL;
			c = c << 6 | (*p & 0x3F);
		}
		if (c >= 0x10000) {
			if (k + 4 > size)
				return -EINVAL;
			c -= 0x10000;
			le_put(out + k, 0xD800 + (c >> 10), 2);
			le_put(out + k + 2, 0xDC00 + (c & 0x3FF), 2);
			k += 4;
		} else {
			if (k + 2 > size)
				return -EINVAL;
			le_put(out + k, c, 2);
			k += 2;
		}
	}
	return (int)k;
}

int vhdx_locator_parse(const uint8_t *p, uint32_t len, struct vhdx_locator *l, struct err *e)
{
	vhdx_guid type;
	uint32_t n;

	l->n = 0;
	if (len < LOC_HDR)
		return errf(e, -EINVAL, "parent locator too short (%" PRIu32 " bytes)", len);
	memcpy(&type, p, 16);
	if (!vhdx_guid_eq(&type, &vhdx_guid_locator_type)) {
		char gs[40];

		vhdx_guid_str(&type, gs);
		return errf(e, -EOPNOTSUPP, "unknown parent locator type %s", gs);
	}
	n = (uint32_t)le_get(p + 18, 2);
	if (n > VHDX_LOC_MAX || LOC_HDR + (uint64_t)n * LOC_ENTRY > len)
		return errf(e, -EINVAL, "parent locator has %" PRIu32 " entries that do not fit", n);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *q = p + LOC_HDR + LOC_ENTRY * i;
		uint32_t ko = (uint32_t)le_get(q, 4), vo = (uint32_t)le_get(q + 4, 4);
		uint32_t kl = (uint32_t)le_get(q + 8, 2), vl = (uint32_t)le_get(q + 10, 2);

		if (ko > len || kl > len - ko || vo > len || vl > len - vo || !kl || !vl)
			return errf(e, -EINVAL, "parent locator entry %" PRIu32 " lies outside the item",
				    i);
		if (vhdx_utf16_to_utf8(p + ko, kl, l->key[i], sizeof(l->key[i])) < 0 ||
		    vhdx_utf16_to_utf8(p + vo, vl, l->val[i], sizeof(l->val[i])) < 0)
			return errf(e, -EINVAL, "parent locator entry %" PRIu32 " is not valid UTF-16 "
				    "(or too long)", i);
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(l->key[j], l->key[i]))
				return errf(e, -EINVAL, "parent locator key %s appears twice", l->key[i]);
		l->n++;
	}
	return 0;
}

const char *vhdx_locator_get(const struct vhdx_locator *l, const char *key)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->key[i], key))
			return l->val[i];
	return NULL;
}

int vhdx_locator_build(const struct vhdx_locator *l, uint8_t *p, size_t size)
{
	size_t pos = LOC_HDR + LOC_ENTRY * (size_t)l->n;

	if (pos > size)
		return -ENOSPC;
	memset(p, 0, pos);
	memcpy(p, &vhdx_guid_locator_type, 16);
	le_put(p + 18, (uint64_t)l->n, 2);
	for (int i = 0; i < l->n; i++) {
		uint8_t *q = p + LOC_HDR + LOC_ENTRY * (size_t)i;
		int kl = vhdx_utf8_to_utf16(l->key[i], p + pos, size - pos), vl;

		if (kl <= 0)
			return -ENOSPC;
		le_put(q, pos, 4);
		le_put(q + 8, (uint64_t)kl, 2);
		pos += (size_t)kl;
		vl = vhdx_utf8_to_utf16(l->val[i], p + pos, size - pos);
		if (vl <= 0)
			return -ENOSPC;
		le_put(q + 4, pos, 4);
		le_put(q + 10, (uint64_t)vl, 2);
		pos += (size_t)vl;
	}
	return (int)pos;
}
