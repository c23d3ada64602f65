test_acpi_DEPS := src/x86/acpi.c src/x86/aml.c src/util/err.c
