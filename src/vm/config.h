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
};

/* Defaults: 256 MiB, 1 vCPU, console on stdio, exit on reboot. */
void vm_config_defaults(struct vm_config *c);

#endif
