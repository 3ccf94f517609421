/*
 * libFuzzer target for the ignore rule sets: the input is parsed as a whole
 * ignore file, then fixed paths and paths derived from the input (each
 * rule's own pattern, each input line) are matched as files and as
 * directories. Checks that results are consistent with the rule reported
 * in `which`, that the parsed rules keep their invariants, and that the
 * compiled matcher (pm_ruleset_match: hash tables for literals, suffixes and
 * prefixes, the glob matcher for the rest) gives the same answer and names
 * the same rule as trying every rule in turn (pm_ruleset_match_each).
 *
 * Paths derived from the input include each rule's pattern with its '*'
 * replaced by a few strings, and each pattern with bytes added before and
 * after, so suffix and prefix keys meet names that match them and names
 * that almost do.
 */
#include "filter/ignore.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fixed_paths[] = {
	"a", "a/b", "a/b/c", "src/app.py", "venvs.py", ".git", "x/.git", "x/y/z.pyc",
	"node_modules", "4913", "a b", "#a", "!a", "\\", "*", "[a]", "doc/frotz",
};

static void check_one(const struct pm_ruleset *rs, const char *path, size_t len, int is_dir)
{
	const struct pm_rule *which = (const struct pm_rule *)rs;
	int r = pm_ruleset_match(rs, path, len, is_dir, &which);

	switch (r) {
	case PM_IGN_NONE:
		if (which)
			abort();
		break;
	case PM_IGN_EXCLUDE:
	case PM_IGN_INCLUDE:
		if (!which || which < rs->rules || which >= rs->rules + rs->count)
			abort();
		if ((r == PM_IGN_INCLUDE) != which->negate)
			abort();
		if (which->dir_only && !is_dir)
			abort();
		break;
	default:
		abort();
	}
	if (pm_ruleset_match(rs, path, len, is_dir, NULL) != r)
		abort();
	/* differential: the compiled index against rule-by-rule matching */
	const struct pm_rule *each = NULL;
	if (pm_ruleset_match_each(rs, path, len, is_dir, &each) != r || each != which)
		abort();
}

static void check_path(const struct pm_ruleset *rs, const char *path, size_t len)
{
	/* exact-size copy so ASan catches overreads */
	char *p = malloc(len ? len : 1);
	if (!p)
		abort();
	if (len)
		memcpy(p, path, len);
	check_one(rs, p, len, 0);
	check_one(rs, p, len, 1);
	free(p);
}

/* Paths are derived from the rules from `first` on (not the defaults). */
static void check_set(const struct pm_ruleset *rs, const uint8_t *data, size_t size, size_t first)
{
	for (size_t i = 0; i < rs->count; i++) {
		const struct pm_rule *r = &rs->rules[i];
		if (!r->pattern || !r->text || r->len == 0 || strlen(r->pattern) != r->len)
			abort();
	}
	for (size_t i = 0; i < sizeof(fixed_paths) / sizeof(fixed_paths[0]); i++)
		check_path(rs, fixed_paths[i], strlen(fixed_paths[i]));
	/* a rule's pattern, read as a path, with its stars filled in, and
	 * with bytes around it: under a directory, inside a longer name */
	static const char *const fill[] = {"", "x", ".", "/", "a/b"};
	static const char *const around[][2] = {
		{"d/", ""}, {"x", ""}, {"", "x"}, {"d/x", "y"}, {"/", "/"},
	};
	char buf[512];
	for (size_t i = first; i < rs->count && i < first + 8; i++) {
		const struct pm_rule *r = &rs->rules[i];
		check_path(rs, r->pattern, r->len);
		if (r->len > 200)
			continue;
		for (size_t f = 0; f < sizeof fill / sizeof fill[0]; f++) {
			size_t n = 0;
			for (size_t k = 0; k < r->len; k++) {
				if (r->pattern[k] == '*') {
					memcpy(buf + n, fill[f], strlen(fill[f]));
					n += strlen(fill[f]);
				} else {
					buf[n++] = r->pattern[k];
				}
				if (n > 300)
					break;
			}
			check_path(rs, buf, n);
		}
		for (size_t a = 0; a < sizeof around / sizeof around[0]; a++) {
			size_t l = strlen(around[a][0]), t = strlen(around[a][1]);
			memcpy(buf, around[a][0], l);
			memcpy(buf + l, r->pattern, r->len);
			memcpy(buf + l + r->len, around[a][1], t);
			check_path(rs, buf, l + r->len + t);
		}
	}
	/* the input's lines, read as paths */
	size_t start = 0, lines = 0;
	for (size_t i = 0; i <= size && lines < 8; i++) {
		if (i == size || data[i] == '\n') {
			check_path(rs, (const char *)data + start, i - start);
			start = i + 1;
			lines++;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pm_ruleset rs;
	/* an exact-size copy of the input */
	char *text = malloc(size ? size : 1);
	if (!text)
		abort();
	if (size)
		memcpy(text, data, size);

	pm_ruleset_init(&rs, "fuzz");
	if (pm_ruleset_parse(&rs, text, size) != 0)
		abort();
	check_set(&rs, data, size, 0);
	pm_ruleset_free(&rs);

	/* the defaults first, then the input: the stacking the engine uses */
	pm_ruleset_init(&rs, "default");
	if (pm_ruleset_add_defaults(&rs) != 0)
		abort();
	size_t ndefaults = rs.count;
	if (pm_ruleset_parse(&rs, text, size) != 0)
		abort();
	check_set(&rs, data, size, ndefaults);
	pm_ruleset_free(&rs);

	/* the whole input as one line */
	pm_ruleset_init(&rs, NULL);
	if (pm_ruleset_add(&rs, text, size, 1) != 0 || rs.count > 1)
		abort();
	check_set(&rs, data, size, 0);
	pm_ruleset_free(&rs);

	free(text);
	return 0;
}
