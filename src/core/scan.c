/*
 * Scanning directories into the watch tree: add the watch first, then read
 * the directory, so nothing created in between is missed. Breadth first
 * with an explicit queue (no recursion, so depth is no risk). Ignored
 * directories are never watched, symlinks never followed.
 */
#include "core/scan.h"
#include "core/poll.h"
#include "core/batch.h"
#include "core/watcher.h"
#include "filter/rules.h"
#include "base/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries of one directory: records of [d_type][length][name\0], the
 * length capped at 255 (then strlen() says): each name is measured once. */
struct listing {
	char *buf;
	size_t len, cap;
};

struct entry {
	unsigned char type;
	const char *name;
	size_t len;
};

/* The entry at *off into e, *off moved past it; false at the end. */
static bool next_entry(const struct listing *l, size_t *off, struct entry *e)
{
	if (*off >= l->len)
		return false;
	const unsigned char *r = (const unsigned char *)l->buf + *off;
	e->type = r[0];
	e->name = (const char *)r + 2;
	e->len = r[1] < 255 ? r[1] : strlen(e->name);
	*off += e->len + 3;
	return true;
}

static int list_put(struct listing *l, unsigned char type, const char *name, size_t n)
{
	if (l->len + n + 3 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		while (cap < l->len + n + 3)
			cap *= 2;
		char *b = realloc(l->buf, cap);
		if (!b)
			return -ENOMEM;
		l->buf = b;
		l->cap = cap;
	}
	l->buf[l->len++] = (char)type;
	l->buf[l->len++] = (char)(n < 255 ? n : 255);
	memcpy(l->buf + l->len, name, n + 1);
	l->len += n + 1;
	return 0;
}

/* Reads every entry of dirfd except "." and "..". 0 or a negative errno. */
static int read_listing(int dirfd, struct listing *l)
{
	char buf[32768] __attribute__((aligned(8)));
	l->len = 0;
	for (;;) {
		ssize_t n = pm_sys.getdents64(dirfd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			if (d->d_reclen == 0 || off + d->d_reclen > n)
				return -EIO;
			off += d->d_reclen;
			const char *nm = d->d_name;
			if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
				continue;
			if (list_put(l, d->d_type, nm, strlen(nm)) < 0)
				return -ENOMEM;
		}
	}
}

/* Most directories hold no ignore file: knowing it from the listing
 * saves two failed opens per directory. */
static bool listing_has_ignore_file(const struct listing *l)
{
	struct entry e;
	for (size_t off = 0; next_entry(l, &off, &e);)
		if (e.name[0] == '.' && pm_is_ignore_file(e.name))
			return true;
	return false;
}

static bool entry_is_dir(int dirfd, unsigned char type, const char *name)
{
	if (type == DT_DIR)
		return true;
	if (type != DT_UNKNOWN)
		return false;
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static bool vcs_on(const struct pm_root *r)
{
	return !(r->obs->flags & PYMON_NO_VCS_IGNORE);
}

/* A directory read by the scan whose descriptor is kept while children
 * queued below it still need it: they are opened relative to it, so no
 * full path is built or resolved per directory and depth costs nothing
 * (a tree deeper than PATH_MAX stays linear). */
struct dirref {
	int fd;
	unsigned refs;
};

/* Parents kept open at once; past it, children are opened by path (a
 * breadth-first queue spans two levels, so this bounds descriptors). */
#define MAX_OPEN_PARENTS 256

static void unref(struct dirref *d, size_t *nopen)
{
	if (d && --d->refs == 0) {
		close(d->fd);
		free(d);
		(*nopen)--;
	}
}

/* The real path of n, for messages only (built when one is needed). */
static const char *path_of(const struct pm_node *n, struct pm_buf *b)
{
	if (pm_node_realpath(n, NULL, b) < 0)
		return n->name;
	return b->s;
}

/* How a watch names the directory the scan holds open. On the scan's own
 * thread (pm_scan_aside()), as "." after an fchdir() into it: one
 * component to resolve. Elsewhere through "/proc/PID/fd/" where /proc is
 * this process's own (it saves resolving "self" once per directory: 4 %
 * of a scan), else "/proc/self/fd/". Taken once per scan, not cached, so a
 * forked process never names its parent's descriptors. */
struct dir_naming {
	char s[32];
	size_t len;
	bool own_cwd;
};

static void dir_naming_init(struct dir_naming *p, const pymon_watcher *w)
{
	char self[24], pid[16];
	int n = snprintf(pid, sizeof pid, "%d", (int)getpid());
	ssize_t k = pm_sys.readlink("/proc/self", self, sizeof self - 1);
	if (k == n && memcmp(self, pid, (size_t)n) == 0)
		p->len = (size_t)snprintf(p->s, sizeof p->s, "/proc/%s/fd/", pid);
	else
		p->len = (size_t)snprintf(p->s, sizeof p->s, "/proc/self/fd/");
	p->own_cwd = w->scan_owns_cwd;
}

/* The prefix and fd's digits into buf (48 bytes), without printf: it runs
 * once per directory and formatting was 2 % of a scan. */
static void fd_link(char buf[48], const struct dir_naming *p, int fd)
{
	char digits[12];
	size_t n = 0;
	unsigned v = (unsigned)fd;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	memcpy(buf, p->s, p->len);
	for (size_t i = 0; i < n; i++)
		buf[p->len + i] = digits[n - 1 - i];
	buf[p->len + n] = '\0';
}

/*
 * Opens and watches node n: relative to its parent's descriptor when the
 * scan kept one (up), else by path. Returns the directory fd (>= 0),
 * -ENOENT for a directory to skip (already warned), or a fatal negative
 * errno (watch limit) with err set.
 */
static int watch_node(pymon_watcher *w, struct pm_node *n, struct dirref *up, const struct dir_naming *naming,
                      pymon_error *err)
{
	struct pm_buf path = {0};
	int fd = up ? pm_sys.openat(up->fd, n->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
	            : pm_node_open(n, NULL);
	int e = errno, r = -ENOENT;
	if (fd < 0) {
		if (e == EMFILE || e == ENFILE) {
			r = pm_err(err, -e, "%s: %s (raise the open-file limit, ulimit -n)", path_of(n, &path),
			           strerror(e));
			pm_buf_free(&path);
			return r;
		}
		/* Gone, unreadable or not a directory any more: a race with the
		 * file system, not an error of ours. A directory renamed while
		 * we scan it makes its children vanish from their old paths:
		 * its new place is read again once the rename has been handled. */
		if (e != ENOENT && e != ENOTDIR && e != ELOOP)
			pm_warn(w, "cannot watch %s: %s; skipped", path_of(n, &path), strerror(e));
		else if (e == ENOENT && n->parent && n->parent->wd >= 0)
			pm_defer_resync(w, n->parent->wd);
		pm_buf_free(&path);
		return -ENOENT;
	}
	/* Where inotify is blind (or absent, or refused), the poller takes it. */
	struct stat dir;
	if (pm_poll_wanted(w, n, fd, &dir)) {
		pm_buf_free(&path);
		if (pm_poll_node(w, n, fd, &dir) < 0) {
			close(fd);
			return pm_err(err, -ENOMEM, "out of memory");
		}
		return fd;
	}
	/* Watch the directory we hold open, not the path: a rename between the
	 * open and the watch cannot make us watch something else, and paths
	 * longer than PATH_MAX work. "." after fchdir() is that inode; so is
	 * the magic link, which must be followed. Without /proc, the path. */
	int wd = -1;
	e = EACCES; /* "." not tried (fchdir needs search permission) */
	if (naming->own_cwd && pm_sys.fchdir(fd) == 0) {
		wd = pm_sys.inotify_add_watch(w->ifd, ".", PM_WATCH_MASK);
		e = errno;
	}
	if (wd < 0 && e != ENOSPC && e != ENOMEM) {
		char proc[48];
		fd_link(proc, naming, fd);
		wd = pm_sys.inotify_add_watch(w->ifd, proc, PM_WATCH_MASK & ~(uint32_t)IN_DONT_FOLLOW);
		e = errno;
	}
	if (wd < 0 && e == ENOENT) {
		/* path_of() gives the bare name when out of memory: relative to a
		 * moved working directory that would be another directory. */
		const char *p = path_of(n, &path);
		if (p[0] == '/') {
			wd = pm_sys.inotify_add_watch(w->ifd, p, PM_WATCH_MASK);
			e = errno;
		}
	}
	if (wd < 0) {
		if (e == ENOSPC && (w->poll_flags & PYMON_POLL_ON_LIMIT)) {
			if (!w->poll_limit_warned)
				pm_warn(w, "the inotify watch limit is reached (fs.inotify.max_user_watches) at %s; "
				           "polling the directories that cannot be watched (every %ums)",
				        path_of(n, &path), w->poll_interval_ms);
			w->poll_limit_warned = true;
			pm_buf_free(&path);
			if (pm_poll_node(w, n, fd, &dir) < 0) {
				close(fd);
				return pm_err(err, -ENOMEM, "out of memory");
			}
			return fd;
		}
		close(fd);
		if (e == ENOSPC)
			r = pm_limit_error(err, -ENOSPC, path_of(n, &path));
		else if (e == ENOMEM)
			r = pm_err(err, -ENOMEM, "%s: kernel out of memory for inotify watches", path_of(n, &path));
		else if (e != ENOENT && e != ENOTDIR)
			pm_warn(w, "cannot watch %s: %s; skipped", path_of(n, &path), strerror(e));
		pm_buf_free(&path);
		return r;
	}
	pm_buf_free(&path);
	/* The inode names the node (set by pm_poll_wanted()'s fstat): the
	 * guard against a reused wd and the resync's "same directory?" both
	 * compare it. */
	n->wd = wd;
	if (pm_wd_insert(w, n) < 0) {
		n->wd = -1;
		close(fd);
		return pm_err(err, -ENOMEM, "out of memory");
	}
	return fd;
}

struct qitem {
	struct pm_node *n;
	struct dirref *up; /* the parent's open descriptor, or NULL */
};

struct queue {
	struct qitem *items;
	size_t head, len, cap;
};

static int push(struct queue *q, struct pm_node *n, struct dirref *up)
{
	if (q->head + q->len == q->cap) {
		if (q->head) {
			memmove(q->items, q->items + q->head, q->len * sizeof *q->items);
			q->head = 0;
		} else {
			size_t cap = q->cap ? q->cap * 2 : 64;
			struct qitem *p = realloc(q->items, cap * sizeof *p);
			if (!p)
				return -ENOMEM;
			q->items = p;
			q->cap = cap;
		}
	}
	q->items[q->head + q->len++] = (struct qitem){n, up};
	return 0;
}

/* Last in, first out: depth first, so the pending list holds one level's
 * siblings along one path, not a whole level of a wide tree (101k
 * directories: a few thousand entries instead of 100k). */
static struct qitem pop(struct queue *q)
{
	q->len--;
	return q->items[q->head + q->len];
}

#define COUNT_MAX 1000000 /* directories counted after the budget ran out */

struct tally {
	struct pm_node *top; /* a child of the root's node: where they are */
	size_t dirs;
};

static int by_dirs(const void *a, const void *b)
{
	size_t x = ((const struct tally *)a)->dirs, y = ((const struct tally *)b)->dirs;
	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * The watch budget ran out at start. Rather than stop there, go on reading
 * the rest of the tree (the same walk, without watching) to say how many
 * directories it wants and which subtrees hold them, then drop what was
 * read: the error names what to ignore or how far to raise the limit.
 */
static void explain_budget(pymon_watcher *w, struct queue *q, struct pm_node *first, size_t *nopen,
                           pymon_error *err)
{
	struct pm_node **tops = malloc((q->len + 1) * sizeof *tops);
	struct pm_node **todo = NULL;
	struct tally *t = NULL;
	size_t ntops = 0, ntodo = 0, captodo = 0, nt = 0, wanted = w->nwatches, counted = 0;
	struct listing l = {0};
	if (!tops)
		goto out;
	tops[ntops++] = first;
	while (q->len) {
		struct qitem it = pop(q);
		unref(it.up, nopen);
		tops[ntops++] = it.n;
	}
	for (size_t i = 0; i < ntops; i++) {
		if (ntodo == captodo) {
			captodo = captodo ? captodo * 2 : 64;
			struct pm_node **p = realloc(todo, captodo * sizeof *p);
			if (!p)
				goto out;
			todo = p;
		}
		todo[ntodo++] = tops[i];
	}
	while (ntodo && counted < COUNT_MAX) {
		struct pm_node *n = todo[--ntodo];
		counted++;
		struct pm_node *top = n;
		while (top->parent && top->parent->parent)
			top = top->parent;
		size_t k = 0;
		while (k < nt && t[k].top != top)
			k++;
		if (k == nt) {
			struct tally *p = realloc(t, (nt + 1) * sizeof *p);
			if (!p)
				break;
			t = p;
			t[nt++] = (struct tally){.top = top};
		}
		t[k].dirs++;
		int fd = pm_node_open(n, NULL);
		if (fd < 0 || read_listing(fd, &l) < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (vcs_on(n->root) && listing_has_ignore_file(&l))
			pm_rules_load(w, n, fd);
		struct entry e;
		for (size_t off = 0; next_entry(&l, &off, &e);) {
			if (!entry_is_dir(fd, e.type, e.name) || pm_ignored(n, e.name, true, NULL, 0))
				continue;
			struct pm_node *c = pm_node_new(n->root, n, e.name, e.len);
			if (!c)
				continue;
			if (ntodo == captodo) {
				captodo *= 2;
				struct pm_node **p = realloc(todo, captodo * sizeof *p);
				if (!p)
					continue; /* c stays in the tree and is dropped with its top */
				todo = p;
			}
			todo[ntodo++] = c;
		}
		close(fd);
	}
	wanted += counted;
	qsort(t, nt, sizeof *t, by_dirs);
	struct pm_buf msg = {0};
	char head[160];
	snprintf(head, sizeof head,
	         "; the tree wants %s%zu directories (the limit must cover them and other programs' watches); "
	         "the biggest subtrees: ", counted >= COUNT_MAX ? "more than " : "", wanted);
	if (pm_buf_put(&msg, err->message, strlen(err->message)) == 0 && pm_buf_put(&msg, head, strlen(head)) == 0) {
		for (size_t i = 0; i < nt && i < 3; i++) {
			struct pm_buf d = {0};
			char part[128];
			if (pm_node_display(t[i].top, NULL, &d) < 0)
				break;
			snprintf(part, sizeof part, "%s%s/: %zu director%s", i ? ", " : "", d.s && d.s[0] ? d.s : ".",
			         t[i].dirs, t[i].dirs == 1 ? "y" : "ies");
			pm_buf_put(&msg, part, strlen(part));
			pm_buf_free(&d);
		}
		if (nt && t[0].top->parent) {
			struct pm_buf d = {0};
			pm_node_relpath(t[0].top, &d); /* -i patterns are relative to the root */
			char tail[300];
			snprintf(tail, sizeof tail, " - add -i %s/ if it need not be watched", d.s ? d.s : "");
			pm_buf_put(&msg, tail, strlen(tail));
			pm_buf_free(&d);
		}
		snprintf(err->message, sizeof err->message, "%s", msg.s);
	}
	pm_buf_free(&msg);
out:
	for (size_t i = 0; tops && i < ntops; i++)
		pm_node_drop(w, tops[i], -1);
	free(tops);
	free(todo);
	free(t);
	free(l.buf);
}

/* The queue holds nodes that are linked in the tree but not yet watched;
 * a node dropped meanwhile (it cannot be: nothing else runs during a scan)
 * would be a bug. Nodes that fail to watch are dropped here. */
static int scan_queue(pymon_watcher *w, struct queue *q, bool report, pymon_error *err)
{
	struct listing l = {0};
	size_t nopen = 0;
	int ret = 0;
	pymon_error first = {0};
	struct dir_naming naming;
	dir_naming_init(&naming, w);
	while (q->len) {
		struct qitem it = pop(q);
		struct pm_node *n = it.n;
		int fd = watch_node(w, n, it.up, &naming, err);
		unref(it.up, &nopen);
		if (fd == -ENOSPC && w->started) {
			/* Running out of watches while running: count every
			 * directory that stays unwatched, and go on with the
			 * others (a resync retries them). At start it is fatal. */
			w->unwatched++;
			if (!ret) {
				ret = fd;
				first = *err;
			}
			pm_node_drop(w, n, -1);
			continue;
		}
		if (fd < 0) {
			if (fd == -ENOSPC && n->parent) {
				ret = fd;
				explain_budget(w, q, n, &nopen, err);
				break;
			}
			if (fd != -ENOENT) {
				ret = fd;
				/* Leave the rest unwatched but consistent. */
				pm_node_drop(w, n, -1);
				while (q->len) {
					it = pop(q);
					pm_node_drop(w, it.n, -1);
					unref(it.up, &nopen);
				}
				break;
			}
			if (n->parent)
				pm_node_drop(w, n, -1);
			continue;
		}
		if (n->root->file) { /* a file root's directory: no recursion */
			close(fd);
			continue;
		}
		int r = read_listing(fd, &l);
		if (r < 0) {
			struct pm_buf path = {0};
			pm_warn(w, "cannot read %s: %s; its entries are not watched", path_of(n, &path), strerror(-r));
			pm_buf_free(&path);
			close(fd);
			continue;
		}
		if (vcs_on(n->root) && listing_has_ignore_file(&l))
			pm_rules_load(w, n, fd);
		struct dirref *self = NULL;
		if (nopen < MAX_OPEN_PARENTS && (self = malloc(sizeof *self))) {
			*self = (struct dirref){.fd = fd, .refs = 1}; /* one for this loop */
			nopen++;
		}
		struct entry e;
		for (size_t off = 0; next_entry(&l, &off, &e);) {
			bool dir = entry_is_dir(fd, e.type, e.name);
			if (report)
				pm_observer_event(n, e.name, PYMON_CREATE, dir, NULL);
			/* n is new and a listing names each entry once: no child
			 * can exist yet, so no lookup. */
			if (!dir || pm_ignored(n, e.name, true, NULL, 0))
				continue;
			struct pm_node *c = pm_node_new(n->root, n, e.name, e.len);
			if (!c || push(q, c, self) < 0) {
				if (c)
					pm_node_drop(w, c, -1);
				pm_warn(w, "out of memory while scanning; some directories are not watched");
				continue;
			}
			if (self)
				self->refs++;
		}
		if (self)
			unref(self, &nopen);
		else
			close(fd);
	}
	free(l.buf);
	if (ret == -ENOSPC && first.code)
		*err = first;
	return ret;
}

void pm_budget_report(pymon_watcher *w, const pymon_error *err, size_t before)
{
	if (!w->limit_warned)
		pm_warn(w, "%s", err->message);
	w->limit_warned = true;
	size_t now = w->unwatched - before;
	pm_warn(w, "%zu director%s could not be watched (%zu since start): the inotify watch budget is spent; "
	           "they are retried on the next rescan",
	        now, now == 1 ? "y" : "ies", w->unwatched);
}

int pm_scan(pymon_watcher *w, struct pm_root *root, struct pm_node *parent, const char *name,
            bool report, pymon_error *err)
{
	struct queue q = {0};
	struct pm_node *n;
	if (parent) {
		struct pm_node *old = pm_node_find_child(parent, name);
		if (old)
			pm_node_drop(w, old, -1);
		n = pm_node_new(root, parent, name, strlen(name));
	} else {
		n = pm_node_new(root, NULL, "", 0);
		if (n)
			root->node = n;
	}
	if (!n || push(&q, n, NULL) < 0) {
		if (n)
			pm_node_drop(w, n, -1);
		free(q.items);
		return pm_err(err, -ENOMEM, "out of memory");
	}
	int r = scan_queue(w, &q, report, err);
	free(q.items);
	return r;
}

/* ---- the scan's own thread ------------------------------------------ */

struct aside {
	pymon_watcher *w;
	int (*fn)(pymon_watcher *w, void *arg, pymon_error *err);
	void *arg;
	pymon_error *err;
	int rc;
};

static void *aside_main(void *p)
{
	struct aside *a = p;
	/* A working directory of its own: fchdir() here moves no other
	 * thread's, and every other path the library opens is absolute
	 * (roots are realpath()ed when added). Without it (unshare refused,
	 * as some seccomp profiles do), watches go through /proc. */
	a->w->scan_owns_cwd = pm_sys.unshare(CLONE_FS) == 0;
	a->rc = a->fn(a->w, a->arg, a->err);
	a->w->scan_owns_cwd = false;
	return NULL;
}

int pm_scan_aside(pymon_watcher *w, int (*fn)(pymon_watcher *w, void *arg, pymon_error *err), void *arg,
                  pymon_error *err)
{
	struct aside a = {w, fn, arg, err, 0};
	sigset_t all, old;
	pthread_t t;
	int cancel;
	/* The thread starts with every signal blocked but the faults: no
	 * handler of the host's runs on it for a signal sent to the process,
	 * a signalfd of the host's still gets them, and a crash on it still
	 * reaches the host's (or a sanitizer's) fault handler. */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGSYS);
	sigdelset(&all, SIGTRAP);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pm_warn_hold(w);
	int e = pm_sys.pthread_create(&t, NULL, aside_main, &a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e == 0) {
		/* The thread writes into this frame: a cancelled join must not
		 * unwind it while the scan runs. */
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
		pthread_join(t, NULL);
		pthread_setcancelstate(cancel, NULL);
	} else {
		a.rc = fn(w, arg, err); /* no thread to be had: here, through /proc */
	}
	pm_warn_release(w);
	return a.rc;
}

/*
 * Resynchronises the subtree below n with the disk. Used after a queue
 * overflow (when any event may have been lost) and after an ignore file
 * changed. New directories are scanned with their entries reported as
 * CREATE; vanished or now-ignored ones are dropped and reported as DELETE.
 * Files that merely changed cannot be told apart: the caller adds a
 * PYMON_RESCAN event for that.
 */
int pm_resync(pymon_watcher *w, struct pm_node *top, pymon_error *err)
{
	struct queue q = {0};
	struct listing l = {0};
	int ret = 0;
	bool nospc = false;
	size_t nopen = 0;
	if (push(&q, top, NULL) < 0)
		return pm_err(err, -ENOMEM, "out of memory");
	while (q.len && ret == 0) {
		/* As in the scan: relative to the parent's descriptor when it
		 * was kept, so a deep tree is resynced in linear time. */
		struct qitem it = pop(&q);
		struct pm_node *n = it.n;
		int fd = -1;
		if (!n->root->file)
			fd = it.up ? pm_sys.openat(it.up->fd, n->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
			           : pm_node_open(n, NULL);
		unref(it.up, &nopen);
		if (n->root->file)
			continue;
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || st.st_ino != n->ino || (uint32_t)st.st_dev != n->dev) {
			if (fd >= 0)
				close(fd);
			if (n->parent) {
				pm_observer_event(n->parent, n->name, PYMON_DELETE, true, NULL);
				pm_node_drop(w, n, -1);
			}
			continue;
		}
		if (read_listing(fd, &l) < 0) {
			close(fd);
			continue;
		}
		if (vcs_on(n->root) && (pm_node_rules(n) || listing_has_ignore_file(&l)))
			pm_rules_load(w, n, fd);
		struct dirref *self = NULL;
		if (nopen < MAX_OPEN_PARENTS && (self = malloc(sizeof *self))) {
			*self = (struct dirref){.fd = fd, .refs = 1};
			nopen++;
		}
		/* Children that vanished or became ignored. */
		for (struct pm_node *c = n->child, *next; c; c = next) {
			next = c->next;
			if (c->moving)
				continue; /* its pending move settles it */
			bool found = false;
			struct entry e;
			for (size_t off = 0; !found && next_entry(&l, &off, &e);)
				found = strcmp(e.name, c->name) == 0;
			if (!found || pm_ignored(n, c->name, true, NULL, 0)) {
				pm_observer_event(n, c->name, PYMON_DELETE, true, NULL);
				pm_node_drop(w, c, -1);
			}
		}
		/* Directories that appeared, or were replaced by another inode. */
		struct entry e;
		for (size_t off = 0; ret == 0 && next_entry(&l, &off, &e);) {
			if (!entry_is_dir(fd, e.type, e.name) || pm_ignored(n, e.name, true, NULL, 0))
				continue;
			struct pm_node *c = pm_node_find_child(n, e.name);
			struct stat cst;
			if (c && fstatat(fd, e.name, &cst, AT_SYMLINK_NOFOLLOW) == 0 && cst.st_ino == c->ino &&
			    (uint32_t)cst.st_dev == c->dev) {
				if (push(&q, c, self) < 0)
					ret = pm_err(err, -ENOMEM, "out of memory");
				else if (self)
					self->refs++;
				continue;
			}
			pm_observer_event(n, e.name, PYMON_CREATE, true, NULL);
			int r = pm_scan(w, n->root, n, e.name, true, err);
			if (r == -ENOSPC && w->started)
				nospc = true; /* counted; the others are still tried */
			else
				ret = r;
		}
		if (self)
			unref(self, &nopen);
		else
			close(fd);
	}
	while (q.len) /* left by an error */
		unref(pop(&q).up, &nopen);
	free(l.buf);
	free(q.items);
	return ret ? ret : nospc ? -ENOSPC : 0;
}

void pm_defer_resync(pymon_watcher *w, int wd)
{
	for (size_t i = 0; i < w->nresync; i++)
		if (w->resync[i] == wd)
			return;
	if (w->nresync == w->capresync) {
		size_t cap = w->capresync ? w->capresync * 2 : 8;
		int *v = realloc(w->resync, cap * sizeof *v);
		if (!v)
			return;
		w->resync = v;
		w->capresync = cap;
	}
	w->resync[w->nresync++] = wd;
}

/* Resyncs what scans left behind, by watch descriptor (it survives the
 * renames that made them fail). A few rounds: a resync can defer more. */
void pm_run_deferred_resyncs(pymon_watcher *w)
{
	for (int round = 0; round < 3 && w->nresync; round++) {
		size_t n = w->nresync;
		int *wds = malloc(n * sizeof *wds);
		if (!wds)
			return;
		memcpy(wds, w->resync, n * sizeof *wds);
		w->nresync = 0;
		for (size_t i = 0; i < n; i++) {
			/* One node of the wd at a time (resync may change the
			 * chain); each observer's node is done once. */
			struct pm_node *done[16];
			size_t ndone = 0;
			for (;;) {
				struct pm_node *node = pm_wd_first(w, wds[i]);
				for (size_t k = 0; node && k < ndone; k++)
					if (done[k] == node) {
						node = pm_wd_next(node, wds[i]);
						k = (size_t)-1; /* restart the check */
					}
				if (!node || ndone == 16)
					break;
				done[ndone++] = node;
				pymon_error err = {0};
				size_t before = w->unwatched;
				if (pm_resync(w, node, &err) < 0 && err.code == -ENOSPC)
					pm_budget_report(w, &err, before);
			}
		}
		free(wds);
	}
}
