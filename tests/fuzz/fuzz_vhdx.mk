fuzz_vhdx_DEPS := $(BLOCK_SRCS)
