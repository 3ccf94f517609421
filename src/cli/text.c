/* Untrusted text: the one UTF-8 decoder of the command line, terminal
 * escaping, JSON strings and the edit distance behind "did you mean". */
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

size_t cli_utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (n == 0)
		return 0;
	unsigned c = s[0];
	size_t len;
	if (c < 0x80) {
		if (cp)
			*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	c &= 0x7fu >> len; /* the lead byte's payload bits */
	for (size_t i = 1; i < len; i++) {
		if (i >= n || (s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3fu);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	if (cp)
		*cp = c;
	return len;
}

/* C1 controls and the bidi embeddings, overrides and isolates. */
static int unsafe_code_point(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* The escape for the byte or character at s in esc (NUL-terminated, or
 * empty when it prints as is); *n gets the bytes it covers. */
static void escape_one(const unsigned char *s, char esc[12], size_t *n)
{
	unsigned cp;
	*n = 1;
	esc[0] = '\0';
	switch (*s) {
	case '\n': strcpy(esc, "\\n"); return;
	case '\t': strcpy(esc, "\\t"); return;
	case '\r': strcpy(esc, "\\r"); return;
	case '\\': strcpy(esc, "\\\\"); return;
	default: break;
	}
	if (*s < 0x20 || *s == 0x7f) {
		snprintf(esc, 12, "\\x%02x", *s);
	} else if (*s >= 0x80) {
		size_t len = cli_utf8_decode(s, SIZE_MAX, &cp);
		if (!len)
			snprintf(esc, 12, "\\x%02x", *s);
		else if (unsafe_code_point(cp))
			snprintf(esc, 12, "\\u%04x", cp);
		if (len)
			*n = len;
	}
}

size_t cli_escape(char *dst, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	if (!len)
		return 0;
	while (*p) {
		char esc[12];
		size_t n;
		escape_one(p, esc, &n);
		const char *piece = esc[0] ? esc : (const char *)p;
		size_t plen = esc[0] ? strlen(esc) : n;
		if (w + plen >= len)
			break;
		memcpy(dst + w, piece, plen);
		w += plen;
		p += n;
	}
	dst[w] = '\0';
	return w;
}

void cli_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	while (*p) {
		/* A run of printable ASCII that needs no escape: one fwrite. */
		const unsigned char *run = p;
		while (*run >= 0x20 && *run < 0x7f && *run != '"' && *run != '\\')
			run++;
		if (run != p) {
			fwrite(p, 1, (size_t)(run - p), f);
			p = run;
			continue;
		}
		unsigned cp = 0;
		size_t n = cli_utf8_decode(p, SIZE_MAX, &cp);
		if (n == 0) {
			fprintf(f, "\\udc%02x", *p); /* surrogateescape: lossless */
			p++;
		} else if (cp == 0x2028 || cp == 0x2029) {
			fprintf(f, "\\u%04x", cp);
			p += n;
		} else if (n > 1) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			switch (*p) {
			case '"': fputs("\\\"", f); break;
			case '\\': fputs("\\\\", f); break;
			case '\n': fputs("\\n", f); break;
			case '\t': fputs("\\t", f); break;
			case '\r': fputs("\\r", f); break;
			default:
				if (*p < 0x20 || *p == 0x7f)
					fprintf(f, "\\u%04x", *p);
				else
					fputc(*p, f);
			}
			p++;
		}
	}
	fputc('"', f);
}

/* Optimal string alignment distance over bytes; both strings are short
 * (option and key names), longer ones count as far away. */
unsigned cli_edit_distance(const char *a, const char *b)
{
	enum { MAX = 64 };
	size_t la = strlen(a), lb = strlen(b);
	if (la >= MAX || lb >= MAX)
		return 100;
	unsigned d[MAX + 1][MAX + 1];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb] > 100 ? 100 : d[la][lb];
}

char *cli_read_file(const char *path, size_t max, size_t *len, int *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		*err = errno;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		*err = S_ISDIR(st.st_mode) ? EISDIR : CLI_ENOTREG;
		return NULL;
	}
	/* The size fstat gave, plus one byte to see the end (a file that grows
	 * meanwhile is read on, up to max + 1 bytes: then it is too large). */
	size_t cap = (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		*err = ENOMEM;
		return NULL;
	}
	*err = 0;
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				*err = EFBIG;
				break;
			}
			size_t grown = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *p = realloc(buf, grown + 1);
			if (!p) {
				*err = ENOMEM;
				break;
			}
			buf = p;
			cap = grown;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			*err = errno;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!*err && n > max)
		*err = EFBIG;
	if (*err) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

const char *cli_read_error(int err)
{
	return err == CLI_ENOTREG ? "not a regular file" : strerror(err);
}
