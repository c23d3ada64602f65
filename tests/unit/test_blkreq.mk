test_blkreq_DEPS := src/virtio/blk_req.c src/virtio/blk_lock.c src/virtio/queue.c src/mem/gmem.c src/util/err.c
