/*
 * The latency floors.
 *
 *   floor_loop watch DIR TRIGGER STAMP
 *       The smallest correct watcher: the floor_scan walk (one watch per
 *       directory), then a blocking read() on the inotify descriptor and one
 *       posix_spawn of TRIGGER STAMP per read. No debounce, no filtering,
 *       no path bookkeeping. Runs until killed.
 *
 *   floor_loop spawn N TRIGGER STAMP
 *       The cost of starting the command: N times each, interleaved,
 *       posix_spawn, fork+exec, and posix_spawn of /bin/sh -c "TRIGGER STAMP";
 *       each measured from just before the spawn to the timestamp the
 *       trigger wrote. Prints "MODE NS" lines.
 */
#define FLOOR_NO_MAIN
#include "floor_scan.c"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static long long last_stamp(int fd, off_t *off)
{
	char buf[4096];
	long long v = -1;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof buf - 1, *off);
		if (n <= 0)
			break;
		/* Only whole lines; the trigger writes each line at once. */
		ssize_t end = n;
		while (end > 0 && buf[end - 1] != '\n')
			end--;
		if (end == 0)
			break;
		buf[end] = '\0';
		*off += end;
		for (char *p = buf, *nl; (nl = strchr(p, '\n')); p = nl + 1)
			v = strtoll(p, NULL, 10);
	}
	return v;
}

static long long realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int spawn_floor(int n, char *trigger, char *stamp)
{
	int sfd = open(stamp, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	if (sfd < 0) {
		perror(stamp);
		return 1;
	}
	off_t off = lseek(sfd, 0, SEEK_END);
	char cmdline[8192];
	snprintf(cmdline, sizeof cmdline, "%s %s", trigger, stamp);
	char *argv_direct[] = {trigger, stamp, NULL};
	char *argv_sh[] = {"/bin/sh", "-c", cmdline, NULL};
	static const char *modes[] = {"posix_spawn", "fork_exec", "sh_c"};
	for (int i = 0; i < n; i++) {
		for (int m = 0; m < 3; m++) {
			long long t0 = realtime_ns();
			pid_t pid = -1;
			if (m == 0) {
				if (posix_spawn(&pid, trigger, NULL, NULL, argv_direct, environ) != 0)
					pid = -1;
			} else if (m == 1) {
				pid = fork();
				if (pid == 0) {
					execv(trigger, argv_direct);
					_exit(127);
				}
			} else {
				if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv_sh, environ) != 0)
					pid = -1;
			}
			if (pid < 0) {
				perror("spawn");
				return 1;
			}
			int st;
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			long long t1 = last_stamp(sfd, &off);
			if (t1 < 0) {
				fprintf(stderr, "floor_loop: %s wrote no stamp\n", modes[m]);
				return 1;
			}
			printf("%s %lld\n", modes[m], t1 - t0);
		}
		usleep(2000);
	}
	return 0;
}

static int watch_loop(const char *dir, char *trigger, char *stamp)
{
	struct floor_walk w = {.ifd = inotify_init1(IN_CLOEXEC)};
	if (w.ifd < 0 || floor_walk(&w, dir) < 0) {
		perror("floor_loop");
		return 1;
	}
	/* Children reap themselves; the trigger gets default dispositions. */
	signal(SIGCHLD, SIG_IGN);
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	sigset_t all;
	sigfillset(&all);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	char *argv[] = {trigger, stamp, NULL};
	static char buf[65536] __attribute__((aligned(8)));
	for (;;) {
		ssize_t n = read(w.ifd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("read");
			return 1;
		}
		pid_t pid;
		posix_spawn(&pid, trigger, NULL, &attr, argv, environ);
	}
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "watch") == 0)
		return watch_loop(argv[2], argv[3], argv[4]);
	if (argc == 5 && strcmp(argv[1], "spawn") == 0)
		return spawn_floor(atoi(argv[2]), argv[3], argv[4]);
	fprintf(stderr, "usage: floor_loop watch DIR TRIGGER STAMP\n"
	                "       floor_loop spawn N TRIGGER STAMP\n");
	return 2;
}
