/* loop.h: the VM's event-loop thread (epoll): device backends, the console, later the API
 * socket and timers. Callbacks run on the loop thread. */
#ifndef TV_LOOP_H
#define TV_LOOP_H

#include <stdint.h>

struct loop;

typedef void (*loop_fn)(void *opaque, uint32_t events);

/* Create a loop (not yet running). Returns 0 or -errno. */
int loop_create(struct loop **out) __attribute__((warn_unused_result));

/* Watch fd for epoll events; cb(opaque, events) on the loop thread. 0 or -errno. */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fn cb, void *opaque);

/* Stop watching fd. 0 or -errno. */
int loop_del(struct loop *l, int fd);

/* Start the loop thread. 0 or -errno. */
int loop_start(struct loop *l);

/* Stop and join the thread (if started), close the epoll fd, free. NULL is fine. */
void loop_destroy(struct loop *l);

#endif
