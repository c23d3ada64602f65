fuzz_config_DEPS := src/vm/config.c src/vm/config_keys.c src/util/file.c src/util/size.c src/util/err.c
