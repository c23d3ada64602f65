/* thread.h: the monitor's threads (vCPUs, event loop). */
#ifndef TV_THREAD_H
#define TV_THREAD_H

#include <pthread.h>

/* Stack of every monitor thread: ample for exit handling, and smaller than a 2 MiB huge page,
 * so a host with transparent huge pages "always" cannot back a stack with one (glibc's default
 * 8 MiB stacks each cost 2 MiB of RSS there). */
#define THREAD_STACK_SIZE (1u << 20)

/* pthread_create(t, fn, arg) with a THREAD_STACK_SIZE stack. Returns 0 or -errno. */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
