/* rtc.c: MC146818 CMOS real-time clock at PLAT_RTC_PORT (0x70 index, 0x71 data).
 *
 * 0x70 write: index (bit 7, the NMI mask, is ignored); 0x70 reads 0xff.
 * Registers: 0x00 seconds, 0x02 minutes, 0x04 hours, 0x06 day of week (1 = Sunday, derived
 * from the date, writes ignored), 0x07 day, 0x08 month, 0x09 year, 0x32 century;
 * 0x01/0x03/0x05 alarm bytes (stored only); 0x0a status A (UIP always 0, reset 0x26);
 * 0x0b status B (SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE stored; DM and 24/12 honoured,
 * reset 0x02 = 24-hour BCD); 0x0c status C (read-to-clear; only UF, set when a second boundary
 * passed since the last read); 0x0d status D (0x80, valid RAM and time); the other bytes up to
 * 0x7f are plain CMOS RAM (the memory-size bytes set from the VM's RAM, rtc_cmos_memory).
 * The time is the host's UTC clock at each read plus an offset that guest writes to the time
 * registers set. While SET is on, the time registers hold still and take writes; clearing SET
 * starts the clock from what was written (how `hwclock -w` works). Not emulated: the periodic,
 * alarm and update-ended interrupts (IRQ PLAT_RTC_IRQ is never raised, whatever B enables), the
 * divider chain reset, daylight saving. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm/config.h"
#include "vm/devif.h"
#include "x86/platform.h"

#define RTC_SEC 0x00
#define RTC_MIN 0x02
#define RTC_HOUR 0x04
#define RTC_WDAY 0x06
#define RTC_MDAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32
#define RTC_A_UIP 0x80
#define RTC_B_SET 0x80
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80
#define RTC_HOUR_PM 0x80
#define RTC_NREGS 128

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[RTC_NREGS];
	int64_t offset;	  /* guest seconds minus host seconds */
	struct tm set_tm; /* the held time while B.SET is on */
	time_t last_c;	  /* host second of the last status C read */
};

static time_t host_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static bool rtc_binary(const struct rtc *r) { return r->ram[RTC_REG_B] & RTC_B_DM_BINARY; }

static uint8_t rtc_enc(const struct rtc *r, int v)
{
	v = v < 0 ? 0 : v % 100;
	return rtc_binary(r) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static int rtc_dec(const struct rtc *r, uint8_t b)
{
	return rtc_binary(r) ? b : (b >> 4) * 10 + (b & 0x0f);
}

/* The guest's current broken-down time. */
static void rtc_get_tm(const struct rtc *r, struct tm *tm)
{
	time_t t;

	if (r->ram[RTC_REG_B] & RTC_B_SET) {
		*tm = r->set_tm;
		return;
	}
	t = (time_t)(host_now() + r->offset);
	if (!gmtime_r(&t, tm))
		memset(tm, 0, sizeof(*tm));
}

/* Make tm the guest's time from now on (ignored if it does not convert). */
static void rtc_set_tm(struct rtc *r, struct tm *tm)
{
	time_t t;

	if (r->ram[RTC_REG_B] & RTC_B_SET) {
		r->set_tm = *tm;
		return;
	}
	t = timegm(tm);
	if (t != (time_t)-1)
		r->offset = (int64_t)t - host_now();
}

static uint8_t rtc_read_hour(const struct rtc *r, int h)
{
	if (r->ram[RTC_REG_B] & RTC_B_24H)
		return rtc_enc(r, h);
	return rtc_enc(r, h % 12 ? h % 12 : 12) | (h >= 12 ? RTC_HOUR_PM : 0);
}

static int rtc_write_hour(const struct rtc *r, uint8_t v)
{
	int h;

	if (r->ram[RTC_REG_B] & RTC_B_24H)
		return rtc_dec(r, v);
	h = rtc_dec(r, v & ~RTC_HOUR_PM) % 12;
	return (v & RTC_HOUR_PM) ? h + 12 : h;
}

static uint8_t rtc_read(struct rtc *r, unsigned reg)
{
	struct tm tm;
	time_t now;
	uint8_t v;

	rtc_get_tm(r, &tm);
	switch (reg) {
	case RTC_SEC:
		return rtc_enc(r, tm.tm_sec);
	case RTC_MIN:
		return rtc_enc(r, tm.tm_min);
	case RTC_HOUR:
		return rtc_read_hour(r, tm.tm_hour);
	case RTC_WDAY:
		return rtc_enc(r, tm.tm_wday + 1);
	case RTC_MDAY:
		return rtc_enc(r, tm.tm_mday);
	case RTC_MONTH:
		return rtc_enc(r, tm.tm_mon + 1);
	case RTC_YEAR:
		return rtc_enc(r, (tm.tm_year + 1900) % 100);
	case RTC_CENTURY:
		return rtc_enc(r, (tm.tm_year + 1900) / 100);
	case RTC_REG_A:
		return r->ram[RTC_REG_A] & ~RTC_A_UIP;
	case RTC_REG_C:
		now = host_now();
		v = now != r->last_c ? RTC_C_UF : 0;
		r->last_c = now;
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return r->ram[reg];
	}
}

static void rtc_write_b(struct rtc *r, uint8_t v)
{
	uint8_t old = r->ram[RTC_REG_B];

	if ((v & RTC_B_SET) && !(old & RTC_B_SET))
		rtc_get_tm(r, &r->set_tm);
	r->ram[RTC_REG_B] = v;
	if (!(v & RTC_B_SET) && (old & RTC_B_SET))
		rtc_set_tm(r, &r->set_tm);
}

static void rtc_write(struct rtc *r, unsigned reg, uint8_t v)
{
	struct tm tm;
	int year;

	rtc_get_tm(r, &tm);
	year = tm.tm_year + 1900;
	switch (reg) {
	case RTC_SEC:
		tm.tm_sec = rtc_dec(r, v);
		break;
	case RTC_MIN:
		tm.tm_min = rtc_dec(r, v);
		break;
	case RTC_HOUR:
		tm.tm_hour = rtc_write_hour(r, v);
		break;
	case RTC_MDAY:
		tm.tm_mday = rtc_dec(r, v);
		break;
	case RTC_MONTH:
		tm.tm_mon = rtc_dec(r, v) - 1;
		break;
	case RTC_YEAR:
		tm.tm_year = year - year % 100 + rtc_dec(r, v) - 1900;
		break;
	case RTC_CENTURY:
		tm.tm_year = rtc_dec(r, v) * 100 + year % 100 - 1900;
		break;
	case RTC_REG_A:
		r->ram[RTC_REG_A] = v & ~RTC_A_UIP;
		return;
	case RTC_REG_B:
		rtc_write_b(r, v);
		return;
	case RTC_WDAY:
	case RTC_REG_C:
	case RTC_REG_D:
		return;
	default:
		r->ram[reg] = v;
		return;
	}
	rtc_set_tm(r, &tm);
}

/* One byte at port offset off (0 index, 1 data). */
static void rtc_byte(struct rtc *r, uint64_t off, uint8_t *b, bool wr)
{
	if (off == 0) {
		if (wr)
			r->index = *b & 0x7f;
		else
			*b = 0xff;
	} else if (wr) {
		rtc_write(r, r->index, *b);
	} else {
		*b = rtc_read(r, r->index);
	}
}

static void rtc_pio_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct rtc *r = opaque;
	unsigned i;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < len; i++) {
		data[i] = 0xff;
		if (off + i < 2)
			rtc_byte(r, off + i, &data[i], false);
	}
	pthread_mutex_unlock(&r->lock);
}

static void rtc_pio_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct rtc *r = opaque;
	unsigned i;
	uint8_t b;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < len && off + i < 2; i++) {
		b = data[i];
		rtc_byte(r, off + i, &b, true);
	}
	pthread_mutex_unlock(&r->lock);
}

static const struct bus_ops rtc_ops = {.read = rtc_pio_read, .write = rtc_pio_write};

static void rtc_destroy(void *opaque)
{
	struct rtc *r = opaque;

	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* The memory-size bytes a PC BIOS reads (SeaBIOS falls back on them without fw_cfg):
 * 0x15/0x16 base memory (640 KiB), 0x17/0x18 and 0x30/0x31 KiB from 1 MiB (at most 0xffff),
 * 0x34/0x35 64 KiB blocks from 16 MiB to the end of low RAM, 0x5b-0x5d 64 KiB blocks above
 * 4 GiB, 0x5f the vCPU count minus one. */
static void rtc_cmos_memory(uint8_t *ram, uint64_t low, uint64_t high, unsigned ncpus)
{
	uint64_t ext = low > (1u << 20) ? (low - (1u << 20)) >> 10 : 0;
	uint64_t over16 = low > (16u << 20) ? (low - (16u << 20)) >> 16 : 0;
	uint64_t over4g = high >> 16;

	ext = ext > 0xffff ? 0xffff : ext;
	over16 = over16 > 0xffff ? 0xffff : over16;
	over4g = over4g > 0xffffff ? 0xffffff : over4g;
	ram[0x15] = 0x80;
	ram[0x16] = 0x02;
	ram[0x17] = ram[0x30] = (uint8_t)ext;
	ram[0x18] = ram[0x31] = (uint8_t)(ext >> 8);
	ram[0x34] = (uint8_t)over16;
	ram[0x35] = (uint8_t)(over16 >> 8);
	ram[0x5b] = (uint8_t)over4g;
	ram[0x5c] = (uint8_t)(over4g >> 8);
	ram[0x5d] = (uint8_t)(over4g >> 16);
	ram[0x5f] = (uint8_t)(ncpus ? ncpus - 1 : 0);
}

static int rtc_init(struct vm *vm)
{
	struct rtc *r = calloc(1, sizeof(*r));
	const struct gmem *m = devif_mem(vm);
	int ret;

	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->ram[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	r->ram[RTC_REG_B] = RTC_B_24H;
	r->last_c = host_now();
	rtc_cmos_memory(r->ram, m->nregions ? m->r[0].size : 0, m->nregions > 1 ? m->r[1].size : 0,
			devif_config(vm)->ncpus);
	ret = devif_add_device(vm, "rtc", r, rtc_destroy);
	if (ret) {
		rtc_destroy(r);
		return ret;
	}
	return devif_pio_register(vm, PLAT_RTC_PORT, 2, &rtc_ops, r, "rtc");
}

DEVICE_REGISTER(rtc, DEV_PHASE_PLATFORM, rtc_init);
