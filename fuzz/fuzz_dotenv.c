/*
 * libFuzzer target for the .env parser of --env-file: arbitrary bytes as a
 * file, in a buffer of exactly their size so ASan sees any read past it.
 * Checks what the parser promises: keys are [A-Za-z_][A-Za-z0-9_]*, an
 * error names a line inside the input, assignments come with increasing
 * lines within it.
 */
#include "cli/dotenv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
	unsigned last, lines;
};

static int check(const char *key, const char *value, unsigned line, void *ud)
{
	struct state *st = ud;
	if (!key[0] || !(key[0] == '_' || (key[0] | 0x20) >= 'a'))
		abort();
	for (const char *k = key; *k; k++)
		if (!(*k == '_' || (*k >= '0' && *k <= '9') || ((*k | 0x20) >= 'a' && (*k | 0x20) <= 'z')))
			abort();
	if (line < st->last || line > st->lines)
		abort();
	st->last = line;
	volatile size_t n = strlen(value);
	(void)n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	char err[128];
	unsigned line = 0;
	struct state st = {.last = 1, .lines = 1};
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (size_t i = 0; i < size; i++)
		st.lines += data[i] == '\n';
	int r = cli_dotenv_parse(buf, size, check, &st, &line, err, sizeof err);
	if (r < 0 && (line == 0 || line > st.lines || !err[0]))
		abort();
	free(buf);
	return 0;
}
