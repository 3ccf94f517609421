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

struct pm_ruleset {
	struct pm_rule *rules;
	size_t count, cap;
	char *source; /* where the rules came from: "default", "--ignore", a file path */
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

/* The ignore files of one directory (either may be NULL). */
struct pm_dirrules {
	struct pm_ruleset *gitignore;
	struct pm_ruleset *ignore;
};
void pm_dirrules_free(struct pm_dirrules *r);

#endif
