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
#include <sys/wait.h>
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

/* Records allocation steps; fails pwrite number fail_at (1-based) when set, with fail_errno
 * (EIO by default), after writing half of it first when fail_short. */
struct rec {
	struct block_io io;
	int steps[16], nsteps;
	int writes, fail_at, fail_errno;
	bool fail_short;
};

static struct rec *cur_rec; /* only for the pwrite wrapper below, set per test */

static ssize_t rec_pwrite(int fd, const void *b, size_t n, off_t off)
{
	if (cur_rec && cur_rec->fail_at && cur_rec->writes + 1 == cur_rec->fail_at &&
	    cur_rec->fail_short && n > 1) {
		cur_rec->fail_short = false; /* half now, the error on the retry of the rest */
		return pwrite(fd, b, n / 2, off);
	}
	if (cur_rec && ++cur_rec->writes == cur_rec->fail_at) {
		errno = cur_rec->fail_errno ? cur_rec->fail_errno : EIO;
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

static void kill_step(void *ctx, int step)
{
	if (step == *(int *)ctx)
		_exit(99);
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
	struct vhd_create_opts o = {.type = t, .size = size, .parent = parent, .overwrite = true};
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

/* The file's last 512 bytes are a valid footer of the dynamic disk path was made as. */
static void assert_tail_footer(const char *path, uint64_t vsize)
{
	uint8_t fb[512];
	struct vhd_footer ft;
	struct stat st;
	struct err e;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(pread(fd, fb, 512, st.st_size - 512), 512);
	close(fd);
	if (vhd_footer_parse(fb, &ft, &e))
		fail_msg("last sector of %s is not a footer: %s", path, e.msg);
	assert_int_equal(ft.type, VHD_TYPE_DYNAMIC);
	assert_int_equal(vhd_virtual_size(&ft), vsize);
	assert_int_equal(ft.data_offset, 512);
}

/* Guest data that is a valid footer of a 4 KiB fixed disk: what a hostile guest would write
 * hoping it ends up as the file's last sector. */
static void crafted_footer(uint8_t buf[512])
{
	struct vhd_footer f = {.features = 2, .version = 0x00010000, .data_offset = VHD_NO_DATA_OFFSET,
			       .creator_app = {'w', 'i', 'n', ' '}, .original_size = 4096,
			       .current_size = 4096, .type = VHD_TYPE_FIXED};

	f.geom = vhd_chs(8);
	vhd_footer_build(&f, buf);
}

/* A write failing (EIO, ENOSPC, EFBIG, or short then ENOSPC) at each of its pwrites leaves an
 * image whose last sector is always the real footer (never the guest's crafted one), that opens
 * without the footer copy, reads the old data, and that check --repair makes clean. */
static void test_write_failure_each_step(void **state)
{
	static const int errs[] = {EIO, ENOSPC, EFBIG, -ENOSPC /* short first */};
	struct fixture *f = *state;
	uint8_t old[512], buf[512], back[512];
	struct vhd_check_report rep;
	struct block_info info;
	struct block_dev *bd;
	uint64_t vsize;
	struct err e;
	struct rec r;

	memset(old, 0x22, sizeof(old));
	crafted_footer(buf);
	for (int k = 0; k < 4; k++) {
		for (int fail = 1; fail <= 4; fail++) {
			create(f->path, VHD_TYPE_DYNAMIC, 8 << 20, NULL);
			bd = open_dev(f->path, BLOCK_RDWR, NULL);
			assert_int_equal(block_write(bd, old, 512, 0), 0);
			vsize = block_size(bd);
			block_close(bd);
			rec_init(&r);
			r.fail_at = fail;
			r.fail_errno = errs[k] < 0 ? -errs[k] : errs[k];
			r.fail_short = errs[k] < 0;
			bd = open_dev(f->path, BLOCK_RDWR, &r.io);
			/* the new block's last sector: footer, bitmap, data, BAT entry = pwrites 1..4 */
			assert_int_equal(block_write(bd, buf, 512, (4 << 20) - 512), -r.fail_errno);
			block_close(bd);
			cur_rec = NULL;
			assert_tail_footer(f->path, vsize);
			bd = open_dev(f->path, 0, NULL); /* a plain open: end footer, no copy */
			block_get_info(bd, &info);
			assert_string_equal(info.subformat, "dynamic");
			assert_false(info.footer_from_copy);
			block_close(bd);
			assert_int_equal(vhd_check(f->path, true, &rep, NULL, &e), 0);
			assert_int_equal(rep.errors, 0);
			assert_int_equal(vhd_check(f->path, false, &rep, NULL, &e), 0);
			assert_int_equal(rep.errors, 0);
			assert_int_equal(rep.leaked, 0);
			bd = open_dev(f->path, 0, NULL);
			assert_int_equal(block_read(bd, back, 512, 0), 0);
			assert_memory_equal(back, old, 512);
			assert_int_equal(block_read(bd, back, 512, (4 << 20) - 512), 0);
			for (size_t i = 0; i < sizeof(back); i++)
				assert_int_equal(back[i], 0);
			block_close(bd);
		}
	}
}

/* The process killed after each allocation step (and between its writes): the last sector is
 * the footer at every instant, the image opens plainly and reads the data as of the last
 * completed step. */
static void kill_at(const char *path, int n, const uint8_t *buf)
{
	struct rec r;
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct block_dev *bd;

		rec_init(&r);
		r.io.step = kill_step;
		r.io.ctx = &n;
		bd = open_dev(path, BLOCK_RDWR, &r.io);
		(void)!block_write(bd, buf, 512, (4 << 20) - 512);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), n <= 3 ? 99 : 0);
}

static void test_kill_each_step(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[512], back[512];
	struct vhd_check_report rep;
	struct block_dev *bd;
	uint64_t vsize;
	struct err e;

	crafted_footer(buf);
	for (int n = 1; n <= 3; n++) {
		create(f->path, VHD_TYPE_DYNAMIC, 8 << 20, NULL);
		bd = open_dev(f->path, 0, NULL);
		vsize = block_size(bd);
		block_close(bd);
		kill_at(f->path, n, buf);
		assert_tail_footer(f->path, vsize);
		bd = open_dev(f->path, 0, NULL);
		assert_int_equal(block_read(bd, back, 512, (4 << 20) - 512), 0);
		if (n == 3)
			assert_memory_equal(back, buf, 512);
		else
			for (size_t i = 0; i < sizeof(back); i++)
				assert_int_equal(back[i], 0);
		block_close(bd);
		assert_int_equal(vhd_check(f->path, false, &rep, NULL, &e), 0);
		assert_int_equal(rep.errors, 0);
		assert_true(n == 3 ? rep.leaked == 0 : rep.leaked >= (2 << 20));
		assert_int_equal(vhd_check(f->path, true, &rep, NULL, &e), 0);
		assert_int_equal(vhd_check(f->path, false, &rep, NULL, &e), 0);
		assert_int_equal(rep.errors + (int)rep.leaked, 0);
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

/* A dynamic disk with a damaged end footer: refused by a plain open (the copy at offset 0 is
 * not trusted there), recognised as a damaged VHD by the probe, examined and repaired by
 * check through the copy. A fixed disk has no copy: refused with the end footer's problem. */
static void test_footer_copy(void **state)
{
	struct fixture *f = *state;
	struct vhd_check_report rep;
	struct block_dev *bd;
	struct stat st;
	struct err e;
	const char *known;
	char want[512];
	int fd;

	create(f->path, VHD_TYPE_DYNAMIC, 4 << 20, NULL);
	assert_int_equal(stat(f->path, &st), 0);
	fd = open(f->path, O_RDWR);
	assert_int_equal(pwrite(fd, "XXXX", 4, st.st_size - 500), 4); /* checksum now wrong */
	close(fd);
	assert_int_equal(block_open(f->path, "vhd", NULL, &bd, &e), -EBADMSG);
	assert_int_equal(block_open(f->path, NULL, NULL, &bd, &e), -EBADMSG);
	fd = open(f->path, O_RDWR);
	assert_int_equal(pwrite(fd, "XXXX", 4, st.st_size - 512), 4); /* no cookie either */
	close(fd);
	assert_null(block_probe(f->path, &known, &e));
	assert_string_equal(known, "vhd");
	assert_int_equal(block_open(f->path, NULL, NULL, &bd, &e), -EMEDIUMTYPE);
	snprintf(want, sizeof(want), "%s: a dynamic VHD without a valid footer at the end of the "
		 "file (its header is intact): `thinvisor img check --repair` may help", f->path);
	assert_string_equal(e.msg, want);
	assert_int_equal(vhd_check(f->path, false, &rep, NULL, &e), 0);
	assert_int_equal(rep.errors, 1);
	assert_int_equal(vhd_check(f->path, true, &rep, NULL, &e), 0);
	assert_int_equal(rep.errors, 0);
	bd = open_dev(f->path, 0, NULL);
	block_close(bd);
	create(f->path, VHD_TYPE_FIXED, 1 << 20, NULL);
	assert_int_equal(stat(f->path, &st), 0);
	fd = open(f->path, O_RDWR);
	assert_int_equal(pwrite(fd, "XXXX", 4, st.st_size - 500), 4);
	close(fd);
	assert_int_equal(block_open(f->path, NULL, NULL, &bd, &e), -EBADMSG);
	assert_true(strstr(e.msg, ": bad VHD footer: footer checksum mismatch (stored 0x") != NULL);
	snprintf(want, sizeof(want), "%s: bad VHD footer", f->path);
	assert_memory_equal(e.msg, want, strlen(want));
	/* Its guest forged a dynamic footer copy and header in sectors 0-2: even check --repair
	 * does not take them (the damaged end footer still says fixed), and nothing is written. */
	{
		uint8_t head[1536];
		struct stat st2;

		create(f->parent, VHD_TYPE_DYNAMIC, 1 << 20, NULL);
		fd = open(f->parent, O_RDONLY);
		assert_int_equal(pread(fd, head, sizeof(head), 0), sizeof(head));
		close(fd);
		fd = open(f->path, O_RDWR);
		assert_int_equal(pwrite(fd, head, sizeof(head), 0), sizeof(head));
		close(fd);
		assert_int_equal(vhd_check(f->path, true, &rep, NULL, &e), -EBADMSG);
		assert_int_equal(stat(f->path, &st2), 0);
		assert_int_equal(st2.st_size, st.st_size);
	}
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

/* Each known-but-unsupported signature is refused with its one line; nothing else is raw. */
static void test_probe_table(void **state)
{
	static const struct {
		size_t off;
		const char *magic, *fmt, *why;
	} cases[] = {
		{0, "QFI\xfb", "qcow2", "qcow2 is not supported: convert it with qemu-img convert -O raw"},
		{0, "KDMV", "vmdk", "VMDK is not supported: convert it with qemu-img convert -O raw"},
		{0, "# Disk DescriptorFile", "vmdk", "VMDK is not supported: convert it with qemu-img convert -O raw"},
		{0x40, "\x7f\x10\xda\xbe", "vdi", "VDI is not supported: convert it with qemu-img convert -O raw"},
		{512, "cxsparse", "vhd", "a dynamic VHD without a valid footer at the end of the file (its "
		 "header is intact): `thinvisor img check --repair` may help"},
	};
	uint8_t head[BLOCK_PROBE_HEAD], tail[512] = {0};
	const char *known, *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(head, 0, sizeof(head));
		memcpy(head + cases[i].off, cases[i].magic, strlen(cases[i].magic));
		assert_null(block_probe_buf(head, sizeof(head), tail, sizeof(tail), &known, &why));
		assert_string_equal(known, cases[i].fmt);
		assert_string_equal(why, cases[i].why);
		/* a real footer at the end wins: a fixed VHD whose sector 0 holds any of these */
		memcpy(tail, "conectix", 8);
		assert_ptr_equal(block_probe_buf(head, sizeof(head), tail, sizeof(tail), &known, &why),
				 &block_vhd_ops);
		memset(tail, 0, 8);
	}
	memset(head, 0, sizeof(head));
	assert_ptr_equal(block_probe_buf(head, sizeof(head), tail, sizeof(tail), &known, &why),
			 &block_raw_ops);
	assert_null(known);
	/* VHDX's identifier at the head wins over a VHD footer at the tail (guest data there) */
	memcpy(head, "vhdxfile", 8);
	memcpy(tail, "conectix", 8);
	assert_ptr_equal(block_probe_buf(head, sizeof(head), tail, sizeof(tail), &known, &why),
			 &block_vhdx_ops);
}

/* A raw disk whose format was probed: guest writes that would make it probe as something else
 * next time (VHD structures at sector 0-1, a footer in the last sector, a qcow2 magic) are
 * refused; other writes, and the same writes with format=raw given, go through. */
static void test_probed_raw_guard(void **state)
{
	struct fixture *f = *state;
	uint8_t hdr[1024] = {0}, foot[512], any[512];
	struct block_open_opts o = {.flags = BLOCK_RDWR};
	struct block_dev *bd;
	struct err e;
	int fd;

	fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	memcpy(hdr, "conectix", 8);
	memcpy(hdr + 512, "cxsparse", 8);
	crafted_footer(foot);
	memset(any, 0x5a, sizeof(any));
	bd = open_dev(f->path, BLOCK_RDWR, NULL);
	assert_true(bd->probed);
	assert_int_equal(block_write(bd, hdr, sizeof(hdr), 0), -EPERM);
	assert_true(strstr(bd->last_err.msg, "this data would make it open as vhd next time") != NULL);
	assert_int_equal(block_write(bd, hdr + 512, 512, 512), -EPERM); /* 'cxsparse' alone */
	assert_int_equal(block_write(bd, foot, 512, (1 << 20) - 512), -EPERM);
	memcpy(any, "QFI\xfb", 4);
	assert_int_equal(block_write(bd, any, 512, 0), -EPERM);
	memset(any, 0x5a, sizeof(any));
	assert_int_equal(block_write(bd, any, 512, 0), 0);
	assert_int_equal(block_write(bd, any, 512, (1 << 20) - 512), 0);
	assert_int_equal(block_write(bd, foot, 512, 4096), 0); /* inside: harmless */
	block_close(bd);
	bd = open_dev(f->path, 0, NULL);
	assert_string_equal(bd->ops->name, "raw");
	block_close(bd);
	assert_int_equal(block_open(f->path, "raw", &o, &bd, &e), 0);
	assert_false(bd->probed);
	assert_int_equal(block_write(bd, hdr, sizeof(hdr), 0), 0);
	block_close(bd);
}

/* A header claiming 2^22+1 entries is refused before anything is allocated for them. */
static void test_bat_cap(void **state)
{
	struct fixture *f = *state;
	uint8_t fb[512], hb[1024];
	struct vhd_footer ft = {.features = 2, .version = 0x00010000, .data_offset = 512,
				.creator_app = {'w', 'i', 'n', ' '}, .type = VHD_TYPE_DYNAMIC};
	struct vhd_dyn_header h = {.data_offset = VHD_NO_DATA_OFFSET, .table_offset = 1536,
				   .version = 0x00010000, .block_size = 512,
				   .max_table_entries = VHD_MAX_BAT_ENTRIES + 1};
	struct block_dev *bd;
	struct err e;
	char want[512];
	int fd;

	ft.original_size = ft.current_size = (uint64_t)h.max_table_entries * 512;
	ft.geom = vhd_chs(ft.current_size / 512);
	vhd_footer_build(&ft, fb);
	vhd_dyn_header_build(&h, hb);
	fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(pwrite(fd, fb, 512, 0), 512);
	assert_int_equal(pwrite(fd, hb, 1024, 512), 1024);
	assert_int_equal(ftruncate(fd, 1536 + (off_t)h.max_table_entries * 4), 0); /* sparse */
	assert_int_equal(pwrite(fd, fb, 512, 1536 + (off_t)h.max_table_entries * 4), 512);
	close(fd);
	assert_int_equal(block_open(f->path, NULL, NULL, &bd, &e), -EFBIG);
	snprintf(want, sizeof(want), "%s: BAT of 4194305 entries is over thinvisor's limit of "
		 "4194304 (blocks of 512 bytes are too small for this disk)", f->path);
	assert_string_equal(e.msg, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alloc_step_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_each_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_each_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_differencing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_saved_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_footer_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probed_raw_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bat_cap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
