/* acpi.h: the ACPI tables the monitor generates: RSDP, XSDT, FADT (+FACS), DSDT, MADT. */
#ifndef TV_ACPI_H
#define TV_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* What the tables promise the devices (x86/platform.h has the ports and IRQs):
 * - acpi_pm: PM1_CNT.SLP_TYP = ACPI_S5_SLP_TYP with SLP_EN set means soft-off (\_S5 is
 *   Package {ACPI_S5_SLP_TYP, ACPI_S5_SLP_TYP, 0, 0}, S5 is the only sleep state offered).
 *   SMI_CMD is 0, so PM1_CNT.SCI_EN must read as 1 from reset (ACPI is always enabled).
 *   The power button is the FADT fixed feature: PWRBTN_STS/PWRBTN_EN in PM1_EVT; the SCI is
 *   PLAT_SCI_IRQ, level-triggered, active-high (MADT override). PM1_EN must read back what
 *   was written (Linux checks RTC_EN after clearing it, else "Could not disable RealTimeClock
 *   events"); PM1_STS bits are write-1-to-clear. PM_TMR is 24 bits wide at
 *   ACPI_PM_TMR_HZ. Writing PLAT_RESET_VALUE to PLAT_RESET_PORT resets the machine.
 * - PCI host: INTx pin (0 = INTA .. 3 = INTD) of the device in slot s on bus 0 is wired by
 *   _PRT to IOAPIC input ACPI_PCI_INTX_GSI(s, pin), level-triggered, active-low (the guest
 *   programs the IOAPIC that way; with KVM_IRQ_LINE, level 1 means asserted).
 * - The IOAPIC at PLAT_IOAPIC_ADDR has ID ACPI_IOAPIC_ID and GSI base 0; ISA IRQ 0 is GSI 2. */
#define ACPI_S5_SLP_TYP 5
#define ACPI_PM1_CNT_SCI_EN (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK (7u << 10)
#define ACPI_PM1_CNT_SLP_EN (1u << 13)
#define ACPI_PM1_TMR_STS (1u << 0)    /* PM1_STS / PM1_EN bits */
#define ACPI_PM1_PWRBTN_STS (1u << 8)
#define ACPI_PM1_RTC_STS (1u << 10)
#define ACPI_PM1_WAK_STS (1u << 15)
#define ACPI_PM_TMR_HZ 3579545
#define ACPI_IOAPIC_ID 0
#define ACPI_PCI_INTX_GSI(slot, pin) (16 + (((slot) + (pin)) & 3))

#define ACPI_MAX_MMIO_DEVS 8

/* A virtio-mmio device described in the DSDT (LNRO0005): 4 KiB at base, an edge-triggered,
 * active-high GSI. */
struct acpi_mmio_dev {
	uint64_t base;
	unsigned gsi;
};

struct acpi_config {
	unsigned ncpus; /* MADT gets one local APIC per vCPU, APIC IDs 0..ncpus-1 */
	/* The PCI root bridge's 64-bit prefetchable window in _CRS; size 0: none. The MCFG
	 * always describes ECAM for buses 0..PLAT_PCI_BUSES-1 at PLAT_PCI_ECAM_BASE (reserved
	 * in the motherboard resources). */
	uint64_t pci64_base, pci64_size;
	unsigned nmmio;
	struct acpi_mmio_dev mmio[ACPI_MAX_MMIO_DEVS];
};

/* Build all tables into buf (len bytes, to be placed at guest-physical buf_gpa); RSDP first,
 * at buf_gpa. Addresses of ports, IRQs and windows come from x86/platform.h.
 * buf_gpa must be 16-byte aligned and the tables must end below 4 GiB (32-bit pointers are
 * filled too, and an RSDT beside the XSDT); 1 <= ncpus <= PLAT_MAX_CPUS.
 * Returns the number of bytes used, or -errno (-ENOSPC if len is too small, -EINVAL for a bad
 * gpa or CPU count) with e set. */
long acpi_build(uint8_t *buf, size_t len, uint64_t buf_gpa, const struct acpi_config *c,
		struct err *e);

#endif
