/* Process helpers: which command lines can skip the shell; spawning
 * reports exec failures exactly; /proc descendants. */
#include "harness.h"
#include "internal.h"
#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void simple(const char *cmd, int expect, const char *first, int nwords)
{
	char **argv = NULL;
	int r = pm_split_simple(cmd, &argv);
	if (r != expect)
		pm_test_fail(__FILE__, __LINE__, "pm_split_simple(\"%s\") == %d, expected %d", cmd, r, expect);
	if (r == 1) {
		CHECK_STR(argv[0], first);
		int n = 0;
		while (argv[n])
			n++;
		CHECK_INT(n, nwords);
		pm_argv_free(argv);
	}
}

TEST(proc_simple_commands_skip_the_shell)
{
	simple("python3 app.py", 1, "python3", 2);
	simple("  fastapi dev --port 8000  ", 1, "fastapi", 4);
	simple("uvicorn app:main --reload-dir=src", 1, "uvicorn", 3);
	simple("./manage.py runserver 0.0.0.0:8000", 1, "./manage.py", 3);
	simple("pytest -x -k test_a+b", 1, "pytest", 4);
}

TEST(proc_shell_syntax_needs_the_shell)
{
	const char *needs[] = {
		"echo $HOME", "a && b", "a | b", "a > out", "a < in", "a; b", "echo 'x y'", "echo \"x\"",
		"ls *.py", "echo ~", "FOO=1 python3 app.py", "cd src", "exec python3", "echo `date`",
		"a & b", "echo (x)", "echo {a,b}", "echo a\\ b", "if true", "x # comment", "", "   ",
		"echo a\nb",
	};
	for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++)
		simple(needs[i], 0, NULL, 0);
}

TEST(proc_spawn_reports_exec_failure_exactly)
{
	char *argv[] = {"/nonexistent/program-xyz", NULL};
	char *envp[] = {NULL};
	struct pm_spawn spec = {.argv = argv, .envp = envp};
	CHECK_INT(pm_spawn(&spec), -ENOENT);
	char *argv2[] = {"/etc/passwd", NULL};
	spec.argv = argv2;
	CHECK_INT(pm_spawn(&spec), -EACCES);
}

TEST(proc_spawn_puts_child_in_its_own_group)
{
	char *argv[] = {"sleep", "5", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	struct pm_spawn spec = {.argv = argv, .envp = envp};
	pid_t pid = pm_spawn(&spec);
	CHECK(pid > 0);
	CHECK_INT(getpgid(pid), pid);
	pid_t *pids = NULL;
	size_t n = 0, cap = 0;
	CHECK(pm_descendants(getpid(), 0, &pids, &n, &cap) >= 1);
	int found = 0;
	for (size_t i = 0; i < n; i++)
		found |= pids[i] == pid;
	CHECK(found);
	free(pids);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

TEST(proc_signal_names)
{
	CHECK_STR(pm_signal_name(SIGTERM), "TERM");
	CHECK_STR(pm_signal_name(SIGHUP), "HUP");
}
