/* loop.h: the VM's event-loop thread (epoll): device backends, the console, later the API
 * socket and timers. Callbacks run on the loop thread. */
#ifndef TV_LOOP_H
#define TV_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

typedef void (*loop_fn)(void *opaque, uint32_t events);

/* Create a loop (not yet running). Returns 0 or -errno. */
int loop_create(struct loop **out) __attribute__((warn_unused_result));

/* Watch fd for epoll events; cb(opaque, events) on the loop thread. 0 or -errno. */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fn cb, void *opaque);

/* Change the epoll events watched on fd (added with loop_add). 0 or -errno. */
int loop_mod(struct loop *l, int fd, uint32_t events);

/* Stop watching fd. 0 or -errno. */
int loop_del(struct loop *l, int fd);

/* Wait up to timeout_ms (-1: forever) for events and run their callbacks on the calling
 * thread; for tests, on a loop whose thread is not started. Returns the number of events
 * handled, or -errno. */
int loop_poll(struct loop *l, int timeout_ms);

/* Start the loop thread. 0 or -errno. */
int loop_start(struct loop *l);

/* Whether the caller runs on l's thread (started and current). */
bool loop_on_thread(struct loop *l);

/* Stop and join the thread (if started); the loop stays usable (loop_del, loop_poll) until
 * loop_destroy. Idempotent. Not from the loop's own thread. */
void loop_stop(struct loop *l);

/* Stop and join the thread (if started), close the epoll fd, free. NULL is fine. */
void loop_destroy(struct loop *l);

#endif
