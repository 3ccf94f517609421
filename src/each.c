/*
 * Per-file actions: a command run once per changed path, "{}" replaced by
 * the path as one argv element (never a shell), up to `jobs` at once. Jobs
 * are reaped by the supervisor's SIGCHLD handler (run.c).
 */
#include "internal.h"
#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

struct pm_job {
	pid_t pid;
	char *path;
};

struct pm_item {
	char *path;
	unsigned kind;
};

struct pm_each {
	struct pymon_observer *o;
	char **argv;
	char *display;
	unsigned jobs;
	unsigned flags;
	struct pm_item *queue;
	size_t qlen, qcap;
	struct pm_job *running;
	size_t nrunning;
	bool failed;
	bool had_batch;
};

static void report(struct pm_each *e, enum pymon_run_state state, int code, const char *path)
{
	pm_report(e->o, state, code, e->display, NULL, 0, path);
}

/* argv with every "{}" in every argument replaced by path. */
static char **substitute(char *const *tmpl, const char *path)
{
	size_t n = 0;
	while (tmpl[n])
		n++;
	char **argv = calloc(n + 1, sizeof *argv);
	if (!argv)
		return NULL;
	size_t plen = strlen(path);
	for (size_t i = 0; i < n; i++) {
		struct pm_buf b = {0};
		int r = pm_buf_put(&b, "", 0);
		for (const char *s = tmpl[i]; *s && r == 0;) {
			const char *hole = strstr(s, "{}");
			if (!hole) {
				r = pm_buf_put(&b, s, strlen(s));
				break;
			}
			r = pm_buf_put(&b, s, (size_t)(hole - s));
			if (r == 0)
				r = pm_buf_put(&b, path, plen);
			s = hole + 2;
		}
		argv[i] = b.s;
		if (r < 0 || !b.s) {
			pm_buf_free(&b);
			argv[i] = NULL;
			pm_argv_free(argv);
			return NULL;
		}
	}
	return argv;
}

static void maybe_done(struct pm_each *e)
{
	if ((e->flags & PYMON_RUN_ONCE) && e->had_batch && !e->qlen && !e->nrunning)
		pymon_watcher_stop(e->o->w, e->failed ? 1 : 0);
}

static void start_job(struct pm_each *e, struct pm_item *it)
{
	char **argv = substitute(e->argv, it->path);
	struct pm_buf pathvar = {0}, kindvar = {0};
	pm_buf_put(&pathvar, "PYMON_PATH=", 11);
	pm_buf_put(&pathvar, it->path, strlen(it->path));
	pm_buf_put(&kindvar, "PYMON_EVENT=", 12);
	const char *kind = pymon_kind_name(it->kind);
	pm_buf_put(&kindvar, kind, strlen(kind));
	char *vars[] = {pathvar.s, kindvar.s};
	char **env = argv && pathvar.s && kindvar.s ? pm_build_env(vars, 2) : NULL;
	pid_t pid = -ENOMEM;
	if (env) {
		struct pm_spawn spec = {.argv = argv, .envp = env, .null_stdin = true};
		report(e, PYMON_RUN_STARTING, 0, it->path);
		pid = pm_spawn(&spec);
	}
	free(env);
	pm_buf_free(&pathvar);
	pm_buf_free(&kindvar);
	pm_argv_free(argv);
	if (pid < 0) {
		e->failed = true;
		report(e, PYMON_RUN_FAILED, (int)-pid, it->path);
		free(it->path);
		return;
	}
	e->running[e->nrunning++] = (struct pm_job){.pid = pid, .path = it->path};
}

/* Starts queued jobs while there is room. */
static void pump(struct pm_each *e)
{
	while (e->nrunning < e->jobs && e->qlen && !e->o->w->exit_signal) {
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

static void on_batch(pymon_observer *o, const pymon_batch *b, void *ud)
{
	struct pm_each *e = ud;
	(void)o;
	pm_report(e->o, PYMON_RUN_CHANGED, 0, e->display, b, 0, NULL);
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

bool pm_each_reaped(pymon_watcher *w, pid_t pid, int status)
{
	for (struct pymon_observer *o = w->observers; o; o = o->next) {
		struct pm_each *e = o->each;
		for (size_t i = 0; e && i < e->nrunning; i++) {
			if (e->running[i].pid != pid)
				continue;
			char *path = e->running[i].path;
			e->running[i] = e->running[--e->nrunning];
			if (WIFEXITED(status)) {
				report(e, PYMON_RUN_EXITED, WEXITSTATUS(status), path);
				e->failed |= WEXITSTATUS(status) != 0;
			} else {
				report(e, PYMON_RUN_KILLED, WTERMSIG(status), path);
				e->failed = true;
			}
			free(path);
			if (w->exit_signal)
				pm_finish_shutdown(w);
			else
				pump(e);
			return true;
		}
	}
	return false;
}

bool pm_each_busy(const struct pymon_observer *o)
{
	return o->each && o->each->nrunning;
}

void pm_each_stop(struct pymon_observer *o, int sig)
{
	struct pm_each *e = o->each;
	if (!e)
		return;
	for (size_t i = 0; i < e->qlen; i++)
		free(e->queue[i].path);
	e->qlen = 0;
	for (size_t i = 0; i < e->nrunning; i++) {
		/* Each job leads its own group; the pid is ours until reaped. */
		kill(-e->running[i].pid, sig);
		kill(-e->running[i].pid, SIGCONT);
	}
}

void pm_each_free(struct pm_each *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->qlen; i++)
		free(e->queue[i].path);
	for (size_t i = 0; i < e->nrunning; i++)
		free(e->running[i].path);
	free(e->queue);
	free(e->running);
	pm_argv_free(e->argv);
	free(e->display);
	free(e);
}

PM_API int pymon_observer_each(pymon_observer *o, const pymon_each *spec, pymon_error *err)
{
	if (!spec || !spec->argv || !spec->argv[0] || !spec->argv[0][0])
		return pm_err(err, -EINVAL, "a per-file action needs a program");
	if (o->run || o->each)
		return pm_err(err, -EBUSY, "this observer already has a command");
	int r = pm_supervise(o->w, err);
	if (r < 0)
		return r;
	struct pm_each *e = calloc(1, sizeof *e);
	if (!e)
		return pm_err(err, -ENOMEM, "out of memory");
	e->o = o;
	e->jobs = spec->jobs ? spec->jobs : 1;
	e->flags = spec->flags;
	size_t n = 0;
	while (spec->argv[n])
		n++;
	e->argv = calloc(n + 1, sizeof *e->argv);
	e->running = calloc(e->jobs, sizeof *e->running);
	struct pm_buf disp = {0};
	pm_buf_put(&disp, "", 0);
	for (size_t i = 0; e->argv && i < n; i++) {
		e->argv[i] = pm_strdup(spec->argv[i]);
		if (!e->argv[i])
			break;
		if (i)
			pm_buf_put(&disp, " ", 1);
		pm_buf_put(&disp, spec->argv[i], strlen(spec->argv[i]));
	}
	e->display = disp.s;
	if (!e->argv || !e->running || !e->display || (n && !e->argv[n - 1])) {
		pm_each_free(e);
		return pm_err(err, -ENOMEM, "out of memory");
	}
	o->each = e;
	o->fn = on_batch;
	o->userdata = e;
	return 0;
}
