/* dynlib.h: libraries that only some commands use (libcurl for `ctl`, libxml2 for `import`,
 * libslirp for `--net user`) are opened with dlopen when first needed, so a `thinvisor run`
 * maps and relocates only the libraries its VM uses. Each user lists the symbols it calls in
 * a table of typed pointers (declared with __typeof__ of the library's own prototype, so the
 * compiler still checks every call) and loads it once before the first call. */
#ifndef TV_DYNLIB_H
#define TV_DYNLIB_H

#include <stddef.h>

#include "util/err.h"

struct dynsym {
	const char *name;
	void **slot; /* where the address goes */
};

/* Open soname (RTLD_NOW, kept open for the life of the process) and resolve each of syms[0..n)
 * into its slot. 0, or -ENOENT with e set to one line naming the library, what needs it, the
 * Debian package that has it and the loader's reason. Call from one thread at a time; a second
 * call after success is cheap. */
int dynlib_load(const char *soname, const char *pkg, const char *what, const struct dynsym *syms,
		size_t n, struct err *e);

/* A table entry for symbol SYM stored in the pointer p->FIELD. */
#define DYNSYM(p, field, sym)                                                                      \
	{                                                                                          \
#sym, (void **)&(p)->field                                                         \
	}

#endif
