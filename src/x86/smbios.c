/* smbios.c: SMBIOS 2.8 structures (smbios.h). */
#include "x86/smbios.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/bytes.h"

struct tbl {
	uint8_t *buf;
	size_t cap, used, max_struct;
	unsigned count;
	uint16_t handle;
	int err;
	size_t start; /* the current structure */
	unsigned nstr;
};

/* Start a structure of type and formatted length len; returns its bytes (zeroed) or NULL. */
static uint8_t *begin(struct tbl *t, uint8_t type, uint8_t len)
{
	uint8_t *p;

	if (t->err || t->cap - t->used < (size_t)len + 2) {
		t->err = -ENOSPC;
		return NULL;
	}
	p = t->buf + t->used;
	memset(p, 0, len);
	p[0] = type;
	p[1] = len;
	le_put(p + 2, t->handle++, 2);
	t->start = t->used;
	t->used += len;
	t->nstr = 0;
	return p;
}

/* Append string s to the current structure; returns its number (1..), 0 when s is empty. */
static uint8_t str(struct tbl *t, const char *s)
{
	size_t n = strlen(s) + 1;

	if (t->err || !*s)
		return 0;
	if (t->cap - t->used < n + 1) {
		t->err = -ENOSPC;
		return 0;
	}
	memcpy(t->buf + t->used, s, n);
	t->used += n;
	return (uint8_t)++t->nstr;
}

static void end(struct tbl *t)
{
	size_t need = t->nstr ? 1 : 2, len;

	if (t->err)
		return;
	if (t->cap - t->used < need) {
		t->err = -ENOSPC;
		return;
	}
	memset(t->buf + t->used, 0, need);
	t->used += need;
	len = t->used - t->start;
	if (len > t->max_struct)
		t->max_struct = len;
	t->count++;
}

/* Strings go after the formatted area, so their numbers are stored through the offset. */
#define STR(t, off, s)                                                                          \
	do {                                                                                    \
		uint8_t n_ = str(t, s);                                                         \
		if (!(t)->err)                                                                  \
			(t)->buf[(t)->start + (off)] = n_;                                      \
	} while (0)

static void type0(struct tbl *t, const struct smbios_config *c)
{
	uint8_t *p = begin(t, 0, 0x18);

	if (!p)
		return;
	le_put(p + 6, 0xe800, 2);    /* start segment */
	le_put(p + 10, 0x08, 8);     /* characteristics not supported */
	p[19] = 0x18;                /* byte 2: target content distribution, VM */
	p[20] = 1;                   /* release 1.0 */
	p[22] = p[23] = 0xff;        /* no embedded controller */
	STR(t, 4, "thinvisor");
	STR(t, 5, c->bios_version);
	STR(t, 8, "12/03/2026");
	end(t);
}

static void type1(struct tbl *t, const struct smbios_config *c)
{
	uint8_t *p = begin(t, 1, 0x1b);

	if (!p)
		return;
	memcpy(p + 8, c->uuid, 16);
	p[24] = 6; /* woken by the power switch */
	STR(t, 4, "thinvisor");
	STR(t, 5, "thinvisor virtual machine");
	STR(t, 6, "1.0");
	STR(t, 26, "Virtual Machine");
	end(t);
}

static void type3(struct tbl *t)
{
	uint8_t *p = begin(t, 3, 0x15);

	if (!p)
		return;
	p[5] = 1;                  /* other */
	p[9] = p[10] = p[11] = 3;  /* safe */
	p[12] = 2;                 /* unknown security */
	STR(t, 4, "thinvisor");
	end(t);
}

static void type4(struct tbl *t, unsigned cpu)
{
	uint8_t *p = begin(t, 4, 0x2a);
	char sock[16];

	if (!p)
		return;
	snprintf(sock, sizeof(sock), "CPU %u", cpu);
	p[5] = 3;                        /* central processor */
	p[6] = 1;                        /* other family */
	le_put(p + 20, 2000, 2);         /* max speed, MHz */
	le_put(p + 22, 2000, 2);
	p[24] = 0x41;                    /* populated, enabled */
	p[25] = 1;                       /* other upgrade */
	le_put(p + 26, 0xffff, 2);
	le_put(p + 28, 0xffff, 2);
	le_put(p + 30, 0xffff, 2);
	p[35] = p[36] = p[37] = 1;       /* one core, one thread */
	le_put(p + 38, 0x02, 2);         /* unknown characteristics */
	le_put(p + 40, 1, 2);
	STR(t, 4, sock);
	STR(t, 7, "thinvisor");
	end(t);
}

static void memory(struct tbl *t, const struct smbios_config *c)
{
	uint64_t total = c->low_ram + c->high_ram, kib = total >> 10, mib = total >> 20;
	uint16_t array = t->handle;
	uint8_t *p = begin(t, 16, 0x17);

	if (!p)
		return;
	p[4] = 1;                         /* other location */
	p[5] = 3;                         /* system memory */
	p[6] = 3;                         /* no error correction */
	le_put(p + 7, kib < 0x80000000u ? kib : 0x80000000u, 4);
	le_put(p + 11, 0xfffe, 2);
	le_put(p + 13, 1, 2);
	le_put(p + 15, kib < 0x80000000u ? 0 : total, 8);
	end(t);
	p = begin(t, 17, 0x28);
	if (!p)
		return;
	le_put(p + 4, array, 2);
	le_put(p + 6, 0xfffe, 2);
	le_put(p + 8, 64, 2);
	le_put(p + 10, 64, 2);
	le_put(p + 12, mib < 0x7fff ? mib : 0x7fff, 2);
	p[14] = 9;                        /* DIMM */
	p[18] = 7;                        /* RAM */
	le_put(p + 19, 2, 2);             /* other */
	le_put(p + 28, mib < 0x7fff ? 0 : mib, 4);
	STR(t, 16, "DIMM 0");
	STR(t, 23, "thinvisor");
	end(t);
	for (int i = 0; i < 2; i++) {
		uint64_t start = i ? 1ULL << 32 : 0, len = i ? c->high_ram : c->low_ram;
		uint64_t s = start >> 10, e = (start + len) / 1024 - 1;

		if (!len || !(p = begin(t, 19, 0x1f)))
			continue;
		le_put(p + 4, e < 0xffffffffu ? s : 0xffffffffu, 4);
		le_put(p + 8, e < 0xffffffffu ? e : 0xffffffffu, 4);
		le_put(p + 12, array, 2);
		p[14] = 1;
		le_put(p + 15, e < 0xffffffffu ? 0 : start, 8);
		le_put(p + 23, e < 0xffffffffu ? 0 : start + len - 1, 8);
		end(t);
	}
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

long smbios_build(const struct smbios_config *c, uint8_t *buf, size_t cap, uint32_t table_gpa,
		  uint8_t anchor[SMBIOS_ANCHOR_LEN])
{
	struct tbl t = {.buf = buf, .cap = cap, .handle = 0};
	uint8_t *p;

	type0(&t, c);
	type1(&t, c);
	type3(&t);
	for (unsigned i = 0; i < c->ncpus; i++)
		type4(&t, i);
	memory(&t, c);
	if ((p = begin(&t, 32, 0x0b)))
		end(&t);
	if ((p = begin(&t, 127, 4)))
		end(&t);
	if (t.err || t.used > 0xffff)
		return -ENOSPC;
	memset(anchor, 0, SMBIOS_ANCHOR_LEN);
	memcpy(anchor, "_SM_", 4);
	anchor[5] = SMBIOS_ANCHOR_LEN;
	anchor[6] = 2;
	anchor[7] = 8;
	le_put(anchor + 8, t.max_struct, 2);
	memcpy(anchor + 16, "_DMI_", 5);
	le_put(anchor + 22, t.used, 2);
	le_put(anchor + 24, table_gpa, 4);
	le_put(anchor + 28, t.count, 2);
	anchor[30] = 0x28;
	anchor[21] = (uint8_t)-sum(anchor + 16, 15);
	anchor[4] = (uint8_t)-sum(anchor, SMBIOS_ANCHOR_LEN);
	return (long)t.used;
}
