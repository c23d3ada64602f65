/* console.c: virtio-console (--console virtio): one port, the guest's hvc0, on the monitor's
 * console (stdio). Queue 0 (receiveq) takes what the user types, queue 1 (transmitq) carries
 * guest output to console_write. Input that arrives while the guest has no buffers posted is
 * kept in a small ring (and dropped, counted, beyond it). Runs on the VM's event loop. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "virtio/virtio.h"
#include "vm/config.h"
#include "vm/console.h"
#include "vm/devif.h"

#define CON_RING 4096
#define CON_CFG_LEN 12 /* cols, rows, max_nr_ports, emerg_wr */

struct vcon {
	struct virtio_dev d;
	struct console *con;
	struct virtq_elem e;
	uint8_t ring[CON_RING];
	unsigned head, len;
	unsigned long dropped;
	uint8_t out[4096];
};

/* Move buffered input into the guest's receive buffers. d->lock held. */
static void con_rx(struct vcon *c)
{
	struct virtio_dev *d = &c->d;
	struct virtq *q = &d->st.q[0];
	bool pushed = false;
	const char *why;

	while (c->len && virtio_queue_live(d, 0)) {
		uint32_t n = 0;
		int r = virtq_pop(q, d->mem, &c->e, &why);

		if (r < 0) {
			virtio_needs_reset(d, why);
			return;
		}
		if (r == 0)
			break;
		while (c->len && n < c->e.in_len) {
			unsigned chunk = CON_RING - c->head < c->len ? CON_RING - c->head : c->len;

			chunk = virtq_copy_to(&c->e, n, c->ring + c->head, chunk);
			if (!chunk)
				break;
			n += chunk;
			c->head = (c->head + chunk) % CON_RING;
			c->len -= chunk;
		}
		if (virtq_push(q, d->mem, c->e.head, n) < 0) {
			virtio_needs_reset(d, "used ring outside guest RAM");
			return;
		}
		pushed = true;
	}
	if (pushed)
		virtio_queue_notify_guest(d, 0);
}

static void con_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct vcon *c = opaque;

	pthread_mutex_lock(&c->d.lock);
	for (size_t i = 0; i < len; i++) {
		if (c->len == CON_RING) {
			c->dropped++;
			continue;
		}
		c->ring[(c->head + c->len) % CON_RING] = buf[i];
		c->len++;
	}
	con_rx(c);
	pthread_mutex_unlock(&c->d.lock);
}

static int64_t con_tx(struct virtio_dev *d, unsigned q, struct virtq_elem *e)
{
	struct vcon *c = d->priv;

	for (uint32_t off = 0; off < e->out_len;) {
		uint32_t n = virtq_copy_from(e, off, c->out, sizeof(c->out));

		console_write(c->con, c->out, n);
		off += n;
	}
	return 0;
}

static void con_notify(struct virtio_dev *d, unsigned q)
{
	struct vcon *c = d->priv;

	if (q == 0)
		con_rx(c);
	else
		virtio_process(d, q, &c->e, con_tx);
}

static void con_config_read(struct virtio_dev *d, unsigned off, uint8_t *data, unsigned len)
{
	uint8_t cfg[CON_CFG_LEN] = {0};

	le_put(cfg + 0, 80, 2);
	le_put(cfg + 2, 25, 2);
	le_put(cfg + 4, 1, 4);
	memcpy(data, cfg + off, len);
}

static void con_config_write(struct virtio_dev *d, unsigned off, const uint8_t *data,
			     unsigned len)
{
	struct vcon *c = d->priv;

	if (off == 8) /* emerg_wr: one character, even before the queues work */
		console_write(c->con, data, 1);
}

static const struct virtio_dev_ops con_ops = {
	.config_read = con_config_read,
	.config_write = con_config_write,
	.queue_notify = con_notify,
};

static void con_destroy(void *opaque)
{
	struct vcon *c = opaque;

	virtio_dev_destroy(&c->d);
	free(c);
}

static int con_init(struct vm *vm)
{
	struct vcon *c;
	int ret;

	if (devif_config(vm)->console != CONSOLE_VIRTIO)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->con = devif_console(vm);
	c->d = (struct virtio_dev){.name = "virtio-console", .device_id = VIRTIO_ID_CONSOLE,
				   .features = 1ULL << VIRTIO_F_RING_INDIRECT_DESC |
					       1ULL << VIRTIO_F_RING_EVENT_IDX |
					       1ULL << 2 /* VIRTIO_CONSOLE_F_EMERG_WRITE */,
				   .nqueues = 2, .queue_size = 64, .config_len = CON_CFG_LEN,
				   .pci_class = {0, 0x80, 0x07}, .ops = &con_ops, .priv = c};
	ret = devif_add_device(vm, "virtio-console", c, con_destroy);
	if (ret) {
		free(c);
		return ret;
	}
	ret = virtio_dev_init(&c->d, vm);
	if (!ret)
		ret = virtio_attach(&c->d);
	if (!ret)
		console_set_input(c->con, con_input, c); /* after the UART's: the last one wins */
	return ret;
}

DEVICE_REGISTER(virtio_console, DEV_PHASE_PCI, con_init);
