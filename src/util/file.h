/* file.h: reading whole input files (kernels, initrds) with a size cap. */
#ifndef TV_FILE_H
#define TV_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Read path into a new buffer (*buf, *len; free() it). what names the file in messages
 * ("kernel", "initrd"). Files over max bytes are refused. Returns 0 or -errno with e set:
 * "cannot open kernel 'PATH': No such file or directory", "kernel 'PATH' is empty", ... */
int file_read_all(const char *path, const char *what, uint64_t max, uint8_t **buf, size_t *len,
		  struct err *e) __attribute__((warn_unused_result));

#endif
