test_aml_DEPS := src/x86/aml.c
