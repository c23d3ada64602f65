#include "mem/gmem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GMEM_ALIGN (2ULL << 20) /* a transparent huge page */

/* Map size bytes at a 2 MiB-aligned address: shared from the memfd, or private anonymous. */
static uint8_t *map_ram(int memfd, uint64_t size)
{
	uint64_t span = size + GMEM_ALIGN, head;
	uint8_t *p, *a;

	p = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)(((uintptr_t)p + GMEM_ALIGN - 1) & ~(uintptr_t)(GMEM_ALIGN - 1));
	head = (uint64_t)(a - p);
	if (memfd >= 0)
		a = mmap(a, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE | MAP_FIXED,
			 memfd, 0);
	else
		a = mmap(a, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	if (a == MAP_FAILED) {
		munmap(p, span);
		return NULL;
	}
	if (head)
		munmap(p, head);
	if (span - head - size)
		munmap(a + size, span - head - size);
	return a;
}

int gmem_init(struct gmem *m, uint64_t ram_size, unsigned flags)
{
	uint64_t low;
	int ret;

	memset(m, 0, sizeof(*m));
	m->memfd = -1;
	if (ram_size == 0 || (ram_size & 0xfffff) || (flags & ~GMEM_SHARED))
		return -EINVAL;
	m->flags = flags;
	if (flags & GMEM_SHARED) {
		m->memfd = memfd_create("thinvisor-ram", MFD_CLOEXEC);
		if (m->memfd < 0)
			return -errno;
		if (ftruncate(m->memfd, (off_t)ram_size) < 0) {
			ret = -errno;
			goto close_fd;
		}
	}
	m->base = map_ram(m->memfd, ram_size);
	if (!m->base) {
		ret = -ENOMEM;
		goto close_fd;
	}
	/* 2 MiB pages: far fewer nested page faults and TLB misses. Private anonymous memory
	 * gets them under Debian's default THP setting (enabled=madvise or always); a shared
	 * memfd only where shmem_enabled allows it. */
	(void)madvise(m->base, ram_size, MADV_HUGEPAGE);
	m->size = ram_size;
	low = ram_size < GMEM_HOLE_START ? ram_size : GMEM_HOLE_START;
	m->r[0] = (struct gmem_region){.gpa = 0, .size = low, .hva = m->base, .offset = 0};
	m->nregions = 1;
	if (ram_size > low) {
		m->r[1] = (struct gmem_region){
			.gpa = GMEM_HIGH_START, .size = ram_size - low, .hva = m->base + low, .offset = low};
		m->nregions = 2;
	}
	return 0;

close_fd:
	if (m->memfd >= 0)
		close(m->memfd);
	m->memfd = -1;
	return ret;
}

void gmem_destroy(struct gmem *m)
{
	if (m->base)
		munmap(m->base, m->size);
	if (m->memfd >= 0)
		close(m->memfd);
	m->base = NULL;
	m->memfd = -1;
	m->nregions = 0;
}

void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nregions; i++) {
		const struct gmem_region *r = &m->r[i];

		if (gpa < r->gpa || gpa - r->gpa > r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int gmem_read(const struct gmem *m, uint64_t gpa, void *dst, uint64_t len)
{
	void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int gmem_write(const struct gmem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}
