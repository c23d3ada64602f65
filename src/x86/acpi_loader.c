/* acpi_loader.c: the table-loader script for the monitor's ACPI tables (acpi_loader.h). */
#include "x86/acpi_loader.h"

#include <errno.h>
#include <string.h>

#include "util/bytes.h"

#define RSDP_LEN 36
#define HDR_LEN 36

struct script {
	uint8_t *buf;
	size_t cap, used;
	int err;
};

static uint8_t *cmd(struct script *s, uint32_t op)
{
	uint8_t *c;

	if (s->err)
		return NULL;
	if (s->cap - s->used < ACPI_LOADER_CMD_SIZE) {
		s->err = -ENOSPC;
		return NULL;
	}
	c = s->buf + s->used;
	memset(c, 0, ACPI_LOADER_CMD_SIZE);
	le_put(c, op, 4);
	s->used += ACPI_LOADER_CMD_SIZE;
	return c + 4;
}

static void allocate(struct script *s, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *c = cmd(s, ACPI_LOADER_ALLOCATE);

	if (!c)
		return;
	strncpy((char *)c, file, ACPI_LOADER_NAME - 1);
	le_put(c + ACPI_LOADER_NAME, align, 4);
	c[ACPI_LOADER_NAME + 4] = zone;
}

static void pointer(struct script *s, const char *dest, uint32_t off, uint8_t size)
{
	uint8_t *c = cmd(s, ACPI_LOADER_ADD_POINTER);

	if (!c)
		return;
	strncpy((char *)c, dest, ACPI_LOADER_NAME - 1);
	strncpy((char *)c + ACPI_LOADER_NAME, ACPI_LOADER_TABLES_FILE, ACPI_LOADER_NAME - 1);
	le_put(c + 2 * ACPI_LOADER_NAME, off, 4);
	c[2 * ACPI_LOADER_NAME + 4] = size;
}

static void checksum(struct script *s, const char *file, uint32_t at, uint32_t start,
		     uint32_t len)
{
	uint8_t *c = cmd(s, ACPI_LOADER_ADD_CHECKSUM);

	if (!c)
		return;
	strncpy((char *)c, file, ACPI_LOADER_NAME - 1);
	le_put(c + ACPI_LOADER_NAME, at, 4);
	le_put(c + ACPI_LOADER_NAME + 4, start, 4);
	le_put(c + ACPI_LOADER_NAME + 8, len, 4);
}

/* The table at off: its length if a whole header and body lie inside the blob, else 0. */
static uint32_t table_len(const uint8_t *blob, size_t len, uint64_t off)
{
	uint32_t tl;

	if (off < RSDP_LEN || off > len || len - off < HDR_LEN)
		return 0;
	tl = (uint32_t)le_get(blob + off + 4, 4);
	return tl >= HDR_LEN && tl <= len - off ? tl : 0;
}

/* A pointer field of size bytes at off in the tables file: add a fix-up if it is set. */
static void field(struct script *s, const uint8_t *blob, uint32_t off, uint8_t size)
{
	if (le_get(blob + off, size))
		pointer(s, ACPI_LOADER_TABLES_FILE, off, size);
}

/* Fix-ups inside the table at off (FADT: FACS and DSDT). */
static void table_fields(struct script *s, const uint8_t *blob, uint32_t off, uint32_t tl)
{
	if (memcmp(blob + off, "FACP", 4))
		return;
	if (tl >= 44) {
		field(s, blob, off + 36, 4);
		field(s, blob, off + 40, 4);
	}
	if (tl >= 148) {
		field(s, blob, off + 132, 8);
		field(s, blob, off + 140, 8);
	}
}

/* Walk an RSDT (entry 4 bytes) or XSDT (8): fix its entries and each table's fields once. */
static int walk_sdt(struct script *s, const uint8_t *blob, size_t len, uint64_t off,
		    unsigned esz, uint8_t *seen, size_t nseen, struct err *e)
{
	uint32_t tl = table_len(blob, len, off);

	if (!tl || (tl - HDR_LEN) % esz)
		return errf(e, -EINVAL, "acpi loader: %s at %#llx is cut short",
			    esz == 4 ? "RSDT" : "XSDT", (unsigned long long)off);
	for (uint32_t p = (uint32_t)off + HDR_LEN; p < off + tl; p += esz) {
		uint64_t t = le_get(blob + p, esz);
		uint32_t l = table_len(blob, len, t);

		if (!l)
			return errf(e, -EINVAL, "acpi loader: entry at %#x points outside the tables",
				    p);
		pointer(s, ACPI_LOADER_TABLES_FILE, p, (uint8_t)esz);
		if (t / 8 < nseen && !seen[t / 8]) {
			seen[t / 8] = 1;
			table_fields(s, blob, (uint32_t)t, l);
		}
	}
	return 0;
}

long acpi_loader_build(const uint8_t *blob, size_t len, uint8_t *cmds, size_t cap,
		       struct err *e)
{
	struct script s = {.buf = cmds, .cap = cap};
	uint8_t seen[8192] = {0}; /* tables already walked, by 8-byte offset */
	uint64_t rsdt, xsdt;
	int ret;

	if (len < RSDP_LEN || memcmp(blob, "RSD PTR ", 8) || len > UINT32_MAX ||
	    len / 8 > sizeof(seen))
		return errf(e, -EINVAL, "acpi loader: no RSDP at the start of the tables");
	rsdt = le_get(blob + 16, 4);
	xsdt = blob[15] >= 2 ? le_get(blob + 24, 8) : 0;
	allocate(&s, ACPI_LOADER_RSDP_FILE, 16, ACPI_LOADER_ZONE_FSEG);
	allocate(&s, ACPI_LOADER_TABLES_FILE, 64, ACPI_LOADER_ZONE_HIGH);
	if (rsdt) {
		pointer(&s, ACPI_LOADER_RSDP_FILE, 16, 4);
		if ((ret = walk_sdt(&s, blob, len, rsdt, 4, seen, sizeof(seen), e)))
			return ret;
	}
	if (xsdt) {
		pointer(&s, ACPI_LOADER_RSDP_FILE, 24, 8);
		if ((ret = walk_sdt(&s, blob, len, xsdt, 8, seen, sizeof(seen), e)))
			return ret;
	}
	checksum(&s, ACPI_LOADER_RSDP_FILE, 8, 0, 20);
	if (blob[15] >= 2)
		checksum(&s, ACPI_LOADER_RSDP_FILE, 32, 0, RSDP_LEN);
	/* every table with a checksum: whatever was walked, plus the DSDTs FADTs point at */
	for (size_t i = 0; i < len / 8; i++) {
		uint32_t off = (uint32_t)i * 8, tl;

		if (!seen[i] && !(off >= RSDP_LEN && (off == rsdt || off == xsdt)))
			continue;
		tl = table_len(blob, len, off);
		if (tl)
			checksum(&s, ACPI_LOADER_TABLES_FILE, off + 9, off, tl);
		if (tl >= 44 && !memcmp(blob + off, "FACP", 4)) {
			uint32_t dsdt = (uint32_t)le_get(blob + off + 40, 4), dl;

			if (tl >= 148 && le_get(blob + off + 140, 8))
				dsdt = (uint32_t)le_get(blob + off + 140, 8);
			dl = table_len(blob, len, dsdt);
			if (dl && dsdt % 8 == 0 && !seen[dsdt / 8])
				checksum(&s, ACPI_LOADER_TABLES_FILE, dsdt + 9, dsdt, dl);
		}
	}
	if (s.err)
		return errf(e, s.err, "acpi loader: the command buffer is too small");
	return (long)s.used;
}
