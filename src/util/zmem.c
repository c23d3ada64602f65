#include "util/zmem.h"

#include <sys/mman.h>

void *zmem_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* best effort: a kernel without THP has nothing to refuse */
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

void zmem_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}
