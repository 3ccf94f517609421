/* The py-mon command line: argv parsed into a struct, and the help text. */
#ifndef PYMON_CLI_OPTIONS_H
#define PYMON_CLI_OPTIONS_H

#include "pymon.h"

#include <stddef.h>
#include <stdio.h>

enum cli_action {
	CLI_RUN = 0,
	CLI_HELP,
	CLI_VERSION,
};

struct cli_options {
	enum cli_action action;

	/* What to watch (observer configuration). */
	const char **watch; /* -w, in order; {"."} when none was given */
	size_t nwatch;
	const char **ignore; /* -i, in order */
	size_t nignore;
	const char **ext; /* -e, each a list ("py,toml"); none: every file */
	size_t next;
	unsigned kinds;           /* --on, PYMON_ALL by default */
	unsigned delay_ms;        /* -d */
	unsigned observer_flags;  /* PYMON_NO_DEFAULT_IGNORE | PYMON_NO_VCS_IGNORE */

	/* What to run (pymon_command). Exactly one of shell and argv is set;
	 * argv points into the caller's argv or into owned_argv. */
	const char *shell;
	char *const *argv;
	int stop_signal;          /* -s, SIGTERM by default */
	unsigned stop_timeout_ms; /* -t, never 0 (the library reads 0 as 5000) */
	enum pymon_busy on_busy;
	unsigned run_flags;       /* PYMON_RUN_POSTPONE | ONCE | NO_TTY */

	/* Presentation. */
	int clear;     /* -c */
	int rs;        /* --rs */
	int verbosity; /* -1 with -q, 0, 1 with -v */
	int no_color;  /* --no-color */

	/* Owned memory, released by cli_options_free(). */
	char **owned_argv;
	char *owned_python;
};

/*
 * Parses argv (argv[argc] must be NULL). Returns 0, or -EINVAL with a
 * one-line message in msg naming the option and value ("--delay 'x': ..."),
 * or -ENOMEM. The struct must be released with cli_options_free() either way.
 */
int cli_options_parse(struct cli_options *o, int argc, char **argv, char *msg, size_t len);

void cli_options_free(struct cli_options *o);

/* Prints the usage and option list (the text docs/py-mon.1 repeats). */
void cli_options_help(FILE *f);

/* Parses a duration: "50" (ms), "250ms", "1.5s". 0 or -EINVAL/-ERANGE. */
int cli_parse_duration(const char *s, unsigned *ms);

/* Parses a signal: "TERM", "sigterm", "SIGTERM", "15". 0 or -EINVAL. */
int cli_parse_signal(const char *s, int *sig);

/* "SIGTERM" for 15; "SIGRTMIN+2"; "signal 99" for unknown ones (in buf). */
const char *cli_signal_name(int sig, char *buf, size_t len);

#endif
