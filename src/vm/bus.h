/* bus.h: port-I/O and MMIO buses. Devices register address ranges before the vCPUs start;
 * lookups afterwards take no lock (the table is read-only while the guest runs). */
#ifndef TV_BUS_H
#define TV_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
	/* Fill data[0..len) for a read at offset off inside the range. */
	void (*read)(void *opaque, uint64_t off, uint8_t *data, unsigned len);
	/* Handle a write of data[0..len) at offset off inside the range. */
	void (*write)(void *opaque, uint64_t off, const uint8_t *data, unsigned len);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name; /* "pio" or "mmio", for messages */
	struct bus_range *r; /* sorted by base, non-overlapping */
	unsigned n, cap;
	/* Asked for accesses no range claims (a PCI function's programmable I/O BAR): returns
	 * true if it took the access. Set once before the vCPUs start; NULL: none. */
	bool (*miss)(void *opaque, uint64_t addr, uint8_t *data, unsigned len, bool is_write);
	void *miss_opaque;
};

/* Claim [base, base+len) for ops/opaque. Returns 0, -EINVAL (len 0 or wrap-around),
 * -EEXIST (overlaps a registered range) or -ENOMEM. */
int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name) __attribute__((warn_unused_result));

/* The range holding addr, or NULL. */
const struct bus_range *bus_find(const struct bus *b, uint64_t addr);

/* Dispatch one access. Returns 0 if a device took it, -ENOENT if nothing is there (a read
 * then returns all ones, as on real hardware). An access straddling a range end is cut to
 * the range. */
int bus_access(const struct bus *b, uint64_t addr, uint8_t *data, unsigned len, bool is_write);

/* Install the handler for unclaimed accesses (see struct bus). -EBUSY if one is set. */
int bus_set_miss(struct bus *b,
		 bool (*miss)(void *opaque, uint64_t addr, uint8_t *data, unsigned len, bool wr),
		 void *opaque) __attribute__((warn_unused_result));

/* Free the table. */
void bus_destroy(struct bus *b);

#endif
