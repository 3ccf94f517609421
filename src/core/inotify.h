/* Reading and interpreting inotify events: moves paired by cookie,
 * overflow turned into a resync. */
#ifndef PM_CORE_INOTIFY_H
#define PM_CORE_INOTIFY_H

#include "core/loop.h"

#include <stddef.h>
#include <stdint.h>

#define PM_MOVE_GRACE_MS 10

struct pm_raw_event {
	int wd;
	uint32_t mask;
	uint32_t cookie;
	const char *name; /* NUL-terminated, "" when the event has no name */
	size_t namelen;
};

/* Iterates over a buffer read from inotify. Returns 1 with *ev filled, 0 at
 * the end, -EINVAL for a truncated or malformed record (iteration stops). */
int pm_event_next(const char *buf, size_t len, size_t *off, struct pm_raw_event *ev);
void pm_inotify_ready(pymon_watcher *w, struct pm_source *src, uint32_t events);
void pm_handle_event(pymon_watcher *w, const struct pm_raw_event *ev);
void pm_moves_flush(pymon_watcher *w);
void pm_overflow(pymon_watcher *w);
void pm_root_waits_free(pymon_watcher *w);

#endif
