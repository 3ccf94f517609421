/* Debounce batches: each path once, merged kinds, bounded size. */
#include "harness.h"
#include "core/batch.h"
#include "pymon.h"

TEST(batch_keeps_each_path_once_in_arrival_order)
{
	struct pm_batch b = {.limit = 100};
	CHECK_INT(pm_batch_add(&b, PYMON_MODIFY, "a.py", NULL, 0), 0);
	CHECK_INT(pm_batch_add(&b, PYMON_MODIFY, "b.py", NULL, 0), 0);
	for (int i = 0; i < 50; i++)
		CHECK_INT(pm_batch_add(&b, PYMON_MODIFY, "a.py", NULL, 0), 0);
	CHECK_INT(b.count, 2);
	CHECK_STR(b.entries[0].path, "a.py");
	CHECK_STR(b.entries[1].path, "b.py");
	pm_batch_free(&b);
}

TEST(batch_merges_kinds)
{
	struct pm_batch b = {.limit = 100};
	pm_batch_add(&b, PYMON_CREATE, "new.py", NULL, 0);
	pm_batch_add(&b, PYMON_MODIFY, "new.py", NULL, 0);
	CHECK_INT(b.entries[0].kind, PYMON_CREATE); /* created, then written: still a creation */
	pm_batch_add(&b, PYMON_DELETE, "new.py", NULL, 0);
	CHECK_INT(b.entries[0].kind, PYMON_DELETE);
	pm_batch_add(&b, PYMON_MOVE, "dst.py", "src.py", 0);
	CHECK_STR(b.entries[1].from, "src.py");
	pm_batch_add(&b, PYMON_RESCAN, ".", NULL, 1);
	pm_batch_add(&b, PYMON_MODIFY, ".", NULL, 1);
	CHECK_INT(b.entries[2].kind, PYMON_RESCAN); /* a rescan is never downgraded */
	pm_batch_free(&b);
}

TEST(batch_is_bounded_and_counts_what_it_drops)
{
	struct pm_batch b = {.limit = 10};
	char p[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(p, sizeof p, "f%d", i);
		pm_batch_add(&b, PYMON_CREATE, p, NULL, 0);
	}
	CHECK_INT(b.count, 10);
	CHECK_INT(b.dropped, 990);
	/* pm_observer_push adds the RESCAN when an add says it was left out;
	 * a RESCAN itself passes the bound. */
	CHECK_INT(pm_batch_add(&b, PYMON_CREATE, "more", NULL, 0), 1);
	CHECK_INT(b.dropped, 991);
	CHECK_INT(pm_batch_add(&b, PYMON_RESCAN, ".", NULL, 1), 0);
	CHECK_INT(b.count, 11);
	CHECK_INT(b.entries[10].kind, PYMON_RESCAN);
	b.dropped = 990;
	/* A path already in the batch still merges when full. */
	pm_batch_add(&b, PYMON_DELETE, "f3", NULL, 0);
	CHECK_INT(b.entries[3].kind, PYMON_DELETE);
	CHECK_INT(b.dropped, 990);
	pm_batch_clear(&b);
	CHECK_INT(b.count, 0);
	CHECK_INT(b.dropped, 0);
	pm_batch_add(&b, PYMON_CREATE, "again", NULL, 0);
	CHECK_INT(b.count, 1);
	pm_batch_free(&b);
}

TEST(batch_large_flood_memory_is_released)
{
	struct pm_batch b = {.limit = 100000};
	char p[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(p, sizeof p, "dir/file-%d.py", i);
		pm_batch_add(&b, PYMON_CREATE, p, NULL, 0);
	}
	CHECK_INT(b.count, 20000);
	pm_batch_clear(&b);
	CHECK(b.cap <= 1024);
	pm_batch_free(&b);
}

TEST(batch_atomic_save_names_the_final_path_only)
{
	struct pm_batch b = {.limit = 100};
	/* create + write a temp, rename it into place */
	pm_batch_add(&b, PYMON_CREATE, ".app.py.swp1", NULL, 0);
	pm_batch_add(&b, PYMON_MODIFY, ".app.py.swp1", NULL, 0);
	CHECK_INT(pm_batch_add(&b, PYMON_MOVE, "app.py", ".app.py.swp1", 0), 0);
	CHECK_INT(b.entries[0].kind, 0); /* merged away */
	CHECK_STR(b.entries[1].path, "app.py");
	CHECK_INT(b.entries[1].kind, PYMON_CREATE);
	CHECK(b.entries[1].from == NULL);
	/* a modified file renamed: a modification of the new name */
	pm_batch_add(&b, PYMON_MODIFY, "x.py", NULL, 0);
	pm_batch_add(&b, PYMON_MOVE, "y.py", "x.py", 0);
	CHECK_INT(b.entries[3].kind, PYMON_MODIFY);
	CHECK_STR(b.entries[3].path, "y.py");
	/* moved twice: one move from the first name; moved back: a modification */
	pm_batch_add(&b, PYMON_MOVE, "b.py", "a.py", 0);
	pm_batch_add(&b, PYMON_MOVE, "c.py", "b.py", 0);
	CHECK_INT(b.entries[4].kind, 0);
	CHECK_INT(b.entries[5].kind, PYMON_MOVE);
	CHECK_STR(b.entries[5].from, "a.py");
	pm_batch_add(&b, PYMON_MOVE, "a.py", "c.py", 0);
	CHECK_INT(b.entries[6].kind, PYMON_MODIFY);
	CHECK(b.entries[6].from == NULL);
	/* a move of a path not in the batch stays a move */
	pm_batch_add(&b, PYMON_MOVE, "q.py", "p.py", 0);
	CHECK_INT(b.entries[7].kind, PYMON_MOVE);
	CHECK_STR(b.entries[7].from, "p.py");
	/* the temp name written again later is a new entry again */
	pm_batch_add(&b, PYMON_CREATE, ".app.py.swp1", NULL, 0);
	CHECK_INT(b.entries[0].kind, PYMON_CREATE);
	pm_batch_free(&b);
}
