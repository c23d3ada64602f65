fuzz_vmc_DEPS := src/import/vmc.c src/util/err.c
