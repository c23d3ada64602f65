test_fwcfg_DEPS := src/hw/fw_cfg.c src/x86/bios.c src/x86/acpi.c src/x86/aml.c \
	src/x86/acpi_loader.c src/x86/smbios.c src/hw/pci_host.c src/mem/gmem.c src/vm/bus.c src/util/err.c \
	src/util/log.c src/util/file.c src/vm/devif.c tests/unit/hw_fakes.c
