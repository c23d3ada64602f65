test_i8042_DEPS := src/hw/i8042.c src/vm/bus.c src/util/err.c src/util/log.c tests/unit/hw_fakes.c
