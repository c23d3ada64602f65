test_ata_DEPS := src/hw/ata.c src/hw/atapi.c src/mem/gmem.c src/vm/bus.c src/util/err.c \
	src/util/log.c $(sort $(wildcard src/block/*.c)) src/vm/devif.c tests/unit/hw_fakes.c
