/* fuzz_virtq: guest memory made of fuzz input, driven through the split virtqueue (with and
 * without indirect descriptors and event index) and virtio-blk's request parser. The first
 * 32 bytes pick the queue's size, ring addresses and features; the rest is guest RAM. Nothing
 * the guest can write may crash, read outside RAM or loop. */
#include <stdint.h>
#include <string.h>

#include "util/bytes.h"
#include "virtio/blk_req.h"
#include "virtio/queue.h"

#define RAM (1u << 20)

static struct gmem m;
static struct virtq_elem e;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtq q;
	struct blk_req_view v;
	const char *why;
	uint8_t *ram;

	if (size < 32)
		return 0;
	if (!m.base && gmem_init(&m, RAM, 0))
		return 0;
	ram = gmem_ptr(&m, 0, RAM);
	memset(ram, 0, 64 << 10);
	memcpy(ram, data + 32, size - 32 < RAM ? size - 32 : RAM);
	virtq_reset(&q, 256);
	q.size = (uint16_t)(1u << (data[0] % 9));
	q.desc = le_get(data + 1, 4) % (RAM + 0x1000);
	q.avail = le_get(data + 5, 4) % (RAM + 0x1000);
	q.used = le_get(data + 9, 4) % (RAM + 0x1000);
	q.indirect = data[13] & 1;
	q.event_idx = data[13] & 2;
	q.last_avail = (uint16_t)le_get(data + 14, 2);
	q.used_idx = (uint16_t)le_get(data + 16, 2);
	if (virtq_check(&q, &m))
		return 0;
	q.ready = true;
	for (int i = 0; i < 64; i++) {
		int r = virtq_pop(&q, &m, &e, &why);
		uint64_t off;
		struct blk_seg s;
		uint8_t buf[64];

		if (r <= 0)
			break;
		if (!blk_req_parse(&e, &v)) {
			blk_req_check_rw(&v, le_get(data + 18, 8), data[26] & 1, &off);
			for (unsigned k = 0; k < 4; k++)
				blk_req_segment(&v, k, le_get(data + 18, 8), 1u << 22, &s);
			iov_copy(v.data, v.ndata, data[27], buf, sizeof(buf), true);
			*v.status = 0;
		}
		virtq_push(&q, &m, e.head, e.in_len);
		virtq_should_notify(&q, &m);
		virtq_set_notify(&q, &m, data[28] & 1);
	}
	return 0;
}
