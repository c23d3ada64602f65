test_aio_DEPS := src/virtio/aio.c src/vm/loop.c src/util/thread.c
