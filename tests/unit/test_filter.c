/* The event entry point: the batch is keyed by the display path it builds
 * without allocation, a path already in the batch merges without being
 * matched again, the kind filter still applies to it. */
#include "harness.h"
#include "core/batch.h"
#include "core/tree.h"
#include "core/watcher.h"
#include "filter/rules.h"

/* The watcher the nodes come from (tree.c allocates them in its chunks). */
static pymon_watcher watcher;

static void observer_init(struct pymon_observer *o)
{
	memset(o, 0, sizeof *o);
	o->w = &watcher;
	o->kinds = PYMON_ALL;
	o->batch.limit = 1000;
	pm_ruleset_init(&o->defaults, "default");
	pm_ruleset_init(&o->user, "--ignore");
	CHECK_INT(pm_ruleset_add_defaults(&o->defaults), 0);
}

static void observer_free(struct pymon_observer *o)
{
	pm_ruleset_free(&o->defaults);
	pm_ruleset_free(&o->user);
	pm_batch_free(&o->batch);
	pm_tree_free(&watcher); /* the node chunks */
}

/* Unwatched nodes (wd -1): dropping them removes no watch. */
static void free_nodes(struct pm_node *top)
{
	pm_node_drop(&watcher, top, -1);
}

TEST(observer_event_paths_are_node_display_paths)
{
	static const char *const displays[] = {"", "src", "/", "a/b", "../up"};
	char longname[300];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';

	for (size_t i = 0; i < sizeof displays / sizeof displays[0]; i++) {
		struct pymon_observer o;
		observer_init(&o);
		struct pm_root root = {.obs = &o, .display = (char *)displays[i], .real = (char *)"/tmp"};
		struct pm_node *top = pm_node_new(&root, NULL, "", 0);
		struct pm_node *d1 = pm_node_new(&root, top, "pkg", 3);
		struct pm_node *d2 = pm_node_new(&root, d1, longname, strlen(longname));
		struct pm_node *d3 = pm_node_new(&root, d2, longname, strlen(longname)); /* > 512 bytes: heap */
		struct pm_node *dirs[] = {top, d1, d2, d3};
		struct pm_buf want = {0};
		size_t n = 0;
		for (size_t k = 0; k < 4; k++) {
			pm_observer_event(dirs[k], "m.py", PYMON_MODIFY, false, NULL);
			CHECK_INT(pm_node_display(dirs[k], "m.py", &want), 0);
			CHECK_INT(o.batch.count, ++n);
			CHECK_STR(o.batch.entries[n - 1].path, want.s);
			pm_observer_event(dirs[k], NULL, PYMON_RESCAN, true, NULL);
			CHECK_INT(pm_node_display(dirs[k], NULL, &want), 0);
			CHECK_INT(o.batch.count, ++n);
			CHECK_STR(o.batch.entries[n - 1].path, want.len ? want.s : ".");
		}
		pm_buf_free(&want);
		free_nodes(top);
		observer_free(&o);
	}
}

TEST(observer_event_file_root_is_its_display_path)
{
	struct pymon_observer o;
	observer_init(&o);
	struct pm_root root = {.obs = &o, .display = (char *)"conf/app.toml", .real = (char *)"/tmp/conf",
	                       .file = (char *)"app.toml"};
	struct pm_node *top = pm_node_new(&root, NULL, "", 0);
	pm_observer_event(top, "other.toml", PYMON_MODIFY, false, NULL);
	CHECK_INT(o.batch.count, 0);
	pm_observer_event(top, "app.toml", PYMON_MODIFY, false, NULL);
	CHECK_INT(o.batch.count, 1);
	CHECK_STR(o.batch.entries[0].path, "conf/app.toml");
	free_nodes(top);
	observer_free(&o);
}

TEST(observer_event_batched_path_merges_and_kinds_still_count)
{
	struct pymon_observer o;
	observer_init(&o);
	struct pm_root root = {.obs = &o, .display = (char *)"", .real = (char *)"/tmp"};
	struct pm_node *top = pm_node_new(&root, NULL, "", 0);

	pm_observer_event(top, "app.log", PYMON_MODIFY, false, NULL); /* a default ignore */
	CHECK_INT(o.batch.count, 0);
	pm_observer_event(top, "m.py", PYMON_CREATE, false, NULL);
	pm_observer_event(top, "m.py", PYMON_MODIFY, false, NULL);
	CHECK_INT(o.batch.count, 1);
	CHECK_INT(o.batch.entries[0].kind, PYMON_CREATE); /* created, then written */
	CHECK(o.deadline_ns > 0);
	/* A kind the observer does not take stays out, batched path or not. */
	o.kinds = PYMON_CREATE | PYMON_MODIFY;
	pm_observer_event(top, "m.py", PYMON_DELETE, false, NULL);
	CHECK_INT(o.batch.entries[0].kind, PYMON_CREATE);
	o.kinds = PYMON_ALL;
	pm_observer_event(top, "m.py", PYMON_DELETE, false, NULL);
	CHECK_INT(o.batch.entries[0].kind, PYMON_DELETE);
	/* The same name as a directory is another entry: decided afresh. */
	pm_observer_event(top, "m.py", PYMON_CREATE, true, NULL);
	CHECK_INT(o.batch.count, 1);
	CHECK_INT(o.batch.entries[0].is_dir, 1);
	free_nodes(top);
	observer_free(&o);
}
