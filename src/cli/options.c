/* The py-mon command line: argv parsed into struct cli_options.
 *
 * One table describes every option: the parser looks names up in it and
 * the help text is printed from it (docs/py-mon.1 repeats each line, and a
 * test keeps the two identical). Options come first; the first word that
 * is not an option starts the command, and everything after it belongs to
 * the command. */
#include "options.h"
#include "sockets.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>


/* Which command lines an option belongs to. */
#define FOR_RUN 1
#define FOR_WATCH 2
#define FOR_BOTH 3

static const struct cli_opt_spec specs[] = {
	{OPT_EXEC, FOR_RUN, 'x', "exec", "CMD",
	 "Run CMD, exactly as the COMMAND argument would be run (the nodemon spelling: py-mon -x \"python3 -m http.server\").", 0},
	{OPT_WATCH, FOR_BOTH, 'w', "watch", "PATH",
	 "Watch PATH, a file or a directory (recursively). Repeatable. Default: the current directory.", 0},
	{OPT_EXT, FOR_BOTH, 'e', "ext", "LIST",
	 "Only react to files with these extensions, comma separated, e.g. py,toml,html (*.py is read as py). Repeatable. Default: every file.", 0},
	{OPT_IGNORE, FOR_BOTH, 'i', "ignore", "GLOB",
	 "Ignore paths matching GLOB, in gitignore syntax, relative to the watched directory. Repeatable.", 0},
	{OPT_NO_DEFAULT_IGNORE, FOR_BOTH, 0, "no-default-ignore", NULL,
	 "Do not apply the default ignores (.git/, __pycache__/, *.pyc, .venv/, venv/, node_modules/, editor swap files and others).", 0},
	{OPT_NO_VCS_IGNORE, FOR_BOTH, 0, "no-vcs-ignore", NULL,
	 "Do not read .gitignore, .git/info/exclude and .ignore files.", 0},
	{OPT_ON, FOR_BOTH, 0, "on", "LIST",
	 "Event kinds that trigger a run, comma separated: create, modify, delete, move, or all. Default: all.", 0},
	{OPT_DELAY, FOR_BOTH, 'd', "delay", "TIME",
	 "Act once no change came for TIME (debounce). A plain number is milliseconds; 250ms and 1.5s are accepted too. Default: 50ms.", 0},
	{OPT_POLL, FOR_BOTH, 0, "poll", "TIME",
	 "Find changes by polling every watched directory every TIME (default 500ms) instead of with inotify. "
	 "Without it, only trees inotify cannot see are polled (NFS, SMB, 9p, FUSE and other network or virtual "
	 "file systems). Where a round would cost over 5% of a core, directories with no change in 10 minutes are "
	 "polled in turn, less often, and py-mon says how often. Overrides PYMON_POLL.", 1},
	{OPT_NO_POLL, FOR_BOTH, 0, "no-poll", NULL,
	 "Never poll, not even where inotify cannot see changes. Overrides PYMON_POLL.", 0},
	{OPT_POLL_ON_LIMIT, FOR_BOTH, 0, "poll-on-limit", NULL,
	 "When the inotify watch limit (fs.inotify.max_user_watches) is reached, poll the directories that could "
	 "not be watched instead of failing.", 0},
	{OPT_SIGNAL, FOR_RUN, 's', "signal", "SIG",
	 "The signal that stops the command, by name or number: TERM, SIGTERM or 15. Default: TERM.", 0},
	{OPT_STOP_TIMEOUT, FOR_RUN, 't', "stop-timeout", "TIME",
	 "Send SIGKILL to what is left of the command TIME after the stop signal; 0 kills at once. Default: 5s.", 0},
	{OPT_ON_BUSY, FOR_RUN, 0, "on-busy", "MODE",
	 "What a change does while the command still runs: restart (stop it and run again, the default), queue (run again once it ends), ignore, or signal (only send the --signal, e.g. HUP for gunicorn).", 0},
	{OPT_RESTART_ON_EXIT, FOR_RUN, 0, "restart-on-exit", "WHEN",
	 "Restart the command when it exits without a change. WHEN is fail (a non-zero status or a signal, the "
	 "default) or always. Restarts back off: 100ms, doubling up to 10s, back to 100ms after 10s of uptime.", 1},
	{OPT_ENV_FILE, FOR_RUN, 0, "env-file", "FILE",
	 "Load variables from FILE (.env syntax: KEY=VALUE, quotes, export, comments) into the command's environment at each start; editing FILE restarts the command. Repeatable; later files win.", 0},
	{OPT_SOCKET, FOR_RUN, 0, "socket", "[HOST:]PORT",
	 "Listen on PORT (HOST defaults to 127.0.0.1) once, and hand the socket to every run as descriptor 3 "
	 "(then 4, ...) with LISTEN_FDS and LISTEN_PID set, as systemd socket activation does: connections made "
	 "during a restart wait instead of being refused. Repeatable.", 0},
	{OPT_CLEAR, FOR_RUN, 'c', "clear", NULL,
	 "Clear the screen before each run.", 0},
	{OPT_POSTPONE, FOR_RUN, 'p', "postpone", NULL,
	 "Do not run the command before the first change.", 0},
	{OPT_ONCE, FOR_RUN, 0, "once", NULL,
	 "Run the command once (after the first change with --postpone), then exit with its status.", 0},
	{OPT_RS, FOR_RUN, 0, "rs", NULL,
	 "Read standard input: a line rs restarts the command. The command then gets no terminal input.", 0},
	{OPT_QUIET, FOR_BOTH, 'q', "quiet", NULL,
	 "Print only errors.", 0},
	{OPT_VERBOSE, FOR_RUN, 'v', "verbose", NULL,
	 "Also print each change that makes up a batch, and each change that did not count with the reason (the rule that ignored it, the extension filter, the event kinds).", 0},
	{OPT_NO_COLOR, FOR_BOTH, 0, "no-color", NULL,
	 "Do not colour the status lines. Setting NO_COLOR does the same.", 0},
	{OPT_EACH, FOR_RUN, 0, "each", NULL,
	 "Run the command once per changed file instead of restarting it: {} in any argument is replaced by the path, never through a shell. Deleted files are skipped unless --on asks for delete.", 0},
	{OPT_JOBS, FOR_RUN, 'j', "jobs", "N",
	 "With --each, run up to N commands at once. Default: 1.", 0},
	{OPT_JSON, FOR_WATCH, 0, "json", NULL,
	 "py-mon watch: print one JSON object per line.", 0},
	{OPT_COUNT, FOR_WATCH, 'n', "count", "N",
	 "py-mon watch: exit with status 0 after N events.", 0},
	{OPT_TIMEOUT, FOR_WATCH, 0, "timeout", "TIME",
	 "py-mon watch: exit after TIME; status 0 if an event came (or --count was reached), 3 if not.", 0},
	{OPT_CONFIG, FOR_BOTH, 0, "config", "FILE",
	 "Read settings from FILE (a pyproject.toml with [tool.py-mon], or a py-mon.toml) instead of searching for one.", 0},
	{OPT_NO_CONFIG, FOR_BOTH, 0, "no-config", NULL,
	 "Read no config file.", 0},
	{OPT_PRINT_CONFIG, FOR_BOTH, 0, "print-config", NULL,
	 "Print the merged settings and where each came from, then exit.", 0},
	{OPT_HELP, FOR_BOTH, 'h', "help", NULL,
	 "Print the usage and the options, then exit.", 0},
	{OPT_VERSION, FOR_BOTH, 'V', "version", NULL,
	 "Print the version, then exit.", 0},
};

#define NSPECS (sizeof specs / sizeof specs[0])

const struct cli_opt_spec *cli_option_specs(size_t *n)
{
	*n = NSPECS;
	return specs;
}

static int fail(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int out_of_memory(char *msg, size_t len)
{
	snprintf(msg, len, "out of memory");
	return -ENOMEM;
}

const char *cli_origin_text(const struct cli_origin *o, char *buf, size_t len)
{
	switch (o->source) {
	case CLI_SRC_CONFIG:
		snprintf(buf, len, "%s:%u:%u", o->file ? o->file : "?", o->line, o->col);
		break;
	case CLI_SRC_ENV:
		snprintf(buf, len, "environment");
		break;
	case CLI_SRC_ARGV:
		snprintf(buf, len, "command line");
		break;
	default:
		snprintf(buf, len, "default");
		break;
	}
	return buf;
}

static const struct cli_origin from_argv = {.source = CLI_SRC_ARGV};

/* ---- values ------------------------------------------------------------ */

int cli_parse_duration(const char *s, unsigned *ms)
{
	const char *p = s;
	unsigned long long whole = 0, frac = 0, scale = 1;
	int digits = 0, big = 0;

	for (; isdigit((unsigned char)*p); p++, digits++) {
		whole = whole * 10 + (unsigned)(*p - '0');
		if (whole > UINT_MAX) { /* keep scanning: garbage beats overflow */
			big = 1;
			whole = UINT_MAX;
		}
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, digits++) {
			if (scale < 1000000) {
				frac = frac * 10 + (unsigned)(*p - '0');
				scale *= 10;
			}
		}
	}
	unsigned long long mult;
	if (*p == '\0' || strcmp(p, "ms") == 0)
		mult = 1;
	else if (strcmp(p, "s") == 0)
		mult = 1000;
	else
		return -EINVAL;
	if (!digits)
		return -EINVAL;
	unsigned long long v = whole * mult + (frac * mult + scale / 2) / scale;
	if (big || v > UINT_MAX)
		return -ERANGE;
	*ms = (unsigned)v;
	return 0;
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
	/* The first name of a number is the one printed. */
	{"HUP", SIGHUP},     {"INT", SIGINT},         {"QUIT", SIGQUIT},   {"ILL", SIGILL},
	{"TRAP", SIGTRAP},   {"ABRT", SIGABRT},       {"IOT", SIGIOT},     {"BUS", SIGBUS},
	{"FPE", SIGFPE},     {"KILL", SIGKILL},       {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
	{"USR2", SIGUSR2},   {"PIPE", SIGPIPE},       {"ALRM", SIGALRM},   {"TERM", SIGTERM},
#ifdef SIGSTKFLT
	{"STKFLT", SIGSTKFLT},
#endif
	{"CHLD", SIGCHLD},   {"CLD", SIGCHLD},        {"CONT", SIGCONT},   {"STOP", SIGSTOP},
	{"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},       {"TTOU", SIGTTOU},   {"URG", SIGURG},
	{"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},       {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
	{"WINCH", SIGWINCH}, {"IO", SIGIO},           {"POLL", SIGPOLL},
#ifdef SIGPWR
	{"PWR", SIGPWR},
#endif
	{"SYS", SIGSYS},
};

#define NSIGNALS (sizeof signals / sizeof signals[0])

static int valid_signal(long n)
{
	return (n >= 1 && n < 32) || (n >= SIGRTMIN && n <= SIGRTMAX);
}

/* "123" → 123; -1 when s is not all digits or too large. */
static long parse_number(const char *s)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	long n = 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || n > 100000)
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n;
}

/* "RTMIN", "RTMIN+3", "RTMAX-2" (without the SIG prefix). */
static int parse_rt_signal(const char *s)
{
	int base;
	if (strncasecmp(s, "RTMIN", 5) == 0)
		base = SIGRTMIN;
	else if (strncasecmp(s, "RTMAX", 5) == 0)
		base = SIGRTMAX;
	else
		return -1;
	s += 5;
	if (!*s)
		return base;
	if ((*s != '+' && *s != '-') || (*s == '+') != (base == SIGRTMIN))
		return -1;
	long off = parse_number(s + 1);
	if (off < 0)
		return -1;
	long n = *s == '+' ? base + off : base - off;
	return n >= SIGRTMIN && n <= SIGRTMAX ? (int)n : -1;
}

int cli_parse_signal(const char *s, int *sig)
{
	long n = parse_number(s);
	if (n >= 0) {
		if (!valid_signal(n))
			return -EINVAL;
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < NSIGNALS; i++) {
		if (strcasecmp(s, signals[i].name) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
	}
	int rt = parse_rt_signal(s);
	if (rt < 0)
		return -EINVAL;
	*sig = rt;
	return 0;
}

const char *cli_signal_name(int sig, char *buf, size_t len)
{
	for (size_t i = 0; i < NSIGNALS; i++) {
		if (signals[i].sig == sig) {
			snprintf(buf, len, "SIG%s", signals[i].name);
			return buf;
		}
	}
	if (sig == SIGRTMIN)
		snprintf(buf, len, "SIGRTMIN");
	else if (sig > SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

static int parse_busy(const char *s, enum pymon_busy *out)
{
	return pymon_parse_busy(s, out); /* the names live in the library */
}

/* An extension list with at least one name in it ("py", ".py,toml"). */
static int has_extension(const char *s)
{
	for (; *s; s++)
		if (*s != ',' && *s != '.' && !isspace((unsigned char)*s))
			return 1;
	return 0;
}

/* ---- applying one option ---------------------------------------------- */

static int push(const char ***arr, size_t *n, const char *v)
{
	const char **a = realloc(*arr, (*n + 1) * sizeof *a);
	if (!a)
		return -ENOMEM;
	a[(*n)++] = v;
	*arr = a;
	return 0;
}

static int apply_duration(unsigned *out, const char *name, const char *val, char *msg, size_t len)
{
	int r = cli_parse_duration(val, out);
	if (r == -ERANGE)
		return fail(msg, len, "%s '%s': too large (at most %u ms)", name, val, UINT_MAX);
	if (r < 0 && val[0] == '-')
		return fail(msg, len, "%s '%s': must not be negative", name, val);
	if (r < 0)
		return fail(msg, len, "%s '%s': not a duration (use 50, 250ms or 1.5s)", name, val);
	return 0;
}

static int push_watch(struct cli_options *o, const char *path, const struct cli_origin *origin)
{
	struct cli_origin *w = realloc(o->watch_origin, (o->nwatch + 1) * sizeof *w);
	if (!w)
		return -ENOMEM;
	o->watch_origin = w;
	w[o->nwatch] = *origin;
	return push(&o->watch, &o->nwatch, path);
}

/* An owned copy of s, freed with the options. */
static char *own(struct cli_options *o, char *s)
{
	if (!s)
		return NULL;
	char **v = realloc(o->owned_strings, (o->nowned + 1) * sizeof *v);
	if (!v) {
		free(s);
		return NULL;
	}
	o->owned_strings = v;
	v[o->nowned++] = s;
	return s;
}

/* "*.py,*.html" is read as "py,html" (the glob users write for a file
 * type); any other glob character in an extension is refused. 0 with *out
 * set (val itself when nothing changed), -EINVAL, -ENOMEM. */
static int normalise_extensions(struct cli_options *o, const char *name, const char *val,
                                const char **out, char *msg, size_t len)
{
	if (!strpbrk(val, "*?[]")) {
		*out = val;
		return 0;
	}
	char *copy = own(o, malloc(strlen(val) + 1));
	if (!copy)
		return out_of_memory(msg, len);
	char *w = copy;
	for (const char *p = val; *p;) {
		size_t sep = strspn(p, ", \t");
		memcpy(w, p, sep);
		w += sep;
		p += sep;
		size_t n = strcspn(p, ", \t");
		if (n >= 2 && p[0] == '*' && p[1] == '.') {
			p += 2;
			n -= 2;
		}
		const char *bad = NULL;
		for (size_t k = 0; k < n; k++)
			if (strchr("*?[]", p[k]))
				bad = p;
		if (bad)
			return fail(msg, len, "%s '%s': '%.*s' is a glob, not an extension (write py for *.py, "
			            "or use --ignore for patterns)", name, val, (int)n, bad);
		memcpy(w, p, n);
		w += n;
		p += n;
	}
	*w = '\0';
	*out = copy;
	return 0;
}

static int apply_list(struct cli_options *o, const struct cli_opt_spec *s, const char *name,
                      const char *val, const struct cli_origin *origin, char *msg, size_t len)
{
	int r = 0;
	switch (s->id) {
	case OPT_WATCH:
		if (!*val)
			return fail(msg, len, "%s '': empty path", name);
		r = push_watch(o, val, origin);
		break;
	case OPT_EXT:
		r = normalise_extensions(o, name, val, &val, msg, len);
		if (r < 0)
			return r;
		if (!has_extension(val))
			return fail(msg, len, "%s '%s': no extension given (use e.g. py,toml)", name, val);
		r = push(&o->ext, &o->next, val);
		break;
	case OPT_IGNORE:
		if (!*val)
			return fail(msg, len, "%s '': empty pattern", name);
		r = push(&o->ignore, &o->nignore, val);
		break;
	case OPT_ENV_FILE:
		if (!*val)
			return fail(msg, len, "%s '': empty file name", name);
		r = push(&o->env_files, &o->nenv_files, val);
		break;
	case OPT_SOCKET: {
		char addr[300];
		const char *why = cli_socket_normalise(val, addr, sizeof addr);
		if (why)
			return fail(msg, len, "%s '%s': %s", name, val, why);
		const char *copy = own(o, strdup(addr));
		struct cli_origin *so = realloc(o->socket_origin, (o->nsockets + 1) * sizeof *so);
		if (!copy || !so)
			return out_of_memory(msg, len);
		o->socket_origin = so;
		so[o->nsockets] = *origin;
		r = push(&o->sockets, &o->nsockets, copy);
		break;
	}
	default:
		break;
	}
	return r < 0 ? out_of_memory(msg, len) : 0;
}

static int apply_value(struct cli_options *o, const struct cli_opt_spec *s, const char *name,
                       const char *val, const struct cli_origin *origin, char *msg, size_t len)
{
	pymon_error perr;
	switch (s->id) {
	case OPT_ON:
		if (pymon_parse_kinds(val, &o->kinds, &perr) < 0)
			return fail(msg, len, "%s '%s': %s", name, val, perr.message);
		return 0;
	case OPT_DELAY:
		return apply_duration(&o->delay_ms, name, val, msg, len);
	case OPT_STOP_TIMEOUT: {
		int r = apply_duration(&o->stop_timeout_ms, name, val, msg, len);
		if (r == 0 && o->stop_timeout_ms == 0)
			o->stop_timeout_ms = 1; /* the library reads 0 as its default */
		return r;
	}
	case OPT_SIGNAL:
		if (cli_parse_signal(val, &o->stop_signal) < 0)
			return fail(msg, len, "%s '%s': not a signal (use a name such as TERM, HUP or INT, or a number from 1 to %d)",
			            name, val, SIGRTMAX);
		return 0;
	case OPT_ON_BUSY:
		if (parse_busy(val, &o->on_busy) < 0)
			return fail(msg, len, "%s '%s': expected restart, queue, ignore or signal", name, val);
		return 0;
	case OPT_JOBS: {
		long n = parse_number(val);
		if (n < 1 || n > 1024)
			return fail(msg, len, "%s '%s': expected a number of jobs from 1 to 1024", name, val);
		o->jobs = (unsigned)n;
		return 0;
	}
	case OPT_COUNT: {
		long n = parse_number(val);
		if (n < 1)
			return fail(msg, len, "%s '%s': expected a positive number of events", name, val);
		o->count = (unsigned long)n;
		return 0;
	}
	case OPT_TIMEOUT:
		o->has_timeout = 1;
		return apply_duration(&o->timeout_ms, name, val, msg, len);
	case OPT_POLL: {
		o->poll_set = 1;
		o->poll_mode = PYMON_POLL_ALWAYS;
		o->poll_interval_ms = CLI_POLL_DEFAULT_MS;
		if (!val) /* plain --poll, or poll = true */
			return 0;
		unsigned ms;
		int r = apply_duration(&ms, name, val, msg, len);
		if (r < 0)
			return r;
		if (ms == 0 || ms > 3600000)
			return fail(msg, len, "%s '%s': the interval must be from 1ms to 3600s (e.g. 250ms)", name, val);
		o->poll_interval_ms = ms;
		return 0;
	}
	case OPT_RESTART_ON_EXIT:
		if (!val || strcasecmp(val, "fail") == 0)
			o->restart_on_exit = PYMON_RESTART_ON_FAILURE;
		else if (strcasecmp(val, "always") == 0)
			o->restart_on_exit = PYMON_RESTART_ALWAYS;
		else
			return fail(msg, len, "%s '%s': expected fail or always", name, val);
		return 0;
	case OPT_CONFIG:
		if (!*val)
			return fail(msg, len, "%s '': empty file name", name);
		o->config_file = val;
		return 0;
	case OPT_EXEC:
		if (o->exec)
			return fail(msg, len, "%s given twice ('%s', then '%s')", name, o->exec, val);
		o->exec = val;
		return 0;
	default:
		return apply_list(o, s, name, val, origin, msg, len);
	}
}

static void apply_flag(struct cli_options *o, const struct cli_opt_spec *s)
{
	switch (s->id) {
	case OPT_NO_DEFAULT_IGNORE: o->observer_flags |= PYMON_NO_DEFAULT_IGNORE; break;
	case OPT_NO_VCS_IGNORE:     o->observer_flags |= PYMON_NO_VCS_IGNORE; break;
	case OPT_NO_POLL:           o->poll_set = 1; o->poll_mode = PYMON_POLL_NEVER; break;
	case OPT_POLL_ON_LIMIT:     o->poll_on_limit = 1; break;
	case OPT_CLEAR:             o->clear = 1; break;
	case OPT_POSTPONE:          o->run_flags |= PYMON_RUN_POSTPONE; break;
	case OPT_ONCE:              o->run_flags |= PYMON_RUN_ONCE; break;
	case OPT_RS:                o->rs = 1; o->run_flags |= PYMON_RUN_NO_TTY; break;
	case OPT_QUIET:             o->verbosity = -1; break;
	case OPT_VERBOSE:           o->verbosity = 1; break;
	case OPT_NO_COLOR:          o->no_color = 1; break;
	case OPT_EACH:              o->each = 1; break;
	case OPT_JSON:              o->json = 1; break;
	case OPT_NO_CONFIG:         o->no_config = 1; break;
	case OPT_PRINT_CONFIG:      o->print_config = 1; break;
	case OPT_HELP:              o->action = CLI_HELP; break;
	case OPT_VERSION:           o->action = CLI_VERSION; break;
	default: break;
	}
}

/* Applies one option (val NULL for a flag) and records where it came from. */
static int apply(struct cli_options *o, const struct cli_opt_spec *s, const char *name, const char *val,
                 const struct cli_origin *origin, char *msg, size_t len)
{
	unsigned mode = o->watch_mode ? FOR_WATCH : FOR_RUN;
	if (!(s->modes & mode))
		return fail(msg, len, "option '%s' is only for %s", name,
		            s->modes == FOR_WATCH ? "py-mon watch" : "running a command, not py-mon watch");
	o->origin[s->id] = *origin;
	if (!s->arg) {
		apply_flag(o, s);
		return 0;
	}
	return apply_value(o, s, name, val, origin, msg, len);
}

/* Whether the command line already decided what option id sets (-q and
 * -v both set the verbosity). */
static bool set_by_argv(const struct cli_options *o, enum cli_opt id)
{
	if (id == OPT_QUIET || id == OPT_VERBOSE)
		return o->origin[OPT_QUIET].source == CLI_SRC_ARGV || o->origin[OPT_VERBOSE].source == CLI_SRC_ARGV;
	if (id == OPT_POLL || id == OPT_NO_POLL)
		return o->origin[OPT_POLL].source == CLI_SRC_ARGV || o->origin[OPT_NO_POLL].source == CLI_SRC_ARGV;
	return o->origin[id].source == CLI_SRC_ARGV;
}

/* ---- option words -------------------------------------------------------- */

static const struct cli_opt_spec *find_long(const char *name, size_t n)
{
	for (size_t i = 0; i < NSPECS; i++)
		if (strlen(specs[i].long_name) == n && strncmp(specs[i].long_name, name, n) == 0)
			return &specs[i];
	return NULL;
}

static const struct cli_opt_spec *find_short(char c)
{
	for (size_t i = 0; i < NSPECS; i++)
		if (specs[i].short_name && specs[i].short_name == c)
			return &specs[i];
	return NULL;
}

/* Whether word, after an option whose value is optional, was meant as
 * its value ("--poll 2s"): refused rather than run as a command. */
static bool looks_like_value(const struct cli_opt_spec *s, const char *word)
{
	unsigned ms;
	if (s->id == OPT_POLL)
		return cli_parse_duration(word, &ms) == 0;
	if (s->id == OPT_RESTART_ON_EXIT)
		return strcasecmp(word, "fail") == 0 || strcasecmp(word, "always") == 0;
	return false;
}

/* "--name", "--name=value" or "--name value" ("--name" alone or
 * "--name=value" when the value is optional); *i moves past what is used. */
static int parse_long(struct cli_options *o, int argc, char **argv, int *i, char *msg, size_t len)
{
	const char *word = argv[*i] + 2;
	const char *eq = strchr(word, '=');
	size_t n = eq ? (size_t)(eq - word) : strlen(word);
	const struct cli_opt_spec *s = find_long(word, n);
	char name[64];

	snprintf(name, sizeof name, "--%.*s", (int)(n < 60 ? n : 60), word);
	if (!s) {
		char hint[80];
		return fail(msg, len, "unknown option '%s'%s", eq ? name : argv[*i],
		            cli_did_you_mean(name + 2, 0, hint, sizeof hint));
	}
	if (!s->arg) {
		if (eq)
			return fail(msg, len, "option '%s' takes no value (got '%s')", name, argv[*i]);
		return apply(o, s, name, NULL, &from_argv, msg, len);
	}
	const char *val = eq ? eq + 1 : NULL;
	if (!val && s->optional) { /* --poll: the next word is not its value */
		if (*i + 1 < argc && looks_like_value(s, argv[*i + 1]))
			return fail(msg, len, "option '%s' takes its value joined with '=': write %s=%s", name, name,
			            argv[*i + 1]);
		return apply(o, s, name, NULL, &from_argv, msg, len);
	}
	if (!val) {
		if (*i + 1 >= argc)
			return fail(msg, len, "option '%s' needs a value (%s)", name, s->arg);
		val = argv[++*i];
	}
	return apply(o, s, name, val, &from_argv, msg, len);
}

/* "-c", "-cp", "-d100", "-d 100", "-cd100". */
static int parse_short(struct cli_options *o, int argc, char **argv, int *i, char *msg, size_t len)
{
	for (const char *p = argv[*i] + 1; *p; p++) {
		const struct cli_opt_spec *s = find_short(*p);
		char name[3] = {'-', *p, '\0'};
		if (!s) {
			if (isprint((unsigned char)*p))
				return fail(msg, len, "unknown option '%s'", name);
			return fail(msg, len, "unknown option in '%s'", argv[*i]);
		}
		if (!s->arg) {
			int r = apply(o, s, name, NULL, &from_argv, msg, len);
			if (r < 0 || o->action != CLI_RUN)
				return r;
			continue;
		}
		const char *val = p + 1;
		if (!*val) {
			if (*i + 1 >= argc)
				return fail(msg, len, "option '%s' needs a value (%s)", name, s->arg);
			val = argv[++*i];
		}
		return apply(o, s, name, val, &from_argv, msg, len);
	}
	return 0;
}

/* ---- the command --------------------------------------------------------- */

static int is_python_script(const char *word)
{
	size_t n = strlen(word);
	struct stat st;
	return n > 3 && strcmp(word + n - 3, ".py") == 0 && stat(word, &st) == 0 && S_ISREG(st.st_mode);
}

/* $VIRTUAL_ENV/bin/python when it is executable, else python3. */
static char *python_for_scripts(void)
{
	const char *venv = getenv("VIRTUAL_ENV");
	if (venv && *venv) {
		size_t n = strlen(venv) + sizeof "/bin/python";
		char *path = malloc(n);
		if (!path)
			return NULL;
		snprintf(path, n, "%s/bin/python", venv);
		if (access(path, X_OK) == 0)
			return path;
		free(path);
	}
	return strdup("python3");
}

/* argv = [python, script.py, ARG...] */
static int set_python(struct cli_options *o, int n, char **words, char *msg, size_t len)
{
	o->owned_python = python_for_scripts();
	o->owned_argv = calloc((size_t)n + 2, sizeof *o->owned_argv);
	if (!o->owned_python || !o->owned_argv)
		return out_of_memory(msg, len);
	o->owned_argv[0] = o->owned_python;
	for (int k = 0; k < n; k++)
		o->owned_argv[k + 1] = words[k];
	o->argv = o->owned_argv;
	return 0;
}

static int blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

/* words: what follows the options (after "--" when literal). */
static int set_command(struct cli_options *o, int n, char **words, int literal, char *msg, size_t len)
{
	if (n == 0)
		return fail(msg, len, "missing command (e.g. py-mon \"python3 app.py\")");
	if (blank(words[0]))
		return fail(msg, len, "empty command '%s'", words[0]);
	if (!literal && is_python_script(words[0])) {
		o->command_origin = from_argv;
		return set_python(o, n, words, msg, len);
	}
	o->shell = NULL;
	o->argv = NULL;
	if (literal || n > 1)
		o->argv = words;
	else
		o->shell = words[0];
	o->command_origin = from_argv;
	return 0;
}

/* ---- the whole line ------------------------------------------------------ */

static void set_defaults(struct cli_options *o)
{
	memset(o, 0, sizeof *o);
	o->kinds = PYMON_ALL;
	o->delay_ms = 50;
	o->stop_signal = SIGTERM;
	o->stop_timeout_ms = 5000;
	o->on_busy = PYMON_BUSY_RESTART;
}

/* py-mon watch [OPTIONS] [PATH...]: the words left are paths. */
static int set_watch_paths(struct cli_options *o, int n, char **words, char *msg, size_t len)
{
	if (o->explain) { /* py-mon explain [OPTIONS] PATH...: what to explain */
		for (int k = 0; k < n; k++)
			if (push(&o->explain_paths, &o->nexplain, words[k]) < 0)
				return out_of_memory(msg, len);
		return 0;
	}
	for (int k = 0; k < n; k++) {
		if (!*words[k])
			return fail(msg, len, "empty path");
		if (push_watch(o, words[k], &from_argv) < 0)
			return out_of_memory(msg, len);
	}
	if (n > 0)
		o->origin[OPT_WATCH] = from_argv;
	return 0;
}

static int parse_plain_command(struct cli_options *o, int argc, char **argv, char *msg, size_t len);

static int parse_words(struct cli_options *o, int argc, char **argv, char *msg, size_t len)
{
	int i = 1;
	if (o->action == CLI_INIT || o->action == CLI_COMPLETIONS)
		return parse_plain_command(o, argc, argv, msg, len);
	if (i < argc && (strcmp(argv[i], "run") == 0 || strcmp(argv[i], "watch") == 0 ||
	                 strcmp(argv[i], "explain") == 0))
		i++; /* cli_options_init() saw "watch" or "explain" */
	for (; i < argc; i++) {
		const char *a = argv[i];
		int r;
		if (strcmp(a, "--") == 0) {
			if (o->watch_mode)
				return set_watch_paths(o, argc - i - 1, argv + i + 1, msg, len);
			if (o->exec)
				return fail(msg, len, "--exec '%s' and a command after -- : give one of them", o->exec);
			return set_command(o, argc - i - 1, argv + i + 1, 1, msg, len);
		}
		if (a[0] == '-' && a[1] == '-')
			r = parse_long(o, argc, argv, &i, msg, len);
		else if (a[0] == '-' && a[1])
			r = parse_short(o, argc, argv, &i, msg, len);
		else
			break;
		if (r < 0 || o->action != CLI_RUN)
			return r;
	}
	if (o->watch_mode)
		return set_watch_paths(o, argc - i, argv + i, msg, len);
	if (o->exec) {
		if (i < argc)
			return fail(msg, len, "--exec '%s' and a command after the options ('%s'): give one of them",
			            o->exec, argv[i]);
		return set_command(o, 1, (char **)&o->exec, 0, msg, len);
	}
	/* No command on the command line: a config file may still give one. */
	if (i == argc)
		return 0;
	return set_command(o, argc - i, argv + i, 0, msg, len);
}

void cli_options_init(struct cli_options *o, int argc, char **argv)
{
	set_defaults(o);
	if (argc > 1 && strcmp(argv[1], "watch") == 0) {
		o->watch_mode = 1;
		o->delay_ms = 0; /* watch prints events as they come */
	} else if (argc > 1 && strcmp(argv[1], "explain") == 0) {
		o->watch_mode = 1; /* the filters of a watch, no command */
		o->explain = 1;
	} else if (argc > 1 && strcmp(argv[1], "init") == 0) {
		o->action = CLI_INIT;
	} else if (argc > 1 && strcmp(argv[1], "completions") == 0) {
		o->action = CLI_COMPLETIONS;
	}
}

/* py-mon init, py-mon completions SHELL: no options but --help. */
static int parse_plain_command(struct cli_options *o, int argc, char **argv, char *msg, size_t len)
{
	if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		o->action = CLI_HELP;
		return 0;
	}
	if (o->action == CLI_INIT) {
		if (argc > 2)
			return fail(msg, len, "init takes no arguments (got '%s')", argv[2]);
		return 0;
	}
	if (argc != 3 || (strcmp(argv[2], "bash") && strcmp(argv[2], "zsh") && strcmp(argv[2], "fish")))
		return fail(msg, len, "completions: expected one shell name, bash, zsh or fish%s%s%s",
		            argc > 2 ? " (got '" : "", argc > 2 ? argv[2] : "", argc > 2 ? "')" : "");
	o->completions_shell = argv[2];
	return 0;
}

int cli_options_set_command(struct cli_options *o, const char *shell, char **argv, int each,
                            const struct cli_origin *origin)
{
	if (o->command_origin.source == CLI_SRC_ARGV)
		return 0; /* a command given there replaces the file's, per-file mode included */
	o->shell = shell;
	o->argv = argv;
	if (each) {
		o->each = 1;
		o->origin[OPT_EACH] = *origin;
	}
	o->command_origin = *origin;
	return 0;
}

int cli_options_parse(struct cli_options *o, int argc, char **argv, char *msg, size_t len)
{
	return parse_words(o, argc, argv, msg, len);
}

int cli_options_finish(struct cli_options *o, char *msg, size_t len)
{
	if (o->action != CLI_RUN)
		return 0;
	if (!o->nwatch && push_watch(o, ".", &(struct cli_origin){.source = CLI_SRC_DEFAULT}) < 0)
		return out_of_memory(msg, len);
	/* NO_COLOR set and not empty: as --no-color, from the environment. */
	const char *no_color = getenv("NO_COLOR");
	if (o->origin[OPT_NO_COLOR].source == CLI_SRC_DEFAULT && no_color && *no_color) {
		o->no_color = 1;
		o->origin[OPT_NO_COLOR].source = CLI_SRC_ENV;
	}
	if (o->print_config)
		return 0;
	if (o->explain && !o->nexplain)
		return fail(msg, len, "explain: give one or more paths (e.g. py-mon explain build/app.o)");
	if (!o->watch_mode && !o->shell && !o->argv && !o->has_rules)
		return fail(msg, len, "missing command (e.g. py-mon \"python3 app.py\")");
	if (o->jobs && !o->each)
		return fail(msg, len, "--jobs needs --each");
	if (o->restart_on_exit && (o->each || (o->run_flags & PYMON_RUN_ONCE)))
		return fail(msg, len, "--restart-on-exit restarts one long-running command: not with %s",
		            o->each ? "--each" : "--once");
	if (o->nsockets && !o->watch_mode && !o->shell && !o->argv)
		return fail(msg, len, "--socket (or the key socket) without a command to hand it to: a [[rule]] takes "
		            "its own socket key");
	if (o->nsockets && o->each)
		return fail(msg, len, "--socket hands a listening socket to one long-running command: not with --each");
	if (o->each && o->origin[OPT_ON].source == CLI_SRC_DEFAULT)
		o->kinds = PYMON_CREATE | PYMON_MODIFY | PYMON_MOVE;
	return 0;
}

/* A config key as an option: '_' may stand for '-'; the options that
 * only make sense on a command line are no keys. */
static const struct cli_opt_spec *find_key(const char *key)
{
	char name[64];
	snprintf(name, sizeof name, "%s", key);
	for (char *c = name; *c; c++)
		if (*c == '_')
			*c = '-';
	const struct cli_opt_spec *s = find_long(name, strlen(name));
	if (!s || s->id == OPT_HELP || s->id == OPT_VERSION || s->id == OPT_CONFIG || s->id == OPT_NO_CONFIG ||
	    s->id == OPT_PRINT_CONFIG || s->id == OPT_EXEC)
		return NULL;
	return s;
}

/* Keys a config table holds besides the options. */
static const char *const extra_keys[] = {"command", "exec", "each", "name", "rule"};

const char *cli_did_you_mean(const char *word, int config_key, char *buf, size_t len)
{
	const char *best = NULL;
	unsigned best_d = 100;
	char w[64];
	snprintf(w, sizeof w, "%s", word);
	for (char *c = w; *c; c++)
		if (config_key && *c == '_')
			*c = '-';
	for (size_t i = 0; i < NSPECS; i++) {
		if (config_key && !find_key(specs[i].long_name))
			continue;
		unsigned d = cli_edit_distance(w, specs[i].long_name);
		if (d < best_d) {
			best_d = d;
			best = specs[i].long_name;
		}
	}
	for (size_t i = 0; config_key && i < sizeof extra_keys / sizeof extra_keys[0]; i++) {
		unsigned d = cli_edit_distance(w, extra_keys[i]);
		if (d < best_d) {
			best_d = d;
			best = extra_keys[i];
		}
	}
	/* Close: a third of the word at most (one edit for short words). */
	size_t n = strlen(w);
	unsigned limit = n <= 4 ? 1 : (unsigned)(n / 3 > 1 ? n / 3 : 1);
	if (!best || best_d > limit) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	snprintf(buf, len, " (did you mean '%s%s'?)", config_key ? "" : "--", best);
	return buf;
}

const char *cli_value_kind(const char *key)
{
	const struct cli_opt_spec *s = find_key(key);
	if (!s || !s->arg)
		return NULL;
	switch (s->id) {
	case OPT_DELAY:
	case OPT_STOP_TIMEOUT:
	case OPT_TIMEOUT:
		return "a duration: a string such as \"250ms\" or \"1.5s\", or an integer of milliseconds";
	case OPT_SIGNAL:
		return "a signal: a string such as \"TERM\" or \"HUP\", or its number";
	case OPT_JOBS:
	case OPT_COUNT:
		return "a positive integer";
	case OPT_WATCH:
		return "a path (a string) or a list of paths";
	case OPT_EXT:
		return "a string such as \"py,toml\" or a list of extensions";
	case OPT_IGNORE:
		return "a glob (a string) or a list of globs";
	case OPT_ENV_FILE:
		return "a file name (a string) or a list of them";
	case OPT_ON:
		return "a string such as \"create,modify\" or a list of event kinds";
	case OPT_ON_BUSY:
		return "one of \"restart\", \"queue\", \"ignore\", \"signal\"";
	case OPT_POLL:
		return "true, false or an interval such as \"250ms\"";
	case OPT_RESTART_ON_EXIT:
		return "true, false, \"fail\" or \"always\"";
	case OPT_SOCKET:
		return "an address \"[HOST:]PORT\" or a port number, or a list of them";
	default:
		return "a string";
	}
}

int cli_options_set(struct cli_options *o, const char *key, const char *val, const struct cli_origin *origin,
                    char *msg, size_t len)
{
	char where[200], hint[80];
	cli_origin_text(origin, where, sizeof where);
	const struct cli_opt_spec *s = find_key(key);
	if (!s)
		return fail(msg, len, "%s: unknown key '%s'%s", where, key, cli_did_you_mean(key, 1, hint, sizeof hint));
	if (s->arg && !val && !s->optional)
		return fail(msg, len, "%s: '%s' needs %s, not a boolean", where, key, cli_value_kind(key));
	if (!s->arg && val)
		return fail(msg, len, "%s: '%s' is true or false", where, key);
	/* Mode mismatches in a file are not errors: one file serves both. */
	unsigned mode = o->watch_mode ? FOR_WATCH : FOR_RUN;
	if (!(s->modes & mode))
		return 0;
	/* The command line wins; a list given there replaces the file's. */
	if (set_by_argv(o, s->id))
		return 0;
	size_t n = strlen(where);
	snprintf(where + n, sizeof where - n, ": %s", key);
	return apply(o, s, where, val, origin, msg, len);
}

void cli_options_free(struct cli_options *o)
{
	free(o->watch);
	free(o->watch_origin);
	o->watch_origin = NULL;
	for (size_t i = 0; i < o->nowned; i++)
		free(o->owned_strings[i]);
	free(o->owned_strings);
	o->owned_strings = NULL;
	o->nowned = 0;
	free(o->ignore);
	free(o->ext);
	free(o->env_files);
	o->env_files = NULL;
	free(o->sockets);
	o->sockets = NULL;
	free(o->socket_origin);
	o->socket_origin = NULL;
	free(o->explain_paths);
	o->explain_paths = NULL;
	free(o->owned_argv);
	free(o->owned_python);
	o->watch = o->ignore = o->ext = NULL;
	o->owned_argv = NULL;
	o->owned_python = NULL;
}

/* ---- help ------------------------------------------------------------------ */

#define HELP_COLUMN 28
#define HELP_WIDTH 79

static const char usage[] =
	"Usage: py-mon [OPTIONS] COMMAND\n"
	"       py-mon [OPTIONS] -- PROGRAM [ARG...]\n"
	"       py-mon run [OPTIONS] ...\n"
	"       py-mon [OPTIONS] SCRIPT.py [ARG...]\n"
	"       py-mon [OPTIONS] --each -- PROGRAM [ARG...]   ({} is the changed file)\n"
	"       py-mon watch [OPTIONS] [PATH...]             (print events, run nothing)\n"
	"       py-mon explain [OPTIONS] PATH...             (is PATH watched, and if not, why)\n"
	"       py-mon init                                  (write [tool.py-mon] into pyproject.toml)\n"
	"       py-mon completions bash|zsh|fish             (print a shell completion script)\n"
	"\n"
	"Run a command and restart it when files change.\n"
	"\n"
	"COMMAND, one string, runs with /bin/sh -c; a simple one (no quotes,\n"
	"variables, redirections or other shell syntax) is started directly.\n"
	"PROGRAM after -- runs with its arguments and no shell, and so do several\n"
	"words without --. An existing SCRIPT.py runs with $VIRTUAL_ENV/bin/python,\n"
	"else python3. Options go before the command: every word after it belongs\n"
	"to the command. Settings may also come from [tool.py-mon] in\n"
	"pyproject.toml or from py-mon.toml (the nearest, from here upwards).\n"
	"\n"
	"Options:\n";

static const char epilogue[] =
	"\n"
	"SIGINT, SIGTERM and SIGHUP stop the command, then py-mon exits with 128+N.\n"
	"SIGUSR1 restarts the command. See py-mon(1) for more.\n";

/* Prints text from column HELP_COLUMN (the cursor is at col), wrapped
 * at HELP_WIDTH; a word longer than a line gets a line of its own. */
static void print_wrapped(FILE *f, const char *text, int col)
{
	const int avail = HELP_WIDTH - HELP_COLUMN;
	const char *p = text;
	while (*p) {
		const char *end = p, *q = p;
		while (*q) {
			const char *w = strchr(q, ' ');
			if (!w)
				w = q + strlen(q);
			if (end != p && w - p > avail)
				break;
			end = w;
			q = *w ? w + 1 : w;
		}
		fprintf(f, "%*s%.*s\n", HELP_COLUMN - col, "", (int)(end - p), p);
		p = *end ? end + 1 : end;
		col = 0;
	}
}

void cli_options_help(FILE *f)
{
	fputs(usage, f);
	for (size_t i = 0; i < NSPECS; i++) {
		const struct cli_opt_spec *s = &specs[i];
		char spec[64];
		const char *before = !s->arg ? "" : s->optional ? "[=" : " ";
		const char *after = s->arg && s->optional ? "]" : "";
		if (s->short_name)
			snprintf(spec, sizeof spec, "-%c, --%s%s%s%s", s->short_name, s->long_name, before,
			         s->arg ? s->arg : "", after);
		else
			snprintf(spec, sizeof spec, "    --%s%s%s%s", s->long_name, before, s->arg ? s->arg : "", after);
		int col = fprintf(f, "  %s", spec);
		if (col > HELP_COLUMN - 2) {
			fputc('\n', f);
			col = 0;
		}
		print_wrapped(f, s->help, col);
	}
	fputs(epilogue, f);
}

int cli_options_known(const char *key)
{
	return find_key(key) != NULL;
}
