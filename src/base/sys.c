/* Default entries of the syscall seam: straight to the kernel. */
#include "base/sys.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_openat(int dirfd, const char *path, int flags, int mode)
{
	return openat(dirfd, path, flags, mode);
}

static ssize_t sys_getdents64(int fd, void *buf, size_t len)
{
	return syscall(SYS_getdents64, fd, buf, len);
}

static int sys_inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	return inotify_add_watch(fd, path, mask);
}

/* One list for both tables: the seam starts as the real thing. */
#define REAL_OPS                                                                                     \
	{                                                                                            \
		.inotify_init1 = inotify_init1, .inotify_add_watch = sys_inotify_add_watch,          \
		.inotify_rm_watch = inotify_rm_watch, .read = read, .openat = sys_openat,            \
		.getdents64 = sys_getdents64, .epoll_wait = epoll_wait, .fstatfs = fstatfs,          \
		.readlink = readlink, .pthread_create = pthread_create, .unshare = unshare,          \
		.fchdir = fchdir, .clock_gettime = clock_gettime, .fstat = fstat,                    \
	}

const struct pm_sys_ops pm_sys_real = REAL_OPS;
struct pm_sys_ops pm_sys = REAL_OPS;
