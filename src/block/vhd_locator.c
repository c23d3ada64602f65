/* vhd_locator.c: parent locator and parent name text codecs (UTF-16 either order, UTF-8 URL). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "block/vhd_format.h"

/* Append code point cp as UTF-8 to out at *n; false when it does not fit. */
static bool put_utf8(char *out, size_t size, size_t *n, uint32_t cp)
{
	uint8_t tmp[4];
	size_t k;

	if (cp < 0x80) {
		tmp[0] = (uint8_t)cp;
		k = 1;
	} else if (cp < 0x800) {
		tmp[0] = 0xC0 | (cp >> 6);
		tmp[1] = 0x80 | (cp & 0x3F);
		k = 2;
	} else if (cp < 0x10000) {
		tmp[0] = 0xE0 | (cp >> 12);
		tmp[1] = 0x80 | ((cp >> 6) & 0x3F);
		tmp[2] = 0x80 | (cp & 0x3F);
		k = 3;
	} else {
		tmp[0] = 0xF0 | (cp >> 18);
		tmp[1] = 0x80 | ((cp >> 12) & 0x3F);
		tmp[2] = 0x80 | ((cp >> 6) & 0x3F);
		tmp[3] = 0x80 | (cp & 0x3F);
		k = 4;
	}
	if (*n + k >= size)
		return false;
	memcpy(out + *n, tmp, k);
	*n += k;
	return true;
}

/* Next code point of NUL-terminated UTF-8 s at *i, or -1 when invalid. */
static int32_t get_utf8(const char *s, size_t *i)
{
	const uint8_t *p = (const uint8_t *)s + *i;
	uint32_t cp;
	int k;

	if (p[0] < 0x80) {
		(*i)++;
		return p[0];
	}
	if ((p[0] & 0xE0) == 0xC0) {
		cp = p[0] & 0x1F;
		k = 1;
	} else if ((p[0] & 0xF0) == 0xE0) {
		cp = p[0] & 0x0F;
		k = 2;
	} else if ((p[0] & 0xF8) == 0xF0) {
		cp = p[0] & 0x07;
		k = 3;
	} else {
		return -1;
	}
	for (int j = 1; j <= k; j++) {
		if ((p[j] & 0xC0) != 0x80)
			return -1;
		cp = cp << 6 | (p[j] & 0x3F);
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
		return -1;
	*i += (size_t)k + 1;
	return (int32_t)cp;
}

static int utf16_decode(const uint8_t *d, size_t len, char *out, size_t size, struct err *e)
{
	bool le = true;
	size_t n = 0, zeven = 0, zodd = 0;

	if (len % 2)
		return errf(e, -EINVAL, "parent locator has an odd UTF-16 length (%zu bytes)", len);
	if (len >= 2 && d[0] == 0xFF && d[1] == 0xFE) {
		d += 2;
		len -= 2;
	} else if (len >= 2 && d[0] == 0xFE && d[1] == 0xFF) {
		le = false;
		d += 2;
		len -= 2;
	} else {
		for (size_t i = 0; i + 1 < len; i += 2) {
			zeven += d[i] == 0 && d[i + 1] != 0;
			zodd += d[i + 1] == 0 && d[i] != 0;
		}
		le = zeven <= zodd;
	}
	for (size_t i = 0; i + 1 < len; i += 2) {
		uint32_t u = le ? (uint32_t)(d[i] | d[i + 1] << 8) : (uint32_t)(d[i] << 8 | d[i + 1]);

		if (u == 0)
			break;
		if (u >= 0xD800 && u < 0xDC00) {
			uint32_t lo;

			i += 2;
			if (i + 1 >= len)
				return errf(e, -EINVAL, "parent locator has invalid UTF-16");
			lo = le ? (uint32_t)(d[i] | d[i + 1] << 8) : (uint32_t)(d[i] << 8 | d[i + 1]);
			if (lo < 0xDC00 || lo >= 0xE000)
				return errf(e, -EINVAL, "parent locator has invalid UTF-16");
			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
		} else if (u >= 0xDC00 && u < 0xE000) {
			return errf(e, -EINVAL, "parent locator has invalid UTF-16");
		}
		if (u == '\\')
			u = '/';
		if (!put_utf8(out, size, &n, u))
			return errf(e, -ENAMETOOLONG, "parent locator path is too long");
	}
	out[n] = 0;
	return 0;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

static int macx_decode(const uint8_t *d, size_t len, char *out, size_t size, struct err *e)
{
	size_t n = 0, i = 0;

	if (len >= 7 && !memcmp(d, "file://", 7))
		i = 7;
	if (len - i >= 9 && !memcmp(d + i, "localhost", 9))
		i += 9;
	for (; i < len && d[i]; i++) {
		uint8_t c = d[i];

		if (c == '%') {
			int hi = i + 2 < len ? hexval(d[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(d[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return errf(e, -EINVAL, "parent locator has a bad %%-escape");
			c = (uint8_t)(hi << 4 | lo);
			i += 2;
			if (c == 0)
				return errf(e, -EINVAL, "parent locator has a bad %%-escape");
		}
		if (n + 1 >= size)
			return errf(e, -ENAMETOOLONG, "parent locator path is too long");
		out[n++] = (char)c;
	}
	out[n] = 0;
	return 0;
}

int vhd_locator_decode(uint32_t code, const uint8_t *d, size_t len, char *out, size_t size,
		       struct err *e)
{
	int ret;

	if (size == 0)
		return errf(e, -EINVAL, "no room for the path");
	out[0] = 0;
	switch (code) {
	case VHD_PLAT_W2RU:
	case VHD_PLAT_W2KU:
		ret = utf16_decode(d, len, out, size, e);
		break;
	case VHD_PLAT_MACX:
		ret = macx_decode(d, len, out, size, e);
		break;
	case VHD_PLAT_WI2R:
	case VHD_PLAT_WI2K: {
		size_t n = 0;

		ret = 0;
		for (size_t i = 0; i < len && d[i]; i++)
			if (!put_utf8(out, size, &n, d[i] == '\\' ? '/' : d[i]))
				return errf(e, -ENAMETOOLONG, "parent locator path is too long");
		out[n] = 0;
		break;
	}
	default:
		return errf(e, -EINVAL, "unknown parent locator platform code 0x%08" PRIx32, code);
	}
	if (ret == 0 && out[0] == 0)
		return errf(e, -EINVAL, "parent locator is empty");
	return ret;
}

int vhd_utf16le_encode(const char *path, uint8_t *out, size_t size)
{
	size_t i = 0, n = 0;

	while (path[i]) {
		int32_t cp = get_utf8(path, &i);
		uint32_t u;

		if (cp < 0)
			return -EINVAL;
		if (cp == '/')
			cp = '\\';
		u = (uint32_t)cp;
		if (u >= 0x10000) {
			if (n + 4 > size)
				return -ENAMETOOLONG;
			u -= 0x10000;
			out[n++] = (uint8_t)(0xD800 + (u >> 10));
			out[n++] = (uint8_t)((0xD800 + (u >> 10)) >> 8);
			out[n++] = (uint8_t)(0xDC00 + (u & 0x3FF));
			out[n++] = (uint8_t)((0xDC00 + (u & 0x3FF)) >> 8);
			continue;
		}
		if (n + 2 > size)
			return -ENAMETOOLONG;
		out[n++] = (uint8_t)u;
		out[n++] = (uint8_t)(u >> 8);
	}
	return (int)n;
}

void vhd_parent_name_encode(const char *name, uint16_t out[256])
{
	size_t i = 0, n = 0;

	memset(out, 0, 512);
	while (name[i] && n < 255) {
		int32_t cp = get_utf8(name, &i);

		if (cp < 0)
			break;
		if (cp >= 0x10000) {
			if (n + 2 > 255)
				break;
			out[n++] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
			out[n++] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
		} else {
			out[n++] = (uint16_t)cp;
		}
	}
}

void vhd_parent_name_decode(const uint16_t name[256], char *out, size_t size)
{
	size_t n = 0;

	for (int i = 0; i < 256 && name[i]; i++) {
		uint32_t u = name[i];

		if (u >= 0xD800 && u < 0xDC00 && i + 1 < 256 && name[i + 1] >= 0xDC00 &&
		    name[i + 1] < 0xE000) {
			u = 0x10000 + ((u - 0xD800) << 10) + (name[i + 1] - 0xDC00u);
			i++;
		} else if (u >= 0xD800 && u < 0xE000) {
			u = 0xFFFD;
		}
		if (!put_utf8(out, size, &n, u))
			break;
	}
	if (size)
		out[n < size ? n : size - 1] = 0;
}
