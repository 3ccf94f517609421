/*
 * The supervisor: an observer whose action is a command. It starts the
 * command in its own process group, stops the whole tree on a restart
 * (group signal, grace period, SIGKILL), and starts the next run only when
 * every process of the old tree is gone. Children are reaped from the loop
 * through a signalfd; the process is a child subreaper so descendants that
 * left the group are found too.
 */
#include "internal.h"
#include "proc.h"
#include "sys.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define RECHECK_MS 100     /* after SIGKILL: how often to look again */
#define GIVE_UP_CHECKS 50  /* ... and for how long before giving up */

struct pm_run {
	struct pymon_observer *o;
	char *display;
	char **argv;
	int stop_signal;
	unsigned stop_timeout_ms;
	enum pymon_busy on_busy;
	unsigned flags;
	pid_t pid;       /* the leader, until reaped */
	pid_t pgid;      /* the last run's group while it may have members */
	bool stopping;   /* signals sent; waiting for the tree to be gone */
	bool pending;    /* start again once the tree is gone */
	bool requested;  /* the leader's end was asked for by us */
	bool tty;        /* the leader's group holds the terminal */
	bool finished;   /* PYMON_RUN_ONCE: the one run ended */
	int once_status;
	char *changed;   /* PYMON_CHANGED_PATHS for the next start */
	bool truncated;  /* ... which leaves some paths out */
	int *stopfds;    /* pidfds of the processes being stopped */
	pid_t *stoppids; /* ... and their pids, so each is opened once */
	size_t nstop, capstop;
	int kill_stage;
	struct pm_source kill_src;
};

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

void pm_report(struct pymon_observer *o, enum pymon_run_state state, int code, const char *command,
               const pymon_batch *batch, int requested, const char *path)
{
	if (!o->status_fn)
		return;
	pymon_run_status st = {.state = state, .code = code, .command = command, .batch = batch,
	                       .requested = requested, .path = path};
	o->status_fn(o, &st, o->status_ud);
}

static void report(struct pm_run *r, enum pymon_run_state state, int code, const pymon_batch *batch)
{
	pm_report(r->o, state, code, r->display, batch, r->requested, NULL);
}

static void arm(struct pm_run *r, unsigned ms)
{
	struct itimerspec its = {0};
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	if (!ms)
		its.it_value.tv_nsec = 1;
	timerfd_settime(r->kill_src.fd, 0, &its, NULL);
}

static void disarm(struct pm_run *r)
{
	struct itimerspec its = {0};
	timerfd_settime(r->kill_src.fd, 0, &its, NULL);
}

/* Observers whose action runs processes. With just one, every child of
 * ours belongs to its tree (orphans come back to us as subreaper). */
static size_t run_count(pymon_watcher *w)
{
	size_t n = 0;
	for (struct pymon_observer *o = w->observers; o; o = o->next)
		n += o->run != NULL || o->each != NULL;
	return n;
}

/* Whether any child (reaped or not) is left: one syscall, where a walk of
 * /proc costs milliseconds. */
static bool have_children(void)
{
	siginfo_t si = {0};
	return !(waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD);
}

static bool orphans_alive(struct pm_run *r)
{
	if (run_count(r->o->w) != 1 || !have_children())
		return false;
	pid_t *pids = NULL;
	size_t n = 0, cap = 0;
	pm_descendants(getpid(), 0, &pids, &n, &cap);
	free(pids);
	return n > 0;
}

static void release_stopfds(struct pm_run *r)
{
	for (size_t i = 0; i < r->nstop; i++)
		close(r->stopfds[i]);
	r->nstop = 0;
}

static bool group_alive(pid_t pgid)
{
	return pgid > 0 && (kill(-pgid, 0) == 0 || errno == EPERM);
}

static bool stopfds_alive(struct pm_run *r)
{
	for (size_t i = 0; i < r->nstop; i++) {
		struct pollfd p = {.fd = r->stopfds[i], .events = POLLIN};
		if (poll(&p, 1, 0) == 0)
			return true; /* not readable: still running */
	}
	return false;
}

static bool tree_alive(struct pm_run *r)
{
	return r->pid > 0 || group_alive(r->pgid) || stopfds_alive(r) || orphans_alive(r);
}

/* Holds every live process of the run's tree by a pidfd, once each, so a
 * recycled pid is never signalled later: the group, the leader's
 * descendants and, when this is the only command, every descendant of ours
 * (orphans reparented to us, setsid escapees). */
static void hold_tree(struct pm_run *r, int sig_if_unheld)
{
	pymon_watcher *w = r->o->w;
	pid_t *pids = NULL;
	size_t n = 0, cap = 0;
	if (r->pid > 0 || group_alive(r->pgid))
		pm_descendants(r->pid > 0 ? r->pid : -1, r->pgid, &pids, &n, &cap);
	if (run_count(w) == 1 && have_children())
		pm_descendants(getpid(), 0, &pids, &n, &cap);
	for (size_t i = 0; i < n; i++) {
		bool known = false;
		for (size_t k = 0; k < r->nstop && !known; k++)
			known = r->stoppids[k] == pids[i];
		if (known)
			continue;
		if (r->nstop == r->capstop) {
			size_t c = r->capstop ? r->capstop * 2 : 8;
			int *fds = realloc(r->stopfds, c * sizeof *fds);
			if (fds)
				r->stopfds = fds;
			pid_t *ps = fds ? realloc(r->stoppids, c * sizeof *ps) : NULL;
			if (ps)
				r->stoppids = ps;
			if (!fds || !ps) {
				if (sig_if_unheld)
					kill(pids[i], sig_if_unheld); /* cannot hold it: signal it once */
				continue;
			}
			r->capstop = c;
		}
		int fd = pidfd_open_(pids[i]);
		if (fd < 0) {
			/* No pidfds (old kernel, seccomp): signal it once now. */
			if (sig_if_unheld)
				kill(pids[i], sig_if_unheld);
			continue;
		}
		r->stopfds[r->nstop] = fd;
		r->stoppids[r->nstop++] = pids[i];
	}
	free(pids);
}

/* Sends sig to every process of the run's tree: the group, the leader's
 * descendants and, when this is the only command, every descendant of
 * ours (orphans reparented to us, setsid escapees). */
static void signal_tree(struct pm_run *r, int sig)
{
	hold_tree(r, sig);
	if (r->pgid > 0)
		kill(-r->pgid, sig);
	for (size_t i = 0; i < r->nstop; i++)
		pidfd_signal(r->stopfds[i], sig);
	if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) {
		/* A stopped process only acts on a signal once continued. */
		if (r->pgid > 0)
			kill(-r->pgid, SIGCONT);
		for (size_t i = 0; i < r->nstop; i++)
			pidfd_signal(r->stopfds[i], SIGCONT);
	}
}

static void stop_tree_with(struct pm_run *r, int sig)
{
	if (r->stopping)
		return;
	r->stopping = true;
	r->kill_stage = 0;
	if (r->pid > 0)
		r->requested = true;
	signal_tree(r, sig);
	arm(r, r->stop_timeout_ms);
}

static void stop_tree(struct pm_run *r)
{
	stop_tree_with(r, r->stop_signal);
}

static void start_run(struct pm_run *r);
static void check_gone(struct pm_run *r);

void pm_finish_shutdown(pymon_watcher *w)
{
	for (struct pymon_observer *o = w->observers; o; o = o->next)
		if ((o->run && tree_alive(o->run)) || pm_each_busy(o))
			return;
	pymon_watcher_stop(w, 128 + w->exit_signal);
}

static void check_gone(struct pm_run *r)
{
	if (tree_alive(r))
		return;
	release_stopfds(r);
	r->pgid = 0;
	if (r->stopping)
		disarm(r);
	r->stopping = false;
	r->kill_stage = 0;
	pymon_watcher *w = r->o->w;
	if (w->exit_signal) {
		pm_finish_shutdown(w);
	} else if (r->finished) {
		pymon_watcher_stop(w, r->once_status);
	} else if (r->pending) {
		r->pending = false;
		start_run(r);
	}
}

/* environ without the variables `extra` sets ("NAME=value"), plus extra.
 * The array is the caller's to free; the strings are not copied. */
char **pm_build_env(char *const *extra, size_t nextra)
{
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	char **env = malloc((n + nextra + 1) * sizeof *env);
	if (!env)
		return NULL;
	size_t k = 0;
	for (char **e = environ; e && *e; e++) {
		bool shadowed = false;
		for (size_t i = 0; i < nextra && !shadowed; i++) {
			size_t l = (size_t)(strchr(extra[i], '=') - extra[i]) + 1;
			shadowed = strncmp(*e, extra[i], l) == 0;
		}
		if (!shadowed)
			env[k++] = *e;
	}
	for (size_t i = 0; i < nextra; i++)
		env[k++] = extra[i];
	env[k] = NULL;
	return env;
}

static bool can_take_terminal(const struct pm_run *r)
{
	return !(r->flags & PYMON_RUN_NO_TTY) && isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
}

static void start_run(struct pm_run *r)
{
	if (tree_alive(r)) {
		/* Leftovers of the last run (background processes of a shell
		 * command, escapees) go first. */
		r->pending = true;
		stop_tree(r);
		return;
	}
	release_stopfds(r);
	r->pgid = 0;
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
	if (!env) {
		pm_buf_free(&var);
		report(r, PYMON_RUN_FAILED, ENOMEM, NULL);
		return;
	}
	struct pm_spawn spec = {
		.argv = r->argv,
		.envp = env,
		.foreground = can_take_terminal(r),
		.null_stdin = r->flags & PYMON_RUN_NO_TTY,
		.death_signal = r->on_busy == PYMON_BUSY_SIGNAL ? SIGTERM : r->stop_signal,
	};
	pid_t pid = pm_spawn(&spec);
	free(env);
	pm_buf_free(&var);
	if (pid < 0) {
		if (spec.foreground)
			tcsetpgrp(STDIN_FILENO, getpgrp());
		report(r, PYMON_RUN_FAILED, (int)-pid, NULL);
		if (r->flags & PYMON_RUN_ONCE) {
			r->finished = true;
			r->once_status = 127;
			pymon_watcher_stop(r->o->w, 127);
		}
		return;
	}
	r->pid = r->pgid = pid;
	r->tty = spec.foreground;
}

static void shutdown_all(pymon_watcher *w, int sig);

static void leader_exited(struct pm_run *r, int status)
{
	pymon_watcher *w = r->o->w;
	r->pid = 0;
	/* The group's number can be reused once it empties: from now on its
	 * members are held by pidfds only. */
	if (r->pgid > 0) {
		hold_tree(r, 0);
		r->pgid = 0;
	}
	if (r->tty) {
		int back = tcsetpgrp(STDIN_FILENO, getpgrp()); /* SIGTTOU is blocked */
		r->tty = false;
		/* The terminal hung up (closed window, ssh gone): the command got
		 * SIGHUP as the foreground job; py-mon, in another group, did
		 * not, and must not stay behind. */
		if (!r->requested && !w->exit_signal &&
		    ((back < 0 && (errno == EIO || errno == ENOTTY || errno == ENXIO)) ||
		     (WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP))) {
			report(r, PYMON_RUN_KILLED, SIGHUP, NULL);
			shutdown_all(w, SIGHUP);
			return;
		}
		/* Ctrl-C at the terminal went to the child's group: the user
		 * wants out of py-mon too. */
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT && !r->requested && !w->exit_signal) {
			report(r, PYMON_RUN_KILLED, SIGINT, NULL);
			shutdown_all(w, SIGINT);
			return;
		}
	}
	if (WIFEXITED(status))
		report(r, PYMON_RUN_EXITED, WEXITSTATUS(status), NULL);
	else if (WIFSIGNALED(status))
		report(r, PYMON_RUN_KILLED, WTERMSIG(status), NULL);
	if ((r->flags & PYMON_RUN_ONCE) && !r->finished) {
		r->finished = true;
		r->once_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		r->pending = false;
		if (tree_alive(r))
			stop_tree(r);
		check_gone(r);
		return;
	}
	if (r->stopping) {
		check_gone(r);
	} else if (r->pending) {
		r->pending = false;
		start_run(r);
	}
}

static void kill_ready(pymon_watcher *w, struct pm_source *src, uint32_t events)
{
	(void)events;
	struct pm_run *r = src->data;
	uint64_t ticks;
	while (read(src->fd, &ticks, sizeof ticks) < 0 && errno == EINTR)
		;
	if (!r->stopping)
		return;
	if (r->kill_stage == 0) {
		report(r, PYMON_RUN_ESCALATED, SIGKILL, NULL);
	}
	if (r->kill_stage < GIVE_UP_CHECKS) {
		r->kill_stage++;
		signal_tree(r, SIGKILL);
		check_gone(r);
		if (r->stopping)
			arm(r, RECHECK_MS);
		return;
	}
	pm_warn(w, "processes of '%s' survive SIGKILL (uninterruptible sleep?); starting anyway",
	        r->display);
	release_stopfds(r);
	r->pgid = 0;
	r->pid = 0;
	r->stopping = false;
	disarm(r);
	if (r->pending && !w->exit_signal) {
		r->pending = false;
		start_run(r);
	} else if (w->exit_signal) {
		pymon_watcher_stop(w, 128 + w->exit_signal);
	}
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
	pymon_watcher *w = r->o->w;
	if (w->exit_signal || r->finished)
		return;
	if (!tree_alive(r) || (r->pid == 0 && !r->stopping)) {
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
		if (r->pgid > 0 && kill(-r->pgid, r->stop_signal) == 0)
			report(r, PYMON_RUN_SIGNALED, r->stop_signal, b);
		break;
	}
}

static void on_batch(pymon_observer *o, const pymon_batch *b, void *ud)
{
	struct pm_run *r = ud;
	report(r, PYMON_RUN_CHANGED, 0, b);
	request(r, b);
	(void)o;
}

PM_API int pymon_observer_restart(pymon_observer *o)
{
	if (!o->run)
		return -EINVAL;
	request(o->run, NULL);
	return 0;
}

/* ---- signals ---------------------------------------------------------- */

/* Ctrl-Z stopped the foreground command: give the terminal back and stop
 * py-mon too, so the shell's job control works; on fg, resume both. */
static void leader_stopped(struct pm_run *r)
{
	if (!r->tty)
		return;
	tcsetpgrp(STDIN_FILENO, getpgrp());
	raise(SIGTSTP); /* returns once the shell continues us */
	tcsetpgrp(STDIN_FILENO, r->pid);
	kill(-r->pid, SIGCONT);
}

static void reap(pymon_watcher *w)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG | WUNTRACED)) > 0) {
		if (WIFSTOPPED(status)) {
			for (struct pymon_observer *o = w->observers; o; o = o->next)
				if (o->run && o->run->pid == pid && WSTOPSIG(status) != SIGSTOP)
					leader_stopped(o->run);
			continue;
		}
		bool known = false;
		for (struct pymon_observer *o = w->observers; o && !known; o = o->next)
			if (o->run && o->run->pid == pid) {
				leader_exited(o->run, status);
				known = true;
			}
		if (!known)
			pm_each_reaped(w, pid, status);
	}
	for (struct pymon_observer *o = w->observers; o; o = o->next) {
		if (o->run && o->run->stopping)
			check_gone(o->run);
		else if (o->run && o->run->nstop && !stopfds_alive(o->run))
			release_stopfds(o->run); /* leftovers ended by themselves */
	}
}

static void shutdown_all(pymon_watcher *w, int sig)
{
	if (w->exit_signal) {
		/* Asked twice: no more grace. */
		for (struct pymon_observer *o = w->observers; o; o = o->next) {
			if (o->run && tree_alive(o->run))
				signal_tree(o->run, SIGKILL);
			pm_each_stop(o, SIGKILL);
		}
		return;
	}
	w->exit_signal = sig;
	for (struct pymon_observer *o = w->observers; o; o = o->next) {
		pm_each_stop(o, SIGTERM);
		if (!o->run)
			continue;
		o->run->pending = false;
		/* With --on-busy signal the stop signal means "reload" (HUP for
		 * gunicorn): to end the command, TERM it. */
		if (tree_alive(o->run))
			stop_tree_with(o->run, o->run->on_busy == PYMON_BUSY_SIGNAL ? SIGTERM : o->run->stop_signal);
	}
	pm_finish_shutdown(w);
}

static void signals_ready(pymon_watcher *w, struct pm_source *src, uint32_t events)
{
	(void)events;
	struct signalfd_siginfo si[8];
	ssize_t n;
	while ((n = read(src->fd, si, sizeof si)) > 0) {
		for (size_t i = 0; i < (size_t)n / sizeof si[0]; i++) {
			switch (si[i].ssi_signo) {
			case SIGCHLD:
				reap(w);
				break;
			case SIGINT:
			case SIGTERM:
			case SIGHUP:
				shutdown_all(w, (int)si[i].ssi_signo);
				break;
			case SIGUSR1:
				for (struct pymon_observer *o = w->observers; o; o = o->next)
					if (o->run)
						request(o->run, NULL);
				break;
			default:
				break; /* SIGTTOU/SIGTTIN: blocked only so tcsetpgrp works */
			}
		}
	}
	/* SIGCHLD coalesces: reap anyway, it costs one syscall. */
	reap(w);
}

static int set_signals(pymon_watcher *w, pymon_error *err)
{
	if (sigprocmask(SIG_BLOCK, &w->sigs, NULL) < 0)
		return pm_err(err, -errno, "sigprocmask: %s", strerror(errno));
	int fd = signalfd(w->sfd, &w->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return pm_err(err, -errno, "signalfd: %s", strerror(errno));
	if (w->sfd < 0) {
		w->sfd = fd;
		w->sig_src = (struct pm_source){.fd = fd, .ready = signals_ready};
		int r = pm_loop_add(w, &w->sig_src, EPOLLIN);
		if (r < 0)
			return pm_err(err, r, "epoll_ctl: %s", strerror(-r));
	}
	return 0;
}

int pm_supervise(pymon_watcher *w, pymon_error *err)
{
	if (w->supervising)
		return 0;
	sigemptyset(&w->sigs);
	sigaddset(&w->sigs, SIGCHLD);
	sigaddset(&w->sigs, SIGTTOU);
	sigaddset(&w->sigs, SIGTTIN);
	sigprocmask(SIG_BLOCK, NULL, &w->old_mask);
	w->sfd = -1;
	int r = set_signals(w, err);
	if (r < 0)
		return r;
	w->supervising = true;
	/* Orphans of the command's tree come to us, not to init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return 0;
}

PM_API int pymon_watcher_handle_signals(pymon_watcher *w, pymon_error *err)
{
	int r = pm_supervise(w, err);
	if (r < 0)
		return r;
	sigaddset(&w->sigs, SIGINT);
	sigaddset(&w->sigs, SIGTERM);
	sigaddset(&w->sigs, SIGHUP);
	sigaddset(&w->sigs, SIGUSR1);
	return set_signals(w, err);
}

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

static char **dup_argv(char *const *argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	char **v = calloc(n + 1, sizeof *v);
	for (size_t i = 0; v && i < n; i++)
		if (!(v[i] = pm_strdup(argv[i]))) {
			pm_argv_free(v);
			return NULL;
		}
	return v;
}

PM_API int pymon_observer_run(pymon_observer *o, const pymon_command *cmd, pymon_error *err)
{
	if (!cmd || (!cmd->shell == !cmd->argv) || (cmd->argv && !cmd->argv[0]) ||
	    (cmd->shell && !*cmd->shell))
		return pm_err(err, -EINVAL, "a command needs either a command line or a program");
	if (cmd->stop_signal < 0 || cmd->stop_signal >= NSIG)
		return pm_err(err, -EINVAL, "invalid stop signal %d", cmd->stop_signal);
	if (o->run)
		return pm_err(err, -EBUSY, "this observer already runs a command");
	int rc = pm_supervise(o->w, err);
	if (rc < 0)
		return rc;
	struct pm_run *r = calloc(1, sizeof *r);
	if (!r)
		return pm_err(err, -ENOMEM, "out of memory");
	r->o = o;
	r->stop_signal = cmd->stop_signal ? cmd->stop_signal : SIGTERM;
	r->stop_timeout_ms = cmd->stop_timeout_ms ? cmd->stop_timeout_ms : 5000;
	r->on_busy = cmd->on_busy;
	r->flags = cmd->flags;
	r->kill_src.fd = -1;
	if (cmd->argv) {
		r->argv = dup_argv(cmd->argv);
		r->display = join_argv(cmd->argv);
	} else {
		r->display = pm_strdup(cmd->shell);
		rc = pm_split_simple(cmd->shell, &r->argv);
		if (rc == 0) {
			char *const sh[] = {"/bin/sh", "-c", (char *)cmd->shell, NULL};
			r->argv = dup_argv(sh);
		}
	}
	r->kill_src.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	r->kill_src.ready = kill_ready;
	r->kill_src.data = r;
	if (!r->argv || !r->display || r->kill_src.fd < 0 || pm_loop_add(o->w, &r->kill_src, EPOLLIN) < 0) {
		pm_run_free(o->w, r);
		return pm_err(err, -ENOMEM, "cannot set up the command: %s", strerror(errno));
	}
	o->run = r;
	o->fn = on_batch;
	o->userdata = r;
	return 0;
}

PM_API void pymon_observer_on_status(pymon_observer *o, pymon_run_fn fn, void *userdata)
{
	o->status_fn = fn;
	o->status_ud = userdata;
}

void pm_run_start_observer(struct pymon_observer *o)
{
	if (o->run && !(o->run->flags & PYMON_RUN_POSTPONE))
		start_run(o->run);
}

void pm_run_free(pymon_watcher *w, struct pm_run *r)
{
	if (!r)
		return;
	if (tree_alive(r))
		signal_tree(r, SIGKILL);
	for (size_t i = 0; i < r->nstop; i++)
		close(r->stopfds[i]);
	free(r->stopfds);
	free(r->stoppids);
	if (r->kill_src.fd >= 0) {
		pm_loop_del(w, &r->kill_src);
		close(r->kill_src.fd);
	}
	pm_argv_free(r->argv);
	free(r->display);
	free(r->changed);
	free(r);
}

void pm_supervision_free(pymon_watcher *w)
{
	for (struct pymon_observer *o = w->observers; o; o = o->next) {
		pm_run_free(w, o->run);
		o->run = NULL;
		pm_each_stop(o, SIGKILL);
		pm_each_free(o->each);
		o->each = NULL;
	}
	for (struct pm_fdwatch *f = w->fdwatches, *next; f; f = next) {
		next = f->next;
		pm_loop_del(w, &f->src);
		free(f);
	}
	w->fdwatches = NULL;
	pm_fdwatch_reap(w);
	if (w->supervising) {
		if (w->sfd >= 0)
			close(w->sfd);
		w->sfd = -1;
		/* Reap what the SIGKILLs above ended, then restore the mask. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
		w->supervising = false;
	}
}

/* ---- extra descriptors ------------------------------------------------ */

static void fd_ready(pymon_watcher *w, struct pm_source *src, uint32_t events)
{
	(void)events;
	struct pm_fdwatch *f = src->data;
	if (f->fn)
		f->fn(w, src->fd, f->userdata);
}

PM_API int pymon_watcher_add_fd(pymon_watcher *w, int fd, pymon_fd_fn fn, void *userdata, pymon_error *err)
{
	struct pm_fdwatch *f = calloc(1, sizeof *f);
	if (!f)
		return pm_err(err, -ENOMEM, "out of memory");
	f->src = (struct pm_source){.fd = fd, .ready = fd_ready, .data = f};
	f->fn = fn;
	f->userdata = userdata;
	int r = pm_loop_add(w, &f->src, EPOLLIN);
	if (r < 0) {
		free(f);
		return pm_err(err, r, "cannot watch descriptor %d: %s", fd, strerror(-r));
	}
	f->next = w->fdwatches;
	w->fdwatches = f;
	return 0;
}

PM_API int pymon_watcher_remove_fd(pymon_watcher *w, int fd)
{
	for (struct pm_fdwatch **pp = &w->fdwatches; *pp; pp = &(*pp)->next) {
		if ((*pp)->src.fd == fd) {
			struct pm_fdwatch *f = *pp;
			*pp = f->next;
			pm_loop_del(w, &f->src);
			/* The loop may still hold this source's event in the
			 * current round: free it only after the round. */
			f->fn = NULL;
			f->next = w->dead_fdwatches;
			w->dead_fdwatches = f;
			return 0;
		}
	}
	return -ENOENT;
}

void pm_fdwatch_reap(pymon_watcher *w)
{
	while (w->dead_fdwatches) {
		struct pm_fdwatch *f = w->dead_fdwatches;
		w->dead_fdwatches = f->next;
		free(f);
	}
}
