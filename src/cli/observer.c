/* Options to observer: the part every mode shares. */
#include "observer.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int cli_check_paths(const struct cli_options *opt, char *msg, size_t len)
{
	for (size_t i = 0; i < opt->nwatch; i++) {
		struct stat st;
		if (stat(opt->watch[i], &st) < 0) {
			int e = errno;
			const struct cli_origin *at = opt->watch_origin ? &opt->watch_origin[i] : NULL;
			if (at && at->source == CLI_SRC_CONFIG)
				snprintf(msg, len, "%s:%u:%u: watch '%s': %s", at->file, at->line, at->col, opt->watch[i],
				         strerror(e));
			else
				snprintf(msg, len, "--watch '%s': %s", opt->watch[i], strerror(e));
			return -e;
		}
	}
	return 0;
}

int cli_observer_configure(pymon_observer *o, const struct cli_options *opt, pymon_error *err)
{
	for (size_t i = 0; i < opt->nwatch; i++)
		if (pymon_observer_add(o, opt->watch[i], err) < 0)
			return err->code;
	for (size_t i = 0; i < opt->nignore; i++)
		if (pymon_observer_ignore(o, opt->ignore[i], err) < 0)
			return err->code;
	for (size_t i = 0; i < opt->next; i++)
		if (pymon_observer_ext(o, opt->ext[i], err) < 0)
			return err->code;
	pymon_observer_on(o, opt->kinds);
	pymon_observer_delay(o, opt->delay_ms);
	pymon_observer_flags(o, opt->observer_flags);
	return 0;
}

/* The absolute, symlink-free form of path, also when it does not exist
 * (yet): its directory resolved, its name appended. NULL if neither. */
char *cli_resolve(const char *path)
{
	char *r = realpath(path, NULL);
	if (r)
		return r;
	char *copy = strdup(path);
	if (!copy)
		return NULL;
	size_t n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	char *slash = strrchr(copy, '/');
	const char *name = slash ? slash + 1 : copy;
	char *dir = slash ? (slash == copy ? strdup("/") : strndup(copy, (size_t)(slash - copy))) : strdup(".");
	char *rdir = dir ? realpath(dir, NULL) : NULL;
	char *out = NULL;
	if (rdir && (out = malloc(strlen(rdir) + strlen(name) + 2)))
		sprintf(out, "%s%s%s", rdir, strcmp(rdir, "/") ? "/" : "", name);
	free(dir);
	free(rdir);
	free(copy);
	return out;
}

/* path below root: the part after "root/", "" for the root itself, NULL
 * when outside. */
const char *cli_below(const char *root, const char *path)
{
	size_t n = strlen(root);
	if (strcmp(root, "/") == 0)
		return path + 1;
	if (strncmp(path, root, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return "";
	return path[n] == '/' ? path + n + 1 : NULL;
}

/* A file's own path below each of the observer's roots, ignored there
 * ("/sub/.env", anchored, glob characters escaped). */
int cli_observer_ignore_file(pymon_observer *o, const struct cli_options *opt, const char *file, pymon_error *err)
{
	char *abs = cli_resolve(file);
	int r = 0;
	for (size_t i = 0; abs && r == 0 && i < opt->nwatch; i++) {
		char *root = realpath(opt->watch[i], NULL);
		const char *rel = root ? cli_below(root, abs) : NULL;
		if (rel && *rel) {
			char *pat = malloc(2 * strlen(rel) + 2), *w = pat;
			if (!pat) {
				free(root);
				r = -ENOMEM;
				break;
			}
			*w++ = '/';
			for (const char *c = rel; *c; c++) {
				if (strchr("*?[]\\!# ", *c))
					*w++ = '\\';
				*w++ = *c;
			}
			*w = '\0';
			r = pymon_observer_ignore(o, pat, err);
			free(pat);
		}
		free(root);
	}
	free(abs);
	return r;
}

pymon_watcher *cli_watcher_new(const struct cli_options *opt, pymon_error *err)
{
	if (!opt->poll_set)
		return pymon_watcher_new(err);
	/* A flag or key decides: PYMON_POLL is not read (a bad value in it is
	 * then no error), and the command still gets it. */
	char *saved = getenv("PYMON_POLL") ? strdup(getenv("PYMON_POLL")) : NULL;
	unsetenv("PYMON_POLL");
	pymon_watcher *w = pymon_watcher_new(err);
	if (saved) {
		setenv("PYMON_POLL", saved, 1);
		free(saved);
	}
	return w;
}

int cli_watcher_poll(pymon_watcher *w, const struct cli_options *opt, pymon_error *err)
{
	unsigned flags = opt->poll_on_limit ? PYMON_POLL_ON_LIMIT : 0;
	if (opt->poll_set)
		return pymon_watcher_poll(w, opt->poll_mode, opt->poll_interval_ms, flags, err);
	if (!flags)
		return 0;
	/* --poll-on-limit alone adds the flag to the mode PYMON_POLL chose
	 * (the library read and checked it; interval 0 keeps its interval):
	 * the library has no call that sets the flags only. */
	const char *env = getenv("PYMON_POLL");
	enum pymon_poll mode = !env || !*env ? PYMON_POLL_AUTO : strcmp(env, "0") == 0 ? PYMON_POLL_NEVER
	                                                                                : PYMON_POLL_ALWAYS;
	return pymon_watcher_poll(w, mode, 0, flags, err);
}
