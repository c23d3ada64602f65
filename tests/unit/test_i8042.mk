test_i8042_DEPS := src/hw/i8042.c src/vm/bus.c src/util/err.c src/util/log.c src/vm/devif.c tests/unit/hw_fakes.c
