# guest/guest.mk: freestanding test guests, included by the top Makefile.
# `make guests` builds guest/build/*.elf; `all` does not depend on them.
#   64-bit PVH (lib/start64.S): hello64 hlt smp flood ticker
#   32-bit PVH (lib/start32.S): triple power emulfail
#   32-bit Multiboot v1 (lib/start32.S with -DMULTIBOOT): mb32
GUEST_CC ?= gcc
GB ?= guest/build
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -ffreestanding -nostdlib \
	-fno-pic -fno-pie -fno-stack-protector -mno-red-zone -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fno-builtin -Iguest $(GUEST_EXTRA_CFLAGS)
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 \
	-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments
GUEST64 := hello64 hlt smp flood vhostile ticker
GUEST32_PVH := triple power emulfail
GUEST32_MB := mb32
GUEST_BINS := $(patsubst %,$(GB)/%.elf,$(GUEST64) $(GUEST32_PVH) $(GUEST32_MB))
GUEST_HDRS := $(wildcard guest/lib/*.h) $(wildcard guest/lib/*.ld) guest/guest.mk

$(GB)/64/%.o: guest/%.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m64 -mcmodel=small $(GUEST_CFLAGS) -c -o $@ $<
$(GB)/64/%.o: guest/%.S $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m64 $(GUEST_CFLAGS) -c -o $@ $<
$(GB)/32/%.o: guest/%.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 $(GUEST_CFLAGS) -c -o $@ $<
$(GB)/32/%.o: guest/%.S $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 $(GUEST_CFLAGS) -c -o $@ $<
$(GB)/32/lib/start32mb.o: guest/lib/start32.S $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 -DMULTIBOOT $(GUEST_CFLAGS) -c -o $@ $<

$(patsubst %,$(GB)/%.elf,$(GUEST64)): $(GB)/%.elf: $(GB)/64/lib/start64.o $(GB)/64/%.o $(GB)/64/lib/console.o
	$(GUEST_CC) -m64 $(GUEST_LDFLAGS) -Wl,-T,guest/lib/guest.ld -Wl,-e,pvh_start -o $@ $^
$(patsubst %,$(GB)/%.elf,$(GUEST32_PVH)): $(GB)/%.elf: $(GB)/32/lib/start32.o $(GB)/32/%.o $(GB)/32/lib/console.o
	$(GUEST_CC) -m32 $(GUEST_LDFLAGS) -Wl,-T,guest/lib/guest.ld -Wl,-e,entry32 -o $@ $^
$(patsubst %,$(GB)/%.elf,$(GUEST32_MB)): $(GB)/%.elf: $(GB)/32/lib/start32mb.o $(GB)/32/%.o $(GB)/32/lib/console.o
	$(GUEST_CC) -m32 $(GUEST_LDFLAGS) -Wl,-T,guest/lib/multiboot.ld -Wl,-e,entry32 -o $@ $^

guests: $(GUEST_BINS)

.PHONY: guests
.PRECIOUS: $(GB)/64/%.o $(GB)/32/%.o
