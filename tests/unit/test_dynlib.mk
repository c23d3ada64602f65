test_dynlib_DEPS := src/util/dynlib.c src/util/err.c
