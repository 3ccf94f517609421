/*
 * The ready-time floor: walk a tree with getdents64 (d_type, no stat unless
 * the file system leaves d_type unknown), openat() relative to the parent's
 * descriptor, and add one inotify watch per directory (watch first, then
 * read, as a correct watcher must). One path buffer, appended to and cut
 * back, no allocation per entry. Prints the elapsed time and exits.
 * What py-mon pays beyond it, measured by building this walk with
 *   -DFLOOR_PROCFD='"/proc/self/fd/%d"'  watch the open descriptor, not the
 *                                        path (py-mon while running:
 *                                        "/proc/PID/fd/%d")
 *   -DFLOOR_FCHDIR                       watch it as "." after fchdir()
 *                                        into it (py-mon's start scan, on
 *                                        a thread with its own cwd)
 *   -DFLOOR_FSTAT                        one fstat per directory
 * (10,101 directories, medians of 7, AMD EPYC: 106 ms; /proc/self/fd 125;
 * /proc/PID/fd 123; fstat 112; py-mon's own scan 135. Medians of 15 on
 * another day: path 119, /proc/self/fd 143, "." 116; py-mon 146 through
 * /proc/PID/fd, 134 with ".".)
 *
 *   floor_scan DIR      ->  scan_ns=N dirs=N watches=N hwm_kb=N
 *
 * floor_loop.c includes this file (FLOOR_NO_MAIN) for the same walk.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The same mask as py-mon's watches (src/internal.h PM_WATCH_MASK). */
#define FLOOR_MASK                                                                                 \
	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

struct floor_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

struct floor_walk {
	int ifd;
	unsigned long dirs, watches;
	char path[4096];
};

static uint64_t floor_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* w->path holds the directory's path (len bytes); dirfd is open on it and
 * already watched. Recurses into subdirectories, depth first. */
static void floor_walk_dir(struct floor_walk *w, size_t len, int dirfd)
{
	char buf[16384] __attribute__((aligned(8)));
	for (;;) {
		long n = syscall(SYS_getdents64, dirfd, buf, sizeof buf);
		if (n <= 0)
			return;
		for (long off = 0; off < n;) {
			struct floor_dirent64 *d = (struct floor_dirent64 *)(buf + off);
			off += d->d_reclen;
			const char *nm = d->d_name;
			if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
				continue;
			if (d->d_type != DT_DIR) {
				struct stat st;
				if (d->d_type != DT_UNKNOWN ||
				    fstatat(dirfd, nm, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
					continue;
			}
			size_t nl = strlen(nm);
			if (len + 1 + nl + 1 > sizeof w->path)
				continue;
			w->path[len] = '/';
			memcpy(w->path + len + 1, nm, nl + 1);
			w->dirs++;
#if !defined(FLOOR_PROCFD) && !defined(FLOOR_FCHDIR)
			if (inotify_add_watch(w->ifd, w->path, FLOOR_MASK) >= 0)
				w->watches++;
#endif
			int fd = openat(dirfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
#ifdef FLOOR_FSTAT
			struct stat fst;
			if (fd >= 0)
				(void)fstat(fd, &fst);
#endif
#ifdef FLOOR_FCHDIR
			if (fd >= 0 && fchdir(fd) == 0 && inotify_add_watch(w->ifd, ".", FLOOR_MASK) >= 0)
				w->watches++;
#endif
#ifdef FLOOR_PROCFD
			char proc[64];
			snprintf(proc, sizeof proc, FLOOR_PROCFD, fd);
			if (fd >= 0 && inotify_add_watch(w->ifd, proc, FLOOR_MASK & ~(uint32_t)IN_DONT_FOLLOW) >= 0)
				w->watches++;
#endif
			if (fd >= 0) {
				floor_walk_dir(w, len + 1 + nl, fd);
				close(fd);
			}
			w->path[len] = '\0';
		}
	}
}

/* Watches root and everything below it on w->ifd. 0 or -1 (errno set). */
static int floor_walk(struct floor_walk *w, const char *root)
{
	size_t len = strlen(root);
	if (len + 1 > sizeof w->path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(w->path, root, len + 1);
	while (len > 1 && w->path[len - 1] == '/')
		w->path[--len] = '\0';
	w->dirs = 1;
	if (inotify_add_watch(w->ifd, w->path, FLOOR_MASK) < 0)
		return -1;
	w->watches = 1;
	int fd = open(w->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	floor_walk_dir(w, len, fd);
	close(fd);
	return 0;
}

static long floor_hwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

#ifndef FLOOR_NO_MAIN
int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: floor_scan DIR\n");
		return 2;
	}
	uint64_t t0 = floor_now_ns();
	struct floor_walk w = {.ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)};
	if (w.ifd < 0 || floor_walk(&w, argv[1]) < 0) {
		perror("floor_scan");
		return 1;
	}
	uint64_t t1 = floor_now_ns();
	printf("scan_ns=%llu dirs=%lu watches=%lu hwm_kb=%ld\n", (unsigned long long)(t1 - t0), w.dirs,
	       w.watches, floor_hwm_kb());
	return w.watches == w.dirs ? 0 : 1;
}
#endif
