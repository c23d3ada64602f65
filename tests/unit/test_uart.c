/* test_uart.c: the 16550A model driven through the port bus, with link-time fakes for the VM
 * and console functions it calls (hw_fakes). */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <linux/serial_reg.h>
#include <string.h>

#include "hw_fakes.h"
#include "x86/platform.h"

/* ---- helpers ---- */
static int setup(void **st)
{
	static int dummy_console;
	struct vm *vm = hw_vm();

	fake.want_gsi = PLAT_COM1_IRQ;
	vm->console = (struct console *)&dummy_console;
	assert_int_equal(hw_init(vm, "uart16550")->phase, DEV_PHASE_PLATFORM);
	assert_non_null(fake.in_fn);
	*st = vm;
	return 0;
}

static uint8_t in8(struct vm *vm, unsigned reg)
{
	return (uint8_t)hw_in(vm, PLAT_COM1_PORT + reg, 1);
}

static void out8(struct vm *vm, unsigned reg, uint8_t v) { hw_out(vm, PLAT_COM1_PORT + reg, v, 1); }

static void type(const char *s) { fake.in_fn(fake.in_opaque, (const uint8_t *)s, strlen(s)); }

/* ---- tests ---- */

/* Linux 8250 autoconfig(): IER scratch test, loopback test, FIFO detection => 16550A. */
static void test_autoconfig(void **st)
{
	struct vm *vm = *st;
	uint8_t save_ier, s2, s3, save_lcr, save_mcr;

	save_ier = in8(vm, UART_IER);
	out8(vm, UART_IER, 0);
	s2 = in8(vm, UART_IER) & 0x0f;
	out8(vm, UART_IER, 0x0f);
	s3 = in8(vm, UART_IER) & 0x0f;
	out8(vm, UART_IER, save_ier);
	assert_int_equal(s2, 0);
	assert_int_equal(s3, 0x0f);

	save_lcr = in8(vm, UART_LCR);
	save_mcr = in8(vm, UART_MCR);
	out8(vm, UART_MCR, UART_MCR_LOOP | 0x0a);
	assert_int_equal(in8(vm, UART_MSR) & 0xf0, 0x90);
	out8(vm, UART_MCR, save_mcr);

	out8(vm, UART_LCR, UART_LCR_CONF_MODE_B);
	out8(vm, UART_EFR, 0);
	out8(vm, UART_LCR, 0);
	out8(vm, UART_FCR, UART_FCR_ENABLE_FIFO);
	assert_int_equal(in8(vm, UART_IIR) >> 6, 3);

	/* autoconfig_16550a: EFR probes read IIR (non-zero), no 16750 64-byte bit, no UUE */
	out8(vm, UART_LCR, UART_LCR_CONF_MODE_A);
	assert_int_not_equal(in8(vm, UART_EFR), 0);
	out8(vm, UART_LCR, UART_LCR_CONF_MODE_B);
	assert_int_not_equal(in8(vm, UART_EFR), 0);
	out8(vm, UART_LCR, 0);
	out8(vm, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
	assert_int_equal(in8(vm, UART_IIR) & 0x20, 0);
	out8(vm, UART_IER, UART_IER_UUE);
	assert_int_equal(in8(vm, UART_IER) & UART_IER_UUE, 0);
	out8(vm, UART_IER, 0);
	out8(vm, UART_LCR, save_lcr);
	assert_int_equal(in8(vm, UART_LCR), save_lcr);

	/* scratch register */
	out8(vm, UART_SCR, 0xa5);
	assert_int_equal(in8(vm, UART_SCR), 0xa5);
	assert_int_equal(fake.irq_level, 0); /* IER 0x0f pulsed the line (THRE), as hardware does */
}

static void test_divisor_latch(void **st)
{
	struct vm *vm = *st;

	out8(vm, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	out8(vm, UART_DLL, 0x01);
	out8(vm, UART_DLM, 0x02);
	assert_int_equal(in8(vm, UART_DLL), 0x01);
	assert_int_equal(in8(vm, UART_DLM), 0x02);
	out8(vm, UART_LCR, UART_LCR_WLEN8);
	assert_int_equal(in8(vm, UART_IER), 0);
	out8(vm, UART_TX, 'x'); /* THR, not DLL */
	assert_int_equal(fake.nout, 1);
	out8(vm, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	assert_int_equal(in8(vm, UART_DLL), 0x01);
}

static void test_loopback(void **st)
{
	struct vm *vm = *st;

	out8(vm, UART_FCR, UART_FCR_ENABLE_FIFO);
	out8(vm, UART_MCR, UART_MCR_LOOP);
	in8(vm, UART_MSR);
	out8(vm, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT1);
	assert_int_equal(in8(vm, UART_MSR), UART_MSR_DSR | UART_MSR_RI | UART_MSR_DDSR);
	out8(vm, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	assert_int_equal(in8(vm, UART_MSR), UART_MSR_DSR | UART_MSR_TERI);
	assert_int_equal(in8(vm, UART_MSR), UART_MSR_DSR); /* deltas cleared by the read */
	out8(vm, UART_TX, 'L');
	assert_int_equal(fake.nout, 0);
	assert_true(in8(vm, UART_LSR) & UART_LSR_DR);
	assert_int_equal(in8(vm, UART_RX), 'L');
	assert_false(in8(vm, UART_LSR) & UART_LSR_DR);
	type("ignored");
	assert_false(in8(vm, UART_LSR) & UART_LSR_DR);
	out8(vm, UART_MCR, 0);
	assert_int_equal(in8(vm, UART_MSR) & 0xf0, 0xb0);
}

/* serial8250_do_startup's THRE test, then output through THR. */
static void test_thre_interrupt(void **st)
{
	struct vm *vm = *st;

	assert_int_equal(in8(vm, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), 0x60);
	out8(vm, UART_IER, UART_IER_THRI);
	assert_int_equal(fake.irq_level, 1);
	assert_int_equal(in8(vm, UART_IIR) & 0x0f, UART_IIR_THRI);
	assert_int_equal(fake.irq_level, 0);
	assert_int_equal(in8(vm, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	out8(vm, UART_IER, 0);
	out8(vm, UART_IER, UART_IER_THRI);
	assert_int_equal(in8(vm, UART_IIR) & 0x0f, UART_IIR_THRI);
	out8(vm, UART_IER, 0);
	assert_int_equal(fake.irq_level, 0);

	/* re-writing IER with THRI already set does not re-arm */
	out8(vm, UART_IER, UART_IER_THRI);
	in8(vm, UART_IIR);
	out8(vm, UART_IER, UART_IER_THRI | UART_IER_RDI);
	assert_int_equal(in8(vm, UART_IIR) & 0x0f, UART_IIR_NO_INT);

	/* a THR write transmits at once and the THR is empty again */
	out8(vm, UART_TX, 'h');
	out8(vm, UART_TX, 'i');
	assert_int_equal(fake.nout, 2);
	assert_memory_equal(fake.out, "hi", 2);
	assert_int_equal(fake.irq_level, 1);
	assert_int_equal(in8(vm, UART_IIR) & 0x0f, UART_IIR_THRI);
	assert_int_equal(fake.irq_level, 0);
}

static void test_rx_fifo_overrun(void **st)
{
	struct vm *vm = *st;
	int i;

	out8(vm, UART_FCR, UART_FCR_ENABLE_FIFO);
	out8(vm, UART_IER, UART_IER_RDI | UART_IER_RLSI);
	/* a paste longer than the FIFO: the rest waits and follows as the FIFO drains */
	type("0123456789abcdefXYZ");
	assert_int_equal(fake.irq_level, 1);
	assert_int_equal(in8(vm, UART_IIR), 0xc0 | UART_IIR_RDI);
	assert_int_equal(in8(vm, UART_LSR), UART_LSR_DR | 0x60);
	for (i = 0; i < 19; i++)
		assert_int_equal(in8(vm, UART_RX), "0123456789abcdefXYZ"[i]);
	assert_int_equal(in8(vm, UART_LSR), 0x60);
	assert_int_equal(in8(vm, UART_IIR), 0xc1);
	assert_int_equal(fake.irq_level, 0);

	/* the FIFO plus 4 KiB waiting, then overrun: dropped, OE */
	for (i = 0; i < (16 + 4096) / 16; i++)
		type("0123456789abcdef");
	type("XYZ");
	assert_int_equal(in8(vm, UART_IIR), 0xc0 | UART_IIR_RLSI);
	assert_int_equal(in8(vm, UART_LSR), UART_LSR_DR | UART_LSR_OE | 0x60);
	assert_int_equal(in8(vm, UART_LSR), UART_LSR_DR | 0x60); /* OE cleared by reading */
	assert_int_equal(in8(vm, UART_IIR), 0xc0 | UART_IIR_RDI);
	for (i = 0; i < 16 + 4096; i++)
		assert_int_equal(in8(vm, UART_RX), "0123456789abcdef"[i % 16]);
	assert_int_equal(in8(vm, UART_LSR), 0x60);
	assert_int_equal(fake.irq_level, 0);

	/* FIFO off: a one-byte holding register, loopback overruns it */
	out8(vm, UART_FCR, 0);
	type("ab");
	assert_int_equal(in8(vm, UART_LSR), UART_LSR_DR | 0x60);
	assert_int_equal(in8(vm, UART_RX), 'a');
	assert_int_equal(in8(vm, UART_RX), 'b');
	assert_int_equal(in8(vm, UART_IIR), UART_IIR_NO_INT);
	out8(vm, UART_MCR, UART_MCR_LOOP);
	out8(vm, UART_TX, 'c');
	out8(vm, UART_TX, 'd');
	assert_int_equal(in8(vm, UART_LSR), UART_LSR_DR | UART_LSR_OE | 0x60);
	assert_int_equal(in8(vm, UART_RX), 'c');
	out8(vm, UART_MCR, 0);

	/* FCR clear-receiver */
	out8(vm, UART_FCR, UART_FCR_ENABLE_FIFO);
	type("abc");
	out8(vm, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	assert_int_equal(in8(vm, UART_LSR), 0x60);
}

/* The line is driven only when its level changes. */
static void test_irq_changes_only(void **st)
{
	struct vm *vm = *st;

	out8(vm, UART_FCR, UART_FCR_ENABLE_FIFO);
	out8(vm, UART_IER, UART_IER_RDI);
	assert_int_equal(fake.irq_calls, 0);
	type("a");
	assert_int_equal(fake.irq_calls, 1);
	type("b");
	assert_int_equal(fake.irq_calls, 1);
	in8(vm, UART_IIR);
	in8(vm, UART_LSR);
	assert_int_equal(fake.irq_calls, 1);
	in8(vm, UART_RX);
	assert_int_equal(fake.irq_calls, 1);
	in8(vm, UART_RX);
	assert_int_equal(fake.irq_calls, 2);
	assert_int_equal(fake.irq_level, 0);

	/* modem status interrupt, lowest priority */
	out8(vm, UART_IER, UART_IER_MSI);
	out8(vm, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	assert_int_equal(fake.irq_level, 1);
	assert_int_equal(in8(vm, UART_IIR) & 0x0f, UART_IIR_MSI);
	in8(vm, UART_MSR);
	assert_int_equal(fake.irq_level, 0);
	assert_int_equal(fake.irq_calls, 4);
}

/* Odd sizes and offsets never crash; wide accesses are split into byte accesses. */
static void test_odd_accesses(void **st)
{
	struct vm *vm = *st;
	uint8_t buf[8] = {'A', 'B', 'C', 'D'};

	/* word write at THR: 'A' to THR, 'B' to IER */
	assert_int_equal(bus_access(&vm->pio, PLAT_COM1_PORT, buf, 2, true), 0);
	assert_int_equal(fake.nout, 1);
	assert_int_equal(in8(vm, UART_IER), 'B' & 0x0f);
	out8(vm, UART_IER, 0);
	/* dword read at the last port: cut to the range, rest all ones */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(bus_access(&vm->pio, PLAT_COM1_PORT + 7, buf, 4, false), 0);
	assert_int_equal(buf[1], 0xff);
	assert_int_equal(bus_access(&vm->pio, PLAT_COM1_PORT + 6, buf, 8, true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_autoconfig, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_divisor_latch, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_loopback, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_rx_fifo_overrun, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_irq_changes_only, setup, hw_teardown),
	    cmocka_unit_test_setup_teardown(test_odd_accesses, setup, hw_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
