test_uart_DEPS := src/hw/uart16550.c src/vm/bus.c src/util/err.c src/util/log.c src/vm/devif.c tests/unit/hw_fakes.c
