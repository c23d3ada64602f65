/* test_vpci.c: virtio-pci with virtio-rng behind it, driven like a guest driver through the
 * buses: configuration header and capability chain, BAR sizing (BARs never move), ECAM, feature
 * negotiation (unoffered features refused), queue set-up, a kick processed on the loop thread,
 * MSI-X delivery (masking, pending bits), INTx fallback, a hostile chain -> NEEDS_RESET and a
 * config interrupt, reset and a working device again. The KVM calls are fakes below. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <linux/pci_regs.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/pci.h"
#include "util/bytes.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"
#include "vm/coalesced.h"
#include "vm/devif.h"
#include "vm/loop.h"
#include "vm/vm.h"
#include "x86/acpi.h"
#include "x86/platform.h"

/* ---- fakes of the VM and KVM calls ---- */
static struct {
	struct vm_device dev[16];
	unsigned ndev;
	int irq_level[64];
	int irqfd[64]; /* per GSI: the eventfd, or -1 */
	uint64_t msi_addr[64];
	uint32_t msi_data[64];
	unsigned next_gsi;
} fk;

int vm_add_device(struct vm *vm, const char *name, void *state, void (*destroy)(void *))
{
	assert_true(fk.ndev < 16);
	fk.dev[fk.ndev++] = (struct vm_device){name, state, destroy};
	return 0;
}
int vm_set_irq(struct vm *vm, unsigned gsi, int level)
{
	fk.irq_level[gsi] = level;
	return 0;
}
void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status) {}
int coalesced_pio_add(struct vm *vm, uint16_t port, uint32_t len) { return 0; }
int devif_msi_alloc(struct vm *vm) { return (int)fk.next_gsi++; }
int devif_msi_route(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data)
{
	fk.msi_addr[gsi] = addr;
	fk.msi_data[gsi] = data;
	return 0;
}
int devif_irqfd(struct vm *vm, int fd, unsigned gsi, bool assign)
{
	fk.irqfd[gsi] = assign ? fd : -1;
	return 0;
}
int devif_ioeventfd(struct vm *vm, int fd, uint64_t addr, unsigned len, bool pio,
		    bool datamatch, uint64_t data, bool assign)
{
	return -ENOTSUP; /* kicks then come through the notify area's MMIO handler */
}

extern const struct device_desc __start_tv_devices[], __stop_tv_devices[];

static int run_init(struct vm *vm, const char *name)
{
	for (const struct device_desc *d = __start_tv_devices; d < __stop_tv_devices; d++)
		if (!strcmp(d->name, name))
			return d->init(vm);
	fail_msg("no device %s", name);
	return -1;
}

/* ---- the guest side ---- */
#define RAM (16u << 20)
#define DESC 0x10000
#define AVAIL 0x11000
#define USED 0x12000
#define BUF 0x20000
#define SLOT 1

static struct vm vm;
static uint64_t bar0, bar2;
static uint16_t avail_idx;

static uint32_t cfg_rd(unsigned off, unsigned len)
{
	uint8_t b[4];

	assert_int_equal(bus_access(&vm.mmio, PLAT_PCI_ECAM_BASE + (SLOT << 15) + off, b, len,
				    false), 0);
	return (uint32_t)le_get(b, len);
}

static void cfg_wr(unsigned off, uint32_t v, unsigned len)
{
	uint8_t b[4];

	le_put(b, v, len);
	assert_int_equal(bus_access(&vm.mmio, PLAT_PCI_ECAM_BASE + (SLOT << 15) + off, b, len, true),
			 0);
}

static uint64_t rd(uint64_t a, unsigned len)
{
	uint8_t b[8];

	assert_int_equal(bus_access(&vm.mmio, a, b, len, false), 0);
	return le_get(b, len);
}

static void wr(uint64_t a, uint64_t v, unsigned len)
{
	uint8_t b[8];

	le_put(b, v, len);
	assert_int_equal(bus_access(&vm.mmio, a, b, len, true), 0);
}

static uint8_t *ram(uint64_t gpa, uint64_t len) { return gmem_ptr(&vm.mem, gpa, len); }

/* The rng's struct virtio_dev: its state (struct vrng) starts with it, and it was the second
 * device added (after the PCI host). */
static struct virtio_dev *rng_dev(void)
{
	assert_string_equal(fk.dev[1].name, "virtio-rng");
	return fk.dev[1].state;
}

static int setup(void **st)
{
	memset(&vm, 0, sizeof(vm));
	memset(&fk, 0, sizeof(fk));
	memset(fk.irqfd, 0xff, sizeof(fk.irqfd));
	fk.next_gsi = 24;
	avail_idx = 0;
	vm.cfg.mem_size = RAM;
	vm.cfg.rng = true;
	vm.mmio.name = "mmio";
	vm.pio.name = "pio";
	assert_int_equal(gmem_init(&vm.mem, RAM, 0), 0);
	assert_int_equal(loop_create(&vm.loop), 0);
	assert_int_equal(run_init(&vm, "pci_host"), 0);
	assert_int_equal(run_init(&vm, "virtio_rng"), 0);
	assert_int_equal(loop_start(vm.loop), 0);
	bar0 = (uint64_t)cfg_rd(PCI_BASE_ADDRESS_1, 4) << 32 | (cfg_rd(PCI_BASE_ADDRESS_0, 4) & ~0xfu);
	bar2 = cfg_rd(PCI_BASE_ADDRESS_2, 4) & ~0xfu;
	return 0;
}

static int teardown(void **st)
{
	loop_destroy(vm.loop);
	while (fk.ndev--)
		fk.dev[fk.ndev].destroy(fk.dev[fk.ndev].state);
	bus_destroy(&vm.mmio);
	bus_destroy(&vm.pio);
	gmem_destroy(&vm.mem);
	return 0;
}

static void test_header_and_caps(void **st)
{
	static const uint8_t want_types[] = {1, 3, 4, 2, 5};
	unsigned at, n = 0;

	assert_int_equal(cfg_rd(PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_rd(PCI_DEVICE_ID, 2), 0x1044);
	assert_int_equal(cfg_rd(PCI_REVISION_ID, 4) >> 8, 0x00ff00);
	assert_int_equal(cfg_rd(PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(cfg_rd(PCI_INTERRUPT_LINE, 1), ACPI_PCI_INTX_GSI(SLOT, 0));
	assert_true(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	at = cfg_rd(PCI_CAPABILITY_LIST, 1);
	assert_int_equal(cfg_rd(at, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_rd(at + 2, 2) & 0x7ff, 1); /* 2 vectors: config + 1 queue */
	assert_int_equal(cfg_rd(at + 4, 4), 2);	      /* table in BAR 2 at 0 */
	assert_int_equal(cfg_rd(at + 8, 4), VPCI_MSIX_PBA_OFF | 2);
	for (at = cfg_rd(at + 1, 1); at; at = cfg_rd(at + 1, 1), n++) {
		assert_int_equal(cfg_rd(at, 1), PCI_CAP_ID_VNDR);
		assert_true(n < sizeof(want_types));
		assert_int_equal(cfg_rd(at + 3, 1), want_types[n]);
		if (want_types[n] == 2)
			assert_int_equal(cfg_rd(at + 16, 4), VPCI_NOTIFY_MULT);
	}
	assert_int_equal(n, sizeof(want_types));
	/* extended space via ECAM reads as zeros, other functions as all ones */
	assert_int_equal(cfg_rd(0x100, 4), 0);
	assert_int_equal(rd(PLAT_PCI_ECAM_BASE + (SLOT << 15) + (1 << 12), 4), 0xffffffffu);
	/* ECAM ends after bus 0, as the MCFG says */
	assert_null(bus_find(&vm.mmio, PLAT_PCI_ECAM_BASE + (PLAT_PCI_BUSES << 20)));
	assert_non_null(bus_find(&vm.mmio, PLAT_PCI_ECAM_BASE + (PLAT_PCI_BUSES << 20) - 1));
}

static void test_bars_never_move(void **st)
{
	uint32_t lo = cfg_rd(PCI_BASE_ADDRESS_0, 4);

	assert_int_equal(lo & 0xf, PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	/* a 64-bit BAR, placed below 4 GiB (pci_alloc_bar) */
	assert_true(bar0 >= PLAT_PCI_MMIO32_BASE && bar0 < PLAT_PCI_MMIO32_BASE + PLAT_PCI_MMIO32_SIZE);
	assert_true(bar2 >= PLAT_PCI_MMIO32_BASE && bar2 < PLAT_PCI_MMIO32_BASE + PLAT_PCI_MMIO32_SIZE);
	cfg_wr(PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	cfg_wr(PCI_BASE_ADDRESS_1, 0xffffffff, 4);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_0, 4), (uint32_t)~(VPCI_BAR0_SIZE - 1) | 0xc);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_1, 4), 0xffffffffu);
	cfg_wr(PCI_BASE_ADDRESS_2, 0xffffffff, 4);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_2, 4), (uint32_t)~(VPCI_BAR2_SIZE - 1));
	cfg_wr(PCI_BASE_ADDRESS_0, 0x12340000, 4); /* a move: ignored */
	cfg_wr(PCI_BASE_ADDRESS_1, 0, 4);
	cfg_wr(PCI_BASE_ADDRESS_2, (uint32_t)bar2, 4);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_0, 4), lo);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_1, 4), bar0 >> 32);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_2, 4), bar2);
	assert_int_equal(rd(bar0 + 0x12, 2), 1); /* num_queues, still at the old place */
}

/* The driver's side of virtio 1.2, 3.1.1, up to DRIVER_OK with queue 0 on vector 1. */
static void driver_init(bool msix)
{
	wr(bar0 + 0x14, 0, 1);
	wr(bar0 + 0x14, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER, 1);
	wr(bar0 + 0x00, 1, 4);
	assert_int_equal(rd(bar0 + 0x04, 4), 1); /* VERSION_1 */
	wr(bar0 + 0x08, 1, 4);
	wr(bar0 + 0x0c, 1, 4);
	wr(bar0 + 0x08, 0, 4);
	wr(bar0 + 0x0c, 1u << VIRTIO_F_RING_EVENT_IDX, 4);
	wr(bar0 + 0x14, 0x0b, 1);
	assert_int_equal(rd(bar0 + 0x14, 1), 0x0b);
	if (msix) {
		wr(bar2 + 16 + 0, 0xfee00000, 4);
		wr(bar2 + 16 + 8, 0x4041, 4);
		wr(bar2 + 16 + 12, 0, 4); /* unmask vector 1 */
		wr(bar2 + 0, 0xfee00000, 4);
		wr(bar2 + 8, 0x4042, 4);
		wr(bar2 + 12, 0, 4);
		cfg_wr(VPCI_CAP_MSIX + 2, PCI_MSIX_FLAGS_ENABLE | 1, 2);
		wr(bar0 + 0x10, 0, 2);
		assert_int_equal(rd(bar0 + 0x10, 2), 0);
	}
	wr(bar0 + 0x16, 0, 2);
	assert_int_equal(rd(bar0 + 0x18, 2), 64);
	wr(bar0 + 0x18, 16, 2);
	wr(bar0 + 0x1a, msix ? 1 : VIRTIO_NO_VECTOR, 2);
	wr(bar0 + 0x1a, 7, 2); /* beyond the table: NO_VECTOR */
	assert_int_equal(rd(bar0 + 0x1a, 2), VIRTIO_NO_VECTOR);
	wr(bar0 + 0x1a, msix ? 1 : VIRTIO_NO_VECTOR, 2);
	wr(bar0 + 0x20, DESC, 8);
	wr(bar0 + 0x28, AVAIL, 4);
	wr(bar0 + 0x2c, 0, 4);
	wr(bar0 + 0x30, USED, 4);
	wr(bar0 + 0x1c, 1, 2);
	assert_int_equal(rd(bar0 + 0x1c, 2), 1);
	wr(bar0 + 0x14, 0x0f, 1);
	assert_int_equal(rd(bar0 + 0x14, 1), 0x0f);
}

static void post(uint16_t head)
{
	/* used_event (EVENT_IDX): interrupt for the next completion */
	le_put(ram(AVAIL + 4 + 2 * 16, 2), le_get(ram(USED + 2, 2), 2), 2);
	le_put(ram(AVAIL + 4 + 2 * (avail_idx % 16), 2), head, 2);
	avail_idx++;
	le_put(ram(AVAIL + 2, 2), avail_idx, 2);
	wr(bar0 + VPCI_NOTIFY_OFF, 0, 2); /* kick queue 0 */
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = ram(DESC + 16 * i, 16);

	le_put(p, addr, 8);
	le_put(p + 8, len, 4);
	le_put(p + 12, flags, 2);
	le_put(p + 14, next, 2);
}

/* Wait (up to 2 s) for the eventfd of GSI gsi to fire; true if it did. */
static bool fired(unsigned gsi)
{
	struct pollfd p = {.fd = fk.irqfd[gsi], .events = POLLIN};
	uint64_t n;

	if (fk.irqfd[gsi] < 0 || poll(&p, 1, 2000) != 1)
		return false;
	return read(fk.irqfd[gsi], &n, sizeof(n)) == sizeof(n);
}

static void test_feature_refusal(void **st)
{
	wr(bar0 + 0x14, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER, 1);
	wr(bar0 + 0x08, 0, 4);
	wr(bar0 + 0x0c, 1u << 5, 4); /* not offered */
	wr(bar0 + 0x08, 1, 4);
	wr(bar0 + 0x0c, 1, 4);
	wr(bar0 + 0x14, 0x0b, 1);
	assert_int_equal(rd(bar0 + 0x14, 1), 0x03); /* FEATURES_OK refused */
	wr(bar0 + 0x14, 0, 1);			      /* reset */
	assert_int_equal(rd(bar0 + 0x14, 1), 0);
	wr(bar0 + 0x14, 0x03, 1);
	wr(bar0 + 0x08, 0, 4);
	wr(bar0 + 0x0c, 0, 4); /* legacy driver: no VERSION_1 */
	wr(bar0 + 0x14, 0x0b, 1);
	assert_int_equal(rd(bar0 + 0x14, 1), 0x03);
}

static void test_rng_msix(void **st)
{
	unsigned gsi_q = 25, gsi_cfg = 24;
	uint8_t *buf = ram(BUF, 64);

	driver_init(true);
	assert_int_equal(fk.msi_addr[gsi_q], 0xfee00000);
	assert_int_equal(fk.msi_data[gsi_q], 0x4041);
	set_desc(0, BUF, 64, VRING_DESC_F_WRITE, 0);
	post(0);
	assert_true(fired(gsi_q));
	assert_int_equal(le_get(ram(USED + 2, 2), 2), 1);
	assert_int_equal(le_get(ram(USED + 8, 4), 4), 64);
	assert_false(buf[0] == 0 && !memcmp(buf, buf + 1, 63)); /* random, not zeros */
	/* masked vector: pending bit, delivered on unmask */
	wr(bar2 + 16 + 12, 1, 4);
	post(0);
	for (int i = 0; i < 200 && !(rd(bar2 + VPCI_MSIX_PBA_OFF, 8) & 2); i++)
		usleep(10000);
	assert_int_equal(rd(bar2 + VPCI_MSIX_PBA_OFF, 8), 2);
	assert_int_equal(le_get(ram(USED + 2, 2), 2), 2);
	wr(bar2 + 16 + 12, 0, 4);
	assert_true(fired(gsi_q));
	assert_int_equal(rd(bar2 + VPCI_MSIX_PBA_OFF, 8), 0);
	(void)gsi_cfg;
}

static void test_intx(void **st)
{
	unsigned gsi = ACPI_PCI_INTX_GSI(SLOT, 0);

	driver_init(false);
	set_desc(0, BUF, 8, VRING_DESC_F_WRITE, 0);
	post(0);
	for (int i = 0; i < 200 && !fk.irq_level[gsi]; i++)
		usleep(10000);
	assert_int_equal(fk.irq_level[gsi], 1);
	assert_true(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_int_equal(rd(bar0 + VPCI_ISR_OFF, 1), VIRTIO_ISR_QUEUE); /* read clears */
	assert_int_equal(fk.irq_level[gsi], 0);
	assert_int_equal(rd(bar0 + VPCI_ISR_OFF, 1), 0);
}

static void test_hostile_then_reset(void **st)
{
	driver_init(true);
	set_desc(0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(1, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0); /* loops */
	post(0);
	assert_true(fired(24)); /* the config vector */
	assert_int_equal(rd(bar0 + 0x14, 1), 0x0f | VIRTIO_S_NEEDS_RESET);
	assert_int_equal(le_get(ram(USED + 2, 2), 2), 0);
	post(0); /* a broken device takes nothing more */
	usleep(50000);
	assert_int_equal(le_get(ram(USED + 2, 2), 2), 0);
	/* reset and start again: works */
	memset(ram(USED, 4096), 0, 4096);
	memset(ram(AVAIL, 4096), 0, 4096);
	avail_idx = 0;
	driver_init(true);
	set_desc(0, 0xfee00000, 8, VRING_DESC_F_WRITE, 0); /* outside RAM */
	post(0);
	assert_true(fired(24));
	assert_true(rd(bar0 + 0x14, 1) & VIRTIO_S_NEEDS_RESET);
	memset(ram(USED, 4096), 0, 4096);
	memset(ram(AVAIL, 4096), 0, 4096);
	avail_idx = 0;
	driver_init(true);
	set_desc(0, BUF, 8, VRING_DESC_F_WRITE, 0);
	post(0);
	assert_true(fired(25));
	assert_int_equal(le_get(ram(USED + 2, 2), 2), 1);
}

static void test_bad_queue_enable(void **st)
{
	wr(bar0 + 0x14, 0x03, 1);
	wr(bar0 + 0x08, 1, 4);
	wr(bar0 + 0x0c, 1, 4);
	wr(bar0 + 0x14, 0x0b, 1);
	wr(bar0 + 0x16, 0, 2);
	wr(bar0 + 0x18, 12, 2); /* not a power of two */
	wr(bar0 + 0x20, DESC, 8);
	wr(bar0 + 0x28, AVAIL, 8);
	wr(bar0 + 0x30, USED, 8);
	wr(bar0 + 0x1c, 1, 2);
	assert_int_equal(rd(bar0 + 0x1c, 2), 0);
	assert_true(rd(bar0 + 0x14, 1) & VIRTIO_S_NEEDS_RESET);
	wr(bar0 + 0x16, 9, 2); /* beyond num_queues */
	assert_int_equal(rd(bar0 + 0x18, 2), 0);
}

/* The transport's and the core's state saved, the device reset, the state restored: the
 * driver's view (status, queue, vectors) and a working queue come back. */
static void test_save_restore(void **st)
{
	struct virtio_dev *d;
	struct virtio_state vs;
	struct vpci_state ps;

	driver_init(true);
	d = rng_dev();
	assert_int_equal(virtio_pci_save(d, &ps), 0);
	virtio_save(d, &vs);
	wr(bar0 + 0x14, 0, 1); /* reset: everything gone */
	wr(bar2 + 16 + 8, 0, 4);
	assert_int_equal(rd(bar0 + 0x14, 1), 0);
	assert_int_equal(virtio_restore(d, &vs), 0);
	assert_int_equal(virtio_pci_restore(d, &ps), 0);
	assert_int_equal(rd(bar0 + 0x14, 1), 0x0f);
	assert_int_equal(rd(bar2 + 16 + 8, 4), 0x4041);
	assert_int_equal(fk.msi_data[25], 0x4041);
	wr(bar0 + 0x16, 0, 2);
	assert_int_equal(rd(bar0 + 0x1c, 2), 1);
	assert_int_equal(rd(bar0 + 0x1a, 2), 1);
	set_desc(0, BUF, 8, VRING_DESC_F_WRITE, 0);
	post(0);
	assert_true(fired(25));
	assert_int_equal(le_get(ram(USED + 2, 2), 2), 1);
	/* a state from another layout is refused */
	vs.q[0].max_size = 8;
	assert_int_equal(virtio_restore(d, &vs), -EINVAL);
	ps.cfg[2] ^= 1;
	assert_int_equal(virtio_pci_restore(d, &ps), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_header_and_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bars_never_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feature_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rng_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_then_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_queue_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_restore, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
