/* fuzz_vhdx.c: libFuzzer target over the VHDX parsers (header, region table, metadata, BAT,
 * parent locator, log) and, through a memfd, the VHDX driver's open and read path on a real
 * image (made once by vhdx_create, with data and a pending log) patched by the input.
 *
 * Input: byte 0 picks the parser (0-5) or the driver (6-7); for the driver the rest is a list
 * of patches {u32 offset, u8 length, bytes} applied to the image. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/block.h"
#include "block/vhdx.h"
#include "block/vhdx_format.h"
#include "util/bytes.h"

static uint8_t *tmpl;
static size_t tmpl_len;
static uint32_t pages[4096], npages; /* the template's non-zero 4 KiB pages */

static void pad(const uint8_t *d, size_t n, uint8_t *out, size_t size)
{
	memset(out, 0, size);
	memcpy(out, d, n < size ? n : size);
}

static void parsers(int which, const uint8_t *d, size_t n)
{
	static uint8_t buf[256 * 1024];
	struct err e;

	switch (which) {
	case 0: {
		struct vhdx_header h;

		pad(d, n, buf, VHDX_HEADER_SIZE);
		(void)!vhdx_header_parse(buf, le_get(buf + 100, 4), &h, &e);
		break;
	}
	case 1: {
		struct vhdx_regions r;

		pad(d, n, buf, VHDX_RT_SIZE);
		(void)!vhdx_region_parse(buf, le_get(buf + 1000, 6), VHDX_MiB, VHDX_MiB, &r, &e);
		break;
	}
	case 2: {
		struct vhdx_meta m;
		struct vhdx_geom g;

		pad(d, n, buf, sizeof(buf));
		if (!vhdx_meta_parse(buf, sizeof(buf), &m, &e) && !vhdx_geom(&m, &g, &e) &&
		    g.bat_entries <= 4096) {
			uint64_t bat[4096], scratch[4096], end;
			struct vhdx_range res[] = {{0, VHDX_MiB, "header area"}};

			for (uint64_t i = 0; i < g.bat_entries; i++)
				bat[i] = le_get(buf + 200000 + 8 * (i % 4096), 8);
			(void)!vhdx_bat_check(bat, &g, &m, le_get(buf + 199992, 6), res, 1, scratch,
					      &end, &e);
		}
		if (m.loc_len && m.loc_off + (uint64_t)m.loc_len <= sizeof(buf)) {
			struct vhdx_locator *l = malloc(sizeof(*l));

			if (l)
				(void)!vhdx_locator_parse(buf + m.loc_off, m.loc_len, l, &e);
			free(l);
		}
		break;
	}
	case 3: {
		struct vhdx_locator *l = malloc(sizeof(*l));

		if (l)
			(void)!vhdx_locator_parse(d, (uint32_t)n, l, &e);
		free(l);
		break;
	}
	default: { /* the log, its GUID taken from the first entry so entries can be valid */
		struct vhdx_log_replay r;
		vhdx_guid g;
		uint32_t len = (uint32_t)((n + 4095) / 4096 * 4096);

		if (len > sizeof(buf) || !len)
			return;
		pad(d, n, buf, len);
		memcpy(&g, buf + 32, 16);
		if (!vhdx_log_find(buf, len, &g, &r, &e))
			vhdx_log_replay_free(&r);
	}
	}
}

/* A dynamic 64 MiB image with 1 MiB blocks, two of them written, and a log holding one entry
 * (a BAT sector and a data sector) that LogGuid marks pending. */
static void make_template(void)
{
	char path[] = "/tmp/fuzz-vhdx-XXXXXX";
	struct vhdx_create_opts o = {.size = 64 * VHDX_MiB, .block_size = VHDX_MiB};
	struct block_open_opts rw = {.flags = BLOCK_RDWR};
	struct block_dev *bd;
	struct err e;
	uint8_t data[8192];
	int fd = mkstemp(path);

	close(fd);
	unlink(path);
	if (vhdx_create(path, &o, &e) || block_open(path, "vhdx", &rw, &bd, &e))
		abort();
	memset(data, 0x5a, sizeof(data));
	if (block_write(bd, data, sizeof(data), 0) || block_write(bd, data, 4096, 40 * VHDX_MiB))
		abort();
	block_close(bd);
	fd = open(path, O_RDONLY);
	tmpl_len = (size_t)lseek(fd, 0, SEEK_END);
	tmpl = malloc(tmpl_len);
	if (pread(fd, tmpl, tmpl_len, 0) != (ssize_t)tmpl_len)
		abort();
	close(fd);
	unlink(path);
	{
		/* a pending log entry: LogGuid in both headers, one entry at the log's start */
		struct vhdx_header h;
		struct vhdx_log_write w[2] = {{.off = 3 * VHDX_MiB, .data = tmpl + 3 * VHDX_MiB},
					      {.off = 4 * VHDX_MiB, .data = data}};
		vhdx_guid g;

		vhdx_guid_random(&g);
		vhdx_header_parse(tmpl + VHDX_HEADER2_OFF, 0, &h, &e);
		h.log_guid = g;
		h.seq += 10;
		vhdx_header_build(&h, tmpl + VHDX_HEADER2_OFF);
		vhdx_log_entry_build(w, 2, 1, 0, &g, tmpl_len, tmpl_len, tmpl + VHDX_MiB);
	}
	for (size_t at = 0; at + 4096 <= tmpl_len && npages < 4096; at += 4096)
		if (tmpl[at] || memcmp(tmpl + at, tmpl + at + 1, 4095))
			pages[npages++] = (uint32_t)(at / 4096);
}

static void driver(int rw, const uint8_t *d, size_t n)
{
	struct block_open_opts o = {.flags = BLOCK_NOPARENT | (rw ? BLOCK_RDWR : 0)};
	struct block_dev *bd;
	struct err e;
	char path[64];
	static uint8_t buf[65536];
	int fd = memfd_create("fuzz", 0);

	if (fd < 0)
		return;
	if (ftruncate(fd, (off_t)tmpl_len))
		goto out;
	for (uint32_t i = 0; i < npages; i++)
		if (pwrite(fd, tmpl + (size_t)pages[i] * 4096, 4096, (off_t)pages[i] * 4096) != 4096)
			goto out;
	while (n >= 5) {
		uint32_t off = (uint32_t)le_get(d, 4) % (uint32_t)tmpl_len;
		size_t len = d[4] < n - 5 ? d[4] : n - 5;

		if (pwrite(fd, d + 5, len, off) != (ssize_t)len)
			goto out;
		d += 5 + len;
		n -= 5 + len;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (block_open(path, "vhdx", &o, &bd, &e) == 0) {
		uint64_t size = block_size(bd), step = size / 7 / 512 * 512 + 512;
		struct block_info *info = malloc(sizeof(*info));

		if (info)
			block_get_info(bd, info);
		free(info);
		for (uint64_t off = 0; off + sizeof(buf) <= size && off < 64 * step; off += step)
			(void)!block_read(bd, buf, sizeof(buf), off);
		if (rw) {
			memset(buf, 0xa5, 4096);
			(void)!block_write(bd, buf, 4096, size / 2 / 4096 * 4096);
		}
		block_close(bd);
	}
out:
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!tmpl)
		make_template();
	if (n < 1)
		return 0;
	if (d[0] % 8 < 6)
		parsers(d[0] % 8, d + 1, n - 1);
	else
		driver(d[0] % 8 == 7, d + 1, n - 1);
	return 0;
}
