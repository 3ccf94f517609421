/* --env-file: the files' variables into environ (see envfiles.h). */
#include "envfiles.h"
#include "text.h"
#include "dotenv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENV_FILE (1u << 20)

struct pairs {
	char **kv; /* key, value, key, value, ... */
	size_t n;  /* pairs */
};

static int add_pair(const char *key, const char *value, unsigned line, void *ud)
{
	struct pairs *p = ud;
	(void)line;
	char **kv = realloc(p->kv, (p->n + 1) * 2 * sizeof *kv);
	if (!kv)
		return -ENOMEM;
	p->kv = kv;
	kv[2 * p->n] = strdup(key);
	kv[2 * p->n + 1] = strdup(value);
	p->n++;
	return kv[2 * p->n - 2] && kv[2 * p->n - 1] ? 0 : -ENOMEM;
}

static void free_pairs(struct pairs *p)
{
	for (size_t i = 0; i < 2 * p->n; i++)
		free(p->kv[i]);
	free(p->kv);
}

/* A regular file of at most MAX_ENV_FILE bytes, NUL-terminated. */
static char *slurp(const char *path, size_t *len, char *msg, size_t msglen)
{
	int err;
	char *text = cli_read_file(path, MAX_ENV_FILE, len, &err);
	if (!text)
		snprintf(msg, msglen, "--env-file '%s': %s", path,
		         err == EFBIG ? "larger than 1 MiB" : cli_read_error(err));
	return text;
}

static int find(const struct cli_env *e, const char *key)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->keys[i], key) == 0)
			return (int)i;
	return -1;
}

static int track(struct cli_env *e, const char *key)
{
	if (find(e, key) >= 0)
		return 0;
	char **k = realloc(e->keys, (e->n + 1) * sizeof *k);
	if (!k)
		return -ENOMEM;
	e->keys = k;
	char **o = realloc(e->orig, (e->n + 1) * sizeof *o);
	if (!o)
		return -ENOMEM;
	e->orig = o;
	const char *was = getenv(key);
	k[e->n] = strdup(key);
	o[e->n] = was ? strdup(was) : NULL;
	if (!k[e->n] || (was && !o[e->n])) {
		free(k[e->n]);
		free(o[e->n]);
		return -ENOMEM;
	}
	e->n++;
	return 0;
}

int cli_env_load(struct cli_env *e, const char *const *files, size_t n, char *msg, size_t len)
{
	struct pairs all = {0};
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		size_t size;
		char *text = slurp(files[i], &size, msg, len);
		if (!text) {
			r = -EINVAL;
			break;
		}
		char why[200];
		unsigned line = 0;
		r = cli_dotenv_parse(text, size, add_pair, &all, &line, why, sizeof why);
		free(text);
		if (r == -EINVAL)
			snprintf(msg, len, "%s:%u: %s", files[i], line, why);
		else if (r < 0)
			snprintf(msg, len, "out of memory");
	}
	if (r < 0) {
		free_pairs(&all);
		return r;
	}
	/* Variables the files no longer set get their old value back. */
	for (size_t i = 0; i < e->n; i++) {
		int still = 0;
		for (size_t k = 0; k < all.n && !still; k++)
			still = strcmp(all.kv[2 * k], e->keys[i]) == 0;
		if (still)
			continue;
		if (e->orig[i])
			setenv(e->keys[i], e->orig[i], 1);
		else
			unsetenv(e->keys[i]);
	}
	for (size_t k = 0; k < all.n && r == 0; k++) {
		r = track(e, all.kv[2 * k]);
		if (r == 0 && setenv(all.kv[2 * k], all.kv[2 * k + 1], 1) < 0)
			r = -errno;
	}
	if (r < 0)
		snprintf(msg, len, "cannot set the environment: %s", strerror(-r));
	free_pairs(&all);
	return r;
}

void cli_env_free(struct cli_env *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->keys[i]);
		free(e->orig[i]);
	}
	free(e->keys);
	free(e->orig);
	memset(e, 0, sizeof *e);
}
