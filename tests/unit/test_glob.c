/* pm_glob_match: git wildmatch with WM_PATHNAME, table-driven. */
#include "harness.h"

#include "filter/glob.h"

#include <time.h>

struct glob_case {
	const char *pat, *str;
	int want;
};

static int glob(const char *pat, const char *str)
{
	return pm_glob_match(pat, strlen(pat), str, strlen(str));
}

/* Runs every case, prints each failure, then fails the test once. */
static void check_cases(const char *group, const struct glob_case *c, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		int got = glob(c[i].pat, c[i].str);
		if (got != c[i].want) {
			fprintf(stderr, "    %s: glob(\"%s\", \"%s\") == %d, expected %d\n", group,
			        c[i].pat, c[i].str, got, c[i].want);
			bad++;
		}
	}
	if (bad)
		pm_test_fail(__FILE__, __LINE__, "%s: %d of %zu cases failed", group, bad, n);
}

#define CASES(group, table) check_cases(group, table, sizeof(table) / sizeof(table[0]))

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(glob_literal)
{
	static const struct glob_case t[] = {
		{ "foo", "foo", 1 },
		{ "foo", "bar", 0 },
		{ "foo", "foobar", 0 },
		{ "foobar", "foo", 0 },
		{ "", "", 1 },
		{ "", "a", 0 },
		{ "a", "", 0 },
		{ "a/b", "a/b", 1 },
		{ "a/b", "a/c", 0 },
		{ "Foo", "foo", 0 }, /* case-sensitive */
		{ "caf\xc3\xa9.py", "caf\xc3\xa9.py", 1 },
	};
	CASES("literal", t);
}

TEST(glob_star)
{
	static const struct glob_case t[] = {
		{ "*", "foo", 1 },
		{ "*", "", 1 },
		{ "*", "foo/bar", 0 }, /* '*' never crosses '/' */
		{ "*", "/", 0 },
		{ "f*", "foo", 1 },
		{ "*o", "foo", 1 },
		{ "*o", "fox", 0 },
		{ "*.py", "app.py", 1 },
		{ "*.py", "src/app.py", 0 },
		{ "*.py", ".py", 1 },
		{ "*.py", "app.pyc", 0 },
		{ "a*b*c", "aXbYc", 1 },
		{ "a*b*c", "abc", 1 },
		{ "a*b*c", "acb", 0 },
		{ "a*b*c", "abcbc", 1 },
		{ "*foo*", "xfooy", 1 },
		{ "*foo*", "fo", 0 },
		{ "*a", "aaa", 1 },
		{ "a*a", "a", 0 },
		{ "a*/b", "ax/b", 1 },
		{ "a*/b", "a/b", 1 },
		{ "a*/b", "ax/y/b", 0 },
		{ "*/b", "a/b", 1 },
		{ "*/b", "b", 0 },
		{ "*/b", "/b", 1 },
		{ "foo*", "foo/bar", 0 },
		{ "*/*", "a/b", 1 },
		{ "*/*", "a/b/c", 0 },
		{ "a/*", "a/b", 1 },
		{ "a/*", "a/b/c", 0 },
		{ "a/*/c", "a/b/c", 1 },
		{ "a/*/c", "a/b/x/c", 0 },
		{ "*x*y", "x/y", 0 },
		{ "*.tar.gz", "a.tar.gz", 1 },
		{ "*.tar.gz", "a.tar.gz.tar.gz", 1 },
		{ "*.tar.gz", "a.tar.g", 0 },
	};
	CASES("star", t);
}

TEST(glob_question)
{
	static const struct glob_case t[] = {
		{ "?", "a", 1 },
		{ "?", "", 0 },
		{ "?", "ab", 0 },
		{ "?", "/", 0 },
		{ "a?c", "abc", 1 },
		{ "a?c", "a/c", 0 },
		{ "??", "ab", 1 },
		{ "???", "ab", 0 },
		{ "*?", "", 0 },
		{ "*?", "a", 1 },
		{ "?*?", "ab", 1 },
		{ "?*?", "a", 0 },
		{ "?", "\xc3\xa9", 0 }, /* one byte, not one character */
		{ "??", "\xc3\xa9", 1 },
	};
	CASES("question", t);
}

TEST(glob_class)
{
	static const struct glob_case t[] = {
		{ "[abc]", "b", 1 },
		{ "[abc]", "d", 0 },
		{ "[abc]", "", 0 },
		{ "[abc]", "ab", 0 },
		{ "[a-c]", "a", 1 },
		{ "[a-c]", "c", 1 },
		{ "[a-c]", "d", 0 },
		{ "[a-cx-z]", "y", 1 },
		{ "[A-Z]", "b", 0 },
		{ "[z-a]", "m", 0 }, /* empty range */
		{ "[!a-c]", "d", 1 },
		{ "[!a-c]", "b", 0 },
		{ "[^a-c]", "d", 1 },
		{ "[^a-c]", "a", 0 },
		{ "[!]", "!", 0 }, /* unterminated: "[!]" then nothing */
		/* ']' first is a member */
		{ "[]]", "]", 1 },
		{ "[]a]", "a", 1 },
		{ "[]a]", "]", 1 },
		{ "[]a]", "b", 0 },
		{ "[!]]", "]", 0 },
		{ "[!]]", "a", 1 },
		{ "[^]]", "]", 0 },
		{ "[]-a]", "^", 1 }, /* range ']'..'a' */
		{ "[]-a]", "b", 0 },
		/* '-' first or last is literal */
		{ "[a-]", "-", 1 },
		{ "[-a]", "-", 1 },
		{ "[-a]", "b", 0 },
		{ "[a-c-e]", "-", 1 },
		{ "[a-c-e]", "e", 1 },
		{ "[a-c-e]", "d", 0 },
		/* escapes inside a class */
		{ "[\\]]", "]", 1 },
		{ "[a\\]]", "]", 1 },
		{ "[\\-]", "-", 1 },
		{ "[\\w]", "w", 1 },
		{ "[\\!a]", "!", 1 },
		{ "[a-\\z]", "m", 1 },
		{ "[\\", "\\", 0 },
		/* '[' inside a class */
		{ "[[]", "[", 1 },
		{ "[[:]", "[", 1 },
		{ "[[:]", ":", 1 },
		{ "[[:a]", "a", 1 },
		/* named classes */
		{ "[[:alpha:]]", "x", 1 },
		{ "[[:alpha:]]", "X", 1 },
		{ "[[:alpha:]]", "1", 0 },
		{ "[[:alpha:]]", "\xc3", 0 }, /* ASCII only */
		{ "[[:digit:]]", "7", 1 },
		{ "[[:digit:]]", "a", 0 },
		{ "[[:alnum:]]", "z", 1 },
		{ "[[:alnum:]]", "5", 1 },
		{ "[[:alnum:]]", "_", 0 },
		{ "[[:upper:]]", "Q", 1 },
		{ "[[:upper:]]", "q", 0 },
		{ "[[:lower:]]", "q", 1 },
		{ "[[:lower:]]", "Q", 0 },
		{ "[[:space:]]", " ", 1 },
		{ "[[:space:]]", "\t", 1 },
		{ "[[:space:]]", "x", 0 },
		{ "[[:blank:]]", "\t", 1 },
		{ "[[:blank:]]", "\n", 0 },
		{ "[[:xdigit:]]", "F", 1 },
		{ "[[:xdigit:]]", "9", 1 },
		{ "[[:xdigit:]]", "g", 0 },
		{ "[[:punct:]]", "!", 1 },
		{ "[[:punct:]]", "a", 0 },
		{ "[[:cntrl:]]", "\x01", 1 },
		{ "[[:cntrl:]]", " ", 0 },
		{ "[[:print:]]", " ", 1 },
		{ "[[:graph:]]", " ", 0 },
		{ "[[:graph:]]", "~", 1 },
		{ "[[:digit:][:upper:]]", "Q", 1 },
		{ "[[:digit:][:upper:]]", "4", 1 },
		{ "[[:digit:][:upper:]]", "q", 0 },
		{ "[![:alpha:]]", "1", 1 },
		{ "[![:alpha:]]", "a", 0 },
		{ "[[:digit:]-z]", "-", 1 }, /* no range after a named class */
		{ "[a[:digit:]b]", "b", 1 },
		/* malformed: the whole pattern never matches */
		{ "[[:nosuch:]]", "a", 0 },
		{ "[[::]]", ":", 0 },
		{ "[[:alpha:]", "a", 0 },
		{ "[a", "a", 0 },
		{ "[a", "[a", 0 },
		{ "[", "[", 0 },
		{ "a[", "a[", 0 },
		{ "*[", "x[", 0 },
		/* a class never matches '/' */
		{ "[/]", "/", 0 },
		{ "[!a]", "/", 0 },
		{ "[^a]", "/", 0 },
		{ "a[/]b", "a/b", 0 },
		{ "a[!x]b", "a/b", 0 },
		{ "[.-0]", "/", 0 }, /* '/' is inside the range */
		{ "[.-0]", "0", 1 },
		/* bytes compare unsigned */
		{ "[\x80-\xff]", "\xc3", 1 },
		{ "[\x01-\x7f]", "\xc3", 0 },
		{ "x[ab]y*", "xby.py", 1 },
		{ "*[0-9].log", "app7.log", 1 },
		{ "*[0-9].log", "app.log", 0 },
	};
	CASES("class", t);
}

TEST(glob_escape)
{
	static const struct glob_case t[] = {
		{ "\\*", "*", 1 },
		{ "\\*", "a", 0 },
		{ "\\*", "", 0 },
		{ "a\\*b", "a*b", 1 },
		{ "a\\*b", "axb", 0 },
		{ "\\?", "?", 1 },
		{ "\\?", "a", 0 },
		{ "\\[ab]", "[ab]", 1 },
		{ "\\[ab]", "a", 0 },
		{ "\\#foo", "#foo", 1 },
		{ "\\!foo", "!foo", 1 },
		{ "foo\\ ", "foo ", 1 },
		{ "foo\\ ", "foo", 0 },
		{ "\\a", "a", 1 },
		{ "\\\\", "\\", 1 },
		{ "\\/", "/", 1 },
		{ "a\\/b", "a/b", 1 },
		{ "\\**", "*x", 1 },
		{ "\\**", "x", 0 },
		{ "*\\*", "abc*", 1 },
		/* a trailing lone backslash never matches */
		{ "a\\", "a", 0 },
		{ "a\\", "a\\", 0 },
		{ "\\", "\\", 0 },
		{ "\\", "", 0 },
	};
	CASES("escape", t);
}

TEST(glob_doublestar)
{
	static const struct glob_case t[] = {
		{ "**", "", 1 },
		{ "**", "a", 1 },
		{ "**", "a/b/c", 1 },
		{ "***", "a/b/c", 1 },
		/* leading */
		{ "**/foo", "foo", 1 },
		{ "**/foo", "a/foo", 1 },
		{ "**/foo", "a/b/foo", 1 },
		{ "**/foo", "afoo", 0 },
		{ "**/foo", "a/xfoo", 0 },
		{ "**/foo", "a/foo/b", 0 },
		{ "**/foo", "foo/foo", 1 },
		{ "**/foo/bar", "foo/bar", 1 },
		{ "**/foo/bar", "x/y/foo/bar", 1 },
		{ "**/foo/bar", "x/foo/baz", 0 },
		{ "**/*.py", "a.py", 1 },
		{ "**/*.py", "a/b/c.py", 1 },
		{ "**/*.py", "a/b/c.pyc", 0 },
		/* trailing: everything inside, not the directory itself */
		{ "abc/**", "abc/x", 1 },
		{ "abc/**", "abc/x/y", 1 },
		{ "abc/**", "abc", 0 },
		{ "abc/**", "abcd/x", 0 },
		{ "abc/**", "x/abc/y", 0 },
		{ "a/b/**", "a/b/c/d", 1 },
		{ "a/b/**", "a/c/d", 0 },
		/* middle: zero or more components */
		{ "a/**/b", "a/b", 1 },
		{ "a/**/b", "a/x/b", 1 },
		{ "a/**/b", "a/x/y/b", 1 },
		{ "a/**/b", "a/x/y/z/b", 1 },
		{ "a/**/b", "a/b/x/b", 1 },
		{ "a/**/b", "a/xb", 0 },
		{ "a/**/b", "ab", 0 },
		{ "a/**/b", "a/x/b/c", 0 },
		{ "a/**/b", "x/a/b", 0 },
		{ "a/**/b", "a/bx", 0 },
		{ "a/**/b", "a/x/yb", 0 },
		{ "a/**/b/**/c", "a/b/c", 1 },
		{ "a/**/b/**/c", "a/x/b/y/z/c", 1 },
		{ "a/**/b/**/c", "a/x/b/y/z/d", 0 },
		{ "a/**/**/b", "a/b", 1 },
		{ "a/**/**/b", "a/x/y/b", 1 },
		{ "**/**/a", "a", 1 },
		{ "**/**/a", "x/y/a", 1 },
		{ "a/**/*.py", "a/x.py", 1 },
		{ "a/**/*.py", "a/b/c/x.py", 1 },
		{ "a/**/*.py", "a/b/c/x.txt", 0 },
		{ "a/**/x*z/q", "a/b/xyz/q", 1 },
		{ "a/**/x*z/q", "a/b/xyz/r/xz/q", 1 },
		{ "a/**/x*z/q", "a/b/xy/q", 0 },
		{ "**/a/**", "x/a/y", 1 },
		{ "**/a/**", "a/y", 1 },
		{ "**/a/**", "x/a", 0 },
		/* "**" not a whole component acts like '*' */
		{ "a**", "abc", 1 },
		{ "a**", "a/b", 0 },
		{ "**a", "xa", 1 },
		{ "**a", "x/a", 0 },
		{ "a/**b", "a/xb", 1 },
		{ "a/**b", "a/x/b", 0 },
		{ "a**/b", "ax/b", 1 },
		{ "a**/b", "ax/y/b", 0 },
		{ "x**y", "x/y", 0 },
		{ "***/foo", "a/b/foo", 1 }, /* a run of stars is "**" */
		/* "**" followed by an escaped slash: as git, no zero-component match */
		{ "a/**\\/b", "a/x/b", 1 },
		{ "a/**\\/b", "a/b", 0 },
	};
	CASES("doublestar", t);
}

/* Cases from git's t3070-wildmatch.sh, pathname column. */
TEST(glob_git_suite)
{
	static const struct glob_case t[] = {
		{ "foo", "foo", 1 },
		{ "bar", "foo", 0 },
		{ "???", "foo", 1 },
		{ "??", "foo", 0 },
		{ "f*", "foo", 1 },
		{ "*f", "foo", 0 },
		{ "*foo*", "foo", 1 },
		{ "*ob*a*r*", "foobar", 1 },
		{ "*ab", "aaaaaaabababab", 1 },
		{ "foo\\*", "foo*", 1 },
		{ "foo\\*bar", "foobar", 0 },
		{ "f\\\\oo", "f\\oo", 1 },
		{ "*[al]?", "ball", 1 },
		{ "[ten]", "ten", 0 },
		{ "**[!te]", "ten", 1 },
		{ "**[!ten]", "ten", 0 },
		{ "t[a-g]n", "ten", 1 },
		{ "t[!a-g]n", "ten", 0 },
		{ "t[!a-g]n", "ton", 1 },
		{ "t[^a-g]n", "ton", 1 },
		{ "a[]]b", "a]b", 1 },
		{ "a[]-]b", "a-b", 1 },
		{ "a[]-]b", "a]b", 1 },
		{ "a[]-]b", "aab", 0 },
		{ "a[]a-]b", "aab", 1 },
		{ "]", "]", 1 },
		{ "foo*bar", "foo/baz/bar", 0 },
		{ "foo**bar", "foo/baz/bar", 0 },
		{ "foo**bar", "foobazbar", 1 },
		{ "foo/**/bar", "foo/baz/bar", 1 },
		{ "foo/**/**/bar", "foo/baz/bar", 1 },
		{ "foo/**/bar", "foo/b/a/z/bar", 1 },
		{ "foo/**/**/bar", "foo/b/a/z/bar", 1 },
		{ "foo/**/bar", "foo/bar", 1 },
		{ "foo/**/**/bar", "foo/bar", 1 },
		{ "foo?bar", "foo/bar", 0 },
		{ "foo[/]bar", "foo/bar", 0 },
		{ "foo[^a-z]bar", "foo/bar", 0 },
		{ "f[^eiu][^eiu][^eiu][^eiu][^eiu]r", "foo/bar", 0 },
		{ "f[^eiu][^eiu][^eiu][^eiu][^eiu]r", "foo-bar", 1 },
		{ "**/foo", "foo", 1 },
		{ "**/foo", "XXX/foo", 1 },
		{ "**/foo", "bar/baz/foo", 1 },
		{ "*/foo", "bar/baz/foo", 0 },
		{ "**/bar*", "foo/bar/baz", 0 },
		{ "**/bar/*", "deep/foo/bar/baz", 1 },
		{ "**/bar/*", "deep/foo/bar/baz/", 0 },
		{ "**/bar/**", "deep/foo/bar/baz/", 1 },
		{ "**/bar/*", "deep/foo/bar", 0 },
		{ "**/bar/**", "deep/foo/bar/", 1 },
		{ "**/bar**", "foo/bar/baz", 0 },
		{ "*/bar/**", "foo/bar/baz/x", 1 },
		{ "*/bar/**", "deep/foo/bar/baz/x", 0 },
		{ "**/bar/*/*", "deep/foo/bar/baz/x", 1 },
		{ "a[c-c]st", "acrt", 0 },
		{ "a[c-c]rt", "acrt", 1 },
		{ "[!]-]", "]", 0 },
		{ "[!]-]", "a", 1 },
		{ "\\", "", 0 },
		{ "*/\\", "/\\", 0 },
		{ "*/\\\\", "/\\", 1 },
		{ "foo", "foo", 1 },
		{ "@foo", "@foo", 1 },
		{ "@foo", "foo", 0 },
		{ "\\[ab]", "[ab]", 1 },
		{ "[[]ab]", "[ab]", 1 },
		{ "[[:]ab]", "[ab]", 1 },
		{ "[[::]ab]", "[ab]", 0 },
		{ "[[:digit]ab]", "[ab]", 1 },
		{ "[\\[:]ab]", "[ab]", 1 },
		{ "\\??\\?b", "?a?b", 1 },
		{ "\\a\\b\\c", "abc", 1 },
		{ "", "foo", 0 },
		{ "**/t[o]", "foo/bar/baz/to", 1 },
		{ "[[:alpha:]][[:digit:]][[:upper:]]", "a1B", 1 },
		{ "[[:digit:][:upper:][:space:]]", "a", 0 },
		{ "[[:digit:][:upper:][:space:]]", "A", 1 },
		{ "[[:digit:][:upper:][:space:]]", "1", 1 },
		{ "[[:digit:][:upper:][:spaci:]]", "1", 0 },
		{ "[[:digit:][:upper:][:space:]]", " ", 1 },
		{ "[[:digit:][:upper:][:space:]]", ".", 0 },
		{ "[[:digit:][:punct:][:space:]]", ".", 1 },
		{ "[[:xdigit:]]", "5", 1 },
		{ "[[:xdigit:]]", "f", 1 },
		{ "[[:xdigit:]]", "D", 1 },
		{ "[a-c[:digit:]x-z]", "5", 1 },
		{ "[a-c[:digit:]x-z]", "b", 1 },
		{ "[a-c[:digit:]x-z]", "y", 1 },
		{ "[a-c[:digit:]x-z]", "q", 0 },
		{ "[\\\\-^]", "]", 1 },
		{ "[\\\\-^]", "[", 0 },
		{ "[\\-_]", "-", 1 },
		{ "[\\]]", "]", 1 },
		{ "[\\]]", "\\]", 0 },
		{ "[\\]]", "\\", 0 },
		{ "a[]b", "ab", 0 },
		{ "a[]b", "a[]b", 0 },
		{ "ab[", "ab[", 0 },
		{ "[!", "ab", 0 },
		{ "[-", "ab", 0 },
		{ "[-]", "-", 1 },
		{ "[a-", "-", 0 },
		{ "[!a-", "-", 0 },
		{ "[--A]", "-", 1 },
		{ "[--A]", "5", 1 },
		{ "[ --]", " ", 1 },
		{ "[ --]", "$", 1 },
		{ "[ --]", "-", 1 },
		{ "[ --]", "0", 0 },
		{ "[---]", "-", 1 },
		{ "[------]", "-", 1 },
		{ "[a-e-n]", "j", 0 },
		{ "[a-e-n]", "-", 1 },
		{ "[!------]", "a", 1 },
		{ "[]-a]", "[", 0 },
		{ "[]-a]", "^", 1 },
		{ "[!]-a]", "^", 0 },
		{ "[!]-a]", "[", 1 },
		{ "[a^bc]", "^", 1 },
		{ "[a-]b]", "-b]", 1 },
		{ "[\\]", "\\", 0 },
		{ "[\\\\]", "\\", 1 },
		{ "[!\\\\]", "\\", 0 },
		{ "[A-\\\\]", "G", 1 },
		{ "b*a", "aaabbb", 0 },
		{ "*ba*", "aabcaa", 0 },
		{ "[,]", ",", 1 },
		{ "[\\\\,]", ",", 1 },
		{ "[\\\\,]", "\\", 1 },
		{ "[,-.]", "-", 1 },
		{ "[,-.]", "+", 0 },
		{ "[,-.]", "-.]", 0 },
		{ "[\\1-\\3]", "2", 1 },
		{ "[\\1-\\3]", "3", 1 },
		{ "[\\1-\\3]", "4", 0 },
		{ "[[-\\]]", "\\", 1 },
		{ "[[-\\]]", "[", 1 },
		{ "[[-\\]]", "]", 1 },
		{ "[[-\\]]", "-", 0 },
		{ "-*-*-*-*-*-*-12-*-*-*-m-*-*-*",
		  "-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1", 1 },
		{ "-*-*-*-*-*-*-12-*-*-*-m-*-*-*",
		  "-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1", 0 },
		{ "-*-*-*-*-*-*-12-*-*-*-m-*-*-*",
		  "-adobe-courier-bold-o-normal--12-120-75-75-/-70-iso8859-1", 0 },
		{ "XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*",
		  "XXX/adobe/courier/bold/o/normal//12/120/75/75/m/70/iso8859/1", 1 },
		{ "XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*",
		  "XXX/adobe/courier/bold/o/normal//12/120/75/75/X/70/iso8859/1", 0 },
		{ "**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt", 1 },
		{ "**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz", 0 },
		{ "*/*/*", "foo", 0 },
		{ "*/*/*", "foo/bar", 0 },
		{ "*/*/*", "foo/bba/arr", 1 },
		{ "*/*/*", "foo/bb/aa/rr", 0 },
		{ "**/**/**", "foo/bb/aa/rr", 1 },
		{ "*X*i", "abcXdefXghi", 1 },
		{ "*X*i", "ab/cXd/efXg/hi", 0 },
		{ "*/*X*/*/*i", "ab/cXd/efXg/hi", 1 },
		{ "**/*X*/**/*i", "ab/cXd/efXg/hi", 1 },
	};
	CASES("git", t);
}

TEST(glob_explicit_lengths)
{
	/* Neither side needs a NUL; only the given bytes count. */
	CHECK_INT(pm_glob_match("foobar", 3, "foo", 3), 1);
	CHECK_INT(pm_glob_match("foo", 3, "foobar", 3), 1);
	CHECK_INT(pm_glob_match("foo", 3, "foobar", 4), 0);
	CHECK_INT(pm_glob_match("*.py", 4, "a.pyc", 4), 1);
	CHECK_INT(pm_glob_match("*", 1, "ab/c", 2), 1);
	CHECK_INT(pm_glob_match("*", 1, "ab/c", 3), 0);
	CHECK_INT(pm_glob_match("[ab]", 2, "a", 1), 0); /* class cut short */
	CHECK_INT(pm_glob_match("a\\b", 2, "a\\", 2), 0); /* escape cut short */
	CHECK_INT(pm_glob_match(NULL, 0, NULL, 0), 1);
	CHECK_INT(pm_glob_match("*", 1, NULL, 0), 1);
	CHECK_INT(pm_glob_match("**/a", 4, NULL, 0), 0);
	CHECK_INT(pm_glob_match(NULL, 0, "a", 1), 0);
	/* embedded NUL bytes are ordinary characters */
	CHECK_INT(pm_glob_match("a\0b", 3, "a\0b", 3), 1);
	CHECK_INT(pm_glob_match("a?b", 3, "a\0b", 3), 1);
	CHECK_INT(pm_glob_match("a*", 2, "a\0\0", 3), 1);
	CHECK_INT(pm_glob_match("a\0b", 3, "a", 1), 0);
}

TEST(glob_pathological_is_fast)
{
	static char str[20001];
	static char deep[20000]; /* "a/a/.../a", 19999 bytes */
	double t0 = now();

	memset(str, 'a', sizeof(str) - 1);
	CHECK_INT(glob("*a*a*a*a*a*a*a*a*a*b", str), 0);
	CHECK_INT(glob("*a*a*a*a*a*a*a*a*a*a", str), 1);
	CHECK_INT(glob("**/*a*a*a*a*a*a*a*a*a*b", str), 0);
	CHECK_INT(glob("*?*?*?*?*?*?*?*?*?*?*b", str), 0);
	CHECK_INT(glob("a*[ab]*[ab]*[ab]*[ab]*[ab]*[ab]*c", str), 0);

	/* many short components: "a/a/a/.../a" */
	for (size_t i = 0; i < sizeof(deep) - 1; i++)
		deep[i] = i % 2 ? '/' : 'a';
	CHECK_INT(glob("**/a/**/a/**/a/**/a/**/b", deep), 0);
	CHECK_INT(glob("**/**/**/**/**/**/**/**/b", deep), 0);
	CHECK_INT(glob("**/*a*a*a*a*a*a*a*b/**", deep), 0);
	CHECK_INT(glob("a/**/a/**/a/**/a/**/a", deep), 1);
	CHECK_INT(glob("**/a/**/a/**/a/**/a/a", deep), 1);

	double dt = now() - t0;
	if (dt > 2.0)
		pm_test_fail(__FILE__, __LINE__, "took %.2f s", dt);
}

static int in_set(const uint64_t set[4], unsigned char c)
{
	return (set[c >> 6] >> (c & 63)) & 1;
}

static size_t set_size(const uint64_t set[4])
{
	size_t n = 0;
	for (unsigned c = 0; c < 256; c++)
		n += (size_t)in_set(set, (unsigned char)c);
	return n;
}

TEST(glob_last_bytes)
{
	uint64_t set[4];

	CHECK_INT(pm_glob_last_bytes("*.py[cod]", 9, set), 1);
	CHECK_INT(set_size(set), 3);
	CHECK(in_set(set, 'c') && in_set(set, 'o') && in_set(set, 'd'));
	CHECK_INT(pm_glob_last_bytes("*.log", 5, set), 1);
	CHECK_INT(set_size(set), 1);
	CHECK(in_set(set, 'g'));
	CHECK_INT(pm_glob_last_bytes("a\\*", 3, set), 1); /* an escaped star is a byte */
	CHECK(in_set(set, '*') && set_size(set) == 1);
	CHECK_INT(pm_glob_last_bytes("x?", 2, set), 1); /* '?': anything but '/' */
	CHECK_INT(set_size(set), 255);
	CHECK(!in_set(set, '/'));
	CHECK_INT(pm_glob_last_bytes("[!a]", 4, set), 1);
	CHECK_INT(set_size(set), 254);
	CHECK(!in_set(set, 'a') && !in_set(set, '/'));
	CHECK_INT(pm_glob_last_bytes("x[[:digit:]]", 12, set), 1);
	CHECK_INT(set_size(set), 10);
	/* no claim: a star at the end, or a '/' a "**" may match as nothing */
	CHECK_INT(pm_glob_last_bytes("a*", 2, set), 0);
	CHECK_INT(pm_glob_last_bytes("a/**", 4, set), 0);
	CHECK_INT(pm_glob_last_bytes("**/", 3, set), 0);
	CHECK_INT(glob("**/", ""), 1);
	CHECK_INT(pm_glob_last_bytes("", 0, set), 0);
	/* never matching: an empty set */
	CHECK_INT(pm_glob_last_bytes("a[b", 3, set), 1);
	CHECK_INT(set_size(set), 0);
	CHECK_INT(pm_glob_last_bytes("a\\", 2, set), 1);
	CHECK_INT(set_size(set), 0);
}
