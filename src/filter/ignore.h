/*
 * Ignore rules in gitignore syntax: parsing lines into rules, matching one
 * path against one rule set. Pure: no syscalls (callers read the files).
 * Stacking of several sets (defaults < info/exclude < .gitignore by depth <
 * .ignore < command line) is the caller's job: the last matching rule of
 * the highest set that matches decides.
 */
#ifndef PM_IGNORE_H
#define PM_IGNORE_H

#include <stddef.h>
#include <stdint.h>

enum pm_ignore_result {
	PM_IGN_NONE = 0,    /* no rule matched */
	PM_IGN_EXCLUDE = 1, /* ignored */
	PM_IGN_INCLUDE = 2, /* a '!' rule re-included it */
};

struct pm_rule {
	char *pattern;          /* NUL-terminated; '!', leading '/' and trailing '/' removed,
	                           trailing unescaped spaces trimmed */
	size_t len;
	unsigned negate : 1;    /* started with '!' */
	unsigned dir_only : 1;  /* ended with '/': matches directories only */
	unsigned anchored : 1;  /* had a '/' at the start or in the middle: matched
	                           against the whole relative path; otherwise against
	                           the last component only */
	unsigned line;          /* 1-based line in its source, 0 if none */
	char *text;             /* the line as written (for "why ignored" messages) */
};

/*
 * The compiled form of a rule set, kept current by pm_ruleset_add: rules
 * whose pattern is a literal ("4913", "/site", "docs/_build"), a literal
 * after one leading '*' ("*.pyc", "*~") or before one trailing '*'
 * (".#*") are looked up by hash, keyed by their kind and text; each key
 * holds the highest rule index with that key, one for files and one for
 * directories (dir-only rules count for directories only). Only the other
 * rules go through the glob matcher, and only those after the best hit.
 */
struct pm_rule_key {
	const char *key;   /* into the rule's pattern; NULL for an empty slot */
	size_t len;
	uint32_t hash;
	unsigned kind;     /* PM_KEY_* (ignore.c) */
	size_t best_file;  /* highest index + 1 of a rule for files, 0 if none */
	size_t best_dir;   /* the same for directories */
};

/* A rule left to the glob matcher, with the bytes a path it matches can
 * end with when the pattern tells (pm_glob_last_bytes): most names are
 * turned away by one bit test. */
struct pm_glob_rule {
	size_t rule;
	int known;         /* `last` is valid */
	uint64_t last[4];
};

struct pm_rule_index {
	struct pm_rule_key *slots; /* open addressing, power-of-two size */
	size_t nslots, used;
	uint64_t name_lens, path_lens;     /* a bit per key length (ignore.c) */
	uint64_t suffix_last[4];           /* a bit per last byte of a suffix key */
	uint64_t prefix_first[4];          /* a bit per first byte of a prefix key */
	size_t *suffix_lens, nsuffix_lens; /* distinct lengths of "*S" literals */
	size_t *prefix_lens, nprefix_lens; /* distinct lengths of "P*" literals */
	struct pm_glob_rule *globs;        /* the other rules, ascending */
	size_t nglobs;
	size_t cap_suffix, cap_prefix, cap_globs;
};

struct pm_ruleset {
	struct pm_rule *rules;
	size_t count, cap;
	char *source; /* where the rules came from: "default", "--ignore", a file path */
	struct pm_rule_index idx;
};

void pm_ruleset_init(struct pm_ruleset *rs, const char *source);
void pm_ruleset_free(struct pm_ruleset *rs);

/* One gitignore line (without its newline). Blank lines and '#' comments
 * are accepted and add nothing; "\#" and "\!" start literal patterns.
 * Returns 0, or -ENOMEM. */
int pm_ruleset_add(struct pm_ruleset *rs, const char *line, size_t len, unsigned lineno);

/* A whole file's text: lines split on '\n' (a trailing '\r' is dropped),
 * a UTF-8 BOM at the start is skipped, NUL bytes end nothing special (a line
 * holding NUL never matches a real path). Returns 0, or -ENOMEM. */
int pm_ruleset_parse(struct pm_ruleset *rs, const char *text, size_t len);

/* The built-in defaults for VCS and Python junk (see pm_default_ignores). */
int pm_ruleset_add_defaults(struct pm_ruleset *rs);
extern const char *const pm_default_ignores[]; /* NULL-terminated */

/* Matches `path` (relative to the directory the rules belong to,
 * '/'-separated, no leading or trailing '/') against every rule; returns
 * the result of the last rule that matched and, if `which` is not NULL, sets
 * it to that rule (or NULL). */
int pm_ruleset_match(const struct pm_ruleset *rs, const char *path, size_t len, int is_dir,
                     const struct pm_rule **which);
/* The same answer (and rule) found by trying every rule from the last one
 * back through the glob matcher, without the compiled index: the reference
 * the fuzz target and the unit tests compare pm_ruleset_match with. */
int pm_ruleset_match_each(const struct pm_ruleset *rs, const char *path, size_t len, int is_dir,
                          const struct pm_rule **which);

/* The ignore files of one directory (either may be NULL). */
struct pm_dirrules {
	struct pm_ruleset *gitignore;
	struct pm_ruleset *ignore;
};
void pm_dirrules_free(struct pm_dirrules *r);

#endif
