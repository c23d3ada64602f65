/* test_testdev.c: the test device's register map (ports 0x510-0x51f, MMIO 0xfeb00000). */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <string.h>

#include "vm/device.h"
#include "vm/vm.h"
#include "x86/platform.h"

static struct {
	int stops, why, status, adds;
	void *state;
	void (*destroy)(void *);
} f;

int vm_set_irq(struct vm *vm, unsigned gsi, int level) { return 0; }

void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status)
{
	f.stops++;
	f.why = why;
	f.status = status;
}

int vm_add_device(struct vm *vm, const char *name, void *state, void (*destroy)(void *))
{
	f.adds++;
	f.state = state;
	f.destroy = destroy;
	return 0;
}

extern const struct device_desc __start_tv_devices[], __stop_tv_devices[];

static const struct device_desc *find(void)
{
	const struct device_desc *d;

	for (d = __start_tv_devices; d < __stop_tv_devices; d++)
		if (!strcmp(d->name, "testdev"))
			return d;
	fail();
	return NULL;
}

static int setup(void **st)
{
	static struct vm vm;

	memset(&vm, 0, sizeof(vm));
	memset(&f, 0, sizeof(f));
	vm.cfg.testdev = true;
	assert_int_equal(find()->init(&vm), 0);
	*st = &vm;
	return 0;
}

static int teardown(void **st)
{
	struct vm *vm = *st;

	f.destroy(f.state);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	return 0;
}

static uint64_t rd(const struct bus *b, uint64_t addr, unsigned len)
{
	uint8_t d[8] = {0};
	uint64_t v = 0;
	unsigned i;

	assert_int_equal(bus_access(b, addr, d, len, false), 0);
	for (i = 0; i < len; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

static void wr(const struct bus *b, uint64_t addr, uint64_t v, unsigned len)
{
	uint8_t d[8];
	unsigned i;

	for (i = 0; i < 8; i++)
		d[i] = (uint8_t)(v >> (8 * i));
	assert_int_equal(bus_access(b, addr, d, len, true), 0);
}

static void test_absent_without_flag(void **st)
{
	struct vm vm;

	memset(&vm, 0, sizeof(vm));
	memset(&f, 0, sizeof(f));
	assert_int_equal(find()->init(&vm), 0);
	assert_int_equal(f.adds, 0);
	assert_int_equal(vm.pio.n + vm.mmio.n, 0);
}

static void test_ports(void **st)
{
	struct vm *vm = *st;

	assert_int_equal(rd(&vm->pio, 0x514, 4), 0x54564453);
	assert_int_equal(rd(&vm->pio, 0x514, 1), 0x53);
	assert_int_equal(rd(&vm->pio, 0x518, 4), 0);
	wr(&vm->pio, 0x518, 0, 4);
	wr(&vm->pio, 0x518, 7, 1);
	wr(&vm->pio, 0x518, 9, 2);
	assert_int_equal(rd(&vm->pio, 0x518, 4), 3);
	assert_int_equal(rd(&vm->pio, 0x51c, 4), 0xffffffff);
	assert_int_equal(f.stops, 0);
	wr(&vm->pio, 0x510, 0x1234, 4);
	assert_int_equal(f.stops, 1);
	assert_int_equal(f.why, VM_STOP_TESTDEV);
	assert_int_equal(f.status, 0x34);
	wr(&vm->pio, 0x510, 0, 1);
	assert_int_equal(f.status, 0);
	assert_int_equal(f.stops, 2);
}

static void test_mmio(void **st)
{
	struct vm *vm = *st;
	const uint64_t base = PLAT_TESTDEV_MMIO;

	assert_int_equal(rd(&vm->mmio, base, 4), 0x746d6d69);
	assert_int_equal(rd(&vm->mmio, base + 0x10, 8), 0);
	wr(&vm->mmio, base + 8, 0x0123456789abcdefull, 8);
	assert_int_equal(rd(&vm->mmio, base + 8, 8), 0x0123456789abcdefull);
	wr(&vm->mmio, base + 8, 0xdeadbeef, 4);
	assert_int_equal(rd(&vm->mmio, base + 8, 8), 0x01234567deadbeefull);
	assert_int_equal(rd(&vm->mmio, base + 12, 4), 0x01234567);
	wr(&vm->mmio, base + 0x800, 1, 4); /* counted, otherwise ignored */
	assert_int_equal(rd(&vm->mmio, base + 0x10, 8), 3);
	assert_int_equal(rd(&vm->mmio, base + 0x800, 4), 0xffffffff);
	assert_int_equal(rd(&vm->mmio, base + 0xffc, 8), 0xffffffffffffffffull);
	wr(&vm->mmio, base + 0xffe, 0, 8);
	assert_int_equal(rd(&vm->mmio, base + 0x10, 4), 4);
	assert_int_equal(bus_access(&vm->mmio, base + 0x1000, (uint8_t[4]){0}, 4, false), -ENOENT);
	assert_int_equal(f.stops, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_absent_without_flag),
	    cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mmio, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
