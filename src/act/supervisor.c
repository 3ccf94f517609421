/*
 * The restart supervisor: an action that runs a command and restarts it on
 * each batch. Each run lives under a guardian (spawn.c), so "the tree" is
 * exactly the guardian's descendants: a restart signals it, waits up to
 * the stop timeout, SIGKILLs what is left, and starts the next run only
 * once the guardian reports the tree gone. The guardian is kept from run
 * to run (cloned before the scan): a start is then its vfork and exec.
 */
#include "act/action.h"
#include "act/spawn.h"
#include "base/util.h"
#include "core/loop.h"
#include "core/watcher.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define RECHECK_MS 100    /* after SIGKILL: how often to look again */
#define GIVE_UP_CHECKS 50 /* ... and for how long before giving up */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000
#define BACKOFF_RESET_NS (10ull * 1000000000u) /* uptime that resets the backoff */

enum timer_use { TIMER_IDLE, TIMER_KILL, TIMER_BACKOFF };

struct pm_run {
	struct pm_action base;
	char *display;
	char **argv;
	int stop_signal;
	unsigned stop_timeout_ms;
	enum pymon_busy on_busy;
	unsigned flags;
	enum pymon_restart_on_exit restart_on_exit;
	int *fds;
	size_t nfds;
	struct pm_child child;  /* the kept guardian; .running while a tree runs */
	struct pm_source child_src;
	bool leader;            /* the command's first process is alive */
	bool stopping;          /* stop signal sent; waiting for the tree to be gone */
	bool pending;           /* start again once the tree is gone */
	bool requested;         /* the leader's end was asked for by us */
	bool finished;          /* PYMON_RUN_ONCE: the one run ended */
	int once_status;
	char *changed;          /* PYMON_CHANGED_PATHS for the next start */
	bool truncated;         /* ... which leaves some paths out */
	int kill_stage;
	enum timer_use timer;
	struct pm_source timer_src;
	unsigned backoff_ms;
	uint64_t started_ns;
	struct pm_child *detached; /* guardians whose tree survived SIGKILL */
	size_t ndetached;
};

static struct pm_run *run_of(struct pm_action *a)
{
	return (struct pm_run *)a;
}

static void report(struct pm_run *r, enum pymon_run_state state, int code, const pymon_batch *batch)
{
	pm_action_report(r->base.o, state, code, r->display, batch, r->requested, NULL);
}

static void arm(struct pm_run *r, enum timer_use use, unsigned ms)
{
	struct itimerspec its = {0};
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	if (!ms)
		its.it_value.tv_nsec = 1;
	timerfd_settime(r->timer_src.fd, 0, &its, NULL);
	r->timer = use;
}

static void disarm(struct pm_run *r)
{
	struct itimerspec its = {0};
	timerfd_settime(r->timer_src.fd, 0, &its, NULL);
	r->timer = TIMER_IDLE;
}

static bool tree_alive(const struct pm_run *r)
{
	return r->child.running;
}

static pymon_watcher *watcher_of(const struct pm_run *r)
{
	return r->base.o->w;
}

static void stop_tree_with(struct pm_run *r, int sig)
{
	if (r->stopping || !tree_alive(r))
		return;
	r->stopping = true;
	r->kill_stage = 0;
	if (r->leader)
		r->requested = true;
	pm_child_signal(&r->child, sig, false);
	arm(r, TIMER_KILL, r->stop_timeout_ms);
}

static void stop_tree(struct pm_run *r)
{
	stop_tree_with(r, r->stop_signal);
}

static bool share_terminal(const struct pm_run *r)
{
	return (watcher_of(r)->roles & PYMON_ROLE_TERMINAL) && !(r->flags & PYMON_RUN_NO_TTY) &&
	       isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
}

static void child_ready(pymon_watcher *w, struct pm_source *src, uint32_t events);
static void start_failed(struct pm_run *r, int err);

static void start_run(struct pm_run *r)
{
	pymon_watcher *w = watcher_of(r);
	if (tree_alive(r)) {
		/* Leftovers of the last run (background processes of a shell
		 * command) go first. */
		r->pending = true;
		stop_tree(r);
		return;
	}
	if (r->timer == TIMER_BACKOFF)
		disarm(r);
	r->requested = false;
	report(r, PYMON_RUN_STARTING, 0, NULL);
	struct pm_buf var = {0};
	char **env = NULL;
	char trunc[] = "PYMON_CHANGED_PATHS_TRUNCATED=1";
	if (pm_buf_put(&var, "PYMON_CHANGED_PATHS=", 20) == 0 &&
	    pm_buf_put(&var, r->changed ? r->changed : "", r->changed ? strlen(r->changed) : 0) == 0) {
		char *vars[] = {var.s, trunc};
		env = pm_build_env(vars, r->truncated ? 2 : 1);
	}
	int rc = -ENOMEM;
	bool share = share_terminal(r);
	if (env) {
		struct pm_spawn spec = {
			.argv = r->argv,
			.envp = env,
			.share_pgrp = share,
			.null_stdin = (r->flags & PYMON_RUN_NO_TTY) || (!share && isatty(STDIN_FILENO)),
			.stop_signal = r->on_busy == PYMON_BUSY_SIGNAL ? SIGTERM : r->stop_signal,
			.stop_timeout_ms = r->stop_timeout_ms,
			.fds = r->fds,
			.nfds = r->nfds,
			.keep = true,
		};
		rc = pm_spawn(&spec, &r->child);
	}
	free(env);
	pm_buf_free(&var);
	if (rc == 0) {
		r->child_src = (struct pm_source){.fd = r->child.sock, .ready = child_ready, .data = r};
		rc = pm_loop_add(w, &r->child_src, EPOLLIN);
		if (rc < 0) {
			pm_child_signal(&r->child, SIGKILL, false);
			pm_child_reap(&r->child, 1000);
		}
	}
	if (rc < 0) {
		start_failed(r, -rc);
		if (r->finished)
			pymon_watcher_stop(w, r->once_status);
		return;
	}
	r->leader = true;
	r->started_ns = pm_now_ns();
}

/* The command did not start (at once, or its exec failed in the guardian). */
static void start_failed(struct pm_run *r, int err)
{
	r->leader = false;
	report(r, PYMON_RUN_FAILED, err, NULL);
	if (r->flags & PYMON_RUN_ONCE) {
		r->finished = true;
		r->once_status = 127;
	}
}

/* The tree is gone: decide what comes next. */
static void after_gone(struct pm_run *r)
{
	pymon_watcher *w = watcher_of(r);
	if (r->stopping && r->timer == TIMER_KILL)
		disarm(r);
	r->stopping = false;
	r->kill_stage = 0;
	if (w->terminating) {
		pm_watcher_action_idle(w);
	} else if (r->finished) {
		pymon_watcher_stop(w, r->once_status);
	} else if (r->pending) {
		r->pending = false;
		start_run(r);
	}
}

static void tree_gone(struct pm_run *r)
{
	pm_loop_del(watcher_of(r), &r->child_src);
	if (!r->child.idle) /* not kept for the next run: it died */
		pm_child_reap(&r->child, 1000);
	if (r->leader) {
		/* The guardian itself was killed: the command's status is lost. */
		r->leader = false;
		report(r, PYMON_RUN_KILLED, SIGKILL, NULL);
	}
	after_gone(r);
}

static void schedule_backoff(struct pm_run *r, int status)
{
	bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	if (r->restart_on_exit == PYMON_RESTART_NEVER || watcher_of(r)->terminating || r->requested ||
	    (r->restart_on_exit == PYMON_RESTART_ON_FAILURE && !failed))
		return;
	if (pm_now_ns() - r->started_ns >= BACKOFF_RESET_NS || !r->backoff_ms)
		r->backoff_ms = BACKOFF_MIN_MS;
	else if ((r->backoff_ms *= 2) > BACKOFF_MAX_MS)
		r->backoff_ms = BACKOFF_MAX_MS;
	arm(r, TIMER_BACKOFF, r->backoff_ms);
}

static void leader_exited(struct pm_run *r, int status)
{
	r->leader = false;
	if (WIFEXITED(status))
		report(r, PYMON_RUN_EXITED, WEXITSTATUS(status), NULL);
	else if (WIFSIGNALED(status))
		report(r, PYMON_RUN_KILLED, WTERMSIG(status), NULL);
	if ((r->flags & PYMON_RUN_ONCE) && !r->finished) {
		r->finished = true;
		r->once_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		r->pending = false;
		stop_tree(r); /* what it left running; the guardian then ends */
		return;
	}
	if (r->stopping)
		return;
	if (r->pending) {
		r->pending = false;
		start_run(r);
		return;
	}
	schedule_backoff(r, status);
}

static void child_ready(pymon_watcher *w, struct pm_source *src, uint32_t events)
{
	(void)w;
	(void)events;
	struct pm_run *r = src->data;
	int status, rc;
	while ((rc = pm_child_read(&r->child, &status)) == 1)
		leader_exited(r, status);
	if (rc == 2)
		start_failed(r, status);
	if (rc < 0 || rc == 2) /* once per run: the source goes with it */
		tree_gone(r);
}

static void give_up(struct pm_run *r)
{
	pm_warn(watcher_of(r), "processes of '%s' survive SIGKILL (uninterruptible sleep?); going on without them",
	        r->display);
	pm_loop_del(watcher_of(r), &r->child_src);
	struct pm_child *d = realloc(r->detached, (r->ndetached + 1) * sizeof *d);
	if (d) {
		/* The guardian keeps killing them; keep its pidfd to reap it. */
		r->detached = d;
		close(r->child.sock);
		r->child.sock = -1;
		d[r->ndetached++] = r->child;
		r->child = (struct pm_child){.pid = -1, .pidfd = -1, .sock = -1};
	} else {
		pm_child_reap(&r->child, 0);
	}
	r->leader = false;
	after_gone(r);
}

static void timer_ready(pymon_watcher *w, struct pm_source *src, uint32_t events)
{
	(void)w;
	(void)events;
	struct pm_run *r = src->data;
	uint64_t ticks;
	while (read(src->fd, &ticks, sizeof ticks) < 0 && errno == EINTR)
		;
	enum timer_use use = r->timer;
	r->timer = TIMER_IDLE;
	if (use == TIMER_BACKOFF) {
		if (!tree_alive(r) && !watcher_of(r)->terminating && !r->finished)
			start_run(r);
		return;
	}
	if (use != TIMER_KILL || !r->stopping)
		return;
	if (r->kill_stage == 0)
		report(r, PYMON_RUN_ESCALATED, SIGKILL, NULL);
	if (r->kill_stage++ < GIVE_UP_CHECKS) {
		pm_child_signal(&r->child, SIGKILL, false);
		arm(r, TIMER_KILL, RECHECK_MS);
		return;
	}
	give_up(r);
}

/* ---- batches and requests ------------------------------------------- */

/* One environment string must stay under the kernel's MAX_ARG_STRLEN
 * (128 KiB) or exec fails: keep whole lines up to 64 KiB. */
#define CHANGED_MAX (64 * 1024)

static void set_changed(struct pm_run *r, const pymon_batch *b)
{
	struct pm_buf buf = {0};
	pm_buf_put(&buf, "", 0);
	r->truncated = false;
	for (size_t i = 0; b && i < b->count; i++) {
		size_t n = strlen(b->events[i].path);
		if (buf.len + n + 1 > CHANGED_MAX) {
			r->truncated = true;
			break;
		}
		if (buf.len)
			pm_buf_put(&buf, "\n", 1);
		pm_buf_put(&buf, b->events[i].path, n);
	}
	if (b && b->dropped)
		r->truncated = true;
	free(r->changed);
	r->changed = buf.s;
}

/* A batch (or a manual restart when b is NULL). */
static void request(struct pm_run *r, const pymon_batch *b)
{
	if (watcher_of(r)->terminating || r->finished)
		return;
	if (!tree_alive(r) || (!r->leader && !r->stopping)) {
		set_changed(r, b);
		start_run(r);
		return;
	}
	if (r->flags & PYMON_RUN_ONCE)
		return;
	enum pymon_busy mode = b ? r->on_busy : PYMON_BUSY_RESTART;
	switch (mode) {
	case PYMON_BUSY_RESTART:
		set_changed(r, b);
		report(r, PYMON_RUN_RESTARTING, 0, b);
		r->pending = true;
		stop_tree(r);
		break;
	case PYMON_BUSY_QUEUE:
		set_changed(r, b);
		r->pending = true;
		break;
	case PYMON_BUSY_IGNORE:
		break;
	case PYMON_BUSY_SIGNAL:
		/* The command's own process only: gunicorn's master reloads its
		 * workers itself, a signal to them would abort requests. */
		if (r->leader && pm_child_signal(&r->child, r->stop_signal, true) == 0)
			report(r, PYMON_RUN_SIGNALED, r->stop_signal, b);
		break;
	}
}

static void run_batch(struct pm_action *a, const pymon_batch *b)
{
	struct pm_run *r = run_of(a);
	report(r, PYMON_RUN_CHANGED, 0, b);
	request(r, b);
}

static int run_restart(struct pm_action *a)
{
	request(run_of(a), NULL);
	return 0;
}

/* The guardian of every run, cloned before the scan while the process is
 * small; without it (it could not be cloned) the first start clones one. */
static void run_prepare(struct pm_action *a)
{
	struct pm_run *r = run_of(a);
	if (r->child.pid < 0)
		pm_child_open(&r->child, r->fds, r->nfds);
}

static void run_start(struct pm_action *a)
{
	struct pm_run *r = run_of(a);
	if (!(r->flags & PYMON_RUN_POSTPONE))
		start_run(r);
}

static void run_terminate(struct pm_action *a, bool now)
{
	struct pm_run *r = run_of(a);
	r->pending = false;
	if (r->timer == TIMER_BACKOFF)
		disarm(r);
	if (!tree_alive(r))
		return;
	if (now || r->stopping) {
		if (!r->stopping)
			stop_tree_with(r, SIGKILL);
		else
			pm_child_signal(&r->child, SIGKILL, false);
		return;
	}
	/* With on-busy signal the stop signal means "reload" (HUP for
	 * gunicorn): to end the command, TERM it. */
	stop_tree_with(r, r->on_busy == PYMON_BUSY_SIGNAL ? SIGTERM : r->stop_signal);
}

static bool run_busy(const struct pm_action *a)
{
	return tree_alive((const struct pm_run *)a);
}

static void run_free(struct pm_action *a)
{
	struct pm_run *r = run_of(a);
	pymon_watcher *w = watcher_of(r);
	if (tree_alive(r)) {
		pm_child_signal(&r->child, SIGKILL, false);
		pm_loop_del(w, &r->child_src);
		pm_child_reap(&r->child, 2000);
	} else if (r->child.pid > 0) {
		pm_child_reap(&r->child, 1000); /* the idle guardian */
	}
	for (size_t i = 0; i < r->ndetached; i++)
		pm_child_reap(&r->detached[i], 0);
	free(r->detached);
	if (r->timer_src.fd >= 0) {
		pm_loop_del(w, &r->timer_src);
		close(r->timer_src.fd);
	}
	pm_argv_free(r->argv);
	free(r->display);
	free(r->changed);
	free(r->fds);
	free(r);
}

static const struct pm_action_ops run_ops = {
	.files_only = true,
	.prepare = run_prepare,
	.start = run_start,
	.batch = run_batch,
	.restart = run_restart,
	.terminate = run_terminate,
	.busy = run_busy,
	.free = run_free,
};

/* ---- configuration ---------------------------------------------------- */

static char *join_argv(char *const *argv)
{
	struct pm_buf b = {0};
	pm_buf_put(&b, "", 0);
	for (char *const *a = argv; *a; a++) {
		if (a != argv)
			pm_buf_put(&b, " ", 1);
		pm_buf_put(&b, *a, strlen(*a));
	}
	return b.s;
}


PM_API int pymon_observer_run(pymon_observer *o, const pymon_command *cmd, pymon_error *err)
{
	if (!cmd || cmd->size != sizeof *cmd)
		return pm_err(err, -EINVAL, "pymon_command.size must be sizeof(pymon_command)");
	if ((!cmd->shell == !cmd->argv) || (cmd->argv && (!cmd->argv[0] || !cmd->argv[0][0])) ||
	    (cmd->shell && !*cmd->shell))
		return pm_err(err, -EINVAL, "a command needs either a command line or a program");
	if (cmd->stop_signal < 0 || cmd->stop_signal >= NSIG)
		return pm_err(err, -EINVAL, "invalid stop signal %d", cmd->stop_signal);
	if (cmd->nfds && !cmd->fds)
		return pm_err(err, -EINVAL, "pymon_command.nfds is set without fds");
	if (o->action)
		return pm_err(err, -EBUSY, "this observer already has an action");
	struct pm_run *r = calloc(1, sizeof *r);
	if (!r)
		return pm_err(err, -ENOMEM, "out of memory");
	r->base = (struct pm_action){.ops = &run_ops, .o = o};
	r->stop_signal = cmd->stop_signal ? cmd->stop_signal : SIGTERM;
	r->stop_timeout_ms = cmd->stop_timeout_ms ? cmd->stop_timeout_ms : 5000;
	r->on_busy = cmd->on_busy;
	r->flags = cmd->flags;
	r->restart_on_exit = cmd->restart_on_exit;
	r->child = (struct pm_child){.pid = -1, .pidfd = -1, .sock = -1};
	r->timer_src.fd = -1;
	int rc = 0;
	if (cmd->argv) {
		r->argv = pm_argv_dup(cmd->argv);
		r->display = join_argv(cmd->argv);
	} else {
		r->display = pm_strdup(cmd->shell);
		rc = pymon_split_command(cmd->shell, &r->argv, err);
	}
	if (rc >= 0 && cmd->nfds) {
		r->fds = malloc(cmd->nfds * sizeof *r->fds);
		if (r->fds) {
			memcpy(r->fds, cmd->fds, cmd->nfds * sizeof *r->fds);
			r->nfds = cmd->nfds;
		}
	}
	r->timer_src = (struct pm_source){
		.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), .ready = timer_ready, .data = r};
	if (rc < 0 || !r->argv || !r->display || (cmd->nfds && !r->fds) || r->timer_src.fd < 0 ||
	    pm_loop_add(o->w, &r->timer_src, EPOLLIN) < 0) {
		int e = rc < 0 ? rc : -(errno ? errno : ENOMEM);
		run_free(&r->base);
		return rc < 0 ? rc : pm_err(err, e, "cannot set up the command: %s", strerror(-e));
	}
	return pm_action_attach(o, &r->base, err);
}

PM_API void pymon_observer_on_status(pymon_observer *o, pymon_run_fn fn, void *userdata)
{
	o->status_fn = fn;
	o->status_ud = userdata;
}
