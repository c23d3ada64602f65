/* img_bench.c: `thinvisor img bench`, sequential or random I/O through the block driver. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "img/img_util.h"
#include "util/clock.h"
#include "util/log.h"

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* User + system CPU seconds of this process: the cost of the I/O path, robust to a busy host. */
static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now(void) { return (double)mono_ns() / 1e9; }

int img_bench_main(int argc, char **argv)
{
	static const struct option lo[] = {{"flush", no_argument, NULL, 'F'},
					   {"pattern", required_argument, NULL, 'p'},
					   {NULL, 0, NULL, 0}};
	const char *fmt = NULL;
	uint64_t count = 75000, size = 4096, step = 0, start = 0, off, seed = 0x9E3779B97F4A7C15ull;
	bool write = false, rnd = false, flush = false;
	int c, ret = 0, pattern = 0xa5;
	struct block_dev *bd;
	struct block_open_opts o = {0};
	struct err e;
	uint8_t *buf;
	double t0, dt, c0, dc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:c:s:S:o:wrd:t:nqF", lo, NULL)) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'c':
			count = strtoull(optarg, NULL, 10);
			break;
		case 's':
			if (img_parse_size(optarg, &size) || !size || size % 512 || size > (64u << 20))
				return img_usage("bench", "bad -s SIZE (a multiple of 512, at most 64M)");
			break;
		case 'S':
			if (img_parse_size(optarg, &step) || step % 512)
				return img_usage("bench", "bad -S STEP");
			break;
		case 'o':
			if (img_parse_size(optarg, &start) || start % 512)
				return img_usage("bench", "bad -o OFFSET");
			break;
		case 'w': write = true; break;
		case 'r': rnd = true; break;
		case 'F': flush = true; break;
		case 'p': pattern = atoi(optarg); break;
		case 'd': case 't': case 'n': case 'q': break; /* qemu-img's; accepted, ignored */
		default: return img_usage("bench", "bad option (see `thinvisor help img`)");
		}
	}
	if (optind + 1 != argc)
		return img_usage("bench", "want exactly one FILE");
	if (!step)
		step = size;
	o.flags = write ? BLOCK_RDWR : 0;
	if (block_open(argv[optind], fmt, &o, &bd, &e)) {
		log_err("img bench: %s", e.msg);
		return 1;
	}
	if (block_size(bd) < start + size) {
		log_err("img bench: %s: the disk is smaller than offset + request size", argv[optind]);
		block_close(bd);
		return 1;
	}
	buf = aligned_alloc(4096, (size + 4095) / 4096 * 4096);
	if (!buf) {
		block_close(bd);
		return 1;
	}
	memset(buf, pattern, size);
	printf("Sending %" PRIu64 " %s %s requests, %" PRIu64 " bytes each (starting at offset %"
	       PRIu64 ", %s %" PRIu64 ")\n", count, rnd ? "random" : "sequential",
	       write ? "write" : "read", size, start, rnd ? "seed" : "step size", rnd ? seed : step);
	off = start;
	t0 = now();
	c0 = cpu_now();
	for (uint64_t i = 0; i < count && !ret; i++) {
		if (rnd) {
			uint64_t slots = (block_size(bd) - start) / size;

			off = start + xorshift(&seed) % slots * size;
		} else if (i && (off += step) + size > block_size(bd)) {
			off = start;
		}
		ret = write ? block_write(bd, buf, size, off) : block_read(bd, buf, size, off);
	}
	if (!ret && flush)
		ret = block_flush(bd);
	dt = now() - t0;
	dc = cpu_now() - c0;
	if (ret) {
		log_err("img bench: %s: at offset %" PRIu64 ": %s", argv[optind], off, strerror(-ret));
	} else {
		printf("Run completed in %.6f seconds.\n", dt);
		printf("CPU time %.6f seconds (user + system).\n", dc);
		printf("%.1f MiB/s, %.0f IOPS\n", (double)count * (double)size / dt / 1048576.0,
		       (double)count / dt);
	}
	free(buf);
	block_close(bd);
	return ret ? 1 : 0;
}
