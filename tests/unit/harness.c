/* The unit-test runner: one forked process per test, with a time limit. */
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TESTS 1024

static struct {
	const char *name;
	pm_test_fn fn;
} tests[MAX_TESTS];
static int ntests;
static char tmpdir[256];

void pm_test_register(const char *name, pm_test_fn fn)
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "harness: more than %d tests\n", MAX_TESTS);
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void pm_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

const char *pm_test_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(tmpdir, sizeof tmpdir, "%s/pymon-unit-XXXXXX", base && *base ? base : "/tmp");
		if (!mkdtemp(tmpdir))
			pm_test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
	}
	return tmpdir;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static int run_one(int i)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 0;
	}
	if (pid == 0) {
		alarm(10);
		tests[i].fn();
		if (tmpdir[0])
			nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		fflush(NULL);
		_exit(0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok   %s\n", tests[i].name);
		return 1;
	}
	if (WIFSIGNALED(status))
		printf("FAIL %s (killed by signal %d%s)\n", tests[i].name, WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? ": timed out after 10 s" : "");
	else
		printf("FAIL %s\n", tests[i].name);
	return 0;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < ntests; i++) {
		int selected = argc < 2;
		for (int a = 1; a < argc; a++)
			if (strncmp(tests[i].name, argv[a], strlen(argv[a])) == 0)
				selected = 1;
		if (!selected)
			continue;
		if (run_one(i))
			passed++;
		else
			failed++;
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
