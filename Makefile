# thinvisor build. `make` builds $(O)/thinvisor; `make test` runs every test tier the machine
# can run (tests/run); `make demo` boots Debian's kernel to a busybox shell.
O ?= build
CC ?= gcc
CLANG ?= clang
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Wformat=2
override CFLAGS += -std=gnu11 $(WARN) -fno-strict-aliasing
XML_CFLAGS := $(shell pkg-config --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
override CPPFLAGS += -Isrc -D_GNU_SOURCE -MMD -MP $(XML_CFLAGS)
# libcurl (ctl), libxml2 (import) and libslirp (--net user) are opened with dlopen by the code
# that needs them (src/util/dynlib.h); only their headers are needed to build.
LIBS := -lpthread -ljson-c -lhttp_parser -luring
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRCS := $(shell find src -name '*.c' | sort)
# The block layer (every driver) with what it needs, for unit tests and fuzzers.
BLOCK_SRCS := $(sort $(wildcard src/block/*.c)) src/util/err.c
OBJS := $(SRCS:%.c=$(O)/%.o)

all: $(O)/thinvisor

$(O)/thinvisor: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Unit tests: tests/unit/test_NAME.c, with tests/unit/test_NAME.mk saying
#   test_NAME_DEPS := src/a.c src/b.c
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%)
-include $(wildcard tests/unit/*.mk)
objs_of = $(patsubst %.c,$(O)/%.o,$(1))
.SECONDEXPANSION:
$(UNIT_BINS): $(O)/tests/unit/%: $(O)/tests/unit/%.o $$(call objs_of,$$($$*_DEPS))
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcmocka $(LIBS)

unit: $(UNIT_BINS)

# Fuzz targets: tests/fuzz/fuzz_NAME.c with tests/fuzz/fuzz_NAME.mk (fuzz_NAME_DEPS := ...),
# built with clang's libFuzzer into $(O)/fuzz/.
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(O)/fuzz/%)
-include $(wildcard tests/fuzz/*.mk)
$(FUZZ_BINS): $(O)/fuzz/%: tests/fuzz/%.c $$($$*_DEPS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=gnu11 -g -O1 -Isrc -D_GNU_SOURCE $(XML_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-o $@ $^ $(LIBS)

fuzzers: $(FUZZ_BINS)

# Freestanding test guests (guest/guest.mk defines GUEST_BINS).
-include guest/guest.mk
-include bench/bench.mk

san:
	$(MAKE) O=$(O)/san CFLAGS="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" all unit

test: setup all san guests bench-tools
	@tests/run

demo: setup all
	@tools/demo

clean:
	rm -rf $(O) guest/build

.PHONY: all unit fuzzers san test demo clean
-include $(OBJS:.o=.d) $(wildcard $(O)/tests/unit/*.d)

setup:
	@tools/setup
.PHONY: setup
