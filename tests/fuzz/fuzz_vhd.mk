fuzz_vhd_DEPS := $(BLOCK_SRCS)
