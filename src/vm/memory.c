#include "vm/memory.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int gmem_init(struct gmem *m, uint64_t ram_size)
{
	uint64_t low;
	int ret;

	memset(m, 0, sizeof(*m));
	m->memfd = -1;
	if (ram_size == 0 || (ram_size & 0xfffff))
		return -EINVAL;
	m->memfd = memfd_create("thinvisor-ram", MFD_CLOEXEC);
	if (m->memfd < 0)
		return -errno;
	if (ftruncate(m->memfd, (off_t)ram_size) < 0) {
		ret = -errno;
		goto close_fd;
	}
	m->base = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       m->memfd, 0);
	if (m->base == MAP_FAILED) {
		ret = -ENOMEM;
		m->base = NULL;
		goto close_fd;
	}
	/* Huge pages for guest RAM where the host allows them for shared memory
	 * (transparent_hugepage/shmem_enabled "advise" or "always"): far fewer nested page
	 * faults and TLB misses. Without that setting this is a no-op. */
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
