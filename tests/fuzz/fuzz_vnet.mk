fuzz_vnet_DEPS := src/virtio/net_proto.c
