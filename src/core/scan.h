/* Scanning: watching a directory and everything below it that is not
 * ignored, and resynchronising a subtree with the disk. */
#ifndef PM_CORE_SCAN_H
#define PM_CORE_SCAN_H

#include "core/tree.h"

#include <stdbool.h>
#include <sys/inotify.h>

/* One fixed mask for every watch (never IN_MASK_ADD). IN_CLOSE_WRITE is
 * only used to re-read ignore files; a change is IN_MODIFY or IN_ATTRIB. */
#define PM_WATCH_MASK                                                                        \
	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM |         \
	 IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

/* Watches dir `name` below `parent` (or the root's own directory when
 * parent is NULL) and everything below it that is not ignored, breadth
 * first, each watch added before its directory is read. With `report`,
 * every entry found becomes a CREATE event. 0, or a negative errno for a
 * fatal error (watch limit) with err filled. */
int pm_scan(pymon_watcher *w, struct pm_root *root, struct pm_node *parent, const char *name,
            bool report, pymon_error *err);
/* Runs fn(w, arg, err) -- scans -- on a short-lived thread of the
 * library's whose working directory is its own, so each directory is
 * watched as "." after an fchdir() into it (10,101 directories: 134 ms
 * instead of 146 through /proc/PID/fd/N). The caller waits; warnings
 * reach it afterwards, in order, on its own thread. Scans that report
 * events (skip callbacks) stay on the caller's thread. Returns fn's result. */
int pm_scan_aside(pymon_watcher *w, int (*fn)(pymon_watcher *w, void *arg, pymon_error *err), void *arg,
                  pymon_error *err);
/* Brings the tree below n in line with the disk after an overflow or an
 * ignore-file change: watches new directories, drops vanished or now-ignored ones. */
int pm_resync(pymon_watcher *w, struct pm_node *n, pymon_error *err);
void pm_defer_resync(pymon_watcher *w, int wd);
/* Warns about directories a scan or resync could not watch (ENOSPC while
 * running): the limit message once, then how many this time (counted
 * since `before`, a value of w->unwatched) and in all. */
void pm_budget_report(pymon_watcher *w, const pymon_error *err, size_t before);
void pm_run_deferred_resyncs(pymon_watcher *w);

#endif
