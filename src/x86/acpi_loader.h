/* acpi_loader.h: handing the monitor's ACPI tables to SeaBIOS through fw_cfg's table loader
 * ("etc/table-loader"): the firmware allocates the files, adds their addresses to the pointer
 * fields and fixes the checksums. Pure: works on buffers only. */
#ifndef TV_ACPI_LOADER_H
#define TV_ACPI_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define ACPI_LOADER_RSDP_FILE "etc/acpi/rsdp"
#define ACPI_LOADER_TABLES_FILE "etc/acpi/tables"
#define ACPI_LOADER_CMD_SIZE 128
#define ACPI_LOADER_ALLOCATE 1
#define ACPI_LOADER_ADD_POINTER 2
#define ACPI_LOADER_ADD_CHECKSUM 3
#define ACPI_LOADER_ZONE_HIGH 1
#define ACPI_LOADER_ZONE_FSEG 2
#define ACPI_LOADER_NAME 56

/* blob[0..len) is acpi_build's output for buf_gpa 0 (the RSDP at offset 0, every pointer an
 * offset into the blob). The tables file is the whole blob, the RSDP file its first 36 bytes.
 * Writes the loader commands (ACPI_LOADER_CMD_SIZE bytes each, little-endian) into cmds: an
 * ALLOCATE for each file (RSDP: 16-byte aligned in the F segment; tables: 64-byte aligned,
 * high), an ADD_POINTER for every table pointer (RSDP's RSDT/XSDT, RSDT/XSDT entries, FADT's
 * FACS and DSDT, 32- and 64-bit), then an ADD_CHECKSUM for the RSDP (both sums) and every table
 * with a checksum. Returns the bytes written, or -EINVAL ("acpi loader: ...") for a blob whose
 * structure does not hold together, -ENOSPC if cap is too small. */
long acpi_loader_build(const uint8_t *blob, size_t len, uint8_t *cmds, size_t cap,
		       struct err *e);

#endif
