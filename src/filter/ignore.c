/* Ignore rules in gitignore syntax: parsing and matching. */
#include "filter/ignore.h"

#include "filter/glob.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NONE_POS SIZE_MAX

const char *const pm_default_ignores[] = {
	".git/", ".hg/", ".svn/",
	"__pycache__/", "*.pyc", "*.pyo",
	".venv/", "venv/", "node_modules/",
	".mypy_cache/", ".pytest_cache/", ".ruff_cache/", ".tox/",
	"*.swp", "*.swx", "*~", ".#*", "4913",
	".DS_Store",
	/* What a Python app writes while it runs (README, "Default ignores"). */
	"*.sqlite3", "*.sqlite3-journal", "*.sqlite3-wal", "*.sqlite3-shm",
	"*.sqlite", "*.sqlite-journal", "*.sqlite-wal", "*.sqlite-shm",
	"*.db", "*.db-journal", "*.db-wal", "*.db-shm",
	"*.log", ".coverage", ".coverage.*", "htmlcov/",
	NULL,
};

void pm_ruleset_init(struct pm_ruleset *rs, const char *source)
{
	rs->rules = NULL;
	rs->count = 0;
	rs->cap = 0;
	/* On allocation failure the set works, only without a name. */
	rs->source = source ? strdup(source) : NULL;
}

void pm_ruleset_free(struct pm_ruleset *rs)
{
	for (size_t i = 0; i < rs->count; i++) {
		free(rs->rules[i].pattern);
		free(rs->rules[i].text);
	}
	free(rs->rules);
	free(rs->source);
	rs->rules = NULL;
	rs->count = 0;
	rs->cap = 0;
	rs->source = NULL;
}

static char *dup_mem(const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/*
 * Length of the line without its trailing spaces, as git counts them: a
 * space escaped by a backslash stays, and so does everything when the line
 * ends in a lone backslash. Tabs are not spaces here.
 */
static size_t trim_trailing_spaces(const char *s, size_t len)
{
	size_t first_space = NONE_POS;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ') {
			if (first_space == NONE_POS)
				first_space = i;
			continue;
		}
		if (s[i] == '\\' && ++i == len)
			return len;
		first_space = NONE_POS;
	}
	return first_space == NONE_POS ? len : first_space;
}

static int grow(struct pm_ruleset *rs)
{
	if (rs->count < rs->cap)
		return 0;
	size_t cap = rs->cap ? rs->cap * 2 : 16;
	if (cap < rs->cap || cap > SIZE_MAX / sizeof *rs->rules)
		return -ENOMEM;
	struct pm_rule *rules = realloc(rs->rules, cap * sizeof *rules);
	if (!rules)
		return -ENOMEM;
	rs->rules = rules;
	rs->cap = cap;
	return 0;
}

int pm_ruleset_add(struct pm_ruleset *rs, const char *line, size_t len, unsigned lineno)
{
	struct pm_rule r = { .line = lineno };
	const char *p = line;
	size_t n;

	/* Blank lines, comments, and lines holding NUL add nothing. */
	if (len == 0 || line[0] == '#' || memchr(line, '\0', len))
		return 0;
	n = trim_trailing_spaces(line, len);
	if (n && p[0] == '!') {
		r.negate = 1;
		p++;
		n--;
	}
	if (n && p[n - 1] == '/') {
		r.dir_only = 1;
		n--;
	}
	r.anchored = memchr(p, '/', n) != NULL;
	if (n && p[0] == '/') {
		p++;
		n--;
	}
	/* Nothing left ("/", "!", "!/", spaces): git's empty pattern, which
	 * matches no path. */
	if (n == 0)
		return 0;

	if (grow(rs) < 0)
		return -ENOMEM;
	r.len = n;
	r.pattern = dup_mem(p, n);
	r.text = dup_mem(line, len);
	if (!r.pattern || !r.text) {
		free(r.pattern);
		free(r.text);
		return -ENOMEM;
	}
	rs->rules[rs->count++] = r;
	return 0;
}

int pm_ruleset_parse(struct pm_ruleset *rs, const char *text, size_t len)
{
	size_t i = 0;
	unsigned lineno = 0;

	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t n = end - i;
		if (n && text[i + n - 1] == '\r')
			n--;
		int err = pm_ruleset_add(rs, text + i, n, ++lineno);
		if (err < 0)
			return err;
		i = end + 1;
	}
	return 0;
}

int pm_ruleset_add_defaults(struct pm_ruleset *rs)
{
	for (unsigned i = 0; pm_default_ignores[i]; i++) {
		const char *line = pm_default_ignores[i];
		int err = pm_ruleset_add(rs, line, strlen(line), i + 1);
		if (err < 0)
			return err;
	}
	return 0;
}

int pm_ruleset_match(const struct pm_ruleset *rs, const char *path, size_t len, int is_dir,
                     const struct pm_rule **which)
{
	const char *base = path;
	size_t blen = len;

	if (len) {
		const char *slash = memrchr(path, '/', len);
		if (slash) {
			base = slash + 1;
			blen = len - (size_t)(base - path);
		}
	}
	/* The last matching rule wins: look from the end. */
	for (size_t i = rs->count; i-- > 0;) {
		const struct pm_rule *r = &rs->rules[i];
		if (r->dir_only && !is_dir)
			continue;
		int m = r->anchored ? pm_glob_match(r->pattern, r->len, path, len)
		                    : pm_glob_match(r->pattern, r->len, base, blen);
		if (m) {
			if (which)
				*which = r;
			return r->negate ? PM_IGN_INCLUDE : PM_IGN_EXCLUDE;
		}
	}
	if (which)
		*which = NULL;
	return PM_IGN_NONE;
}

void pm_dirrules_free(struct pm_dirrules *r)
{
	if (!r)
		return;
	if (r->gitignore) {
		pm_ruleset_free(r->gitignore);
		free(r->gitignore);
	}
	if (r->ignore) {
		pm_ruleset_free(r->ignore);
		free(r->ignore);
	}
	free(r);
}
