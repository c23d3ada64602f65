test_api_DEPS := src/api/routes.c src/api/events.c src/api/sock.c src/vm/lifecycle_state.c \
	src/util/err.c src/util/log.c
