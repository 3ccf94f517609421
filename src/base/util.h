/* Small helpers every module uses: error messages, strings, time, a
 * growable buffer, and the visibility mark of public functions. */
#ifndef PM_BASE_UTIL_H
#define PM_BASE_UTIL_H

#include "pymon.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define PM_API __attribute__((visibility("default")))

/* Fills *err (may be NULL) and returns code. */
int pm_err(pymon_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An inotify limit error naming the sysctl and its current value. */
int pm_limit_error(pymon_error *err, int code, const char *what);
char *pm_strdup(const char *s);
char *pm_strndup(const char *s, size_t n);
uint64_t pm_now_ns(void); /* CLOCK_MONOTONIC */
char *pm_path_join(const char *a, const char *b);
/* The next word of a list separated by commas and/or blanks ("py, toml"):
 * its start, its length in *n, and *p moved past it; NULL at the end. */
const char *pm_next_word(const char **p, size_t *n);
void pm_argv_free(char **argv);
char **pm_argv_dup(char *const *argv); /* NULL-terminated; NULL when out of memory */

/* A growable string, for building paths. */
struct pm_buf {
	char *s;
	size_t len, cap;
};
int pm_buf_put(struct pm_buf *b, const char *s, size_t n);
void pm_buf_free(struct pm_buf *b);

#endif
