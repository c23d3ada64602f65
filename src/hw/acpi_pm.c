/* acpi_pm.c: the ACPI fixed-hardware PM block at PLAT_PM_PORT (PLAT_PM_LEN ports).
 *
 *   PLAT_PM1A_EVT_PORT +0  PM1_STS (16 bits, write 1 to clear): PWRBTN_STS bit 8
 *                      +2  PM1_EN  (16 bits): TMR_EN 0, GBL_EN 5, PWRBTN_EN 8, SLPBTN_EN 9,
 *                          RTC_EN 10
 *   PLAT_PM1A_CNT_PORT     PM1_CNT (16 bits): SCI_EN bit 0 always reads 1 (SMI_CMD is 0),
 *                          BM_RLD 1, SLP_TYP 10-12; SLP_EN (bit 13, write-only) with SLP_TYP ==
 *                          ACPI_S5_SLP_TYP stops the VM with DEVIF_STOP_POWEROFF; other sleep
 *                          types are ignored (the DSDT offers only S5).
 *   PLAT_PM_TMR_PORT       PM_TMR (read-only): 24-bit count at ACPI_PM_TMR_HZ, CLOCK_MONOTONIC
 *   PLAT_RESET_PORT        RESET_REG: writing PLAT_RESET_VALUE stops with DEVIF_STOP_REBOOT.
 * Other ports of the block read all ones and ignore writes. Any access size works bytewise.
 * The SCI (PLAT_SCI_IRQ, level) is high while PM1_STS & PM1_EN has a bit set; only the power
 * button sets a status bit (pm_power_button). Not emulated: TMR_STS (timer carry), GPE blocks,
 * sleep states other than S5. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "hw/acpi_pm.h"
#include "util/log.h"
#include "vm/devif.h"
#include "x86/acpi.h"
#include "x86/platform.h"

#ifndef ACPI_S5_SLP_TYP
#define ACPI_S5_SLP_TYP 5
#endif

#define OFF_STS (PLAT_PM1A_EVT_PORT - PLAT_PM_PORT)
#define OFF_EN (OFF_STS + 2)
#define OFF_CNT (PLAT_PM1A_CNT_PORT - PLAT_PM_PORT)
#define OFF_TMR (PLAT_PM_TMR_PORT - PLAT_PM_PORT)
#define OFF_RESET (PLAT_RESET_PORT - PLAT_PM_PORT)
#define PM1_EN_MASK 0x0721u  /* TMR, GBL, PWRBTN, SLPBTN, RTC */
#define PM1_CNT_MASK 0x1c02u /* BM_RLD and SLP_TYP are kept */

struct acpi_pm {
	struct vm *vm;
	pthread_mutex_t lock;
	uint16_t sts, en, cnt;
	int sci_level;
	bool sci_warned;
	uint64_t t0_ns;
};

/* Is port offset o inside the n-byte register at base? */
static bool in_reg(uint64_t o, uint64_t base, unsigned n) { return o - base < n; }

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t pm_timer(const struct acpi_pm *p)
{
	unsigned __int128 t = (unsigned __int128)(mono_ns() - p->t0_ns) * ACPI_PM_TMR_HZ;

	return (uint32_t)(t / 1000000000u) & 0xffffff;
}

/* With the lock held, after any change to sts or en. */
static void pm_update_sci(struct acpi_pm *p)
{
	int level = (p->sts & p->en & PM1_EN_MASK) != 0;
	int ret;

	if (level == p->sci_level)
		return;
	ret = devif_set_irq(p->vm, PLAT_SCI_IRQ, level);
	if (ret == 0) {
		p->sci_level = level;
	} else if (!p->sci_warned) {
		p->sci_warned = true; /* once: the guest can retry this as often as it likes */
		log_warn("acpi_pm: cannot set the SCI: %d", ret);
	}
}

static void pm_pio_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct acpi_pm *p = opaque;
	uint32_t tmr = 0;
	unsigned i;

	pthread_mutex_lock(&p->lock);
	if (off < OFF_TMR + 4 && off + len > OFF_TMR)
		tmr = pm_timer(p);
	for (i = 0; i < len; i++) {
		uint64_t o = off + i;

		if (in_reg(o, OFF_STS, 2))
			data[i] = (uint8_t)(p->sts >> (8 * (o - OFF_STS)));
		else if (in_reg(o, OFF_EN, 2))
			data[i] = (uint8_t)(p->en >> (8 * (o - OFF_EN)));
		else if (in_reg(o, OFF_CNT, 2))
			data[i] = (uint8_t)((p->cnt | ACPI_PM1_CNT_SCI_EN) >> (8 * (o - OFF_CNT)));
		else if (in_reg(o, OFF_TMR, 4))
			data[i] = (uint8_t)(tmr >> (8 * (o - OFF_TMR)));
		else
			data[i] = 0xff;
	}
	pthread_mutex_unlock(&p->lock);
}

static void pm_pio_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct acpi_pm *p = opaque;
	enum devif_stop stop = DEVIF_STOP_REBOOT;
	bool stopping = false;
	uint16_t cnt;
	bool cnt_hi = false;
	unsigned i;

	pthread_mutex_lock(&p->lock);
	cnt = p->cnt;
	for (i = 0; i < len; i++) {
		uint64_t o = off + i;
		unsigned sh;

		if (in_reg(o, OFF_STS, 2)) {
			p->sts &= (uint16_t) ~((unsigned)data[i] << (8 * (o - OFF_STS)));
		} else if (in_reg(o, OFF_EN, 2)) {
			sh = 8 * (unsigned)(o - OFF_EN);
			p->en = (uint16_t)((p->en & ~(0xffu << sh)) | ((unsigned)data[i] << sh));
			p->en &= PM1_EN_MASK;
		} else if (in_reg(o, OFF_CNT, 2)) {
			sh = 8 * (unsigned)(o - OFF_CNT);
			cnt = (uint16_t)((cnt & ~(0xffu << sh)) | ((unsigned)data[i] << sh));
			cnt_hi |= sh != 0;
		} else if (o == OFF_RESET && data[i] == PLAT_RESET_VALUE) {
			stopping = true;
		}
	}
	p->cnt = cnt & PM1_CNT_MASK;
	if (cnt_hi && (cnt & ACPI_PM1_CNT_SLP_EN) &&
	    (cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT == ACPI_S5_SLP_TYP) {
		stop = DEVIF_STOP_POWEROFF;
		stopping = true;
	}
	pm_update_sci(p);
	pthread_mutex_unlock(&p->lock);
	if (stopping)
		devif_request_stop(p->vm, stop);
}

static const struct bus_ops pm_ops = {.read = pm_pio_read, .write = pm_pio_write};

int pm_power_button(struct vm *vm)
{
	const struct bus_range *r = devif_pio_find(vm, PLAT_PM_PORT);
	struct acpi_pm *p;

	if (!r || r->ops != &pm_ops)
		return -ENODEV;
	p = r->opaque;
	pthread_mutex_lock(&p->lock);
	p->sts |= ACPI_PM1_PWRBTN_STS;
	pm_update_sci(p);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void pm_destroy(void *opaque)
{
	struct acpi_pm *p = opaque;

	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int pm_init(struct vm *vm)
{
	struct acpi_pm *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	p->vm = vm;
	p->t0_ns = mono_ns();
	pthread_mutex_init(&p->lock, NULL);
	ret = devif_add_device(vm, "acpi_pm", p, pm_destroy);
	if (ret) {
		pm_destroy(p);
		return ret;
	}
	return devif_pio_register(vm, PLAT_PM_PORT, PLAT_PM_LEN, &pm_ops, p, "acpi-pm");
}

DEVICE_REGISTER(acpi_pm, DEV_PHASE_PLATFORM, pm_init);
