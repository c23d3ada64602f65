/* console.h: the guest console's host side (stdio in raw mode, a file, or nothing).
 * Input from the terminal is fed to one sink (the UART); Ctrl-A x asks the VM to quit. */
#ifndef TV_CONSOLE_H
#define TV_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct console;

/* Input sink: called on the event-loop thread with bytes typed by the user. */
typedef void (*console_input_fn)(void *opaque, const uint8_t *buf, size_t len);

/* Open the console that vm->cfg asks for and hook stdin into vm->loop. Puts a terminal in
 * raw mode (restored by console_close, on every exit path). Returns 0 or -errno. */
int console_open(struct vm *vm, struct console **out) __attribute__((warn_unused_result));

/* Where typed bytes go (the last caller wins). */
void console_set_input(struct console *c, console_input_fn fn, void *opaque);

/* Write guest output; never blocks the guest on a full file system for long, drops on error. */
void console_write(struct console *c, const uint8_t *buf, size_t len);

/* Restore the terminal and close. NULL is fine. */
void console_close(struct console *c);

#endif
