#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_read_all(const char *path, const char *what, uint64_t max, uint8_t **buf, size_t *len,
		  struct err *e)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t got = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errf(e, -errno, "cannot open %s '%s': %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = errf(e, -errno, "cannot stat %s '%s': %s", what, path, strerror(errno));
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = errf(e, -EINVAL, "%s '%s' is not a regular file", what, path);
		goto close_fd;
	}
	if (st.st_size == 0) {
		ret = errf(e, -EINVAL, "%s '%s' is empty", what, path);
		goto close_fd;
	}
	if ((uint64_t)st.st_size > max) {
		ret = errf(e, -EFBIG, "%s '%s' (%lld bytes) is larger than guest memory", what, path,
			   (long long)st.st_size);
		goto close_fd;
	}
	p = malloc((size_t)st.st_size);
	if (!p) {
		ret = errf(e, -ENOMEM, "out of memory reading %s '%s'", what, path);
		goto close_fd;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, p + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = errf(e, r < 0 ? -errno : -EIO, "cannot read %s '%s': %s", what, path,
				   r < 0 ? strerror(errno) : "file shrank while reading");
			goto free_p;
		}
		got += (size_t)r;
	}
	close(fd);
	*buf = p;
	*len = got;
	return 0;

free_p:
	free(p);
close_fd:
	close(fd);
	return ret;
}
