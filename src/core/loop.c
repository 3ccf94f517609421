/*
 * The event loop: one epoll set holding inotify, the debounce timerfd and
 * whatever else the watcher supervises. Nothing wakes up while idle: the
 * timer is armed only while a batch is pending.
 */
#include "act/action.h"
#include "base/sys.h"
#include "core/inotify.h"
#include "core/loop.h"
#include "core/scan.h"
#include "core/tree.h"
#include "core/watcher.h"
#include "filter/rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <unistd.h>

int pm_loop_add(pymon_watcher *w, struct pm_source *src, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = src};
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0 ? -errno : 0;
}

void pm_loop_del(pymon_watcher *w, struct pm_source *src)
{
	if (src->fd >= 0)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, src->fd, NULL);
}

static bool pending(const struct pymon_observer *o)
{
	return o->batch.count || o->batch.dropped;
}

/* ---- git's index.lock ------------------------------------------------
 * While git holds index.lock (a checkout, a rebase), a due batch waits, so
 * one operation makes one batch. The wait is on inotify (the git directory
 * is watched only while a batch waits, with the one fixed mask), never a
 * timer polling the file, and it is bounded: a lock older than the bound
 * (git crashed) is named in a warning and batches run until it goes.
 */

/* The root whose git directory holds a lock this observer waits for. */
static struct pm_root *locked_root(const struct pymon_observer *o)
{
	if (o->flags & PYMON_NO_GIT_LOCK_WAIT || !o->git_lock_ms)
		return NULL;
	for (struct pm_root *r = o->roots; r; r = r->next)
		if (r->gitdir && !r->git_stale && pm_git_locked(r))
			return r;
	return NULL;
}

/* Watches r's git directory (the kernel gives the same wd for a directory
 * already watched). 0 or a negative errno. */
static int git_watch(pymon_watcher *w, struct pm_root *r)
{
	if (r->git_wd >= 0)
		return 0;
	int wd = pm_sys.inotify_add_watch(w->ifd, r->gitdir, PM_WATCH_MASK);
	if (wd < 0)
		return -errno;
	r->git_wd = wd;
	w->ngitwatch++;
	return 0;
}

static bool git_wd_needed(pymon_watcher *w, int wd)
{
	for (struct pymon_observer *o = w->observers; o; o = o->next)
		for (struct pm_root *r = o->roots; r; r = r->next)
			if (r->git_wd == wd && (r->git_stale || o->lock_since_ns))
				return true;
	return false;
}

static void git_unwatch(pymon_watcher *w, int wd, bool gone)
{
	for (struct pymon_observer *o = w->observers; o; o = o->next)
		for (struct pm_root *r = o->roots; r; r = r->next)
			if (r->git_wd == wd) {
				r->git_wd = -1;
				w->ngitwatch--;
			}
	/* A directory of the tree may share the watch (--no-default-ignore). */
	if (!gone && !pm_wd_first(w, wd))
		pm_sys.inotify_rm_watch(w->ifd, wd);
}

void pm_git_lock_event(pymon_watcher *w, int wd, uint32_t mask, const char *name)
{
	if (!w->ngitwatch)
		return;
	bool gone = mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT);
	if (!gone && !((mask & (IN_DELETE | IN_MOVED_FROM)) && strcmp(name, "index.lock") == 0))
		return;
	bool ours = false;
	for (struct pymon_observer *o = w->observers; o; o = o->next)
		for (struct pm_root *r = o->roots; r; r = r->next)
			if (r->git_wd == wd) {
				ours = true;
				r->git_stale = false;
				/* Looked at again on this round's pm_fire_due. */
				if (o->lock_since_ns)
					o->deadline_ns = pm_now_ns();
			}
	if (ours && (gone || !git_wd_needed(w, wd)))
		git_unwatch(w, wd, mask & IN_IGNORED);
}

/* A due batch of o: true when it has to wait for a git lock (its deadline
 * is then the end of the wait), false when it fires now. */
static bool held_by_git(pymon_watcher *w, struct pymon_observer *o, uint64_t now)
{
	struct pm_root *r = locked_root(o);
	if (!r) {
		o->lock_since_ns = 0;
		return false;
	}
	uint64_t bound = (uint64_t)o->git_lock_ms * 1000000u;
	if (!o->lock_since_ns)
		o->lock_since_ns = now;
	if (now - o->lock_since_ns >= bound) {
		pm_warn(w, "%s/index.lock has existed for %u s: a git command may have crashed; running anyway "
		           "(remove the file if no git command is running)",
		        r->gitdir, (o->git_lock_ms + 999) / 1000);
		r->git_stale = true;
		o->lock_since_ns = 0;
		return false;
	}
	int e = git_watch(w, r);
	if (e < 0) {
		/* No watch to wait on (the budget is spent): look again soon. */
		o->deadline_ns = now + 100000000u;
		if (o->deadline_ns > o->lock_since_ns + bound)
			o->deadline_ns = o->lock_since_ns + bound;
		return true;
	}
	/* The lock may have gone before the watch existed. */
	if (!pm_git_locked(r)) {
		o->lock_since_ns = 0;
		if (!git_wd_needed(w, r->git_wd))
			git_unwatch(w, r->git_wd, false);
		return false;
	}
	o->deadline_ns = o->lock_since_ns + bound;
	return true;
}

static bool counts_for(const struct pm_action *a, const struct pm_batch_entry *e)
{
	return !a->ops->files_only || !e->is_dir || (e->kind != PYMON_CREATE && e->kind != PYMON_MODIFY);
}

static void fire(struct pymon_observer *o)
{
	struct pm_batch *b = &o->batch;
	struct pm_action *a = o->action;
	pymon_event *events = a ? calloc(b->count ? b->count : 1, sizeof *events) : NULL;
	if (events) {
		size_t n = 0;
		for (size_t i = 0; i < b->count; i++) {
			if (!b->entries[i].kind || !counts_for(a, &b->entries[i]))
				continue;
			events[n].kind = b->entries[i].kind;
			events[n].path = b->entries[i].path;
			events[n].from = b->entries[i].from;
			events[n].is_dir = b->entries[i].is_dir;
			n++;
		}
		pymon_batch batch = {.events = events, .count = n, .dropped = b->dropped};
		o->deadline_ns = 0;
		if (n || b->dropped)
			a->ops->batch(a, &batch);
		free(events);
	}
	pm_batch_clear(b);
	o->deadline_ns = 0;
}

/* Fires every observer whose quiet period is over, unless git holds its
 * index.lock (see above). */
void pm_fire_due(pymon_watcher *w)
{
	uint64_t now = pm_now_ns();
	if (w->nmoves) {
		if (w->moves_deadline_ns > now)
			return; /* a batch waits until its moves are paired */
		pm_moves_flush(w);
		pm_run_deferred_resyncs(w);
	}
	for (struct pymon_observer *o = w->observers; o && !w->stopped; o = o->next) {
		if (!pending(o) || o->deadline_ns > now)
			continue;
		if (held_by_git(w, o, now))
			continue;
		fire(o);
	}
}

/* Arms the timerfd for the earliest pending deadline, or disarms it. */
void pm_schedule(pymon_watcher *w)
{
	uint64_t next = 0;
	for (struct pymon_observer *o = w->observers; o; o = o->next)
		if (pending(o) && (!next || o->deadline_ns < next))
			next = o->deadline_ns ? o->deadline_ns : 1;
	/* Unpaired moves hold every batch until they are settled. */
	if (w->nmoves && (!next || next < w->moves_deadline_ns))
		next = w->moves_deadline_ns;
	if (next == w->armed_ns)
		return;
	struct itimerspec its = {0};
	if (next) {
		/* 0 would disarm: a deadline already past fires at once. */
		uint64_t at = next ? next : 1;
		its.it_value.tv_sec = (time_t)(at / 1000000000u);
		its.it_value.tv_nsec = (long)(at % 1000000000u);
	}
	if (timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		w->armed_ns = next;
}

void pm_timer_ready(pymon_watcher *w, struct pm_source *src, uint32_t events)
{
	uint64_t ticks;
	(void)events;
	while (read(src->fd, &ticks, sizeof ticks) < 0 && errno == EINTR)
		;
	w->armed_ns = 0;
}

/* One round: wait up to timeout_ms (-1 forever) and handle what is ready. */
static int run_once(pymon_watcher *w, int timeout_ms, pymon_error *err)
{
	struct epoll_event evs[16];
	int n = pm_sys.epoll_wait(w->epfd, evs, 16, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			n = 0; /* no events; deadlines are still checked */
		else
			return pm_err(err, -errno, "epoll_wait: %s", strerror(errno));
	}
	for (int i = 0; i < n && !w->stopped; i++) {
		struct pm_source *src = evs[i].data.ptr;
		src->ready(w, src, evs[i].events);
	}
	if (!w->stopped)
		pm_fire_due(w);
	pm_fdwatch_reap(w);
	pm_schedule(w);
	return w->stopped ? 1 : 0;
}

PM_API int pymon_watcher_dispatch(pymon_watcher *w, pymon_error *err)
{
	if (!w->started) {
		int r = pymon_watcher_start(w, err);
		if (r < 0)
			return r;
	}
	return run_once(w, 0, err);
}

PM_API int pymon_observe(pymon_watcher *w, pymon_error *err)
{
	if (!w->started) {
		int r = pymon_watcher_start(w, err);
		if (r < 0)
			return r;
	}
	while (!w->stopped) {
		int r = run_once(w, -1, err);
		if (r < 0)
			return r;
	}
	return w->status;
}

/* ---- descriptors added by the embedder -------------------------------- */

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

void pm_fdwatch_free(pymon_watcher *w)
{
	for (struct pm_fdwatch *f = w->fdwatches, *next; f; f = next) {
		next = f->next;
		pm_loop_del(w, &f->src);
		free(f);
	}
	w->fdwatches = NULL;
	pm_fdwatch_reap(w);
}
