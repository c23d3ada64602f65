/* uart16550.c: a 16550A UART on COM1 (PLAT_COM1_PORT, 8 ports, IRQ PLAT_COM1_IRQ).
 *
 * Register model (offset: read / write; DLAB = LCR bit 7):
 *   0  RBR (pops the 16-byte RX FIFO) / THR (sent at once to the console), DLL when DLAB
 *   1  IER (low 4 bits), DLM when DLAB
 *   2  IIR (0xC0 when FIFOs are on; reading it clears a THRE interrupt) / FCR
 *   3  LCR   4 MCR (5 bits; bit 4 loopback)   5 LSR (reading clears OE)   6 MSR   7 SCR
 * The transmitter is infinitely fast: THRE and TEMT are always set, and the THRE interrupt is
 * pending again right after each THR write. It is armed on a rising edge of IER.THRI (THR is
 * always empty), as Linux's 8250 THRE test expects, and cleared by reading IIR while it is the
 * source. Interrupt priority: line status (OE) > RX data > THRE > modem status. The IRQ line
 * (level = "IIR says pending") goes to devif_set_irq only when it changes; OUT2 does not gate it.
 * Outside loopback the modem lines read DCD, DSR and CTS asserted. Console input arrives on the
 * event-loop thread in chunks (a paste, a pipe); bytes that do not fit the FIFO wait "on the
 * wire" (4 KiB) and move into the FIFO as the guest drains it, as a paced line would deliver
 * them. Only when the wire is full too are bytes dropped, setting OE. In loopback mode THR
 * bytes go to the RX FIFO (overrunning it sets OE) and console input is dropped.
 * Multi-byte port accesses are split into byte accesses at successive ports, as ISA does. */
#include <errno.h>
#include <linux/serial_reg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "vm/console.h"
#include "vm/devif.h"
#include "x86/platform.h"

#define UART_NPORTS 8
#define UART_FIFO_LEN 16
#define UART_WIRE_LEN 4096
#define UART_IIR_FIFO_BITS 0xc0 /* IIR bits 6-7: FIFOs enabled (16550A) */
#define UART_MSR_LINES (UART_MSR_DCD | UART_MSR_RI | UART_MSR_DSR | UART_MSR_CTS)

struct uart {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, msr, scr, dll, dlm;
	uint8_t lsr_err; /* sticky line-status error bits (OE) */
	bool fifo_on;
	bool thr_ipending; /* THRE interrupt condition */
	int irq_level;	   /* last level given to vm_set_irq */
	bool irq_warned;
	uint8_t rx[UART_FIFO_LEN];
	unsigned rx_head, rx_count;
	uint8_t wire[UART_WIRE_LEN]; /* console input not yet in the FIFO */
	unsigned wire_head, wire_count;
};

static unsigned uart_rx_cap(const struct uart *u) { return u->fifo_on ? UART_FIFO_LEN : 1; }

static void uart_rx_push(struct uart *u, uint8_t b)
{
	if (u->rx_count >= uart_rx_cap(u)) {
		u->lsr_err |= UART_LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_LEN] = b;
	u->rx_count++;
}

static uint8_t uart_rx_pop(struct uart *u)
{
	uint8_t b;

	if (!u->rx_count)
		return 0;
	b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_LEN;
	u->rx_count--;
	return b;
}

static void uart_rx_clear(struct uart *u) { u->rx_head = u->rx_count = 0; }

/* Move waiting console input into the FIFO while it has room (not in loopback). */
static void uart_rx_refill(struct uart *u)
{
	if (u->mcr & UART_MCR_LOOP)
		return;
	while (u->wire_count && u->rx_count < uart_rx_cap(u)) {
		uart_rx_push(u, u->wire[u->wire_head]);
		u->wire_head = (u->wire_head + 1) % UART_WIRE_LEN;
		u->wire_count--;
	}
}

static void uart_wire_push(struct uart *u, uint8_t b)
{
	if (u->wire_count >= UART_WIRE_LEN) {
		u->lsr_err |= UART_LSR_OE;
		return;
	}
	u->wire[(u->wire_head + u->wire_count) % UART_WIRE_LEN] = b;
	u->wire_count++;
}

/* Modem status inputs: wired to MCR outputs in loopback, else a connected line. */
static void uart_update_msr(struct uart *u)
{
	uint8_t lines = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	uint8_t old = u->msr & UART_MSR_LINES, delta = 0;

	if (u->mcr & UART_MCR_LOOP) {
		lines = 0;
		if (u->mcr & UART_MCR_RTS)
			lines |= UART_MSR_CTS;
		if (u->mcr & UART_MCR_DTR)
			lines |= UART_MSR_DSR;
		if (u->mcr & UART_MCR_OUT1)
			lines |= UART_MSR_RI;
		if (u->mcr & UART_MCR_OUT2)
			lines |= UART_MSR_DCD;
	}
	if ((old ^ lines) & UART_MSR_CTS)
		delta |= UART_MSR_DCTS;
	if ((old ^ lines) & UART_MSR_DSR)
		delta |= UART_MSR_DDSR;
	if ((old ^ lines) & UART_MSR_DCD)
		delta |= UART_MSR_DDCD;
	if ((old & UART_MSR_RI) && !(lines & UART_MSR_RI))
		delta |= UART_MSR_TERI;
	u->msr = lines | (u->msr & UART_MSR_ANY_DELTA) | delta;
}

static uint8_t uart_iir(const struct uart *u)
{
	uint8_t fifo = u->fifo_on ? UART_IIR_FIFO_BITS : 0;

	if ((u->ier & UART_IER_RLSI) && u->lsr_err)
		return fifo | UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return fifo | UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thr_ipending)
		return fifo | UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & UART_MSR_ANY_DELTA))
		return fifo | UART_IIR_MSI;
	return fifo | UART_IIR_NO_INT;
}

/* Called with the lock held, after every state change: refill the FIFO, drive the line. */
static void uart_update_irq(struct uart *u)
{
	int level, ret;

	uart_rx_refill(u);
	level = !(uart_iir(u) & UART_IIR_NO_INT);

	if (level == u->irq_level)
		return;
	ret = devif_set_irq(u->vm, PLAT_COM1_IRQ, level);
	if (ret == 0) {
		u->irq_level = level;
	} else if (!u->irq_warned) {
		u->irq_warned = true;
		log_warn("uart16550: cannot set IRQ %d: %d", PLAT_COM1_IRQ, ret);
	}
}

static void uart_write_fcr(struct uart *u, uint8_t v)
{
	bool on = v & UART_FCR_ENABLE_FIFO;

	if (on != u->fifo_on) {
		u->fifo_on = on;
		uart_rx_clear(u);
	}
	if (on && (v & UART_FCR_CLEAR_RCVR))
		uart_rx_clear(u);
}

/* One byte written at reg; a byte to transmit is stored in *tx (returns true). */
static bool uart_write_reg(struct uart *u, unsigned reg, uint8_t v, uint8_t *tx)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_TX:
		if (dlab) {
			u->dll = v;
			return false;
		}
		u->thr_ipending = true; /* sent at once: THR empty again */
		if (u->mcr & UART_MCR_LOOP) {
			uart_rx_push(u, v);
			return false;
		}
		*tx = v;
		return true;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
		} else {
			if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
				u->thr_ipending = true;
			u->ier = v & 0x0f;
		}
		return false;
	case UART_FCR:
		uart_write_fcr(u, v);
		return false;
	case UART_LCR:
		u->lcr = v;
		return false;
	case UART_MCR:
		u->mcr = v & 0x1f;
		uart_update_msr(u);
		return false;
	case UART_SCR:
		u->scr = v;
		return false;
	default: /* LSR and MSR writes (factory test) are ignored */
		return false;
	}
}

static uint8_t uart_read_reg(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case UART_RX:
		return dlab ? u->dll : uart_rx_pop(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		v = uart_iir(u);
		if ((v & UART_IIR_ID) == UART_IIR_THRI)
			u->thr_ipending = false;
		return v;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = UART_LSR_THRE | UART_LSR_TEMT | u->lsr_err;
		if (u->rx_count)
			v |= UART_LSR_DR;
		u->lsr_err = 0;
		return v;
	case UART_MSR:
		v = u->msr;
		u->msr &= ~UART_MSR_ANY_DELTA;
		return v;
	default:
		return u->scr;
	}
}

static void uart_pio_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct uart *u = opaque;
	unsigned i;

	pthread_mutex_lock(&u->lock);
	for (i = 0; i < len; i++)
		data[i] = off + i < UART_NPORTS ? uart_read_reg(u, (unsigned)(off + i)) : 0xff;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_pio_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct uart *u = opaque;
	struct console *c;
	uint8_t out[8];
	unsigned i, n = 0;

	pthread_mutex_lock(&u->lock);
	for (i = 0; i < len && off + i < UART_NPORTS && n < sizeof(out); i++)
		if (uart_write_reg(u, (unsigned)(off + i), data[i], &out[n]))
			n++;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	if (n && (c = devif_console(u->vm)))
		console_write(c, out, n);
}

static const struct bus_ops uart_ops = {.read = uart_pio_read, .write = uart_pio_write};

/* Console input, on the event-loop thread. */
static void uart_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct uart *u = opaque;
	size_t i;

	pthread_mutex_lock(&u->lock);
	if (!(u->mcr & UART_MCR_LOOP))
		for (i = 0; i < len; i++)
			uart_wire_push(u, buf[i]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_destroy(void *opaque)
{
	struct uart *u = opaque;

	pthread_mutex_destroy(&u->lock);
	free(u);
}

static int uart_init(struct vm *vm)
{
	struct uart *u = calloc(1, sizeof(*u));
	struct console *c;
	int ret;

	if (!u)
		return -ENOMEM;
	u->vm = vm;
	u->dll = 12; /* 9600 baud from the 1.8432 MHz clock, as a BIOS leaves it */
	u->lcr = UART_LCR_WLEN8;
	uart_update_msr(u);
	u->msr &= ~UART_MSR_ANY_DELTA;
	pthread_mutex_init(&u->lock, NULL);
	ret = devif_add_device(vm, "uart16550", u, uart_destroy);
	if (ret) {
		uart_destroy(u);
		return ret;
	}
	/* From here on vm_destroy frees u. */
	ret = devif_pio_register(vm, PLAT_COM1_PORT, UART_NPORTS, &uart_ops, u, "uart16550");
	if (ret)
		return ret;
	c = devif_console(vm);
	if (c)
		console_set_input(c, uart_input, u);
	return 0;
}

DEVICE_REGISTER(uart16550, DEV_PHASE_PLATFORM, uart_init);
