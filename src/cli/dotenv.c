/* The .env parser (see dotenv.h): one pass, one line or quoted value at a
 * time, values built in a growing buffer. Linear in the input. */
#include "dotenv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ps {
	const char *p;
	size_t len, pos;
	unsigned line;
	unsigned *err_line;
	char *err;
	size_t errlen;
	char *val; /* the value being built */
	size_t n, cap;
};

static int fail(struct ps *s, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ps *s, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (s->err && s->errlen)
		vsnprintf(s->err, s->errlen, fmt, ap);
	va_end(ap);
	if (s->err_line)
		*s->err_line = line;
	return -EINVAL;
}

static int add(struct ps *s, char c)
{
	if (s->n + 1 >= s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char *v = realloc(s->val, cap);
		if (!v)
			return -ENOMEM;
		s->val = v;
		s->cap = cap;
	}
	s->val[s->n++] = c;
	s->val[s->n] = '\0';
	return 0;
}

static int peek(const struct ps *s)
{
	return s->pos < s->len ? (unsigned char)s->p[s->pos] : -1;
}

static void skip_blanks(struct ps *s)
{
	while (peek(s) == ' ' || peek(s) == '\t')
		s->pos++;
}

static int at_eol(const struct ps *s)
{
	int c = peek(s);
	return c < 0 || c == '\n' || (c == '\r' && s->pos + 1 < s->len && s->p[s->pos + 1] == '\n') ||
	       (c == '\r' && s->pos + 1 == s->len);
}

/* Past the end of the line (its newline included). */
static void next_line(struct ps *s)
{
	while (s->pos < s->len && s->p[s->pos] != '\n')
		s->pos++;
	if (s->pos < s->len) {
		s->pos++;
		s->line++;
	}
}

/* After a value: blanks, maybe a comment, then the end of the line. */
static int end_of_line(struct ps *s, const char *key)
{
	skip_blanks(s);
	if (peek(s) == '#' || at_eol(s)) {
		next_line(s);
		return 0;
	}
	return fail(s, s->line, "unexpected '%c' after the value of %s", peek(s), key);
}

static int quoted(struct ps *s, char q, const char *key)
{
	unsigned start = s->line;
	s->pos++;
	for (;;) {
		int c = peek(s);
		if (c < 0)
			return fail(s, start, "unterminated %s-quoted value of %s", q == '"' ? "double" : "single", key);
		s->pos++;
		if (c == q)
			return end_of_line(s, key);
		if (c == '\n')
			s->line++;
		if (c == '\\' && q == '"' && peek(s) >= 0) {
			int e = peek(s);
			const char *from = "ntr\"\\$", *to = "\n\t\r\"\\$";
			const char *k = strchr(from, e);
			if (k && e) {
				s->pos++;
				c = to[k - from];
			}
		}
		if (add(s, (char)c) < 0)
			return -ENOMEM;
	}
}

static int unquoted(struct ps *s)
{
	while (!at_eol(s)) {
		int c = peek(s);
		/* " #" starts a comment; "a#b" is a value */
		if (c == '#' && s->n > 0 && (s->val[s->n - 1] == ' ' || s->val[s->n - 1] == '\t'))
			break;
		if (add(s, (char)c) < 0)
			return -ENOMEM;
		s->pos++;
	}
	while (s->n && (s->val[s->n - 1] == ' ' || s->val[s->n - 1] == '\t'))
		s->val[--s->n] = '\0';
	next_line(s);
	return 0;
}

static int is_key_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_key_char(int c)
{
	return is_key_start(c) || (c >= '0' && c <= '9');
}

int cli_dotenv_parse(const char *text, size_t len, cli_dotenv_fn fn, void *userdata, unsigned *err_line,
                     char *err, size_t errlen)
{
	struct ps s = {.p = text, .len = text ? len : 0, .line = 1, .err_line = err_line, .err = err, .errlen = errlen};
	int r = 0;
	if (text && memchr(text, '\0', len)) {
		unsigned line = 1;
		for (const char *c = text; *c; c++)
			line += *c == '\n';
		return fail(&s, line, "NUL byte in the file");
	}
	while (r == 0 && s.pos < s.len) {
		skip_blanks(&s);
		if (peek(&s) == '#' || at_eol(&s)) {
			next_line(&s);
			continue;
		}
		if (s.len - s.pos > 7 && memcmp(s.p + s.pos, "export", 6) == 0 &&
		    (s.p[s.pos + 6] == ' ' || s.p[s.pos + 6] == '\t')) {
			s.pos += 6;
			skip_blanks(&s);
		}
		unsigned line = s.line;
		size_t k0 = s.pos;
		if (!is_key_start(peek(&s))) {
			r = fail(&s, line, "expected a name (letters, digits, _), found '%c'", peek(&s));
			break;
		}
		while (is_key_char(peek(&s)))
			s.pos++;
		char key[256];
		if (s.pos - k0 >= sizeof key) {
			r = fail(&s, line, "name longer than %zu characters", sizeof key - 1);
			break;
		}
		memcpy(key, s.p + k0, s.pos - k0);
		key[s.pos - k0] = '\0';
		skip_blanks(&s);
		if (peek(&s) != '=') {
			r = fail(&s, line, "expected '=' after %s", key);
			break;
		}
		s.pos++;
		skip_blanks(&s);
		s.n = 0;
		if (add(&s, 'x') < 0) { /* a buffer even for an empty value */
			r = -ENOMEM;
			break;
		}
		s.n = 0;
		s.val[0] = '\0';
		if (peek(&s) == '"' || peek(&s) == '\'')
			r = quoted(&s, (char)peek(&s), key);
		else
			r = unquoted(&s);
		if (r == 0)
			r = fn(key, s.val, line, userdata);
	}
	free(s.val);
	return r;
}
