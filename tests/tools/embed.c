/*
 * A host program that embeds libpymon the way a Python program with
 * `subprocess` would: it has its own child and its own SIGCHLD handler
 * (which reaps with waitpid(-1)), and runs a supervised command that is
 * restarted 50 times. It prints what a good guest must leave intact:
 *
 *   own child: exit 42           its child's status, from waitpid(pid)
 *   restarts: 50                 the command started 50 times
 *   subreaper: 0                 the host is not made a child subreaper
 *   host reaped: only its own    the handler never reaped a pid of ours
 *
 * and exits 0 when all hold. Uses only the public header.
 */
#include "pymon.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t own_child;
static volatile sig_atomic_t stolen;     /* pids reaped by the handler that are not ours */
static volatile sig_atomic_t own_status = -1;

static void on_sigchld(int sig)
{
	(void)sig;
	int saved = errno, status;
	pid_t pid;
	/* The classic host handler: reap everything. */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == own_child)
			own_status = status;
		else
			stolen++;
	}
	errno = saved;
}

static int starts;

static void on_status(pymon_observer *o, const pymon_run_status *st, void *ud)
{
	(void)ud;
	if (st->state == PYMON_RUN_STARTING)
		starts++;
	if (st->state == PYMON_RUN_FAILED) {
		fprintf(stderr, "embed: cannot start: %s\n", strerror(st->code));
		pymon_watcher_stop(pymon_observer_watcher(o), 1);
	}
}

static void on_tick(pymon_watcher *w, int fd, void *ud)
{
	pymon_observer *o = ud;
	uint64_t n;
	if (read(fd, &n, sizeof n) < 0)
		return;
	if (starts >= 50)
		pymon_watcher_terminate(w, 0);
	else
		pymon_observer_restart(o);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);

	own_child = fork();
	if (own_child == 0) {
		usleep(300 * 1000);
		_exit(42);
	}

	pymon_error err = {0};
	pymon_watcher *w = pymon_watcher_new(&err);
	pymon_observer *o = w ? pymon_observer_new(w, &err) : NULL;
	char *argv[] = {"sleep", "100", NULL};
	pymon_command cmd = {.size = sizeof cmd, .argv = argv, .stop_timeout_ms = 2000};
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	struct itimerspec every = {.it_interval = {0, 10 * 1000000L}, .it_value = {0, 10 * 1000000L}};
	if (!o || pymon_observer_add(o, ".", &err) < 0 || pymon_observer_run(o, &cmd, &err) < 0 || tfd < 0 ||
	    pymon_watcher_add_fd(w, tfd, on_tick, o, &err) < 0) {
		fprintf(stderr, "embed: %s\n", err.message);
		return 2;
	}
	pymon_observer_on_status(o, on_status, NULL);
	timerfd_settime(tfd, 0, &every, NULL);
	int rc = pymon_observe(w, &err);
	pymon_watcher_free(w);
	close(tfd);

	/* The host's own child: the handler may have reaped it already. */
	int status;
	pid_t r = waitpid(own_child, &status, 0);
	if (r == own_child)
		own_status = status;
	int own = own_status >= 0 && WIFEXITED(own_status) ? WEXITSTATUS(own_status) : -1;
	int sub = -1;
	prctl(PR_GET_CHILD_SUBREAPER, &sub);
	printf("observe: %d\n", rc);
	printf("own child: exit %d\n", own);
	printf("restarts: %d\n", starts);
	printf("subreaper: %d\n", sub);
	printf("host reaped: %s\n", stolen ? "pids of the library's" : "only its own");
	return rc == 0 && own == 42 && starts >= 50 && sub == 0 && !stolen ? 0 : 1;
}
