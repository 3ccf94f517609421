/* The TOML reader: every value type, tables and their redefinition rules,
 * exact error positions, limits, and a realistic pyproject.toml. */
#include "harness.h"

#include "cli/toml.h"

#include <math.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Parses src (its strlen) or fails the test with the parser's message. */
static struct toml_value *parse_ok(const char *src)
{
	char err[256] = "";
	struct toml_value *v = toml_parse(src, strlen(src), err, sizeof err);
	if (!v)
		pm_test_fail(__FILE__, __LINE__, "toml_parse(\"%s\") failed: %s", src, err);
	CHECK(v->type == TOML_TABLE);
	return v;
}

/* The parser's message for src, or "(parsed)" when it was accepted. */
static const char *parse_err(const char *src, size_t len, char *err, size_t errlen)
{
	struct toml_value *v = toml_parse(src, len, err, errlen);
	if (v) {
		toml_free(v);
		snprintf(err, errlen, "(parsed)");
	}
	return err;
}

/* ---- scalar values, table-driven: "v = <text>" ---- */

struct str_case {
	const char *text; /* the value as written */
	const char *want; /* the bytes */
};

static void check_strings(const char *group, const struct str_case *c, size_t n,
                          enum toml_type type)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		char src[512], err[256] = "";
		snprintf(src, sizeof src, "v = %s\n", c[i].text);
		struct toml_value *root = toml_parse(src, strlen(src), err, sizeof err);
		const struct toml_value *v = toml_get(root, "v");
		size_t len = strlen(c[i].want);
		if (!v || v->type != type || v->u.str.len != len ||
		    memcmp(v->u.str.s, c[i].want, len) != 0 || v->u.str.s[len] != 0) {
			fprintf(stderr, "    %s: v = %s -> %s%s%s\n", group, c[i].text,
			        root ? "\"" : err, v && v->type == type ? v->u.str.s : "",
			        root ? "\" (or wrong type)" : "");
			bad++;
		}
		toml_free(root);
	}
	if (bad)
		pm_test_fail(__FILE__, __LINE__, "%s: %d of %zu cases failed", group, bad, n);
}

TEST(toml_strings)
{
	static const struct str_case t[] = {
		{ "\"\"", "" },
		{ "\"plain\"", "plain" },
		{ "\"tab\there\"", "tab\there" },
		{ "\"\\b\\t\\n\\f\\r\\\"\\\\\"", "\b\t\n\f\r\"\\" },
		{ "\"\\u00e9\\u20AC\"", "\xc3\xa9\xe2\x82\xac" },
		{ "\"\\U0001F600\"", "\xf0\x9f\x98\x80" },
		{ "\"\\U0010FFFF\"", "\xf4\x8f\xbf\xbf" },
		{ "\"\\u0041\\u007f\"", "A\x7f" },
		{ "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "\"# not a comment\"", "# not a comment" },
		{ "'C:\\Users\\nodejs'", "C:\\Users\\nodejs" },
		{ "'<\\i\\c*\\s*>'", "<\\i\\c*\\s*>" },
		{ "''", "" },
		{ "'say \"hi\"'", "say \"hi\"" },
		/* multi-line basic: first newline trimmed, others kept */
		{ "\"\"\"\nRoses\nViolets\"\"\"", "Roses\nViolets" },
		{ "\"\"\"\r\nRoses\r\nViolets\"\"\"", "Roses\nViolets" },
		{ "\"\"\"one\"\"\"", "one" },
		{ "\"\"\"\n\nblank first\"\"\"", "\nblank first" },
		/* line-ending backslash eats whitespace and newlines */
		{ "\"\"\"The quick \\\n\n    brown \\\n   fox\"\"\"", "The quick brown fox" },
		{ "\"\"\"a \\   \n  b\"\"\"", "a b" },
		{ "\"\"\"a\\\r\n  b\"\"\"", "ab" },
		/* quotes inside and right before the closing delimiter */
		{ "\"\"\"Here are two quotation marks: \"\". Simple.\"\"\"",
		  "Here are two quotation marks: \"\". Simple." },
		{ "\"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"",
		  "\"This,\" she said, \"is just a pointless statement.\"" },
		{ "\"\"\"a\"\"\"\"\"", "a\"\"" },
		{ "\"\"\"\\\"\"\"\"", "\"" },
		{ "\"\"\"tab\there\"\"\"", "tab\there" },
		/* multi-line literal */
		{ "'''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''",
		  "The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n" },
		{ "'''I [dw]on't need \\d{2} apples'''", "I [dw]on't need \\d{2} apples" },
		{ "'''Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"'''",
		  "Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"" },
		{ "''''That,' she said, 'is still pointless.''''",
		  "'That,' she said, 'is still pointless.'" },
		{ "'''a\\\n b'''", "a\\\n b" },
	};
	check_strings("strings", t, N_ELEMS(t), TOML_STRING);
}

TEST(toml_datetimes)
{
	static const struct str_case t[] = {
		{ "1979-05-27T07:32:00Z", "1979-05-27T07:32:00Z" },
		{ "1979-05-27T00:32:00-07:00", "1979-05-27T00:32:00-07:00" },
		{ "1979-05-27T00:32:00.999999+05:30", "1979-05-27T00:32:00.999999+05:30" },
		{ "1979-05-27 07:32:00Z", "1979-05-27 07:32:00Z" },
		{ "1979-05-27t07:32:00z", "1979-05-27t07:32:00z" },
		{ "1979-05-27T07:32:00", "1979-05-27T07:32:00" },
		{ "1979-05-27T00:32:00.5", "1979-05-27T00:32:00.5" },
		{ "1979-05-27", "1979-05-27" },
		{ "07:32:00", "07:32:00" },
		{ "00:32:00.999999", "00:32:00.999999" },
		{ "2000-02-29", "2000-02-29" },   /* leap year */
		{ "2024-02-29", "2024-02-29" },
		{ "1990-12-31T23:59:60Z", "1990-12-31T23:59:60Z" }, /* leap second */
		{ "0001-01-01 00:00:00", "0001-01-01 00:00:00" },
		{ "1979-05-27 # a date, then a comment", "1979-05-27" },
	};
	check_strings("datetimes", t, N_ELEMS(t), TOML_DATETIME);
}

struct int_case {
	const char *text;
	int64_t want;
};

TEST(toml_integers)
{
	static const struct int_case t[] = {
		{ "0", 0 },
		{ "+99", 99 },
		{ "42", 42 },
		{ "-17", -17 },
		{ "-0", 0 },
		{ "+0", 0 },
		{ "1_000", 1000 },
		{ "5_349_221", 5349221 },
		{ "1_2_3_4_5", 12345 },
		{ "0xDEADBEEF", 0xDEADBEEF },
		{ "0xdead_beef", 0xDEADBEEF },
		{ "0x00ff", 255 },
		{ "0o01234567", 01234567 },
		{ "0o755", 0755 },
		{ "0b11010110", 214 },
		{ "0b1_0", 2 },
		{ "9223372036854775807", INT64_MAX },
		{ "-9223372036854775808", INT64_MIN },
		{ "0x7FFFFFFFFFFFFFFF", INT64_MAX },
		{ "0o777777777777777777777", INT64_MAX },
	};
	int bad = 0;

	for (size_t i = 0; i < N_ELEMS(t); i++) {
		char src[128], err[256] = "";
		snprintf(src, sizeof src, "v = %s", t[i].text);
		struct toml_value *root = toml_parse(src, strlen(src), err, sizeof err);
		const struct toml_value *v = toml_get(root, "v");
		if (!v || v->type != TOML_INTEGER || v->u.i != t[i].want) {
			fprintf(stderr, "    v = %s -> %s %lld\n", t[i].text, root ? "" : err,
			        v ? (long long)v->u.i : 0LL);
			bad++;
		}
		toml_free(root);
	}
	if (bad)
		pm_test_fail(__FILE__, __LINE__, "%d integer cases failed", bad);
}

struct float_case {
	const char *text;
	double want; /* NAN: any NaN */
	int negative;
};

TEST(toml_floats)
{
	static const struct float_case t[] = {
		{ "+1.0", 1.0, 0 },
		{ "3.1415", 3.1415, 0 },
		{ "-0.01", -0.01, 1 },
		{ "5e+22", 5e22, 0 },
		{ "1e06", 1e6, 0 },
		{ "-2E-2", -2e-2, 1 },
		{ "6.626e-34", 6.626e-34, 0 },
		{ "224_617.445_991_228", 224617.445991228, 0 },
		{ "9_224_617.445_991_228e1_0", 9224617.445991228e10, 0 },
		{ "0.0", 0.0, 0 },
		{ "-0.0", -0.0, 1 },
		{ "+0.0", 0.0, 0 },
		{ "0e0", 0.0, 0 },
		{ "1e-400", 0.0, 0 }, /* underflow is fine */
		{ "inf", INFINITY, 0 },
		{ "+inf", INFINITY, 0 },
		{ "-inf", -INFINITY, 1 },
		{ "nan", NAN, 0 },
		{ "+nan", NAN, 0 },
		{ "-nan", NAN, 1 },
	};
	int bad = 0;

	for (size_t i = 0; i < N_ELEMS(t); i++) {
		char src[128], err[256] = "";
		snprintf(src, sizeof src, "v = %s", t[i].text);
		struct toml_value *root = toml_parse(src, strlen(src), err, sizeof err);
		const struct toml_value *v = toml_get(root, "v");
		int ok = v && v->type == TOML_FLOAT;
		if (ok && isnan(t[i].want))
			ok = isnan(v->u.f);
		else if (ok)
			ok = v->u.f == t[i].want;
		if (ok)
			ok = !signbit(v->u.f) == !t[i].negative;
		if (!ok) {
			fprintf(stderr, "    v = %s -> %s %g\n", t[i].text, root ? "" : err,
			        v ? v->u.f : 0.0);
			bad++;
		}
		toml_free(root);
	}
	if (bad)
		pm_test_fail(__FILE__, __LINE__, "%d float cases failed", bad);
}

TEST(toml_booleans)
{
	struct toml_value *root = parse_ok("t = true\nf = false\n");
	const struct toml_value *t = toml_get(root, "t"), *f = toml_get(root, "f");
	CHECK(t && t->type == TOML_BOOL && t->u.b == 1);
	CHECK(f && f->type == TOML_BOOL && f->u.b == 0);
	toml_free(root);
}

TEST(toml_arrays)
{
	struct toml_value *root = parse_ok(
		"empty = []\n"
		"ints = [ 1, 2, 3 ]\n"
		"mixed = [ 0.1, \"s\", 1979-05-27, true, [1], {a = 1} ]\n"
		"nested = [ [ 1, 2 ], [\"a\", 'b'], [[]] ]\n"
		"multi = [\n"
		"  \"x\",  # the first\n"
		"  # a comment line\n"
		"\n"
		"  \"y\",\n"
		"]\n"
		"trailing = [1,]\n"
		"tight=[1,2]\n");
	const struct toml_value *v;

	v = toml_get(root, "empty");
	CHECK(v && v->type == TOML_ARRAY && v->u.arr.count == 0);
	v = toml_get(root, "ints");
	CHECK(v && v->type == TOML_ARRAY && v->u.arr.count == 3);
	CHECK_INT(v->u.arr.items[2]->u.i, 3);
	v = toml_get(root, "mixed");
	CHECK(v && v->u.arr.count == 6);
	CHECK(v->u.arr.items[0]->type == TOML_FLOAT);
	CHECK(v->u.arr.items[1]->type == TOML_STRING);
	CHECK(v->u.arr.items[2]->type == TOML_DATETIME);
	CHECK(v->u.arr.items[3]->type == TOML_BOOL);
	CHECK(v->u.arr.items[4]->type == TOML_ARRAY);
	CHECK(v->u.arr.items[5]->type == TOML_TABLE);
	CHECK_INT(toml_get(v->u.arr.items[5], "a")->u.i, 1);
	v = toml_get(root, "nested");
	CHECK(v && v->u.arr.count == 3);
	CHECK_STR(v->u.arr.items[1]->u.arr.items[1]->u.str.s, "b");
	CHECK_INT(v->u.arr.items[2]->u.arr.items[0]->u.arr.count, 0);
	v = toml_get(root, "multi");
	CHECK(v && v->u.arr.count == 2);
	CHECK_STR(v->u.arr.items[1]->u.str.s, "y");
	CHECK_INT(v->u.arr.items[1]->line, 9);
	CHECK_INT(v->u.arr.items[1]->col, 3);
	CHECK_INT(toml_get(root, "trailing")->u.arr.count, 1);
	CHECK_INT(toml_get(root, "tight")->u.arr.count, 2);
	toml_free(root);
}

TEST(toml_inline_tables)
{
	struct toml_value *root = parse_ok(
		"name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
		"point = {x=1,y=2}\n"
		"animal = { type.name = \"pug\", type.size = 'small' }\n"
		"empty = {}\n"
		"nest = { a = { b = [ { c = 1 } ] } }\n");
	const struct toml_value *v;

	CHECK_STR(toml_get_path(root, "name.last")->u.str.s, "Preston-Werner");
	CHECK_INT(toml_get_path(root, "point.y")->u.i, 2);
	CHECK_STR(toml_get_path(root, "animal.type.name")->u.str.s, "pug");
	CHECK_STR(toml_get_path(root, "animal.type.size")->u.str.s, "small");
	v = toml_get(root, "empty");
	CHECK(v && v->type == TOML_TABLE && v->u.tab.count == 0);
	v = toml_get_path(root, "nest.a.b");
	CHECK(v && v->type == TOML_ARRAY && v->u.arr.count == 1);
	CHECK_INT(toml_get(v->u.arr.items[0], "c")->u.i, 1);
	toml_free(root);
}

TEST(toml_keys)
{
	struct toml_value *root = parse_ok(
		"bare_key-1 = 1\n"
		"1234 = 2\n"
		"\"127.0.0.1\" = 3\n"
		"\"character encoding\" = 4\n"
		"\"\xca\x8e\xc7\x9d\xca\x9e\" = 5\n"
		"'key2' = 6\n"
		"'quoted \"value\"' = 7\n"
		"\"\" = 8\n"
		"site.\"google.com\" = 9\n"
		"fruit . color = 10\n"
		"3.14159 = 11\n"
		"true = 12\n"
		"\"esc\\u0041\" = 13\n");

	CHECK_INT(toml_get(root, "bare_key-1")->u.i, 1);
	CHECK_INT(toml_get(root, "1234")->u.i, 2);
	CHECK_INT(toml_get(root, "127.0.0.1")->u.i, 3);
	CHECK_INT(toml_get(root, "character encoding")->u.i, 4);
	CHECK_INT(toml_get(root, "\xca\x8e\xc7\x9d\xca\x9e")->u.i, 5);
	CHECK_INT(toml_get(root, "key2")->u.i, 6);
	CHECK_INT(toml_get(root, "quoted \"value\"")->u.i, 7);
	CHECK_INT(toml_get(root, "")->u.i, 8);
	CHECK_INT(toml_get(toml_get(root, "site"), "google.com")->u.i, 9);
	CHECK(toml_get_path(root, "site.google.com") == NULL); /* plain keys only */
	CHECK_INT(toml_get_path(root, "fruit.color")->u.i, 10);
	CHECK_INT(toml_get_path(root, "3.14159")->u.i, 11);
	CHECK_INT(toml_get(root, "true")->u.i, 12);
	CHECK_INT(toml_get(root, "escA")->u.i, 13);
	toml_free(root);
}

TEST(toml_tables)
{
	struct toml_value *root = parse_ok(
		"top = 0\n"
		"[a]\n"
		"x = 1\n"
		"[a.b]\n"                 /* a sub-table after its parent */
		"y = 2\n"
		"[ c . \"d\" . e ]\n"     /* c and c.d created implicitly */
		"z = 3\n"
		"[c]\n"                   /* ... and c defined once later */
		"w = 4\n"
		"[fruit]\n"
		"apple.color = \"red\"\n" /* apple: created by a dotted key */
		"apple.taste.sweet = true\n"
		"[fruit.apple.texture]\n" /* a sub-table of it is fine */
		"smooth = true\n"
		"[[products]]\n"
		"name = \"Hammer\"\n"
		"[[products]]\n"
		"[[products]]\n"
		"name = \"Nail\"\n"
		"[products.extra]\n"      /* goes into the last element */
		"n = 5\n"
		"[[fruits]]\n"
		"name = \"apple\"\n"
		"[[fruits.varieties]]\n"
		"name = \"red delicious\"\n"
		"[[fruits.varieties]]\n"
		"name = \"granny smith\"\n"
		"[[fruits]]\n"
		"name = \"banana\"\n"
		"[[fruits.varieties]]\n"
		"name = \"plantain\"\n");
	const struct toml_value *v;

	CHECK_INT(toml_get(root, "top")->u.i, 0);
	CHECK_INT(toml_get_path(root, "a.x")->u.i, 1);
	CHECK_INT(toml_get_path(root, "a.b.y")->u.i, 2);
	CHECK_INT(toml_get_path(root, "c.d.e.z")->u.i, 3);
	CHECK_INT(toml_get_path(root, "c.w")->u.i, 4);
	CHECK_INT(toml_get_path(root, "c")->line, 8);
	CHECK_STR(toml_get_path(root, "fruit.apple.color")->u.str.s, "red");
	CHECK_INT(toml_get_path(root, "fruit.apple.taste.sweet")->u.b, 1);
	CHECK_INT(toml_get_path(root, "fruit.apple.texture.smooth")->u.b, 1);

	v = toml_get(root, "products");
	CHECK(v && v->type == TOML_ARRAY && v->u.arr.count == 3);
	CHECK_STR(toml_get(v->u.arr.items[0], "name")->u.str.s, "Hammer");
	CHECK_INT(v->u.arr.items[1]->u.tab.count, 0);
	CHECK_STR(toml_get(v->u.arr.items[2], "name")->u.str.s, "Nail");
	CHECK_INT(toml_get_path(v->u.arr.items[2], "extra.n")->u.i, 5);

	v = toml_get(root, "fruits");
	CHECK(v && v->u.arr.count == 2);
	const struct toml_value *var = toml_get(v->u.arr.items[0], "varieties");
	CHECK(var && var->u.arr.count == 2);
	CHECK_STR(toml_get(var->u.arr.items[1], "name")->u.str.s, "granny smith");
	var = toml_get(v->u.arr.items[1], "varieties");
	CHECK(var && var->u.arr.count == 1);
	CHECK_STR(toml_get(var->u.arr.items[0], "name")->u.str.s, "plantain");
	toml_free(root);
}

/* Keys in file order, with where each was written and where its value
 * starts. */
TEST(toml_positions)
{
	struct toml_value *root = parse_ok(
		"a = 1\n"
		"  b   =   \"two\"\n"
		"\n"
		"[t]\n"
		"c = [\n"
		"  1,\n"
		"    2 ]\n"
		"d.e = 1979-05-27\n");
	const struct toml_value *t, *v;

	CHECK_INT(root->line, 1);
	CHECK_INT(root->col, 1);
	CHECK_INT(root->u.tab.count, 3);
	CHECK_STR(root->u.tab.keys[0], "a");
	CHECK_STR(root->u.tab.keys[1], "b");
	CHECK_STR(root->u.tab.keys[2], "t");
	CHECK_INT(root->u.tab.key_lines[1], 2);
	CHECK_INT(root->u.tab.key_cols[1], 3);
	v = toml_get(root, "b");
	CHECK_INT(v->line, 2);
	CHECK_INT(v->col, 11);
	t = toml_get(root, "t");
	CHECK_INT(t->line, 4);
	CHECK_INT(t->col, 1);
	v = toml_get(t, "c");
	CHECK_INT(v->line, 5);
	CHECK_INT(v->col, 5);
	CHECK_INT(v->u.arr.items[1]->line, 7);
	CHECK_INT(v->u.arr.items[1]->col, 5);
	v = toml_get_path(t, "d.e");
	CHECK(v && v->type == TOML_DATETIME);
	CHECK_INT(v->line, 8);
	CHECK_INT(v->col, 7);
	CHECK_INT(toml_get(t, "d")->u.tab.key_cols[0], 3);
	toml_free(root);
}

/* ---- errors: the exact message, position first ---- */

struct err_case {
	const char *src;
	const char *err;
};

static void check_errors(const char *group, const struct err_case *c, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		char err[256];
		parse_err(c[i].src, strlen(c[i].src), err, sizeof err);
		if (strcmp(err, c[i].err) != 0) {
			fprintf(stderr, "    %s: \"%s\"\n      -> \"%s\"\n      expected \"%s\"\n", group,
			        c[i].src, err, c[i].err);
			bad++;
		}
	}
	if (bad)
		pm_test_fail(__FILE__, __LINE__, "%s: %d of %zu cases failed", group, bad, n);
}

#define ERRORS(group, table) check_errors(group, table, N_ELEMS(table))

TEST(toml_errors_syntax)
{
	static const struct err_case t[] = {
		{ "name value", "1:6: expected '=' after key" },
		{ "abc x", "1:5: expected '=' after key" },
		{ "a.b", "1:4: expected '=' after key" },
		{ "a =", "1:4: expected a value after '='" },
		{ "a = # nothing", "1:5: expected a value after '='" },
		{ "a = \n1", "1:5: expected a value after '='" },
		{ "x = 1\n\n\n\n\n\n\n\n\n\n\nfoo.bar =  ", "12:12: expected a value after '='" },
		{ "a = fast", "1:5: expected a value, found 'fast' (strings must be quoted)" },
		{ "a = truex", "1:5: expected a value, found 'truex' (strings must be quoted)" },
		{ "a = ,", "1:5: expected a value, found ','" },
		{ "= 1", "1:1: expected a key, found '='" },
		{ "a. = 1", "1:4: expected a key after '.', found '='" },
		{ "a = 1 b = 2", "1:7: expected a newline or comment after value, found 'b'" },
		{ "a = \"x\"y", "1:8: expected a newline or comment after value, found 'y'" },
		{ "a = 1\rb = 2", "1:6: expected a newline or comment after value, found byte 0x0D" },
		{ "a = \"\"\"x\"\"\"\"\"\"", "1:14: expected a newline or comment after value, found '\"'" },
		{ "[a] b = 1", "1:5: expected a newline or comment after table header, found 'b'" },
		{ "[a", "1:3: expected ']' after table name, found end of file" },
		{ "[]", "1:2: expected a key, found ']'" },
		{ "[a.]", "1:4: expected a key after '.', found ']'" },
		{ "[[a]", "1:5: expected ']]' after table name, found end of file" },
		{ "[[a] ]", "1:5: expected ']]' after table name, found ' '" },
		{ "[ [a]]", "1:3: expected a key, found '['" },
		{ "\"\"\"k\"\"\" = 1", "1:1: a multi-line string cannot be a key" },
		{ "\"a\\u0000b\" = 1", "1:1: keys containing U+0000 are not supported" },
		{ "a = [1 2]", "1:8: expected ',' or ']' in array, found '2'" },
		{ "a = [1,,2]", "1:8: expected a value, found ','" },
		{ "a = [,]", "1:6: expected a value, found ','" },
		{ "a = [1,\n2", "2:2: expected ',' or ']' in array, found end of file" },
		{ "a = [\n", "2:1: expected a value or ']' in array, found end of file" },
		{ "a = {b = 1,}", "1:12: expected a key after ',' in inline table, found '}'" },
		{ "a = {b = 1 c = 2}", "1:12: expected ',' or '}' in inline table, found 'c'" },
		{ "a = {b = 1\n}", "1:11: expected ',' or '}' in inline table, found end of line (an inline table must be on one line)" },
		{ "a = {\nb = 1}", "1:6: expected a key, found end of line" },
		{ "a = {,}", "1:6: expected a key, found ','" },
	};
	ERRORS("syntax", t);
}

TEST(toml_errors_strings)
{
	static const struct err_case t[] = {
		{ "a = 1\nb = \"abc", "2:5: unterminated string" },
		{ "a = 1\nname = \"abc\nx = 1", "2:8: unterminated string" },
		{ "a = 'abc", "1:5: unterminated string" },
		{ "a = 'abc\n'", "1:5: unterminated string" },
		{ "a = \"\"\"abc\n\n", "1:5: unterminated string" },
		{ "a = '''abc''", "1:5: unterminated string" },
		{ "a = \"abc\\", "1:5: unterminated string" },
		{ "\"abc = 1", "1:1: unterminated string" },
		{ "a = 1\nb = 2\nc = 3\nd = \"\\q\"", "4:6: invalid escape '\\q'" },
		{ "a = \"ok \\x41\"", "1:9: invalid escape '\\x'" },
		{ "a = \"\\e\"", "1:6: invalid escape '\\e'" },
		{ "a = \"\\ \"", "1:6: invalid escape: '\\' followed by ' '" },
		{ "a = \"\\\n\"", "1:6: invalid escape: '\\' followed by end of line" },
		{ "a = \"\\u12\"", "1:6: invalid escape '\\u': expected 4 hex digits" },
		{ "a = \"\\U0001F60\"", "1:6: invalid escape '\\U': expected 8 hex digits" },
		{ "a = \"\\uD800\"", "1:6: invalid escape '\\uD800': not a Unicode scalar value" },
		{ "a = \"\\uDFFF\"", "1:6: invalid escape '\\uDFFF': not a Unicode scalar value" },
		{ "a = \"\\U00110000\"", "1:6: invalid escape '\\U00110000': not a Unicode scalar value" },
		{ "a = \"\\U0000D800\"", "1:6: invalid escape '\\U0000D800': not a Unicode scalar value" },
		{ "a = \"\"\"x \\ y\"\"\"", "1:12: expected a newline after a line-ending backslash, found 'y'" },
		{ "a = \"\x01\"", "1:6: control character U+0001 in string" },
		{ "a = \"x\x7f\"", "1:7: control character U+007F in string" },
		{ "a = 'x\x1b'", "1:7: control character U+001B in string" },
		{ "a = \"\"\"x\ry\"\"\"", "1:9: control character U+000D in string" },
		{ "a = \"\xff\"", "1:6: invalid UTF-8 in string" },
		{ "a = \"\xc3\"", "1:6: invalid UTF-8 in string" },          /* truncated */
		{ "a = \"\xc0\xaf\"", "1:6: invalid UTF-8 in string" },      /* overlong */
		{ "a = \"\xe0\x80\xaf\"", "1:6: invalid UTF-8 in string" },  /* overlong */
		{ "a = \"\xed\xa0\x80\"", "1:6: invalid UTF-8 in string" },  /* a surrogate */
		{ "a = \"\xf4\x90\x80\x80\"", "1:6: invalid UTF-8 in string" }, /* > U+10FFFF */
		{ "a = 'x\x80'", "1:7: invalid UTF-8 in string" },
		{ "a = '''\n\xfe'''", "2:1: invalid UTF-8 in string" },
		{ "'\xff' = 1", "1:2: invalid UTF-8 in string" },
		{ "# ok \xc3\xa9\n#\xc3\x28", "2:2: invalid UTF-8 in comment" },
		{ "a = 1 # \x01", "1:9: control character U+0001 in comment" },
		{ "a = 1 # \x7f", "1:9: control character U+007F in comment" },
		{ "# a\rb", "1:4: control character U+000D in comment" },
		{ "a = [ # \xff\n]", "1:9: invalid UTF-8 in comment" },
	};
	ERRORS("strings", t);
}

TEST(toml_errors_numbers)
{
	static const struct err_case t[] = {
		{ "a = 9223372036854775808", "1:5: integer 9223372036854775808 out of range (64-bit)" },
		{ "a = -9223372036854775809", "1:5: integer -9223372036854775809 out of range (64-bit)" },
		{ "a = 99999999999999999999999", "1:5: integer 99999999999999999999999 out of range (64-bit)" },
		{ "a = 0x8000000000000000", "1:5: integer 0x8000000000000000 out of range (64-bit)" },
		{ "a = 0xFFFFFFFFFFFFFFFFFF", "1:5: integer 0xFFFFFFFFFFFFFFFFFF out of range (64-bit)" },
		{ "a = 012", "1:5: leading zeros are not allowed" },
		{ "a = -012", "1:6: leading zeros are not allowed" },
		{ "a = 00", "1:5: leading zeros are not allowed" },
		{ "a = 0_1", "1:5: leading zeros are not allowed" },
		{ "a = 01.5", "1:5: leading zeros are not allowed" },
		{ "a = 1__2", "1:6: '_' must be between digits" },
		{ "a = 1_", "1:6: '_' must be between digits" },
		{ "a = _1", "1:5: expected a value, found '_1' (strings must be quoted)" },
		{ "a = 1_.5", "1:6: '_' must be between digits" },
		{ "a = 1._5", "1:7: expected a digit after '.', found '_'" },
		{ "a = 1e_5", "1:7: expected a digit in the exponent, found '_'" },
		{ "a = 0x_1", "1:7: expected a hexadecimal digit after '0x', found '_'" },
		{ "a = 0x1_", "1:8: '_' must be between digits" },
		{ "a = 0o8", "1:7: expected a octal digit after '0o', found '8'" },
		{ "a = 0b2", "1:7: expected a binary digit after '0b', found '2'" },
		{ "a = 0X1", "1:6: invalid character 'X' in number" },
		{ "a = +0x1", "1:7: invalid character 'x' in number" },
		{ "a = 0xg", "1:7: expected a hexadecimal digit after '0x', found 'g'" },
		{ "a = 1.", "1:7: expected a digit after '.', found end of file" },
		{ "a = 1.e5", "1:7: expected a digit after '.', found 'e'" },
		{ "a = .5", "1:5: expected a value, found '.'" },
		{ "a = 1e", "1:7: expected a digit in the exponent, found end of file" },
		{ "a = 1e+", "1:8: expected a digit in the exponent, found end of file" },
		{ "a = 1.2.3", "1:8: invalid character '.' in number" },
		{ "a = 12abc", "1:7: invalid character 'a' in number" },
		{ "a = +", "1:6: expected a digit after '+', found end of file" },
		{ "a = -x", "1:6: expected a digit after '-', found 'x'" },
		{ "a = 1e400", "1:5: float out of range" },
		{ "a = -1e400", "1:5: float out of range" },
		{ "a = infinity", "1:5: expected a value, found 'infinity' (strings must be quoted)" },
		{ "a = +infx", "1:6: expected a digit after '+', found 'i'" },
		{ "a = NaN", "1:5: expected a value, found 'NaN' (strings must be quoted)" },
		{ "a = True", "1:5: expected a value, found 'True' (strings must be quoted)" },
	};
	ERRORS("numbers", t);
}

TEST(toml_errors_datetimes)
{
	static const struct err_case t[] = {
		{ "a = 1979-13-01", "1:10: invalid date: month 13" },
		{ "a = 1979-00-01", "1:10: invalid date: month 00" },
		{ "a = 1979-02-29", "1:13: invalid date: day 29 of 1979-02" },
		{ "a = 1900-02-29", "1:13: invalid date: day 29 of 1900-02" },
		{ "a = 1979-04-31", "1:13: invalid date: day 31 of 1979-04" },
		{ "a = 1979-04-00", "1:13: invalid date: day 00 of 1979-04" },
		{ "a = 1979-5-27", "1:10: invalid date: expected YYYY-MM-DD, found '5'" },
		{ "a = 1979-05-2", "1:13: invalid date: expected YYYY-MM-DD, found '2'" },
		{ "a = 1979-05-27T", "1:16: invalid date-time: expected HH:MM:SS, found end of file" },
		{ "a = 1979-05-27T07:32", "1:21: invalid date-time: expected HH:MM:SS, found end of file" },
		{ "a = 07:32", "1:10: invalid date-time: expected HH:MM:SS, found end of file" },
		{ "a = 07:32:1", "1:11: invalid date-time: expected two digits of seconds, found '1'" },
		{ "a = 24:00:00", "1:5: invalid time: hour 24" },
		{ "a = 23:60:00", "1:8: invalid time: minute 60" },
		{ "a = 23:59:61", "1:11: invalid time: second 61" },
		{ "a = 07:32:00.", "1:14: invalid time: expected a digit after '.', found end of file" },
		{ "a = 1979-05-27T07:32:00+07", "1:27: invalid date-time: expected an offset HH:MM, found end of file" },
		{ "a = 1979-05-27T07:32:00+0700", "1:27: invalid date-time: expected an offset HH:MM, found '0'" },
		{ "a = 1979-05-27T07:32:00+24:00", "1:25: invalid date-time: offset 24:00" },
		{ "a = 1979-05-27T07:32:00-07:60", "1:25: invalid date-time: offset 07:60" },
		{ "a = 07:32:00Z", "1:13: expected a newline or comment after value, found 'Z'" },
		{ "a = 1979-05-27T07:32:00ZZ", "1:25: expected a newline or comment after value, found 'Z'" },
		{ "a = 1979-05-27 07:32", "1:21: invalid date-time: expected HH:MM:SS, found end of file" },
		{ "a = 1979-05-27 x", "1:16: expected a newline or comment after value, found 'x'" },
		{ "a = 1979-05-27_07:32:00", "1:15: expected a newline or comment after value, found '_'" },
	};
	ERRORS("datetimes", t);
}

TEST(toml_errors_redefinition)
{
	static const struct err_case t[] = {
		{ "a = 1\nb = 2\n[tool]\nwatch = 1\nwatch = 2", "5:1: duplicate key 'watch'" },
		{ "[tool]\nx = 1\ny = 2\n\n[tool.py-mon]\n\n[tool.py-mon]", "7:1: table [tool.py-mon] defined twice" },
		{ "[tool.py-mon]\n[tool.\"py-mon\"]", "2:1: table [tool.py-mon] defined twice" },
		{ "[a]\n[b]\n[a]", "3:1: table [a] defined twice" },
		{ "[a.b]\n[a]\n[a]", "3:1: table [a] defined twice" },
		{ "[a]\nb = 1\n[a.b]", "3:1: cannot define table [a.b]: it is already an integer (at 2:5)" },
		{ "a = {}\n[a]", "2:1: table [a] defined twice" },
		{ "a = {b = 1}\n[a.c]", "2:2: cannot define [a.c]: 'a' is already an inline table (at 1:5)" },
		{ "a = {b = 1}\na.c = 2", "2:1: table 'a' (at 1:5) cannot be extended with a dotted key here" },
		{ "a = [1]\n[a.b]", "2:2: cannot define [a.b]: 'a' is already an array value (at 1:5)" },
		{ "a = \"s\"\n[a.b]", "2:2: cannot define [a.b]: 'a' is already a string (at 1:5)" },
		{ "a = []\n[[a]]", "2:1: cannot define array of tables [[a]]: it is already an array value (at 1:5)" },
		{ "[a]\n[[a]]", "2:1: cannot define array of tables [[a]]: it is already a table (at 1:1)" },
		{ "[[a]]\n[a]", "2:1: cannot define table [a]: it is already an array of tables (at 1:1)" },
		{ "a = 1\n[[a]]", "2:1: cannot define array of tables [[a]]: it is already an integer (at 1:5)" },
		/* dotted keys */
		{ "a.b = 1\na.b = 2", "2:3: duplicate key 'b'" },
		{ "a.b = 1\na = 2", "2:1: duplicate key 'a'" },
		{ "a = 1\na.b = 2", "2:1: key 'a' is already an integer (at 1:5), not a table" },
		{ "a.b.c = 1\na.b = 2", "2:3: duplicate key 'b'" },
		{ "a = { b.c = 1, b.c = 2 }", "1:18: duplicate key 'c'" },
		{ "a = { b = {}, b.c = 2 }", "1:15: table 'b' (at 1:11) cannot be extended with a dotted key here" },
		{ "[fruit]\napple.color = \"red\"\n[fruit.apple]", "3:1: table [fruit.apple] defined twice" },
		{ "[a.b.c]\nz = 9\n[a]\nb.c.t = 1", "4:1: table 'b' (at 1:4) cannot be extended with a dotted key here" },
		{ "[a.b]\nz = 9\n[a]\nb.t = 1", "4:1: table 'b' (at 1:1) cannot be extended with a dotted key here" },
		{ "[product]\ntype = { name = \"Nail\" }\ntype.edible = false", "3:1: table 'type' (at 2:8) cannot be extended with a dotted key here" },
		{ "[product]\ntype.name = \"Nail\"\ntype = { edible = false }", "3:1: duplicate key 'type'" },
		{ "\"a b\" = 1\n'a b' = 2", "2:1: duplicate key 'a b'" },
		{ "[[fruits]]\n[fruits.physical]\n[fruits.physical]", "3:1: table [fruits.physical] defined twice" },
	};
	ERRORS("redefinition", t);
}

TEST(toml_redefinition_allowed)
{
	/* What the rules do allow: each [x] once, [[x]] again and again. */
	static const struct err_case t[] = {
		{ "[a.b]\n[a]", "(parsed)" },
		{ "[a.b.c]\n[a.b]\n[a]", "(parsed)" },
		{ "[[a.b]]\n[a]", "(parsed)" },
		{ "a.b = 1\n[a.c]", "(parsed)" },
		{ "[a]\nb.c = 1\nb.d = 2\n[a.b.e]", "(parsed)" },
		{ "[[a]]\nb.c = 1\n[[a]]\nb.c = 2", "(parsed)" },
		{ "[[a]]\n[a.b]\n[[a]]\n[a.b]", "(parsed)" },
		{ "a = 1\n[b]\na = 2", "(parsed)" },
	};
	ERRORS("allowed", t);
}

/* ---- limits and edges ---- */

static char *repeat(const char *head, const char *unit, size_t n, const char *mid,
                    const char *unit2, size_t n2, const char *tail)
{
	size_t len = strlen(head) + strlen(unit) * n + strlen(mid) + strlen(unit2) * n2 +
	             strlen(tail) + 1;
	char *s = malloc(len), *p = s;
	CHECK(s != NULL);
	p = stpcpy(p, head);
	for (size_t i = 0; i < n; i++)
		p = stpcpy(p, unit);
	p = stpcpy(p, mid);
	for (size_t i = 0; i < n2; i++)
		p = stpcpy(p, unit2);
	stpcpy(p, tail);
	return s;
}

TEST(toml_depth_limit)
{
	char err[256];
	char *s;

	/* 64 levels of arrays or inline tables below the root: fine. */
	s = repeat("a = ", "[", 64, "1", "]", 64, "\n");
	struct toml_value *root = parse_ok(s);
	const struct toml_value *v = toml_get(root, "a");
	for (int i = 0; i < 63; i++)
		v = v->u.arr.items[0];
	CHECK(v->type == TOML_ARRAY && v->u.arr.items[0]->type == TOML_INTEGER);
	toml_free(root);
	free(s);
	s = repeat("a = ", "{b=", 64, "1", "}", 64, "\n");
	toml_free(parse_ok(s));
	free(s);

	/* One more: an error at the bracket that goes too deep. */
	s = repeat("a = ", "[", 65, "1", "]", 65, "\n");
	CHECK_STR(parse_err(s, strlen(s), err, sizeof err), "1:69: nesting deeper than 64 levels");
	free(s);
	s = repeat("a = ", "{b=", 65, "1", "}", 65, "\n");
	CHECK_STR(parse_err(s, strlen(s), err, sizeof err), "1:197: nesting deeper than 64 levels");
	free(s);
	s = repeat("a = ", "[{b=", 40, "1", "}]", 40, "\n");
	CHECK_STR(parse_err(s, strlen(s), err, sizeof err), "1:133: nesting deeper than 64 levels");
	free(s);

	/* Dotted keys and headers count too (the tree stays shallow). */
	s = repeat("", "k.", 64, "k = 1", "", 0, "\n");
	toml_free(parse_ok(s));
	free(s);
	s = repeat("", "k.", 65, "k = 1", "", 0, "\n");
	CHECK_STR(parse_err(s, strlen(s), err, sizeof err), "1:131: nesting deeper than 64 levels");
	free(s);
	s = repeat("[", "k.", 63, "k]\nx = 1", "", 0, "\n");
	toml_free(parse_ok(s));
	free(s);
	s = repeat("[", "k.", 64, "k]", "", 0, "\n");
	CHECK_STR(parse_err(s, strlen(s), err, sizeof err), "1:130: nesting deeper than 64 levels");
	free(s);
	s = repeat("[x]\n", "k.", 63, "k = [1]", "", 0, "\n");
	CHECK_STR(parse_err(s, strlen(s), err, sizeof err), "2:131: nesting deeper than 64 levels");
	free(s);

	/* Hostile depth is an error, not a stack overflow. */
	s = repeat("a = ", "[", 1000000, "", "", 0, "");
	CHECK_STR(parse_err(s, strlen(s), err, sizeof err), "1:69: nesting deeper than 64 levels");
	free(s);
	s = repeat("a = ", "{b=", 1000000, "", "", 0, "");
	CHECK_CONTAINS(parse_err(s, strlen(s), err, sizeof err), "nesting deeper than 64 levels");
	free(s);
	s = repeat("", "k.", 1000000, "k = 1", "", 0, "");
	CHECK_CONTAINS(parse_err(s, strlen(s), err, sizeof err), "nesting deeper than 64 levels");
	free(s);
}

TEST(toml_crlf)
{
	struct toml_value *root = parse_ok(
		"# comment\r\n"
		"a = 1\r\n"
		"\r\n"
		"[t]\r\n"
		"s = \"\"\"\r\nline1\r\nline2\\\r\n   more\"\"\"\r\n"
		"l = '''x\r\ny'''\r\n"
		"arr = [\r\n  1, # c\r\n  2,\r\n]\r\n"
		"b = 2 # end\r\n");
	CHECK_INT(toml_get(root, "a")->u.i, 1);
	CHECK_STR(toml_get_path(root, "t.s")->u.str.s, "line1\nline2more");
	CHECK_STR(toml_get_path(root, "t.l")->u.str.s, "x\ny");
	CHECK_INT(toml_get_path(root, "t.arr")->u.arr.count, 2);
	const struct toml_value *b = toml_get_path(root, "t.b");
	CHECK_INT(b->u.i, 2);
	CHECK_INT(b->line, 15);
	CHECK_INT(b->col, 5);
	toml_free(root);

	char err[256];
	CHECK_STR(parse_err("a = 1\r\nb = \"x\r\n\"", 17, err, sizeof err), "2:5: unterminated string");
	CHECK_STR(parse_err("a = 1\r\r\n", 8, err, sizeof err),
	          "1:6: expected a newline or comment after value, found byte 0x0D");
	CHECK_STR(parse_err("a = 1\r\nb\r\n", 10, err, sizeof err), "2:2: expected '=' after key");
}

TEST(toml_bom)
{
	char err[256];
	struct toml_value *root = parse_ok("\xef\xbb\xbf" "a = 1\n");
	CHECK_INT(toml_get(root, "a")->u.i, 1);
	CHECK_INT(root->u.tab.key_cols[0], 1); /* the BOM is not counted */
	toml_free(root);
	root = parse_ok("\xef\xbb\xbf");
	CHECK_INT(root->u.tab.count, 0);
	toml_free(root);
	CHECK_STR(parse_err("\xef\xbb\xbf" "a = 1 x", 10, err, sizeof err),
	          "1:7: expected a newline or comment after value, found 'x'");
	/* Only at the very start. */
	CHECK_STR(parse_err("a = 1\n\xef\xbb\xbf" "b = 2", 12, err, sizeof err),
	          "2:1: expected a key, found byte 0xEF");
	CHECK_STR(parse_err("\xef\xbb" "a = 1", 7, err, sizeof err), "1:1: expected a key, found byte 0xEF");
}

TEST(toml_empty_and_comments)
{
	const char *docs[] = {
		"",
		"\n",
		"\n\n\r\n",
		"   \t  ",
		"# only a comment",
		"# one\n# two\r\n   # three \xc3\xa9\t\n\n",
		"#",
	};
	for (size_t i = 0; i < N_ELEMS(docs); i++) {
		struct toml_value *root = parse_ok(docs[i]);
		CHECK_INT(root->u.tab.count, 0);
		CHECK_INT(root->line, 1);
		toml_free(root);
	}
	char err[64] = "x";
	struct toml_value *root = toml_parse(NULL, 0, err, sizeof err);
	CHECK(root && root->type == TOML_TABLE && root->u.tab.count == 0);
	CHECK_STR(err, "");
	toml_free(root);
	toml_free(NULL);
}

TEST(toml_nul_byte)
{
	char err[256];
	/* \u0000 is a character like any other: len counts it. */
	struct toml_value *r = parse_ok("s = \"a\\u0000b\"");
	const struct toml_value *s = toml_get(r, "s");
	CHECK_INT(s->u.str.len, 3);
	CHECK(memcmp(s->u.str.s, "a\0b", 4) == 0);
	toml_free(r);
	/* The buffer is len bytes, not a C string: a NUL is a control character. */
	CHECK_STR(parse_err("a = \"x\0y\"", 9, err, sizeof err), "1:7: control character U+0000 in string");
	CHECK_STR(parse_err("a = '''\0'''", 11, err, sizeof err), "1:8: control character U+0000 in string");
	CHECK_STR(parse_err("a = 1 #\0", 8, err, sizeof err), "1:8: control character U+0000 in comment");
	CHECK_STR(parse_err("a = 1\0", 6, err, sizeof err),
	          "1:6: expected a newline or comment after value, found byte 0x00");
	/* Nothing past len is read. */
	struct toml_value *root = toml_parse("a = 12345", 6, err, sizeof err);
	CHECK(root != NULL);
	CHECK_INT(toml_get(root, "a")->u.i, 12);
	toml_free(root);
	CHECK_STR(parse_err("a = \"abc\"", 8, err, sizeof err), "1:5: unterminated string");
}

TEST(toml_error_buffer)
{
	char small[8];
	memset(small, 'x', sizeof small);
	CHECK(toml_parse("a = ", 4, small, sizeof small) == NULL);
	CHECK_STR(small, "1:5: ex"); /* truncated, still terminated */
	CHECK(toml_parse("a = ", 4, small, 3) == NULL);
	CHECK_STR(small, "1:");
	CHECK(toml_parse("a = ", 4, NULL, 0) == NULL);
	char one[1] = {'x'};
	CHECK(toml_parse("a = ", 4, one, 1) == NULL);
	CHECK_INT(one[0], 0);
}

TEST(toml_get_and_names)
{
	struct toml_value *root = parse_ok("a = 1\n[t.u]\nv = 'x'\n[[arr]]\n");
	CHECK(toml_get(root, "missing") == NULL);
	CHECK(toml_get(NULL, "a") == NULL);
	CHECK(toml_get(toml_get(root, "a"), "x") == NULL); /* not a table */
	CHECK(toml_get_path(root, "t.u.v") != NULL);
	CHECK(toml_get_path(root, "t.u") == toml_get(toml_get(root, "t"), "u"));
	CHECK(toml_get_path(root, "t..u") == NULL);
	CHECK(toml_get_path(root, "t.u.") == NULL);
	CHECK(toml_get_path(root, ".t") == NULL);
	CHECK(toml_get_path(root, "") == NULL);
	CHECK(toml_get_path(root, "a.b") == NULL);
	CHECK(toml_get_path(root, "t.u.v.w") == NULL);
	CHECK(toml_get_path(root, "arr.x") == NULL); /* arrays are not walked */
	CHECK(toml_get_path(NULL, "a") == NULL);
	CHECK(toml_get_path(root, NULL) == NULL);
	CHECK(toml_get_path(root, "t.u.vv") == NULL);
	CHECK(toml_get_path(root, "t.u.") == NULL);
	toml_free(root);

	CHECK_STR(toml_type_name(TOML_STRING), "string");
	CHECK_STR(toml_type_name(TOML_INTEGER), "integer");
	CHECK_STR(toml_type_name(TOML_FLOAT), "float");
	CHECK_STR(toml_type_name(TOML_BOOL), "boolean");
	CHECK_STR(toml_type_name(TOML_DATETIME), "datetime");
	CHECK_STR(toml_type_name(TOML_ARRAY), "array");
	CHECK_STR(toml_type_name(TOML_TABLE), "table");
}

TEST(toml_many_keys)
{
	/* Tables and arrays grow past their first allocation. */
	size_t n = 2000, cap = n * 40 + 64, len = 0;
	char *s = malloc(cap);
	CHECK(s != NULL);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "k%zu = %zu\n", i, i);
	len += (size_t)snprintf(s + len, cap - len, "arr = [");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%zu,", i);
	len += (size_t)snprintf(s + len, cap - len, "]\n");
	struct toml_value *root = parse_ok(s);
	CHECK_INT(root->u.tab.count, n + 1);
	CHECK_INT(toml_get(root, "k1999")->u.i, 1999);
	CHECK_INT(toml_get(root, "arr")->u.arr.count, n);
	CHECK_INT(toml_get(root, "arr")->u.arr.items[1234]->u.i, 1234);
	toml_free(root);
	free(s);
}

/* ---- a realistic pyproject.toml ---- */

static const char pyproject[] =
	"[build-system]\n"
	"requires = [\"setuptools>=61.0\", \"wheel\"]\n"
	"build-backend = \"setuptools.build_meta\"\n"
	"\n"
	"[project]\n"
	"name = \"webapp\"\n"
	"version = \"0.3.1\"\n"
	"description = \"\"\"\n"
	"A small web app.\n"
	"Reloaded by py-mon \\\n"
	"   while you work.\"\"\"\n"
	"readme = \"README.md\"\n"
	"requires-python = \">=3.9\"\n"
	"license = { text = \"MIT\" }\n"
	"authors = [\n"
	"  { name = \"Ada Lovelace\", email = \"ada@example.org\" },\n"
	"  {name=\"Gr\xc3\xa4" "ce H\xc3\xb6pper\",email=\"grace@example.org\"},\n"
	"]\n"
	"classifiers = [\n"
	"    \"Programming Language :: Python :: 3\",  # keep sorted\n"
	"    \"Operating System :: POSIX :: Linux\",\n"
	"]\n"
	"dependencies = [\"flask>=3\", 'jinja2']\n"
	"\n"
	"[project.optional-dependencies]\n"
	"dev = [\"pytest\", \"ruff==0.4.*\"]\n"
	"\n"
	"[project.scripts]\n"
	"webapp = \"webapp.cli:main\"\n"
	"\n"
	"[tool.ruff]\n"
	"line-length = 100\n"
	"target-version = \"py39\"\n"
	"\n"
	"[tool.ruff.lint]\n"
	"select = [\"E\", \"F\", \"I\"]\n"
	"ignore = []\n"
	"per-file-ignores = { \"tests/*\" = [\"S101\"], \"__init__.py\" = [\"F401\", \"E402\"] }\n"
	"extend-safe-fixes = [[\"a\", \"b\"], [\"c\"]]\n"
	"\n"
	"[tool.pytest.ini_options]\n"
	"minversion = \"7.0\"\n"
	"addopts = \"-ra -q\"\n"
	"timeout = 30.5\n"
	"\n"
	"# py-mon reads only this part\n"
	"[tool.py-mon]\n"
	"watch = [\"src\"]\n"
	"ext = [\"py\",\"html\"]\n"
	"delay = \"100ms\"\n"
	"command = \"python3 app.py\"\n"
	"clear = true\n"
	"\n"
	"[[tool.py-mon.rule]]\n"
	"match = \"*.html\"\n"
	"command = \"make templates\"\n"
	"\n"
	"[[tool.py-mon.rule]]\n"
	"match = 'static/**'\n"
	"on = [\"create\", \"modify\"]\n"
	"released = 2024-05-01T12:00:00Z\n";

/* Every string in the tree, counted; checks arrays and tables are sane. */
static size_t walk(const struct toml_value *v)
{
	size_t n = 0;
	if (v->type == TOML_STRING || v->type == TOML_DATETIME) {
		CHECK(strlen(v->u.str.s) <= v->u.str.len);
		return 1;
	}
	if (v->type == TOML_ARRAY)
		for (size_t i = 0; i < v->u.arr.count; i++)
			n += walk(v->u.arr.items[i]);
	if (v->type == TOML_TABLE)
		for (size_t i = 0; i < v->u.tab.count; i++) {
			CHECK(v->u.tab.key_lines[i] >= 1 && v->u.tab.key_cols[i] >= 1);
			n += walk(v->u.tab.values[i]);
		}
	return n;
}

TEST(toml_pyproject)
{
	struct toml_value *root = parse_ok(pyproject);
	const struct toml_value *v, *pm, *a;

	v = toml_get_path(root, "build-system.requires");
	CHECK(v && v->type == TOML_ARRAY && v->u.arr.count == 2);
	CHECK_STR(v->u.arr.items[0]->u.str.s, "setuptools>=61.0");
	CHECK_STR(toml_get_path(root, "build-system.build-backend")->u.str.s, "setuptools.build_meta");

	CHECK_STR(toml_get_path(root, "project.name")->u.str.s, "webapp");
	CHECK_STR(toml_get_path(root, "project.description")->u.str.s,
	          "A small web app.\nReloaded by py-mon while you work.");
	CHECK_STR(toml_get_path(root, "project.license.text")->u.str.s, "MIT");
	a = toml_get_path(root, "project.authors");
	CHECK(a && a->type == TOML_ARRAY && a->u.arr.count == 2);
	CHECK(a->u.arr.items[0]->type == TOML_TABLE);
	CHECK_STR(toml_get(a->u.arr.items[0], "name")->u.str.s, "Ada Lovelace");
	CHECK_STR(toml_get(a->u.arr.items[0], "email")->u.str.s, "ada@example.org");
	CHECK_STR(toml_get(a->u.arr.items[1], "name")->u.str.s, "Gr\xc3\xa4" "ce H\xc3\xb6pper");
	CHECK_INT(a->u.arr.items[1]->line, 17);
	CHECK_INT(a->u.arr.items[1]->col, 3);
	CHECK_INT(toml_get_path(root, "project.classifiers")->u.arr.count, 2);
	CHECK_STR(toml_get_path(root, "project.optional-dependencies.dev")->u.arr.items[1]->u.str.s,
	          "ruff==0.4.*");
	CHECK_STR(toml_get_path(root, "project.scripts.webapp")->u.str.s, "webapp.cli:main");

	CHECK_INT(toml_get_path(root, "tool.ruff.line-length")->u.i, 100);
	CHECK_INT(toml_get_path(root, "tool.ruff.lint.select")->u.arr.count, 3);
	CHECK_INT(toml_get_path(root, "tool.ruff.lint.ignore")->u.arr.count, 0);
	v = toml_get(toml_get_path(root, "tool.ruff.lint.per-file-ignores"), "__init__.py");
	CHECK(v && v->u.arr.count == 2);
	CHECK_STR(v->u.arr.items[1]->u.str.s, "E402");
	v = toml_get_path(root, "tool.ruff.lint.extend-safe-fixes");
	CHECK(v && v->u.arr.count == 2 && v->u.arr.items[0]->u.arr.count == 2);
	CHECK_STR(v->u.arr.items[0]->u.arr.items[1]->u.str.s, "b");
	CHECK(toml_get_path(root, "tool.pytest.ini_options.timeout")->u.f == 30.5);

	pm = toml_get_path(root, "tool.py-mon");
	CHECK(pm && pm->type == TOML_TABLE);
	CHECK_INT(pm->line, 47);
	CHECK_INT(pm->col, 1);
	v = toml_get(pm, "watch");
	CHECK(v && v->type == TOML_ARRAY && v->u.arr.count == 1);
	CHECK_STR(v->u.arr.items[0]->u.str.s, "src");
	v = toml_get(pm, "ext");
	CHECK(v && v->u.arr.count == 2);
	CHECK_STR(v->u.arr.items[0]->u.str.s, "py");
	CHECK_STR(v->u.arr.items[1]->u.str.s, "html");
	CHECK_STR(toml_get(pm, "delay")->u.str.s, "100ms");
	v = toml_get(pm, "command");
	CHECK_STR(v->u.str.s, "python3 app.py");
	CHECK_INT(v->line, 51);
	CHECK_INT(v->col, 11);
	CHECK_INT(toml_get(pm, "clear")->u.b, 1);
	v = toml_get(pm, "rule");
	CHECK(v && v->type == TOML_ARRAY && v->u.arr.count == 2);
	CHECK_STR(toml_get(v->u.arr.items[0], "match")->u.str.s, "*.html");
	CHECK_STR(toml_get(v->u.arr.items[0], "command")->u.str.s, "make templates");
	CHECK_STR(toml_get(v->u.arr.items[1], "match")->u.str.s, "static/**");
	CHECK_INT(toml_get(v->u.arr.items[1], "on")->u.arr.count, 2);
	CHECK(toml_get(v->u.arr.items[1], "command") == NULL);
	CHECK(toml_get(v->u.arr.items[1], "released")->type == TOML_DATETIME);
	CHECK_INT(v->u.arr.items[1]->line, 58);
	CHECK_INT(walk(root), 43);
	toml_free(root);

	/* Every prefix of the file either parses or fails cleanly. */
	for (size_t len = 0; len <= sizeof pyproject - 1; len++) {
		char err[256];
		struct toml_value *r = toml_parse(pyproject, len, err, sizeof err);
		if (!r)
			CHECK(strchr(err, ':') != NULL);
		toml_free(r);
	}
}
