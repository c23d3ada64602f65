/* size.h: byte counts written with binary-unit suffixes, as on command lines ("512M", "2G"). */
#ifndef TV_SIZE_H
#define TV_SIZE_H

#include <stdint.h>

/* Parse decimal digits with an optional unit K, M, G or T (powers of 1024, any case) that may
 * be followed by i and then B, either optional, any case ("64K", "2GiB", "512mb"); no unit
 * means bytes ("1048576"). No sign and nothing else after. Returns 0 with *out set, -EINVAL
 * (malformed) or -ERANGE (more than UINT64_MAX bytes); *out is left alone on error. */
int parse_size(const char *s, uint64_t *out) __attribute__((warn_unused_result));

/* parse_size also taking qemu-img's spellings: the units P and E, and B (bytes) with no unit
 * ("512B"). Same returns. */
int parse_size_qemu(const char *s, uint64_t *out) __attribute__((warn_unused_result));

#endif
