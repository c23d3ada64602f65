/* rng.c: virtio-rng (--rng): one queue; each chain's writable buffers are filled from the
 * host's getrandom(). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "virtio/transport.h"
#include "virtio/virtio.h"
#include "vm/config.h"
#include "vm/devif.h"

#define RNG_MAX_PER_REQ (64u << 10)

struct vrng {
	struct virtio_dev d;
	struct virtq_elem e;
};

static int64_t rng_req(struct virtio_dev *d, unsigned q, struct virtq_elem *e)
{
	uint32_t done = 0;

	for (unsigned i = e->nout; i < e->nout + e->nin && done < RNG_MAX_PER_REQ; i++) {
		size_t want = e->iov[i].iov_len;
		ssize_t n;

		if (want > RNG_MAX_PER_REQ - done)
			want = RNG_MAX_PER_REQ - done;
		n = getrandom(e->iov[i].iov_base, want, GRND_NONBLOCK);
		if (n <= 0)
			break;
		done += (uint32_t)n;
		if ((size_t)n < want)
			break;
	}
	return done;
}

static void rng_notify(struct virtio_dev *d, unsigned q)
{
	struct vrng *r = d->priv;

	virtio_process(d, q, &r->e, rng_req);
}

static const struct virtio_dev_ops rng_ops = {.queue_notify = rng_notify};

static void rng_destroy(void *opaque)
{
	struct vrng *r = opaque;

	virtio_dev_destroy(&r->d);
	free(r);
}

static int rng_init(struct vm *vm)
{
	struct vrng *r;
	int ret;

	if (!devif_config(vm)->rng)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->d = (struct virtio_dev){.name = "virtio-rng", .device_id = VIRTIO_ID_RNG,
				   .features = 1ULL << VIRTIO_F_RING_INDIRECT_DESC |
					       1ULL << VIRTIO_F_RING_EVENT_IDX,
				   .nqueues = 1, .queue_size = 64, .pci_class = {0, 0xff, 0},
				   .ops = &rng_ops, .priv = r};
	ret = devif_add_device(vm, "virtio-rng", r, rng_destroy);
	if (ret) {
		free(r);
		return ret;
	}
	ret = virtio_dev_init(&r->d, vm);
	return ret ? ret : virtio_attach(&r->d);
}

DEVICE_REGISTER(virtio_rng, DEV_PHASE_PCI, rng_init);
