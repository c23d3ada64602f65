/* test_blkreq.c: virtio-blk request parsing (header, status byte, data in place), range checks,
 * DISCARD/WRITE_ZEROES segments, iov helpers, and the image lock between processes. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/bytes.h"
#include "virtio/blk_lock.h"
#include "virtio/blk_req.h"

static uint8_t hdr[16], data[4096], status[1];
static struct virtq_elem e;

static void elem(unsigned nout, unsigned nin, const struct iovec *iov)
{
	memset(&e, 0, sizeof(e));
	e.nout = nout;
	e.nin = nin;
	for (unsigned i = 0; i < nout + nin; i++) {
		e.iov[i] = iov[i];
		if (i < nout)
			e.out_len += (uint32_t)iov[i].iov_len;
		else
			e.in_len += (uint32_t)iov[i].iov_len;
	}
}

static void set_hdr(uint32_t type, uint64_t sector)
{
	memset(hdr, 0, sizeof(hdr));
	le_put(hdr, type, 4);
	le_put(hdr + 8, sector, 8);
}

static void test_read_request(void **st)
{
	struct iovec iov[] = {{hdr, 16}, {data, 1024}, {status, 1}};
	struct blk_req_view v;
	uint64_t off;

	set_hdr(VIRTIO_BLK_T_IN, 8);
	elem(1, 2, iov);
	assert_int_equal(blk_req_parse(&e, &v), 0);
	assert_int_equal(v.type, VIRTIO_BLK_T_IN);
	assert_int_equal(v.sector, 8);
	assert_ptr_equal(v.status, status);
	assert_int_equal(v.ndata, 1);
	assert_int_equal(v.data_len, 1024);
	assert_int_equal(blk_req_check_rw(&v, 1 << 20, true, &off), VIRTIO_BLK_S_OK);
	assert_int_equal(off, 4096);
	/* beyond the end, and overflowing sectors */
	assert_int_equal(blk_req_check_rw(&v, 4096 + 512, false, &off), VIRTIO_BLK_S_IOERR);
	v.sector = UINT64_MAX / 256;
	assert_int_equal(blk_req_check_rw(&v, 1 << 20, false, &off), VIRTIO_BLK_S_IOERR);
}

static void test_write_shared_descriptors(void **st)
{
	/* header and data in one buffer; data and status in one writable buffer for a read */
	struct iovec w[] = {{data, 16 + 512}, {status, 1}};
	struct iovec r[] = {{hdr, 16}, {data, 513}};
	struct blk_req_view v;
	uint64_t off;

	le_put(data, VIRTIO_BLK_T_OUT, 4);
	le_put(data + 8, 2, 8);
	elem(1, 1, w);
	assert_int_equal(blk_req_parse(&e, &v), 0);
	assert_int_equal(v.type, VIRTIO_BLK_T_OUT);
	assert_int_equal(v.data_len, 512);
	assert_ptr_equal(v.data[0].iov_base, data + 16);
	assert_int_equal(blk_req_check_rw(&v, 1 << 20, true, &off), VIRTIO_BLK_S_IOERR); /* ro */
	assert_int_equal(blk_req_check_rw(&v, 1 << 20, false, &off), VIRTIO_BLK_S_OK);
	set_hdr(VIRTIO_BLK_T_IN, 0);
	elem(1, 1, r);
	assert_int_equal(blk_req_parse(&e, &v), 0);
	assert_ptr_equal(v.status, data + 512);
	assert_int_equal(v.data_len, 512);
	assert_int_equal(v.data[0].iov_len, 512);
}

static void test_malformed(void **st)
{
	struct iovec shorthdr[] = {{hdr, 8}, {status, 1}};
	struct iovec nostatus[] = {{hdr, 16}};
	struct iovec partial[] = {{hdr, 16}, {data, 100}, {status, 1}};
	struct blk_req_view v;
	uint64_t off;

	elem(1, 1, shorthdr);
	assert_int_equal(blk_req_parse(&e, &v), -EINVAL);
	elem(1, 0, nostatus);
	assert_int_equal(blk_req_parse(&e, &v), -EINVAL);
	set_hdr(VIRTIO_BLK_T_IN, 0);
	elem(1, 2, partial);
	assert_int_equal(blk_req_parse(&e, &v), 0);
	assert_int_equal(blk_req_check_rw(&v, 1 << 20, false, &off), VIRTIO_BLK_S_IOERR);
}

static void test_segments(void **st)
{
	struct iovec iov[] = {{hdr, 16}, {data, 32}, {status, 1}};
	struct blk_req_view v;
	struct blk_seg s;

	set_hdr(VIRTIO_BLK_T_WRITE_ZEROES, 0);
	memset(data, 0, 32);
	le_put(data, 16, 8);
	le_put(data + 8, 8, 4);
	le_put(data + 12, VIRTIO_BLK_WZ_UNMAP, 4);
	le_put(data + 16, 2047, 8); /* second segment: one sector past the end */
	le_put(data + 24, 2, 4);
	elem(2, 1, iov);
	assert_int_equal(blk_req_parse(&e, &v), 0);
	assert_int_equal(blk_req_segment(&v, 0, 1 << 20, 1 << 22, &s), VIRTIO_BLK_S_OK);
	assert_int_equal(s.off, 16 * 512);
	assert_int_equal(s.len, 8 * 512);
	assert_true(s.unmap);
	assert_int_equal(blk_req_segment(&v, 1, 1 << 20, 1 << 22, &s), VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req_segment(&v, 2, 1 << 20, 1 << 22, &s), VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req_segment(&v, 0, 1 << 20, 4, &s), VIRTIO_BLK_S_IOERR); /* max */
	v.type = VIRTIO_BLK_T_DISCARD; /* unmap is a WRITE_ZEROES flag only */
	assert_int_equal(blk_req_segment(&v, 0, 1 << 20, 1 << 22, &s), VIRTIO_BLK_S_UNSUPP);
	le_put(data + 12, 4, 4);
	assert_int_equal(blk_req_segment(&v, 0, 1 << 20, 1 << 22, &s), VIRTIO_BLK_S_UNSUPP);
}

static void test_iov_helpers(void **st)
{
	uint8_t a[4] = "abcd", b[4] = "efgh", out[8] = {0};
	struct iovec iov[] = {{a, 4}, {b, 4}}, sl[2];

	assert_int_equal(iov_copy(iov, 2, 2, out, 4, true), 4);
	assert_memory_equal(out, "cdef", 4);
	assert_int_equal(iov_slice(iov, 2, 3, 3, sl, 2), 2);
	assert_ptr_equal(sl[0].iov_base, a + 3);
	assert_int_equal(sl[0].iov_len, 1);
	assert_int_equal(sl[1].iov_len, 2);
	assert_int_equal(iov_slice(iov, 2, 3, 3, sl, 1), 0);  /* no room */
	assert_int_equal(iov_slice(iov, 2, 6, 4, sl, 2), 0);  /* beyond the vector */
	assert_int_equal(iov_copy(iov, 2, 6, "XYZ", 3, false), 2);
	assert_memory_equal(b, "efXY", 4);
}

static void test_lock(void **st)
{
	char path[] = "/tmp/tv-blklock-XXXXXX", want[160];
	int fd = mkstemp(path), fd2, p[2];
	struct err er = {{0}};
	pid_t child;
	char c;

	assert_true(fd >= 0);
	assert_int_equal(pipe(p), 0);
	child = fork();
	if (child == 0) {
		int cfd = open(path, O_RDWR);

		if (cfd < 0 || blk_lock(cfd, path, true, &er))
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	fd2 = open(path, O_RDONLY);
	assert_int_equal(blk_lock(fd2, path, false, &er), -EBUSY);
	snprintf(want, sizeof(want), "disk %s is in use by another VM (process %d holds its lock)",
		 path, (int)child);
	assert_string_equal(er.msg, want);
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	/* the holder is gone: two readers share, and a writer is then refused without a PID
	 * (the other reader is this process) */
	assert_int_equal(blk_lock(fd2, path, false, &er), 0);
	assert_int_equal(blk_lock(fd, path, false, &er), 0);
	close(fd);
	fd = open(path, O_RDWR);
	assert_int_equal(blk_lock(fd, path, true, &er), -EBUSY);
	snprintf(want, sizeof(want), "disk %s is in use by another VM", path);
	assert_string_equal(er.msg, want);
	close(fd);
	close(fd2);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_request),
		cmocka_unit_test(test_write_shared_descriptors),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_iov_helpers),
		cmocka_unit_test(test_lock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
