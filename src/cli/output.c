/* py-mon's messages: nodemon-like "[py-mon] ..." lines on stderr.
 *
 * Every path and command goes through cli_escape() before it is printed:
 * a file name can hold any byte but '/' and NUL, and a terminal obeys the
 * escape sequences in it. */
#include "output.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX "[py-mon] "

#define YELLOW "\033[33m"
#define GREEN "\033[32m"
#define RED "\033[31m"
#define RESET "\033[0m"

/* ---- building a line ------------------------------------------------------- */

struct line {
	char buf[4096];
	size_t len;
};

_Static_assert(sizeof((struct line *)0)->buf <= sizeof((struct cli_output *)0)->reason,
               "a reason is one line");

static void line_add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line_add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, sizeof l->buf - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < sizeof l->buf - l->len ? (size_t)n : sizeof l->buf - l->len - 1;
}

static void line_escaped(struct line *l, const char *s)
{
	l->len += cli_escape(l->buf + l->len, sizeof l->buf - l->len, s);
}

static void emit(const struct cli_output *out, const char *color, const char *text)
{
	/* Jobs of config rules say whose line it is: "[py-mon] [css] ...". */
	char label[sizeof out->label + 16] = "";
	if (out->label[0]) {
		char esc[sizeof out->label * 4];
		cli_escape(esc, sizeof esc, out->label);
		snprintf(label, sizeof label, "[%.*s] ", (int)(sizeof label - 4), esc);
	}
	if (out->color && color)
		fprintf(out->err, "%s" PREFIX "%s%s" RESET "\n", color, label, text);
	else
		fprintf(out->err, PREFIX "%s%s\n", label, text);
	fflush(out->err);
}

static void say(const struct cli_output *out, const char *color, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(const struct cli_output *out, const char *color, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	emit(out, color, text);
}

/* "5s", "1.5s", "250ms" */
static const char *format_ms(unsigned ms, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%us", ms / 1000);
	else if (ms > 1000 && ms % 100 == 0)
		snprintf(buf, len, "%u.%us", ms / 1000, ms % 1000 / 100);
	else
		snprintf(buf, len, "%ums", ms);
	return buf;
}

/* ---- setup and banner ------------------------------------------------------ */

static int want_color(const struct cli_options *o)
{
	const char *no_color = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	if (o->no_color || (no_color && *no_color) || (term && strcmp(term, "dumb") == 0))
		return 0;
	return isatty(STDERR_FILENO);
}

/* The program a command starts: argv[0], or the first word of the line. */
static void program_name(const struct cli_options *o, char *buf, size_t len)
{
	const char *s = o->argv ? o->argv[0] : o->shell;
	if (!s) { /* py-mon watch runs nothing */
		snprintf(buf, len, "%s", "");
		return;
	}
	if (o->argv) {
		snprintf(buf, len, "%s", s);
		return;
	}
	s += strspn(s, " \t\n");
	snprintf(buf, len, "%.*s", (int)strcspn(s, " \t\n"), s);
}

void cli_output_init(struct cli_output *out, const struct cli_options *o, const struct cli_options *shown)
{
	memset(out, 0, sizeof *out);
	out->err = stderr;
	out->out = stdout;
	out->verbosity = shown->verbosity;
	out->color = want_color(shown);
	out->clear = shown->clear;
	out->once = (o->run_flags & PYMON_RUN_ONCE) != 0;
	out->on_busy = o->on_busy;
	out->restart_on_exit = o->restart_on_exit;
	out->stop_signal = o->stop_signal;
	out->stop_timeout_ms = o->stop_timeout_ms;
	program_name(o, out->program, sizeof out->program);
}

/* "py,toml" from every -e list ("py, .toml" "html"); 0 when none. */
static int add_extensions(struct line *l, const struct cli_options *o)
{
	int any = 0;
	for (size_t i = 0; i < o->next; i++) {
		const char *p = o->ext[i];
		while (*p) {
			p += strspn(p, ", \t\n.");
			size_t n = strcspn(p, ", \t\n");
			if (!n)
				break;
			char word[256];
			snprintf(word, sizeof word, "%.*s", (int)(n < 255 ? n : 255), p);
			line_add(l, "%s", any++ ? "," : "");
			line_escaped(l, word);
			p += n;
		}
	}
	return any;
}

static void emit_list(const struct cli_output *out, const char *title, const char **items,
                      size_t n, const char *sep)
{
	struct line l = {.len = 0};
	line_add(&l, "%s", title);
	for (size_t i = 0; i < n; i++) {
		line_add(&l, "%s", i ? sep : "");
		line_escaped(&l, items[i]);
	}
	emit(out, YELLOW, l.buf);
}

void cli_output_version(struct cli_output *out)
{
	if (out->verbosity < 0)
		return;
	/* py-mon's, not a rule's: without the job's label. */
	char first = out->label[0];
	out->label[0] = '\0';
	say(out, YELLOW, "%s", PYMON_VERSION);
	out->label[0] = first;
}

void cli_output_banner(struct cli_output *out, const struct cli_options *o)
{
	if (out->verbosity < 0)
		return;
	if (o->rs)
		say(out, YELLOW, "to restart at any time, enter `rs`");
	emit_list(out, "watching: ", o->watch, o->nwatch, " ");
	if (o->nsockets)
		emit_list(out, "listening on: ", o->sockets, o->nsockets, " ");
	if (out->verbosity > 0 && o->nignore)
		emit_list(out, "ignoring: ", o->ignore, o->nignore, ", ");
	struct line l = {.len = 0};
	line_add(&l, "watching extensions: ");
	/* Without -e every file counts, with or without a dot in its name. */
	if (!add_extensions(&l, o)) {
		l.len = 0;
		line_add(&l, "watching all files");
	}
	emit(out, YELLOW, l.buf);
	if (o->run_flags & PYMON_RUN_POSTPONE)
		say(out, YELLOW, "waiting for a change before the first run");
}

void cli_output_watch_count(struct cli_output *out, size_t n)
{
	if (out->verbosity > 0)
		say(out, YELLOW, "%zu director%s watched", n, n == 1 ? "y" : "ies");
}

/* ---- run status ------------------------------------------------------------ */

static void print_events(const struct cli_output *out, const pymon_batch *b)
{
	for (size_t i = 0; i < b->count; i++) {
		const pymon_event *e = &b->events[i];
		struct line l = {.len = 0};
		line_add(&l, "%s ", pymon_kind_name(e->kind));
		if (e->from) {
			line_escaped(&l, e->from);
			line_add(&l, " -> ");
		}
		line_escaped(&l, e->path);
		line_add(&l, "%s", e->is_dir ? "/" : "");
		emit(out, NULL, l.buf);
	}
	if (b->dropped)
		say(out, NULL, "... and %zu more changes not listed", b->dropped);
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* "restarting due to changes: a.py, b.py, c.py and 4 more" ("starting"
 * when nothing runs: before the first run, after a crash). Only paths that
 * still exist are named (a move's is its final name), so an editor's or
 * sed's temporary files are not; when none is left, the deleted ones are. */
static void build_reason(struct cli_output *out, const pymon_batch *b)
{
	struct line l = {.len = 0};
	if (out->verbosity < 0) {
		/* Never shown (-q): no lstat() calls before the run starts. */
	} else if (!b->count) {
		line_add(&l, "%s by request", out->running ? "restarting" : "starting");
	} else {
		/* At most MAX_CHECKS lstat() calls for a batch of thousands; the
		 * paths not checked count as existing in "and N more". */
		enum { MAX_CHECKS = 64 };
		size_t pick[3], npick = 0, checked = 0, gone = 0;
		for (size_t i = 0; i < b->count && npick < 3 && checked < MAX_CHECKS; i++, checked++) {
			if (exists(b->events[i].path))
				pick[npick++] = i;
			else
				gone++;
		}
		if (npick == 0) { /* only deleted paths (so far): name those */
			gone = 0;
			for (size_t i = 0; i < b->count && npick < 3; i++)
				pick[npick++] = i;
		}
		size_t total = b->count - gone + b->dropped;
		line_add(&l, "%s due to changes: ", out->running ? "restarting" : "starting");
		for (size_t k = 0; k < npick; k++) {
			line_add(&l, "%s", k ? ", " : "");
			line_escaped(&l, b->events[pick[k]].path);
		}
		if (total > npick)
			line_add(&l, " and %zu more", total - npick);
	}
	memcpy(out->reason, l.buf, l.len + 1);
	out->reason_ready = 1;
	out->reason_shown = 0;
}

void cli_output_changed(struct cli_output *out, const pymon_batch *b)
{
	if (b && b->count)
		build_reason(out, b);
}

static void show_reason(struct cli_output *out)
{
	if (out->verbosity >= 0)
		emit(out, YELLOW, out->reason);
	out->reason_shown = 1;
}

static void on_changed(struct cli_output *out, const pymon_batch *b)
{
	if (!b)
		return;
	if (out->verbosity > 0)
		print_events(out, b);
	/* Past the batch bound the library counts instead of listing, and
	 * adds a rescan of the root: say so, never lose changes silently. */
	if (b->dropped && out->verbosity >= 0)
		say(out, YELLOW, "%zu more changes were not listed (too many for one batch); the batch "
		                 "carries a rescan of their root", b->dropped);
	build_reason(out, b);
}

static void on_restarting(struct cli_output *out, const pymon_batch *b)
{
	if (b && b->count)
		build_reason(out, b);
	else if (!out->reason_ready)
		build_reason(out, &(pymon_batch){.count = 0});
	/* One line per restart, also when a second request (an env file's
	 * observer, rs) comes while the old tree is still being stopped. */
	if (out->announced)
		out->reason_shown = 1;
	else if (!out->clear)
		show_reason(out); /* with -c it comes after the screen is cleared */
	out->announced = 1;
}

static void clear_screen(const struct cli_output *out)
{
	fputs("\033[2J\033[3J\033[H", out->out);
	fflush(out->out);
}

static void on_starting(struct cli_output *out, const char *command)
{
	if (out->clear)
		clear_screen(out);
	if (out->reason_ready && (out->clear || !out->reason_shown))
		show_reason(out);
	out->reason_ready = out->reason_shown = 0;
	out->announced = 0;
	out->running = 1;
	if (out->verbosity < 0)
		return;
	struct line l = {.len = 0};
	line_add(&l, "starting `");
	line_escaped(&l, command ? command : out->program);
	line_add(&l, "`");
	emit(out, GREEN, l.buf);
}

/* py-mon itself was told to stop (a SIGINT, SIGTERM or SIGHUP it has not
 * read yet): Ctrl-C reaches the command too, and its end is no news. */
static int stopping(void)
{
	sigset_t pending;
	if (sigpending(&pending) < 0)
		return 0;
	return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 ||
	       sigismember(&pending, SIGHUP) == 1;
}

/* The end of a run py-mon did not ask for. */
static void on_ended(struct cli_output *out, const pymon_run_status *st)
{
	/* --on-busy queue with a change during the run: it starts again now. */
	int rerun = out->on_busy == PYMON_BUSY_QUEUE && out->reason_ready;
	int failed = st->state != PYMON_RUN_EXITED || st->code != 0;
	/* --restart-on-exit: the library starts it again after its backoff. */
	int restarts = out->restart_on_exit == PYMON_RESTART_ALWAYS ||
	               (out->restart_on_exit == PYMON_RESTART_ON_FAILURE && failed);
	int waits = !out->once && !rerun && !restarts;
	char sig[32];

	out->running = 0;
	if (!rerun)
		out->reason_ready = 0;
	if (out->verbosity < 0 || stopping())
		return;
	if (st->state == PYMON_RUN_EXITED && st->code == 0) {
		say(out, GREEN, "clean exit%s", waits ? " - waiting for changes before restart"
		                                : restarts && !rerun ? " - restarting (--restart-on-exit)" : "");
		return;
	}
	if (st->state == PYMON_RUN_KILLED)
		say(out, RED, "app killed by %s", cli_signal_name(st->code, sig, sizeof sig));
	else
		say(out, RED, "app exited with code %d", st->code);
	if (waits)
		say(out, RED, "app crashed - waiting for file changes before starting...");
	else if (restarts && !rerun)
		say(out, RED, "app crashed - restarting after a backoff delay (--restart-on-exit)");
}

static void on_failed(struct cli_output *out, int code)
{
	struct line l = {.len = 0};
	line_add(&l, "cannot start ");
	line_escaped(&l, out->program);
	line_add(&l, ": %s%s", strerror(code < 0 ? -code : code), out->once ? "" : " - waiting for changes");
	emit(out, RED, l.buf);
	out->reason_ready = 0;
	out->running = 0;
}

static void on_escalated(struct cli_output *out)
{
	char t[32], sig[32];
	if (out->verbosity >= 0)
		say(out, RED, "app still running %s after %s - sent SIGKILL",
		    format_ms(out->stop_timeout_ms, t, sizeof t),
		    cli_signal_name(out->stop_signal, sig, sizeof sig));
}

/* --each: one job per file; quiet about successes. */
static void job_status(struct cli_output *out, const pymon_run_status *st)
{
	struct line l = {.len = 0};
	char sig[32];
	switch (st->state) {
	case PYMON_RUN_STARTING:
		if (out->verbosity < 1)
			return;
		line_add(&l, "running for ");
		line_escaped(&l, st->path);
		emit(out, GREEN, l.buf);
		return;
	case PYMON_RUN_EXITED:
	case PYMON_RUN_KILLED:
		if (st->state == PYMON_RUN_EXITED && st->code == 0)
			return;
		if (out->verbosity < 0)
			return;
		line_add(&l, "`");
		line_escaped(&l, st->command);
		line_add(&l, "` failed for ");
		line_escaped(&l, st->path);
		if (st->state == PYMON_RUN_KILLED)
			line_add(&l, ": killed by %s", cli_signal_name(st->code, sig, sizeof sig));
		else
			line_add(&l, ": exit code %d", st->code);
		emit(out, RED, l.buf);
		return;
	case PYMON_RUN_FAILED:
		line_add(&l, "cannot start ");
		line_escaped(&l, out->program);
		line_add(&l, " for ");
		line_escaped(&l, st->path);
		line_add(&l, ": %s", strerror(st->code < 0 ? -st->code : st->code));
		emit(out, RED, l.buf);
		return;
	default:
		return;
	}
}

void cli_output_status(struct cli_output *out, const pymon_run_status *st)
{
	char sig[32];
	if (st->path) {
		job_status(out, st);
		return;
	}
	switch (st->state) {
	case PYMON_RUN_CHANGED:
		on_changed(out, st->batch);
		break;
	case PYMON_RUN_RESTARTING:
		on_restarting(out, st->batch);
		break;
	case PYMON_RUN_STARTING:
		on_starting(out, st->command);
		break;
	case PYMON_RUN_EXITED:
	case PYMON_RUN_KILLED:
		if (!st->requested)
			on_ended(out, st);
		out->running = 0;
		break;
	case PYMON_RUN_FAILED:
		on_failed(out, st->code);
		break;
	case PYMON_RUN_SIGNALED:
		out->reason_ready = 0;
		if (out->verbosity >= 0)
			say(out, YELLOW, "sent %s", cli_signal_name(st->code, sig, sizeof sig));
		break;
	case PYMON_RUN_ESCALATED:
		on_escalated(out);
		break;
	}
}

void cli_output_warning(struct cli_output *out, const char *message)
{
	if (out->verbosity < 0)
		return;
	struct line l = {.len = 0};
	line_add(&l, "warning: ");
	line_escaped(&l, message);
	emit(out, YELLOW, l.buf);
}

void cli_output_skipped(struct cli_output *out, unsigned kind, const char *path, const char *why)
{
	if (out->verbosity < 1)
		return;
	struct line l = {.len = 0};
	line_add(&l, "skipped %s ", pymon_kind_name(kind));
	line_escaped(&l, path);
	line_add(&l, ": ");
	line_escaped(&l, why);
	emit(out, NULL, l.buf);
}

/* ---- errors ------------------------------------------------------------------ */

void cli_output_error(const char *message)
{
	char text[2048];
	cli_escape(text, sizeof text, message);
	fprintf(stderr, "py-mon: %s\n", text);
}

void cli_output_usage_error(const char *message)
{
	cli_output_error(message);
	fputs("Try 'py-mon --help' for more information.\n", stderr);
}
