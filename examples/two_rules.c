/* Two jobs on one watcher: restart a server when Python files change, and
 * compile each changed Sass file on its own, in one process and one loop.
 * Build: cc two_rules.c $(pkg-config --cflags --libs pymon) */
#include <pymon.h>
#include <stdio.h>

static void on_status(pymon_observer *o, const pymon_run_status *st, void *name)
{
	(void)o;
	if (st->state == PYMON_RUN_STARTING)
		fprintf(stderr, "[%s] starting %s%s%s\n", (const char *)name, st->command,
		        st->path ? " for " : "", st->path ? st->path : "");
}

int main(void)
{
	pymon_error err;
	pymon_watcher *w = pymon_watcher_new(&err);
	if (!w) {
		fprintf(stderr, "two_rules: %s\n", err.message);
		return 1;
	}
	pymon_observer *server = pymon_observer_new(w, NULL);
	pymon_observer *css = pymon_observer_new(w, NULL);
	char *server_argv[] = {"python3", "-m", "http.server", "8000", NULL};
	char *sass_argv[] = {"sass", "{}", "static/app.css", NULL};     /* {} = the changed file */
	pymon_command run = {.size = sizeof run, .argv = server_argv};                       /* TERM, 5 s, restart */
	pymon_each each = {.size = sizeof each, .argv = sass_argv, .jobs = 2};
	if (pymon_observer_add(server, ".", &err) < 0 || pymon_observer_ext(server, "py", &err) < 0 ||
	    pymon_observer_run(server, &run, &err) < 0 || pymon_observer_add(css, ".", &err) < 0 ||
	    pymon_observer_ext(css, "scss", &err) < 0 || pymon_observer_each(css, &each, &err) < 0 ||
	    pymon_watcher_roles(w, PYMON_ROLE_SIGNALS, &err) < 0) {
		fprintf(stderr, "two_rules: %s\n", err.message);
		pymon_watcher_free(w);
		return 2;
	}
	pymon_observer_on_status(server, on_status, "server");
	pymon_observer_on_status(css, on_status, "css");
	int status = pymon_observe(w, &err); /* until SIGINT/SIGTERM: 128 + signal */
	if (status < 0)
		fprintf(stderr, "two_rules: %s\n", err.message);
	pymon_watcher_free(w);
	return status < 0 ? 1 : status;
}
