/* gmem.h: guest RAM and the one checked accessor for guest-physical addresses. Sits below
 * vm/ in the layering: boot loaders, devices and tests use it without the VM object. */
#ifndef TV_GMEM_H
#define TV_GMEM_H

#include <stdint.h>

/* RAM below 4 GiB stops here; [GMEM_HOLE_START, 4 GiB) is the 32-bit MMIO/PCI hole. */
#define GMEM_HOLE_START 0xC0000000ULL
#define GMEM_HIGH_START 0x100000000ULL

/* gmem_init flags */
#define GMEM_SHARED 0x1u /* RAM in a memfd (MAP_SHARED), for vhost-user and snapshots; the
			  * default is private anonymous memory, which gets transparent huge
			  * pages under the host's default settings */

struct gmem_region {
	uint64_t gpa;    /* guest-physical start */
	uint64_t size;   /* bytes */
	uint8_t *hva;    /* host mapping */
	uint64_t offset; /* offset in the whole mapping (and in the memfd when shared) */
};

struct gmem {
	int memfd;     /* -1 unless GMEM_SHARED */
	unsigned flags;
	uint8_t *base; /* the whole RAM mapping, size bytes, 2 MiB aligned */
	uint64_t size; /* total RAM */
	unsigned nregions;
	struct gmem_region r[2]; /* low RAM, then RAM above 4 GiB if any */
};

/* Allocate ram_size bytes of guest RAM (flags: GMEM_SHARED or 0), 2 MiB aligned and advised
 * for huge pages, and lay it out around the PCI hole. Returns 0 or -errno (-EINVAL for a zero
 * or unaligned size or unknown flags, -ENOMEM when the host refuses). */
int gmem_init(struct gmem *m, uint64_t ram_size, unsigned flags)
	__attribute__((warn_unused_result));

/* Unmap (and close the memfd); safe on a zeroed or already destroyed gmem. */
void gmem_destroy(struct gmem *m);

/* The checked accessor: a host pointer to [gpa, gpa+len) if it lies wholly inside one RAM
 * region, else NULL. Overflow-safe; len 0 is valid inside RAM. */
void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len);

/* Copy out of / into guest RAM through gmem_ptr. Return 0 or -EFAULT. */
int gmem_read(const struct gmem *m, uint64_t gpa, void *dst, uint64_t len);
int gmem_write(const struct gmem *m, uint64_t gpa, const void *src, uint64_t len);

#endif
