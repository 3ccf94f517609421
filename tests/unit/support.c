/* Helpers the unit tests of the watcher share (see support.h). */
#include "support.h"
#include "harness.h"
#include "base/sys.h"
#include "base/util.h"

#include <errno.h>
#include <poll.h>

bool pm_test_dispatch_until(pymon_watcher *w, const int *count, int goal, int ms)
{
	uint64_t end = pm_now_ns() + (uint64_t)ms * 1000000u;
	pymon_error err;
	while (*count < goal && pm_now_ns() < end) {
		struct pollfd p = {.fd = pymon_watcher_fd(w), .events = POLLIN};
		poll(&p, 1, 20);
		CHECK(pymon_watcher_dispatch(w, &err) >= 0);
	}
	return *count >= goal;
}

static int watches_left;

static int limited_add(int fd, const char *path, uint32_t mask)
{
	if (watches_left-- <= 0) {
		errno = ENOSPC;
		return -1;
	}
	return pm_sys_real.inotify_add_watch(fd, path, mask);
}

void pm_test_limit_watches(int n)
{
	watches_left = n;
	pm_sys.inotify_add_watch = limited_add;
}
