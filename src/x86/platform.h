/* platform.h: the fixed guest-physical and port map of thinvisor's x86 machine.
 * Everything that places something in the guest takes its address from here. */
#ifndef TV_PLATFORM_H
#define TV_PLATFORM_H

/* Low memory used by the boot loaders (all below 1 MiB). */
#define PLAT_GDT_ADDR 0x500ULL         /* boot GDT (null, code64, code32, data, tss) */
#define PLAT_IDT_ADDR 0x580ULL         /* empty IDT, limit 0 */
#define PLAT_BOOTINFO_ADDR 0x6000ULL   /* PVH start_info / multiboot info, up to 0x7000 */
#define PLAT_ZEROPAGE_ADDR 0x7000ULL   /* Linux boot_params */
#define PLAT_STACK_TOP 0x8ff0ULL       /* initial stack for entries that want one */
#define PLAT_PML4_ADDR 0x9000ULL       /* identity page tables: PML4, PDPT, 4 PDs (4 GiB) */
#define PLAT_PDPT_ADDR 0xa000ULL
#define PLAT_PD_ADDR 0xb000ULL         /* 0xb000-0xefff */
#define PLAT_CMDLINE_ADDR 0x20000ULL   /* kernel command line */
#define PLAT_CMDLINE_MAX 0x10000ULL
#define PLAT_EBDA_START 0x9fc00ULL     /* [EBDA, 1 MiB) is reserved in the e820 map */
#define PLAT_ACPI_ADDR 0xe0000ULL      /* RSDP first, then the other tables, up to 1 MiB */
#define PLAT_ACPI_MAX 0x20000ULL
#define PLAT_HIMEM_START 0x100000ULL   /* kernels load here */
#define PLAT_SMBIOS_ADDR 0xf0000ULL    /* direct boot: SMBIOS entry point, tables after it */
#define PLAT_SHADOW_START 0xc0000ULL   /* BIOS path: PAM-controlled shadow RAM to 1 MiB */
#define PLAT_BIOS_LOW 0xe0000ULL       /* BIOS path: the image's last 128 KiB appear here */

/* Interrupt controller and PCI windows in the 32-bit hole. */
#define PLAT_PCI_MMIO32_BASE 0xc0000000ULL
#define PLAT_PCI_MMIO32_SIZE 0x20000000ULL /* up to 0xe0000000 */
/* PCIe ECAM (MCFG) for bus 0 only, 1 MiB: the one bus there is. Describing more buses costs
 * boot time, as Linux probes all 32 slots of every bus up to the MCFG's last by port I/O. */
#define PLAT_PCI_ECAM_BASE 0xe0000000ULL
#define PLAT_PCI_BUSES 1
#define PLAT_PCI_ECAM_SIZE ((unsigned long long)PLAT_PCI_BUSES << 20)
#define PLAT_VIRTIO_MMIO_BASE 0xfe000000ULL /* virtio-mmio device i at base + i * 4 KiB */
#define PLAT_VIRTIO_MMIO_STRIDE 0x1000ULL
#define PLAT_VIRTIO_MMIO_MAX 8              /* its GSI: plat_virtio_mmio_gsi(i) */
#define PLAT_TESTDEV_MMIO 0xfeb00000ULL   /* the test device's MMIO window (4 KiB) */
#define PLAT_IOAPIC_ADDR 0xfec00000ULL
#define PLAT_LAPIC_ADDR 0xfee00000ULL

/* The 64-bit prefetchable PCI window: from the first 1 GiB boundary above RAM, 32 GiB. */
#define PLAT_PCI_MMIO64_SIZE (32ULL << 30)
static inline unsigned long long plat_pci_mmio64_base(unsigned long long ram_size)
{
	unsigned long long top = 0x100000000ULL; /* RAM above the hole ends here */

	if (ram_size > 0xC0000000ULL)
		top += ram_size - 0xC0000000ULL;
	return (top + (1ULL << 30) - 1) & ~((1ULL << 30) - 1);
}

/* GSI of virtio-mmio device i (0..PLAT_VIRTIO_MMIO_MAX-1). */
static inline unsigned plat_virtio_mmio_gsi(unsigned i)
{
	static const unsigned gsi[PLAT_VIRTIO_MMIO_MAX] = {20, 21, 22, 23, 5, 6, 7, 10};

	return gsi[i];
}

/* Port I/O map. */
#define PLAT_COM1_PORT 0x3f8
#define PLAT_COM1_IRQ 4
#define PLAT_I8042_DATA 0x60
#define PLAT_I8042_CMD 0x64
#define PLAT_PORT92 0x92       /* fast A20 / reset (bit 0), handled by the i8042 device */
#define PLAT_RTC_PORT 0x70      /* 0x70-0x71 */
#define PLAT_RTC_IRQ 8
#define PLAT_PCI_CONF_PORT 0xcf8 /* 0xcf8-0xcff, configuration mechanism #1 */
#define PLAT_PM_PORT 0x600      /* ACPI PM block: PM1a_EVT 0x600 (4), PM1a_CNT 0x604 (2),
				 * PM_TMR 0x608 (4), RESET_REG 0x60c (1) */
#define PLAT_PM1A_EVT_PORT 0x600
#define PLAT_PM1A_CNT_PORT 0x604
#define PLAT_PM_TMR_PORT 0x608
#define PLAT_RESET_PORT 0x60c
#define PLAT_RESET_VALUE 0x01
#define PLAT_PM_LEN 0x10
#define PLAT_SCI_IRQ 9
#define PLAT_FWCFG_PORT 0x510   /* fw_cfg (BIOS path): selector, data, DMA at +4..+11 */
#define PLAT_IDE0_PORT 0x1f0    /* PIIX3 IDE primary: 0x1f0-0x1f7, control 0x3f6, IRQ 14 */
#define PLAT_IDE0_CTL 0x3f6
#define PLAT_IDE0_IRQ 14
#define PLAT_IDE1_PORT 0x170    /* secondary: 0x170-0x177, control 0x376, IRQ 15 */
#define PLAT_IDE1_CTL 0x376
#define PLAT_IDE1_IRQ 15
#define PLAT_PIIX_SLOT 1        /* PCI 00:01.0 ISA bridge, 00:01.1 IDE */
#define PLAT_TESTDEV_PORT 0x520 /* the test device's ports (0x520-0x52f), with --testdev */

#define PLAT_MAX_CPUS 254

#endif
