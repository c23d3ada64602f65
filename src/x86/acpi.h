/* acpi.h: the ACPI tables the monitor generates: RSDP, XSDT, FADT (+FACS), DSDT, MADT. */
#ifndef TV_ACPI_H
#define TV_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct acpi_config {
	unsigned ncpus; /* MADT gets one local APIC per vCPU, APIC IDs 0..ncpus-1 */
};

/* Build all tables into buf (len bytes, to be placed at guest-physical buf_gpa); RSDP first,
 * at buf_gpa. Addresses of ports, IRQs and windows come from x86/platform.h.
 * Returns the number of bytes used, or -errno (-ENOSPC if len is too small) with e set. */
long acpi_build(uint8_t *buf, size_t len, uint64_t buf_gpa, const struct acpi_config *c,
		struct err *e);

#endif
