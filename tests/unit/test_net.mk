test_net_DEPS := src/net/net.c src/net/tap.c src/net/slirp.c src/util/dynlib.c src/vm/loop.c src/util/thread.c \
	src/util/err.c src/util/log.c
