test_core_DEPS := src/x86/cpuid.c src/vm/memory.c src/vm/bus.c src/vm/config.c src/util/err.c
