/* log.h: diagnostics on stderr, one line each, prefixed with "thinvisor: ". */
#ifndef TV_LOG_H
#define TV_LOG_H

#include <stdio.h>

#define log_err(...) tv_log("error", __VA_ARGS__)
#define log_warn(...) tv_log("warning", __VA_ARGS__)
#define log_info(...) tv_log(NULL, __VA_ARGS__)

/* Print "thinvisor: [level: ]message\n" on stderr. */
void tv_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
