test_virtq_DEPS := src/virtio/queue.c src/mem/gmem.c
