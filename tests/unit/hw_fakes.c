/* hw_fakes.c: link-time fakes and helpers shared by the device unit tests (hw_fakes.h). */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <string.h>

#include "hw_fakes.h"
#include "vm/coalesced.h"

struct hw_fake fake;

int vm_set_irq(struct vm *vm, unsigned gsi, int level)
{
	if (fake.want_gsi >= 0)
		assert_int_equal(gsi, fake.want_gsi);
	fake.irq_calls++;
	fake.irq_level = level;
	return 0;
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status)
{
	fake.stops++;
	fake.why = why;
	fake.status = status;
}

int coalesced_pio_add(struct vm *vm, uint16_t port, uint32_t len)
{
	fake.coalesced_port = port;
	fake.coalesced_len = len;
	return 0;
}

int vm_add_device(struct vm *vm, const char *name, void *state, void (*destroy)(void *))
{
	fake.adds++;
	fake.state = state;
	fake.destroy = destroy;
	return 0;
}

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
	assert_true(fake.nout + len <= sizeof(fake.out));
	memcpy(fake.out + fake.nout, buf, len);
	fake.nout += len;
}

void console_set_input(struct console *c, console_input_fn fn, void *opaque)
{
	fake.in_fn = fn;
	fake.in_opaque = opaque;
}

struct vm *hw_vm(void)
{
	static struct vm vm;

	memset(&vm, 0, sizeof(vm));
	memset(&fake, 0, sizeof(fake));
	fake.want_gsi = -1;
	return &vm;
}

extern const struct device_desc __start_tv_devices[], __stop_tv_devices[];

const struct device_desc *hw_find(const char *name)
{
	const struct device_desc *d;

	for (d = __start_tv_devices; d < __stop_tv_devices; d++)
		if (!strcmp(d->name, name))
			return d;
	fail_msg("no device '%s' in tv_devices", name);
	return NULL;
}

const struct device_desc *hw_init(struct vm *vm, const char *name)
{
	const struct device_desc *d = hw_find(name);

	assert_int_equal(d->init(vm), 0);
	return d;
}

int hw_teardown(void **st)
{
	struct vm *vm = *st;

	assert_non_null(fake.destroy);
	fake.destroy(fake.state);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	return 0;
}

uint64_t hw_rd(const struct bus *b, uint64_t addr, unsigned len)
{
	uint8_t d[8] = {0};
	uint64_t v = 0;
	unsigned i;

	assert_true(len >= 1 && len <= 8);
	assert_int_equal(bus_access(b, addr, d, len, false), 0);
	for (i = 0; i < len; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

void hw_wr(const struct bus *b, uint64_t addr, uint64_t v, unsigned len)
{
	uint8_t d[8];
	unsigned i;

	assert_true(len >= 1 && len <= 8);
	for (i = 0; i < 8; i++)
		d[i] = (uint8_t)(v >> (8 * i));
	assert_int_equal(bus_access(b, addr, d, len, true), 0);
}

uint32_t hw_in(struct vm *vm, unsigned port, unsigned len)
{
	assert_true(len <= 4);
	return (uint32_t)hw_rd(&vm->pio, port, len);
}

void hw_out(struct vm *vm, unsigned port, uint32_t v, unsigned len)
{
	assert_true(len <= 4);
	hw_wr(&vm->pio, port, v, len);
}

