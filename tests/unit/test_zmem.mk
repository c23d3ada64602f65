test_zmem_DEPS := src/util/zmem.c
