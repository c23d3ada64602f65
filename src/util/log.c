#include "util/log.h"

#include <stdarg.h>

void tv_log(const char *level, const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (level)
		fprintf(stderr, "thinvisor: %s: %s\n", level, line);
	else
		fprintf(stderr, "thinvisor: %s\n", line);
}
