/* src/cli/text.c: the command line's one UTF-8 decoder, terminal escaping,
 * JSON strings and the edit distance behind "did you mean". */
#include "harness.h"

#include "cli/text.h"

#include <stdint.h>

TEST(text_utf8_decode)
{
	unsigned cp = 0;
	CHECK_INT(cli_utf8_decode((const unsigned char *)"a", 1, &cp), 1);
	CHECK_INT(cp, 'a');
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
	CHECK_INT(cp, 0xe9);
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xe2\x82\xac", 3, &cp), 3);
	CHECK_INT(cp, 0x20ac);
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
	CHECK_INT(cp, 0x1f600);
	/* truncated by n, by a NUL, or by a non-continuation byte */
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xe2\x82\xac", 2, &cp), 0);
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xe2\x82", SIZE_MAX, &cp), 0);
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xe2\x41\xac", SIZE_MAX, &cp), 0);
	/* overlong, surrogate, above U+10FFFF, stray continuation, bad lead */
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xc0\xaf", 2, &cp), 0);
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xe0\x80\xaf", 3, &cp), 0);
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xf0\x80\x80\xaf", 4, &cp), 0);
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp), 0);
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 0);
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\x80", 1, &cp), 0);
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xff", 1, &cp), 0);
	CHECK_INT(cli_utf8_decode((const unsigned char *)"x", 0, &cp), 0);
	CHECK_INT(cli_utf8_decode((const unsigned char *)"\xf4\x8f\xbf\xbf", 4, NULL), 4);
}

TEST(text_escape)
{
	char buf[64];
	CHECK_INT(cli_escape(buf, sizeof buf, "plain/caf\xc3\xa9.py"), 14);
	CHECK_STR(buf, "plain/caf\xc3\xa9.py");
	cli_escape(buf, sizeof buf, "a\x1b[2Jb\nc\\d\x7f\t\r");
	CHECK_STR(buf, "a\\x1b[2Jb\\nc\\\\d\\x7f\\t\\r");
	cli_escape(buf, sizeof buf, "bad\xff\xc3");
	CHECK_STR(buf, "bad\\xff\\xc3");
	cli_escape(buf, sizeof buf, "rl\xe2\x80\xaeo \xc2\x9b");
	CHECK_STR(buf, "rl\\u202eo \\u009b");
	/* never cuts an escape or a character in half */
	char small[6];
	cli_escape(small, sizeof small, "ab\x1b");
	CHECK_STR(small, "ab");
	cli_escape(small, sizeof small, "abcd\xc3\xa9");
	CHECK_STR(small, "abcd");
	CHECK_INT(cli_escape(buf, 0, "x"), 0);
}

static const char *json(const char *s, char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");
	cli_json_string(f, s);
	fclose(f);
	return buf;
}

TEST(text_json_string)
{
	char buf[128];
	CHECK_STR(json("a\"b\\c\nd\x01", buf, sizeof buf), "\"a\\\"b\\\\c\\nd\\u0001\"");
	CHECK_STR(json("caf\xc3\xa9", buf, sizeof buf), "\"caf\xc3\xa9\"");
	CHECK_STR(json("x\xff", buf, sizeof buf), "\"x\\udcff\"");
	CHECK_STR(json("\xe2\x80\xa8\xe2\x80\xa9", buf, sizeof buf), "\"\\u2028\\u2029\"");
}

TEST(text_edit_distance)
{
	CHECK_INT(cli_edit_distance("delay", "delay"), 0);
	CHECK_INT(cli_edit_distance("dealy", "delay"), 1); /* a transposition */
	CHECK_INT(cli_edit_distance("dela", "delay"), 1);
	CHECK_INT(cli_edit_distance("on-busi", "on-busy"), 1);
	CHECK_INT(cli_edit_distance("", "abc"), 3);
	CHECK_INT(cli_edit_distance("kitten", "sitting"), 3);
	char long_word[100];
	memset(long_word, 'a', sizeof long_word - 1);
	long_word[sizeof long_word - 1] = 0;
	CHECK_INT(cli_edit_distance(long_word, "a"), 100);
}
