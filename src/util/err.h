/* err.h: a small error-message buffer so pure parsers can say exactly what was wrong. */
#ifndef TV_ERR_H
#define TV_ERR_H

#define ERR_MSG_MAX 1024

struct err {
	char msg[ERR_MSG_MAX];
};

/* Format a one-line message into e (if non-NULL) and return code (a -errno value). */
int errf(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
