/* The public API: watchers, observers and their configuration. */
#include "act/action.h"
#include "core/inotify.h"
#include "core/loop.h"
#include "core/poll.h"
#include "core/scan.h"
#include "core/watcher.h"
#include "filter/rules.h"
#include "base/sys.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define EVBUF_LEN (64 * 1024)

static void deliver(pymon_watcher *w, const char *msg)
{
	if (w && w->warn)
		w->warn(msg, w->warn_data);
	else
		fprintf(stderr, "py-mon: warning: %s\n", msg);
}

void pm_warn(pymon_watcher *w, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (w && w->warnings_held) {
		/* Held for the caller's thread; out of memory, to stderr rather
		 * than into the host's callback on a thread of ours. */
		if (pm_buf_put(&w->held_warnings, msg, strlen(msg) + 1) < 0)
			deliver(NULL, msg);
		return;
	}
	deliver(w, msg);
}

void pm_warn_hold(pymon_watcher *w)
{
	w->warnings_held = true;
}

void pm_warn_release(pymon_watcher *w)
{
	/* Taken out first: a callback may start another scan, which holds
	 * warnings of its own in a fresh buffer. */
	struct pm_buf held = w->held_warnings;
	w->held_warnings = (struct pm_buf){0};
	w->warnings_held = false;
	for (size_t off = 0; off < held.len; off += strlen(held.s + off) + 1)
		deliver(w, held.s + off);
	pm_buf_free(&held);
}


PM_API pymon_watcher *pymon_watcher_new(pymon_error *err)
{
	pymon_watcher *w = calloc(1, sizeof *w);
	if (!w) {
		pm_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	w->epfd = w->ifd = w->tfd = w->sfd = w->poll_src.fd = -1;
	w->poll_interval_ms = 500;
	if (pm_poll_from_env(w, err) < 0)
		goto fail;
	w->evbuf_len = EVBUF_LEN;
	w->evbuf = malloc(w->evbuf_len);
	if (!w->evbuf) {
		pm_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	w->ifd = pm_sys.inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0 && (errno == ENOSYS || errno == EINVAL)) {
		/* No inotify at all (qemu user mode, some sandboxes): poll. */
		snprintf(w->poll_reason, sizeof w->poll_reason, "inotify_init1: %s: inotify is not available here",
		         strerror(errno));
	} else if (w->ifd < 0) {
		int e = errno;
		if (e == EMFILE)
			pm_limit_error(err, -EMFILE, "inotify_init1");
		else
			pm_err(err, -e, "inotify_init1: %s", strerror(e));
		goto fail;
	}
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		pm_err(err, -errno, "epoll_create1: %s", strerror(errno));
		goto fail;
	}
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->tfd < 0) {
		pm_err(err, -errno, "timerfd_create: %s", strerror(errno));
		goto fail;
	}
	w->inotify_src = (struct pm_source){.fd = w->ifd, .ready = pm_inotify_ready};
	w->timer_src = (struct pm_source){.fd = w->tfd, .ready = pm_timer_ready};
	int r = w->ifd >= 0 ? pm_loop_add(w, &w->inotify_src, EPOLLIN) : 0;
	if (r == 0)
		r = pm_loop_add(w, &w->timer_src, EPOLLIN);
	if (r < 0) {
		pm_err(err, r, "epoll_ctl: %s", strerror(-r));
		goto fail;
	}
	return w;
fail:
	pymon_watcher_free(w);
	return NULL;
}

static void root_free(struct pm_root *r)
{
	pm_root_git_free(r);
	free(r->display);
	free(r->real);
	free(r->file);
	free(r);
}

static void observer_free(struct pymon_observer *o)
{
	for (struct pm_root *r = o->roots, *next; r; r = next) {
		next = r->next;
		root_free(r);
	}
	pm_ruleset_free(&o->defaults);
	pm_ruleset_free(&o->user);
	for (size_t i = 0; i < o->nexts; i++)
		free(o->exts[i]);
	free(o->exts);
	pm_batch_free(&o->batch);
	free(o);
}

PM_API void pymon_watcher_free(pymon_watcher *w)
{
	if (!w)
		return;
	for (struct pymon_observer *o = w->observers; o; o = o->next)
		if (o->action) {
			o->action->ops->free(o->action);
			o->action = NULL;
		}
	pm_fdwatch_free(w);
	pm_roles_free(w);
	pm_poll_free(w);
	/* Closing the inotify descriptor removes every watch at once: no
	 * inotify_rm_watch per directory on the way out. */
	if (w->ifd >= 0)
		close(w->ifd);
	w->ifd = -1;
	pm_tree_free(w);
	pm_root_waits_free(w);
	for (struct pymon_observer *o = w->observers, *next; o; o = next) {
		next = o->next;
		observer_free(o);
	}
	for (size_t i = 0; i < w->nmoves; i++)
		free(w->moves[i].name);
	free(w->moves);
	free(w->resync);
	if (w->tfd >= 0)
		close(w->tfd);
	if (w->epfd >= 0)
		close(w->epfd);
	free(w->evbuf);
	free(w);
}

PM_API void pymon_watcher_on_warning(pymon_watcher *w, pymon_warn_fn fn, void *userdata)
{
	w->warn = fn;
	w->warn_data = userdata;
}

/* Scans root r (a struct pm_root), through pm_scan_aside(). */
static int start_root(pymon_watcher *w, void *root, pymon_error *err)
{
	struct pm_root *r = root;
	int rc = pm_root_git_setup(w, r);
	if (rc < 0)
		return pm_err(err, rc, "out of memory");
	rc = pm_scan(w, r, NULL, NULL, false, err);
	if (rc < 0)
		return rc;
	if (!r->node || (r->node->wd < 0 && !pm_node_snap(r->node)))
		return pm_err(err, -EACCES, "%s: cannot be watched (see the warning above)",
		              r->display[0] ? r->display : ".");
	return 0;
}

/* Scans the roots not scanned yet, counting them in *scanned (a size_t). */
static int start_roots(pymon_watcher *w, void *scanned, pymon_error *err)
{
	for (struct pymon_observer *o = w->observers; o; o = o->next)
		for (struct pm_root *r = o->roots; r; r = r->next) {
			if (r->node)
				continue;
			++*(size_t *)scanned;
			int rc = start_root(w, r, err);
			if (rc < 0)
				return rc;
		}
	return 0;
}

static bool roots_left(const pymon_watcher *w)
{
	for (const struct pymon_observer *o = w->observers; o; o = o->next)
		for (const struct pm_root *r = o->roots; r; r = r->next)
			if (!r->node)
				return true;
	return false;
}

PM_API int pymon_watcher_start(pymon_watcher *w, pymon_error *err)
{
	if (w->started)
		return 0;
	for (struct pymon_observer *o = w->observers; o; o = o->next)
		if (o->action && o->action->ops->prepare)
			o->action->ops->prepare(o->action);
	/* Again while roots are left: a warning callback, called after the
	 * scan, may have added one. */
	size_t scanned;
	do {
		scanned = 0;
		int rc = pm_scan_aside(w, start_roots, &scanned, err);
		if (rc < 0)
			return rc;
	} while (scanned && roots_left(w));
	w->started = true;
	/* Commands start once every watch exists, so no change is missed. */
	for (struct pymon_observer *o = w->observers; o; o = o->next)
		if (o->action)
			o->action->ops->start(o->action);
	return 0;
}

PM_API int pymon_watcher_fd(const pymon_watcher *w)
{
	return w->epfd;
}

PM_API void pymon_watcher_stop(pymon_watcher *w, int status)
{
	w->stopped = true;
	w->status = status;
}

PM_API size_t pymon_watcher_watch_count(const pymon_watcher *w)
{
	return w->nwatches + w->npolled;
}

/* ---- observers ------------------------------------------------------ */

PM_API pymon_observer *pymon_observer_new(pymon_watcher *w, pymon_error *err)
{
	struct pymon_observer *o = calloc(1, sizeof *o);
	if (!o) {
		pm_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	o->w = w;
	o->kinds = PYMON_ALL;
	o->delay_ms = 50;
	o->batch.limit = 10000;
	o->git_lock_ms = PM_GIT_LOCK_WAIT_MS;
	pm_ruleset_init(&o->defaults, "default");
	pm_ruleset_init(&o->user, "--ignore");
	if (pm_ruleset_add_defaults(&o->defaults) < 0) {
		observer_free(o);
		pm_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	/* Keep creation order: observers fire in the order they were made. */
	struct pymon_observer **pp = &w->observers;
	while (*pp)
		pp = &(*pp)->next;
	*pp = o;
	return o;
}

/* "./src//" -> "src", "." -> "", "/" stays "/". */
static char *normalise_display(const char *path)
{
	while (path[0] == '.' && path[1] == '/')
		for (path += 2; *path == '/'; path++)
			;
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 1 && path[0] == '.')
		n = 0;
	return pm_strndup(path, n);
}

PM_API int pymon_observer_add(pymon_observer *o, const char *path, pymon_error *err)
{
	if (!path || !*path)
		return pm_err(err, -EINVAL, "an empty path cannot be watched");
	struct stat st;
	if (stat(path, &st) < 0)
		return pm_err(err, -errno, "%s: %s", path, strerror(errno));
	char *real = realpath(path, NULL);
	if (!real)
		return pm_err(err, -errno, "%s: %s", path, strerror(errno));
	struct pm_root *r = calloc(1, sizeof *r);
	if (!r) {
		free(real);
		return pm_err(err, -ENOMEM, "out of memory");
	}
	r->obs = o;
	r->git_wd = -1;
	r->display = normalise_display(path);
	if (S_ISDIR(st.st_mode)) {
		r->real = real;
	} else {
		/* A file: watch its directory and filter by name, so a save
		 * that replaces the file (rename over it) keeps working. */
		char *slash = strrchr(real, '/');
		r->file = pm_strdup(slash + 1);
		r->real = slash == real ? pm_strdup("/") : pm_strndup(real, (size_t)(slash - real));
		free(real);
	}
	if (!r->display || !r->real || (!S_ISDIR(st.st_mode) && !r->file)) {
		root_free(r);
		return pm_err(err, -ENOMEM, "out of memory");
	}
	struct pm_root **pp = &o->roots;
	while (*pp)
		pp = &(*pp)->next;
	*pp = r;
	if (o->w->started)
		return pm_scan_aside(o->w, start_root, r, err);
	return 0;
}

PM_API int pymon_observer_ignore(pymon_observer *o, const char *pattern, pymon_error *err)
{
	if (!pattern)
		return pm_err(err, -EINVAL, "no ignore pattern given");
	int r = pm_ruleset_add(&o->user, pattern, strlen(pattern), 0);
	return r < 0 ? pm_err(err, r, "out of memory") : 0;
}

PM_API int pymon_observer_ext(pymon_observer *o, const char *list, pymon_error *err)
{
	const char *p = list ? list : "", *s;
	size_t added = 0, n;
	while ((s = pm_next_word(&p, &n))) {
		while (n && *s == '.') {
			s++;
			n--;
		}
		if (!n || memchr(s, '/', n))
			return pm_err(err, -EINVAL, "invalid extension '%.*s' in '%s'", (int)n, s, list);
		char **exts = realloc(o->exts, (o->nexts + 1) * sizeof *exts);
		if (!exts)
			return pm_err(err, -ENOMEM, "out of memory");
		o->exts = exts;
		if (!(exts[o->nexts] = pm_strndup(s, n)))
			return pm_err(err, -ENOMEM, "out of memory");
		o->nexts++;
		added++;
	}
	if (!added)
		return pm_err(err, -EINVAL, "empty extension list '%s'", list ? list : "");
	return 0;
}

PM_API void pymon_observer_on(pymon_observer *o, unsigned kinds)
{
	o->kinds = kinds & PYMON_ALL;
}

PM_API void pymon_observer_delay(pymon_observer *o, unsigned ms)
{
	o->delay_ms = ms;
}

PM_API void pymon_observer_flags(pymon_observer *o, unsigned flags)
{
	o->flags = flags;
}

PM_API void pymon_observer_git_lock_wait(pymon_observer *o, unsigned max_ms)
{
	o->git_lock_ms = max_ms;
}

PM_API void pymon_observer_batch_limit(pymon_observer *o, size_t max_events)
{
	o->batch.limit = max_events ? max_events : 1;
}

PM_API pymon_watcher *pymon_observer_watcher(const pymon_observer *o)
{
	return o->w;
}

/* ---- helpers -------------------------------------------------------- */

PM_API const char *pymon_kind_name(unsigned kind)
{
	switch (kind) {
	case PYMON_CREATE: return "create";
	case PYMON_DELETE: return "delete";
	case PYMON_MODIFY: return "modify";
	case PYMON_MOVE: return "move";
	case PYMON_RESCAN: return "rescan";
	default: return "unknown";
	}
}

PM_API int pymon_parse_kinds(const char *list, unsigned *out, pymon_error *err)
{
	static const struct {
		const char *name;
		unsigned kind;
	} names[] = {
		{"create", PYMON_CREATE}, {"delete", PYMON_DELETE}, {"modify", PYMON_MODIFY},
		{"move", PYMON_MOVE},     {"rename", PYMON_MOVE},   {"all", PYMON_ALL},
	};
	unsigned mask = 0;
	const char *p = list ? list : "", *s;
	size_t n;
	while ((s = pm_next_word(&p, &n))) {
		size_t i;
		for (i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strlen(names[i].name) == n && strncasecmp(s, names[i].name, n) == 0)
				break;
		if (i == sizeof names / sizeof names[0])
			return pm_err(err, -EINVAL,
			              "unknown event kind '%.*s' (expected create, delete, modify, move or all)",
			              (int)n, s);
		mask |= names[i].kind;
	}
	if (!mask)
		return pm_err(err, -EINVAL, "no event kind given (expected create, delete, modify, move or all)");
	*out = mask;
	return 0;
}
