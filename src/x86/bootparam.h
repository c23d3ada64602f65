/* bootparam.h: the Linux x86 boot protocol structures (Documentation/arch/x86/boot.rst and
 * zero-page.rst), defined here from the spec. Little-endian, packed, offsets asserted below. */
#ifndef TV_BOOTPARAM_H
#define TV_BOOTPARAM_H

#include <stddef.h>
#include <stdint.h>

#define LINUX_HDR_OFFSET 0x1f1	    /* setup header inside the image and inside boot_params */
#define LINUX_HDRS_MAGIC 0x53726448 /* "HdrS" at 0x202 */
#define LINUX_MIN_VERSION 0x0206
#define LINUX_DEFAULT_SETUP_SECTS 4
#define LINUX_OLD_INITRD_MAX 0x37ffffffU /* initrd_addr_max before protocol 2.03 */
#define LINUX_OLD_CMDLINE_SIZE 255
#define LINUX_ENTRY64_OFFSET 0x200 /* 64-bit entry: load address + 0x200 */
#define LINUX_HEAP_END_PTR 0xfe00
#define LINUX_LOADER_UNDEFINED 0xff /* type_of_loader for a loader without an assigned id */

/* loadflags */
#define LINUX_LOADED_HIGH 0x01
#define LINUX_CAN_USE_HEAP 0x80

/* xloadflags */
#define LINUX_XLF_KERNEL_64 0x01
#define LINUX_XLF_CAN_BE_LOADED_ABOVE_4G 0x02

#define LINUX_E820_MAX 128

struct setup_header {
	uint8_t setup_sects;		/* 0x1f1 */
	uint16_t root_flags;		/* 0x1f2 */
	uint32_t syssize;		/* 0x1f4, 16-byte units (2.04+) */
	uint16_t ram_size;		/* 0x1f8 */
	uint16_t vid_mode;		/* 0x1fa */
	uint16_t root_dev;		/* 0x1fc */
	uint16_t boot_flag;		/* 0x1fe, 0xaa55 */
	uint16_t jump;			/* 0x200; header end = 0x202 + high byte */
	uint32_t header;		/* 0x202, "HdrS" */
	uint16_t version;		/* 0x206 */
	uint32_t realmode_swtch;	/* 0x208 */
	uint16_t start_sys_seg;		/* 0x20c */
	uint16_t kernel_version;	/* 0x20e */
	uint8_t type_of_loader;		/* 0x210 */
	uint8_t loadflags;		/* 0x211 */
	uint16_t setup_move_size;	/* 0x212 */
	uint32_t code32_start;		/* 0x214 */
	uint32_t ramdisk_image;		/* 0x218 */
	uint32_t ramdisk_size;		/* 0x21c */
	uint32_t bootsect_kludge;	/* 0x220 */
	uint16_t heap_end_ptr;		/* 0x224 */
	uint8_t ext_loader_ver;		/* 0x226 */
	uint8_t ext_loader_type;	/* 0x227 */
	uint32_t cmd_line_ptr;		/* 0x228 */
	uint32_t initrd_addr_max;	/* 0x22c (2.03+) */
	uint32_t kernel_alignment;	/* 0x230 (2.05+) */
	uint8_t relocatable_kernel;	/* 0x234 */
	uint8_t min_alignment;		/* 0x235 (2.10+) */
	uint16_t xloadflags;		/* 0x236 (2.12+) */
	uint32_t cmdline_size;		/* 0x238 (2.06+) */
	uint32_t hardware_subarch;	/* 0x23c */
	uint64_t hardware_subarch_data; /* 0x240 */
	uint32_t payload_offset;	/* 0x248 */
	uint32_t payload_length;	/* 0x24c */
	uint64_t setup_data;		/* 0x250 */
	uint64_t pref_address;		/* 0x258 (2.10+) */
	uint32_t init_size;		/* 0x260 (2.10+) */
	uint32_t handover_offset;	/* 0x264 */
	uint32_t kernel_info_offset;	/* 0x268 (2.15+) */
} __attribute__((packed));

struct linux_e820 {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* The zero page. Only the fields a loader fills are named; the rest is padding. */
struct boot_params {
	uint8_t screen_info[0x40];	 /* 0x000 */
	uint8_t apm_bios_info[0x14];	 /* 0x040 */
	uint8_t pad1[4];		 /* 0x054 */
	uint64_t tboot_addr;		 /* 0x058 */
	uint8_t ist_info[0x10];		 /* 0x060 */
	uint64_t acpi_rsdp_addr;	 /* 0x070 */
	uint8_t pad2[8];		 /* 0x078 */
	uint8_t hd_info[0x20];		 /* 0x080 */
	uint8_t sys_desc_table[0x10];	 /* 0x0a0 */
	uint8_t olpc_ofw_header[0x10];	 /* 0x0b0 */
	uint32_t ext_ramdisk_image;	 /* 0x0c0 */
	uint32_t ext_ramdisk_size;	 /* 0x0c4 */
	uint32_t ext_cmd_line_ptr;	 /* 0x0c8 */
	uint8_t pad3[0x1e8 - 0xcc];	 /* 0x0cc .. edid, efi_info, alt_mem_k, scratch */
	uint8_t e820_entries;		 /* 0x1e8 */
	uint8_t eddbuf_entries;		 /* 0x1e9 */
	uint8_t edd_mbr_sig_buf_entries; /* 0x1ea */
	uint8_t kbd_status;		 /* 0x1eb */
	uint8_t secure_boot;		 /* 0x1ec */
	uint8_t pad4[2];		 /* 0x1ed */
	uint8_t sentinel;		 /* 0x1ef */
	uint8_t pad5;			 /* 0x1f0 */
	struct setup_header hdr;	 /* 0x1f1 */
	uint8_t pad6[0x290 - 0x26c];	 /* 0x26c, room for later setup header fields */
	uint32_t edd_mbr_sig_buffer[16]; /* 0x290 */
	struct linux_e820 e820_table[LINUX_E820_MAX]; /* 0x2d0 */
	uint8_t pad7[0x1000 - 0xcd0];		      /* 0xcd0 .. eddbuf */
} __attribute__((packed));

_Static_assert(offsetof(struct setup_header, header) == 0x202 - LINUX_HDR_OFFSET, "hdr");
_Static_assert(offsetof(struct setup_header, cmdline_size) == 0x238 - LINUX_HDR_OFFSET, "hdr");
_Static_assert(sizeof(struct setup_header) == 0x26c - LINUX_HDR_OFFSET, "hdr size");
_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x070, "zp");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_image) == 0x0c0, "zp");
_Static_assert(offsetof(struct boot_params, e820_entries) == 0x1e8, "zp");
_Static_assert(offsetof(struct boot_params, hdr) == LINUX_HDR_OFFSET, "zp");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "zp");
_Static_assert(sizeof(struct boot_params) == 0x1000, "zero page is one page");

#endif
