/* py-mon's messages: "[py-mon] ..." status lines on stderr, errors, and
 * the one function that makes untrusted text (file names, commands) safe
 * to print on a terminal. */
#ifndef PYMON_CLI_OUTPUT_H
#define PYMON_CLI_OUTPUT_H

#include "options.h"
#include "text.h"
#include "pymon.h"

#include <stddef.h>
#include <stdio.h>

struct cli_output {
	FILE *err;      /* status lines */
	FILE *out;      /* only the clear-screen sequence */
	int verbosity;  /* -1 quiet: errors only; 1: each change too */
	int color;
	int clear;
	int once;
	enum pymon_busy on_busy;
	enum pymon_restart_on_exit restart_on_exit;
	int stop_signal;
	unsigned stop_timeout_ms;
	char program[256]; /* what "cannot start PROGRAM" names */
	/* "restarting due to changes: ..." for the batch that will start the
	 * next run: built on CHANGED, printed on RESTARTING or STARTING. */
	char reason[4096];
	int reason_ready;
	int reason_shown;
	int announced; /* the restart in progress was reported */
	int running; /* the command runs: "restarting", not "starting" */
	char label[64]; /* a config rule's name, shown in its lines */
};

/* Lines about job o, presented as shown says (verbosity, colour, clear:
 * those are global, set by the command line and the top table). Colour
 * only when stderr is a terminal, NO_COLOR is unset or empty and
 * --no-color was not given. */
void cli_output_init(struct cli_output *out, const struct cli_options *o, const struct cli_options *shown);

/* "[py-mon] 0.1.0", once per process (not per job). */
void cli_output_version(struct cli_output *out);

/* The lines printed before a job's first run: paths, extensions. */
void cli_output_banner(struct cli_output *out, const struct cli_options *o);

/* -v: how many directories the watcher holds once it started. */
void cli_output_watch_count(struct cli_output *out, size_t n);

/* A pymon_observer_on_status() report turned into status lines. */
void cli_output_status(struct cli_output *out, const pymon_run_status *st);

/* A batch that will restart the command through pymon_observer_restart()
 * (an env file changed): the next restart or start line names its paths. */
void cli_output_changed(struct cli_output *out, const pymon_batch *b);

/* A library warning ("[py-mon] warning: ..."); not shown with -q. */
void cli_output_warning(struct cli_output *out, const char *message);

/* -v: a change that did not count, and why ("skipped modify debug.log:
 * ignored by .gitignore:3: *.log"). */
void cli_output_skipped(struct cli_output *out, unsigned kind, const char *path, const char *why);

/* "py-mon: MSG" and the --help pointer: bad input, exit status 2. */
void cli_output_usage_error(const char *message);

/* "py-mon: MSG": a runtime error, exit status 1. */
void cli_output_error(const char *message);

#endif
