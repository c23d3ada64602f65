#include "util/size.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Both parsers: qemu adds the units P and E and a B without a unit. */
static int parse(const char *s, uint64_t *out, bool qemu)
{
	static const char units[] = "kmgtpe"; /* 2^10, 2^20, ... */
	const char *u;
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end && (u = memchr(units, tolower((unsigned char)*end), qemu ? 6 : 4))) {
		shift = 10 * (unsigned)(u - units + 1);
		end++;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if ((shift || qemu) && (*end == 'b' || *end == 'B'))
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_size(const char *s, uint64_t *out) { return parse(s, out, false); }

int parse_size_qemu(const char *s, uint64_t *out) { return parse(s, out, true); }
