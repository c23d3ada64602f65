test_vhd_format_DEPS := $(BLOCK_SRCS)
