/* The event loop's registry: every input is a descriptor in one epoll set,
 * and epoll's data.ptr points at its pm_source. */
#ifndef PM_CORE_LOOP_H
#define PM_CORE_LOOP_H

#include "pymon.h"

#include <stdint.h>

struct pm_source {
	int fd;
	void (*ready)(pymon_watcher *w, struct pm_source *src, uint32_t events);
	void *data;
};

int pm_loop_add(pymon_watcher *w, struct pm_source *src, uint32_t events);
void pm_loop_del(pymon_watcher *w, struct pm_source *src);
/* Arms the watcher's timerfd for the earliest pending deadline. */
void pm_schedule(pymon_watcher *w);
void pm_fire_due(pymon_watcher *w);
void pm_timer_ready(pymon_watcher *w, struct pm_source *src, uint32_t events);
/* An inotify event on wd: when it is a git directory's watch and the event
 * is index.lock going away (or the directory itself), the batches held for
 * it are looked at again. Cheap when no batch waits for a lock. */
void pm_git_lock_event(pymon_watcher *w, int wd, uint32_t mask, const char *name);

#endif
