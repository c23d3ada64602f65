test_rtc_DEPS := src/hw/rtc.c src/vm/bus.c src/util/err.c src/util/log.c tests/unit/hw_fakes.c
