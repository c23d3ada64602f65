fuzz_ata_DEPS := src/hw/ata.c src/hw/atapi.c src/mem/gmem.c src/util/err.c $(sort $(wildcard src/block/*.c))
