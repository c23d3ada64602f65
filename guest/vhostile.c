/* vhostile: a hostile virtio driver (64-bit PVH, --transport mmio --rng --disk FILE).
 * Against virtio-rng: a descriptor chain that loops, then (after a reset) one pointing outside
 * guest RAM, then 20 more loops: each time the device must set NEEDS_RESET and raise its
 * config interrupt bit, and take nothing. Then, after a reset, it must work again (random
 * bytes). Meanwhile the disk (the other device) still reads sector 0 (the test wrote
 * "VHOSTILE" there) and writes sector 1. Last, the disk is reset while 6 MiB of reads are in
 * flight: nothing may land in their buffers after the reset, and the disk works again.
 * Exits 42 when all held, else 0x30 + the failed check. */
#include "lib/guest.h"

#define VMMIO 0xfe000000ul /* slot 0: the disk, slot 1: the rng */
#define R_MAGIC 0x000
#define R_DEVID 0x008
#define R_DRVFEAT 0x020
#define R_DRVSEL 0x024
#define R_QSEL 0x030
#define R_QNUM 0x038
#define R_QREADY 0x044
#define R_NOTIFY 0x050
#define R_ISR 0x060
#define R_ACK 0x064
#define R_STATUS 0x070
#define R_DESC 0x080
#define R_AVAIL 0x090
#define R_USED 0x0a0
#define QN 8

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static struct ring {
	struct desc d[QN];
	uint16_t avail[2 + QN + 1] __attribute__((aligned(4096)));
	volatile uint16_t used[2 + 4 * QN + 1] __attribute__((aligned(4096)));
} rng_q __attribute__((aligned(4096))), blk_q __attribute__((aligned(4096)));

static uint8_t buf[4096] __attribute__((aligned(4096)));
#define BIG ((volatile uint64_t *)0x1000000ul) /* 16 MiB: 6 MiB for reads in flight at a reset */
#define BIG_LEN (6ul << 20)
static uint8_t hdr[16], st[2];
static uint32_t first_failure;

static void verdict(int ok, uint32_t code, const char *what)
{
	con_puts(ok ? "ok: " : "FAIL: ");
	con_puts(what);
	con_putc('\n');
	if (!ok && !first_failure)
		first_failure = code;
}

static uint32_t rd(unsigned long b, unsigned r) { return mmio_read32(b + r); }
static void wr(unsigned long b, unsigned r, uint32_t v) { mmio_write32(b + r, v); }

static void zero(void *p, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		((volatile uint8_t *)p)[i] = 0;
}

/* Reset and bring the device at b up with queue 0 on ring q. Returns the status read back. */
static uint32_t dev_init(unsigned long b, struct ring *q)
{
	uint64_t a;

	wr(b, R_STATUS, 0);
	zero(q, sizeof(*q));
	wr(b, R_STATUS, 1 | 2);
	wr(b, R_DRVSEL, 1);
	wr(b, R_DRVFEAT, 1); /* VERSION_1 only */
	wr(b, R_DRVSEL, 0);
	wr(b, R_DRVFEAT, 0);
	wr(b, R_STATUS, 1 | 2 | 8);
	wr(b, R_QSEL, 0);
	wr(b, R_QNUM, QN);
	a = (uintptr_t)q->d;
	wr(b, R_DESC, (uint32_t)a), wr(b, R_DESC + 4, (uint32_t)(a >> 32));
	a = (uintptr_t)q->avail;
	wr(b, R_AVAIL, (uint32_t)a), wr(b, R_AVAIL + 4, (uint32_t)(a >> 32));
	a = (uintptr_t)q->used;
	wr(b, R_USED, (uint32_t)a), wr(b, R_USED + 4, (uint32_t)(a >> 32));
	wr(b, R_QREADY, 1);
	wr(b, R_STATUS, 1 | 2 | 8 | 4);
	return rd(b, R_STATUS);
}

static void post(unsigned long b, struct ring *q, uint16_t head)
{
	uint16_t i = q->avail[1];

	q->avail[2 + i % QN] = head;
	__asm__ volatile("" ::: "memory");
	q->avail[1] = (uint16_t)(i + 1);
	__asm__ volatile("mfence" ::: "memory");
	wr(b, R_NOTIFY, 0);
}

/* Wait until the used index reaches want, or the status has NEEDS_RESET. 1 if it did. */
static int wait_for(unsigned long b, struct ring *q, uint16_t want, int broken)
{
	/* a status poll exits to the monitor each time; the used index is plain memory */
	for (long i = 0; i < (broken ? 2000000 : 200000000); i++) {
		if (broken ? (rd(b, R_STATUS) & 0x40) : q->used[1] == want)
			return 1;
		cpu_relax();
	}
	return 0;
}

static int hostile_loop(unsigned long rng)
{
	dev_init(rng, &rng_q);
	rng_q.d[0] = (struct desc){(uintptr_t)buf, 16, 1 | 2, 1};
	rng_q.d[1] = (struct desc){(uintptr_t)buf, 16, 1 | 2, 0};
	post(rng, &rng_q, 0);
	return wait_for(rng, &rng_q, 0, 1) && rng_q.used[1] == 0 && (rd(rng, R_ISR) & 2);
}

/* Read sector 0 into buf with the chain at descriptor 0; want = the used index after. */
static int read_sector0(unsigned long disk, uint16_t want)
{
	hdr[0] = 0; /* IN */
	hdr[8] = 0;
	blk_q.d[0] = (struct desc){(uintptr_t)hdr, 16, 1, 1};
	blk_q.d[1] = (struct desc){(uintptr_t)buf, 512, 1 | 2, 2};
	blk_q.d[2] = (struct desc){(uintptr_t)st, 1, 2, 0};
	st[0] = 0xff;
	zero(buf, 8);
	post(disk, &blk_q, 0);
	return wait_for(disk, &blk_q, want, 0) && st[0] == 0 && buf[0] == 'V' && buf[7] == 'E';
}

/* Words of the big buffer that are no longer zero. */
static unsigned long landed(void)
{
	unsigned long n = 0;

	for (unsigned long i = 0; i < BIG_LEN / 8; i++)
		n += BIG[i] != 0;
	return n;
}

/* Two 3 MiB reads (the disk holds a pattern from 1 MiB on), then a reset as soon as the first
 * bytes arrive: once the status reads back 0 the buffers are the driver's again, so nothing
 * may land in them afterwards, and nothing may be used. */
static void reset_midread(unsigned long disk)
{
	static uint8_t hdr2[2][16], st2[2];
	unsigned long before, after = 0;
	long spin;

	dev_init(disk, &blk_q);
	for (unsigned long i = 0; i < BIG_LEN / 8; i++)
		BIG[i] = 0;
	for (int k = 0; k < 2; k++) {
		hdr2[k][0] = 0; /* IN */
		hdr2[k][8] = (uint8_t)(2048 + k * 6144); /* sector 2048 = 1 MiB, then 4 MiB */
		hdr2[k][9] = (uint8_t)((2048 + k * 6144) >> 8);
		blk_q.d[3 * k] = (struct desc){(uintptr_t)hdr2[k], 16, 1, (uint16_t)(3 * k + 1)};
		blk_q.d[3 * k + 1] = (struct desc){(uintptr_t)BIG + k * (BIG_LEN / 2), BIG_LEN / 2,
						   1 | 2, (uint16_t)(3 * k + 2)};
		blk_q.d[3 * k + 2] = (struct desc){(uintptr_t)&st2[k], 1, 2, 0};
	}
	post(disk, &blk_q, 0);
	post(disk, &blk_q, 3);
	for (spin = 0; spin < 200000000 && !BIG[0] && !BIG[BIG_LEN / 16]; spin++)
		cpu_relax();
	wr(disk, R_STATUS, 0);
	before = rd(disk, R_STATUS) == 0 ? landed() : 0;
	for (spin = 0; spin < 20000000; spin++)
		cpu_relax();
	after = landed();
	verdict(before && before == after && blk_q.used[1] == 0, 0x39,
		"disk: reset with 6 MiB of reads in flight: nothing lands after it, nothing used");
	if (before != after) {
		con_puts("vhostile: words landed at the reset / later: ");
		con_putu(before);
		con_puts(" / ");
		con_putu(after);
		con_putc('\n');
	}
}

void gmain(uint32_t eax, uint32_t start_info)
{
	unsigned long disk = VMMIO, rng = VMMIO + 0x1000;
	int ok, n;

	con_puts("vhostile: hostile virtio driver\n");
	verdict(rd(disk, R_MAGIC) == 0x74726976 && rd(disk, R_DEVID) == 2 &&
			rd(rng, R_MAGIC) == 0x74726976 && rd(rng, R_DEVID) == 4,
		0x30, "virtio-mmio slots: disk at 0xfe000000, rng at 0xfe001000");
	verdict(dev_init(disk, &blk_q) == 0xf, 0x31, "disk: driver ok");

	verdict(hostile_loop(rng), 0x32, "rng: looping chain -> NEEDS_RESET, config interrupt, nothing used");

	dev_init(rng, &rng_q);
	rng_q.d[0] = (struct desc){0x7f00000000ull, 16, 2, 0}; /* far outside RAM */
	post(rng, &rng_q, 0);
	verdict(wait_for(rng, &rng_q, 0, 1) && rng_q.used[1] == 0, 0x33,
		"rng: descriptor outside RAM -> NEEDS_RESET, nothing used");

	for (n = 0, ok = 1; n < 20; n++)
		ok &= hostile_loop(rng);
	verdict(ok, 0x34, "rng: 20 more looping chains, NEEDS_RESET each time");

	/* the other device was never disturbed: read sector 0, write sector 1 */
	verdict(read_sector0(disk, 1), 0x35, "disk: sector 0 reads VHOSTILE");
	for (int i = 0; i < 512; i++)
		buf[i] = "GUESTWROTE"[i % 10];
	hdr[0] = 1; /* OUT */
	hdr[8] = 1;
	blk_q.d[1].flags = 1;
	st[0] = 0xff;
	post(disk, &blk_q, 0);
	verdict(wait_for(disk, &blk_q, 2, 0) && st[0] == 0, 0x36, "disk: sector 1 written");

	/* reset brings the rng back */
	verdict(dev_init(rng, &rng_q) == 0xf, 0x37, "rng: reset clears NEEDS_RESET");
	zero(buf, 64);
	rng_q.d[0] = (struct desc){(uintptr_t)buf, 64, 2, 0};
	post(rng, &rng_q, 0);
	ok = wait_for(rng, &rng_q, 1, 0) && rng_q.used[3] == 0 && rng_q.used[4] == 64;
	for (n = 0; n < 64 && !buf[n]; n++)
		;
	verdict(ok && n < 64, 0x38, "rng: works again after the reset (64 random bytes)");

	reset_midread(disk);
	verdict(dev_init(disk, &blk_q) == 0xf && read_sector0(disk, 1), 0x3a,
		"disk: works again after that reset (sector 0 reads VHOSTILE)");

	con_puts(first_failure ? "vhostile: FAIL\n" : "vhostile: PASS\n");
	outl(TESTDEV_EXIT, first_failure ? first_failure : 42);
	for (;;)
		__asm__ volatile("hlt");
}
