/*
 * Per-file jobs: an action that runs a command once per changed file, up
 * to `jobs` at once, each slot with its kept guardian (spawn.c: cloned
 * once, before the scan; a job is its vfork and exec). The path is
 * data: one argv element where "{}" stood, or "$1" of a shell command
 * line, never text a shell parses.
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

struct pm_each;

struct pm_job {
	struct pm_each *e;
	struct pm_child child; /* not running: the slot is free (its kept guardian idle, or none) */
	struct pm_source src;
	char *path;
	bool leader;
};

struct pm_item {
	char *path;
	unsigned kind;
};

struct pm_each {
	struct pm_action base;
	char **argv;   /* the template: words, or /bin/sh -c LINE */
	bool shell;    /* argv runs a shell line: the path goes in as $1 */
	char *display;
	unsigned jobs;
	unsigned flags;
	int stop_signal;
	unsigned stop_timeout_ms;
	struct pm_item *queue;
	size_t qlen, qcap;
	struct pm_job *slots; /* `jobs` of them, fixed: sources point into it */
	size_t nrunning;
	bool failed;
	bool had_batch;
	bool stopping;
	struct pm_source timer_src; /* stop timeout, then SIGKILL */
};

static struct pm_each *each_of(struct pm_action *a)
{
	return (struct pm_each *)a;
}

static void report(struct pm_each *e, enum pymon_run_state state, int code, const char *path)
{
	pm_action_report(e->base.o, state, code, e->display, NULL, e->stopping, path);
}

/* A relative path that starts with '-' would read as an option. */
static char *safe_path(const char *path)
{
	if (path[0] != '-')
		return pm_strdup(path);
	return pm_path_join(".", path);
}

/* The argv of one job. Words: every "{}" replaced by the path. A shell
 * line: "{}" became "$1" already; the path is the positional argument. */
static char **job_argv(const struct pm_each *e, const char *path)
{
	size_t n = 0;
	while (e->argv[n])
		n++;
	char **argv = calloc(n + 3, sizeof *argv);
	if (!argv)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct pm_buf b = {0};
		int r = pm_buf_put(&b, "", 0);
		for (const char *s = e->argv[i]; *s && r == 0;) {
			const char *hole = e->shell ? NULL : strstr(s, "{}");
			if (!hole) {
				r = pm_buf_put(&b, s, strlen(s));
				break;
			}
			r = pm_buf_put(&b, s, (size_t)(hole - s));
			if (r == 0)
				r = pm_buf_put(&b, path, strlen(path));
			s = hole + 2;
		}
		argv[i] = b.s;
		if (r < 0 || !b.s) {
			pm_argv_free(argv);
			return NULL;
		}
	}
	if (e->shell && (!(argv[n] = pm_strdup("sh")) || !(argv[n + 1] = pm_strdup(path)))) {
		pm_argv_free(argv);
		return NULL;
	}
	return argv;
}

static void maybe_done(struct pm_each *e)
{
	pymon_watcher *w = e->base.o->w;
	if (w->terminating) {
		if (!e->nrunning)
			pm_watcher_action_idle(w);
		return;
	}
	if ((e->flags & PYMON_RUN_ONCE) && e->had_batch && !e->qlen && !e->nrunning)
		pymon_watcher_stop(w, e->failed ? 1 : 0);
}

static void pump(struct pm_each *e);

static void job_ready(pymon_watcher *w, struct pm_source *src, uint32_t events)
{
	(void)events;
	struct pm_job *j = src->data;
	struct pm_each *e = j->e;
	int status, rc;
	while ((rc = pm_child_read(&j->child, &status)) == 1) {
		j->leader = false;
		if (WIFEXITED(status)) {
			report(e, PYMON_RUN_EXITED, WEXITSTATUS(status), j->path);
			e->failed |= WEXITSTATUS(status) != 0;
		} else {
			report(e, PYMON_RUN_KILLED, WTERMSIG(status), j->path);
			e->failed = true;
		}
	}
	if (rc == 0)
		return;
	if (rc == 2) { /* its exec failed */
		j->leader = false;
		report(e, PYMON_RUN_FAILED, status, j->path);
		e->failed = true;
	}
	/* The job's whole tree is gone: free the slot (its guardian, kept,
	 * waits for the slot's next job). */
	pm_loop_del(w, &j->src);
	if (!j->child.idle)
		pm_child_reap(&j->child, 1000);
	if (j->leader) {
		report(e, PYMON_RUN_KILLED, SIGKILL, j->path);
		e->failed = true;
	}
	free(j->path);
	j->path = NULL;
	j->leader = false;
	e->nrunning--;
	if (!e->nrunning && e->stopping) {
		struct itimerspec off = {0};
		timerfd_settime(e->timer_src.fd, 0, &off, NULL);
		e->stopping = false;
	}
	pump(e);
}

static void start_job(struct pm_each *e, struct pm_item *it)
{
	struct pm_job *j = NULL;
	for (size_t i = 0; i < e->jobs && !j; i++)
		if (!e->slots[i].child.running)
			j = &e->slots[i];
	char *path = safe_path(it->path);
	char **argv = path ? job_argv(e, path) : NULL;
	struct pm_buf pathvar = {0}, kindvar = {0};
	pm_buf_put(&pathvar, "PYMON_PATH=", 11);
	pm_buf_put(&pathvar, it->path, strlen(it->path));
	pm_buf_put(&kindvar, "PYMON_EVENT=", 12);
	const char *kind = pymon_kind_name(it->kind);
	pm_buf_put(&kindvar, kind, strlen(kind));
	char *vars[] = {pathvar.s, kindvar.s};
	char **env = argv && pathvar.s && kindvar.s ? pm_build_env(vars, 2) : NULL;
	int rc = -ENOMEM;
	if (env && j) {
		struct pm_spawn spec = {.argv = argv,
		                        .envp = env,
		                        .null_stdin = true,
		                        .stop_signal = e->stop_signal,
		                        .stop_timeout_ms = e->stop_timeout_ms,
		                        .keep = true};
		report(e, PYMON_RUN_STARTING, 0, it->path);
		rc = pm_spawn(&spec, &j->child);
		if (rc == 0) {
			j->src = (struct pm_source){.fd = j->child.sock, .ready = job_ready, .data = j};
			rc = pm_loop_add(e->base.o->w, &j->src, EPOLLIN);
			if (rc < 0) {
				pm_child_signal(&j->child, SIGKILL, false);
				pm_child_reap(&j->child, 1000);
			}
		}
	}
	free(env);
	free(path);
	pm_buf_free(&pathvar);
	pm_buf_free(&kindvar);
	pm_argv_free(argv);
	if (rc < 0) {
		e->failed = true;
		report(e, PYMON_RUN_FAILED, -rc, it->path);
		free(it->path);
		return;
	}
	j->path = it->path;
	j->leader = true;
	e->nrunning++;
}

/* Starts queued jobs while there is room. */
static void pump(struct pm_each *e)
{
	while (e->nrunning < e->jobs && e->qlen && !e->base.o->w->terminating) {
		struct pm_item it = e->queue[0];
		memmove(e->queue, e->queue + 1, (e->qlen - 1) * sizeof *e->queue);
		e->qlen--;
		start_job(e, &it);
	}
	maybe_done(e);
}

static bool queued(const struct pm_each *e, const char *path)
{
	for (size_t i = 0; i < e->qlen; i++)
		if (strcmp(e->queue[i].path, path) == 0)
			return true;
	return false;
}

static void each_batch(struct pm_action *a, const pymon_batch *b)
{
	struct pm_each *e = each_of(a);
	pm_action_report(a->o, PYMON_RUN_CHANGED, 0, e->display, b, 0, NULL);
	if ((e->flags & PYMON_RUN_ONCE) && e->had_batch)
		return;
	e->had_batch = true;
	for (size_t i = 0; i < b->count; i++) {
		const pymon_event *ev = &b->events[i];
		if (ev->kind == PYMON_RESCAN || ev->is_dir || queued(e, ev->path))
			continue;
		if (e->qlen == e->qcap) {
			size_t cap = e->qcap ? e->qcap * 2 : 16;
			struct pm_item *q = realloc(e->queue, cap * sizeof *q);
			if (!q)
				break;
			e->queue = q;
			e->qcap = cap;
		}
		char *path = pm_strdup(ev->path);
		if (!path)
			break;
		e->queue[e->qlen++] = (struct pm_item){.path = path, .kind = ev->kind};
	}
	pump(e);
}

static void signal_jobs(struct pm_each *e, int sig)
{
	for (size_t i = 0; i < e->jobs; i++)
		if (e->slots[i].child.running)
			pm_child_signal(&e->slots[i].child, sig, false);
}

static void timer_ready(pymon_watcher *w, struct pm_source *src, uint32_t events)
{
	(void)w;
	(void)events;
	struct pm_each *e = src->data;
	uint64_t ticks;
	while (read(src->fd, &ticks, sizeof ticks) < 0 && errno == EINTR)
		;
	if (!e->nrunning)
		return;
	report(e, PYMON_RUN_ESCALATED, SIGKILL, NULL);
	signal_jobs(e, SIGKILL);
}

static void clear_queue(struct pm_each *e)
{
	for (size_t i = 0; i < e->qlen; i++)
		free(e->queue[i].path);
	e->qlen = 0;
}

static void each_terminate(struct pm_action *a, bool now)
{
	struct pm_each *e = each_of(a);
	clear_queue(e);
	if (!e->nrunning)
		return;
	if (now || e->stopping) {
		signal_jobs(e, SIGKILL);
		return;
	}
	e->stopping = true;
	signal_jobs(e, e->stop_signal);
	struct itimerspec its = {0};
	its.it_value.tv_sec = e->stop_timeout_ms / 1000;
	its.it_value.tv_nsec = (long)(e->stop_timeout_ms % 1000) * 1000000L;
	timerfd_settime(e->timer_src.fd, 0, &its, NULL);
}

static bool each_busy(const struct pm_action *a)
{
	return ((const struct pm_each *)a)->nrunning > 0;
}

static int each_restart(struct pm_action *a)
{
	(void)a;
	return -EINVAL;
}

static void each_start(struct pm_action *a)
{
	(void)a;
}

static void each_free(struct pm_action *a)
{
	struct pm_each *e = each_of(a);
	pymon_watcher *w = a->o->w;
	clear_queue(e);
	for (size_t i = 0; e->slots && i < e->jobs; i++) {
		struct pm_job *j = &e->slots[i];
		if (j->child.running) {
			pm_child_signal(&j->child, SIGKILL, false);
			pm_loop_del(w, &j->src);
		}
		if (j->child.pid > 0)
			pm_child_reap(&j->child, 2000);
		free(j->path);
	}
	if (e->timer_src.fd >= 0) {
		pm_loop_del(w, &e->timer_src);
		close(e->timer_src.fd);
	}
	free(e->queue);
	free(e->slots);
	pm_argv_free(e->argv);
	free(e->display);
	free(e);
}

/* Kept guardians cloned before the scan, while the process is small: one
 * per slot up to this many (each holds a process and two descriptors of
 * ours: --jobs 1000 must not use them up before the scan); the other slots
 * clone theirs at their first job and keep it. */
#define PREPARED_SLOTS 8

static void each_prepare(struct pm_action *a)
{
	struct pm_each *e = each_of(a);
	for (size_t i = 0; e->slots && i < e->jobs && i < PREPARED_SLOTS; i++)
		if (e->slots[i].child.pid < 0)
			pm_child_open(&e->slots[i].child, NULL, 0);
}

static const struct pm_action_ops each_ops = {
	.files_only = true,
	.prepare = each_prepare,
	.start = each_start,
	.batch = each_batch,
	.restart = each_restart,
	.terminate = each_terminate,
	.busy = each_busy,
	.free = each_free,
};

/* A shell line with every "{}" turned into "$1". */
static char *shell_template(const char *line)
{
	struct pm_buf b = {0};
	int r = pm_buf_put(&b, "", 0);
	for (const char *s = line; *s && r == 0;) {
		const char *hole = strstr(s, "{}");
		if (!hole) {
			r = pm_buf_put(&b, s, strlen(s));
			break;
		}
		r = pm_buf_put(&b, s, (size_t)(hole - s));
		if (r == 0)
			r = pm_buf_put(&b, "\"$1\"", 4);
		s = hole + 2;
	}
	if (r < 0)
		pm_buf_free(&b);
	return b.s;
}

PM_API int pymon_observer_each(pymon_observer *o, const pymon_each *spec, pymon_error *err)
{
	if (!spec || spec->size != sizeof *spec)
		return pm_err(err, -EINVAL, "pymon_each.size must be sizeof(pymon_each)");
	if ((!spec->shell == !spec->argv) || (spec->argv && (!spec->argv[0] || !spec->argv[0][0])) ||
	    (spec->shell && !*spec->shell))
		return pm_err(err, -EINVAL, "a per-file action needs either a command line or a program");
	if (spec->stop_signal < 0 || spec->stop_signal >= NSIG)
		return pm_err(err, -EINVAL, "invalid stop signal %d", spec->stop_signal);
	if (o->action)
		return pm_err(err, -EBUSY, "this observer already has an action");
	struct pm_each *e = calloc(1, sizeof *e);
	if (!e)
		return pm_err(err, -ENOMEM, "out of memory");
	e->base = (struct pm_action){.ops = &each_ops, .o = o};
	e->jobs = spec->jobs ? spec->jobs : 1;
	e->flags = spec->flags;
	e->stop_signal = spec->stop_signal ? spec->stop_signal : SIGTERM;
	e->stop_timeout_ms = spec->stop_timeout_ms ? spec->stop_timeout_ms : 5000;
	e->timer_src = (struct pm_source){.fd = -1, .ready = timer_ready, .data = e};
	int rc = 0;
	if (spec->argv) {
		e->argv = pm_argv_dup(spec->argv);
	} else {
		rc = pymon_split_command(spec->shell, &e->argv, err);
		if (rc == 0) {
			/* A shell line: the path must never be shell text. */
			free(e->argv[2]);
			e->argv[2] = shell_template(spec->shell);
			e->shell = true;
			if (!e->argv[2])
				rc = -ENOMEM;
		}
	}
	e->slots = calloc(e->jobs, sizeof *e->slots);
	for (size_t i = 0; e->slots && i < e->jobs; i++)
		e->slots[i] = (struct pm_job){.e = e, .child = {.pid = -1, .pidfd = -1, .sock = -1}};
	struct pm_buf disp = {0};
	pm_buf_put(&disp, "", 0);
	for (size_t i = 0; spec->argv && spec->argv[i]; i++) {
		if (i)
			pm_buf_put(&disp, " ", 1);
		pm_buf_put(&disp, spec->argv[i], strlen(spec->argv[i]));
	}
	e->display = spec->shell ? pm_strdup(spec->shell) : disp.s;
	if (spec->shell)
		pm_buf_free(&disp);
	e->timer_src.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (rc < 0 || !e->argv || !e->slots || !e->display || e->timer_src.fd < 0 ||
	    pm_loop_add(o->w, &e->timer_src, EPOLLIN) < 0) {
		each_free(&e->base);
		return rc < 0 ? rc : pm_err(err, -ENOMEM, "cannot set up the per-file command: %s", strerror(errno));
	}
	return pm_action_attach(o, &e->base, err);
}
