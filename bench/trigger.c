/*
 * The triggered command of the benchmark: takes a CLOCK_REALTIME timestamp
 * first thing, appends it in nanoseconds (one line) to the file named by
 * argv[1] (or $BENCH_STAMP), then exits. Nothing else, so that what the
 * harness measures is the watcher, not the command.
 * Build: cc -O2 -static -o trigger trigger.c (static: no dynamic loader).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	const char *path = argc > 1 ? argv[1] : getenv("BENCH_STAMP");
	if (!path || !*path) {
		static const char msg[] = "usage: trigger STAMPFILE (or BENCH_STAMP=FILE)\n";
		(void)!write(2, msg, sizeof msg - 1);
		return 2;
	}
	char line[32];
	int n = snprintf(line, sizeof line, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return 1;
	/* O_APPEND: one write() of one short line is atomic, so concurrent runs
	 * (watchmedo starts them without waiting) never interleave. */
	int ok = write(fd, line, (size_t)n) == n;
	close(fd);
	return ok ? 0 : 1;
}
