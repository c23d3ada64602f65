/* bios.h: the BIOS boot path (--firmware bios): SeaBIOS's image at the top of the 4 GiB space
 * and, through the i440FX's PAM registers, in the 0xC0000-0xFFFFF shadow window; the items
 * SeaBIOS reads from fw_cfg. The vCPUs start at the reset vector (KVM's reset state). */
#ifndef TV_BIOS_H
#define TV_BIOS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define BIOS_DEFAULT_PATH "/usr/share/seabios/bios.bin"
#define BIOS_MIN_SIZE (128u << 10)
#define BIOS_MAX_SIZE (16u << 20)
#define BIOS_NPAM 7 /* i440FX PAM0..PAM6, configuration registers 0x59-0x5f (hw/pci.h) */

struct vm;
struct bios;

/* Check a firmware image: a multiple of 64 KiB, BIOS_MIN_SIZE..BIOS_MAX_SIZE, with a jump at
 * its reset vector (16 bytes from its end). Pure. 0, or -EINVAL with a one-line message naming
 * path ("firmware 'P' is N bytes: ..." / "firmware 'P' has no jump at its reset vector ..."). */
int bios_check_image(const uint8_t *img, size_t len, const char *path, struct err *e)
	__attribute__((warn_unused_result));

/* Read and check the image named by vm->cfg (firmware_path or BIOS_DEFAULT_PATH), keep it in
 * vm->bios. Before any KVM call, so file errors come first. 0 or -errno with e set. */
int bios_open(struct vm *vm, struct err *e) __attribute__((warn_unused_result));

/* Register guest RAM with KVM for the BIOS path: RAM below the shadow window, the shadow
 * window by PAM segment (reset state: reads from the ROM, writes dropped), RAM from 1 MiB,
 * RAM above 4 GiB, and the image read-only at 4 GiB minus its size. 0 or -errno with e set. */
int bios_map(struct vm *vm, struct err *e) __attribute__((warn_unused_result));

/* Fill fw_cfg: RAM size, vCPU count, etc/e820, bootorder (from cfg boot order and IDE disks),
 * etc/sercon-port (COM1), boot menu and boot-failure wait, the ACPI tables through the table
 * loader, SMBIOS. 0 or -errno with e set. */
int bios_fw_cfg_fill(struct vm *vm, struct err *e) __attribute__((warn_unused_result));

/* The guest wrote the PAM registers: remap the shadow window. Called (through
 * pci_host_set_pam, hooked by bios_fw_cfg_fill) with the 7 new values from a vCPU thread; safe
 * against concurrent vCPUs. b is the struct bios. */
void bios_pam_write(void *b, const uint8_t *pam);

/* The bootorder file's text for the IDE positions of cfg's disks in boot order (each line
 * "/pci@i0cf8/ide@1,1/drive@C/disk@S", separated by newlines, NUL-terminated). Pure. Returns the length written (< cap), or -ENOSPC. */
struct vm_config;
int bios_bootorder(const struct vm_config *cfg, char *buf, size_t cap);

#endif
