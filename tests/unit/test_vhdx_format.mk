test_vhdx_format_DEPS := $(BLOCK_SRCS)
