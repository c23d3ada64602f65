test_pm_DEPS := src/hw/acpi_pm.c src/vm/bus.c src/util/err.c src/util/log.c src/vm/devif.c tests/unit/hw_fakes.c
