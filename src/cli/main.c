/* py-mon: run a command and restart it when files change.
 *
 * The glue between the command line (options.c), the config file
 * (config.c), the messages (output.c) and libpymon, used only through
 * include/pymon.h. One watcher; one observer for the command line's job and
 * one per [[rule]] of the config. Exit status: 2 for bad input (nothing was
 * started), 1 for a runtime error, else what pymon_observe() returns (128+N
 * after signal N, or the command's status with --once). */
#include "completions.h"
#include "config.h"
#include "explain.h"
#include "init.h"
#include "envfiles.h"
#include "observer.h"
#include "options.h"
#include "output.h"
#include "sockets.h"
#include "watch.h"
#include "pymon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

struct app;

struct job {
	struct app *app;
	const struct cli_options *opt;
	struct cli_output out;
	pymon_observer *o;
	int *fds; /* --socket: the listening sockets, handed to every run */
};

struct app {
	struct cli_options opt;
	struct cli_config cfg;
	pymon_watcher *w;
	struct job *jobs;
	size_t njobs;
	struct cli_env env;       /* --env-file: what the files set */
	pymon_observer *env_obs;  /* watches the env files */
	int stdin_closed;     /* fd 0 was closed when py-mon started */
	char stdin_line[256]; /* --rs: the line read so far */
	size_t stdin_len;
	int stdin_overlong; /* skipping the rest of a too long line */
};

/* ---- callbacks ----------------------------------------------------------- */

/* --env-file: read again before every start, so an edited file counts;
 * a broken one keeps the previous values, with a warning. */
static void reload_env(struct app *a)
{
	char msg[1024];
	if (a->opt.nenv_files &&
	    cli_env_load(&a->env, a->opt.env_files, a->opt.nenv_files, msg, sizeof msg) < 0) {
		char line[1100];
		snprintf(line, sizeof line, "%s (the environment is unchanged)", msg);
		cli_output_warning(&a->jobs[0].out, line);
	}
}

static void on_skip(pymon_observer *o, unsigned kind, const char *path, const char *why, void *userdata)
{
	(void)o;
	struct job *j = userdata;
	cli_output_skipped(&j->out, kind, path, why);
}

static void on_status(pymon_observer *o, const pymon_run_status *st, void *userdata)
{
	struct job *j = userdata;
	(void)o;
	/* The library builds the command's environment from environ right
	 * after this report. */
	if (st->state == PYMON_RUN_STARTING && !st->path)
		reload_env(j->app);
	cli_output_status(&j->out, st);
}

/* An env file changed: every job starts again with its new values. */
static void on_env_change(pymon_observer *o, const pymon_batch *b, void *userdata)
{
	struct app *a = userdata;
	(void)o;
	reload_env(a); /* --each jobs build their environment before reporting */
	for (size_t i = 0; i < a->njobs; i++) {
		if (a->jobs[i].opt->each)
			continue; /* per-file jobs are not restarted: the next ones get the values */
		cli_output_changed(&a->jobs[i].out, b);
		pymon_observer_restart(a->jobs[i].o);
	}
}

static void on_warning(const char *message, void *userdata)
{
	struct app *a = userdata;
	cli_output_warning(&a->jobs[0].out, message);
}

/* One line of standard input with --rs: "rs" restarts every job. */
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
		for (size_t i = 0; i < a->njobs; i++)
			pymon_observer_restart(a->jobs[i].o);
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

static int configure_action(struct job *j, pymon_error *err)
{
	const struct cli_options *opt = j->opt;
	int r;
	pymon_observer_on_status(j->o, on_status, j);
	if (j->out.verbosity > 0)
		pymon_observer_on_skip(j->o, on_skip, j);
	if (opt->each) {
		pymon_each each = {
			.size = sizeof each,
			.shell = opt->shell,
			.argv = opt->argv,
			.jobs = opt->jobs,
			.flags = opt->run_flags & PYMON_RUN_ONCE,
			.stop_signal = opt->stop_signal,
			.stop_timeout_ms = opt->stop_timeout_ms,
		};
		r = pymon_observer_each(j->o, &each, err);
	} else {
		pymon_command cmd = {
			.size = sizeof cmd,
			.shell = opt->shell,
			.argv = opt->argv,
			.stop_signal = opt->stop_signal,
			.stop_timeout_ms = opt->stop_timeout_ms,
			.on_busy = opt->on_busy,
			.flags = opt->run_flags,
			.restart_on_exit = opt->restart_on_exit,
			.fds = j->fds,
			.nfds = j->fds ? opt->nsockets : 0,
		};
		r = pymon_observer_run(j->o, &cmd, err);
	}
	return r;
}

/* --rs: stdin lines go to on_stdin. A stdin epoll cannot watch (a regular
 * file) only costs the feature, with a warning. */
static int configure_stdin(struct app *a, pymon_error *err)
{
	if (!a->opt.rs)
		return 0;
	if (a->stdin_closed) {
		cli_output_warning(&a->jobs[0].out, "--rs: standard input is closed; rs is not available");
		return 0;
	}
	int r = pymon_watcher_add_fd(a->w, STDIN_FILENO, on_stdin, a, err);
	if (r == -EPERM) {
		cli_output_warning(&a->jobs[0].out, "--rs: standard input cannot be polled; rs is not available");
		return 0;
	}
	return r;
}

static void init_output(struct app *a, struct job *j, const char *label)
{
	/* Presentation is global: the command line and the top table. */
	cli_output_init(&j->out, j->opt, &a->opt);
	snprintf(j->out.label, sizeof j->out.label, "%s", label);
}

/* The command line's job (when it has a command) and one per rule. */
static int plan_jobs(struct app *a)
{
	size_t n = (a->opt.shell || a->opt.argv ? 1 : 0) + a->cfg.nrules;
	a->jobs = calloc(n ? n : 1, sizeof *a->jobs);
	if (!a->jobs)
		return -ENOMEM;
	if (a->opt.shell || a->opt.argv) {
		struct job *j = &a->jobs[a->njobs++];
		j->app = a;
		j->opt = &a->opt;
		init_output(a, j, a->cfg.nrules ? "main" : "");
	}
	for (size_t i = 0; i < a->cfg.nrules; i++) {
		struct job *j = &a->jobs[a->njobs++];
		j->app = a;
		j->opt = &a->cfg.rules[i].opt;
		init_output(a, j, a->cfg.rules[i].name);
	}
	return 0;
}

/* Creates and configures the watcher; returns 0 or an exit status. */
static int setup(struct app *a, pymon_error *err)
{
	a->w = cli_watcher_new(&a->opt, err);
	if (!a->w) /* -EINVAL: a bad PYMON_POLL, bad input */
		return err->code == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	pymon_watcher_on_warning(a->w, on_warning, a);
	if (cli_watcher_poll(a->w, &a->opt, err) < 0)
		return EXIT_RUNTIME;
	for (size_t i = 0; i < a->njobs; i++) {
		struct job *j = &a->jobs[i];
		j->o = pymon_observer_new(a->w, err);
		if (!j->o)
			return EXIT_RUNTIME;
		if (j->opt->nsockets) {
			j->fds = calloc(j->opt->nsockets, sizeof *j->fds);
			if (!j->fds)
				return EXIT_RUNTIME;
			if (cli_sockets_open(j->opt, j->fds, err->message, sizeof err->message) < 0) {
				free(j->fds);
				j->fds = NULL;
				return EXIT_USAGE;
			}
		}
		int r = cli_observer_configure(j->o, j->opt, err);
		/* An env file restarts the jobs through its own observer: once,
		 * not a second time as a change in the job's tree. */
		for (size_t k = 0; r == 0 && !j->opt->each && k < a->opt.nenv_files; k++)
			r = cli_observer_ignore_file(j->o, j->opt, a->opt.env_files[k], err);
		if (r == 0)
			r = configure_action(j, err);
		if (r < 0)
			return r == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
	}
	if (a->opt.nenv_files) {
		/* Its own observer: the jobs' -e and ignores must not hide .env. */
		a->env_obs = pymon_observer_new(a->w, err);
		if (!a->env_obs)
			return EXIT_RUNTIME;
		pymon_observer_flags(a->env_obs, PYMON_NO_DEFAULT_IGNORE | PYMON_NO_VCS_IGNORE);
		pymon_observer_delay(a->env_obs, a->opt.delay_ms);
		for (size_t i = 0; i < a->opt.nenv_files; i++)
			if (pymon_observer_add(a->env_obs, a->opt.env_files[i], err) < 0)
				return EXIT_USAGE;
		if (pymon_observer_callback(a->env_obs, on_env_change, a, err) < 0)
			return EXIT_RUNTIME;
	}
	if (pymon_watcher_roles(a->w, PYMON_ROLE_SIGNALS | PYMON_ROLE_TERMINAL, err) < 0)
		return EXIT_RUNTIME;
	return 0;
}

/* After the watcher is freed: the library only borrowed the sockets. */
static void close_sockets(struct app *a)
{
	for (size_t i = 0; i < a->njobs; i++) {
		if (a->jobs[i].fds)
			cli_sockets_close(a->jobs[i].fds, a->jobs[i].opt->nsockets);
		free(a->jobs[i].fds);
		a->jobs[i].fds = NULL;
	}
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
	cli_output_version(&a->jobs[0].out);
	for (size_t i = 0; i < a->njobs; i++)
		cli_output_banner(&a->jobs[i].out, a->jobs[i].opt);
	if (configure_stdin(a, &err) < 0 || pymon_watcher_start(a->w, &err) < 0)
		goto fail_runtime;
	cli_output_watch_count(&a->jobs[0].out, pymon_watcher_watch_count(a->w));
	status = pymon_observe(a->w, &err);
	if (status < 0)
		goto fail_runtime;
	pymon_watcher_free(a->w);
	close_sockets(a);
	return status > 255 ? 255 : status;

fail_runtime:
	status = EXIT_RUNTIME;
fail:
	if (status == EXIT_RUNTIME)
		cli_output_error(err.message);
	pymon_watcher_free(a->w);
	close_sockets(a);
	return status;
}

/* Every watch path of every job exists. */
static int check_all_paths(struct app *a, char *msg, size_t len)
{
	if ((a->opt.watch_mode || a->opt.shell || a->opt.argv) && cli_check_paths(&a->opt, msg, len) < 0)
		return -1;
	for (size_t i = 0; i < a->cfg.nrules; i++)
		if (cli_check_paths(&a->cfg.rules[i].opt, msg, len) < 0)
			return -1;
	return 0;
}

/* argv is parsed once, before any file is read (bad input is reported
 * first); the config file then fills in what the command line left. */
static int parse(struct app *a, int argc, char **argv, char *msg, size_t len)
{
	cli_options_init(&a->opt, argc, argv);
	int r = cli_options_parse(&a->opt, argc, argv, msg, len);
	if (r < 0 || a->opt.action != CLI_RUN)
		return r;
	if (!a->opt.no_config) {
		r = cli_config_load(&a->cfg, &a->opt, a->opt.config_file, msg, len);
		if (r < 0)
			return r;
	}
	return cli_options_finish(&a->opt, msg, len);
}

/* Descriptors 0-2 closed by whoever started py-mon are opened on
 * /dev/null: else the library's first descriptors (inotify, epoll) would
 * land on them, and a command or a message would write into them.
 * Returns whether standard input was closed. */
static int reopen_standard_fds(void)
{
	int closed0 = 0;
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (fd == 0)
			closed0 = 1;
		/* The lowest free descriptor: fd itself, as the lower ones are open. */
		int got = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (got >= 0 && got != fd) {
			dup2(got, fd);
			close(got);
		}
	}
	return closed0;
}

int main(int argc, char **argv)
{
	struct app a = {0};
	char msg[1024];
	int status = 0;
	a.stdin_closed = reopen_standard_fds();
	int r = parse(&a, argc, argv, msg, sizeof msg);

	if (a.cfg.warning[0]) {
		struct cli_output out;
		cli_output_init(&out, &a.opt, &a.opt);
		cli_output_warning(&out, a.cfg.warning);
	}
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
	} else if (a.opt.action == CLI_COMPLETIONS) {
		cli_completions(stdout, a.opt.completions_shell);
	} else if (a.opt.action == CLI_INIT) {
		status = cli_init(".", msg, sizeof msg);
		if (status == EXIT_USAGE)
			cli_output_usage_error(msg);
		else if (status)
			cli_output_error(msg);
		else
			fputs(msg, stderr);
	} else if (a.opt.print_config) {
		cli_config_print(stdout, &a.cfg, &a.opt);
	} else if (check_all_paths(&a, msg, sizeof msg) < 0) {
		cli_output_usage_error(msg);
		status = EXIT_USAGE;
	} else if (a.opt.nenv_files && (r = cli_env_load(&a.env, a.opt.env_files, a.opt.nenv_files, msg, sizeof msg)) < 0) {
		if (r == -ENOMEM) {
			cli_output_error(msg);
			status = EXIT_RUNTIME;
		} else {
			cli_output_usage_error(msg);
			status = EXIT_USAGE;
		}
	} else if (a.opt.explain) {
		status = cli_explain(&a.opt);
	} else if (a.opt.watch_mode) {
		struct cli_output out;
		cli_output_init(&out, &a.opt, &a.opt);
		status = cli_watch_run(&a.opt, &out);
	} else if (plan_jobs(&a) < 0) {
		cli_output_error("out of memory");
		status = EXIT_RUNTIME;
	} else {
		status = run(&a);
	}
	free(a.jobs);
	cli_env_free(&a.env);
	cli_options_free(&a.opt);
	cli_config_free(&a.cfg);
	return status;
}
