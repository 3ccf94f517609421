/* Command lines: which skip the shell (pymon_split_command). The guardian:
 * exec failures reported exactly, the tree signalled as a whole, escapees
 * included, the tree stopped when the caller's end of the socket closes,
 * and no SIGCHLD or reaping role taken from the caller. The kept guardian:
 * each run started by the same guardian with that run's environment and
 * directory, any size of environment, exec failures survived, a dead one
 * replaced, descriptors handed to every run. */
#include "harness.h"
#include "act/spawn.h"
#include "pymon.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void split(const char *cmd, int expect, const char *first, int nwords)
{
	char **argv = NULL;
	int r = pymon_split_command(cmd, &argv, NULL);
	if (r != expect)
		pm_test_fail(__FILE__, __LINE__, "pymon_split_command(\"%s\") == %d, expected %d", cmd, r, expect);
	if (r == 1) {
		CHECK_STR(argv[0], first);
		int n = 0;
		while (argv[n])
			n++;
		CHECK_INT(n, nwords);
	} else if (r == 0) {
		CHECK_STR(argv[0], "/bin/sh");
		CHECK_STR(argv[1], "-c");
		CHECK_STR(argv[2], cmd);
		CHECK(argv[3] == NULL);
	}
	pymon_argv_free(argv);
}

TEST(split_simple_commands_skip_the_shell)
{
	split("python3 app.py", 1, "python3", 2);
	split("  fastapi dev --port 8000  ", 1, "fastapi", 4);
	split("uvicorn app:main --reload-dir=src", 1, "uvicorn", 3);
	split("./manage.py runserver 0.0.0.0:8000", 1, "./manage.py", 3);
	split("pytest -x -k test_a+b", 1, "pytest", 4);
	split("black {}", 1, "black", 2); /* the per-file placeholder is a plain word */
	split("echo hi", 1, "echo", 2);    /* a builtin that is also a program */
}

TEST(split_shell_syntax_and_builtins_need_the_shell)
{
	const char *needs[] = {
		"echo $HOME", "a && b", "a | b", "a > out", "a < in", "a; b", "echo 'x y'", "echo \"x\"",
		"ls *.py", "echo ~", "FOO=1 python3 app.py", "FOO=1 echo {}", "cd src", "exec python3",
		"echo `date`", "a & b", "echo (x)", "echo {a,b}", "echo a\\ b", "if true", "x # comment",
		"echo a\nb", "command -v ls", "type ls", "hash", ": nothing", "export A=1",
	};
	for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++)
		split(needs[i], 0, NULL, 0);
}

TEST(split_refuses_an_empty_line)
{
	char **argv = NULL;
	pymon_error err = {0};
	CHECK_INT(pymon_split_command("   ", &argv, &err), -EINVAL);
	CHECK(argv == NULL);
	CHECK(strstr(err.message, "empty") != NULL);
}

TEST(busy_names_round_trip)
{
	for (int m = PYMON_BUSY_RESTART; m <= PYMON_BUSY_SIGNAL; m++) {
		enum pymon_busy back;
		CHECK_INT(pymon_parse_busy(pymon_busy_name((enum pymon_busy)m), &back), 0);
		CHECK_INT((int)back, m);
	}
	enum pymon_busy b;
	CHECK_INT(pymon_parse_busy("reload", &b), -EINVAL);
}

static char *envp[] = {"PATH=/usr/bin:/bin", NULL};

/* The child's first message or the end, within a deadline. */
static int wait_exit(struct pm_child *c, int *status, int ms)
{
	struct pollfd p = {.fd = c->sock, .events = POLLIN};
	while (poll(&p, 1, ms) > 0) {
		int r = pm_child_read(c, status);
		if (r != 0)
			return r;
	}
	return 0;
}

TEST(spawn_reports_exec_failure_exactly)
{
	char *argv[] = {"no-such-program-pymon", NULL};
	struct pm_spawn spec = {.argv = argv, .envp = envp};
	struct pm_child c;
	CHECK_INT(pm_spawn(&spec, &c), -ENOENT);
	/* Found, but its exec fails in the guardian: the run is handed over
	 * (0), the failure comes back as a message, the guardian then ends. */
	char *argv2[] = {"/etc/passwd", NULL};
	spec.argv = argv2;
	CHECK_INT(pm_spawn(&spec, &c), 0);
	int err = 0;
	CHECK_INT(wait_exit(&c, &err, 5000), 2);
	CHECK_INT(err, EACCES);
	CHECK(!c.running);
	pm_child_reap(&c, 5000);
	/* Nothing is left to reap. */
	CHECK(waitpid(-1, NULL, WNOHANG | __WALL) < 0 && errno == ECHILD);
}

TEST(spawn_reports_the_exit_status_then_the_end)
{
	char *argv[] = {"sh", "-c", "exit 7", NULL};
	struct pm_spawn spec = {.argv = argv, .envp = envp};
	struct pm_child c;
	CHECK_INT(pm_spawn(&spec, &c), 0);
	int status = -1;
	CHECK_INT(wait_exit(&c, &status, 5000), 1);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
	CHECK_INT(wait_exit(&c, &status, 5000), -1);
	pm_child_reap(&c, 5000);
	CHECK(waitpid(-1, NULL, WNOHANG | __WALL) < 0 && errno == ECHILD);
}

TEST(spawn_leaves_the_caller_no_child_role)
{
	/* The guardian sends no SIGCHLD, and the caller does not become a
	 * subreaper: a host's own waitpid(-1) never sees it. */
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	char *argv[] = {"true", NULL};
	struct pm_spawn spec = {.argv = argv, .envp = envp};
	struct pm_child c;
	CHECK_INT(pm_spawn(&spec, &c), 0);
	int status;
	CHECK_INT(wait_exit(&c, &status, 5000), 1);
	CHECK_INT(wait_exit(&c, &status, 5000), -1);
	if (pm_spawn_silent()) /* not under valgrind, which lacks clone3 */
		CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD); /* without __WALL: invisible */
	pm_child_reap(&c, 5000);
	sigset_t pending;
	sigpending(&pending);
	if (pm_spawn_silent())
		CHECK(!sigismember(&pending, SIGCHLD));
	int sub = -1;
	prctl(PR_GET_CHILD_SUBREAPER, &sub);
	CHECK_INT(sub, 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static bool alive(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[2] != 'Z' && p[2] != 'X';
}

/* A command whose child leaves the group with setsid: the pid of that
 * escapee, read from the pipe the command writes it to. */
static pid_t spawn_escapee(struct pm_child *c, unsigned stop_timeout_ms)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return -1;
	/* The pipe reaches the command as fd 3 (handed descriptors). */
	char *argv[] = {"sh", "-c", "setsid sh -c 'echo $$ >&3; exec sleep 1000' 3>&3 & wait", NULL};
	int fds[] = {pfd[1]};
	struct pm_spawn spec = {.argv = argv, .envp = envp, .stop_timeout_ms = stop_timeout_ms, .fds = fds, .nfds = 1};
	if (pm_spawn(&spec, c) < 0)
		return -1;
	close(pfd[1]);
	char buf[32] = {0};
	struct pollfd p = {.fd = pfd[0], .events = POLLIN};
	pid_t pid = -1;
	if (poll(&p, 1, 5000) > 0 && read(pfd[0], buf, sizeof buf - 1) > 0)
		pid = (pid_t)atoi(buf);
	close(pfd[0]);
	return pid;
}

static bool gone_within(pid_t pid, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		if (!alive(pid))
			return true;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return !alive(pid);
}

TEST(spawn_signals_escapees_with_the_tree)
{
	struct pm_child c;
	pid_t esc = spawn_escapee(&c, 5000);
	CHECK(esc > 0);
	CHECK(alive(esc));
	CHECK_INT(pm_child_signal(&c, SIGTERM, false), 0);
	int status;
	while (wait_exit(&c, &status, 5000) == 1)
		;
	CHECK(gone_within(esc, 5000));
	pm_child_reap(&c, 5000);
}

TEST(spawn_stops_the_tree_when_the_caller_goes)
{
	struct pm_child c;
	pid_t esc = spawn_escapee(&c, 200);
	CHECK(esc > 0);
	/* The caller's end closes as if the caller died. */
	close(c.sock);
	c.sock = -1;
	CHECK(gone_within(esc, 5000));
	pm_child_reap(&c, 5000);
}

/* ---- the kept guardian: one clone, then a vfork and an exec per run ---- */

/* One run under a kept guardian, to the end of its tree: the wait status,
 * a negative errno when it did not start, -1000 when it did not end. */
static int run_kept(struct pm_child *c, char **argv, char **env, const int *fds, size_t nfds)
{
	struct pm_spawn spec = {.argv = argv, .envp = env, .fds = fds, .nfds = nfds, .keep = true};
	int rc = pm_spawn(&spec, c);
	if (rc < 0)
		return rc;
	int status = -1000, r;
	while ((r = wait_exit(c, &status, 5000)) == 1)
		;
	return r == -1 ? status : r == 2 ? -status : -1000;
}

static void read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, size - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

TEST(kept_guardian_starts_each_run_itself_with_its_env_and_cwd)
{
	char out[] = "/tmp/pymon-kept-XXXXXX", dir[] = "/tmp/pymon-kept-dir-XXXXXX";
	close(mkstemp(out));
	CHECK(mkdtemp(dir) != NULL);
	char outvar[64], buf[4200], want[4200];
	snprintf(outvar, sizeof outvar, "OUT=%s", out);
	struct pm_child c;
	CHECK_INT(pm_child_open(&c, NULL, 0), 0);
	pid_t guard = c.pid;
	CHECK(c.idle && !c.running);
	/* sh is the guardian's own child: $PPID names the guardian. */
	char *argv[] = {"sh", "-c", "echo $PPID $RUN $(pwd) > \"$OUT\"", NULL};
	char *env1[] = {"PATH=/usr/bin:/bin", "RUN=one", outvar, NULL};
	int status = run_kept(&c, argv, env1, NULL, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(c.idle && !c.running && c.pid == guard);
	char cwd[4096];
	CHECK(getcwd(cwd, sizeof cwd) != NULL);
	read_text(out, buf, sizeof buf);
	snprintf(want, sizeof want, "%d one %s", (int)guard, cwd);
	CHECK_STR(buf, want);
	/* The next run: the caller's environment and directory of that moment. */
	char *env2[] = {"PATH=/usr/bin:/bin", "RUN=two", outvar, NULL};
	CHECK_INT(chdir(dir), 0);
	status = run_kept(&c, argv, env2, NULL, 0);
	CHECK_INT(chdir(cwd), 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(c.pid == guard);
	read_text(out, buf, sizeof buf);
	snprintf(want, sizeof want, "%d two %s", (int)guard, dir);
	CHECK_STR(buf, want);
	/* The same name, another directory: the run is in the new one. */
	char old[sizeof dir + 8], mark[sizeof dir + 16];
	snprintf(old, sizeof old, "%s.old", dir);
	CHECK_INT(rename(dir, old), 0);
	CHECK_INT(mkdir(dir, 0755), 0);
	snprintf(mark, sizeof mark, "%s/new", dir);
	close(open(mark, O_CREAT | O_WRONLY, 0644));
	CHECK_INT(chdir(dir), 0);
	char *argv3[] = {"sh", "-c", "ls > \"$OUT\"", NULL};
	status = run_kept(&c, argv3, env2, NULL, 0);
	CHECK_INT(chdir(cwd), 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	read_text(out, buf, sizeof buf);
	CHECK_STR(buf, "new");
	unlink(mark);
	rmdir(old);
	/* Closing it ends it at once: nothing is left to reap. */
	pm_child_reap(&c, 5000);
	CHECK(!alive(guard));
	CHECK(waitpid(-1, NULL, WNOHANG | __WALL) < 0 && errno == ECHILD);
	unlink(out);
	rmdir(dir);
}

/* Valgrind ends a child whose execve fails before the child can say why:
 * exec failures other than the first checks are not looked at under it. */
static bool under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");
	return preload && strstr(preload, "vgpreload");
}

/* An executable script whose interpreter does not exist (execve: ENOENT),
 * at the mkstemp template `path`. */
static void write_script_without_interpreter(char *path)
{
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(write(fd, "#!/no/such/interpreter\n", 23) == 23);
	close(fd);
	chmod(path, 0755);
}

TEST(kept_guardian_stays_after_an_exec_failure)
{
	struct pm_child c;
	CHECK_INT(pm_child_open(&c, NULL, 0), 0);
	pid_t guard = c.pid;
	char *bad[] = {"/etc/passwd", NULL}, *good[] = {"true", NULL};
	CHECK_INT(run_kept(&c, bad, envp, NULL, 0), -EACCES);
	CHECK(c.idle && c.pid == guard && alive(guard));
	/* A script whose interpreter is missing: execve's ENOENT, exactly. */
	char script[] = "/tmp/pymon-unit-noint-XXXXXX";
	write_script_without_interpreter(script);
	char *noint[] = {script, NULL};
	if (!under_valgrind())
		CHECK_INT(run_kept(&c, noint, envp, NULL, 0), -ENOENT);
	unlink(script);
	CHECK(c.idle && c.pid == guard && alive(guard));
	int status = run_kept(&c, good, envp, NULL, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(c.pid == guard);
	pm_child_reap(&c, 5000);
	CHECK(!alive(guard));
}

/* A cloned run's child shares the guardian's errno, and the guardian goes
 * on handling messages while the child execs: a signal it fails to send
 * (EINVAL) must not become the reason the exec failed. 3,000 runs with
 * 20 such signals each: the shared errno showed EINVAL in 8 of them. */
TEST(kept_guardian_reports_the_execs_own_errno_while_it_handles_messages)
{
	if (under_valgrind())
		return;
	char script[] = "/tmp/pymon-unit-noint-XXXXXX";
	write_script_without_interpreter(script);
	struct pm_child c;
	CHECK_INT(pm_child_open(&c, NULL, 0), 0);
	char *good[] = {"true", NULL}, *noint[] = {script, NULL};
	int status = run_kept(&c, good, envp, NULL, 0); /* the vfork that proves memory shared */
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	int wrong = 0, last = 0;
	for (int i = 0; i < 3000; i++) {
		struct pm_spawn spec = {.argv = noint, .envp = envp, .keep = true};
		CHECK_INT(pm_spawn(&spec, &c), 0);
		for (int k = 0; k < 20; k++)
			pm_child_signal(&c, 999, true); /* kill() fails with EINVAL there */
		int r;
		status = -1000;
		while ((r = wait_exit(&c, &status, 5000)) == 1)
			;
		if (r != 2 || status != ENOENT) {
			wrong++;
			last = r == 2 ? status : -1000 - r;
		}
	}
	unlink(script);
	CHECK_INT(wrong, 0);
	CHECK_INT(last, 0);
	pm_child_reap(&c, 5000);
}

/* Refuses clone(CLONE_VM) without CLONE_VFORK with EPERM, as a seccomp
 * filter of a container might; vfork, fork and clone3 stay allowed. */
static int refuse_shared_clone(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, CLONE_VM | CLONE_VFORK),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CLONE_VM, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

TEST(kept_guardian_falls_back_to_vfork_where_clone_is_refused)
{
	/* In a process of its own: the filter cannot be taken back. */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (refuse_shared_clone() < 0)
			_exit(3);
		struct pm_child c;
		if (pm_child_open(&c, NULL, 0) < 0)
			_exit(4);
		char *argv[] = {"true", NULL};
		/* The first run vforks; the later ones would clone. */
		for (int i = 0; i < 3; i++) {
			int status = run_kept(&c, argv, envp, NULL, 0);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				_exit(10 + i);
		}
		pm_child_reap(&c, 5000);
		_exit(0);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
}

TEST(kept_guardian_takes_an_environment_larger_than_one_message)
{
	/* 100,000 bytes in one variable (several continuation messages) and
	 * 1,500 variables (more than the guardian's static pointer table). */
	size_t nvars = 1500;
	char **env = calloc(nvars + 4, sizeof *env);
	CHECK(env != NULL);
	char *big = malloc(100005);
	memcpy(big, "BIG=", 4);
	memset(big + 4, 'x', 100000);
	big[100004] = '\0';
	size_t k = 0;
	env[k++] = "PATH=/usr/bin:/bin";
	env[k++] = big;
	for (size_t i = 0; i < nvars; i++) {
		env[k] = malloc(16);
		snprintf(env[k++], 16, "V%zu=1", i);
	}
	char out[] = "/tmp/pymon-kept-big-XXXXXX", outvar[64], buf[64];
	close(mkstemp(out));
	snprintf(outvar, sizeof outvar, "OUT=%s", out);
	env[k++] = outvar;
	struct pm_child c;
	CHECK_INT(pm_child_open(&c, NULL, 0), 0);
	char *argv[] = {"sh", "-c", "echo ${#BIG} $(env | grep -c '^V[0-9]*=1$') > \"$OUT\"", NULL};
	for (int round = 0; round < 2; round++) {
		int status = run_kept(&c, argv, env, NULL, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		read_text(out, buf, sizeof buf);
		CHECK_STR(buf, "100000 1500");
	}
	pm_child_reap(&c, 5000);
	for (size_t i = 2; i < nvars + 2; i++)
		free(env[i]);
	free(env);
	free(big);
	unlink(out);
}

TEST(a_dead_kept_guardian_gives_way_to_a_fresh_one)
{
	struct pm_child c;
	CHECK_INT(pm_child_open(&c, NULL, 0), 0);
	pid_t guard = c.pid;
	CHECK_INT(kill(guard, SIGKILL), 0);
	struct pollfd p = {.fd = c.pidfd, .events = POLLIN};
	if (c.pidfd >= 0)
		CHECK_INT(poll(&p, 1, 5000), 1);
	else
		CHECK(gone_within(guard, 5000));
	char *argv[] = {"true", NULL};
	int status = run_kept(&c, argv, envp, NULL, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(c.pid > 0 && c.pid != guard && c.idle);
	pm_child_reap(&c, 5000);
	CHECK(waitpid(-1, NULL, WNOHANG | __WALL) < 0 && errno == ECHILD);
}

TEST(kept_guardian_hands_its_descriptors_to_every_run)
{
	int pfd[2];
	CHECK_INT(pipe(pfd), 0);
	struct pm_child c;
	CHECK_INT(pm_child_open(&c, &pfd[1], 1), 0);
	/* LISTEN_PID is the command's own pid, fd 3 the pipe, in each run. */
	char *argv[] = {"sh", "-c", "[ \"$LISTEN_PID\" = $$ ] && [ \"$LISTEN_FDS\" = 1 ] && echo ok >&3", NULL};
	for (int round = 0; round < 2; round++) {
		int status = run_kept(&c, argv, envp, &pfd[1], 1);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		char buf[8] = {0};
		CHECK_INT((int)read(pfd[0], buf, 3), 3);
		CHECK_STR(buf, "ok\n");
	}
	pm_child_reap(&c, 5000);
	close(pfd[0]);
	close(pfd[1]);
}

TEST(kept_guardian_gives_each_run_the_callers_stdio_of_that_moment)
{
	/* A host that redirects its stdout after the guardian was cloned (as
	 * pytest's capture does) gets the run's output where it is now; the
	 * idle guardian keeps none of it (the pipe's reader sees its end). */
	int pfd[2];
	CHECK_INT(pipe(pfd), 0);
	struct pm_child c;
	CHECK_INT(pm_child_open(&c, NULL, 0), 0);
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	CHECK(saved >= 0);
	CHECK_INT(dup2(pfd[1], STDOUT_FILENO), STDOUT_FILENO);
	close(pfd[1]);
	char *one[] = {"echo", "one", NULL};
	int status = run_kept(&c, one, envp, NULL, 0);
	CHECK_INT(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char buf[64] = {0};
	size_t got = 0;
	struct pollfd p = {.fd = pfd[0], .events = POLLIN};
	for (ssize_t n = 1; n > 0 && got < sizeof buf - 1 && poll(&p, 1, 5000) == 1;)
		if ((n = read(pfd[0], buf + got, sizeof buf - 1 - got)) > 0)
			got += (size_t)n;
	CHECK_STR(buf, "one\n"); /* and then the end: nobody holds the pipe */
	close(pfd[0]);
	/* A closed stdin is closed for the run too. */
	char out[] = "/tmp/pymon-kept-stdin-XXXXXX", outvar[64];
	close(mkstemp(out));
	snprintf(outvar, sizeof outvar, "OUT=%s", out);
	int in = dup(STDIN_FILENO);
	close(STDIN_FILENO);
	char *probe[] = {"sh", "-c", "[ -e /proc/self/fd/0 ] && echo open > \"$OUT\" || echo closed > \"$OUT\"", NULL};
	char *env[] = {"PATH=/usr/bin:/bin", outvar, NULL};
	status = run_kept(&c, probe, env, NULL, 0);
	CHECK_INT(dup2(in, STDIN_FILENO), STDIN_FILENO);
	close(in);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	read_text(out, buf, sizeof buf);
	CHECK_STR(buf, "closed");
	/* Idle, the guardian holds no stdio at all. */
	char fdpath[64];
	for (int fd = 0; fd < 3; fd++) {
		snprintf(fdpath, sizeof fdpath, "/proc/%d/fd/%d", (int)c.pid, fd);
		CHECK(access(fdpath, F_OK) != 0);
	}
	pm_child_reap(&c, 5000);
	unlink(out);
}
