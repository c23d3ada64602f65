/* dynlib.c: dlopen'ed libraries (dynlib.h). */
#include "util/dynlib.h"

#include <dlfcn.h>
#include <errno.h>

int dynlib_load(const char *soname, const char *pkg, const char *what, const struct dynsym *syms,
		size_t n, struct err *e)
{
	void *h;

	if (n && *syms[n - 1].slot)
		return 0; /* loaded before */
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return errf(e, -ENOENT, "%s needs %s (Debian package %s): %s", what, soname, pkg,
			    dlerror());
	for (size_t i = 0; i < n; i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			for (size_t j = 0; j < i; j++)
				*syms[j].slot = NULL;
			dlclose(h);
			return errf(e, -ENOENT, "%s needs %s with %s (Debian package %s)", what,
				    soname, syms[i].name, pkg);
		}
	}
	return 0;
}
