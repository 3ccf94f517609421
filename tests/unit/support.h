/*
 * Helpers the unit tests of the watcher share (test_watcher.c,
 * test_poll.c): dispatching until a condition, and an inotify watch
 * budget through the syscall seam.
 */
#ifndef PM_TEST_SUPPORT_H
#define PM_TEST_SUPPORT_H

#include "pymon.h"

#include <stdbool.h>

/* Dispatches w, waiting on its descriptor, until *count reaches goal or
 * ms pass; whether it did. */
bool pm_test_dispatch_until(pymon_watcher *w, const int *count, int goal, int ms);

/* From now on inotify_add_watch() succeeds n more times, then fails with
 * ENOSPC (the watch limit). */
void pm_test_limit_watches(int n);

#endif
