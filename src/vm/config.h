/* config.h: everything a VM is made from. One table of keys (config.c) serves command-line
 * flags, a JSON configuration file and the API: each key has a flag name and a JSON path, and
 * every value goes through the same parser and the same vm_config_validate. The JSON layout
 * follows Cloud Hypervisor's VmConfig where both have a setting (payload.kernel, cpus.boot_vcpus,
 * memory.size, disks[].path, net[].tap, ...). docs/CONFIG.md lists every key. */
#ifndef TV_CONFIG_H
#define TV_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/size.h" /* parse_size, for mem_size */

enum console_kind { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_NONE, CONSOLE_VIRTIO };
enum reboot_action { REBOOT_EXIT, REBOOT_RESTART };
enum firmware_kind { FIRMWARE_DIRECT, FIRMWARE_BIOS };
enum transport_kind { TRANSPORT_PCI, TRANSPORT_MMIO };
enum disk_if { DISK_IF_VIRTIO, DISK_IF_IDE };
enum disk_media { DISK_MEDIA_DISK, DISK_MEDIA_CDROM };
enum disk_cache { DISK_CACHE_WRITEBACK, DISK_CACHE_NONE };
enum boot_device { BOOT_NONE, BOOT_DISK, BOOT_CD };
enum net_kind { NET_USER, NET_TAP };

#define VM_MAX_DISKS 16
#define VM_MAX_NETS 8
#define VM_MAX_BOOT 4
#define NET_MAX_HOSTFWD 16
#define DISK_SERIAL_MAX 20 /* virtio-blk's ID string, and ATA's serial number field */
#define VM_NAME_MAX 64
#define DEFAULT_CMDLINE "console=ttyS0 panic=-1"

struct disk_config {
	char *path;
	char *format;        /* "raw", "vhd", "vhdx", or NULL: probed from the contents */
	bool readonly;       /* a CD-ROM is always read-only */
	enum disk_cache cache;
	char *serial;        /* NULL: none; at most DISK_SERIAL_MAX bytes */
	unsigned queues;     /* virtio-blk request queues; 0: the default (1) */
	enum disk_if iface;
	enum disk_media media;
	int index;           /* IDE position 0-3 (primary master, primary slave, secondary master,
				secondary slave); vm_config_validate gives each IDE disk one */
};

struct net_hostfwd {
	bool udp;
	uint32_t host_addr;  /* IPv4, host byte order; 0: any */
	uint16_t host_port;
	uint32_t guest_addr; /* IPv4, host byte order; 0: the guest's DHCP address */
	uint16_t guest_port;
};

struct net_config {
	enum net_kind kind;
	char *ifname;        /* NET_TAP: an existing tap device */
	uint8_t mac[6];
	bool mac_set;        /* false: derived from the VM's name and the NIC's index */
	unsigned queues;     /* queue pairs; 0: the default (1) */
	struct net_hostfwd hostfwd[NET_MAX_HOSTFWD]; /* NET_USER only */
	unsigned nhostfwd;
};

struct vm_config {
	char *kernel;          /* required with FIRMWARE_DIRECT */
	char *initrd;          /* NULL: none */
	char *cmdline;         /* NULL: the default */
	enum firmware_kind firmware;
	char *firmware_path;   /* FIRMWARE_BIOS: NULL = Debian's SeaBIOS image */
	enum boot_device boot_order[VM_MAX_BOOT]; /* FIRMWARE_BIOS; BOOT_NONE ends it */
	uint64_t mem_size;     /* bytes */
	unsigned ncpus;
	enum console_kind console;
	char *console_path;    /* CONSOLE_FILE */
	bool console_append;   /* CONSOLE_FILE: append, do not truncate (set on restarts) */
	enum reboot_action on_reboot;
	enum transport_kind transport; /* virtio devices */
	bool rng;              /* virtio-rng */
	struct disk_config disks[VM_MAX_DISKS];
	unsigned ndisks;
	struct net_config nets[VM_MAX_NETS];
	unsigned nnets;
	char *name;            /* NULL: "vm-PID" is used (vm_config_name) */
	char *api_socket;      /* NULL: the default path for the name */
	char *event_monitor;   /* NULL: none; else "path=FILE" or "fd=N" */
	bool testdev;          /* attach the test device (guest/ test programs) */
	bool stats;            /* print exit counters at exit */
};

/* Defaults: 256 MiB, 1 vCPU, console on stdio, exit on reboot, direct boot, virtio over PCI. */
void vm_config_defaults(struct vm_config *c);

/* Free the strings c owns (every char * above) and reset c to the defaults. */
void vm_config_free(struct vm_config *c);

/* Parse the flags of `thinvisor run` (argv[0] is the command name) over c, which the caller
 * initialised (defaults, or a file). --config FILE is read first wherever it stands, so flags
 * override it; a flag that sets a list (--disk, --net) replaces the file's list. *print_config
 * is set by --print-config. Returns 0, or -errno with a one-line message in e naming the flag. */
int vm_config_from_args(struct vm_config *c, int argc, char **argv, bool *print_config,
			struct err *e);

/* Apply a JSON document (a configuration file's text) over c. Unknown keys, wrong types and bad
 * values fail with -EINVAL and "WHERE: JSON.PATH: why" in e (WHERE names the source, e.g. the
 * file). Returns 0 or -errno. */
int vm_config_from_json(struct vm_config *c, const char *text, const char *where, struct err *e);

/* Read FILE and apply it with vm_config_from_json. */
int vm_config_load_file(struct vm_config *c, const char *path, struct err *e);

/* Cross-field checks after every source was applied: a kernel for direct boot, memory within
 * the host's RAM, IDE positions (given or assigned in order), CD-ROMs read-only on IDE.
 * Returns 0 or -EINVAL with the message in e. */
int vm_config_validate(struct vm_config *c, struct err *e);

/* The configuration as JSON text in the file format (vm_config_from_json reads it back to an
 * equal configuration). Returns a malloc'd string, or NULL when out of memory. */
char *vm_config_to_json(const struct vm_config *c, bool pretty);

/* The VM's name: c->name, or "vm-PID" when none was given. Writes into buf (VM_NAME_MAX+1). */
const char *vm_config_name(const struct vm_config *c, char *buf);

/* Parse a MAC address "52:54:00:12:34:56" (unicast). 0 or -EINVAL. */
int parse_mac(const char *s, uint8_t mac[6]);

#endif
