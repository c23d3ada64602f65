/* transport.h: the two virtio transports. Each puts an initialized struct virtio_dev on its
 * bus, wires its kicks (ioeventfd) and interrupts (irqfd), and adds its own teardown. */
#ifndef TV_VIRTIO_TRANSPORT_H
#define TV_VIRTIO_TRANSPORT_H

#include "virtio/virtio.h"

/* virtio-pci (modern): a PCI function with the virtio capabilities, BAR 0 (64-bit
 * prefetchable, the virtio structures) and BAR 2 (MSI-X table and PBA), both assigned here and
 * never moved; MSI-X through KVM routes and irqfds, INTx fallback. 0 or -errno. */
int virtio_pci_attach(struct virtio_dev *d) __attribute__((warn_unused_result));

/* The PCI transport's own state beyond struct virtio_state: plain data. */
struct vpci_state {
	uint8_t cfg[256];        /* configuration space (command, MSI-X control, cfg window) */
	uint32_t msix[VIRTIO_MAX_QUEUES + 1][4]; /* table: address lo/hi, data, control */
	uint8_t pending[VIRTIO_MAX_QUEUES + 1];   /* PBA bits */
};

/* Save / restore the PCI transport state of d (with virtio_save/virtio_restore for the rest).
 * Restore re-routes every MSI-X vector and the INTx line. 0 or -EINVAL (not a PCI device). */
int virtio_pci_save(struct virtio_dev *d, struct vpci_state *out)
	__attribute__((warn_unused_result));
int virtio_pci_restore(struct virtio_dev *d, const struct vpci_state *in)
	__attribute__((warn_unused_result));

/* virtio-mmio (version 2) at the next platform slot, described by the DSDT (LNRO0005), with
 * an edge-triggered GSI driven through an irqfd. 0 or -errno. */
int virtio_mmio_attach(struct virtio_dev *d) __attribute__((warn_unused_result));

/* virtio-pci layout (BAR 0 offsets) and the capability chain, for tests. */
#define VPCI_COMMON_OFF 0x0000
#define VPCI_COMMON_LEN 0x38
#define VPCI_ISR_OFF 0x1000
#define VPCI_DEVCFG_OFF 0x2000
#define VPCI_NOTIFY_OFF 0x3000
#define VPCI_NOTIFY_MULT 4
#define VPCI_BAR0_SIZE 0x4000
#define VPCI_MSIX_PBA_OFF 0x800 /* in BAR 2, after the table at 0 */
#define VPCI_BAR2_SIZE 0x1000
#define VPCI_CAP_MSIX 0x40
#define VPCI_CAP_COMMON 0x4c
#define VPCI_CAP_ISR 0x5c
#define VPCI_CAP_DEVICE 0x6c
#define VPCI_CAP_NOTIFY 0x7c
#define VPCI_CAP_PCICFG 0x90

#endif
