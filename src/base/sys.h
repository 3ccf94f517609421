/*
 * The syscall seam: every call the engine makes that tests need to fail on
 * demand (ENOSPC, EMFILE, EACCES, EINTR, EPERM, EAGAIN) goes through
 * pm_sys. Production code never changes it; unit tests swap single entries
 * and restore them.
 */
#ifndef PM_SYS_H
#define PM_SYS_H

#include <pthread.h>
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <stdint.h>
#include <time.h>

/* One record of getdents64(2), which glibc does not declare. */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

struct pm_sys_ops {
	int (*inotify_init1)(int flags);
	int (*inotify_add_watch)(int fd, const char *path, uint32_t mask);
	int (*inotify_rm_watch)(int fd, int wd);
	ssize_t (*read)(int fd, void *buf, size_t len);
	int (*openat)(int dirfd, const char *path, int flags, int mode);
	ssize_t (*getdents64)(int fd, void *buf, size_t len);
	int (*epoll_wait)(int epfd, struct epoll_event *ev, int max, int timeout);
	int (*fstatfs)(int fd, struct statfs *buf);
	ssize_t (*readlink)(const char *path, char *buf, size_t len);
	/* The scan's own thread and working directory (core/scan.c). */
	int (*pthread_create)(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
	int (*unshare)(int flags);
	int (*fchdir)(int fd);
	/* The polling backend's clock and directory times (core/poll.c):
	 * tests move the clock on and freeze the times. */
	int (*clock_gettime)(clockid_t clock, struct timespec *ts);
	int (*fstat)(int fd, struct stat *st);
};

extern struct pm_sys_ops pm_sys;

/* The real implementations, for tests that wrap them. */
extern const struct pm_sys_ops pm_sys_real;

#endif
