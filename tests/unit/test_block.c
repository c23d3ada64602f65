/* test_block.c: the block layer and VHD driver through the block_io seam: allocation step
 * order, injected write failures leaving a consistent image, differencing reads, read-only
 * parents, saved state, footer copy fallback. Files live in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "block/vhd.h"

struct fixture {
	char dir[64];
	char path[128], parent[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/tv-test-block-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/d.vhd", f->dir);
	snprintf(f->parent, sizeof(f->parent), "%s/p.vhd", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

/* Records allocation steps; fails pwrite number fail_at (1-based) when set. */
struct rec {
	struct block_io io;
	int steps[16], nsteps;
	int writes, fail_at;
};

static struct rec *cur_rec; /* only for the pwrite wrapper below, set per test */

static ssize_t rec_pwrite(int fd, const void *b, size_t n, off_t off)
{
	if (cur_rec && ++cur_rec->writes == cur_rec->fail_at) {
		errno = EIO;
		return -1;
	}
	return pwrite(fd, b, n, off);
}

static void rec_step(void *ctx, int step)
{
	struct rec *r = ctx;

	if (r->nsteps < 16)
		r->steps[r->nsteps++] = step;
}

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->io = block_io_default;
	r->io.pwrite = rec_pwrite;
	r->io.step = rec_step;
	r->io.ctx = r;
	cur_rec = r;
}

static struct block_dev *open_dev(const char *path, unsigned flags, const struct block_io *io)
{
	struct block_open_opts o = {.flags = flags, .io = io};
	struct block_dev *bd = NULL;
	struct err e = {{0}};

	if (block_open(path, NULL, &o, &bd, &e))
		fail_msg("open %s: %s", path, e.msg);
	return bd;
}

static void create(const char *path, enum vhd_type t, uint64_t size, const char *parent)
{
	struct vhd_create_opts o = {.type = t, .size = size, .parent = parent};
	struct err e;

	if (vhd_create(path, &o, &e))
		fail_msg("create %s: %s", path, e.msg);
}

static void test_alloc_step_order(void **state)
{
	struct fixture *f = *state;
	struct rec r;
	uint8_t buf[4096], back[4096];
	struct block_dev *bd;

	create(f->path, VHD_TYPE_DYNAMIC, 16 << 20, NULL);
	rec_init(&r);
	bd = open_dev(f->path, BLOCK_RDWR, &r.io);
	memset(buf, 0x11, sizeof(buf));
	assert_int_equal(block_write(bd, buf, sizeof(buf), 4 << 20), 0);
	assert_int_equal(r.nsteps, 3);
	assert_int_equal(r.steps[0], 1);
	assert_int_equal(r.steps[1], 2);
	assert_int_equal(r.steps[2], 3);
	assert_int_equal(block_write(bd, buf, sizeof(buf), (4 << 20) + 8192), 0);
	assert_int_equal(r.nsteps, 3); /* same block: no allocation */
	assert_int_equal(block_write(bd, buf, 1000, 0), -EINVAL); /* not sector-sized */
	block_close(bd);
	cur_rec = NULL;
	bd = open_dev(f->path, 0, NULL);
	assert_int_equal(block_read(bd, back, sizeof(back), 4 << 20), 0);
	assert_memory_equal(back, buf, sizeof(buf));
	assert_int_equal(block_read(bd, back, sizeof(back), (4 << 20) + 4096), 0);
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(block_write(bd, buf, 512, 0), -EROFS);
	block_close(bd);
}

/* A write failing at each of its pwrites leaves an image that opens, reads the old data and
 * that check --repair makes clean. */
static void test_write_failure_each_step(void **state)
{
	struct fixture *f = *state;
	uint8_t old[512], buf[512], back[512];
	struct vhd_check_report rep;
	struct block_dev *bd;
	struct err e;
	struct rec r;

	memset(old, 0x22, sizeof(old));
	memset(buf, 0x33, sizeof(buf));
	for (int fail = 1; fail <= 4; fail++) {
		create(f->path, VHD_TYPE_DYNAMIC, 8 << 20, NULL);
		bd = open_dev(f->path, BLOCK_RDWR, NULL);
		assert_int_equal(block_write(bd, old, 512, 0), 0);
		block_close(bd);
		rec_init(&r);
		r.fail_at = fail;
		bd = open_dev(f->path, BLOCK_RDWR, &r.io);
		/* the new block: bitmap, data, footer, BAT entry = pwrites 1..4 */
		assert_int_equal(block_write(bd, buf, 512, 2 << 20), -EIO);
		block_close(bd);
		cur_rec = NULL;
		assert_int_equal(vhd_check(f->path, true, &rep, NULL, &e), 0);
		assert_int_equal(rep.errors, 0);
		assert_int_equal(vhd_check(f->path, false, &rep, NULL, &e), 0);
		assert_int_equal(rep.errors, 0);
		assert_int_equal(rep.leaked, 0);
		bd = open_dev(f->path, 0, NULL);
		assert_int_equal(block_read(bd, back, 512, 0), 0);
		assert_memory_equal(back, old, 512);
		assert_int_equal(block_read(bd, back, 512, 2 << 20), 0);
		for (size_t i = 0; i < sizeof(back); i++)
			assert_int_equal(back[i], 0);
		block_close(bd);
	}
}

static void test_differencing(void **state)
{
	struct fixture *f = *state;
	uint8_t a[8192], b[1024], back[8192];
	struct block_dev *bd;
	struct stat st1, st2;
	struct rec r;

	create(f->parent, VHD_TYPE_DYNAMIC, 8 << 20, NULL);
	memset(a, 0xAA, sizeof(a));
	bd = open_dev(f->parent, BLOCK_RDWR, NULL);
	assert_int_equal(block_write(bd, a, sizeof(a), 0), 0);
	block_close(bd);
	create(f->path, VHD_TYPE_DIFF, 0, "p.vhd");
	assert_int_equal(stat(f->parent, &st1), 0);
	rec_init(&r);
	bd = open_dev(f->path, BLOCK_RDWR, &r.io);
	memset(b, 0xBB, sizeof(b));
	r.writes = 0;
	assert_int_equal(block_write(bd, b, sizeof(b), 1024), 0);
	/* copy nothing: bitmap, the 1 KiB, footer, BAT entry */
	assert_int_equal(r.writes, 4);
	assert_int_equal(block_read(bd, back, sizeof(back), 0), 0);
	assert_memory_equal(back, a, 1024);
	assert_memory_equal(back + 1024, b, 1024);
	assert_memory_equal(back + 2048, a, 8192 - 2048);
	r.writes = 0;
	assert_int_equal(block_write(bd, b, 512, 4096), 0);
	assert_int_equal(r.writes, 2); /* data, then the bitmap sector */
	block_close(bd);
	cur_rec = NULL;
	assert_int_equal(stat(f->parent, &st2), 0);
	assert_int_equal(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec); /* parent never written */
	assert_int_equal(st1.st_size, st2.st_size);
}

static void patch_footer(const char *path, off_t where, int byte, uint8_t val)
{
	uint8_t fb[512];
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, fb, 512, where), 512);
	fb[byte] = val;
	vhd_put_be32(fb + 64, vhd_checksum(fb, 512, 64));
	assert_int_equal(pwrite(fd, fb, 512, where), 512);
	close(fd);
}

static void test_saved_state(void **state)
{
	struct fixture *f = *state;
	struct block_open_opts o = {.flags = BLOCK_RDWR};
	struct block_dev *bd;
	struct stat st;
	struct err e;
	char want[256];

	create(f->path, VHD_TYPE_FIXED, 1 << 20, NULL);
	assert_int_equal(stat(f->path, &st), 0);
	patch_footer(f->path, st.st_size - 512, 84, 1);
	assert_int_equal(block_open(f->path, NULL, &o, &bd, &e), -EBUSY);
	snprintf(want, sizeof(want), "%s: the disk has saved state (its VM was saved, not shut down); "
		 "refusing to open it for writing", f->path);
	assert_string_equal(e.msg, want);
	bd = open_dev(f->path, 0, NULL); /* reading is fine */
	block_close(bd);
}

static void test_footer_copy(void **state)
{
	struct fixture *f = *state;
	struct block_info info;
	struct block_dev *bd;
	struct stat st;
	struct err e;
	char want[256];
	int fd;

	create(f->path, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	assert_int_equal(stat(f->path, &st), 0);
	fd = open(f->path, O_RDWR);
	assert_int_equal(pwrite(fd, "XXXX", 4, st.st_size - 500), 4); /* checksum now wrong */
	close(fd);
	bd = open_dev(f->path, 0, NULL);
	block_get_info(bd, &info);
	assert_true(info.footer_from_copy);
	block_close(bd);
	/* A fixed disk has no copy: refused, with the end footer's problem. */
	create(f->path, VHD_TYPE_FIXED, 1 << 20, NULL);
	assert_int_equal(stat(f->path, &st), 0);
	fd = open(f->path, O_RDWR);
	assert_int_equal(pwrite(fd, "XXXX", 4, st.st_size - 500), 4);
	close(fd);
	assert_int_equal(block_open(f->path, NULL, NULL, &bd, &e), -EBADMSG);
	assert_true(strstr(e.msg, ": bad VHD footer: footer checksum mismatch (stored 0x") != NULL);
	snprintf(want, sizeof(want), "%s: bad VHD footer", f->path);
	assert_memory_equal(e.msg, want, strlen(want));
}

static void test_raw(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[512] = {1, 2, 3}, back[512];
	struct block_dev *bd;
	int fd;

	fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	bd = open_dev(f->path, BLOCK_RDWR, NULL);
	assert_string_equal(bd->ops->name, "raw");
	assert_int_equal(block_size(bd), 1 << 20);
	assert_int_equal(block_write(bd, buf, 512, 512), 0);
	assert_int_equal(block_read(bd, back, 512, 512), 0);
	assert_memory_equal(buf, back, 512);
	assert_int_equal(block_read(bd, back, 512, 1 << 20), -EINVAL);
	assert_int_equal(block_flush(bd), 0);
	assert_int_equal(block_discard(bd, 0, 4096), 0);
	block_close(bd);
	assert_ptr_equal(block_find("vpc"), &block_vhd_ops);
	assert_null(block_find("qcow2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alloc_step_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_each_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_differencing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_saved_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_footer_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
