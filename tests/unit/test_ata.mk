test_ata_DEPS := src/hw/ata.c src/hw/atapi.c src/mem/gmem.c src/vm/bus.c src/util/err.c \
	src/util/log.c src/block/block.c src/block/probe.c src/block/raw.c src/block/vhd.c \
	src/block/vhd_io.c src/block/vhd_format.c src/block/vhd_locator.c src/block/vhd_check.c \
	src/block/vhd_create.c tests/unit/hw_fakes.c
