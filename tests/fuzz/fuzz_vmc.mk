fuzz_vmc_DEPS := src/import/vmc.c src/util/dynlib.c src/util/err.c
