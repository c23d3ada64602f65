fuzz_vnet_DEPS := src/virtio/net_proto.c src/virtio/net_io.c src/virtio/queue.c src/mem/gmem.c
