/* The py-mon command line: argv parsed into a struct, and the help text. */
#ifndef PYMON_CLI_OPTIONS_H
#define PYMON_CLI_OPTIONS_H

#include "pymon.h"

#include <stddef.h>
#include <stdio.h>

/* --poll without a value. */
#define CLI_POLL_DEFAULT_MS 500

/* Every option, in the order --help lists them. */
enum cli_opt {
	OPT_EXEC,
	OPT_WATCH,
	OPT_EXT,
	OPT_IGNORE,
	OPT_NO_DEFAULT_IGNORE,
	OPT_NO_VCS_IGNORE,
	OPT_ON,
	OPT_DELAY,
	OPT_POLL,
	OPT_NO_POLL,
	OPT_POLL_ON_LIMIT,
	OPT_SIGNAL,
	OPT_STOP_TIMEOUT,
	OPT_ON_BUSY,
	OPT_RESTART_ON_EXIT,
	OPT_ENV_FILE,
	OPT_SOCKET,
	OPT_CLEAR,
	OPT_POSTPONE,
	OPT_ONCE,
	OPT_RS,
	OPT_QUIET,
	OPT_VERBOSE,
	OPT_NO_COLOR,
	OPT_EACH,
	OPT_JOBS,
	OPT_JSON,
	OPT_COUNT,
	OPT_TIMEOUT,
	OPT_CONFIG,
	OPT_NO_CONFIG,
	OPT_PRINT_CONFIG,
	OPT_HELP,
	OPT_VERSION,
	CLI_NOPTS
};

enum cli_action {
	CLI_RUN = 0,     /* run, watch and explain */
	CLI_HELP,
	CLI_VERSION,
	CLI_INIT,        /* py-mon init */
	CLI_COMPLETIONS, /* py-mon completions SHELL */
};

/* One option: the table that drives the parser, --help and the shell
 * completions. */
struct cli_opt_spec {
	enum cli_opt id;
	unsigned modes;        /* 1: running a command, 2: py-mon watch, 3: both */
	char short_name;       /* 0 when there is none */
	const char *long_name; /* without the dashes */
	const char *arg;       /* NULL for a flag */
	const char *help;      /* one sentence or two; docs/py-mon.1 has the same */
	int optional;          /* arg may be left out: --name or --name=VALUE (long only) */
};

/* The table, in --help order. */
const struct cli_opt_spec *cli_option_specs(size_t *n);

/* Where a setting came from. */
enum cli_source {
	CLI_SRC_DEFAULT = 0,
	CLI_SRC_CONFIG,  /* a config file: file, line, col */
	CLI_SRC_ENV,     /* an environment variable (NO_COLOR) */
	CLI_SRC_ARGV,    /* the command line */
};

struct cli_origin {
	enum cli_source source;
	const char *file; /* CLI_SRC_CONFIG: borrowed, lives as long as the config */
	unsigned line, col;
};

/* "default", "command line", "environment" or "FILE:LINE:COL", in buf. */
const char *cli_origin_text(const struct cli_origin *o, char *buf, size_t len);

struct cli_options {
	enum cli_action action;

	/* What to watch (observer configuration). */
	const char **watch; /* -w, in order; {"."} when none was given */
	struct cli_origin *watch_origin; /* where each watch path was given */
	size_t nwatch;
	const char **ignore; /* -i, in order */
	size_t nignore;
	const char **ext; /* -e, each a list ("py,toml"); none: every file */
	size_t next;
	const char **env_files; /* --env-file, in order (later files win) */
	size_t nenv_files;
	unsigned kinds;           /* --on, PYMON_ALL by default */
	unsigned delay_ms;        /* -d */
	unsigned observer_flags;  /* PYMON_NO_DEFAULT_IGNORE | PYMON_NO_VCS_IGNORE */

	/* The backend (pymon_watcher_poll), only when a flag or key asked:
	 * else the library's choice (by file system, or PYMON_POLL) stands. */
	int poll_set;              /* --poll, --no-poll or the key poll */
	enum pymon_poll poll_mode; /* ALWAYS or NEVER when poll_set */
	unsigned poll_interval_ms; /* --poll=TIME; CLI_POLL_DEFAULT_MS for --poll */
	int poll_on_limit;         /* --poll-on-limit */

	/* What to run (pymon_command). Exactly one of shell and argv is set;
	 * argv points into the caller's argv or into owned_argv. */
	const char *shell;
	char *const *argv;
	int stop_signal;          /* -s, SIGTERM by default */
	unsigned stop_timeout_ms; /* -t, never 0 (the library reads 0 as 5000) */
	enum pymon_busy on_busy;
	unsigned run_flags;       /* PYMON_RUN_POSTPONE | ONCE | NO_TTY */
	enum pymon_restart_on_exit restart_on_exit; /* --restart-on-exit */
	const char **sockets;     /* --socket [HOST:]PORT, in order */
	struct cli_origin *socket_origin; /* where each was given */
	size_t nsockets;

	/* Presentation. */
	int clear;     /* -c */
	int rs;        /* --rs */
	int verbosity; /* -1 with -q, 0, 1 with -v */
	int no_color;  /* --no-color */

	/* Per-file actions. */
	int each;      /* --each */
	unsigned jobs; /* --jobs */

	/* py-mon watch (and explain, which uses its options). */
	int watch_mode;
	int explain;
	const char **explain_paths;
	size_t nexplain;
	const char *completions_shell; /* py-mon completions SHELL */
	int json;
	unsigned long count;  /* 0: no limit */
	unsigned timeout_ms;
	int has_timeout;

	/* Config files. */
	const char *config_file; /* --config */
	int no_config;
	int print_config;

	/* Where each setting came from. */
	struct cli_origin origin[CLI_NOPTS];
	struct cli_origin command_origin;
	const char *exec; /* -x: the command as given, until finish */

	int has_rules; /* a config file defines [[tool.py-mon.rule]] jobs */

	/* Owned memory, released by cli_options_free(). */
	char **owned_strings; /* rewritten values (-e '*.py' as "py") */
	size_t nowned;
	char **owned_argv;
	char *owned_python;
};

/* Defaults; "py-mon watch" (argv[1]) switches to watch mode. */
void cli_options_init(struct cli_options *o, int argc, char **argv);

/*
 * Parses argv (argv[argc] must be NULL), once, before any config file is
 * read: a file's settings are applied afterwards with cli_options_set(),
 * which leaves alone what the command line set (lists included: a list
 * given here replaces the file's). Returns 0, or -EINVAL with a one-line
 * message in msg naming the option and value ("--delay 'x': ..."), or
 * -ENOMEM. The struct must be released with cli_options_free() either way.
 */
int cli_options_parse(struct cli_options *o, int argc, char **argv, char *msg, size_t len);

/* Checks what needs everything (a command; --each without a shell) and
 * fills the last defaults. Same returns as cli_options_parse(). */
int cli_options_finish(struct cli_options *o, char *msg, size_t len);

/* A config file's key (a long option name; '_' may stand for '-'), with
 * val NULL for a flag set to true. Unknown keys are errors (with a "did
 * you mean" when one is close); keys of the other mode (run vs watch) and
 * settings the command line made are skipped. */
int cli_options_set(struct cli_options *o, const char *key, const char *val, const struct cli_origin *origin,
                    char *msg, size_t len);

/* The known name closest to word (options when dashes, else config keys)
 * as " (did you mean '--delay'?)", or "" when none is close. */
const char *cli_did_you_mean(const char *word, int config_key, char *buf, size_t len);

/* What a value of key must be, for messages ("a duration: a string such
 * as "250ms" or an integer of milliseconds"); NULL for a flag. */
const char *cli_value_kind(const char *key);

/* Whether a config file may use key (a long option, '_' for '-'). */
int cli_options_known(const char *key);

/* A config file's command: a shell string or argv (kept by the caller).
 * Ignored when the command line gave one. */
int cli_options_set_command(struct cli_options *o, const char *shell, char **argv, int each,
                            const struct cli_origin *origin);


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
