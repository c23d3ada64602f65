/* vmc.h: reading a Virtual PC / Virtual Server machine (.vmc: UTF-16 XML, <preferences> root,
 * every value carrying a type= attribute). Pure: parses a buffer, touches no file. */
#ifndef TV_VMC_H
#define TV_VMC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define VMC_MAX_DISKS 4
#define VMC_MAX_NICS 8
#define VMC_MAX_WARN 32
#define VMC_WARN_LEN 200

struct vmc_disk {
	int channel, unit;  /* ide_controller id, location id (0..1 each) */
	bool cdrom;         /* drive_type 2; 1 is a hard disk */
	char *absolute;     /* pathname/absolute as written (Windows path), NULL if empty */
	char *relative;     /* pathname/relative as written, NULL if empty */
};

struct vmc_nic {
	int id;
	uint8_t mac[6];
	bool mac_set;
	char *network;      /* virtual_network/name, NULL if none */
};

struct vmc {
	uint64_t ram_mb;
	struct vmc_disk disks[VMC_MAX_DISKS];
	unsigned ndisks;
	struct vmc_nic nics[VMC_MAX_NICS];
	unsigned nnics;
	bool undo;          /* settings/undo_drives/enabled */
	char warn[VMC_MAX_WARN][VMC_WARN_LEN];
	unsigned nwarn;     /* things the .vmc holds that thinvisor does not do: one line each */
};

/* Parse buf[0..len) (the whole file) into v. Errors, with "NAME: " in front (name is how the
 * file is called in messages): "not a .vmc file (no UTF-16 byte-order mark: .vmc files are
 * UTF-16 XML)", "not well-formed XML (line N)", "the root element is <X>, not <preferences>",
 * "no memory size (hardware/memory/ram_size)", "ram_size 'X' is not a number of MB",
 * "IDE location C:L: drive_type N is neither 1 (disk) nor 2 (CD)". Returns 0 or -EINVAL. */
int vmc_parse(const uint8_t *buf, size_t len, const char *name, struct vmc *v, struct err *e)
	__attribute__((warn_unused_result));

/* Free the strings of v. */
void vmc_free(struct vmc *v);

/* A Windows path as a host path: backslashes become slashes; a drive letter "X:" is replaced
 * by drive_root (e.g. "/mnt/c"; NULL or "": dropped, so "C:\VMs\a.vhd" is "/VMs/a.vhd"); a
 * relative path (".\a.vhd", "a.vhd") is joined to dir. Returns a malloc'd string or NULL. */
char *vmc_host_path(const char *win, const char *dir, const char *drive_root);

#endif
