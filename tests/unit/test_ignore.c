/* Ignore rule sets: gitignore parsing and matching, table-driven. */
#include "harness.h"

#include "filter/ignore.h"

#include <time.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

enum { F = 0, D = 1 }; /* is_dir */
enum { NONE = PM_IGN_NONE, EXCL = PM_IGN_EXCLUDE, INCL = PM_IGN_INCLUDE };

struct ign_case {
	const char *rules; /* a whole file's text */
	const char *path;
	int is_dir;
	int want;
};

static void load(struct pm_ruleset *rs, const char *text, size_t len)
{
	pm_ruleset_init(rs, "test");
	CHECK_INT(pm_ruleset_parse(rs, text, len), 0);
}

static void load_str(struct pm_ruleset *rs, const char *text)
{
	load(rs, text, strlen(text));
}

static int match(const struct pm_ruleset *rs, const char *path, int is_dir)
{
	return pm_ruleset_match(rs, path, strlen(path), is_dir, NULL);
}

/* Parses each case's rules, matches its path; prints every failure. */
static void check_cases(const char *group, const struct ign_case *c, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		struct pm_ruleset rs;
		load_str(&rs, c[i].rules);
		int got = match(&rs, c[i].path, c[i].is_dir);
		pm_ruleset_free(&rs);
		if (got != c[i].want) {
			fprintf(stderr, "    %s: rules \"%s\" %s \"%s\" -> %d, expected %d\n", group,
			        c[i].rules, c[i].is_dir ? "dir" : "file", c[i].path, got, c[i].want);
			bad++;
		}
	}
	if (bad)
		pm_test_fail(__FILE__, __LINE__, "%s: %d of %zu cases failed", group, bad, n);
}

#define CASES(group, table) check_cases(group, table, N_ELEMS(table))

/* The only rule of a set parsed from one line. */
struct rule_case {
	const char *line;
	const char *pattern; /* NULL: the line adds no rule */
	int negate, dir_only, anchored;
};

TEST(ignore_parse_fields)
{
	static const struct rule_case t[] = {
		{ "foo", "foo", 0, 0, 0 },
		{ "foo/", "foo", 0, 1, 0 },
		{ "/foo", "foo", 0, 0, 1 },
		{ "/foo/", "foo", 0, 1, 1 },
		{ "a/b", "a/b", 0, 0, 1 },
		{ "a/b/", "a/b", 0, 1, 1 },
		{ "!foo", "foo", 1, 0, 0 },
		{ "!/foo/bar/", "foo/bar", 1, 1, 1 },
		{ "**/foo", "**/foo", 0, 0, 1 },
		{ "abc/**", "abc/**", 0, 0, 1 },
		{ "*.py", "*.py", 0, 0, 0 },
		{ "\\!foo", "\\!foo", 0, 0, 0 },
		{ "\\#foo", "\\#foo", 0, 0, 0 },
		{ " #foo", " #foo", 0, 0, 0 },
		{ "!!foo", "!foo", 1, 0, 0 },
		{ "foo//", "foo/", 0, 1, 1 },
		/* trailing spaces */
		{ "foo   ", "foo", 0, 0, 0 },
		{ "foo/  ", "foo", 0, 1, 0 },
		{ "foo\\ ", "foo\\ ", 0, 0, 0 },
		{ "foo\\  ", "foo\\ ", 0, 0, 0 },
		{ "foo \\ ", "foo \\ ", 0, 0, 0 },
		{ "a b ", "a b", 0, 0, 0 },
		{ "  lead", "  lead", 0, 0, 0 },
		{ "foo\t", "foo\t", 0, 0, 0 }, /* only spaces are trimmed */
		{ "foo  \\", "foo  \\", 0, 0, 0 },
		{ "\\", "\\", 0, 0, 0 },
		/* lines that add nothing */
		{ "", NULL, 0, 0, 0 },
		{ "#", NULL, 0, 0, 0 },
		{ "# comment", NULL, 0, 0, 0 },
		{ "#foo/", NULL, 0, 0, 0 },
		{ " ", NULL, 0, 0, 0 },
		{ "     ", NULL, 0, 0, 0 },
		{ "/", NULL, 0, 0, 0 },
		{ "//", NULL, 0, 0, 0 },
		{ "!", NULL, 0, 0, 0 },
		{ "!/", NULL, 0, 0, 0 },
		{ "!  ", NULL, 0, 0, 0 },
		{ "/  ", NULL, 0, 0, 0 },
	};
	int bad = 0;

	for (size_t i = 0; i < N_ELEMS(t); i++) {
		struct pm_ruleset rs;
		pm_ruleset_init(&rs, "test");
		CHECK_INT(pm_ruleset_add(&rs, t[i].line, strlen(t[i].line), 7), 0);
		const struct pm_rule *r = rs.count ? &rs.rules[0] : NULL;
		int ok;
		if (!t[i].pattern) {
			ok = rs.count == 0;
		} else {
			ok = rs.count == 1 && strcmp(r->pattern, t[i].pattern) == 0 &&
			     r->len == strlen(t[i].pattern) && r->negate == t[i].negate &&
			     r->dir_only == t[i].dir_only && r->anchored == t[i].anchored &&
			     r->line == 7 && strcmp(r->text, t[i].line) == 0;
		}
		if (!ok) {
			fprintf(stderr, "    line \"%s\": ", t[i].line);
			if (r)
				fprintf(stderr, "%zu rules, pattern \"%s\" neg %u dir %u anch %u\n",
				        rs.count, r->pattern, r->negate, r->dir_only, r->anchored);
			else
				fprintf(stderr, "no rule\n");
			bad++;
		}
		pm_ruleset_free(&rs);
	}
	if (bad)
		pm_test_fail(__FILE__, __LINE__, "%d of %zu lines parsed wrong", bad, N_ELEMS(t));
}

TEST(ignore_parse_file)
{
	static const char text[] = "# header\n"
	                           "\n"
	                           "*.log\n"
	                           "   \n"
	                           "!keep.log\n"
	                           "build/\n"
	                           "/top";
	struct pm_ruleset rs;

	load_str(&rs, text);
	CHECK_INT(rs.count, 4);
	CHECK_STR(rs.rules[0].pattern, "*.log");
	CHECK_INT(rs.rules[0].line, 3);
	CHECK_STR(rs.rules[1].pattern, "keep.log");
	CHECK_INT(rs.rules[1].line, 5);
	CHECK_STR(rs.rules[1].text, "!keep.log");
	CHECK_STR(rs.rules[2].pattern, "build");
	CHECK_INT(rs.rules[2].line, 6);
	CHECK_STR(rs.rules[3].pattern, "top"); /* last line without '\n' */
	CHECK_INT(rs.rules[3].line, 7);
	CHECK_STR(rs.source, "test");
	pm_ruleset_free(&rs);
	CHECK(rs.rules == NULL && rs.count == 0 && rs.source == NULL);
	pm_ruleset_free(&rs); /* twice is harmless */
}

TEST(ignore_parse_crlf_bom)
{
	static const char crlf[] = "a\r\nb \r\n\r\n!c/\r\nd";
	static const char bom[] = "\xEF\xBB\xBF*.tmp\nx\n";
	static const char bom_only[] = "\xEF\xBB\xBF";
	static const char late_bom[] = "a\n\xEF\xBB\xBF" "b\n";
	struct pm_ruleset rs;

	load_str(&rs, crlf);
	CHECK_INT(rs.count, 4);
	CHECK_STR(rs.rules[0].pattern, "a");
	CHECK_STR(rs.rules[0].text, "a");
	CHECK_STR(rs.rules[1].pattern, "b");
	CHECK_STR(rs.rules[2].pattern, "c");
	CHECK(rs.rules[2].negate && rs.rules[2].dir_only);
	CHECK_INT(rs.rules[2].line, 4);
	CHECK_STR(rs.rules[3].pattern, "d");
	CHECK_INT(match(&rs, "a", F), EXCL);
	CHECK_INT(match(&rs, "c", D), INCL);
	pm_ruleset_free(&rs);

	load_str(&rs, bom);
	CHECK_INT(rs.count, 2);
	CHECK_STR(rs.rules[0].pattern, "*.tmp");
	CHECK_INT(rs.rules[0].line, 1);
	CHECK_INT(match(&rs, "x.tmp", F), EXCL);
	pm_ruleset_free(&rs);

	load_str(&rs, bom_only);
	CHECK_INT(rs.count, 0);
	pm_ruleset_free(&rs);

	/* only a BOM at the very start is skipped */
	load_str(&rs, late_bom);
	CHECK_INT(rs.count, 2);
	CHECK_STR(rs.rules[1].pattern, "\xEF\xBB\xBF" "b");
	CHECK_INT(match(&rs, "b", F), NONE);
	pm_ruleset_free(&rs);

	/* a lone '\r' inside a line stays */
	load_str(&rs, "a\rb\n");
	CHECK_INT(rs.count, 1);
	CHECK_INT(rs.rules[0].len, 3);
	pm_ruleset_free(&rs);
}

TEST(ignore_parse_nul_and_empty)
{
	static const char text[] = "a\0b\n*.c\n\0\n[\0x]\nd";
	struct pm_ruleset rs;

	/* lines holding NUL add nothing, the others keep their numbers */
	load(&rs, text, sizeof(text) - 1);
	CHECK_INT(rs.count, 2);
	CHECK_STR(rs.rules[0].pattern, "*.c");
	CHECK_INT(rs.rules[0].line, 2);
	CHECK_STR(rs.rules[1].pattern, "d");
	CHECK_INT(rs.rules[1].line, 5);
	CHECK_INT(match(&rs, "a", F), NONE);
	CHECK_INT(match(&rs, "x", F), NONE);
	pm_ruleset_free(&rs);

	load(&rs, "", 0);
	CHECK_INT(rs.count, 0);
	CHECK_INT(match(&rs, "a", F), NONE);
	pm_ruleset_free(&rs);

	load(&rs, NULL, 0);
	CHECK_INT(rs.count, 0);
	pm_ruleset_free(&rs);

	load_str(&rs, "\n\n\n");
	CHECK_INT(rs.count, 0);
	pm_ruleset_free(&rs);

	CHECK_INT(pm_ruleset_add(&rs, NULL, 0, 1), 0);
	CHECK_INT(rs.count, 0);
	pm_ruleset_free(&rs);

	pm_ruleset_init(&rs, NULL);
	CHECK(rs.source == NULL);
	pm_ruleset_free(&rs);
}

TEST(ignore_lone_slash_and_bang)
{
	/* "/" and "!" leave an empty pattern: no rule, nothing matches, and
	 * they do not disturb the rules around them. */
	static const struct ign_case t[] = {
		{ "/", "a", F, NONE },
		{ "/", "a", D, NONE },
		{ "!", "a", F, NONE },
		{ "!", "!", F, NONE },
		{ "!/", "a", D, NONE },
		{ "//", "a", D, NONE },
		{ "*\n/", "a", F, EXCL },
		{ "*\n!", "a", F, EXCL },
		{ "\\!", "!", F, EXCL },
		{ "\\", "\\", F, NONE }, /* a trailing backslash never matches */
		{ "a\\", "a", F, NONE },
	};
	CASES("lone", t);
}

TEST(ignore_match_basename)
{
	/* no slash: the last component, at any depth, file or directory */
	static const struct ign_case t[] = {
		{ "foo", "foo", F, EXCL },
		{ "foo", "foo", D, EXCL },
		{ "foo", "a/foo", F, EXCL },
		{ "foo", "a/b/c/foo", D, EXCL },
		{ "foo", "foobar", F, NONE },
		{ "foo", "a/foobar", F, NONE },
		{ "foo", "xfoo", F, NONE },
		/* ancestors are the caller's business: only the given path counts */
		{ "foo", "foo/bar", F, NONE },
		{ "*.py", "c.py", F, EXCL },
		{ "*.py", "a/b/c.py", F, EXCL },
		{ "*.py", "a.py/b", F, NONE },
		{ "*.py", "a/b/c.pyc", F, NONE },
		{ "?.c", "x/y.c", F, EXCL },
		{ "?.c", "x/yy.c", F, NONE },
		{ "[ab].txt", "d/b.txt", F, EXCL },
		{ "[!ab].txt", "d/c.txt", F, EXCL },
		{ "[!ab].txt", "d/a.txt", F, NONE },
		{ "\\#foo", "#foo", F, EXCL },
		{ "\\#foo", "d/#foo", F, EXCL },
		{ "\\!foo", "!foo", F, EXCL },
		{ "\\*", "*", F, EXCL },
		{ "\\*", "x", F, NONE },
		{ "foo\\ ", "foo ", F, EXCL },
		{ "foo\\ ", "foo", F, NONE },
		{ "foo ", "foo", F, EXCL },
		{ "foo ", "foo ", F, NONE },
		{ "*", "a/b/c", F, EXCL },
		{ "*", "a", D, EXCL },
	};
	CASES("basename", t);
}

TEST(ignore_match_anchored)
{
	static const struct ign_case t[] = {
		/* leading '/' */
		{ "/foo", "foo", F, EXCL },
		{ "/foo", "a/foo", F, NONE },
		{ "/foo", "foo/bar", F, NONE },
		{ "/*.py", "x.py", F, EXCL },
		{ "/*.py", "d/x.py", F, NONE },
		/* a middle slash anchors too */
		{ "doc/frotz", "doc/frotz", F, EXCL },
		{ "doc/frotz", "doc/frotz", D, EXCL },
		{ "doc/frotz", "a/doc/frotz", F, NONE },
		{ "doc/frotz", "doc/frotz/x", F, NONE },
		{ "a/*.py", "a/x.py", F, EXCL },
		{ "a/*.py", "a/b/x.py", F, NONE },
		{ "a/*.py", "x/a/y.py", F, NONE },
		{ "a/?", "a/b", F, EXCL },
		{ "a/?", "a/", F, NONE },
		/* "**" */
		{ "**/foo", "foo", F, EXCL },
		{ "**/foo", "a/foo", F, EXCL },
		{ "**/foo", "a/b/foo", D, EXCL },
		{ "**/foo", "a/xfoo", F, NONE },
		{ "**/foo/bar", "foo/bar", F, EXCL },
		{ "**/foo/bar", "x/y/foo/bar", F, EXCL },
		{ "**/foo/bar", "foo/x/bar", F, NONE },
		{ "abc/**", "abc/x", F, EXCL },
		{ "abc/**", "abc/x/y/z", F, EXCL },
		{ "abc/**", "abc", D, NONE },
		{ "abc/**", "x/abc/y", F, NONE },
		{ "a/**/b", "a/b", F, EXCL },
		{ "a/**/b", "a/x/b", F, EXCL },
		{ "a/**/b", "a/x/y/b", F, EXCL },
		{ "a/**/b", "a/xb", F, NONE },
		{ "a/**/b", "x/a/b", F, NONE },
		{ "a/**b", "a/xb", F, EXCL },
		{ "a/**b", "a/x/b", F, NONE },
		{ "/**", "a/b", F, EXCL },
		{ "**/", "a/b", D, EXCL },
		{ "**/", "a/b", F, NONE },
	};
	CASES("anchored", t);
}

TEST(ignore_match_dir_only)
{
	static const struct ign_case t[] = {
		{ "build/", "build", D, EXCL },
		{ "build/", "build", F, NONE },
		{ "build/", "a/build", D, EXCL },
		{ "build/", "a/build", F, NONE },
		{ "build/", "build/x", F, NONE },
		{ "/build/", "build", D, EXCL },
		{ "/build/", "a/build", D, NONE },
		{ "a/build/", "a/build", D, EXCL },
		{ "a/build/", "a/build", F, NONE },
		{ "a/build/", "x/a/build", D, NONE },
		{ "*.d/", "x.d", D, EXCL },
		{ "*.d/", "x.d", F, NONE },
		{ "build/  ", "build", F, NONE },
		{ "build/  ", "build", D, EXCL },
		{ "build\\/", "build", D, NONE }, /* becomes "build\": never */
	};
	CASES("dir_only", t);
}

TEST(ignore_match_negation)
{
	static const struct ign_case t[] = {
		{ "*.log\n!keep.log", "x.log", F, EXCL },
		{ "*.log\n!keep.log", "keep.log", F, INCL },
		{ "*.log\n!keep.log", "d/keep.log", F, INCL },
		{ "*.log\n!keep.log", "x.txt", F, NONE },
		/* the last matching rule wins */
		{ "!keep.log\n*.log", "keep.log", F, EXCL },
		{ "*.log\n!keep.log\nkeep.log", "keep.log", F, EXCL },
		{ "*.log\n!*.log\n*.log\n!*.log", "a.log", F, INCL },
		{ "a\n!a\na", "a", F, EXCL },
		/* a negation alone still reports INCLUDE */
		{ "!foo", "foo", F, INCL },
		{ "!foo", "bar", F, NONE },
		/* a dir-only negation does not touch files */
		{ "build\n!build/", "build", D, INCL },
		{ "build\n!build/", "build", F, EXCL },
		{ "!/x/a\nx/*", "x/a", F, EXCL },
		{ "x/*\n!/x/a", "x/a", F, INCL },
		{ "x/*\n!/x/a", "x/b", F, EXCL },
		{ "!!a", "!a", F, INCL },
		{ "\\!a", "!a", F, EXCL },
		{ "# x\n\n*\n\n!*.py\n# y", "m.py", F, INCL },
		{ "# x\n\n*\n\n!*.py\n# y", "m.pyc", F, EXCL },
	};
	CASES("negation", t);
}

TEST(ignore_which_rule)
{
	struct pm_ruleset rs;
	const struct pm_rule *which = (const struct pm_rule *)&rs; /* not NULL */

	load_str(&rs, "# c\n*.log\n!keep.log\n");
	CHECK_INT(pm_ruleset_match(&rs, "a.log", 5, F, &which), EXCL);
	CHECK(which == &rs.rules[0]);
	CHECK_INT(which->line, 2);
	CHECK_STR(which->text, "*.log");
	CHECK_INT(pm_ruleset_match(&rs, "d/keep.log", 10, F, &which), INCL);
	CHECK(which == &rs.rules[1]);
	CHECK_INT(which->line, 3);
	CHECK_STR(which->text, "!keep.log");
	CHECK_INT(pm_ruleset_match(&rs, "x.py", 4, F, &which), NONE);
	CHECK(which == NULL);
	/* only `len` bytes of the path count */
	CHECK_INT(pm_ruleset_match(&rs, "a.logx", 5, F, &which), EXCL);
	CHECK_INT(pm_ruleset_match(&rs, "a.log/b", 5, F, NULL), EXCL);
	pm_ruleset_free(&rs);
}

TEST(ignore_many_rules)
{
	struct pm_ruleset rs;
	char line[32];

	pm_ruleset_init(&rs, "many");
	for (unsigned i = 0; i < 1000; i++) {
		int n = snprintf(line, sizeof(line), "f%u", i);
		CHECK_INT(pm_ruleset_add(&rs, line, (size_t)n, i + 1), 0);
	}
	CHECK_INT(rs.count, 1000);
	CHECK(rs.cap >= rs.count);
	CHECK_INT(match(&rs, "d/f999", F), EXCL);
	CHECK_INT(match(&rs, "f1000", F), NONE);
	CHECK_STR(rs.rules[500].pattern, "f500");
	CHECK_INT(rs.rules[500].line, 501);
	pm_ruleset_free(&rs);
}

TEST(ignore_defaults_list)
{
	static const char *const want[] = {
		".git/", ".hg/", ".svn/", "__pycache__/", "*.pyc", "*.pyo", ".venv/",
		"venv/", "node_modules/", ".mypy_cache/", ".pytest_cache/", ".ruff_cache/",
		".tox/", "*.swp", "*.swx", "*~", ".#*", "4913", ".DS_Store",
		"*.sqlite3", "*.sqlite3-journal", "*.sqlite3-wal", "*.sqlite3-shm",
		"*.sqlite", "*.sqlite-journal", "*.sqlite-wal", "*.sqlite-shm",
		"*.db", "*.db-journal", "*.db-wal", "*.db-shm",
		"*.log", ".coverage", ".coverage.*", "htmlcov/",
	};
	struct pm_ruleset rs;
	size_t n = 0;

	while (pm_default_ignores[n])
		n++;
	CHECK_INT(n, N_ELEMS(want));
	for (size_t i = 0; i < n; i++)
		CHECK_STR(pm_default_ignores[i], want[i]);

	pm_ruleset_init(&rs, "default");
	CHECK_INT(pm_ruleset_add_defaults(&rs), 0);
	CHECK_INT(rs.count, N_ELEMS(want));
	for (size_t i = 0; i < rs.count; i++) {
		CHECK_INT(rs.rules[i].line, i + 1);
		CHECK_STR(rs.rules[i].text, want[i]);
		CHECK(!rs.rules[i].negate && !rs.rules[i].anchored);
	}
	CHECK(rs.rules[0].dir_only);
	CHECK_STR(rs.rules[0].pattern, ".git");
	CHECK(!rs.rules[4].dir_only);
	pm_ruleset_free(&rs);
}

TEST(ignore_defaults_match)
{
	static const struct {
		const char *path;
		int is_dir, want;
		unsigned line; /* the default that decides, 1-based */
	} t[] = {
		{ ".git", D, EXCL, 1 },
		{ "sub/.git", D, EXCL, 1 },
		{ ".hg", D, EXCL, 2 },
		{ ".svn", D, EXCL, 3 },
		{ "__pycache__", D, EXCL, 4 },
		{ "pkg/sub/__pycache__", D, EXCL, 4 },
		{ "a.pyc", F, EXCL, 5 },
		{ "pkg/__pycache__/m.cpython-311.pyc", F, EXCL, 5 },
		{ "m.pyo", F, EXCL, 6 },
		{ ".venv", D, EXCL, 7 },
		{ "venv", D, EXCL, 8 },
		{ "sub/venv", D, EXCL, 8 },
		{ "node_modules", D, EXCL, 9 },
		{ "web/node_modules", D, EXCL, 9 },
		{ ".mypy_cache", D, EXCL, 10 },
		{ ".pytest_cache", D, EXCL, 11 },
		{ ".ruff_cache", D, EXCL, 12 },
		{ ".tox", D, EXCL, 13 },
		{ ".app.py.swp", F, EXCL, 14 },
		{ "src/.app.py.swp", F, EXCL, 14 },
		{ ".app.py.swx", F, EXCL, 15 },
		{ "app.py~", F, EXCL, 16 },
		{ "src/app.py~", F, EXCL, 16 },
		{ ".#app.py", F, EXCL, 17 },
		{ "4913", F, EXCL, 18 },
		{ "src/4913", F, EXCL, 18 },
		{ ".DS_Store", F, EXCL, 19 },
		{ "a/b/.DS_Store", F, EXCL, 19 },
		/* not ignored */
		{ "src/app.py", F, NONE, 0 },
		{ "app.py", F, NONE, 0 },
		{ "venvs.py", F, NONE, 0 },
		{ "git.py", F, NONE, 0 },
		{ "venv.py", F, NONE, 0 },
		{ "venvs", D, NONE, 0 },
		{ "myvenv", D, NONE, 0 },
		{ ".venv2", D, NONE, 0 },
		{ ".gitignore", F, NONE, 0 },
		{ ".github", D, NONE, 0 },
		{ ".gitmodules", F, NONE, 0 },
		{ "git", D, NONE, 0 },
		{ "hg", D, NONE, 0 },
		{ "node_modules.py", F, NONE, 0 },
		{ "__pycache__.py", F, NONE, 0 },
		{ "pyc", F, NONE, 0 },
		{ "a.pyc.bak", F, NONE, 0 },
		{ "a.py", F, NONE, 0 },
		{ "a.pyw", F, NONE, 0 },
		{ "swp", F, NONE, 0 },
		{ "a.swpx", F, NONE, 0 },
		{ "~app.py", F, NONE, 0 },
		{ "#app.py#", F, NONE, 0 },
		{ "49130", F, NONE, 0 },
		{ "4913.py", F, NONE, 0 },
		{ "DS_Store", F, NONE, 0 },
		{ "tox.ini", F, NONE, 0 },
		{ "tests/test_venv.py", F, NONE, 0 },
		{ "docs/.git.md", F, NONE, 0 },
		/* dir-only defaults leave files of that name alone (a worktree's
		 * ".git" is a file); the caller never descends into ignored dirs */
		{ ".git", F, NONE, 0 },
		{ "venv", F, NONE, 0 },
		{ "node_modules", F, NONE, 0 },
		{ "__pycache__", F, NONE, 0 },
	};
	struct pm_ruleset rs;
	int bad = 0;

	pm_ruleset_init(&rs, "default");
	CHECK_INT(pm_ruleset_add_defaults(&rs), 0);
	for (size_t i = 0; i < N_ELEMS(t); i++) {
		const struct pm_rule *which = NULL;
		int got = pm_ruleset_match(&rs, t[i].path, strlen(t[i].path), t[i].is_dir, &which);
		unsigned line = which ? which->line : 0;
		if (got != t[i].want || line != t[i].line) {
			fprintf(stderr, "    %s \"%s\" -> %d (line %u), expected %d (line %u)\n",
			        t[i].is_dir ? "dir" : "file", t[i].path, got, line, t[i].want,
			        t[i].line);
			bad++;
		}
	}
	pm_ruleset_free(&rs);
	if (bad)
		pm_test_fail(__FILE__, __LINE__, "%d of %zu default cases failed", bad, N_ELEMS(t));
}

TEST(ignore_defaults_then_user_rules)
{
	struct pm_ruleset rs;

	pm_ruleset_init(&rs, "default");
	CHECK_INT(pm_ruleset_add_defaults(&rs), 0);
	CHECK_INT(pm_ruleset_parse(&rs, "!venv/\n*.log\n", 13), 0);
	CHECK_INT(match(&rs, "venv", D), INCL);
	CHECK_INT(match(&rs, ".venv", D), EXCL);
	CHECK_INT(match(&rs, "x.log", F), EXCL);
	CHECK_INT(rs.rules[rs.count - 1].line, 2);
	pm_ruleset_free(&rs);
}

TEST(ignore_pathological_is_fast)
{
	static char path[8193];
	struct pm_ruleset rs;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(path, 'a', sizeof(path) - 1);
	load_str(&rs, "*a*a*a*a*a*a*a*a*a*b\n"
	              "**/*a*a*a*a*a*a*a*a*a*b\n"
	              "a*/**/a*a*a*a*a*b/**\n");
	CHECK_INT(match(&rs, path, F), NONE);
	for (size_t i = 1; i < sizeof(path) - 1; i += 4)
		path[i] = '/';
	CHECK_INT(match(&rs, path, F), NONE);
	pm_ruleset_free(&rs);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (dt > 2.0)
		pm_test_fail(__FILE__, __LINE__, "took %.2f s", dt);
}

/*
 * The compiled matcher (hash keys for literals, "*S" and "P*", globs for
 * the rest) against trying every rule in turn: same answer, same rule,
 * for every path of a list against every rule set made of a window of a
 * pattern list that mixes the kinds, negations and dir-only rules so that
 * a key and a glob, or two keys, match the same path in either order.
 */
TEST(ignore_compiled_matches_each_rule)
{
	static const char *const pats[] = {
		"*.pyc", "!keep.pyc", "build/", "!build", "/site", "docs/_build/", "*.py[cod]",
		"*$py.class", ".#*", "*~", "4913", "!*.log", "*.log", "a/**/b", "**/foo",
		"foo/", "/foo", "*.tar.gz", "!x.tar.gz", "*.gz", "x*", "!xy*", "*", "!*.py",
		"?.py", "a/b", "!/a/b", "dir/*.txt", "\\*.py", "*.", ".", "te st", "*[", "[abc].py",
		"*.sqlite3-journal", ".coverage.*", "!.coverage.keep", "**", "venv/", "!venv/",
	};
	static const char *const paths[] = {
		"a.pyc", "keep.pyc", "d/keep.pyc", "build", "x/build", "site", "x/site", "docs/_build",
		"docs/_build/x", "m$py.class", ".#m.py", "m.py~", "4913", "d/4913", "app.log", "foo",
		"a/foo", "a/x/b", "a/b", "x.tar.gz", "y.tar.gz", "y.gz", "x", "xy", "xyz", "m.py",
		"a.py", "dir/n.txt", "dir/sub/n.txt", "*.py", "m.", ".", "te st", "b.py", "db.sqlite3-journal",
		".coverage.keep", ".coverage.1", "venv", "src/venv", "", "a/", "/", "*[",
	};
	const size_t np = N_ELEMS(pats);
	int bad = 0;

	for (size_t first = 0; first < np; first++) {
		for (size_t len = 1; first + len <= np; len += 3) {
			struct pm_ruleset rs;
			pm_ruleset_init(&rs, "window");
			for (size_t i = first; i < first + len; i++)
				CHECK_INT(pm_ruleset_add(&rs, pats[i], strlen(pats[i]), (unsigned)(i + 1)), 0);
			for (size_t k = 0; k < N_ELEMS(paths); k++) {
				for (int d = 0; d < 2; d++) {
					const struct pm_rule *w1 = NULL, *w2 = NULL;
					size_t pl = strlen(paths[k]);
					int a = pm_ruleset_match(&rs, paths[k], pl, d, &w1);
					int b = pm_ruleset_match_each(&rs, paths[k], pl, d, &w2);
					if (a != b || w1 != w2) {
						if (bad++ < 10)
							fprintf(stderr, "  rules %zu..%zu, path '%s' dir %d: compiled %d (%s), each %d (%s)\n",
							        first, first + len - 1, paths[k], d, a, w1 ? w1->text : "-", b,
							        w2 ? w2->text : "-");
					}
				}
			}
			pm_ruleset_free(&rs);
		}
	}
	CHECK_INT(bad, 0);
}

/* Which kind of key a rule became shows in what it costs, not in what it
 * answers; the answers for the defaults, named. */
TEST(ignore_compiled_defaults_name_their_rule)
{
	struct pm_ruleset rs;
	const struct pm_rule *which = NULL;

	pm_ruleset_init(&rs, "default");
	CHECK_INT(pm_ruleset_add_defaults(&rs), 0);
	CHECK_INT(pm_ruleset_parse(&rs, "!keep.log\n/site\nbuild/\n", 23), 0);
	CHECK_INT(pm_ruleset_match(&rs, "x/app.log", 9, F, &which), EXCL);
	CHECK_STR(which->text, "*.log");
	CHECK_INT(pm_ruleset_match(&rs, "x/keep.log", 10, F, &which), INCL);
	CHECK_STR(which->text, "!keep.log");
	CHECK_INT(pm_ruleset_match(&rs, "site", 4, F, &which), EXCL);
	CHECK_STR(which->text, "/site");
	CHECK_INT(pm_ruleset_match(&rs, "x/site", 6, F, &which), NONE);
	CHECK_INT(pm_ruleset_match(&rs, "build", 5, F, &which), NONE);
	CHECK_INT(pm_ruleset_match(&rs, "x/build", 7, 1, &which), EXCL);
	CHECK_STR(which->text, "build/");
	CHECK_INT(pm_ruleset_match(&rs, ".#views.py", 10, F, &which), EXCL);
	CHECK_STR(which->text, ".#*");
	CHECK_INT(pm_ruleset_match(&rs, "db.sqlite3-wal", 14, F, &which), EXCL);
	CHECK_STR(which->text, "*.sqlite3-wal");
	CHECK_INT(pm_ruleset_match(&rs, "views.py", 8, F, &which), NONE);
	CHECK(which == NULL);
	pm_ruleset_free(&rs);
}
