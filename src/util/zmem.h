/* zmem.h: zeroed memory for large arrays that are touched only in part (a disk queue's request
 * slots, a NIC's receive stash): a mapping of its own, so untouched pages cost nothing, with
 * transparent huge pages refused. Under THP "always" (Debian's default) a plain anonymous
 * mapping the kernel merged with its neighbours (a thread's stack, another array) can take a
 * whole 2 MiB page at the first touch; a refused one also never merges with them. */
#ifndef TV_ZMEM_H
#define TV_ZMEM_H

#include <stddef.h>

/* len bytes of zeroed memory, page-aligned. NULL with errno set on failure. */
void *zmem_alloc(size_t len);

/* Release what zmem_alloc(len) returned. NULL is ignored. */
void zmem_free(void *p, size_t len);

#endif
