# Benchmark helpers (built by bench/*.sh, not by `make all`).
BENCH_OUT := $(O)/bench
$(BENCH_OUT)/kvm-floor: bench/kvm-floor.c src/x86/cpu_init.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Isrc -D_GNU_SOURCE -o $@ $^
$(BENCH_OUT)/pioloop-%.elf: bench/pioloop.S
	@mkdir -p $(dir $@)
	$(CC) -m32 -nostdlib -static -Wl,-N -Wl,-Ttext=0x100000 -Wl,--build-id=none -DITER=$* -o $@ $<
bench-tools: $(BENCH_OUT)/kvm-floor $(BENCH_OUT)/pioloop-1.elf $(BENCH_OUT)/pioloop-5000.elf
.PHONY: bench-tools
