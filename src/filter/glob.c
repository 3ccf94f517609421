/*
 * gitignore-style wildcard matching: git's wildmatch with WM_PATHNAME,
 * without recursion.
 *
 * Two backtrack points are enough. Inside one path component a '*' can
 * absorb any run of non-'/' characters, so only the most recent '*' of the
 * component needs remembering (the classic greedy algorithm). Components
 * themselves are matched in lockstep: nothing but a literal '/' in the
 * pattern consumes a '/' of the string, so once a '/' is matched every
 * earlier '*' is fixed. A "**" component matches zero or more whole
 * components; only the most recent one needs remembering, for the same
 * reason one level up. Worst case O(components * len(str) * len(pat)).
 */
#include "filter/glob.h"

#include <stdint.h>
#include <string.h>

#define NONE SIZE_MAX

/* Membership in a [:name:] class, ASCII only (as git). -1: unknown name. */
static int in_named_class(const char *name, size_t n, unsigned char c)
{
	int upper = c >= 'A' && c <= 'Z';
	int lower = c >= 'a' && c <= 'z';
	int digit = c >= '0' && c <= '9';
	int alpha = upper || lower;
	int graph = c > ' ' && c < 0x7f;

#define IS(lit) (n == sizeof(lit) - 1 && memcmp(name, lit, n) == 0)
	if (IS("alnum"))
		return alpha || digit;
	if (IS("alpha"))
		return alpha;
	if (IS("blank"))
		return c == ' ' || c == '\t';
	if (IS("cntrl"))
		return c < ' ' || c == 0x7f;
	if (IS("digit"))
		return digit;
	if (IS("graph"))
		return graph;
	if (IS("lower"))
		return lower;
	if (IS("print"))
		return graph || c == ' ';
	if (IS("punct"))
		return graph && !alpha && !digit;
	if (IS("space"))
		return c == ' ' || (c >= '\t' && c <= '\r');
	if (IS("upper"))
		return upper;
	if (IS("xdigit"))
		return digit || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
#undef IS
	return -1;
}

/*
 * Matches c against the class that starts at pat[*pi] == '['. On return
 * *pi is just past the closing ']'. Returns 1 or 0, or -1 for a malformed
 * class (no closing ']', unknown [:name:], dangling backslash): as in git,
 * a pattern holding one never matches anything.
 */
static int match_class(const char *pat, size_t plen, size_t *pi, unsigned char c)
{
	size_t i = *pi + 1;
	int negated = 0, matched = 0, first = 1;
	int prev = -1; /* the previous single member, start of a range */

	if (i < plen && (pat[i] == '!' || pat[i] == '^')) {
		negated = 1;
		i++;
	}
	for (;; i++, first = 0) {
		if (i >= plen)
			return -1;
		unsigned char pc = (unsigned char)pat[i];
		if (pc == ']' && !first)
			break;
		if (pc == '\\') {
			if (++i >= plen)
				return -1;
			pc = (unsigned char)pat[i];
			matched |= c == pc;
			prev = pc;
		} else if (pc == '-' && prev >= 0 && i + 1 < plen && pat[i + 1] != ']') {
			unsigned char hi = (unsigned char)pat[++i];
			if (hi == '\\') {
				if (++i >= plen)
					return -1;
				hi = (unsigned char)pat[i];
			}
			matched |= c >= prev && c <= hi;
			prev = -1;
		} else if (pc == '[' && i + 1 < plen && pat[i + 1] == ':') {
			size_t s = i + 2, e = s;
			while (e < plen && pat[e] != ']')
				e++;
			if (e >= plen)
				return -1;
			if (e == s || pat[e - 1] != ':') {
				/* no ":]" before the next ']': a plain '[' */
				matched |= c == '[';
				prev = '[';
				continue;
			}
			int r = in_named_class(pat + s, e - 1 - s, c);
			if (r < 0)
				return -1;
			matched |= r;
			prev = -1;
			i = e;
		} else {
			matched |= c == pc;
			prev = pc;
		}
	}
	*pi = i + 1;
	return matched != negated;
}

/* Width of a separator at pat[i]: 1 for '/', 2 for "\/", else 0. */
static size_t slash_width(const char *pat, size_t plen, size_t i)
{
	if (i < plen && pat[i] == '/')
		return 1;
	if (i + 1 < plen && pat[i] == '\\' && pat[i + 1] == '/')
		return 2;
	return 0;
}

/*
 * One non-star pattern item against one character. Advances *pi past the
 * item on a match. Returns 1, 0, or -1 when the pattern can never match.
 */
static int match_item(const char *pat, size_t plen, size_t *pi, unsigned char c)
{
	size_t p = *pi;
	unsigned char pc = (unsigned char)pat[p];
	int r;

	switch (pc) {
	case '?':
		if (c == '/')
			return 0;
		*pi = p + 1;
		return 1;
	case '[':
		r = match_class(pat, plen, &p, c);
		if (r <= 0)
			return r;
		if (c == '/')
			return 0;
		*pi = p;
		return 1;
	case '\\':
		if (p + 1 >= plen)
			return -1; /* a trailing backslash never matches */
		if (c != (unsigned char)pat[p + 1])
			return 0;
		*pi = p + 2;
		return 1;
	default:
		if (c != pc)
			return 0;
		*pi = p + 1;
		return 1;
	}
}

int pm_glob_match(const char *pat, size_t plen, const char *str, size_t slen)
{
	size_t p = 0, s = 0;
	size_t star_p = NONE, star_s = 0;   /* after the current component's last '*' */
	size_t dstar_p = NONE, dstar_s = 0; /* after the last "**" component */
	const char *slash;

	for (;;) {
		if (p < plen && pat[p] == '*') {
			size_t run = p;
			while (p < plen && pat[p] == '*')
				p++;
			if (p - run >= 2 && (run == 0 || pat[run - 1] == '/')) {
				size_t w = slash_width(pat, plen, p);
				if (p == plen)
					return 1; /* a trailing "**" matches everything */
				if (w) {
					/* "**" + '/' matches zero or more components;
					 * git tries "zero" only for a plain '/' */
					dstar_p = p + w;
					dstar_s = s;
					star_p = NONE;
					p = dstar_p;
					if (w == 2)
						goto next_component;
					continue;
				}
			}
			star_p = p;
			star_s = s;
			continue;
		}

		if (p == plen) {
			if (s == slen)
				return 1;
		} else {
			/* Out of text with an item left: no backtracking can help
			 * (git's WM_ABORT_ALL). */
			if (s == slen)
				return 0;
			int r = match_item(pat, plen, &p, (unsigned char)str[s]);
			if (r < 0)
				return 0;
			if (r) {
				if (str[s] == '/')
					star_p = NONE;
				s++;
				continue;
			}
		}

		/* Mismatch: let the last '*' eat one more character... */
		if (star_p != NONE && star_s < slen && str[star_s] != '/') {
			s = ++star_s;
			p = star_p;
			continue;
		}
		/* ...else let the last "**" eat one more component. */
		if (dstar_p == NONE)
			return 0;
next_component:
		if (dstar_s >= slen)
			return 0;
		slash = memchr(str + dstar_s, '/', slen - dstar_s);
		if (!slash)
			return 0;
		dstar_s = (size_t)(slash - str) + 1;
		s = dstar_s;
		p = dstar_p;
		star_p = NONE;
	}
}

int pm_glob_last_bytes(const char *pat, size_t plen, uint64_t set[4])
{
	enum { NOTHING, STAR, BYTE, ANY, CLASS } last = NOTHING;
	size_t at = 0; /* where the last item starts (BYTE: the byte itself) */

	memset(set, 0, 4 * sizeof *set);
	for (size_t i = 0; i < plen;) {
		switch (pat[i]) {
		case '*':
			last = STAR;
			i++;
			break;
		case '?':
			last = ANY;
			i++;
			break;
		case '\\':
			if (i + 1 >= plen)
				return 1; /* a trailing backslash never matches */
			last = BYTE;
			at = i + 1;
			i += 2;
			break;
		case '[': {
			size_t j = i;
			if (match_class(pat, plen, &j, 'a') < 0)
				return 1; /* malformed: never matches */
			last = CLASS;
			at = i;
			i = j;
			break;
		}
		default:
			last = BYTE;
			at = i++;
			break;
		}
	}
	/* A final '/' may be one a "**" matched with zero components, so it
	 * need not consume a character: no claim then. */
	if (last == NOTHING || last == STAR || (last == BYTE && pat[at] == '/'))
		return 0;
	for (unsigned c = 0; c < 256; c++) {
		int in;
		if (last == BYTE) {
			in = c == (unsigned char)pat[at];
		} else if (c == '/') {
			in = 0; /* '?' and classes never match '/' */
		} else if (last == ANY) {
			in = 1;
		} else {
			size_t j = at;
			in = match_class(pat, plen, &j, (unsigned char)c) == 1;
		}
		if (in)
			set[c >> 6] |= (uint64_t)1 << (c & 63);
	}
	return 1;
}
