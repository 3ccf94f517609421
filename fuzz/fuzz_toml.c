/*
 * libFuzzer target for the TOML reader: arbitrary bytes as a config file.
 * The input is copied into a buffer of exactly its size, so ASan sees any
 * read past the end. Besides crashes, leaks and hangs it checks what the
 * reader promises: an error is "LINE:COL: message" with a line inside the
 * input; a tree is at most 64 levels deep, every string is NUL-terminated
 * at its length and valid UTF-8, and the keys of each table are unique.
 */
#include "cli/toml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Well-formed UTF-8 (NUL allowed), checked independently of the reader. */
static int valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i], cp, k;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC0 && c < 0xE0)
			k = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c < 0xF0)
			k = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c < 0xF8)
			k = 3, cp = c & 0x07;
		else
			return 0;
		if (n - i <= k)
			return 0;
		for (unsigned j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* Touches every byte of every string; returns a checksum so the reads
 * cannot be optimised away. */
static unsigned walk(const struct toml_value *v, unsigned depth)
{
	unsigned sum = 0;

	if (depth > 64 + 1 || v->line == 0 || v->col == 0)
		abort();
	switch (v->type) {
	case TOML_STRING:
	case TOML_DATETIME:
		if (!v->u.str.s || v->u.str.s[v->u.str.len] != 0 ||
		    !valid_utf8((const unsigned char *)v->u.str.s, v->u.str.len))
			abort();
		if (v->type == TOML_DATETIME && strlen(v->u.str.s) != v->u.str.len)
			abort();
		for (size_t i = 0; i < v->u.str.len; i++)
			sum = sum * 31 + (unsigned char)v->u.str.s[i];
		break;
	case TOML_ARRAY:
		if (depth >= 64 + 1)
			abort();
		for (size_t i = 0; i < v->u.arr.count; i++)
			sum += walk(v->u.arr.items[i], depth + 1);
		break;
	case TOML_TABLE:
		if (depth >= 64 + 1)
			abort();
		for (size_t i = 0; i < v->u.tab.count; i++) {
			const char *k = v->u.tab.keys[i];
			size_t klen = strlen(k);
			if (!valid_utf8((const unsigned char *)k, klen) || v->u.tab.key_lines[i] == 0 ||
			    v->u.tab.key_cols[i] == 0)
				abort();
			/* unique keys: a lookup finds this very entry */
			if (toml_get(v, k) != v->u.tab.values[i])
				abort();
			for (size_t j = 0; j < klen; j++)
				sum = sum * 31 + (unsigned char)k[j];
			sum += walk(v->u.tab.values[i], depth + 1);
		}
		break;
	case TOML_INTEGER:
		sum += (unsigned)v->u.i;
		break;
	case TOML_FLOAT:
		sum += v->u.f == v->u.f;
		break;
	case TOML_BOOL:
		if (v->u.b != 0 && v->u.b != 1)
			abort();
		break;
	default:
		abort();
	}
	if (!toml_type_name(v->type))
		abort();
	return sum;
}

/* "LINE:COL: message", LINE within the input. */
static void check_error(const char *err, const uint8_t *data, size_t size)
{
	char *end;
	unsigned long line = strtoul(err, &end, 10), lines = 1;
	if (line == 0 || *end != ':')
		abort();
	unsigned long col = strtoul(end + 1, &end, 10);
	if (col == 0 || end[0] != ':' || end[1] != ' ' || end[2] == 0)
		abort();
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (line > lines)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	char err[256];
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct toml_value *root = toml_parse(buf, size, err, sizeof err);
	if (root) {
		if (root->type != TOML_TABLE)
			abort();
		volatile unsigned sum = walk(root, 0);
		(void)sum;
		toml_free(root);
	} else {
		check_error(err, data, size);
	}
	free(buf);
	return 0;
}
