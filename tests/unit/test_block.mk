test_block_DEPS := $(BLOCK_SRCS)
