fuzz_virtq_DEPS := src/virtio/queue.c src/virtio/blk_req.c src/mem/gmem.c
