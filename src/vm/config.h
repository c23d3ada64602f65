/* config.h: everything a VM is made from, filled by the CLI (later a config file or the API)
 * and validated once, in vm_config_validate. */
#ifndef TV_CONFIG_H
#define TV_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/size.h" /* parse_size, for mem_size */

enum console_kind { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_NONE };
enum reboot_action { REBOOT_EXIT, REBOOT_RESTART };
/* TEMPORARY (until the lead's config lands): the fields issue 12 consumes. */
enum firmware_kind { FIRMWARE_DIRECT, FIRMWARE_BIOS };
enum disk_if { DISK_IF_VIRTIO, DISK_IF_IDE };
enum disk_media { DISK_MEDIA_DISK, DISK_MEDIA_CDROM };
enum boot_device { BOOT_NONE, BOOT_DISK, BOOT_CD };
#define VM_MAX_DISKS 16
#define VM_MAX_BOOT 4
#define DISK_SERIAL_MAX 20
struct disk_config {
	char *path;
	char *format;
	bool readonly;
	char *serial;
	enum disk_if iface;
	enum disk_media media;
	int index;
};

struct vm_config {
	const char *kernel;
	const char *initrd;   /* NULL: none */
	const char *cmdline;  /* NULL: default */
	uint64_t mem_size;    /* bytes */
	unsigned ncpus;
	enum console_kind console;
	const char *console_path; /* CONSOLE_FILE */
	bool console_append;      /* CONSOLE_FILE: append, do not truncate (set on restarts) */
	enum reboot_action on_reboot;
	bool testdev;  /* attach the test device (guest/ test programs) */
	bool stats;    /* print exit counters at exit */
	enum firmware_kind firmware;
	char *firmware_path;
	enum boot_device boot_order[VM_MAX_BOOT];
	struct disk_config disks[VM_MAX_DISKS];
	unsigned ndisks;
};

/* Defaults: 256 MiB, 1 vCPU, console on stdio, exit on reboot. */
void vm_config_defaults(struct vm_config *c);

#endif
