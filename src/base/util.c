/* Small helpers: error messages, warnings, strings, time, path buffers. */
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdarg.h>

int pm_err(pymon_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof err->message, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

char *pm_strndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

char *pm_strdup(const char *s)
{
	return pm_strndup(s, strlen(s));
}

uint64_t pm_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long read_sysctl(const char *name)
{
	char path[128], buf[64];
	snprintf(path, sizeof path, "/proc/sys/fs/inotify/%s", name);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	long v = -1;
	if (fgets(buf, sizeof buf, f))
		v = strtol(buf, NULL, 10);
	fclose(f);
	return v;
}

/* The kernel's per-user inotify limits: say which one, its value, and the
 * sysctl that raises it, so the user can act on the message alone. */
int pm_limit_error(pymon_error *err, int code, const char *what)
{
	const char *name = code == -ENOSPC ? "max_user_watches" : "max_user_instances";
	const char *unit = code == -ENOSPC ? "watches" : "inotify instances";
	long suggest = code == -ENOSPC ? 524288 : 1024;
	long cur = read_sysctl(name);
	char curbuf[32];
	if (cur >= 0)
		snprintf(curbuf, sizeof curbuf, "%ld", cur);
	else
		snprintf(curbuf, sizeof curbuf, "unknown");
	return pm_err(err, code,
	              "%s: the inotify limit of %s is reached (fs.inotify.%s = %s); raise it with "
	              "'sudo sysctl fs.inotify.%s=%ld' (add 'fs.inotify.%s=%ld' to "
	              "/etc/sysctl.d/90-inotify.conf to keep it), or ignore large directories",
	              what, unit, name, curbuf, name, suggest, name, suggest);
}

int pm_buf_put(struct pm_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p)
			return -ENOMEM;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

void pm_buf_free(struct pm_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

char *pm_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (!la)
		return pm_strdup(b);
	if (!lb)
		return pm_strdup(a);
	char *p = malloc(la + lb + 2);
	if (!p)
		return NULL;
	memcpy(p, a, la);
	size_t o = la;
	if (a[la - 1] != '/')
		p[o++] = '/';
	memcpy(p + o, b, lb + 1);
	return p;
}

void pm_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

char **pm_argv_dup(char *const *argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	char **v = calloc(n + 1, sizeof *v);
	for (size_t i = 0; v && i < n; i++)
		if (!(v[i] = pm_strdup(argv[i]))) {
			pm_argv_free(v);
			return NULL;
		}
	return v;
}

const char *pm_next_word(const char **p, size_t *n)
{
	const char *s = *p;
	while (*s == ',' || isspace((unsigned char)*s))
		s++;
	if (!*s) {
		*p = s;
		return NULL;
	}
	const char *e = s;
	while (*e && *e != ',' && !isspace((unsigned char)*e))
		e++;
	*n = (size_t)(e - s);
	*p = e;
	return s;
}
