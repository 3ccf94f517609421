/*
 * A strict reader for the TOML subset py-mon's config needs (and that
 * pyproject.toml files use around it). Pure: parses a buffer, no I/O.
 *
 * Supported: comments; bare, quoted and dotted keys; basic strings with
 * escapes (\b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX), literal strings,
 * multi-line basic and literal strings; integers (decimal with _, 0x, 0o,
 * 0b, sign); floats (fraction, exponent, inf, nan); booleans; offset and
 * local date-times, dates and times (kept as their text); arrays (mixed
 * types, multi-line, trailing comma, comments inside); inline tables;
 * [tables], [[arrays of tables]], dotted headers. Anything else, and any
 * redefinition of a key or table, is an error with line and column.
 */
#ifndef PYMON_CLI_TOML_H
#define PYMON_CLI_TOML_H

#include <stddef.h>
#include <stdint.h>

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME, /* .s holds the text as written */
	TOML_ARRAY,
	TOML_TABLE,
};

struct toml_value {
	enum toml_type type;
	unsigned line, col; /* 1-based position where the value starts */
	union {
		struct {
			char *s;    /* NUL-terminated; may contain NUL from \u0000: use len */
			size_t len;
		} str;      /* STRING, DATETIME */
		int64_t i;  /* INTEGER */
		double f;   /* FLOAT */
		int b;      /* BOOL */
		struct {
			struct toml_value **items;
			size_t count;
		} arr;      /* ARRAY */
		struct {
			char **keys;                /* NUL-terminated key names (one level) */
			unsigned *key_lines, *key_cols; /* where each key was written */
			struct toml_value **values;
			size_t count;
		} tab;      /* TABLE */
	} u;
};

/* Parses text (len bytes, need not be NUL-terminated). Returns the root
 * table, or NULL with "LINE:COL: message" in err (e.g.
 * "12:9: expected a value after '='"). */
struct toml_value *toml_parse(const char *text, size_t len, char *err, size_t errlen);

void toml_free(struct toml_value *v);

/* The value of key in table t (one level), or NULL. */
const struct toml_value *toml_get(const struct toml_value *t, const char *key);

/* Walks a dotted path of plain keys ("tool.py-mon"), or NULL. */
const struct toml_value *toml_get_path(const struct toml_value *t, const char *dotted);

const char *toml_type_name(enum toml_type t);

#endif
