/* Project config: finding the file, turning its TOML into options (the
 * keys are the long options), [[rule]] jobs, and --print-config. */
#include "config.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONFIG (4u << 20)

static int bad(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static char *keep(struct cli_config *cfg, char *s)
{
	if (!s)
		return NULL;
	char **v = realloc(cfg->strings, (cfg->nstrings + 1) * sizeof *v);
	if (!v) {
		free(s);
		return NULL;
	}
	cfg->strings = v;
	v[cfg->nstrings++] = s;
	return s;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* [tool.pymon], [tool.py_mon], [tool.PyMon]...: a table py-mon does not
 * read and that was surely meant for it. Says so in warn (once). */
static void near_miss(const struct toml_value *root, const char *path, char *warn, size_t len)
{
	const struct toml_value *tool = toml_get(root, "tool");
	if (*warn || !tool || tool->type != TOML_TABLE || toml_get(tool, "py-mon"))
		return;
	for (size_t i = 0; i < tool->u.tab.count; i++) {
		char squashed[16];
		size_t n = 0;
		for (const char *k = tool->u.tab.keys[i]; *k && n + 1 < sizeof squashed; k++)
			if (*k != '-' && *k != '_' && *k != '.')
				squashed[n++] = (char)(*k | 0x20);
		squashed[n] = '\0';
		if (strcmp(squashed, "pymon") == 0 && strlen(tool->u.tab.keys[i]) < sizeof squashed) {
			const struct toml_value *t = tool->u.tab.values[i];
			snprintf(warn, len, "%s:%u:%u: [tool.%s] is not read: did you mean [tool.py-mon]?", path, t->line,
			         t->col, tool->u.tab.keys[i]);
			return;
		}
	}
}

/* The nearest py-mon.toml, or pyproject.toml that mentions [tool.py-mon]
 * (only those are parsed: a broken pyproject without our table is not our
 * business), from the current directory up. A pyproject.toml with a
 * misspelt table on the way gives a warning. */
static char *find_config(char *warn, size_t warnlen)
{
	char rel[4096] = "";
	for (int depth = 0; depth < 64; depth++) {
		char path[4200];
		snprintf(path, sizeof path, "%spy-mon.toml", rel);
		if (exists(path))
			return strdup(path);
		snprintf(path, sizeof path, "%spyproject.toml", rel);
		if (exists(path)) {
			size_t len;
			int err;
			char *text = cli_read_file(path, MAX_CONFIG, &len, &err);
			/* [tool.py-mon] or [tool."py-mon"]: a cheap look first, then
			 * the table itself (a file that does not parse is reported). */
			bool ours = text && strstr(text, "py-mon") != NULL;
			bool maybe = text && (strcasestr(text, "pymon") || strcasestr(text, "py_mon"));
			if (ours || maybe) {
				char perr[200];
				struct toml_value *root = toml_parse(text, len, perr, sizeof perr);
				if (root)
					near_miss(root, path, warn, warnlen);
				ours = ours && (!root || toml_get_path(root, "tool.py-mon") != NULL);
				toml_free(root);
			}
			free(text);
			if (ours)
				return strdup(path);
		}
		char here[4200];
		snprintf(here, sizeof here, "%s.", rel);
		char *real = realpath(here, NULL);
		bool top = !real || strcmp(real, "/") == 0;
		free(real);
		if (top || strlen(rel) + 4 >= sizeof rel)
			return NULL;
		strcat(rel, "../");
	}
	return NULL;
}

/* ---- values -------------------------------------------------------------- */

struct ctx {
	struct cli_config *cfg;
	struct cli_options *o;
	char *msg;
	size_t len;
};

static void where(const struct ctx *c, unsigned line, unsigned col, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%u:%u", c->cfg->path, line, col);
}

static struct cli_origin origin_at(const struct ctx *c, unsigned line, unsigned col)
{
	return (struct cli_origin){.source = CLI_SRC_CONFIG, .file = c->cfg->path, .line = line, .col = col};
}

/* A relative watch path is relative to the config file's directory. */
static const char *watch_path(struct ctx *c, const char *p)
{
	if (p[0] == '/' || !c->cfg->dir)
		return p;
	size_t n = strlen(c->cfg->dir) + strlen(p) + 2;
	char *joined = malloc(n);
	if (joined)
		snprintf(joined, n, "%s/%s", c->cfg->dir, p);
	return keep(c->cfg, joined);
}

/* key = val; at is where the key is, item where this value is (they
 * differ in a list), for the messages about a watch path. */
static int set_one(struct ctx *c, const char *key, const char *val, const struct cli_origin *at,
                   const struct cli_origin *item)
{
	bool watch = val && strcmp(key, "watch") == 0;
	if (watch || (val && (strcmp(key, "env-file") == 0 || strcmp(key, "env_file") == 0))) {
		val = watch_path(c, val);
		if (!val)
			return -ENOMEM;
	}
	size_t before = c->o->nwatch, sockets = c->o->nsockets;
	int r = cli_options_set(c->o, key, val, at, c->msg, c->len);
	if (r == 0 && watch && c->o->nwatch == before + 1)
		c->o->watch_origin[before] = *item;
	if (r == 0 && c->o->nsockets == sockets + 1)
		c->o->socket_origin[sockets] = *item;
	return r;
}

static char **argv_of(struct ctx *c, const struct toml_value *v, const char *key, const char *origin)
{
	if (v->u.arr.count == 0) {
		bad(c->msg, c->len, "%s: '%s' is an empty list", origin, key);
		return NULL;
	}
	char **argv = calloc(v->u.arr.count + 1, sizeof *argv);
	if (!argv)
		return NULL;
	char ***list = realloc(c->cfg->argvs, (c->cfg->nargvs + 1) * sizeof *list);
	if (!list) {
		free(argv);
		return NULL;
	}
	c->cfg->argvs = list;
	list[c->cfg->nargvs++] = argv;
	for (size_t i = 0; i < v->u.arr.count; i++) {
		const struct toml_value *it = v->u.arr.items[i];
		if (it->type != TOML_STRING) {
			bad(c->msg, c->len, "%s:%u:%u: '%s' must be a list of strings", c->cfg->path, it->line, it->col, key);
			return NULL;
		}
		if (memchr(it->u.str.s, '\0', it->u.str.len)) {
			bad(c->msg, c->len, "%s:%u:%u: '%s' holds a NUL character (\\u0000)", c->cfg->path, it->line,
			    it->col, key);
			return NULL;
		}
		argv[i] = it->u.str.s;
	}
	return argv;
}

static int command_key(struct ctx *c, const char *key, const struct toml_value *v, const char *origin,
                       const struct cli_origin *at)
{
	bool each = strcmp(key, "each") == 0;
	if (v->type == TOML_STRING && strcmp(key, "exec") != 0) {
		if (!*v->u.str.s)
			return bad(c->msg, c->len, "%s: '%s' is empty", origin, key);
		if (memchr(v->u.str.s, '\0', v->u.str.len))
			return bad(c->msg, c->len, "%s: '%s' holds a NUL character (\\u0000)", origin, key);
		return cli_options_set_command(c->o, v->u.str.s, NULL, each, at);
	}
	if (v->type != TOML_ARRAY)
		return bad(c->msg, c->len, "%s: '%s' must be %s", origin, key,
		           strcmp(key, "exec") == 0 ? "a list of strings" : "a string or a list of strings");
	char **argv = argv_of(c, v, key, origin);
	if (!argv)
		return -EINVAL;
	return cli_options_set_command(c->o, NULL, argv, each, at);
}

/* A scalar as the text an option takes: "100ms" stays, 100 becomes "100". */
static int scalar_text(struct ctx *c, const char *key, const struct toml_value *v, const char *origin,
                       char *buf, size_t n, const char **out)
{
	if (v->type == TOML_STRING) {
		if (memchr(v->u.str.s, '\0', v->u.str.len))
			return bad(c->msg, c->len, "%s: '%s' holds a NUL character", origin, key);
		*out = v->u.str.s;
		return 0;
	}
	if (v->type == TOML_INTEGER) {
		static const char *const numeric[] = {"delay", "stop-timeout", "stop_timeout", "timeout",
		                                      "jobs", "count", "signal", "poll", "socket"};
		bool ok = false;
		for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++)
			ok |= strcmp(key, numeric[i]) == 0;
		if (!ok)
			return bad(c->msg, c->len, "%s: '%s' must be a string, not an integer", origin, key);
		if (v->u.i < 0)
			return bad(c->msg, c->len, "%s: '%s' must not be negative", origin, key);
		snprintf(buf, n, "%" PRId64, v->u.i);
		/* The options keep the pointer: the text must outlive this call. */
		*out = keep(c->cfg, strdup(buf));
		return *out ? 0 : -ENOMEM;
	}
	if (v->type == TOML_FLOAT)
		return bad(c->msg, c->len, "%s: '%s': write durations as a string (\"1.5s\", \"250ms\") or an "
		                           "integer number of milliseconds", origin, key);
	return bad(c->msg, c->len, "%s: '%s' must be a string, not %s", origin, key, toml_type_name(v->type));
}

static int apply_key(struct ctx *c, const char *key, const struct toml_value *v, unsigned line, unsigned col)
{
	char origin[160], num[32];
	struct cli_origin at = origin_at(c, line, col);
	where(c, line, col, origin, sizeof origin);
	if (strcmp(key, "command") == 0 || strcmp(key, "exec") == 0 || strcmp(key, "each") == 0)
		return command_key(c, key, v, origin, &at);
	if (!cli_options_known(key)) {
		char hint[80];
		cli_did_you_mean(key, 1, hint, sizeof hint);
		return bad(c->msg, c->len, "%s: unknown key '%s'%s", origin, key,
		           *hint ? hint : " (keys are the long options: watch, ext, ignore, delay, command, exec, "
		                          "each, ...)");
	}
	if (v->type == TOML_BOOL) {
		if (v->u.b)
			return set_one(c, key, NULL, &at, &at);
		/* poll = false is --no-poll: it overrides PYMON_POLL. */
		if (strcmp(key, "poll") == 0)
			return set_one(c, "no-poll", NULL, &at, &at);
		/* false: nothing to set, but the key must still exist. */
		struct cli_options scratch;
		cli_options_init(&scratch, 0, NULL);
		scratch.watch_mode = c->o->watch_mode;
		int r = cli_options_set(&scratch, key, NULL, &at, c->msg, c->len);
		cli_options_free(&scratch);
		return r;
	}
	if (v->type == TOML_ARRAY) {
		bool list = strcmp(key, "watch") == 0 || strcmp(key, "ext") == 0 || strcmp(key, "ignore") == 0 ||
		            strcmp(key, "on") == 0 || strcmp(key, "env-file") == 0 || strcmp(key, "env_file") == 0 ||
		            strcmp(key, "socket") == 0;
		if (!list)
			return bad(c->msg, c->len, "%s: '%s' takes one value, not a list", origin, key);
		char joined[1024] = "";
		for (size_t i = 0; i < v->u.arr.count; i++) {
			const struct toml_value *it = v->u.arr.items[i];
			const char *text;
			char itwhere[160];
			where(c, it->line, it->col, itwhere, sizeof itwhere);
			int r = scalar_text(c, key, it, itwhere, num, sizeof num, &text);
			if (r < 0)
				return r;
			if (strcmp(key, "on") == 0) {
				if (strlen(joined) + strlen(text) + 2 >= sizeof joined)
					return bad(c->msg, c->len, "%s: 'on' is too long", origin);
				if (*joined)
					strcat(joined, ",");
				strcat(joined, text);
				continue;
			}
			struct cli_origin item = origin_at(c, it->line, it->col);
			r = set_one(c, key, text, &at, &item);
			if (r < 0)
				return r;
		}
		if (strcmp(key, "on") == 0)
			return set_one(c, key, joined, &at, &at);
		return 0;
	}
	const char *text;
	int r = scalar_text(c, key, v, origin, num, sizeof num, &text);
	return r < 0 ? r : set_one(c, key, text, &at, &at);
}

/* One table gives one command: two of command, exec and each are refused
 * with both places named (neither silently wins). */
static int one_command(struct ctx *c, const struct toml_value *t)
{
	static const char *const keys[] = {"command", "exec", "each"};
	size_t first = SIZE_MAX;
	for (size_t i = 0; i < t->u.tab.count; i++) {
		for (size_t k = 0; k < 3; k++) {
			if (strcmp(t->u.tab.keys[i], keys[k]) != 0)
				continue;
			if (first == SIZE_MAX) {
				first = i;
				continue;
			}
			return bad(c->msg, c->len, "%s:%u:%u: '%s' and '%s' (%s:%u:%u) in one table: give one command",
			           c->cfg->path, t->u.tab.key_lines[i], t->u.tab.key_cols[i], t->u.tab.keys[i],
			           t->u.tab.keys[first], c->cfg->path, t->u.tab.key_lines[first], t->u.tab.key_cols[first]);
		}
	}
	return 0;
}

/* Applies every key of table t to c->o; "rule" is handled by the caller. */
static int apply_table(struct ctx *c, const struct toml_value *t, bool allow_rules)
{
	int r0 = one_command(c, t);
	if (r0 < 0)
		return r0;
	for (size_t i = 0; i < t->u.tab.count; i++) {
		const char *key = t->u.tab.keys[i];
		if (allow_rules && strcmp(key, "rule") == 0)
			continue;
		if (!allow_rules && strcmp(key, "name") == 0)
			continue;
		int r = apply_key(c, key, t->u.tab.values[i], t->u.tab.key_lines[i], t->u.tab.key_cols[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_rules(struct ctx *c, const struct toml_value *t)
{
	const struct toml_value *rules = toml_get(t, "rule");
	if (!rules)
		return 0;
	if (rules->type != TOML_ARRAY)
		return bad(c->msg, c->len, "%s:%u:%u: 'rule' must be an array of tables ([[tool.py-mon.rule]])",
		           c->cfg->path, rules->line, rules->col);
	c->cfg->rules = calloc(rules->u.arr.count ? rules->u.arr.count : 1, sizeof *c->cfg->rules);
	if (!c->cfg->rules)
		return -ENOMEM;
	struct cli_options *main_opt = c->o;
	for (size_t i = 0; i < rules->u.arr.count; i++) {
		const struct toml_value *rt = rules->u.arr.items[i];
		struct cli_rule *rule = &c->cfg->rules[c->cfg->nrules++];
		cli_options_init(&rule->opt, 0, NULL);
		rule->origin = origin_at(c, rt->line, rt->col);
		char at[300];
		cli_origin_text(&rule->origin, at, sizeof at);
		if (rt->type != TOML_TABLE)
			return bad(c->msg, c->len, "%s: each rule must be a table", at);
		const struct toml_value *name = toml_get(rt, "name");
		if (name && name->type != TOML_STRING)
			return bad(c->msg, c->len, "%s:%u:%u: 'name' must be a string", c->cfg->path, name->line, name->col);
		snprintf(rule->name, sizeof rule->name, "%s", name ? name->u.str.s : "");
		if (!name)
			snprintf(rule->name, sizeof rule->name, "rule %zu", i + 1);
		c->o = &rule->opt;
		int r = apply_table(c, rt, false);
		c->o = main_opt;
		if (r < 0)
			return r;
		if (rule->opt.nenv_files)
			return bad(c->msg, c->len, "%s: rule '%s': env-file sets the environment of every job: give it in "
			           "the top table", at, rule->name);
		if (rule->opt.poll_set || rule->opt.poll_on_limit)
			return bad(c->msg, c->len, "%s: rule '%s': poll and poll-on-limit choose how every job's tree is "
			           "watched: give them in the top table", at, rule->name);
		if (!rule->opt.shell && !rule->opt.argv)
			return bad(c->msg, c->len, "%s: rule '%s' needs a command, exec or each", at, rule->name);
		r = cli_options_finish(&rule->opt, c->msg, c->len);
		if (r < 0)
			return r;
	}
	main_opt->has_rules = c->cfg->nrules > 0;
	return 0;
}

int cli_config_load(struct cli_config *cfg, struct cli_options *o, const char *explicit_path,
                    char *msg, size_t len)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->path = explicit_path ? strdup(explicit_path) : find_config(cfg->warning, sizeof cfg->warning);
	if (!cfg->path)
		return explicit_path ? -ENOMEM : 0;
	size_t n;
	int err;
	char *text = cli_read_file(cfg->path, MAX_CONFIG, &n, &err);
	if (!text)
		return bad(msg, len, "%s '%s': %s", explicit_path ? "--config" : "config file", cfg->path, cli_read_error(err));
	char perr[400];
	cfg->root = toml_parse(text, n, perr, sizeof perr);
	free(text);
	if (!cfg->root)
		return bad(msg, len, "%s:%s", cfg->path, perr);
	const char *slash = strrchr(cfg->path, '/');
	if (slash)
		cfg->dir = strndup(cfg->path, (size_t)(slash - cfg->path));
	const char *base = slash ? slash + 1 : cfg->path;
	const struct toml_value *t = cfg->root;
	/* pyproject.toml holds [tool.py-mon]; a py-mon.toml may too. */
	if (strcmp(base, "pyproject.toml") == 0 || toml_get_path(cfg->root, "tool.py-mon")) {
		t = toml_get_path(cfg->root, "tool.py-mon");
		if (!t && explicit_path) {
			char near[600] = "";
			near_miss(cfg->root, cfg->path, near, sizeof near);
			const char *hint = strstr(near, "[tool.");
			return bad(msg, len, "%s: no [tool.py-mon] table%s%s", cfg->path, *near ? "; " : "", *near ? hint : "");
		}
		if (!t)
			return 0;
		if (t->type != TOML_TABLE)
			return bad(msg, len, "%s:%u:%u: tool.py-mon must be a table", cfg->path, t->line, t->col);
	}
	struct ctx c = {cfg, o, msg, len};
	int r = apply_table(&c, t, true);
	if (r == 0 && !o->watch_mode)
		r = load_rules(&c, t);
	return r;
}

/* ---- --print-config ------------------------------------------------------ */

static void print_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void print_list(FILE *f, const char *const *v, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		print_str(f, v[i]);
	}
	fputc(']', f);
}

static void print_origin(FILE *f, struct cli_origin o)
{
	char buf[300];
	fprintf(f, "    # %s\n", cli_origin_text(&o, buf, sizeof buf));
}

static void print_kinds(FILE *f, unsigned kinds)
{
	static const unsigned all[] = {PYMON_CREATE, PYMON_MODIFY, PYMON_DELETE, PYMON_MOVE};
	fputc('[', f);
	int first = 1;
	for (size_t i = 0; i < 4; i++)
		if (kinds & all[i]) {
			fprintf(f, "%s\"%s\"", first ? "" : ", ", pymon_kind_name(all[i]));
			first = 0;
		}
	fputc(']', f);
}

/* poll: what a flag or key set, else what PYMON_POLL says (the library
 * reads it; a bad value is its error), else unset: by file system. */
static void print_poll(FILE *f, const struct cli_options *o)
{
	if (o->poll_set && o->poll_mode == PYMON_POLL_NEVER) {
		fputs("poll = false", f);
		print_origin(f, o->origin[OPT_NO_POLL]);
		return;
	}
	if (o->poll_set) {
		fprintf(f, "poll = \"%ums\"", o->poll_interval_ms);
		print_origin(f, o->origin[OPT_POLL]);
		return;
	}
	const char *env = getenv("PYMON_POLL");
	if (!env || !*env) {
		fputs("# poll: not set (default: polled only where inotify cannot see changes)\n", f);
		return;
	}
	fputs("poll = ", f);
	if (strcmp(env, "0") == 0 || strcmp(env, "1") == 0)
		fputs(*env == '1' ? "true" : "false", f);
	else
		print_str(f, env);
	fputs("    # environment (PYMON_POLL)\n", f);
}

static void print_options(FILE *f, const struct cli_options *o, bool rule)
{
	fputs("watch = ", f);
	print_list(f, (const char *const *)o->watch, o->nwatch);
	print_origin(f, o->origin[OPT_WATCH]);
	if (o->next) {
		fputs("ext = ", f);
		print_list(f, (const char *const *)o->ext, o->next);
	} else {
		fputs("ext = []", f);
	}
	print_origin(f, o->origin[OPT_EXT]);
	fputs("ignore = ", f);
	print_list(f, (const char *const *)o->ignore, o->nignore);
	print_origin(f, o->origin[OPT_IGNORE]);
	fputs("on = ", f);
	print_kinds(f, o->kinds);
	print_origin(f, o->origin[OPT_ON]);
	fprintf(f, "delay = \"%ums\"", o->delay_ms);
	print_origin(f, o->origin[OPT_DELAY]);
	fprintf(f, "no-default-ignore = %s", o->observer_flags & PYMON_NO_DEFAULT_IGNORE ? "true" : "false");
	print_origin(f, o->origin[OPT_NO_DEFAULT_IGNORE]);
	fprintf(f, "no-vcs-ignore = %s", o->observer_flags & PYMON_NO_VCS_IGNORE ? "true" : "false");
	print_origin(f, o->origin[OPT_NO_VCS_IGNORE]);
	if (!rule) {
		print_poll(f, o);
		fprintf(f, "poll-on-limit = %s", o->poll_on_limit ? "true" : "false");
		print_origin(f, o->origin[OPT_POLL_ON_LIMIT]);
	}
	if (o->watch_mode)
		return;
	char sig[32];
	fprintf(f, "signal = \"%s\"", cli_signal_name(o->stop_signal, sig, sizeof sig));
	print_origin(f, o->origin[OPT_SIGNAL]);
	fprintf(f, "stop-timeout = \"%ums\"", o->stop_timeout_ms);
	print_origin(f, o->origin[OPT_STOP_TIMEOUT]);
	fprintf(f, "on-busy = \"%s\"", pymon_busy_name(o->on_busy));
	print_origin(f, o->origin[OPT_ON_BUSY]);
	fprintf(f, "restart-on-exit = %s", o->restart_on_exit == PYMON_RESTART_ALWAYS ? "\"always\""
	                                   : o->restart_on_exit == PYMON_RESTART_ON_FAILURE ? "\"fail\"" : "false");
	print_origin(f, o->origin[OPT_RESTART_ON_EXIT]);
	if (o->nsockets) {
		fputs("socket = ", f);
		print_list(f, (const char *const *)o->sockets, o->nsockets);
		print_origin(f, o->origin[OPT_SOCKET]);
	}
	if (o->nenv_files) {
		fputs("env-file = ", f);
		print_list(f, (const char *const *)o->env_files, o->nenv_files);
		print_origin(f, o->origin[OPT_ENV_FILE]);
	}
	if (o->each) {
		fprintf(f, "jobs = %u", o->jobs ? o->jobs : 1);
		print_origin(f, o->origin[OPT_JOBS]);
	}
	if (o->shell || o->argv) {
		fputs(o->each ? "each = " : o->shell ? "command = " : "exec = ", f);
		if (o->shell) {
			print_str(f, o->shell);
		} else {
			size_t n = 0;
			while (o->argv[n])
				n++;
			print_list(f, (const char *const *)o->argv, n);
		}
		print_origin(f, o->command_origin);
	}
	if (rule)
		return;
	static const struct {
		enum cli_opt id;
		const char *name;
	} flags[] = {{OPT_CLEAR, "clear"}, {OPT_POSTPONE, "postpone"}, {OPT_ONCE, "once"}, {OPT_RS, "rs"},
	             {OPT_QUIET, "quiet"}, {OPT_VERBOSE, "verbose"}, {OPT_NO_COLOR, "no-color"}};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		fprintf(f, "%s = %s", flags[i].name, o->origin[flags[i].id].source ? "true" : "false");
		print_origin(f, o->origin[flags[i].id]);
	}
}

void cli_config_print(FILE *f, const struct cli_config *cfg, const struct cli_options *o)
{
	fprintf(f, "# py-mon %s settings; config file: %s\n", o->watch_mode ? "watch" : "run",
	        cfg->path ? cfg->path : "none");
	print_options(f, o, false);
	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct cli_rule *r = &cfg->rules[i];
		char at[300];
		fprintf(f, "\n[[rule]]    # %s\nname = ", cli_origin_text(&r->origin, at, sizeof at));
		print_str(f, r->name);
		fputc('\n', f);
		print_options(f, &r->opt, true);
	}
}

void cli_config_free(struct cli_config *cfg)
{
	for (size_t i = 0; i < cfg->nrules; i++)
		cli_options_free(&cfg->rules[i].opt);
	free(cfg->rules);
	for (size_t i = 0; i < cfg->nstrings; i++)
		free(cfg->strings[i]);
	free(cfg->strings);
	for (size_t i = 0; i < cfg->nargvs; i++)
		free(cfg->argvs[i]);
	free(cfg->argvs);
	toml_free(cfg->root);
	free(cfg->path);
	free(cfg->dir);
	memset(cfg, 0, sizeof *cfg);
}
