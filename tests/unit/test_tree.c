/* The watch tree: paths built on demand, O(1) renames, the wd table with
 * shared and stale descriptors, subtree drops. */
#include "harness.h"
#include "core/tree.h"
#include "core/watcher.h"
#include "base/sys.h"

static int rm_calls, rm_last;
static int fake_rm(int fd, int wd)
{
	(void)fd;
	rm_calls++;
	rm_last = wd;
	return 0;
}

static struct pm_root *fake_root(struct pymon_observer *o, const char *display, const char *real)
{
	struct pm_root *r = calloc(1, sizeof *r);
	r->obs = o;
	r->display = pm_strdup(display);
	r->real = pm_strdup(real);
	return r;
}

/* Frees what a test built: the nodes below each root, the table, the roots. */
static void cleanup(pymon_watcher *w, struct pm_root **roots, size_t n)
{
	pm_sys.inotify_rm_watch = fake_rm;
	for (size_t i = 0; i < n; i++) {
		struct pm_node *top = NULL;
		for (size_t k = 0; k < w->nbuckets && !top; k++)
			for (struct pm_node *x = w->buckets[k]; x && !top; x = x->hash_next)
				if (x->root == roots[i] && !x->parent)
					top = x;
		if (top)
			pm_node_drop(w, top, -1);
		free(roots[i]->display);
		free(roots[i]->real);
		free(roots[i]);
	}
	pm_tree_free(w); /* the table and the node chunks */
}

static struct pm_node *watched(pymon_watcher *w, struct pm_root *r, struct pm_node *parent, const char *name, int wd)
{
	struct pm_node *n = pm_node_new(r, parent, name, strlen(name));
	n->wd = wd;
	n->ino = (ino_t)wd + 1000;
	CHECK_INT(pm_wd_insert(w, n), 0);
	return n;
}

TEST(tree_paths_and_rename)
{
	pymon_watcher w = {0};
	struct pymon_observer o = {0};
	o.w = &w;
	struct pm_root *r = fake_root(&o, "src", "/home/u/p/src");
	struct pm_node *root = watched(&w, r, NULL, "", 1);
	r->node = root;
	struct pm_node *a = watched(&w, r, root, "a", 2);
	struct pm_node *b = watched(&w, r, a, "b", 3);
	struct pm_node *c = watched(&w, r, b, "c", 4);
	struct pm_buf buf = {0};
	CHECK_INT(pm_node_relpath(c, &buf), 0);
	CHECK_STR(buf.s, "a/b/c");
	CHECK_INT(pm_node_relpath(root, &buf), 0);
	CHECK_STR(buf.s, "");
	CHECK_INT(pm_node_display(c, "f.py", &buf), 0);
	CHECK_STR(buf.s, "src/a/b/c/f.py");
	CHECK_INT(pm_node_realpath(c, NULL, &buf), 0);
	CHECK_STR(buf.s, "/home/u/p/src/a/b/c");

	/* mv src/a src/z: one node changes, every path below follows. */
	CHECK_INT(pm_node_rename(a, root, "z"), 0);
	CHECK_INT(pm_node_display(c, "f.py", &buf), 0);
	CHECK_STR(buf.s, "src/z/b/c/f.py");
	/* mv src/z/b/c src/c: moved up */
	CHECK_INT(pm_node_rename(c, root, "c"), 0);
	CHECK_INT(pm_node_display(c, NULL, &buf), 0);
	CHECK_STR(buf.s, "src/c");
	CHECK(pm_node_find_child(root, "c") == c);
	CHECK(pm_node_find_child(b, "c") == NULL);
	CHECK(pm_wd_first(&w, 4) == c);
	pm_buf_free(&buf);
	cleanup(&w, &r, 1);
}

TEST(tree_display_of_dot_root_is_relative)
{
	pymon_watcher w = {0};
	struct pymon_observer o = {0};
	o.w = &w;
	struct pm_root *r = fake_root(&o, "", "/p");
	struct pm_node *root = watched(&w, r, NULL, "", 1);
	struct pm_buf buf = {0};
	CHECK_INT(pm_node_display(root, "app.py", &buf), 0);
	CHECK_STR(buf.s, "app.py");
	struct pm_node *s = watched(&w, r, root, "pkg", 2);
	CHECK_INT(pm_node_display(s, "m.py", &buf), 0);
	CHECK_STR(buf.s, "pkg/m.py");
	pm_buf_free(&buf);
	cleanup(&w, &r, 1);
}

TEST(tree_drop_removes_subtree_and_watches)
{
	pymon_watcher w = {0};
	struct pymon_observer o = {0};
	o.w = &w;
	pm_sys.inotify_rm_watch = fake_rm;
	struct pm_root *r = fake_root(&o, "", "/p");
	struct pm_node *root = watched(&w, r, NULL, "", 1);
	struct pm_node *a = watched(&w, r, root, "a", 2);
	watched(&w, r, a, "x", 3);
	struct pm_node *y = watched(&w, r, a, "y", 4);
	watched(&w, r, y, "deep", 5);
	watched(&w, r, root, "b", 6);
	CHECK_INT(w.nwatches, 6);
	pm_node_drop(&w, a, -1);
	CHECK_INT(w.nwatches, 2);
	CHECK_INT(rm_calls, 4);
	for (int wd = 2; wd <= 5; wd++)
		CHECK(pm_wd_first(&w, wd) == NULL);
	CHECK(pm_node_find_child(root, "a") == NULL);
	CHECK(pm_node_find_child(root, "b") != NULL);
	/* A watch the kernel already dropped (IN_IGNORED) is not removed again. */
	rm_calls = 0;
	pm_node_drop(&w, pm_node_find_child(root, "b"), 6);
	CHECK_INT(rm_calls, 0);
	CHECK_INT(w.nwatches, 1);
	cleanup(&w, &r, 1);
}

TEST(tree_shared_wd_keeps_watch_until_last_node)
{
	pymon_watcher w = {0};
	struct pymon_observer o1 = {0}, o2 = {0};
	o1.w = o2.w = &w;
	pm_sys.inotify_rm_watch = fake_rm;
	struct pm_root *r1 = fake_root(&o1, "", "/p");
	struct pm_root *r2 = fake_root(&o2, "src", "/p/src");
	struct pm_node *n1 = watched(&w, r1, NULL, "", 1);
	struct pm_node *src1 = watched(&w, r1, n1, "src", 2);
	struct pm_node *n2 = watched(&w, r2, NULL, "", 2); /* same directory, same wd */
	(void)n2;
	CHECK_INT(w.nwatches, 2);
	CHECK_INT(w.nnodes, 3);
	struct pm_node *first = pm_wd_first(&w, 2);
	CHECK(first != NULL);
	CHECK(pm_wd_next(first, 2) != NULL);
	rm_calls = 0;
	pm_node_drop(&w, src1, -1);
	CHECK_INT(rm_calls, 0); /* the other observer still uses wd 2 */
	CHECK(pm_wd_first(&w, 2) == n2);
	pm_node_drop(&w, n2, -1);
	CHECK_INT(rm_calls, 1);
	CHECK_INT(rm_last, 2);
	struct pm_root *roots[] = {r1, r2};
	cleanup(&w, roots, 2);
}

TEST(tree_reused_wd_never_maps_to_stale_node)
{
	pymon_watcher w = {0};
	struct pymon_observer o = {0};
	o.w = &w;
	pm_sys.inotify_rm_watch = fake_rm;
	struct pm_root *r = fake_root(&o, "", "/p");
	struct pm_node *root = watched(&w, r, NULL, "", 1);
	struct pm_node *old = watched(&w, r, root, "old", 7);
	(void)old;
	/* The kernel hands out wd 7 again for another inode. */
	struct pm_node *fresh = pm_node_new(r, root, "new", 3);
	fresh->wd = 7;
	fresh->ino = 99999;
	rm_calls = 0;
	CHECK_INT(pm_wd_insert(&w, fresh), 0);
	CHECK(pm_wd_first(&w, 7) == fresh);
	CHECK(pm_wd_next(fresh, 7) == NULL);
	CHECK(pm_node_find_child(root, "old") == NULL);
	CHECK_INT(rm_calls, 0); /* wd 7 belongs to the new inode now */
	cleanup(&w, &r, 1);
}

TEST(tree_table_grows_with_many_nodes)
{
	pymon_watcher w = {0};
	struct pymon_observer o = {0};
	o.w = &w;
	struct pm_root *r = fake_root(&o, "", "/p");
	struct pm_node *root = watched(&w, r, NULL, "", 1);
	char name[32];
	for (int i = 2; i < 5000; i++) {
		snprintf(name, sizeof name, "d%d", i);
		watched(&w, r, root, name, i);
	}
	CHECK_INT(w.nwatches, 4999);
	for (int i = 1; i < 5000; i++)
		CHECK(pm_wd_first(&w, i) != NULL);
	CHECK(pm_wd_first(&w, 5000) == NULL);
	cleanup(&w, &r, 1);
}

TEST(tree_nodes_on_their_way_out_are_found_by_move_not_by_name)
{
	pymon_watcher w = {0};
	struct pymon_observer o = {0};
	o.w = &w;
	struct pm_root *r = fake_root(&o, "", "/p");
	struct pm_node *root = watched(&w, r, NULL, "", 1);
	r->node = root;
	struct pm_node *a = watched(&w, r, root, "sub", 2);
	watched(&w, r, a, "inner", 3);
	a->moving = 7; /* a MOVED_FROM (move id 7) took it away */
	CHECK(pm_node_find_child(root, "sub") == NULL);
	CHECK(pm_node_find_moving(root, 7) == a);
	CHECK(pm_node_find_moving(root, 8) == NULL);
	/* The directory came back under the name: a second node, the first
	 * still found by its move only. */
	struct pm_node *b = watched(&w, r, root, "sub", 4);
	CHECK(pm_node_find_child(root, "sub") == b);
	CHECK(pm_node_find_moving(root, 7) == a);
	/* Displaced (another directory renamed onto its name). */
	struct pm_node *c = watched(&w, r, root, "c", 5);
	c->moving = PM_NODE_DISPLACED;
	CHECK(pm_node_find_child(root, "c") == NULL);
	CHECK(pm_node_find_displaced(root, "c") == c);
	/* Renaming settles a node. */
	CHECK_INT(pm_node_rename(c, root, "c2"), 0);
	CHECK_INT(c->moving, 0);
	CHECK(pm_node_find_child(root, "c2") == c);
	/* After an overflow every unsettled node goes, with its subtree. */
	a->moving = 7;
	pm_sys.inotify_rm_watch = fake_rm;
	rm_calls = 0;
	pm_tree_drop_unsettled(&w, root);
	CHECK(pm_node_find_moving(root, 7) == NULL);
	CHECK(pm_node_find_child(root, "sub") == b);
	CHECK(pm_node_find_child(root, "c2") == c);
	CHECK_INT(rm_calls, 2); /* sub and sub/inner */
	CHECK(pm_wd_first(&w, 3) == NULL);
	cleanup(&w, &r, 1);
}

TEST(tree_node_is_88_bytes_and_names_move_between_node_and_heap)
{
	/* The memory budget: one node per directory, no allocation of its
	 * own for names up to 11 bytes, nor for the rules and polling state
	 * that few directories have. */
	CHECK_INT((int)sizeof(struct pm_node), 88);
	pm_sys.inotify_rm_watch = fake_rm;
	pymon_watcher w = {0};
	struct pymon_observer o = {0};
	o.w = &w;
	struct pm_root *r = fake_root(&o, "", "/p");
	struct pm_node *root = watched(&w, r, NULL, "", 1);
	r->node = root;
	struct pm_node *a = watched(&w, r, root, "elevenchars", 2);
	CHECK(a->name == a->short_name);
	CHECK_INT(pm_node_rename(a, root, "twelve_chars"), 0);
	CHECK(a->name != a->short_name);
	CHECK_STR(a->name, "twelve_chars");
	CHECK_INT(pm_node_rename(a, root, "short"), 0);
	CHECK(a->name == a->short_name);
	CHECK_STR(a->name, "short");
	/* Rules and a snapshot live out of the node, only while set. */
	struct pm_snap *snap = malloc(64);
	CHECK(a->more == NULL && pm_node_snap(a) == NULL && pm_node_rules(a) == NULL);
	CHECK_INT(pm_node_set_snap(a, snap), 0);
	CHECK(a->more != NULL && pm_node_snap(a) == snap && pm_node_rules(a) == NULL);
	CHECK_INT(pm_node_set_snap(a, NULL), 0);
	CHECK(a->more == NULL);
	free(snap);
	/* A freed node's memory is reused by the next one. */
	struct pm_node *b = watched(&w, r, root, "b", 3);
	pm_node_drop(&w, b, -1);
	struct pm_node *c = watched(&w, r, root, "c", 4);
	CHECK(c == b);
	CHECK(pm_node_find_child(root, "c") == c && pm_node_find_child(root, "short") == a);
	cleanup(&w, &r, 1);
}
