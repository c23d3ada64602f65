/* testdev.c: the test device for the project's own test guests (guest/), attached only with
 * --testdev (the configuration's testdev). Register map (little-endian; any access size works
 * bytewise):
 *
 *   Port PLAT_TESTDEV_PORT (16 ports, 0x520-0x52f):
 *     0x520  write v (1, 2 or 4 bytes): stop the VM (devif_request_exit), status v & 0xff
 *            (the process then exits with that status)
 *     0x524  read: 0x54564453 ("SDVT"), the presence magic
 *     0x528  write anything: counter += 1; read: the counter (32 bits)
 *   MMIO PLAT_TESTDEV_MMIO (4 KiB, 0xfeb00000):
 *     +0x00  read: 0x746d6d69 (4 bytes)
 *     +0x08  scratch, 8 bytes: reads back what was written (4- or 8-byte accesses)
 *     +0x10  read: the number of MMIO writes seen so far (8 bytes), every offset counted
 * Everything else reads all ones and ignores writes. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "vm/config.h"
#include "vm/devif.h"
#include "x86/platform.h"

#define TD_NPORTS 16
#define TD_PORT_EXIT 0
#define TD_PORT_MAGIC 4
#define TD_PORT_COUNTER 8
#define TD_PORT_MAGIC_VALUE 0x54564453u
#define TD_MMIO_LEN 0x1000
#define TD_MMIO_MAGIC 0x00
#define TD_MMIO_SCRATCH 0x08
#define TD_MMIO_WRITES 0x10
#define TD_MMIO_MAGIC_VALUE 0x746d6d69u

struct testdev {
	struct vm *vm;
	pthread_mutex_t lock;
	uint32_t counter;
	uint64_t scratch;
	uint64_t mmio_writes;
};

/* Byte o - base of the n-byte little-endian value v, or -1 if o is outside it. */
static int reg_byte(uint64_t o, uint64_t base, unsigned n, uint64_t v)
{
	return o - base < n ? (uint8_t)(v >> (8 * (o - base))) : -1;
}

static void td_pio_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct testdev *t = opaque;
	unsigned i;
	int b;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < len; i++) {
		b = reg_byte(off + i, TD_PORT_MAGIC, 4, TD_PORT_MAGIC_VALUE);
		if (b < 0)
			b = reg_byte(off + i, TD_PORT_COUNTER, 4, t->counter);
		data[i] = b < 0 ? 0xff : (uint8_t)b;
	}
	pthread_mutex_unlock(&t->lock);
}

static void td_pio_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct testdev *t = opaque;

	if (!len)
		return;
	if (off == TD_PORT_EXIT) {
		devif_request_exit(t->vm, data[0]);
	} else if (off == TD_PORT_COUNTER) {
		pthread_mutex_lock(&t->lock);
		t->counter++;
		pthread_mutex_unlock(&t->lock);
	}
}

static void td_mmio_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct testdev *t = opaque;
	unsigned i;
	int b;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < len; i++) {
		b = reg_byte(off + i, TD_MMIO_MAGIC, 4, TD_MMIO_MAGIC_VALUE);
		if (b < 0)
			b = reg_byte(off + i, TD_MMIO_SCRATCH, 8, t->scratch);
		if (b < 0)
			b = reg_byte(off + i, TD_MMIO_WRITES, 8, t->mmio_writes);
		data[i] = b < 0 ? 0xff : (uint8_t)b;
	}
	pthread_mutex_unlock(&t->lock);
}

static void td_mmio_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct testdev *t = opaque;
	unsigned i, sh;

	pthread_mutex_lock(&t->lock);
	t->mmio_writes++;
	for (i = 0; i < len; i++) {
		if (off + i - TD_MMIO_SCRATCH >= 8)
			continue;
		sh = 8 * (unsigned)(off + i - TD_MMIO_SCRATCH);
		t->scratch = (t->scratch & ~(0xffull << sh)) | (uint64_t)data[i] << sh;
	}
	pthread_mutex_unlock(&t->lock);
}

static const struct bus_ops td_pio_ops = {.read = td_pio_read, .write = td_pio_write};
static const struct bus_ops td_mmio_ops = {.read = td_mmio_read, .write = td_mmio_write};

static void td_destroy(void *opaque)
{
	struct testdev *t = opaque;

	pthread_mutex_destroy(&t->lock);
	free(t);
}

static int td_init(struct vm *vm)
{
	struct testdev *t;
	int ret;

	if (!devif_config(vm)->testdev)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->vm = vm;
	pthread_mutex_init(&t->lock, NULL);
	ret = devif_add_device(vm, "testdev", t, td_destroy);
	if (ret) {
		td_destroy(t);
		return ret;
	}
	ret = devif_pio_register(vm, PLAT_TESTDEV_PORT, TD_NPORTS, &td_pio_ops, t, "testdev");
	if (ret)
		return ret;
	return devif_mmio_register(vm, PLAT_TESTDEV_MMIO, TD_MMIO_LEN, &td_mmio_ops, t, "testdev");
}

DEVICE_REGISTER(testdev, DEV_PHASE_PLATFORM, td_init);
