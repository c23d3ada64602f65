fuzz_api_DEPS := src/api/routes.c src/vm/lifecycle_state.c src/util/err.c
