fuzz_vhd_DEPS := src/block/vhd_format.c src/block/vhd_locator.c src/block/vhd.c src/block/vhd_io.c \
	src/block/block.c src/block/probe.c src/block/raw.c src/util/err.c
