/* memory.h: guest RAM in a memfd, and the one checked accessor for guest-physical addresses. */
#ifndef TV_MEMORY_H
#define TV_MEMORY_H

#include <stdint.h>

/* RAM below 4 GiB stops here; [GMEM_HOLE_START, 4 GiB) is the 32-bit MMIO/PCI hole. */
#define GMEM_HOLE_START 0xC0000000ULL
#define GMEM_HIGH_START 0x100000000ULL

struct gmem_region {
	uint64_t gpa;    /* guest-physical start */
	uint64_t size;   /* bytes */
	uint8_t *hva;    /* host mapping */
	uint64_t offset; /* offset in the memfd */
};

struct gmem {
	int memfd;
	uint8_t *base; /* whole memfd mapping, size bytes */
	uint64_t size; /* total RAM */
	unsigned nregions;
	struct gmem_region r[2]; /* low RAM, then RAM above 4 GiB if any */
};

/* Create a memfd of ram_size bytes, map it, and lay it out around the PCI hole.
 * Returns 0 or -errno (-EINVAL for a zero or unaligned size, -ENOMEM when the host refuses). */
int gmem_init(struct gmem *m, uint64_t ram_size) __attribute__((warn_unused_result));

/* Unmap and close; safe on a zeroed or already destroyed gmem. */
void gmem_destroy(struct gmem *m);

/* The checked accessor: a host pointer to [gpa, gpa+len) if it lies wholly inside one RAM
 * region, else NULL. Overflow-safe; len 0 is valid inside RAM. */
void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len);

/* Copy out of / into guest RAM through gmem_ptr. Return 0 or -EFAULT. */
int gmem_read(const struct gmem *m, uint64_t gpa, void *dst, uint64_t len);
int gmem_write(const struct gmem *m, uint64_t gpa, const void *src, uint64_t len);

#endif
