/*
 * libFuzzer target for the ignore rule sets: the input is parsed as a whole
 * ignore file, then fixed paths and paths derived from the input (each
 * rule's own pattern, each input line) are matched as files and as
 * directories. Checks that results are consistent with the rule reported
 * in `which`, and that the parsed rules keep their invariants.
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

static void check_set(const struct pm_ruleset *rs, const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < rs->count; i++) {
		const struct pm_rule *r = &rs->rules[i];
		if (!r->pattern || !r->text || r->len == 0 || strlen(r->pattern) != r->len)
			abort();
	}
	for (size_t i = 0; i < sizeof(fixed_paths) / sizeof(fixed_paths[0]); i++)
		check_path(rs, fixed_paths[i], strlen(fixed_paths[i]));
	/* a rule's pattern, read as a path */
	for (size_t i = 0; i < rs->count && i < 16; i++)
		check_path(rs, rs->rules[i].pattern, rs->rules[i].len);
	/* the input's lines, read as paths */
	size_t start = 0, lines = 0;
	for (size_t i = 0; i <= size && lines < 16; i++) {
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
	check_set(&rs, data, size);
	pm_ruleset_free(&rs);

	/* the defaults first, then the input: the stacking the engine uses */
	pm_ruleset_init(&rs, "default");
	if (pm_ruleset_add_defaults(&rs) != 0 || pm_ruleset_parse(&rs, text, size) != 0)
		abort();
	check_set(&rs, data, size);
	pm_ruleset_free(&rs);

	/* the whole input as one line */
	pm_ruleset_init(&rs, NULL);
	if (pm_ruleset_add(&rs, text, size, 1) != 0 || rs.count > 1)
		abort();
	check_set(&rs, data, size);
	pm_ruleset_free(&rs);

	free(text);
	return 0;
}
