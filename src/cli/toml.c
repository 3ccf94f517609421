/*
 * A strict TOML 1.0 reader (see toml.h): one pass of recursive descent
 * over the buffer, building the tree as it goes.
 *
 * Every value is allocated as a struct node, whose first member is the
 * public struct toml_value; the rest (capacity, depth, flags) is private
 * bookkeeping that the redefinition rules need:
 *
 *   F_IMPLICIT  a table created as a parent by a header ([a] by [a.b]);
 *               one [a] may still define it later
 *   F_DEFINED   a table defined by its own [header] or [[header]]
 *   F_DOTTED    a table created by a dotted key (a.b = 1 creates a);
 *               more dotted keys and sub-headers may extend it, a
 *               [header] of its own may not define it
 *   F_INLINE    an inline table or an array written as a value: closed
 *   F_AOT       an array created by [[header]]; more [[header]]s append
 *
 * Nesting is bounded: no table or array deeper than TOML_MAX_DEPTH levels
 * below the root, whether it comes from arrays, inline tables, dotted keys
 * or headers. The parser recurses only into arrays and inline tables, and
 * toml_free only along the tree, so neither can exhaust the stack.
 *
 * Not supported: keys containing U+0000 (the key arrays are C strings),
 * and anything of TOML 1.1 (newlines in inline tables, \e, \x, times
 * without seconds).
 */
#include "toml.h"
#include "text.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOML_MAX_DEPTH 64

enum {
	F_IMPLICIT = 1,
	F_DEFINED = 2,
	F_DOTTED = 4,
	F_INLINE = 8,
	F_AOT = 16,
};

struct node {
	struct toml_value v; /* first: a struct toml_value * is its node */
	size_t cap;          /* allocated items (array) or keys (table) */
	unsigned depth;      /* the root is 0 */
	unsigned flags;
	/* A table's key index, once it has INDEX_MIN keys: open addressing,
	 * each slot 0 (free) or 1 + the key's position; index_cap is a power
	 * of two, at least twice the key count. Lookups stay O(1), so a file
	 * of 100k keys parses in linear time, not quadratic. */
	size_t *index;
	size_t index_cap;
};

#define INDEX_MIN 16

struct loc {
	unsigned line, col;
};

struct parser {
	const unsigned char *p;
	size_t len, pos;
	size_t line_start; /* offset of the current line's first byte */
	unsigned line;
	char *err;
	size_t errlen;
	int failed;
	struct node *root, *cur; /* cur: where key = value lines go */
	char found[32];          /* describe()'s answer */
};

struct key_part {
	char *s; /* owned until moved into a table */
	struct loc at;
};

/* Growable byte buffer, always NUL-terminated once anything was added. */
struct buf {
	char *d;
	size_t n, cap;
};

/* ---- positions and errors ---- */

static struct loc loc_of(const struct parser *ps, size_t pos)
{
	struct loc l = {ps->line, 1};
	size_t col = pos - ps->line_start + 1;
	l.col = col > 0xffffffffu ? 0xffffffffu : (unsigned)col;
	return l;
}

static struct loc here(const struct parser *ps)
{
	return loc_of(ps, ps->pos);
}

static void vfail(struct parser *ps, struct loc at, const char *fmt, va_list ap)
{
	if (ps->failed)
		return;
	ps->failed = 1;
	if (!ps->err || !ps->errlen)
		return;
	int n = snprintf(ps->err, ps->errlen, "%u:%u: ", at.line, at.col);
	if (n < 0 || (size_t)n >= ps->errlen)
		return;
	vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
}

static void fail_at(struct parser *ps, struct loc at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail_at(struct parser *ps, struct loc at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(ps, at, fmt, ap);
	va_end(ap);
}

static void fail_here(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail_here(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(ps, here(ps), fmt, ap);
	va_end(ap);
}

static void fail_oom(struct parser *ps)
{
	fail_here(ps, "out of memory");
}

/* The byte at pos + off, or -1 past the end. */
static int peek(const struct parser *ps, size_t off)
{
	if (ps->pos + off >= ps->len || ps->pos + off < ps->pos)
		return -1;
	return ps->p[ps->pos + off];
}

/* What the byte at pos is, for "found ..." in messages. */
static const char *describe(struct parser *ps)
{
	int c = peek(ps, 0);
	if (c < 0)
		return "end of file";
	if (c == '\n' || (c == '\r' && peek(ps, 1) == '\n'))
		return "end of line";
	if (c >= 0x20 && c < 0x7f)
		snprintf(ps->found, sizeof ps->found, "'%c'", c);
	else
		snprintf(ps->found, sizeof ps->found, "byte 0x%02X", (unsigned)c);
	return ps->found;
}

static int is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A key for messages, anything unprintable as '?' and long names cut
 * short with "...". With quote, as it would be written in a dotted name:
 * bare, or in double quotes. */
static void show_key(char *out, size_t outsz, const char *key, int quote)
{
	size_t n = 0, klen = strlen(key), i;
	int bare = !quote || klen > 0;

	for (i = 0; quote && i < klen; i++)
		if (!is_bare((unsigned char)key[i]))
			bare = 0;
	if (outsz < 8) {
		if (outsz)
			out[0] = 0;
		return;
	}
	if (!bare)
		out[n++] = '"';
	for (i = 0; i < klen && n + 5 < outsz; i++) {
		unsigned char c = (unsigned char)key[i];
		out[n++] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
	}
	if (i < klen) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	if (!bare)
		out[n++] = '"';
	out[n] = 0;
}

/* parts[0..n) joined with '.', each as show_key writes it. */
static void show_path(char *out, size_t outsz, const struct key_part *parts, size_t n)
{
	size_t used = 0;
	char one[64];

	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		show_key(one, sizeof one, parts[i].s, 1);
		int w = snprintf(out + used, outsz - used, "%s%s", i ? "." : "", one);
		if (w < 0 || (size_t)w >= outsz - used) {
			if (outsz > 4)
				memcpy(out + outsz - 4, "...", 4);
			return;
		}
		used += (size_t)w;
	}
}

static const char *a_type(enum toml_type t)
{
	switch (t) {
	case TOML_STRING:
		return "a string";
	case TOML_INTEGER:
		return "an integer";
	case TOML_FLOAT:
		return "a float";
	case TOML_BOOL:
		return "a boolean";
	case TOML_DATETIME:
		return "a date-time";
	case TOML_ARRAY:
		return "an array";
	case TOML_TABLE:
		return "a table";
	}
	return "a value";
}

/* ---- memory ---- */

static int buf_add(struct buf *b, const void *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		while (cap < b->n + n + 1) {
			if (cap > SIZE_MAX / 2)
				return -1;
			cap *= 2;
		}
		char *d = realloc(b->d, cap);
		if (!d)
			return -1;
		b->d = d;
		b->cap = cap;
	}
	memcpy(b->d + b->n, s, n);
	b->n += n;
	b->d[b->n] = 0;
	return 0;
}

static int buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

static struct node *new_node(struct parser *ps, enum toml_type type, struct loc at)
{
	struct node *n = calloc(1, sizeof *n);
	if (!n) {
		fail_oom(ps);
		return NULL;
	}
	n->v.type = type;
	n->v.line = at.line;
	n->v.col = at.col;
	return n;
}

static struct node *as_node(struct toml_value *v)
{
	return (struct node *)v;
}

void toml_free(struct toml_value *v)
{
	if (!v)
		return;
	switch (v->type) {
	case TOML_STRING:
	case TOML_DATETIME:
		free(v->u.str.s);
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < v->u.arr.count; i++)
			toml_free(v->u.arr.items[i]);
		free(v->u.arr.items);
		break;
	case TOML_TABLE:
		for (size_t i = 0; i < v->u.tab.count; i++) {
			free(v->u.tab.keys[i]);
			toml_free(v->u.tab.values[i]);
		}
		free(as_node(v)->index);
		free(v->u.tab.keys);
		free(v->u.tab.key_lines);
		free(v->u.tab.key_cols);
		free(v->u.tab.values);
		break;
	case TOML_INTEGER:
	case TOML_FLOAT:
	case TOML_BOOL:
		break;
	}
	free(as_node(v));
}

/* Appends item to array a; takes item (freed on failure). */
static int arr_push(struct parser *ps, struct node *a, struct node *item)
{
	struct toml_value *v = &a->v;
	if (v->u.arr.count == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;
		struct toml_value **items = NULL;
		if (cap <= SIZE_MAX / sizeof *items)
			items = realloc(v->u.arr.items, cap * sizeof *items);
		if (!items) {
			toml_free(&item->v);
			fail_oom(ps);
			return -1;
		}
		v->u.arr.items = items;
		a->cap = cap;
	}
	v->u.arr.items[v->u.arr.count++] = &item->v;
	return 0;
}

/* FNV-1a */
static size_t key_hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 0x100000001b3u;
	return (size_t)h;
}

static void index_put(size_t *index, size_t cap, const char *key, size_t pos)
{
	size_t i = key_hash(key) & (cap - 1);
	while (index[i])
		i = (i + 1) & (cap - 1);
	index[i] = pos + 1;
}

/* (Re)builds t's index for at least `count` keys; -1 when out of memory. */
static int index_grow(struct node *t, size_t count)
{
	size_t cap = t->index_cap ? t->index_cap : 2 * INDEX_MIN;
	while (cap < 2 * count) {
		if (cap > SIZE_MAX / 4 / sizeof *t->index)
			return -1;
		cap *= 2;
	}
	if (cap == t->index_cap)
		return 0;
	size_t *index = calloc(cap, sizeof *index);
	if (!index)
		return -1;
	for (size_t i = 0; i < t->v.u.tab.count; i++)
		index_put(index, cap, t->v.u.tab.keys[i], i);
	free(t->index);
	t->index = index;
	t->index_cap = cap;
	return 0;
}

/* Adds key = value to table t; takes key and value (freed on failure). */
static int tab_add(struct parser *ps, struct node *t, char *key, struct loc at, struct node *value)
{
	struct toml_value *v = &t->v;
	if (v->u.tab.count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4;
		int ok = cap <= SIZE_MAX / sizeof(void *);
		void *p;
		if (ok && (p = realloc(v->u.tab.keys, cap * sizeof *v->u.tab.keys)))
			v->u.tab.keys = p;
		else
			ok = 0;
		if (ok && (p = realloc(v->u.tab.key_lines, cap * sizeof(unsigned))))
			v->u.tab.key_lines = p;
		else
			ok = 0;
		if (ok && (p = realloc(v->u.tab.key_cols, cap * sizeof(unsigned))))
			v->u.tab.key_cols = p;
		else
			ok = 0;
		if (ok && (p = realloc(v->u.tab.values, cap * sizeof *v->u.tab.values)))
			v->u.tab.values = p;
		else
			ok = 0;
		if (!ok) {
			free(key);
			toml_free(&value->v);
			fail_oom(ps);
			return -1;
		}
		t->cap = cap;
	}
	if ((t->index || v->u.tab.count + 1 >= INDEX_MIN) && index_grow(t, v->u.tab.count + 1) < 0) {
		free(key);
		toml_free(&value->v);
		fail_oom(ps);
		return -1;
	}
	size_t i = v->u.tab.count++;
	if (t->index)
		index_put(t->index, t->index_cap, key, i);
	v->u.tab.keys[i] = key;
	v->u.tab.key_lines[i] = at.line;
	v->u.tab.key_cols[i] = at.col;
	v->u.tab.values[i] = &value->v;
	return 0;
}

static struct node *tab_find(const struct node *t, const char *key)
{
	const struct toml_value *v = &t->v;
	if (t->index) {
		for (size_t i = key_hash(key) & (t->index_cap - 1); t->index[i]; i = (i + 1) & (t->index_cap - 1))
			if (strcmp(v->u.tab.keys[t->index[i] - 1], key) == 0)
				return as_node(v->u.tab.values[t->index[i] - 1]);
		return NULL;
	}
	for (size_t i = 0; i < v->u.tab.count; i++) {
		if (strcmp(v->u.tab.keys[i], key) == 0)
			return as_node(v->u.tab.values[i]);
	}
	return NULL;
}

/* A new table or array one level below parent, or NULL past the limit. */
static struct node *new_child(struct parser *ps, const struct node *parent, enum toml_type type,
                              struct loc at, unsigned flags)
{
	if (parent->depth >= TOML_MAX_DEPTH) {
		fail_at(ps, at, "nesting deeper than %d levels", TOML_MAX_DEPTH);
		return NULL;
	}
	struct node *n = new_node(ps, type, at);
	if (n) {
		n->depth = parent->depth + 1;
		n->flags = flags;
	}
	return n;
}

/* ---- lexical pieces ---- */

static void skip_ws(struct parser *ps)
{
	while (ps->pos < ps->len && (ps->p[ps->pos] == ' ' || ps->p[ps->pos] == '\t'))
		ps->pos++;
}

static int at_newline(const struct parser *ps)
{
	int c = peek(ps, 0);
	return c == '\n' || (c == '\r' && peek(ps, 1) == '\n');
}

/* Consumes the LF or CRLF at pos (at_newline() was true). */
static void take_newline(struct parser *ps)
{
	ps->pos += ps->p[ps->pos] == '\r' ? 2 : 1;
	ps->line++;
	ps->line_start = ps->pos;
}

/* From '#' to the end of the line, which is left in place. */
static int skip_comment(struct parser *ps)
{
	ps->pos++;
	while (ps->pos < ps->len && !at_newline(ps)) {
		unsigned char c = ps->p[ps->pos];
		if (c >= 0x80) {
			size_t k = cli_utf8_decode(ps->p + ps->pos, ps->len - ps->pos, NULL);
			if (!k) {
				fail_here(ps, "invalid UTF-8 in comment");
				return -1;
			}
			ps->pos += k;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			fail_here(ps, "control character U+%04X in comment", c);
			return -1;
		} else {
			ps->pos++;
		}
	}
	return 0;
}

/* Whitespace, comments and newlines, as allowed inside arrays. */
static int skip_ws_nl(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		if (peek(ps, 0) == '#') {
			if (skip_comment(ps) < 0)
				return -1;
		} else if (at_newline(ps)) {
			take_newline(ps);
		} else {
			return 0;
		}
	}
}

/* After a header or key = value: optional comment, then a newline or EOF. */
static int end_of_line(struct parser *ps, const char *after)
{
	skip_ws(ps);
	if (peek(ps, 0) == '#' && skip_comment(ps) < 0)
		return -1;
	if (ps->pos >= ps->len)
		return 0;
	if (at_newline(ps)) {
		take_newline(ps);
		return 0;
	}
	fail_here(ps, "expected a newline or comment after %s, found %s", after, describe(ps));
	return -1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int add_utf8(struct buf *b, unsigned long cp)
{
	char s[4];
	size_t n;
	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xC0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xE0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		s[0] = (char)(0xF0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return buf_add(b, s, n);
}

/* A backslash sequence in a basic string; pos is at the backslash. */
static int parse_escape(struct parser *ps, struct buf *b, int multi, struct loc open)
{
	struct loc at = here(ps);
	int c = peek(ps, 1);
	char out;

	if (c < 0) {
		fail_at(ps, open, "unterminated string");
		return -1;
	}
	if (multi && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
		/* Line-ending backslash: eats all whitespace and newlines up
		 * to the next other character. */
		ps->pos++;
		skip_ws(ps);
		if (!at_newline(ps)) {
			if (ps->pos >= ps->len)
				fail_at(ps, open, "unterminated string");
			else
				fail_here(ps, "expected a newline after a line-ending backslash, found %s",
				          describe(ps));
			return -1;
		}
		while (ps->pos < ps->len) {
			if (at_newline(ps))
				take_newline(ps);
			else if (ps->p[ps->pos] == ' ' || ps->p[ps->pos] == '\t')
				ps->pos++;
			else
				break;
		}
		return 0;
	}
	switch (c) {
	case 'b': out = '\b'; break;
	case 't': out = '\t'; break;
	case 'n': out = '\n'; break;
	case 'f': out = '\f'; break;
	case 'r': out = '\r'; break;
	case '"': out = '"'; break;
	case '\\': out = '\\'; break;
	case 'u':
	case 'U': {
		int ndig = c == 'u' ? 4 : 8;
		unsigned long cp = 0;
		for (int i = 0; i < ndig; i++) {
			int h = hexval(peek(ps, 2 + (size_t)i));
			if (h < 0) {
				fail_at(ps, at, "invalid escape '\\%c': expected %d hex digits", c, ndig);
				return -1;
			}
			cp = cp * 16 + (unsigned long)h;
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
			fail_at(ps, at, "invalid escape '\\%c%.*s': not a Unicode scalar value", c, ndig,
			        (const char *)ps->p + ps->pos + 2);
			return -1;
		}
		ps->pos += 2 + (size_t)ndig;
		if (add_utf8(b, cp) < 0) {
			fail_oom(ps);
			return -1;
		}
		return 0;
	}
	default:
		if (c > 0x20 && c < 0x7f) {
			fail_at(ps, at, "invalid escape '\\%c'", c);
		} else {
			ps->pos++;
			fail_at(ps, at, "invalid escape: '\\' followed by %s", describe(ps));
		}
		return -1;
	}
	ps->pos += 2;
	if (buf_addc(b, out) < 0) {
		fail_oom(ps);
		return -1;
	}
	return 0;
}

/* Any of the four string forms; pos is at the opening quote. The result
 * in b is NUL-terminated (b->d is set even for an empty string). */
static int parse_string(struct parser *ps, struct buf *b, int is_key)
{
	struct loc open = here(ps);
	int q = ps->p[ps->pos];
	int multi = peek(ps, 1) == q && peek(ps, 2) == q;

	if (buf_add(b, "", 0) < 0) {
		fail_oom(ps);
		return -1;
	}
	if (multi && is_key) {
		fail_at(ps, open, "a multi-line string cannot be a key");
		return -1;
	}
	ps->pos += multi ? 3 : 1;
	if (multi && at_newline(ps))
		take_newline(ps); /* trimmed */
	for (;;) {
		if (ps->pos >= ps->len) {
			fail_at(ps, open, "unterminated string");
			return -1;
		}
		unsigned char c = ps->p[ps->pos];
		size_t k = 1;
		if (c == q) {
			if (!multi) {
				ps->pos++;
				return 0;
			}
			size_t run = 1;
			while (run < 5 && peek(ps, run) == q)
				run++;
			/* Up to two quotes may sit right before the closing three. */
			size_t keep = run >= 3 ? run - 3 : run;
			if (buf_add(b, ps->p + ps->pos, keep) < 0) {
				fail_oom(ps);
				return -1;
			}
			ps->pos += run;
			if (run >= 3)
				return 0;
			continue;
		}
		if (c == '\\' && q == '"') {
			if (parse_escape(ps, b, multi, open) < 0)
				return -1;
			continue;
		}
		if (at_newline(ps)) {
			if (!multi) {
				fail_at(ps, open, "unterminated string");
				return -1;
			}
			take_newline(ps);
			if (buf_addc(b, '\n') < 0) {
				fail_oom(ps);
				return -1;
			}
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			fail_here(ps, "control character U+%04X in string", c);
			return -1;
		}
		if (c >= 0x80) {
			k = cli_utf8_decode(ps->p + ps->pos, ps->len - ps->pos, NULL);
			if (!k) {
				fail_here(ps, "invalid UTF-8 in string");
				return -1;
			}
		}
		if (buf_add(b, ps->p + ps->pos, k) < 0) {
			fail_oom(ps);
			return -1;
		}
		ps->pos += k;
	}
}

/* key = simple-key *( ws '.' ws simple-key ); fills parts[0..*n). The
 * caller frees parts[i].s for every i < *n, also on failure. */
static int parse_key(struct parser *ps, struct key_part *parts, size_t *n)
{
	*n = 0;
	for (;;) {
		struct loc at = here(ps);
		int c = peek(ps, 0);
		char *s;

		if (*n == TOML_MAX_DEPTH + 1) {
			fail_at(ps, at, "nesting deeper than %d levels", TOML_MAX_DEPTH);
			return -1;
		}
		if (c == '"' || c == '\'') {
			struct buf b = {0};
			if (parse_string(ps, &b, 1) < 0) {
				free(b.d);
				return -1;
			}
			if (memchr(b.d, 0, b.n)) {
				free(b.d);
				fail_at(ps, at, "keys containing U+0000 are not supported");
				return -1;
			}
			s = b.d;
		} else if (is_bare(c)) {
			size_t start = ps->pos;
			while (is_bare(peek(ps, 0)))
				ps->pos++;
			s = strndup((const char *)ps->p + start, ps->pos - start);
			if (!s) {
				fail_oom(ps);
				return -1;
			}
		} else {
			fail_here(ps, "expected a key%s, found %s", *n ? " after '.'" : "", describe(ps));
			return -1;
		}
		parts[*n].s = s;
		parts[*n].at = at;
		(*n)++;
		skip_ws(ps);
		if (peek(ps, 0) != '.')
			return 0;
		ps->pos++;
		skip_ws(ps);
	}
}

/* Moves a key's string out of parts (tab_add then owns it). */
static char *take_key(struct key_part *k)
{
	char *s = k->s;
	k->s = NULL;
	return s;
}

/* ---- values ---- */

static struct node *parse_value(struct parser *ps, const struct node *parent);
static int parse_keyval(struct parser *ps, struct node *tbl);

static struct node *str_node(struct parser *ps, enum toml_type type, struct loc at, struct buf *b)
{
	struct node *n = new_node(ps, type, at);
	if (!n) {
		free(b->d);
		return NULL;
	}
	n->v.u.str.s = b->d;
	n->v.u.str.len = b->n;
	return n;
}

/* Exactly n digits at pos: consumed, their value returned; else -1. */
static int take_digits(struct parser *ps, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		int c = peek(ps, (size_t)i);
		if (!is_digit(c))
			return -1;
		v = v * 10 + (c - '0');
	}
	ps->pos += (size_t)n;
	return v;
}

static int take_char(struct parser *ps, char c)
{
	if (peek(ps, 0) != c)
		return -1;
	ps->pos++;
	return 0;
}

/* HH:MM:SS[.frac]; the range checks name the first field out of range. */
static int parse_time(struct parser *ps)
{
	struct loc at = here(ps);
	int h = take_digits(ps, 2);
	if (h < 0 || take_char(ps, ':') < 0) {
		fail_here(ps, "invalid date-time: expected HH:MM:SS, found %s", describe(ps));
		return -1;
	}
	struct loc at_m = here(ps);
	int m = take_digits(ps, 2);
	if (m < 0 || take_char(ps, ':') < 0) {
		fail_here(ps, "invalid date-time: expected HH:MM:SS, found %s", describe(ps));
		return -1;
	}
	struct loc at_s = here(ps);
	int s = take_digits(ps, 2);
	if (s < 0) {
		fail_here(ps, "invalid date-time: expected two digits of seconds, found %s",
		          describe(ps));
		return -1;
	}
	if (h > 23) {
		fail_at(ps, at, "invalid time: hour %02d", h);
		return -1;
	}
	if (m > 59) {
		fail_at(ps, at_m, "invalid time: minute %02d", m);
		return -1;
	}
	if (s > 60) { /* 60: a leap second */
		fail_at(ps, at_s, "invalid time: second %02d", s);
		return -1;
	}
	if (peek(ps, 0) == '.') {
		ps->pos++;
		if (!is_digit(peek(ps, 0))) {
			fail_here(ps, "invalid time: expected a digit after '.', found %s", describe(ps));
			return -1;
		}
		while (is_digit(peek(ps, 0)))
			ps->pos++;
	}
	return 0;
}

/* Offset date-time, local date-time, local date or local time, kept as
 * written. pos is at YYYY- or HH: (the caller looked). */
static struct node *parse_datetime(struct parser *ps)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	struct loc at = here(ps);
	size_t start = ps->pos;
	int has_date = 0;

	if (peek(ps, 2) != ':') {
		int y = take_digits(ps, 4);
		take_char(ps, '-');
		struct loc at_m = here(ps);
		int m = take_digits(ps, 2);
		if (m < 0 || take_char(ps, '-') < 0) {
			fail_here(ps, "invalid date: expected YYYY-MM-DD, found %s", describe(ps));
			return NULL;
		}
		struct loc at_d = here(ps);
		int d = take_digits(ps, 2);
		if (d < 0) {
			fail_here(ps, "invalid date: expected YYYY-MM-DD, found %s", describe(ps));
			return NULL;
		}
		if (m < 1 || m > 12) {
			fail_at(ps, at_m, "invalid date: month %02d", m);
			return NULL;
		}
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		if (d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap)) {
			fail_at(ps, at_d, "invalid date: day %02d of %04d-%02d", d, y, m);
			return NULL;
		}
		has_date = 1;
		int c = peek(ps, 0);
		if (c == 'T' || c == 't') {
			ps->pos++;
		} else if (c == ' ' && is_digit(peek(ps, 1)) && is_digit(peek(ps, 2)) &&
		           peek(ps, 3) == ':') {
			ps->pos++;
		} else {
			goto done; /* a local date */
		}
	}
	if (parse_time(ps) < 0)
		return NULL;
	if (has_date) {
		int c = peek(ps, 0);
		if (c == 'Z' || c == 'z') {
			ps->pos++;
		} else if (c == '+' || c == '-') {
			ps->pos++;
			struct loc at_o = here(ps);
			int oh = take_digits(ps, 2);
			int om = oh < 0 || take_char(ps, ':') < 0 ? -1 : take_digits(ps, 2);
			if (om < 0) {
				fail_here(ps, "invalid date-time: expected an offset HH:MM, found %s",
				          describe(ps));
				return NULL;
			}
			if (oh > 23 || om > 59) {
				fail_at(ps, at_o, "invalid date-time: offset %02d:%02d", oh, om);
				return NULL;
			}
		}
	}
done:;
	struct buf b = {0};
	if (buf_add(&b, ps->p + start, ps->pos - start) < 0) {
		free(b.d);
		fail_oom(ps);
		return NULL;
	}
	return str_node(ps, TOML_DATETIME, at, &b);
}

static int digit_in(int c, int base)
{
	if (base == 16)
		return hexval(c) >= 0;
	return c >= '0' && c < '0' + base;
}

/* Digits of base with single '_' between them; pos is at a digit. Adds
 * their value to *mag (saturating: *over set) when mag is given. */
static int take_number_digits(struct parser *ps, int base, uint64_t *mag, int *over)
{
	for (;;) {
		int c = peek(ps, 0);
		if (digit_in(c, base)) {
			if (mag) {
				uint64_t d = (uint64_t)hexval(c);
				if (*mag > (UINT64_MAX - d) / (uint64_t)base)
					*over = 1;
				else
					*mag = *mag * (uint64_t)base + d;
			}
			ps->pos++;
		} else if (c == '_') {
			if (!digit_in(peek(ps, 1), base)) {
				fail_here(ps, "'_' must be between digits");
				return -1;
			}
			ps->pos++;
		} else {
			return 0;
		}
	}
}

static struct node *float_node(struct parser *ps, struct loc at, double f)
{
	struct node *n = new_node(ps, TOML_FLOAT, at);
	if (n)
		n->v.u.f = f;
	return n;
}

/* The text [start, pos) as a double: '_' dropped, '.' spelled the way
 * strtod expects it in the current locale. */
static struct node *convert_float(struct parser *ps, struct loc at, size_t start)
{
	const char *dp = localeconv()->decimal_point;
	size_t dplen = dp && *dp ? strlen(dp) : 1, n = 0;
	char *s = malloc(ps->pos - start + dplen + 1);
	if (!s) {
		fail_oom(ps);
		return NULL;
	}
	for (size_t i = start; i < ps->pos; i++) {
		char c = (char)ps->p[i];
		if (c == '_')
			continue;
		if (c == '.' && dp && *dp) {
			memcpy(s + n, dp, dplen);
			n += dplen;
		} else {
			s[n++] = c;
		}
	}
	s[n] = 0;
	char *end;
	double f = strtod(s, &end);
	int bad = *end != 0;
	free(s);
	if (bad || isinf(f)) {
		fail_at(ps, at, "float out of range");
		return NULL;
	}
	return float_node(ps, at, f);
}

/* Integers (decimal, 0x, 0o, 0b) and floats, pos at a sign or digit. */
static struct node *parse_number(struct parser *ps)
{
	struct loc at = here(ps);
	size_t start = ps->pos;
	int neg = 0, is_float = 0, over = 0, base = 10;
	uint64_t mag = 0;
	int c = peek(ps, 0);

	if (c == '+' || c == '-') {
		neg = c == '-';
		ps->pos++;
		const char *w = (const char *)ps->p + ps->pos;
		if (ps->len - ps->pos >= 3 && (!memcmp(w, "inf", 3) || !memcmp(w, "nan", 3)) &&
		    !is_bare(peek(ps, 3))) {
			ps->pos += 3;
			double f = w[0] == 'i' ? INFINITY : NAN;
			return float_node(ps, at, neg ? -f : f);
		}
		if (!is_digit(peek(ps, 0))) {
			fail_here(ps, "expected a digit after '%c', found %s", c, describe(ps));
			return NULL;
		}
	} else if (c == '0' && (peek(ps, 1) == 'x' || peek(ps, 1) == 'o' || peek(ps, 1) == 'b')) {
		int p = peek(ps, 1);
		base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
		ps->pos += 2;
		if (!digit_in(peek(ps, 0), base)) {
			fail_here(ps, "expected a %s digit after '0%c', found %s",
			          base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary", p,
			          describe(ps));
			return NULL;
		}
	}
	size_t digits = ps->pos;
	if (take_number_digits(ps, base, &mag, &over) < 0)
		return NULL;
	if (base == 10) {
		if (ps->p[digits] == '0' && ps->pos - digits > 1) {
			fail_at(ps, loc_of(ps, digits), "leading zeros are not allowed");
			return NULL;
		}
		if (peek(ps, 0) == '.') {
			is_float = 1;
			ps->pos++;
			if (!is_digit(peek(ps, 0))) {
				fail_here(ps, "expected a digit after '.', found %s", describe(ps));
				return NULL;
			}
			if (take_number_digits(ps, 10, NULL, NULL) < 0)
				return NULL;
		}
		if (peek(ps, 0) == 'e' || peek(ps, 0) == 'E') {
			is_float = 1;
			ps->pos++;
			if (peek(ps, 0) == '+' || peek(ps, 0) == '-')
				ps->pos++;
			if (!is_digit(peek(ps, 0))) {
				fail_here(ps, "expected a digit in the exponent, found %s", describe(ps));
				return NULL;
			}
			if (take_number_digits(ps, 10, NULL, NULL) < 0)
				return NULL;
		}
	}
	c = peek(ps, 0);
	if (is_bare(c) || c == '.' || c == '+') {
		fail_here(ps, "invalid character %s in number", describe(ps));
		return NULL;
	}
	if (is_float)
		return convert_float(ps, at, start);

	uint64_t limit = (uint64_t)INT64_MAX + (neg ? 1 : 0);
	if (over || mag > limit) {
		fail_at(ps, at, "integer %.*s out of range (64-bit)",
		        (int)(ps->pos - start > 40 ? 40 : ps->pos - start),
		        (const char *)ps->p + start);
		return NULL;
	}
	struct node *n = new_node(ps, TOML_INTEGER, at);
	if (n) {
		if (!neg)
			n->v.u.i = (int64_t)mag;
		else if (mag == (uint64_t)INT64_MAX + 1)
			n->v.u.i = INT64_MIN;
		else
			n->v.u.i = -(int64_t)mag;
	}
	return n;
}

static struct node *parse_array(struct parser *ps, const struct node *parent)
{
	struct node *a = new_child(ps, parent, TOML_ARRAY, here(ps), F_INLINE);
	if (!a)
		return NULL;
	ps->pos++;
	for (;;) {
		if (skip_ws_nl(ps) < 0)
			goto fail;
		if (peek(ps, 0) == ']')
			break;
		if (ps->pos >= ps->len) {
			fail_here(ps, "expected a value or ']' in array, found end of file");
			goto fail;
		}
		struct node *item = parse_value(ps, a);
		if (!item || arr_push(ps, a, item) < 0)
			goto fail;
		if (skip_ws_nl(ps) < 0)
			goto fail;
		if (peek(ps, 0) == ',') {
			ps->pos++;
			continue;
		}
		if (peek(ps, 0) == ']')
			break;
		fail_here(ps, "expected ',' or ']' in array, found %s", describe(ps));
		goto fail;
	}
	ps->pos++;
	return a;
fail:
	toml_free(&a->v);
	return NULL;
}

static struct node *parse_inline_table(struct parser *ps, const struct node *parent)
{
	struct node *t = new_child(ps, parent, TOML_TABLE, here(ps), 0);
	if (!t)
		return NULL;
	ps->pos++;
	skip_ws(ps);
	if (peek(ps, 0) != '}') {
		for (;;) {
			if (parse_keyval(ps, t) < 0)
				goto fail;
			skip_ws(ps);
			int c = peek(ps, 0);
			if (c == ',') {
				ps->pos++;
				skip_ws(ps);
				if (peek(ps, 0) == '}') {
					fail_here(ps, "expected a key after ',' in inline table, found '}'");
					goto fail;
				}
				continue;
			}
			if (c == '}')
				break;
			fail_here(ps, "expected ',' or '}' in inline table, found %s%s", describe(ps),
			          at_newline(ps) ? " (an inline table must be on one line)" : "");
			goto fail;
		}
	}
	ps->pos++;
	t->flags |= F_INLINE;
	return t;
fail:
	toml_free(&t->v);
	return NULL;
}

/* A value; parent is the table or array that will hold it. */
static struct node *parse_value(struct parser *ps, const struct node *parent)
{
	struct loc at = here(ps);
	int c = peek(ps, 0);

	if (c == '"' || c == '\'') {
		struct buf b = {0};
		if (parse_string(ps, &b, 0) < 0) {
			free(b.d);
			return NULL;
		}
		return str_node(ps, TOML_STRING, at, &b);
	}
	if (c == '[')
		return parse_array(ps, parent);
	if (c == '{')
		return parse_inline_table(ps, parent);
	if (is_digit(c)) {
		if ((is_digit(peek(ps, 1)) && peek(ps, 2) == ':') ||
		    (is_digit(peek(ps, 1)) && is_digit(peek(ps, 2)) && is_digit(peek(ps, 3)) &&
		     peek(ps, 4) == '-'))
			return parse_datetime(ps);
		return parse_number(ps);
	}
	if (c == '+' || c == '-')
		return parse_number(ps);
	if (c < 0 || c == '#' || at_newline(ps)) {
		fail_here(ps, "expected a value after '='");
		return NULL;
	}
	if (is_bare(c)) {
		size_t n = 0;
		while (is_bare(peek(ps, n)))
			n++;
		const char *w = (const char *)ps->p + ps->pos;
		if ((n == 4 && !memcmp(w, "true", 4)) || (n == 5 && !memcmp(w, "false", 5))) {
			struct node *v = new_node(ps, TOML_BOOL, at);
			if (v)
				v->v.u.b = n == 4;
			ps->pos += n;
			return v;
		}
		if (n == 3 && (!memcmp(w, "inf", 3) || !memcmp(w, "nan", 3))) {
			ps->pos += 3;
			return float_node(ps, at, w[0] == 'i' ? INFINITY : NAN);
		}
		fail_here(ps, "expected a value, found '%.*s' (strings must be quoted)",
		          (int)(n > 40 ? 40 : n), w);
		return NULL;
	}
	fail_here(ps, "expected a value, found %s", describe(ps));
	return NULL;
}

/* key = value into tbl (the current [table] or an inline table). Dotted
 * keys create or extend tables that dotted keys created. */
static int parse_keyval(struct parser *ps, struct node *tbl)
{
	struct key_part parts[TOML_MAX_DEPTH + 1];
	size_t n = 0;
	int rc = -1;
	char name[80];

	if (parse_key(ps, parts, &n) < 0)
		goto out;
	if (peek(ps, 0) != '=') {
		fail_here(ps, "expected '=' after key");
		goto out;
	}
	ps->pos++;
	skip_ws(ps);

	struct node *t = tbl;
	for (size_t i = 0; i + 1 < n; i++) {
		struct node *v = tab_find(t, parts[i].s);
		if (!v) {
			v = new_child(ps, t, TOML_TABLE, parts[i].at, F_DOTTED);
			if (!v || tab_add(ps, t, take_key(&parts[i]), parts[i].at, v) < 0)
				goto out;
		} else if (v->v.type != TOML_TABLE) {
			show_key(name, sizeof name, parts[i].s, 0);
			fail_at(ps, parts[i].at, "key '%s' is already %s (at %u:%u), not a table",
			        name, a_type(v->v.type), v->v.line, v->v.col);
			goto out;
		} else if (!(v->flags & F_DOTTED) || (v->flags & F_INLINE)) {
			show_key(name, sizeof name, parts[i].s, 0);
			fail_at(ps, parts[i].at,
			        "table '%s' (at %u:%u) cannot be extended with a dotted key here", name,
			        v->v.line, v->v.col);
			goto out;
		}
		t = v;
	}
	struct key_part *last = &parts[n - 1];
	if (tab_find(t, last->s)) {
		show_key(name, sizeof name, last->s, 0);
		fail_at(ps, last->at, "duplicate key '%s'", name);
		goto out;
	}
	struct node *v = parse_value(ps, t);
	if (!v)
		goto out;
	rc = tab_add(ps, t, take_key(last), last->at, v);
out:
	for (size_t i = 0; i < n; i++)
		free(parts[i].s);
	return rc;
}

/* [a.b.c] or [[a.b.c]]; pos is at the first '['. Makes it ps->cur. */
static int parse_header(struct parser *ps)
{
	struct key_part parts[TOML_MAX_DEPTH + 1];
	size_t n = 0;
	int rc = -1;
	struct loc at = here(ps);
	int aot = peek(ps, 1) == '[';
	char name[200], one[80];

	ps->pos += aot ? 2 : 1;
	skip_ws(ps);
	if (parse_key(ps, parts, &n) < 0)
		goto out;
	if (peek(ps, 0) != ']' || (aot && peek(ps, 1) != ']')) {
		if (peek(ps, 0) == ']')
			ps->pos++;
		fail_here(ps, "expected '%s' after table name, found %s", aot ? "]]" : "]",
		          describe(ps));
		goto out;
	}
	ps->pos += aot ? 2 : 1;
	if (end_of_line(ps, "table header") < 0)
		goto out;
	show_path(name, sizeof name, parts, n);

	struct node *t = ps->root;
	for (size_t i = 0; i + 1 < n; i++) {
		struct node *v = tab_find(t, parts[i].s);
		if (!v) {
			v = new_child(ps, t, TOML_TABLE, parts[i].at, F_IMPLICIT);
			if (!v || tab_add(ps, t, take_key(&parts[i]), parts[i].at, v) < 0)
				goto out;
		} else if (v->v.type == TOML_ARRAY && (v->flags & F_AOT)) {
			v = as_node(v->v.u.arr.items[v->v.u.arr.count - 1]);
		} else if (v->v.type != TOML_TABLE || (v->flags & F_INLINE)) {
			show_key(one, sizeof one, parts[i].s, 0);
			fail_at(ps, parts[i].at, "cannot define [%s]: '%s' is already %s%s (at %u:%u)",
			        name, one, v->v.type == TOML_TABLE ? "an inline table" : a_type(v->v.type),
			        v->v.type == TOML_ARRAY ? " value" : "", v->v.line, v->v.col);
			goto out;
		}
		t = v;
	}

	struct key_part *last = &parts[n - 1];
	struct node *v = tab_find(t, last->s);
	if (!v && t->depth + (aot ? 2u : 1u) > TOML_MAX_DEPTH) {
		fail_at(ps, last->at, "nesting deeper than %d levels", TOML_MAX_DEPTH);
		goto out;
	}
	if (!aot) {
		if (!v) {
			v = new_child(ps, t, TOML_TABLE, at, F_DEFINED);
			if (!v || tab_add(ps, t, take_key(last), last->at, v) < 0)
				goto out;
		} else if (v->v.type == TOML_TABLE && v->flags == F_IMPLICIT) {
			v->flags = F_DEFINED;
			v->v.line = at.line;
			v->v.col = at.col;
		} else if (v->v.type == TOML_TABLE) {
			fail_at(ps, at, "table [%s] defined twice", name);
			goto out;
		} else {
			fail_at(ps, at, "cannot define table [%s]: it is already %s (at %u:%u)", name,
			        (v->flags & F_AOT) ? "an array of tables" : a_type(v->v.type),
			        v->v.line, v->v.col);
			goto out;
		}
		ps->cur = v;
	} else {
		if (!v) {
			v = new_child(ps, t, TOML_ARRAY, at, F_AOT);
			if (!v || tab_add(ps, t, take_key(last), last->at, v) < 0)
				goto out;
		} else if (v->v.type != TOML_ARRAY || !(v->flags & F_AOT)) {
			fail_at(ps, at, "cannot define array of tables [[%s]]: it is already %s%s (at %u:%u)",
			        name, a_type(v->v.type), v->v.type == TOML_ARRAY ? " value" : "",
			        v->v.line, v->v.col);
			goto out;
		}
		struct node *item = new_child(ps, v, TOML_TABLE, at, F_DEFINED);
		if (!item || arr_push(ps, v, item) < 0)
			goto out;
		ps->cur = item;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(parts[i].s);
	return rc;
}

struct toml_value *toml_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser ps = {
		.p = (const unsigned char *)text,
		.len = text ? len : 0,
		.line = 1,
		.err = err,
		.errlen = errlen,
	};

	if (err && errlen)
		err[0] = 0;
	ps.root = new_node(&ps, TOML_TABLE, (struct loc){1, 1});
	if (!ps.root)
		return NULL;
	ps.cur = ps.root;
	if (ps.len >= 3 && !memcmp(ps.p, "\xEF\xBB\xBF", 3))
		ps.pos = ps.line_start = 3; /* a BOM: skipped, and not counted in columns */

	while (!ps.failed) {
		skip_ws(&ps);
		int c = peek(&ps, 0);
		if (c < 0)
			break;
		if (c == '#' || at_newline(&ps))
			end_of_line(&ps, "comment");
		else if (c == '[')
			parse_header(&ps);
		else if (parse_keyval(&ps, ps.cur) == 0)
			end_of_line(&ps, "value");
	}
	if (ps.failed) {
		toml_free(&ps.root->v);
		return NULL;
	}
	return &ps.root->v;
}

const struct toml_value *toml_get(const struct toml_value *t, const char *key)
{
	if (!t || !key || t->type != TOML_TABLE)
		return NULL;
	/* Every value the parser returns is a node. */
	struct node *n = tab_find((const struct node *)t, key);
	return n ? &n->v : NULL;
}

const struct toml_value *toml_get_path(const struct toml_value *t, const char *dotted)
{
	if (!dotted)
		return NULL;
	for (;;) {
		const char *dot = strchr(dotted, '.');
		size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);
		const struct toml_value *next = NULL;

		if (!t || t->type != TOML_TABLE || n == 0)
			return NULL;
		for (size_t i = 0; i < t->u.tab.count; i++) {
			const char *k = t->u.tab.keys[i];
			if (strncmp(k, dotted, n) == 0 && k[n] == 0) {
				next = t->u.tab.values[i];
				break;
			}
		}
		if (!dot)
			return next;
		t = next;
		dotted = dot + 1;
	}
}

const char *toml_type_name(enum toml_type t)
{
	switch (t) {
	case TOML_STRING:
		return "string";
	case TOML_INTEGER:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOL:
		return "boolean";
	case TOML_DATETIME:
		return "datetime";
	case TOML_ARRAY:
		return "array";
	case TOML_TABLE:
		return "table";
	}
	return "unknown";
}
