/* py-mon: run a command and restart it when files change.
 *
 * The glue between the command line (options.c), the messages (output.c)
 * and libpymon, used only through include/pymon.h. Exit status: 2 for bad
 * input (nothing was started), 1 for a runtime error, else what
 * pymon_observe() returns (128+N after signal N, or the command's status
 * with --once). */
#include "cli/options.h"
#include "cli/output.h"
#include "pymon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

struct app {
	struct cli_options opt;
	struct cli_output out;
	pymon_watcher *w;
	pymon_observer *o;
	char stdin_line[256]; /* --rs: the line read so far */
	size_t stdin_len;
	int stdin_overlong; /* skipping the rest of a too long line */
};

/* ---- callbacks ----------------------------------------------------------- */

static void on_status(pymon_observer *o, const pymon_run_status *st, void *userdata)
{
	struct app *a = userdata;
	cli_output_status(&a->out, st);
}

static void on_warning(const char *message, void *userdata)
{
	struct app *a = userdata;
	cli_output_warning(&a->out, message);
}

/* One line of standard input with --rs: "rs" restarts. */
static void stdin_line(struct app *a)
{
	char *s = a->stdin_line;
	size_t n = a->stdin_len;
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (n == 2 && memcmp(s, "rs", 2) == 0)
		pymon_observer_restart(a->o);
}

static void on_stdin(pymon_watcher *w, int fd, void *userdata)
{
	struct app *a = userdata;
	char buf[512];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		pymon_watcher_remove_fd(w, fd); /* end of input: py-mon goes on */
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (!a->stdin_overlong)
				stdin_line(a);
			a->stdin_len = 0;
			a->stdin_overlong = 0;
		} else if (a->stdin_len < sizeof a->stdin_line) {
			a->stdin_line[a->stdin_len++] = buf[i];
		} else {
			a->stdin_overlong = 1;
		}
	}
}

/* ---- setup ----------------------------------------------------------------- */

/* Every -w must exist before anything starts: "--watch 'x': No such ...". */
static int check_paths(const struct cli_options *opt, char *msg, size_t len)
{
	for (size_t i = 0; i < opt->nwatch; i++) {
		struct stat st;
		if (stat(opt->watch[i], &st) < 0) {
			int e = errno;
			snprintf(msg, len, "--watch '%s': %s", opt->watch[i], strerror(e));
			return -e;
		}
	}
	return 0;
}

/* The observer's roots and filters: errors here are bad input. */
static int configure_filters(struct app *a, pymon_error *err)
{
	const struct cli_options *opt = &a->opt;
	for (size_t i = 0; i < opt->nwatch; i++)
		if (pymon_observer_add(a->o, opt->watch[i], err) < 0)
			return -1;
	for (size_t i = 0; i < opt->nignore; i++)
		if (pymon_observer_ignore(a->o, opt->ignore[i], err) < 0)
			return -1;
	for (size_t i = 0; i < opt->next; i++)
		if (pymon_observer_ext(a->o, opt->ext[i], err) < 0)
			return -1;
	pymon_observer_on(a->o, opt->kinds);
	pymon_observer_delay(a->o, opt->delay_ms);
	pymon_observer_flags(a->o, opt->observer_flags);
	return 0;
}

static int configure_command(struct app *a, pymon_error *err)
{
	const struct cli_options *opt = &a->opt;
	pymon_command cmd = {
		.shell = opt->shell,
		.argv = opt->argv,
		.stop_signal = opt->stop_signal,
		.stop_timeout_ms = opt->stop_timeout_ms,
		.on_busy = opt->on_busy,
		.flags = opt->run_flags,
	};
	int r = pymon_observer_run(a->o, &cmd, err);
	if (r == 0)
		pymon_observer_on_status(a->o, on_status, a); /* needs the command set */
	return r;
}

/* --rs: stdin lines go to on_stdin. A stdin epoll cannot watch (a regular
 * file) only costs the feature, with a warning. */
static int configure_stdin(struct app *a, pymon_error *err)
{
	if (!a->opt.rs)
		return 0;
	int r = pymon_watcher_add_fd(a->w, STDIN_FILENO, on_stdin, a, err);
	if (r == -EPERM) {
		cli_output_warning(&a->out, "--rs: standard input cannot be polled; rs is not available");
		return 0;
	}
	return r;
}

/* Creates and configures the watcher; returns 0 or an exit status. */
static int setup(struct app *a, pymon_error *err)
{
	a->w = pymon_watcher_new(err);
	if (!a->w)
		return EXIT_RUNTIME;
	pymon_watcher_on_warning(a->w, on_warning, a);
	a->o = pymon_observer_new(a->w);
	if (!a->o) {
		snprintf(err->message, sizeof err->message, "out of memory");
		return EXIT_RUNTIME;
	}
	if (configure_filters(a, err) < 0)
		return err->code == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
	int r = configure_command(a, err);
	if (r < 0)
		return r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	if (pymon_watcher_handle_signals(a->w, err) < 0)
		return EXIT_RUNTIME;
	return 0;
}

/* ---- main -------------------------------------------------------------------- */

static int run(struct app *a)
{
	pymon_error err = {0};
	int status = setup(a, &err);
	if (status == EXIT_USAGE)
		cli_output_usage_error(err.message);
	if (status)
		goto fail;
	cli_output_banner(&a->out, &a->opt);
	if (configure_stdin(a, &err) < 0 || pymon_watcher_start(a->w, &err) < 0)
		goto fail_runtime;
	cli_output_watch_count(&a->out, pymon_watcher_watch_count(a->w));
	status = pymon_observe(a->w, &err);
	if (status < 0)
		goto fail_runtime;
	pymon_watcher_free(a->w);
	return status > 255 ? 255 : status;

fail_runtime:
	status = EXIT_RUNTIME;
fail:
	if (status == EXIT_RUNTIME)
		cli_output_error(err.message);
	pymon_watcher_free(a->w);
	return status;
}

int main(int argc, char **argv)
{
	struct app a = {0};
	char msg[1024];
	int status = 0;
	int r = cli_options_parse(&a.opt, argc, argv, msg, sizeof msg);

	if (r == -ENOMEM) {
		cli_output_error(msg);
		status = EXIT_RUNTIME;
	} else if (r < 0) {
		cli_output_usage_error(msg);
		status = EXIT_USAGE;
	} else if (a.opt.action == CLI_HELP) {
		cli_options_help(stdout);
	} else if (a.opt.action == CLI_VERSION) {
		printf("py-mon %s\n", PYMON_VERSION);
	} else if (check_paths(&a.opt, msg, sizeof msg) < 0) {
		cli_output_usage_error(msg);
		status = EXIT_USAGE;
	} else {
		cli_output_init(&a.out, &a.opt);
		status = run(&a);
	}
	cli_options_free(&a.opt);
	return status;
}
