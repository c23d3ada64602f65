/* test_vhdx_format.c: the pure VHDX parsers (CRC-32C, GUIDs, headers, region tables, metadata,
 * geometry, BAT, parent locator, log) and the driver through a temporary file: create, write,
 * read back, every kill point of an allocation. Negative cases assert the exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/vhdx.h"
#include "block/vhdx_format.h"
#include "util/bytes.h"

static void test_crc32c(void **state)
{
	/* The standard check value of CRC-32C. */
	assert_int_equal(vhdx_crc32c("123456789", 9), 0xE3069283u);
	uint8_t b[64];

	for (int i = 0; i < 64; i++)
		b[i] = (uint8_t)(i * 7);
	uint32_t want = vhdx_checksum(b, 64, 4);

	memset(b + 4, 0, 4);
	assert_int_equal(vhdx_crc32c(b, 64), want);
}

static void test_guid(void **state)
{
	vhdx_guid g;
	char s[40];

	assert_int_equal(vhdx_guid_parse("{2DC27766-F623-4200-9D64-115E9BFD4A08}", &g), 0);
	assert_true(vhdx_guid_eq(&g, &vhdx_guid_bat));
	vhdx_guid_str(&g, s);
	assert_string_equal(s, "2dc27766-f623-4200-9d64-115e9bfd4a08");
	assert_int_equal(vhdx_guid_parse("2dc27766-f623-4200-9d64-115e9bfd4a0", &g), -EINVAL);
	assert_int_equal(vhdx_guid_parse("2dc27766-f623-4200-9d64-115e9bfd4a0z", &g), -EINVAL);
	/* the on-disk order of the metadata GUID, as every VHDX file has it */
	static const uint8_t disk[16] = {0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,
					 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e};
	assert_memory_equal(vhdx_guid_metadata.b, disk, 16);
	assert_int_equal(vhdx_guid_parent_locator.b[0], 0x2d);
}

static void test_header(void **state)
{
	uint8_t b[VHDX_HEADER_SIZE];
	struct vhdx_header h = {.seq = 5, .version = 1, .log_length = VHDX_MiB,
				.log_offset = VHDX_MiB}, p, q;
	struct err e;

	vhdx_guid_random(&h.data_write);
	vhdx_header_build(&h, b);
	assert_int_equal(vhdx_header_parse(b, 8 * VHDX_MiB, &p, &e), 0);
	assert_int_equal(p.seq, 5);
	assert_true(vhdx_guid_eq(&p.data_write, &h.data_write));
	assert_int_equal(vhdx_header_parse(b, VHDX_MiB + 4096, &p, &e), -EINVAL);
	assert_string_equal(e.msg, "log at 1048576 (1048576 bytes) lies outside the file (1052672 "
				   "bytes)");
	b[100] ^= 1;
	assert_int_equal(vhdx_header_parse(b, 0, &p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "header checksum 0x"));
	h.version = 2;
	vhdx_header_build(&h, b);
	assert_int_equal(vhdx_header_parse(b, 0, &p, &e), -EINVAL);
	assert_string_equal(e.msg, "header version 2 (only 1 is defined)");
	/* the current header: valid, larger sequence number */
	p = q = h;
	q.seq = 6;
	assert_int_equal(vhdx_header_pick(true, &p, true, &q), 1);
	assert_int_equal(vhdx_header_pick(true, &p, false, &q), 0);
	assert_int_equal(vhdx_header_pick(false, &p, false, &q), -EINVAL);
	q.seq = 5;
	assert_int_equal(vhdx_header_pick(true, &p, true, &q), 0); /* identical (Disk2VHD) */
	q.data_write.b[0] ^= 1;
	assert_int_equal(vhdx_header_pick(true, &p, true, &q), -EINVAL);
}

static uint8_t rt[VHDX_RT_SIZE];

static void put_region(int i, const vhdx_guid *g, uint64_t off, uint32_t len, uint32_t req)
{
	uint8_t *p = rt + 16 + 32 * i;

	memcpy(p, g, 16);
	le_put(p + 16, off, 8);
	le_put(p + 24, len, 4);
	le_put(p + 28, req, 4);
}

static int parse_rt(int n, uint64_t fsize, struct err *e)
{
	struct vhdx_regions r;

	memcpy(rt, "regi", 4);
	le_put(rt + 8, (uint64_t)n, 4);
	le_put(rt + 4, 0, 4);
	le_put(rt + 4, vhdx_crc32c(rt, VHDX_RT_SIZE), 4);
	return vhdx_region_parse(rt, fsize, VHDX_MiB, VHDX_MiB, &r, e);
}

static void test_regions(void **state)
{
	vhdx_guid other = {{1, 2, 3}};
	struct err e;

	memset(rt, 0, sizeof(rt));
	put_region(0, &vhdx_guid_bat, 3 * VHDX_MiB, VHDX_MiB, 1);
	put_region(1, &vhdx_guid_metadata, 2 * VHDX_MiB, VHDX_MiB, 1);
	assert_int_equal(parse_rt(2, 4 * VHDX_MiB, &e), 0);
	assert_int_equal(parse_rt(2, 4 * VHDX_MiB - 1, &e), -EINVAL);
	assert_string_equal(e.msg, "region 2dc27766-f623-4200-9d64-115e9bfd4a08 at 3145728 (1048576 "
				   "bytes) lies outside the file (4194303 bytes)");
	put_region(1, &vhdx_guid_metadata, 3 * VHDX_MiB, VHDX_MiB, 1);
	assert_int_equal(parse_rt(2, 4 * VHDX_MiB, &e), -EINVAL);
	assert_string_equal(e.msg, "regions 0 and 1 overlap");
	put_region(1, &vhdx_guid_metadata, VHDX_MiB, VHDX_MiB, 1);
	assert_int_equal(parse_rt(2, 4 * VHDX_MiB, &e), -EINVAL);
	assert_string_equal(e.msg, "region 8b7ca206-4790-4b9a-b8fe-575f050f886e at 1048576 overlaps "
				   "the log");
	put_region(1, &vhdx_guid_metadata, 2 * VHDX_MiB, VHDX_MiB, 1);
	put_region(2, &other, 4 * VHDX_MiB, VHDX_MiB, 1);
	assert_int_equal(parse_rt(3, 5 * VHDX_MiB, &e), -EOPNOTSUPP);
	assert_string_equal(e.msg, "unknown required region 00030201-0000-0000-0000-000000000000");
	put_region(2, &other, 4 * VHDX_MiB, VHDX_MiB, 0); /* optional: ignored */
	assert_int_equal(parse_rt(3, 5 * VHDX_MiB, &e), 0);
	assert_int_equal(parse_rt(1, 5 * VHDX_MiB, &e), -EINVAL);
	assert_string_equal(e.msg, "the region table has no metadata region");
	rt[9000] ^= 1;
	assert_int_equal(vhdx_region_parse(rt, 5 * VHDX_MiB, VHDX_MiB, VHDX_MiB,
					   &(struct vhdx_regions){0}, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "region table checksum"));
}

static uint8_t meta[VHDX_MiB];

static void put_item(int i, const vhdx_guid *g, uint32_t off, const void *data, uint32_t len,
		     uint32_t flags)
{
	uint8_t *p = meta + 32 + 32 * i;

	memcpy(p, g, 16);
	le_put(p + 16, off, 4);
	le_put(p + 20, len, 4);
	le_put(p + 24, flags, 4);
	memcpy(meta + off, data, len);
	le_put(meta + 10, (uint64_t)i + 1, 2);
}

static void std_meta(uint32_t bs, uint64_t size, uint32_t lsec)
{
	uint8_t fp[8] = {0}, ds[8], ls[4], ps[4];

	memset(meta, 0, sizeof(meta));
	memcpy(meta, "metadata", 8);
	le_put(fp, bs, 4);
	le_put(ds, size, 8);
	le_put(ls, lsec, 4);
	le_put(ps, 4096, 4);
	put_item(0, &vhdx_guid_file_params, 65536, fp, 8, 4);
	put_item(1, &vhdx_guid_disk_size, 65536 + 8, ds, 8, 6);
	put_item(2, &vhdx_guid_lsec, 65536 + 16, ls, 4, 6);
	put_item(3, &vhdx_guid_psec, 65536 + 20, ps, 4, 6);
}

static void test_metadata(void **state)
{
	vhdx_guid other = {{9}};
	struct vhdx_meta m;
	struct vhdx_geom g;
	struct err e;

	std_meta(32 * VHDX_MiB, 1ull << 30, 512);
	assert_int_equal(vhdx_meta_parse(meta, VHDX_MiB, &m, &e), 0);
	assert_int_equal(vhdx_geom(&m, &g, &e), 0);
	assert_int_equal(g.chunk_ratio, 128);
	assert_int_equal(g.data_blocks, 32);
	assert_int_equal(g.bat_entries, 32);
	assert_int_equal(g.bitmap_bytes, 8192);
	m.has_parent = true;
	assert_int_equal(vhdx_geom(&m, &g, &e), 0);
	assert_int_equal(g.bat_entries, 129);
	std_meta(VHDX_MiB, 200ull << 20, 4096);
	assert_int_equal(vhdx_meta_parse(meta, VHDX_MiB, &m, &e), 0);
	assert_int_equal(vhdx_geom(&m, &g, &e), 0);
	assert_int_equal(g.chunk_ratio, 32768);
	assert_int_equal(g.bitmap_bytes, 32);
	std_meta(3 * VHDX_MiB, 1ull << 30, 512);
	assert_int_equal(vhdx_meta_parse(meta, VHDX_MiB, &m, &e), -EINVAL);
	assert_string_equal(e.msg, "block size 3145728 is not a power of two from 1 MiB to 256 MiB");
	std_meta(VHDX_MiB, 65ull << 40, 512);
	assert_int_equal(vhdx_meta_parse(meta, VHDX_MiB, &m, &e), -EINVAL);
	std_meta(VHDX_MiB, 1000, 512);
	assert_int_equal(vhdx_meta_parse(meta, VHDX_MiB, &m, &e), -EINVAL);
	assert_string_equal(e.msg, "virtual disk size 1000 is not a multiple of the logical sector "
				   "size from 1 sector to 64 TiB");
	std_meta(VHDX_MiB, 1 << 20, 512);
	put_item(4, &other, 65536 + 64, "x", 1, 4);
	assert_int_equal(vhdx_meta_parse(meta, VHDX_MiB, &m, &e), -EOPNOTSUPP);
	assert_string_equal(e.msg, "unknown required metadata item 00000009-0000-0000-0000-000000000000");
	put_item(4, &other, 65536 + 64, "x", 1, 0);
	assert_int_equal(vhdx_meta_parse(meta, VHDX_MiB, &m, &e), 0);
	put_item(4, &other, VHDX_MiB - 4, "xxxxxxxx", 8, 0);
	assert_int_equal(vhdx_meta_parse(meta, VHDX_MiB, &m, &e), -EINVAL);
	assert_string_equal(e.msg, "metadata item 00000009-0000-0000-0000-000000000000 at 1048572 "
				   "(8 bytes) lies outside the metadata region");
	std_meta(VHDX_MiB, 1 << 20, 512);
	le_put(meta + 10, 3, 2); /* drop the physical sector size */
	assert_int_equal(vhdx_meta_parse(meta, VHDX_MiB, &m, &e), -EINVAL);
	assert_string_equal(e.msg, "the metadata has no physical sector size item");
}

static void test_bat(void **state)
{
	struct vhdx_meta m = {.block_size = VHDX_MiB, .disk_size = 4 * VHDX_MiB, .lsec = 512,
			      .psec = 512};
	struct vhdx_range res[] = {{0, VHDX_MiB, "header area"}, {2 * VHDX_MiB, VHDX_MiB,
								 "metadata region"}};
	uint64_t bat[5] = {0}, scratch[5], end;
	struct vhdx_geom g;
	struct err e;

	assert_int_equal(vhdx_geom(&m, &g, &e), 0);
	assert_int_equal(g.bat_entries, 4);
	bat[0] = vhdx_bat_make(VHDX_PB_FULLY_PRESENT, 4 * VHDX_MiB);
	bat[1] = vhdx_bat_make(VHDX_PB_ZERO, 0);
	assert_int_equal(vhdx_bat_check(bat, &g, &m, 5 * VHDX_MiB, res, 2, scratch, &end, &e), 0);
	assert_int_equal(end, 5 * VHDX_MiB);
	assert_int_equal(vhdx_bat_check(bat, &g, &m, 5 * VHDX_MiB - 1, res, 2, scratch, &end, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "BAT entry 0: block at 4194304 lies outside the file (5242879 "
				   "bytes)");
	bat[1] = vhdx_bat_make(VHDX_PB_FULLY_PRESENT, 2 * VHDX_MiB);
	assert_int_equal(vhdx_bat_check(bat, &g, &m, 5 * VHDX_MiB, res, 2, scratch, &end, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "BAT entry 1: block at 2097152 lies in the metadata region");
	bat[1] = vhdx_bat_make(VHDX_PB_FULLY_PRESENT, 4 * VHDX_MiB);
	assert_int_equal(vhdx_bat_check(bat, &g, &m, 5 * VHDX_MiB, res, 2, scratch, &end, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "BAT: two blocks overlap at file offset 4194304");
	bat[1] = vhdx_bat_make(VHDX_PB_PARTIALLY_PRESENT, 3 * VHDX_MiB);
	assert_int_equal(vhdx_bat_check(bat, &g, &m, 5 * VHDX_MiB, res, 2, scratch, &end, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "BAT entry 1: partially present block in a disk without a parent");
	bat[1] = 4;
	assert_int_equal(vhdx_bat_check(bat, &g, &m, 5 * VHDX_MiB, res, 2, scratch, &end, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "BAT entry 1: bad payload state 4");
}

static void test_locator(void **state)
{
	struct vhdx_locator l = {0}, r;
	uint8_t buf[4096];
	struct err e;
	int n;

	strcpy(l.key[0], "parent_linkage");
	strcpy(l.val[0], "{2dc27766-f623-4200-9d64-115e9bfd4a08}");
	strcpy(l.key[1], "relative_path");
	strcpy(l.val[1], "..\\d\xc3\xa9j\xc3\xa0\\p.vhdx");
	l.n = 2;
	n = vhdx_locator_build(&l, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(vhdx_locator_parse(buf, (uint32_t)n, &r, &e), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(vhdx_locator_get(&r, "relative_path"), l.val[1]);
	assert_null(vhdx_locator_get(&r, "volume_path"));
	assert_int_equal(vhdx_locator_parse(buf, 30, &r, &e), -EINVAL);
	assert_string_equal(e.msg, "parent locator has 2 entries that do not fit");
	le_put(buf + 20 + 4, 5000, 4); /* first value offset past the item */
	assert_int_equal(vhdx_locator_parse(buf, (uint32_t)n, &r, &e), -EINVAL);
	assert_string_equal(e.msg, "parent locator entry 0 lies outside the item");
	buf[0] ^= 1;
	assert_int_equal(vhdx_locator_parse(buf, (uint32_t)n, &r, &e), -EOPNOTSUPP);
}

/* A log with entries at seq 10 (tail itself) and 11 (tail = first), plus an older seq 3. */
static void test_log(void **state)
{
	const uint32_t len = VHDX_MiB;
	uint8_t *log = calloc(1, len), s1[4096], s2[4096];
	struct vhdx_log_write w1[] = {{.off = 3 * VHDX_MiB, .data = s1},
				      {.off = 5 * VHDX_MiB, .zero_len = 8192}};
	struct vhdx_log_write w2[] = {{.off = 3 * VHDX_MiB + 4096, .data = s2}};
	vhdx_guid g, other;
	struct vhdx_log_replay r;
	struct err e;
	uint32_t a, b;

	vhdx_guid_random(&g);
	vhdx_guid_random(&other);
	memset(s1, 0x11, sizeof(s1));
	memset(s2, 0x22, sizeof(s2));
	s1[0] = 0xAA, s1[4095] = 0xBB;
	assert_int_equal(vhdx_log_find(log, len, &g, &r, &e), -ENOENT);
	a = vhdx_log_entry_build(w1, 2, 10, 0, &g, 6 * VHDX_MiB, 6 * VHDX_MiB, log);
	b = vhdx_log_entry_build(w2, 1, 11, 0, &g, 6 * VHDX_MiB, 7 * VHDX_MiB, log + a);
	vhdx_log_entry_build(w2, 1, 3, 512 * 1024, &g, 0, 0, log + 512 * 1024);
	assert_int_equal(vhdx_log_find(log, len, &g, &r, &e), 0);
	assert_int_equal(r.entries, 2);
	assert_int_equal(r.nops, 3);
	assert_int_equal(r.ops[0].off, 3 * VHDX_MiB);
	assert_memory_equal(r.ops[0].data, s1, 4096);
	assert_null(r.ops[1].data);
	assert_int_equal(r.ops[1].len, 8192);
	assert_memory_equal(r.ops[2].data, s2, 4096);
	assert_int_equal(r.last_end, 7 * VHDX_MiB);
	vhdx_log_replay_free(&r);
	/* another log GUID: nothing of this log counts */
	assert_int_equal(vhdx_log_find(log, len, &other, &r, &e), -ENOENT);
	/* the head's tail must lie in its sequence: a head pointing elsewhere makes the sequence
	 * 10-11 invalid, and the older sequence (3) is the active one */
	vhdx_log_entry_build(w2, 1, 11, 256 * 1024, &g, 0, 7 * VHDX_MiB, log + a);
	assert_int_equal(vhdx_log_find(log, len, &g, &r, &e), 0);
	assert_int_equal(r.entries, 1);
	assert_int_equal(r.last_end, 0);
	vhdx_log_replay_free(&r);
	/* a damaged data sector invalidates its entry */
	vhdx_log_entry_build(w2, 1, 11, 0, &g, 0, 7 * VHDX_MiB, log + a);
	log[a + b - 100] ^= 1;
	assert_int_equal(vhdx_log_find(log, len, &g, &r, &e), 0);
	assert_int_equal(r.entries, 1);
	assert_int_equal(r.last_end, 6 * VHDX_MiB); /* entry 10 */
	vhdx_log_replay_free(&r);
	/* an entry that wraps around the end of the log */
	memset(log, 0, len);
	{
		uint8_t *tmp = malloc(len);
		uint32_t n = vhdx_log_entry_build(w1, 2, 20, len - 4096, &g, 0, 0, tmp);

		memcpy(log + len - 4096, tmp, 4096);
		memcpy(log, tmp + 4096, n - 4096);
		free(tmp);
	}
	assert_int_equal(vhdx_log_find(log, len, &g, &r, &e), 0);
	assert_int_equal(r.entries, 1);
	assert_memory_equal(r.ops[0].data, s1, 4096);
	vhdx_log_replay_free(&r);
	free(log);
}

/* The driver through a file: a differencing 4 KiB-sector disk over a dynamic one, unaligned
 * writes merged with the parent, reads back. */
static void test_driver(void **state)
{
	char dir[] = "/tmp/tv-vhdx-XXXXXX", base[64], child[80];
	struct vhdx_create_opts o = {.size = 8 * VHDX_MiB, .block_size = VHDX_MiB, .lsec = 4096};
	struct block_open_opts rw = {.flags = BLOCK_RDWR};
	struct block_dev *bd;
	uint8_t *buf = malloc(3 * VHDX_MiB), *back = malloc(3 * VHDX_MiB);
	struct err e;

	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/b.vhdx", dir);
	snprintf(child, sizeof(child), "%s/c.avhdx", dir);
	assert_int_equal(vhdx_create(base, &o, &e), 0);
	assert_int_equal(block_open(base, NULL, &rw, &bd, &e), 0);
	assert_int_equal(block_logical_sector(bd), 4096);
	memset(buf, 0x5a, 3 * VHDX_MiB);
	assert_int_equal(block_write(bd, buf, 3 * VHDX_MiB, VHDX_MiB), 0);
	block_close(bd);
	o = (struct vhdx_create_opts){.parent = base};
	assert_int_equal(vhdx_create(child, &o, &e), 0);
	assert_int_equal(block_open(child, NULL, &rw, &bd, &e), 0);
	memset(buf, 0xc3, 512);
	assert_int_equal(block_write(bd, buf, 512, VHDX_MiB + 1024), 0);
	assert_int_equal(block_read(bd, back, 4096, VHDX_MiB), 0);
	assert_int_equal(back[0], 0x5a);
	assert_int_equal(back[1024], 0xc3);
	assert_int_equal(back[1536], 0x5a);
	uint64_t run;
	assert_int_equal(block_status(bd, VHDX_MiB, VHDX_MiB, &run), 1);
	assert_int_equal(run, 4096);
	assert_int_equal(block_status(bd, VHDX_MiB + 4096, VHDX_MiB - 4096, &run), 0);
	block_close(bd);
	/* the parent replaced by another disk of the same name: refused, saying why */
	unlink(base);
	o = (struct vhdx_create_opts){.size = 8 * VHDX_MiB, .lsec = 4096};
	assert_int_equal(vhdx_create(base, &o, &e), 0);
	assert_int_equal(block_open(child, NULL, NULL, &bd, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "cannot open parent: relative_path "));
	assert_non_null(strstr(e.msg, "does not match parent_linkage {"));
	unlink(base);
	assert_int_equal(block_open(child, NULL, NULL, &bd, &e), -ENOENT);
	unlink(child);
	rmdir(dir);
	free(buf);
	free(back);
}

/* Payload states in a differencing disk: ZERO, UNDEFINED and UNMAPPED read as zeros and hide
 * the parent, NOT_PRESENT shows it; a partial write into a ZERO block keeps the rest zero. */
static void test_states(void **state)
{
	char dir[] = "/tmp/tv-vhdx-XXXXXX", base[64], child[80];
	struct vhdx_create_opts o = {.size = 8 * VHDX_MiB, .block_size = VHDX_MiB};
	struct block_open_opts rw = {.flags = BLOCK_RDWR};
	static const unsigned st[4] = {VHDX_PB_ZERO, VHDX_PB_UNDEFINED, VHDX_PB_UNMAPPED,
				       VHDX_PB_NOT_PRESENT};
	uint8_t *buf = malloc(4 * VHDX_MiB), ent[8];
	struct block_dev *bd;
	struct err e;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/b.vhdx", dir);
	snprintf(child, sizeof(child), "%s/c.avhdx", dir);
	assert_int_equal(vhdx_create(base, &o, &e), 0);
	assert_int_equal(block_open(base, NULL, &rw, &bd, &e), 0);
	memset(buf, 0x77, 4 * VHDX_MiB);
	assert_int_equal(block_write(bd, buf, 4 * VHDX_MiB, 0), 0);
	block_close(bd);
	o = (struct vhdx_create_opts){.parent = base, .block_size = VHDX_MiB};
	assert_int_equal(vhdx_create(child, &o, &e), 0);
	fd = open(child, O_RDWR);
	for (int b = 0; b < 4; b++) { /* chunk ratio 4096: BAT index = block */
		le_put(ent, st[b], 8);
		assert_int_equal(pwrite(fd, ent, 8, 3 * VHDX_MiB + 8 * b), 8);
	}
	close(fd);
	assert_int_equal(block_open(child, NULL, &rw, &bd, &e), 0);
	assert_int_equal(block_read(bd, buf, 4 * VHDX_MiB, 0), 0);
	for (int b = 0; b < 4; b++)
		assert_int_equal(buf[b * VHDX_MiB + 12345], b == 3 ? 0x77 : 0);
	/* the fast-path map agrees: zeros, the parent's file, the slow path for writes */
	struct block_map m;
	assert_int_equal(block_map(bd, 0, 8192, false, &m), 0);
	assert_int_equal(m.kind, BLOCK_MAP_ZERO);
	assert_int_equal(block_map(bd, 3 * VHDX_MiB, 8192, false, &m), 0);
	assert_int_equal(m.kind, BLOCK_MAP_DATA);
	assert_int_not_equal(m.fd, bd->fd);
	assert_int_equal(block_map(bd, 3 * VHDX_MiB, 8192, true, &m), 0);
	assert_int_equal(m.kind, BLOCK_MAP_SLOW);
	memset(buf, 0x99, 4096);
	assert_int_equal(block_write(bd, buf, 4096, 8192), 0);
	assert_int_equal(block_read(bd, buf, VHDX_MiB, 0), 0);
	assert_int_equal(buf[8192], 0x99);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[VHDX_MiB - 1], 0);
	assert_int_equal(block_map(bd, 8192, 4096, true, &m), 0);
	assert_int_equal(m.kind, BLOCK_MAP_DATA);
	assert_int_equal(m.fd, bd->fd);
	assert_int_equal(m.len, 4096);
	block_close(bd);
	unlink(child);
	unlink(base);
	rmdir(dir);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),	  cmocka_unit_test(test_guid),
		cmocka_unit_test(test_header),	  cmocka_unit_test(test_regions),
		cmocka_unit_test(test_metadata),  cmocka_unit_test(test_bat),
		cmocka_unit_test(test_locator),	  cmocka_unit_test(test_log),
		cmocka_unit_test(test_driver),	  cmocka_unit_test(test_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
