/* test_vhd_format.c: the pure VHD parsers: footer, checksum, CHS, dynamic header, BAT,
 * bitmaps, locators, creation sizes. Negative cases assert the exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "block/vhd.h"
#include "block/vhd_format.h"

static void make_footer(uint8_t b[512], uint32_t type, uint64_t size, const char app[4])
{
	struct vhd_footer f = {.features = 2, .version = 0x10000, .type = type};

	f.data_offset = type == VHD_TYPE_FIXED ? VHD_NO_DATA_OFFSET : 512;
	memcpy(f.creator_app, app, 4);
	f.original_size = f.current_size = size;
	f.geom = vhd_chs(size / 512);
	vhd_footer_build(&f, b);
}

static void test_checksum_known(void **state)
{
	/* A footer written by qemu-img 7.2 (create -f vpc 100M), checksum 0xffffee12. */
	static const uint8_t q[96] = {
		0x63, 0x6f, 0x6e, 0x65, 0x63, 0x74, 0x69, 0x78, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x32, 0x99, 0x87, 0xad, 0x71, 0x65, 0x6d, 0x75,
		0x00, 0x05, 0x00, 0x03, 0x57, 0x69, 0x32, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x06, 0x40, 0x20, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x06, 0x40, 0x20, 0x00, 0x03, 0xec, 0x0c, 0x11, 0x00, 0x00, 0x00, 0x03,
		0xff, 0xff, 0xee, 0x12, 0x62, 0xef, 0x68, 0x0e, 0x65, 0x82, 0x4d, 0x46, 0x9c, 0x85, 0xc3, 0xc0,
		0x24, 0x65, 0xe3, 0x43, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
	uint8_t b[512] = {0};
	struct vhd_footer f;
	struct err e = {{0}};

	memcpy(b, q, sizeof(q));
	assert_int_equal(vhd_checksum(b, 512, 64), 0xffffee12u);
	assert_int_equal(vhd_footer_parse(b, &f, &e), 0);
	assert_int_equal(f.type, VHD_TYPE_DYNAMIC);
	assert_memory_equal(f.creator_app, "qemu", 4);
	assert_int_equal(f.geom.cylinders, 1004);
	assert_int_equal(f.geom.heads, 12);
	assert_int_equal(f.geom.sectors, 17);
	assert_true(vhd_sized_by_chs(&f));
	assert_int_equal(vhd_virtual_size(&f), 104865792);
}

static void test_footer_roundtrip(void **state)
{
	uint8_t b[512];
	struct vhd_footer f;
	struct err e;

	make_footer(b, VHD_TYPE_FIXED, 64 << 20, "win ");
	assert_int_equal(vhd_footer_parse(b, &f, &e), 0);
	assert_int_equal(f.current_size, 64 << 20);
	assert_false(vhd_sized_by_chs(&f));
	assert_int_equal(vhd_virtual_size(&f), 64 << 20);
}

static void test_footer_bad_cookie(void **state)
{
	uint8_t b[512];
	struct vhd_footer f;
	struct err e;

	make_footer(b, VHD_TYPE_FIXED, 1 << 20, "win ");
	b[0] = 'X';
	assert_int_equal(vhd_footer_parse(b, &f, &e), -EINVAL);
	assert_string_equal(e.msg, "no VHD footer (cookie is not 'conectix')");
}

static void test_footer_bad_checksum(void **state)
{
	uint8_t b[512];
	struct vhd_footer f;
	struct err e;
	uint32_t good;

	make_footer(b, VHD_TYPE_FIXED, 1 << 20, "win ");
	good = vhd_be32(b + 64);
	b[100] ^= 1;
	assert_int_equal(vhd_footer_parse(b, &f, &e), -EBADMSG);
	char want[128];
	snprintf(want, sizeof(want), "footer checksum mismatch (stored 0x%08x, computed 0x%08x)", good,
		 good - 1);
	assert_string_equal(e.msg, want);
}

static void test_footer_bad_type_and_size(void **state)
{
	uint8_t b[512];
	struct vhd_footer f;
	struct err e;

	make_footer(b, 7, 1 << 20, "win ");
	assert_int_equal(vhd_footer_parse(b, &f, &e), -EINVAL);
	assert_string_equal(e.msg, "unsupported disk type 7");
	make_footer(b, VHD_TYPE_FIXED, 3ull << 40, "win ");
	assert_int_equal(vhd_footer_parse(b, &f, &e), -EFBIG);
	assert_string_equal(e.msg, "virtual size 3298534883328 exceeds the VHD limit of 2040 GiB");
}

static void test_chs(void **state)
{
	struct vhd_geom g = vhd_chs(204816);

	assert_int_equal(g.cylinders, 1004);
	assert_int_equal(g.heads, 12);
	assert_int_equal(g.sectors, 17);
	g = vhd_chs(UINT64_C(1) << 40);
	assert_int_equal(g.cylinders, 65535);
	assert_int_equal(g.heads, 16);
	assert_int_equal(g.sectors, 255);
	g = vhd_chs(65535ull * 16 * 63); /* exactly the 255-sector threshold */
	assert_int_equal(g.sectors, 255);
	g = vhd_chs(2048); /* 1 MiB: 17 sectors, 4 heads */
	assert_int_equal(g.sectors, 17);
	assert_int_equal(g.heads, 4);
	assert_int_equal(g.cylinders, 30);
	g = vhd_chs(20u << 21); /* 20 GiB: 63 sectors per track */
	assert_int_equal(g.sectors, 63);
	assert_int_equal(g.heads, 16);
}

static void test_size_semantics(void **state)
{
	struct vhd_footer f = {.geom = {100, 16, 63}, .current_size = 100 * 16 * 63 * 512 + 4096};
	static const char *const chs[] = {"vpc ", "qemu"};
	static const char *const cur[] = {"win ", "qem2", "d2v ", "d2v\0", "tap\0", "CTXS", "tvsr"};

	for (size_t i = 0; i < 2; i++) {
		memcpy(f.creator_app, chs[i], 4);
		assert_true(vhd_sized_by_chs(&f));
		assert_int_equal(vhd_virtual_size(&f), 100 * 16 * 63 * 512);
	}
	for (size_t i = 0; i < 7; i++) {
		memcpy(f.creator_app, cur[i], 4);
		assert_false(vhd_sized_by_chs(&f));
		assert_int_equal(vhd_virtual_size(&f), f.current_size);
	}
	memcpy(f.creator_app, "vpc ", 4);
	f.geom = (struct vhd_geom){65535, 16, 255}; /* maximum geometry: current size wins */
	assert_false(vhd_sized_by_chs(&f));
}

static void test_create_sizes(void **state)
{
	/* The sizes Debian's qemu-img 7.2 gives `create -f vpc` (force_size off, and on). */
	static const struct {
		uint64_t req, chs;
	} t[] = {{1 << 20, 1079296}, {10 << 20, 10514432}, {100 << 20, 104865792},
		 {1000u << 20, 1048707072}};
	struct vhd_create_opts o = {.type = VHD_TYPE_DYNAMIC};
	uint64_t out;
	struct err e;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		o.size = t[i].req;
		o.force_size = false;
		assert_int_equal(vhd_create_size(&o, &out, &e), 0);
		assert_int_equal(out, t[i].chs);
		o.force_size = true;
		assert_int_equal(vhd_create_size(&o, &out, &e), 0);
		assert_int_equal(out, t[i].req);
	}
	o = (struct vhd_create_opts){.type = VHD_TYPE_FIXED, .size = 1000001, .azure = true};
	assert_int_equal(vhd_create_size(&o, &out, &e), 0);
	assert_int_equal(out, 1 << 20);
	o = (struct vhd_create_opts){.type = VHD_TYPE_DYNAMIC, .size = 2041ull << 30};
	assert_int_equal(vhd_create_size(&o, &out, &e), -EFBIG);
	assert_string_equal(e.msg, "size 2191507062784 exceeds the VHD limit of 2040 GiB "
				   "(2190433320960 bytes)");
	o.size = 2040ull << 30; /* the limit itself is fine (max CHS: exact size kept) */
	assert_int_equal(vhd_create_size(&o, &out, &e), 0);
	assert_int_equal(out, 2040ull << 30);
}

static void make_header(uint8_t b[1024], uint32_t entries, uint32_t bs, uint64_t table)
{
	struct vhd_dyn_header h = {.data_offset = VHD_NO_DATA_OFFSET, .table_offset = table,
				   .version = 0x10000, .max_table_entries = entries, .block_size = bs};

	vhd_dyn_header_build(&h, b);
}

static void test_dyn_header(void **state)
{
	uint8_t fb[512], b[1024];
	struct vhd_footer f;
	struct vhd_dyn_header h;
	struct err e;

	make_footer(fb, VHD_TYPE_DYNAMIC, 8 << 20, "win ");
	assert_int_equal(vhd_footer_parse(fb, &f, &e), 0);
	make_header(b, 4, 2 << 20, 1536);
	assert_int_equal(vhd_dyn_header_parse(b, &f, 4096, &h, &e), 0);
	assert_int_equal(h.block_size, 2 << 20);
	assert_int_equal(vhd_bitmap_size(h.block_size), 512);
	assert_int_equal(vhd_bitmap_size(16 << 20), 4096);
	assert_int_equal(vhd_bitmap_size(4096), 512);

	make_header(b, 3, 2 << 20, 1536);
	assert_int_equal(vhd_dyn_header_parse(b, &f, 4096, &h, &e), -EINVAL);
	assert_string_equal(e.msg, "BAT has 3 entries, 4 needed for 8388608 bytes");
	make_header(b, 4, 3 << 20, 1536);
	assert_int_equal(vhd_dyn_header_parse(b, &f, 4096, &h, &e), -EINVAL);
	assert_string_equal(e.msg, "bad block size 3145728");
	make_header(b, 4, 2 << 20, 4090);
	assert_int_equal(vhd_dyn_header_parse(b, &f, 4096, &h, &e), -EINVAL);
	assert_string_equal(e.msg, "BAT at 4090 (4 entries) extends past end of file (4096 bytes)");
	make_header(b, 4, 2 << 20, 600);
	assert_int_equal(vhd_dyn_header_parse(b, &f, 4096, &h, &e), -EINVAL);
	assert_string_equal(e.msg, "BAT at 600 overlaps the dynamic header");
	make_header(b, 4, 2 << 20, 1536);
	b[0] = 'X';
	assert_int_equal(vhd_dyn_header_parse(b, &f, 4096, &h, &e), -EINVAL);
	assert_string_equal(e.msg, "bad dynamic header cookie (not 'cxsparse')");
	make_header(b, 4, 2 << 20, 1536);
	b[1000] = 1;
	assert_int_equal(vhd_dyn_header_parse(b, &f, 4096, &h, &e), -EBADMSG);
	assert_true(strstr(e.msg, "dynamic header checksum mismatch") == e.msg);
	make_header(b, 0x7FFFFFFF, 4096, 1536);
	assert_int_equal(vhd_dyn_header_parse(b, &f, 4096, &h, &e), -EINVAL);
	assert_string_equal(e.msg, "absurd BAT size of 2147483647 entries");
}

static void test_bat(void **state)
{
	uint8_t raw[16];
	uint32_t bat[4];
	struct err e;
	const uint64_t span = 512 + (2 << 20);

	memset(raw, 0xFF, sizeof(raw));
	vhd_put_be32(raw + 4, 4);			    /* block 1 at 2048 */
	vhd_put_be32(raw + 8, (uint32_t)(4 + span / 512)); /* block 2 right after */
	assert_int_equal(vhd_bat_parse(raw, 4, 2 << 20, 2048, 2048 + 2 * span, bat, &e), 0);
	assert_int_equal(bat[0], VHD_BAT_UNUSED);
	assert_int_equal(bat[1], 4);
	assert_int_equal(vhd_bat_parse(raw, 4, 2 << 20, 2048, 2048 + 2 * span - 1, bat, &e), -EINVAL);
	assert_string_equal(e.msg, "BAT entry 2 points outside the file (block at 2099712, file is "
				   "4197375 bytes)");
	assert_int_equal(vhd_bat_parse(raw, 4, 2 << 20, 2560, 2048 + 2 * span, bat, &e), -EINVAL);
	assert_string_equal(e.msg, "BAT entry 1 points into metadata (offset 2048)");
	vhd_put_be32(raw + 12, 5); /* block 3 overlaps block 1 */
	assert_int_equal(vhd_bat_parse(raw, 4, 2 << 20, 2048, 2048 + 2 * span, bat, &e), -EINVAL);
	assert_string_equal(e.msg, "BAT entry 3 overlaps the block of entry 1 (sector 5)");
	vhd_put_be32(raw + 12, 0xFFFFFFF0u); /* far past the end: no overflow */
	assert_int_equal(vhd_bat_parse(raw, 4, 2 << 20, 2048, 2048 + 2 * span, bat, &e), -EINVAL);
}

static void test_bitmap(void **state)
{
	uint8_t bm[4] = {0};

	vhd_bitmap_set(bm, 0);
	assert_int_equal(bm[0], 0x80); /* most significant bit first */
	vhd_bitmap_set(bm, 9);
	assert_int_equal(bm[1], 0x40);
	assert_true(vhd_bitmap_test(bm, 0));
	assert_false(vhd_bitmap_test(bm, 1));
	assert_int_equal(vhd_bitmap_run(bm, 0, 32), 1);
	assert_int_equal(vhd_bitmap_run(bm, 1, 32), 8);
	bm[2] = 0xFF;
	bm[3] = 0xFF;
	assert_int_equal(vhd_bitmap_run(bm, 16, 16), 16);
	assert_int_equal(vhd_bitmap_run(bm, 10, 22), 6);
}

static void test_locator_utf16(void **state)
{
	/* ".\p.vhd" little-endian (Windows, VirtualBox), big-endian, and with a BOM */
	static const uint8_t le[] = {'.', 0, '\\', 0, 'p', 0, '.', 0, 'v', 0, 'h', 0, 'd', 0, 0, 0};
	static const uint8_t be[] = {0, '.', 0, '\\', 0, 'p', 0, '.', 0, 'v', 0, 'h', 0, 'd'};
	static const uint8_t bom[] = {0xFE, 0xFF, 0, 'C', 0, ':', 0, '\\', 0, 'x', 0xD8, 0x3D,
				      0xDE, 0x00};
	char out[64];
	struct err e;

	assert_int_equal(vhd_locator_decode(VHD_PLAT_W2RU, le, sizeof(le), out, sizeof(out), &e), 0);
	assert_string_equal(out, "./p.vhd");
	assert_int_equal(vhd_locator_decode(VHD_PLAT_W2RU, be, sizeof(be), out, sizeof(out), &e), 0);
	assert_string_equal(out, "./p.vhd");
	assert_int_equal(vhd_locator_decode(VHD_PLAT_W2KU, bom, sizeof(bom), out, sizeof(out), &e), 0);
	assert_string_equal(out, "C:/x\xF0\x9F\x98\x80");
	assert_int_equal(vhd_locator_decode(VHD_PLAT_W2KU, le, 3, out, sizeof(out), &e), -EINVAL);
	assert_string_equal(e.msg, "parent locator has an odd UTF-16 length (3 bytes)");
	static const uint8_t lone[] = {0x00, 0xDC, 'a', 0};
	assert_int_equal(vhd_locator_decode(VHD_PLAT_W2KU, lone, 4, out, sizeof(out), &e), -EINVAL);
	assert_string_equal(e.msg, "parent locator has invalid UTF-16");
	assert_int_equal(vhd_locator_decode(VHD_PLAT_W2RU, le, sizeof(le), out, 4, &e), -ENAMETOOLONG);
	assert_string_equal(e.msg, "parent locator path is too long");
	assert_int_equal(vhd_locator_decode(0x12345678, le, sizeof(le), out, sizeof(out), &e), -EINVAL);
	assert_string_equal(e.msg, "unknown parent locator platform code 0x12345678");
	assert_int_equal(vhd_locator_decode(VHD_PLAT_W2RU, (const uint8_t *)"\0\0", 2, out,
					    sizeof(out), &e), -EINVAL);
	assert_string_equal(e.msg, "parent locator is empty");
}

static void test_locator_macx_and_ansi(void **state)
{
	static const char url[] = "file://localhost/srv/my%20disks/p.vhd";
	static const char url2[] = "file:///a/b.vhd";
	char out[64];
	struct err e;

	assert_int_equal(vhd_locator_decode(VHD_PLAT_MACX, (const uint8_t *)url, strlen(url), out,
					    sizeof(out), &e), 0);
	assert_string_equal(out, "/srv/my disks/p.vhd");
	assert_int_equal(vhd_locator_decode(VHD_PLAT_MACX, (const uint8_t *)url2, strlen(url2), out,
					    sizeof(out), &e), 0);
	assert_string_equal(out, "/a/b.vhd");
	assert_int_equal(vhd_locator_decode(VHD_PLAT_MACX, (const uint8_t *)"file:///x%2", 11, out,
					    sizeof(out), &e), -EINVAL);
	assert_string_equal(e.msg, "parent locator has a bad %-escape");
	assert_int_equal(vhd_locator_decode(VHD_PLAT_WI2R, (const uint8_t *)".\\q.vhd", 7, out,
					    sizeof(out), &e), 0);
	assert_string_equal(out, "./q.vhd");
}

static void test_utf16_roundtrip(void **state)
{
	uint8_t buf[64];
	char out[64];
	struct err e;
	uint16_t name[256];
	int n = vhd_utf16le_encode("../d\xC3\xA9/p.vhd", buf, sizeof(buf));

	assert_int_equal(n, 22);
	assert_int_equal(buf[4], '\\');
	assert_int_equal(vhd_locator_decode(VHD_PLAT_W2RU, buf, (size_t)n, out, sizeof(out), &e), 0);
	assert_string_equal(out, "../d\xC3\xA9/p.vhd");
	assert_int_equal(vhd_utf16le_encode("\xFF", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(vhd_utf16le_encode("abcdef", buf, 4), -ENAMETOOLONG);
	vhd_parent_name_encode("C:\\x\xC3\xA9.vhd", name);
	vhd_parent_name_decode(name, out, sizeof(out));
	assert_string_equal(out, "C:\\x\xC3\xA9.vhd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_known),
		cmocka_unit_test(test_footer_roundtrip),
		cmocka_unit_test(test_footer_bad_cookie),
		cmocka_unit_test(test_footer_bad_checksum),
		cmocka_unit_test(test_footer_bad_type_and_size),
		cmocka_unit_test(test_chs),
		cmocka_unit_test(test_size_semantics),
		cmocka_unit_test(test_create_sizes),
		cmocka_unit_test(test_dyn_header),
		cmocka_unit_test(test_bat),
		cmocka_unit_test(test_bitmap),
		cmocka_unit_test(test_locator_utf16),
		cmocka_unit_test(test_locator_macx_and_ansi),
		cmocka_unit_test(test_utf16_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
