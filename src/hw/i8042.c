/* i8042.c: the PS/2 keyboard controller at PLAT_I8042_DATA / PLAT_I8042_CMD, with nothing
 * plugged in; it exists so guests can probe it and reset the machine through it. Also port
 * 0x92 (system control port A: bit 0 = fast reset, bit 1 = A20).
 *
 * Status (read 0x64): OBF 0x01, SYS 0x04, CMD 0x08 (last write went to 0x64), keyboard not
 * inhibited 0x10, AUX data 0x20. Commands (write 0x64):
 *   0x20-0x3f read RAM byte (0x20: command byte, reset 0x45)  0x60-0x7f write RAM byte
 *   0xa7/0xa8 disable/enable AUX   0xa9 AUX test -> 0x00   0xaa self test -> 0x55
 *   0xab keyboard test -> 0x00     0xad/0xae disable/enable keyboard
 *   0xc0 input port -> 0x80        0xd0 output port -> value   0xd1 write output port (bit 0
 *   clear resets)  0xd2/0xd3 echo the next data byte as keyboard/AUX data  0xd4 next byte to
 *   the (absent) mouse: dropped   0xdd/0xdf A20 off/on   0xe0 test inputs -> 0x00
 *   0xf0-0xff pulse output lines: bit 0 clear (0xfe) resets.
 * A reset is devif_request_stop(DEVIF_STOP_REBOOT). Data bytes meant for the keyboard are dropped,
 * and no interrupt is ever raised (no device behind it); the output buffer holds one byte. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "vm/devif.h"
#include "x86/platform.h"

#ifndef PLAT_PORT92 /* not (yet) in x86/platform.h */
#define PLAT_PORT92 0x92
#endif

#define STS_OBF 0x01
#define STS_SYS 0x04
#define STS_CMD 0x08
#define STS_NOINH 0x10
#define STS_AUX 0x20
#define CTR_SYS 0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define OUT_RESET 0x01 /* output port bit 0: 0 holds the CPU in reset */
#define OUT_A20 0x02

struct i8042 {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t ram[32]; /* ram[0] is the command byte */
	uint8_t outport;
	uint8_t obuf;
	bool obf, obf_aux;
	bool last_cmd;	 /* last write went to the command port */
	uint8_t pending; /* command waiting for its data byte, or 0 */
	uint8_t port92;
};

static void kbc_output(struct i8042 *k, uint8_t v, bool aux)
{
	k->obuf = v;
	k->obf = true;
	k->obf_aux = aux;
}

/* Returns true if the command resets the machine. */
static bool kbc_command(struct i8042 *k, uint8_t cmd)
{
	k->pending = 0;
	if (cmd >= 0x20 && cmd <= 0x3f) {
		kbc_output(k, k->ram[cmd & 0x1f], false);
		return false;
	}
	if ((cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4)) {
		k->pending = cmd;
		return false;
	}
	if (cmd >= 0xf0)
		return !(cmd & OUT_RESET);
	switch (cmd) {
	case 0xa7:
		k->ram[0] |= CTR_AUXDIS;
		break;
	case 0xa8:
		k->ram[0] &= ~CTR_AUXDIS;
		break;
	case 0xa9:
		kbc_output(k, 0x00, false);
		break;
	case 0xaa:
		k->ram[0] |= CTR_SYS;
		kbc_output(k, 0x55, false);
		break;
	case 0xab:
		kbc_output(k, 0x00, false);
		break;
	case 0xad:
		k->ram[0] |= CTR_KBDDIS;
		break;
	case 0xae:
		k->ram[0] &= ~CTR_KBDDIS;
		break;
	case 0xc0:
		kbc_output(k, 0x80, false);
		break;
	case 0xd0:
		kbc_output(k, k->outport, false);
		break;
	case 0xdd:
		k->outport &= ~OUT_A20;
		break;
	case 0xdf:
		k->outport |= OUT_A20;
		break;
	case 0xe0:
		kbc_output(k, 0x00, false);
		break;
	default:
		break; /* unknown: ignored */
	}
	return false;
}

/* A byte written to the data port. Returns true to reset. */
static bool kbc_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	if (cmd >= 0x60 && cmd <= 0x7f) {
		k->ram[cmd & 0x1f] = v;
	} else if (cmd == 0xd1) {
		k->outport = v;
		return !(v & OUT_RESET);
	} else if (cmd == 0xd2 || cmd == 0xd3) {
		kbc_output(k, v, cmd == 0xd3);
	}
	/* 0xd4 (to the mouse) and plain keyboard bytes: no device, dropped */
	return false;
}

static uint8_t kbc_status(const struct i8042 *k)
{
	uint8_t s = STS_NOINH;

	if (k->obf)
		s |= STS_OBF | (k->obf_aux ? STS_AUX : 0);
	if (k->ram[0] & CTR_SYS)
		s |= STS_SYS;
	if (k->last_cmd)
		s |= STS_CMD;
	return s;
}

/* Port access: which is PLAT_I8042_DATA, PLAT_I8042_CMD or PLAT_PORT92. Only the first byte
 * of a wider access reaches the register; the rest reads all ones. */
static void kbc_access(struct i8042 *k, unsigned which, uint8_t *data, unsigned len, bool wr)
{
	bool reset = false;

	if (!len)
		return;
	pthread_mutex_lock(&k->lock);
	if (!wr) {
		if (which == PLAT_I8042_CMD) {
			data[0] = kbc_status(k);
		} else if (which == PLAT_I8042_DATA) {
			data[0] = k->obuf;
			k->obf = k->obf_aux = false;
		} else {
			data[0] = k->port92;
		}
		for (unsigned i = 1; i < len; i++)
			data[i] = 0xff;
	} else if (which == PLAT_I8042_CMD) {
		k->last_cmd = true;
		reset = kbc_command(k, data[0]);
	} else if (which == PLAT_I8042_DATA) {
		k->last_cmd = false;
		reset = kbc_data(k, data[0]);
	} else {
		k->port92 = data[0] & OUT_A20;
		reset = data[0] & 0x01;
	}
	pthread_mutex_unlock(&k->lock);
	if (reset)
		devif_request_stop(k->vm, DEVIF_STOP_REBOOT);
}

#define KBC_PORT_OPS(name, port)                                                                   \
	static void name##_read(void *o, uint64_t off, uint8_t *d, unsigned len)                   \
	{                                                                                          \
		kbc_access(o, port, d, len, false);                                                \
	}                                                                                          \
	static void name##_write(void *o, uint64_t off, const uint8_t *d, unsigned len)            \
	{                                                                                          \
		uint8_t b = len ? d[0] : 0;                                                        \
		if (len)                                                                           \
			kbc_access(o, port, &b, 1, true);                                          \
	}                                                                                          \
	static const struct bus_ops name##_ops = {.read = name##_read, .write = name##_write}

KBC_PORT_OPS(kbc_data_port, PLAT_I8042_DATA);
KBC_PORT_OPS(kbc_cmd_port, PLAT_I8042_CMD);
KBC_PORT_OPS(kbc_port92, PLAT_PORT92);

static void i8042_destroy(void *opaque)
{
	struct i8042 *k = opaque;

	pthread_mutex_destroy(&k->lock);
	free(k);
}

static int i8042_init(struct vm *vm)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	k->vm = vm;
	pthread_mutex_init(&k->lock, NULL);
	k->ram[0] = 0x45; /* translate, system flag, keyboard interrupt */
	k->outport = OUT_RESET | OUT_A20;
	k->port92 = OUT_A20;
	ret = devif_add_device(vm, "i8042", k, i8042_destroy);
	if (ret) {
		i8042_destroy(k);
		return ret;
	}
	ret = devif_pio_register(vm, PLAT_I8042_DATA, 1, &kbc_data_port_ops, k, "i8042-data");
	if (!ret)
		ret = devif_pio_register(vm, PLAT_I8042_CMD, 1, &kbc_cmd_port_ops, k, "i8042-cmd");
	if (!ret)
		ret = devif_pio_register(vm, PLAT_PORT92, 1, &kbc_port92_ops, k, "port92");
	return ret;
}

DEVICE_REGISTER(i8042, DEV_PHASE_PLATFORM, i8042_init);
