test_vnet_io_DEPS := src/virtio/net_io.c src/virtio/net_proto.c src/virtio/queue.c src/mem/gmem.c
