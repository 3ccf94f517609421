/* py-mon explain (see explain.h): the observer a run would have, asked
 * about each path (pymon_observer_explain() knows every reason). */
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
		if (err.code == -EINVAL) {
			cli_output_usage_error(err.message);
			return 2;
		}
		cli_output_error(err.message);
		return 1;
	}
	/* The observer a run would have: the same roots and filters. */
	pymon_observer *o = pymon_observer_new(w, &err);
	if (!o || cli_observer_configure(o, opt, &err) < 0) {
		if (o && err.code != -ENOMEM) {
			cli_output_usage_error(err.message);
			status = 2;
		} else {
			cli_output_error(err.message);
			status = 1;
		}
		goto done;
	}
	if (pymon_watcher_start(w, &err) < 0) {
		cli_output_error(err.message);
		status = 1;
		goto done;
	}
	for (size_t k = 0; k < opt->nexplain; k++) {
		const char *path = opt->explain_paths[k];
		struct stat st;
		size_t n = strlen(path);
		int is_dir = stat(path, &st) == 0 ? S_ISDIR(st.st_mode) : n && path[n - 1] == '/';
		char why[1024];
		pymon_observer_explain(o, path, is_dir, why, sizeof why);
		say(path, why);
	}
done:
	pymon_watcher_free(w);
	return status;
}
