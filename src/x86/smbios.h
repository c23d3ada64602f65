/* smbios.h: SMBIOS 2.8 tables describing thinvisor's machine (BIOS, system, chassis, one
 * processor per vCPU, memory), for both boot paths: the direct path writes them to
 * PLAT_SMBIOS_ADDR (where Linux's legacy scan finds the entry point), the BIOS path hands them
 * to SeaBIOS through fw_cfg. Pure: works on buffers only. */
#ifndef TV_SMBIOS_H
#define TV_SMBIOS_H

#include <stddef.h>
#include <stdint.h>

#define SMBIOS_ANCHOR_LEN 31 /* the 2.1-style "_SM_" entry point */

struct smbios_config {
	unsigned ncpus;
	uint64_t low_ram;  /* bytes of RAM from 0 */
	uint64_t high_ram; /* bytes of RAM from 4 GiB (0: none) */
	const char *bios_version; /* "direct" or the firmware's name */
	uint8_t uuid[16];
};

/* Write the structure table into buf (cap bytes) and the entry point into anchor, with the
 * table's address set to table_gpa (0 for fw_cfg: the firmware sets it) and both checksums
 * valid. Types 0, 1, 3, 4 (per vCPU), 16, 17, 19 (per RAM range), 32 and 127.
 * Returns the table length, or -ENOSPC when cap is too small. */
long smbios_build(const struct smbios_config *c, uint8_t *buf, size_t cap, uint32_t table_gpa,
		  uint8_t anchor[SMBIOS_ANCHOR_LEN]);

#endif
