/* bytes.h: little- and big-endian stores and loads of 1 to 8 bytes, for tables, registers and
 * wire formats (SCSI/ATAPI, fw_cfg). */
#ifndef TV_BYTES_H
#define TV_BYTES_H

#include <stdint.h>

/* Store the low n bytes (n <= 8) of v at p, least significant first. */
static inline void le_put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Load n bytes (n <= 8) from p, least significant first. */
static inline uint64_t le_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* Store the low n bytes (n <= 8) of v at p, most significant first. */
static inline void be_put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* Load n bytes (n <= 8) from p, most significant first. */
static inline uint64_t be_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

#endif
