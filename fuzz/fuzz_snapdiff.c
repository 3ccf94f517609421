/*
 * libFuzzer target for the polling backend's snapshot diff. The input is a
 * list of records "old or new, name byte, inode, mtime, size, mode"; two
 * snapshots are built from it and diffed both ways. Checks, for every
 * input: each name of the old snapshot alone is GONE, of the new one alone
 * NEW; a name in both is reported only when inode, type, mtime, size or
 * mode differ; and a snapshot diffed against itself reports nothing.
 */
#include "core/poll.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXN 64

struct tally {
	int gone[256], born[256], changed[256];
};

static void count(void *ud, enum pm_snap_op op, const struct pm_snap *s, const struct pm_snap_entry *e)
{
	struct tally *t = ud;
	unsigned char c = (unsigned char)pm_snap_name(s, e)[0];
	if (op == PM_SNAP_GONE)
		t->gone[c]++;
	else if (op == PM_SNAP_NEW)
		t->born[c]++;
	else
		t->changed[c]++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char names[2][MAXN][2];
	const char *np[2][MAXN];
	struct pm_snap_entry st[2][MAXN];
	size_t n[2] = {0, 0};
	int seen[2][256];
	memset(seen, 0, sizeof seen);
	for (size_t i = 0; i + 6 <= size; i += 6) {
		int side = data[i] & 1;
		unsigned char c = data[i + 1] ? data[i + 1] : 'a';
		if (n[side] == MAXN || seen[side][c])
			continue; /* a directory names each entry once */
		seen[side][c] = 1;
		names[side][n[side]][0] = (char)c;
		names[side][n[side]][1] = '\0';
		np[side][n[side]] = names[side][n[side]];
		st[side][n[side]] = (struct pm_snap_entry){.ino = data[i + 2] % 4, .mtime_ns = data[i + 3] % 3,
		                                           .size = data[i + 4] % 2,
		                                           .mode = (data[i + 5] & 1 ? S_IFDIR : S_IFREG) | (data[i + 5] & 2)};
		n[side]++;
	}
	struct pm_snap *a = pm_snap_build(np[0], st[0], n[0]);
	struct pm_snap *b = pm_snap_build(np[1], st[1], n[1]);
	if (!a || !b)
		abort();
	struct tally t;
	memset(&t, 0, sizeof t);
	pm_snap_diff(a, b, count, &t);
	for (int c = 1; c < 256; c++) {
		if (seen[0][c] && !seen[1][c] && (t.gone[c] != 1 || t.born[c] || t.changed[c]))
			abort();
		if (!seen[0][c] && seen[1][c] && (t.born[c] != 1 || t.gone[c] || t.changed[c]))
			abort();
		if (!seen[0][c] && !seen[1][c] && (t.gone[c] || t.born[c] || t.changed[c]))
			abort();
		if (seen[0][c] && seen[1][c]) {
			const struct pm_snap_entry *x = NULL, *y = NULL;
			for (size_t i = 0; i < n[0]; i++)
				if ((unsigned char)np[0][i][0] == c)
					x = &st[0][i];
			for (size_t i = 0; i < n[1]; i++)
				if ((unsigned char)np[1][i][0] == c)
					y = &st[1][i];
			int replaced = x->ino != y->ino || (x->mode & S_IFMT) != (y->mode & S_IFMT);
			int differs = x->mtime_ns != y->mtime_ns || x->size != y->size || x->mode != y->mode;
			if (replaced ? (t.gone[c] != 1 || t.born[c] != 1 || t.changed[c])
			             : (t.gone[c] || t.born[c] || t.changed[c] != differs))
				abort();
		}
	}
	memset(&t, 0, sizeof t);
	pm_snap_diff(a, a, count, &t);
	for (int c = 0; c < 256; c++)
		if (t.gone[c] || t.born[c] || t.changed[c])
			abort();
	free(a);
	free(b);
	return 0;
}
