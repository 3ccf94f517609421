/* py-mon explain (see explain.h). One observer per root, each with the
 * same filters, so that a path is explained against the root it is under
 * (pymon_observer_explain() works from an observer's first root). */
#include "explain.h"
#include "observer.h"
#include "output.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void say(const char *path, const char *what)
{
	char esc[8192];
	cli_escape(esc, sizeof esc, path);
	printf("%s: %s\n", esc, what);
}

int cli_explain(const struct cli_options *opt)
{
	pymon_error err = {0};
	int status = 0;
	pymon_watcher *w = pymon_watcher_new(&err);
	if (!w) {
		cli_output_error(err.message);
		return 1;
	}
	pymon_observer **obs = calloc(opt->nwatch, sizeof *obs);
	char **roots = calloc(opt->nwatch, sizeof *roots);
	if (!obs || !roots) {
		cli_output_error("out of memory");
		status = 1;
		goto done;
	}
	for (size_t i = 0; i < opt->nwatch; i++) {
		struct cli_options one = {0};
		/* The filters of opt, with just this root. */
		one.watch = &opt->watch[i];
		one.nwatch = 1;
		one.ignore = opt->ignore;
		one.nignore = opt->nignore;
		one.ext = opt->ext;
		one.next = opt->next;
		one.kinds = opt->kinds;
		one.delay_ms = opt->delay_ms;
		one.observer_flags = opt->observer_flags;
		obs[i] = pymon_observer_new(w);
		roots[i] = realpath(opt->watch[i], NULL);
		if (!obs[i] || !roots[i] || cli_observer_configure(obs[i], &one, &err) < 0) {
			cli_output_usage_error(obs[i] && roots[i] ? err.message : "out of memory");
			status = obs[i] && roots[i] ? 2 : 1;
			goto done;
		}
	}
	if (pymon_watcher_start(w, &err) < 0) {
		cli_output_error(err.message);
		status = 1;
		goto done;
	}
	for (size_t k = 0; k < opt->nexplain; k++) {
		const char *path = opt->explain_paths[k];
		char *abs = cli_resolve(path);
		if (!abs) {
			say(path, "cannot be resolved (its directory does not exist)");
			continue;
		}
		const char *rel = NULL;
		size_t i;
		for (i = 0; i < opt->nwatch && !rel; i++)
			rel = cli_below(roots[i], abs);
		if (!rel) {
			say(path, "outside the watched paths");
		} else if (!*rel) {
			say(path, "watched (a watched root)");
		} else {
			struct stat st;
			size_t n = strlen(path);
			int is_dir = stat(path, &st) == 0 ? S_ISDIR(st.st_mode) : n && path[n - 1] == '/';
			char why[1024];
			int ignored = pymon_observer_explain(obs[i - 1], rel, is_dir, why, sizeof why);
			say(path, ignored ? why : "watched");
		}
		free(abs);
	}
done:
	for (size_t i = 0; roots && i < opt->nwatch; i++)
		free(roots[i]);
	free(roots);
	free(obs);
	pymon_watcher_free(w);
	return status;
}
