fuzz_boot_DEPS := src/x86/boot.c src/x86/boot_common.c src/x86/boot_elf.c src/x86/boot_linux.c \
	src/x86/boot_pvh.c src/x86/boot_multiboot.c src/mem/gmem.c src/util/err.c
