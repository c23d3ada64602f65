#include "vm/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name)
{
	unsigned i;

	if (len == 0 || base + len < base)
		return -EINVAL;
	for (i = 0; i < b->n && b->r[i].base < base; i++)
		;
	if (i > 0 && b->r[i - 1].base + b->r[i - 1].len > base)
		return -EEXIST;
	if (i < b->n && base + len > b->r[i].base)
		return -EEXIST;
	if (b->n == b->cap) {
		unsigned cap = b->cap ? b->cap * 2 : 16;
		struct bus_range *r = realloc(b->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		b->r = r;
		b->cap = cap;
	}
	memmove(&b->r[i + 1], &b->r[i], (b->n - i) * sizeof(*b->r));
	b->r[i] = (struct bus_range){base, len, ops, opaque, name};
	b->n++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *b, uint64_t addr)
{
	unsigned lo = 0, hi = b->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &b->r[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

int bus_access(const struct bus *b, uint64_t addr, uint8_t *data, unsigned len, bool is_write)
{
	const struct bus_range *r = bus_find(b, addr);
	uint64_t off;

	if (!r) {
		if (b->miss && b->miss(b->miss_opaque, addr, data, len, is_write))
			return 0;
		if (!is_write)
			memset(data, 0xff, len);
		return -ENOENT;
	}
	off = addr - r->base;
	if (len > r->len - off) {
		if (!is_write)
			memset(data, 0xff, len);
		len = (unsigned)(r->len - off);
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, off, data, len);
	} else if (r->ops->read) {
		r->ops->read(r->opaque, off, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return 0;
}

int bus_set_miss(struct bus *b,
		 bool (*miss)(void *opaque, uint64_t addr, uint8_t *data, unsigned len, bool wr),
		 void *opaque)
{
	if (b->miss)
		return -EBUSY;
	b->miss = miss;
	b->miss_opaque = opaque;
	return 0;
}

void bus_destroy(struct bus *b)
{
	free(b->r);
	b->r = NULL;
	b->n = b->cap = 0;
	b->miss = NULL;
}
