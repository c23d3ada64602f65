/* fw_cfg.h: the firmware configuration device that SeaBIOS reads (QEMU's fw_cfg interface):
 * items selected by a 16-bit key, read bytewise from the data port or by DMA.
 *
 *   PLAT_FWCFG_PORT + 0  selector (16-bit write: key; resets the read offset)
 *   PLAT_FWCFG_PORT + 1  data (byte reads: the item's next byte, zero past its end)
 *   PLAT_FWCFG_PORT + 4  DMA address, high 32 bits (big-endian dword write)
 *   PLAT_FWCFG_PORT + 8  DMA address, low 32 bits (big-endian dword write: starts the transfer)
 *                        reads of +4..+11 return the signature "QEMU CFG"
 * A DMA descriptor in guest RAM is { be32 control; be32 length; be64 address }; control bits
 * FW_CFG_DMA_* below. The transfer reads (or skips) length bytes of the selected item into
 * guest RAM; writes are refused (no item is writable). When done, control is written back as
 * 0, or FW_CFG_DMA_ERROR when a descriptor or buffer lies outside guest RAM or asks to write.
 * Everything goes through the checked guest-memory accessor. */
#ifndef TV_FW_CFG_H
#define TV_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/gmem.h"
#include "vm/bus.h"

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_UUID 0x02
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_MAX_FILES 32
#define FW_CFG_NKEYS (FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES)
#define FW_CFG_NAME_MAX 56 /* including the NUL */
#define FW_CFG_NPORTS 12
#define FW_CFG_ID_TRADITIONAL 0x1
#define FW_CFG_ID_DMA 0x2

#define FW_CFG_DMA_ERROR 0x01
#define FW_CFG_DMA_READ 0x02
#define FW_CFG_DMA_SKIP 0x04
#define FW_CFG_DMA_SELECT 0x08
#define FW_CFG_DMA_WRITE 0x10

struct fw_cfg;

/* A device with the signature and ID items set, DMA reaching guest RAM through mem (which
 * must outlive it). Returns 0 or -ENOMEM. */
int fw_cfg_create(const struct gmem *mem, struct fw_cfg **out) __attribute__((warn_unused_result));

/* Set item key (< FW_CFG_FILE_FIRST) to a copy of data[0..len). 0, -EINVAL or -ENOMEM. */
int fw_cfg_add(struct fw_cfg *fc, uint16_t key, const void *data, size_t len)
	__attribute__((warn_unused_result));

/* Add a named file (name shorter than FW_CFG_NAME_MAX, not yet present) holding a copy of
 * data[0..len), listed in the file directory (item FW_CFG_FILE_DIR). 0, -EINVAL (bad name or
 * size), -EEXIST, -ENOSPC (FW_CFG_MAX_FILES reached) or -ENOMEM. */
int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, size_t len)
	__attribute__((warn_unused_result));

/* A port access at offset off (0..FW_CFG_NPORTS-1) of len bytes. Thread-safe. */
void fw_cfg_io(struct fw_cfg *fc, unsigned off, uint8_t *data, unsigned len, bool is_write);

/* Port-bus handlers over fw_cfg_io (opaque: the struct fw_cfg), for FW_CFG_NPORTS ports. */
extern const struct bus_ops fw_cfg_bus_ops;

/* Free everything. NULL is fine. */
void fw_cfg_destroy(struct fw_cfg *fc);

#endif
