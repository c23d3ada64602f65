#include "x86/aml.h"

#include <errno.h>
#include <string.h>

/* Bytes a block reserves for its PkgLength, and a Buffer for its BufferSize integer. */
#define PKGLEN_SLOT 4
#define BUFSIZE_SLOT 9
#define PKGLEN_MAX 0x0fffffffu

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	a->buf = buf;
	a->cap = cap;
	a->len = 0;
	a->err = 0;
}

int aml_error(const struct aml *a) { return a->err; }

static void fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

int aml_pkglen_encode(uint8_t out[4], uint32_t pkglen)
{
	int n, i;

	if (pkglen <= 0x3f) {
		out[0] = (uint8_t)pkglen;
		return 1;
	}
	if (pkglen > PKGLEN_MAX)
		return -EINVAL;
	n = pkglen <= 0xfff ? 2 : pkglen <= 0xfffff ? 3 : 4;
	out[0] = (uint8_t)(((n - 1) << 6) | (pkglen & 0x0f));
	for (i = 1; i < n; i++)
		out[i] = (uint8_t)(pkglen >> (4 + 8 * (i - 1)));
	return n;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b) { aml_bytes(a, &b, 1); }

/* Append v little-endian in n bytes. */
static void le(struct aml *a, uint64_t v, int n)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, (size_t)n);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0)
		aml_byte(a, AML_ZERO_OP);
	else if (v == 1)
		aml_byte(a, AML_ONE_OP);
	else if (v == UINT64_MAX)
		aml_byte(a, AML_ONES_OP);
	else if (v <= 0xff)
		aml_byte(a, AML_BYTE_PREFIX), le(a, v, 1);
	else if (v <= 0xffff)
		aml_byte(a, AML_WORD_PREFIX), le(a, v, 2);
	else if (v <= 0xffffffff)
		aml_byte(a, AML_DWORD_PREFIX), le(a, v, 4);
	else
		aml_byte(a, AML_QWORD_PREFIX), le(a, v, 8);
}

static int lead_char(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }

/* Parse one NameSeg at *p into seg (padded with '_'); advance *p. */
static int name_seg(const char **p, uint8_t seg[4])
{
	const char *s = *p;
	int n = 0;

	if (!lead_char(*s))
		return -EINVAL;
	memset(seg, '_', 4);
	while (lead_char(*s) || (*s >= '0' && *s <= '9')) {
		if (n == 4)
			return -EINVAL;
		seg[n++] = (uint8_t)*s++;
	}
	*p = s;
	return 0;
}

void aml_namestring(struct aml *a, const char *name)
{
	uint8_t segs[255][4];
	const char *p = name;
	size_t prefix = 0, nseg = 0;

	while (*p == '^')
		p++, prefix++;
	if (!prefix && *p == '\\')
		p++, prefix = 1;
	while (*p) {
		if (nseg == 255 || name_seg(&p, segs[nseg]) < 0 || (*p && *p != '.') ||
		    (*p == '.' && !p[1])) {
			fail(a, -EINVAL);
			return;
		}
		nseg++;
		if (*p == '.')
			p++;
	}
	if (!nseg && !(prefix == 1 && name[0] == '\\')) {
		fail(a, -EINVAL);
		return;
	}
	aml_bytes(a, name, prefix);
	if (nseg == 0)
		aml_byte(a, 0x00); /* NullName */
	else if (nseg == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (nseg > 2)
		aml_byte(a, AML_MULTI_NAME_PREFIX), aml_byte(a, (uint8_t)nseg);
	aml_bytes(a, segs, nseg * 4);
}

void aml_string(struct aml *a, const char *s)
{
	const char *c;

	for (c = s; *c; c++)
		if ((unsigned char)*c > 0x7f) {
			fail(a, -EINVAL);
			return;
		}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;
	int i;

	if (strlen(id) != 7) {
		fail(a, -EINVAL);
		return;
	}
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			fail(a, -EINVAL);
			return;
		}
		v = (v << 5) | (uint32_t)(id[i] - 0x40);
	}
	for (i = 3; i < 7; i++) {
		if (hexval(id[i]) < 0) {
			fail(a, -EINVAL);
			return;
		}
		v = (v << 4) | (uint32_t)hexval(id[i]);
	}
	/* The 32-bit id is stored big-endian: byte-swap it into the little-endian integer. */
	aml_integer(a, __builtin_bswap32(v));
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, name);
}

void aml_name_int(struct aml *a, const char *name, uint64_t v)
{
	aml_name(a, name);
	aml_integer(a, v);
}

void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	aml_name(a, name);
	aml_eisaid(a, id);
}

void aml_name_string(struct aml *a, const char *name, const char *s)
{
	aml_name(a, name);
	aml_string(a, s);
}

/* Reserve n bytes, returning the offset where they start. */
static size_t reserve(struct aml *a, size_t n)
{
	static const uint8_t zero[BUFSIZE_SLOT];
	size_t at = a->len;

	aml_bytes(a, zero, n);
	return at;
}

size_t aml_scope_begin(struct aml *a, const char *name)
{
	size_t mark;

	aml_byte(a, AML_SCOPE_OP);
	mark = reserve(a, PKGLEN_SLOT);
	aml_namestring(a, name);
	return mark;
}

size_t aml_device_begin(struct aml *a, const char *name)
{
	size_t mark;

	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_EXT_DEVICE_OP);
	mark = reserve(a, PKGLEN_SLOT);
	aml_namestring(a, name);
	return mark;
}

size_t aml_method_begin(struct aml *a, const char *name, unsigned nargs, int serialized)
{
	size_t mark;

	if (nargs > 7)
		fail(a, -EINVAL);
	aml_byte(a, AML_METHOD_OP);
	mark = reserve(a, PKGLEN_SLOT);
	aml_namestring(a, name);
	aml_byte(a, (uint8_t)((nargs & 7) | (serialized ? 0x08 : 0)));
	return mark;
}

size_t aml_package_begin(struct aml *a, unsigned nelems)
{
	size_t mark;

	if (nelems > 255)
		fail(a, -EINVAL);
	aml_byte(a, AML_PACKAGE_OP);
	mark = reserve(a, PKGLEN_SLOT);
	aml_byte(a, (uint8_t)nelems);
	return mark;
}

/* Move the bytes after [at, at + slot) down so that only n of the slot's bytes remain. */
static void shrink(struct aml *a, size_t at, size_t slot, size_t n)
{
	memmove(a->buf + at + n, a->buf + at + slot, a->len - (at + slot));
	a->len -= slot - n;
}

void aml_end(struct aml *a, size_t mark)
{
	size_t body, total;
	uint8_t enc[4];
	int n;

	if (a->err)
		return;
	body = a->len - (mark + PKGLEN_SLOT);
	/* The PkgLength counts its own bytes: try each encoding size until it fits. */
	for (n = 1; n <= 4; n++) {
		total = body + (size_t)n;
		if (total <= PKGLEN_MAX && aml_pkglen_encode(enc, (uint32_t)total) == n)
			break;
	}
	if (n > 4) {
		fail(a, -EINVAL);
		return;
	}
	memcpy(a->buf + mark, enc, (size_t)n);
	shrink(a, mark, PKGLEN_SLOT, (size_t)n);
}

size_t aml_buffer_begin(struct aml *a)
{
	size_t mark;

	aml_byte(a, AML_BUFFER_OP);
	mark = reserve(a, PKGLEN_SLOT);
	reserve(a, BUFSIZE_SLOT);
	return mark;
}

void aml_buffer_end(struct aml *a, size_t mark)
{
	size_t size_at = mark + PKGLEN_SLOT, size, n;
	struct aml tmp;

	if (a->err)
		return;
	size = a->len - (size_at + BUFSIZE_SLOT);
	aml_init(&tmp, a->buf + size_at, BUFSIZE_SLOT);
	aml_integer(&tmp, size);
	n = tmp.len;
	shrink(a, size_at, BUFSIZE_SLOT, n);
	aml_end(a, mark);
}

void aml_method_return_int(struct aml *a, const char *name, uint64_t v)
{
	size_t m = aml_method_begin(a, name, 0, 0);

	aml_byte(a, AML_RETURN_OP);
	aml_integer(a, v);
	aml_end(a, m);
}

size_t aml_rt_begin(struct aml *a) { return aml_buffer_begin(a); }

void aml_rt_end(struct aml *a, size_t mark)
{
	size_t start = mark + PKGLEN_SLOT + BUFSIZE_SLOT, i;
	uint8_t sum = 0x79;

	if (a->err)
		return;
	for (i = start; i < a->len; i++)
		sum = (uint8_t)(sum + a->buf[i]);
	aml_byte(a, 0x79); /* EndTag */
	aml_byte(a, (uint8_t)-sum);
	aml_buffer_end(a, mark);
}

void aml_rt_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	aml_byte(a, 0x47); /* small item 0x08, 7 bytes */
	aml_byte(a, 0x01); /* Decode16 */
	le(a, min, 2);
	le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

void aml_rt_irq_noflags(struct aml *a, unsigned irq)
{
	if (irq > 15) {
		fail(a, -EINVAL);
		return;
	}
	aml_byte(a, 0x22); /* small item 0x04, 2 bytes: the IRQ mask */
	le(a, 1u << irq, 2);
}

/* Large Address Space descriptor: tag, type, then the five fields in width bytes each. */
static void addr_space(struct aml *a, uint8_t tag, int width, uint8_t type, uint8_t tflags,
		       uint64_t min, uint64_t max)
{
	if (width < 8 && (max - min + 1) >> (8 * width))
		fail(a, -EINVAL); /* the length field cannot hold the window */
	aml_byte(a, tag);
	le(a, 3 + 5 * (uint64_t)width, 2);
	aml_byte(a, type);
	aml_byte(a, 0x0c); /* ResourceProducer, PosDecode, MinFixed, MaxFixed */
	aml_byte(a, tflags);
	le(a, 0, width); /* granularity */
	le(a, min, width);
	le(a, max, width);
	le(a, 0, width);	     /* translation offset */
	le(a, max - min + 1, width); /* length */
}

void aml_rt_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	if (max < min)
		fail(a, -EINVAL);
	addr_space(a, 0x88, 2, 2, 0x00, min, max);
}

void aml_rt_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	if (max < min)
		fail(a, -EINVAL);
	addr_space(a, 0x88, 2, 1, 0x03 /* EntireRange */, min, max);
}

void aml_rt_dword_mem(struct aml *a, uint32_t min, uint32_t max)
{
	if (max < min)
		fail(a, -EINVAL);
	addr_space(a, 0x87, 4, 0, 0x01 /* ReadWrite, NonCacheable */, min, max);
}

void aml_rt_qword_mem_pref(struct aml *a, uint64_t min, uint64_t max)
{
	if (max < min)
		fail(a, -EINVAL);
	/* ReadWrite, Prefetchable (memory attribute 3 in bits 2:1) */
	addr_space(a, 0x8a, 8, 0, 0x01 | (3u << 1), min, max);
}

void aml_rt_mem32_fixed(struct aml *a, uint32_t base, uint32_t len)
{
	aml_byte(a, 0x86); /* large item 0x06: Memory32Fixed, 9 bytes */
	le(a, 9, 2);
	aml_byte(a, 0x01); /* ReadWrite */
	le(a, base, 4);
	le(a, len, 4);
}

void aml_rt_interrupt(struct aml *a, uint32_t gsi, int edge, int active_low)
{
	aml_byte(a, 0x89); /* large item 0x09: Extended Interrupt, 6 bytes for one GSI */
	le(a, 6, 2);
	/* ResourceConsumer (bit 0), Edge (bit 1), ActiveLow (bit 2), Exclusive */
	aml_byte(a, (uint8_t)(0x01 | (edge ? 0x02 : 0) | (active_low ? 0x04 : 0)));
	aml_byte(a, 1);
	le(a, gsi, 4);
}
