/*
 * libFuzzer target for pm_glob_match. The input is split into pattern and
 * string at the first NUL byte, or in the middle when there is none. Both
 * halves are copied into buffers of their exact size so ASan sees any read
 * past either end. Besides crashes and hangs (-timeout), it checks a few
 * identities that hold for every string, and that a matched string ends
 * with a byte pm_glob_last_bytes allows.
 */
#include "filter/glob.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *copy(const uint8_t *p, size_t n)
{
	char *d = malloc(n ? n : 1);
	if (!d)
		abort();
	if (n)
		memcpy(d, p, n);
	return d;
}

static int has_special(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '\\')
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t plen = nul ? (size_t)(nul - data) : size / 2;
	size_t soff = nul ? plen + 1 : plen;
	size_t slen = size - soff;
	char *pat = copy(data, plen);
	char *str = copy(data + soff, slen);

	int r = pm_glob_match(pat, plen, str, slen);
	if (r != 0 && r != 1)
		abort();
	/* pm_glob_last_bytes: a matched string ends with a byte of the set */
	uint64_t last[4];
	if (pm_glob_last_bytes(pat, plen, last) && r == 1 &&
	    (slen == 0 || !((last[(unsigned char)str[slen - 1] >> 6] >> ((unsigned char)str[slen - 1] & 63)) & 1)))
		abort();
	/* a pattern without special characters is a plain comparison */
	if (!has_special(pat, plen) && r != (plen == slen && memcmp(pat, str, plen) == 0))
		abort();

	/* every string matches itself with each byte escaped, and with
	 * "**" + "/" in front, and "**" matches everything */
	char *esc = malloc(3 + 2 * slen + 1);
	if (!esc)
		abort();
	memcpy(esc, "**/", 3);
	for (size_t i = 0; i < slen; i++) {
		esc[3 + 2 * i] = '\\';
		esc[3 + 2 * i + 1] = str[i];
	}
	if (pm_glob_match(esc + 3, 2 * slen, str, slen) != 1)
		abort();
	if (pm_glob_match(esc, 3 + 2 * slen, str, slen) != 1)
		abort();
	if (pm_glob_match("**", 2, str, slen) != 1)
		abort();
	/* '*' matches exactly the strings without '/' */
	if (pm_glob_match("*", 1, str, slen) != (memchr(str, '/', slen) == NULL))
		abort();
	/* and the pattern against itself never misbehaves */
	r = pm_glob_match(pat, plen, pat, plen);
	if (r != 0 && r != 1)
		abort();

	free(esc);
	free(pat);
	free(str);
	return 0;
}
