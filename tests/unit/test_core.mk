test_core_DEPS := src/x86/cpuid.c src/mem/gmem.c src/vm/bus.c src/util/size.c src/util/err.c
