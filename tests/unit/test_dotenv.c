/* src/cli/dotenv.c: the .env syntax of --env-file, and its errors with
 * line numbers. */
#include "harness.h"

#include "cli/dotenv.h"

#include <errno.h>

struct got {
	char text[1024];
};

static int collect(const char *key, const char *value, unsigned line, void *ud)
{
	struct got *g = ud;
	size_t n = strlen(g->text);
	snprintf(g->text + n, sizeof g->text - n, "%u:%s=[%s];", line, key, value);
	return 0;
}

static const char *parse(const char *src, struct got *g)
{
	char err[200];
	unsigned line = 0;
	g->text[0] = '\0';
	int r = cli_dotenv_parse(src, strlen(src), collect, g, &line, err, sizeof err);
	if (r < 0)
		snprintf(g->text, sizeof g->text, "error %u: %s", line, err);
	return g->text;
}

TEST(dotenv_values)
{
	struct got g;
	CHECK_STR(parse("A=1\nB = two words  \n", &g), "1:A=[1];2:B=[two words];");
	CHECK_STR(parse("# c\n\n  export  KEY=v # note\nX=a#b\n", &g), "3:KEY=[v];4:X=[a#b];");
	CHECK_STR(parse("S='lit $x \\n \"'\n", &g), "1:S=[lit $x \\n \"];");
	CHECK_STR(parse("D=\"a\\nb\\t\\\"q\\\" \\$x \\\\ \\z\" # c\n", &g), "1:D=[a\nb\t\"q\" $x \\ \\z];");
	CHECK_STR(parse("M=\"line1\nline2\"\nN=3\n", &g), "1:M=[line1\nline2];3:N=[3];");
	CHECK_STR(parse("E=\nF=''\r\nG=x\r\n", &g), "1:E=[];2:F=[];3:G=[x];");
	CHECK_STR(parse("export=1\n", &g), "1:export=[1];");
	CHECK_STR(parse("", &g), "");
	CHECK_STR(parse("LAST=no newline", &g), "1:LAST=[no newline];");
}

TEST(dotenv_errors)
{
	struct got g;
	CHECK_STR(parse("A=1\nB\n", &g), "error 2: expected '=' after B");
	CHECK_STR(parse("\n1A=x\n", &g), "error 2: expected a name (letters, digits, _), found '1'");
	CHECK_STR(parse("A=1\nQ=\"open\n\n", &g), "error 2: unterminated double-quoted value of Q");
	CHECK_STR(parse("Q='x' y\n", &g), "error 1: unexpected 'y' after the value of Q");
	CHECK_STR(parse("-x=1\n", &g), "error 1: expected a name (letters, digits, _), found '-'");
	char nul[] = "A=1\nB=x\0y\n";
	char err[100];
	unsigned line = 0;
	CHECK_INT(cli_dotenv_parse(nul, sizeof nul - 1, collect, &g, &line, err, sizeof err), -EINVAL);
	CHECK_INT(line, 2);
}

static int stop(const char *key, const char *value, unsigned line, void *ud)
{
	(void)key, (void)value, (void)line, (void)ud;
	return -42;
}

TEST(dotenv_callback_stops)
{
	char err[10];
	unsigned line = 0;
	CHECK_INT(cli_dotenv_parse("A=1\nB=2\n", 8, stop, NULL, &line, err, sizeof err), -42);
}
