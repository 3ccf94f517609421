/* py-mon's messages: nodemon-like "[py-mon] ..." lines on stderr.
 *
 * Every path and command goes through cli_escape() before it is printed:
 * a file name can hold any byte but '/' and NUL, and a terminal obeys the
 * escape sequences in it. */
#include "cli/output.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PREFIX "[py-mon] "

#define YELLOW "\033[33m"
#define GREEN "\033[32m"
#define RED "\033[31m"
#define RESET "\033[0m"

/* ---- escaping ------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s, 0 when it is invalid; *cp gets
 * the code point. Stops at the first bad byte, so it never reads past NUL. */
static size_t utf8_decode(const unsigned char *s, unsigned *cp)
{
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	unsigned c = s[0];
	size_t n;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	c &= 0x7fu >> n; /* the lead byte's payload bits */
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* C1 controls and the bidi embeddings, overrides and isolates. */
static int unsafe_code_point(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* The escape for the byte or character at s in esc (NUL-terminated, or
 * empty when it prints as is); *n gets the bytes it covers. */
static void escape_one(const unsigned char *s, char esc[12], size_t *n)
{
	unsigned cp;
	*n = 1;
	esc[0] = '\0';
	switch (*s) {
	case '\n': strcpy(esc, "\\n"); return;
	case '\t': strcpy(esc, "\\t"); return;
	case '\r': strcpy(esc, "\\r"); return;
	case '\\': strcpy(esc, "\\\\"); return;
	default: break;
	}
	if (*s < 0x20 || *s == 0x7f) {
		snprintf(esc, 12, "\\x%02x", *s);
	} else if (*s >= 0x80) {
		size_t len = utf8_decode(s, &cp);
		if (!len)
			snprintf(esc, 12, "\\x%02x", *s);
		else if (unsafe_code_point(cp))
			snprintf(esc, 12, "\\u%04x", cp);
		if (len)
			*n = len;
	}
}

size_t cli_escape(char *dst, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	if (!len)
		return 0;
	while (*p) {
		char esc[12];
		size_t n;
		escape_one(p, esc, &n);
		const char *piece = esc[0] ? esc : (const char *)p;
		size_t plen = esc[0] ? strlen(esc) : n;
		if (w + plen >= len)
			break;
		memcpy(dst + w, piece, plen);
		w += plen;
		p += n;
	}
	dst[w] = '\0';
	return w;
}

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

void cli_output_init(struct cli_output *out, const struct cli_options *o)
{
	memset(out, 0, sizeof *out);
	out->err = stderr;
	out->out = stdout;
	out->verbosity = o->verbosity;
	out->color = want_color(o);
	out->clear = o->clear;
	out->once = (o->run_flags & PYMON_RUN_ONCE) != 0;
	out->on_busy = o->on_busy;
	out->stop_signal = o->stop_signal;
	out->stop_timeout_ms = o->stop_timeout_ms;
	program_name(o, out->program, sizeof out->program);
}

/* "py,toml" from every -e list ("py, .toml" "html"), or "*.*". */
static void add_extensions(struct line *l, const struct cli_options *o)
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
	if (!any)
		line_add(l, "*.*");
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

void cli_output_banner(struct cli_output *out, const struct cli_options *o)
{
	if (out->verbosity < 0)
		return;
	say(out, YELLOW, "%s", PYMON_VERSION);
	if (o->rs)
		say(out, YELLOW, "to restart at any time, enter `rs`");
	emit_list(out, "watching: ", o->watch, o->nwatch, " ");
	if (out->verbosity > 0 && o->nignore)
		emit_list(out, "ignoring: ", o->ignore, o->nignore, ", ");
	struct line l = {.len = 0};
	line_add(&l, "watching extensions: ");
	add_extensions(&l, o);
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

/* "restarting due to changes: a.py, b.py, c.py and 4 more" ("running"
 * before the first run, with --postpone) */
static void build_reason(struct cli_output *out, const pymon_batch *b)
{
	struct line l = {.len = 0};
	size_t shown = b->count < 3 ? b->count : 3;
	if (!b->count) {
		line_add(&l, "restarting by request");
	} else {
		line_add(&l, "%s due to changes: ", out->started ? "restarting" : "running");
		for (size_t i = 0; i < shown; i++) {
			line_add(&l, "%s", i ? ", " : "");
			line_escaped(&l, b->events[i].path);
		}
		if (b->count + b->dropped > shown)
			line_add(&l, " and %zu more", b->count + b->dropped - shown);
	}
	memcpy(out->reason, l.buf, l.len + 1);
	out->reason_ready = 1;
	out->reason_shown = 0;
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
	build_reason(out, b);
}

static void on_restarting(struct cli_output *out, const pymon_batch *b)
{
	if (b && b->count)
		build_reason(out, b);
	else if (!out->reason_ready)
		build_reason(out, &(pymon_batch){.count = 0});
	if (!out->clear)
		show_reason(out); /* with -c it comes after the screen is cleared */
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
	out->started = 1;
	if (out->verbosity < 0)
		return;
	struct line l = {.len = 0};
	line_add(&l, "starting `");
	line_escaped(&l, command ? command : out->program);
	line_add(&l, "`");
	emit(out, GREEN, l.buf);
}

/* The end of a run py-mon did not ask for. */
static void on_ended(struct cli_output *out, const pymon_run_status *st)
{
	/* --on-busy queue with a change during the run: it starts again now. */
	int rerun = out->on_busy == PYMON_BUSY_QUEUE && out->reason_ready;
	const char *then = out->once || rerun ? "" : " - waiting for changes before restart";
	char sig[32];

	if (!rerun)
		out->reason_ready = 0;
	if (out->verbosity < 0)
		return;
	if (st->state == PYMON_RUN_KILLED)
		say(out, RED, "app killed by %s%s", cli_signal_name(st->code, sig, sizeof sig), then);
	else if (st->code == 0)
		say(out, GREEN, "clean exit%s", then);
	else
		say(out, RED, "app exited with code %d%s", st->code, then);
}

static void on_failed(struct cli_output *out, int code)
{
	struct line l = {.len = 0};
	line_add(&l, "cannot start ");
	line_escaped(&l, out->program);
	line_add(&l, ": %s%s", strerror(code < 0 ? -code : code), out->once ? "" : " - waiting for changes");
	emit(out, RED, l.buf);
	out->reason_ready = 0;
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
