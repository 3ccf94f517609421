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
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries of one directory: records of [d_type][name\0]. */
struct listing {
	char *buf;
	size_t len, cap;
};

static int list_put(struct listing *l, unsigned char type, const char *name, size_t n)
{
	if (l->len + n + 2 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		while (cap < l->len + n + 2)
			cap *= 2;
		char *b = realloc(l->buf, cap);
		if (!b)
			return -ENOMEM;
		l->buf = b;
		l->cap = cap;
	}
	l->buf[l->len++] = (char)type;
	memcpy(l->buf + l->len, name, n + 1);
	l->len += n + 1;
	return 0;
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

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
	for (size_t off = 0; off < l->len;) {
		const char *name = l->buf + off + 1;
		off += strlen(name) + 2;
		if (name[0] == '.' && pm_is_ignore_file(name))
			return true;
	}
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

/*
 * Opens and watches node n. Returns the directory fd (>= 0), -ENOENT style
 * for a directory to skip (already warned), or a fatal negative errno
 * (watch limit) with err set.
 */
static int watch_node(pymon_watcher *w, struct pm_node *n, pymon_error *err)
{
	struct pm_buf path = {0};
	if (pm_node_realpath(n, NULL, &path) < 0)
		return pm_err(err, -ENOMEM, "out of memory");
	int fd = pm_node_open(n, path.s);
	int e = errno;
	if (fd < 0) {
		if (e == EMFILE || e == ENFILE) {
			pm_err(err, -e, "%s: %s (raise the open-file limit, ulimit -n)", path.s, strerror(e));
			pm_buf_free(&path);
			return -e;
		}
		/* Gone, unreadable or not a directory any more: a race with the
		 * file system, not an error of ours. A directory renamed while
		 * we scan it makes its children vanish from their old paths:
		 * its new place is read again once the rename has been handled. */
		if (e != ENOENT && e != ENOTDIR && e != ELOOP)
			pm_warn(w, "cannot watch %s: %s; skipped", path.s, strerror(e));
		else if (e == ENOENT && n->parent && n->parent->wd >= 0)
			pm_defer_resync(w, n->parent->wd);
		pm_buf_free(&path);
		return -ENOENT;
	}
	/* Where inotify is blind (or absent, or refused), the poller takes it. */
	if (pm_poll_wanted(w, n, fd)) {
		pm_buf_free(&path);
		if (pm_poll_node(w, n, fd) < 0) {
			close(fd);
			return pm_err(err, -ENOMEM, "out of memory");
		}
		return fd;
	}
	/* Watch the directory we hold open, not the path: a rename between the
	 * open and the watch cannot make us watch something else, and paths
	 * longer than PATH_MAX work. The magic link must be followed, but it
	 * names exactly that inode. Without /proc, the path it is. */
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int wd = pm_sys.inotify_add_watch(w->ifd, proc, PM_WATCH_MASK & ~(uint32_t)IN_DONT_FOLLOW);
	e = errno;
	if (wd < 0 && e == ENOENT) {
		wd = pm_sys.inotify_add_watch(w->ifd, path.s, PM_WATCH_MASK);
		e = errno;
	}
	if (wd < 0) {
		if (e == ENOSPC && (w->poll_flags & PYMON_POLL_ON_LIMIT)) {
			if (!w->poll_limit_warned)
				pm_warn(w, "the inotify watch limit is reached (fs.inotify.max_user_watches) at %s; "
				           "polling the directories that cannot be watched (every %ums)",
				        path.s, w->poll_interval_ms);
			w->poll_limit_warned = true;
			pm_buf_free(&path);
			if (pm_poll_node(w, n, fd) < 0) {
				close(fd);
				return pm_err(err, -ENOMEM, "out of memory");
			}
			return fd;
		}
		close(fd);
		if (e == ENOSPC) {
			int r = pm_limit_error(err, -ENOSPC, path.s);
			pm_buf_free(&path);
			return r;
		}
		if (e == ENOMEM) {
			pm_err(err, -ENOMEM, "%s: kernel out of memory for inotify watches", path.s);
			pm_buf_free(&path);
			return -ENOMEM;
		}
		if (e != ENOENT && e != ENOTDIR)
			pm_warn(w, "cannot watch %s: %s; skipped", path.s, strerror(e));
		pm_buf_free(&path);
		return -ENOENT;
	}
	pm_buf_free(&path);
	n->wd = wd; /* dev and ino: set by pm_poll_wanted() */
	if (pm_wd_insert(w, n) < 0) {
		n->wd = -1;
		close(fd);
		return pm_err(err, -ENOMEM, "out of memory");
	}
	return fd;
}

struct queue {
	struct pm_node **items;
	size_t head, len, cap;
};

static int push(struct queue *q, struct pm_node *n)
{
	if (q->head + q->len == q->cap) {
		if (q->head) {
			memmove(q->items, q->items + q->head, q->len * sizeof *q->items);
			q->head = 0;
		} else {
			size_t cap = q->cap ? q->cap * 2 : 64;
			struct pm_node **p = realloc(q->items, cap * sizeof *p);
			if (!p)
				return -ENOMEM;
			q->items = p;
			q->cap = cap;
		}
	}
	q->items[q->head + q->len++] = n;
	return 0;
}

/* The queue holds nodes that are linked in the tree but not yet watched;
 * a node dropped meanwhile (it cannot be: nothing else runs during a scan)
 * would be a bug. Nodes that fail to watch are dropped here. */
static int scan_queue(pymon_watcher *w, struct queue *q, bool report, pymon_error *err)
{
	struct listing l = {0};
	int ret = 0;
	while (q->len) {
		struct pm_node *n = q->items[q->head++];
		q->len--;
		int fd = watch_node(w, n, err);
		if (fd < 0) {
			if (fd != -ENOENT) {
				ret = fd;
				/* Leave the rest unwatched but consistent. */
				pm_node_drop(w, n, -1);
				while (q->len) {
					pm_node_drop(w, q->items[q->head++], -1);
					q->len--;
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
			pm_warn(w, "cannot read a directory: %s; its entries are not watched", strerror(-r));
			close(fd);
			continue;
		}
		if (vcs_on(n->root) && listing_has_ignore_file(&l))
			pm_rules_load(w, n, fd);
		for (size_t off = 0; off < l.len;) {
			unsigned char type = (unsigned char)l.buf[off];
			const char *name = l.buf + off + 1;
			off += strlen(name) + 2;
			bool dir = entry_is_dir(fd, type, name);
			if (report)
				pm_observer_event(n, name, PYMON_CREATE, dir, NULL);
			/* n is new and a listing names each entry once: no child
			 * can exist yet, so no lookup. */
			if (!dir || pm_ignored(n, name, true, NULL, 0))
				continue;
			struct pm_node *c = pm_node_new(n->root, n, name, strlen(name));
			if (!c || push(q, c) < 0) {
				if (c)
					pm_node_drop(w, c, -1);
				pm_warn(w, "out of memory while scanning; some directories are not watched");
				continue;
			}
		}
		close(fd);
	}
	free(l.buf);
	return ret;
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
	if (!n || push(&q, n) < 0) {
		if (n)
			pm_node_drop(w, n, -1);
		free(q.items);
		return pm_err(err, -ENOMEM, "out of memory");
	}
	int r = scan_queue(w, &q, report, err);
	free(q.items);
	return r;
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
	if (push(&q, top) < 0)
		return pm_err(err, -ENOMEM, "out of memory");
	while (q.len && ret == 0) {
		struct pm_node *n = q.items[q.head++];
		q.len--;
		if (n->root->file)
			continue;
		int fd = pm_node_open(n, NULL);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || st.st_ino != n->ino || st.st_dev != n->dev) {
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
		if (vcs_on(n->root) && (n->rules || listing_has_ignore_file(&l)))
			pm_rules_load(w, n, fd);
		/* Children that vanished or became ignored. */
		for (struct pm_node *c = n->child, *next; c; c = next) {
			next = c->next;
			bool found = false;
			for (size_t off = 0; off < l.len && !found;) {
				const char *name = l.buf + off + 1;
				off += strlen(name) + 2;
				found = strcmp(name, c->name) == 0;
			}
			if (!found || pm_ignored(n, c->name, true, NULL, 0)) {
				pm_observer_event(n, c->name, PYMON_DELETE, true, NULL);
				pm_node_drop(w, c, -1);
			}
		}
		/* Directories that appeared, or were replaced by another inode. */
		for (size_t off = 0; off < l.len && ret == 0;) {
			unsigned char type = (unsigned char)l.buf[off];
			const char *name = l.buf + off + 1;
			off += strlen(name) + 2;
			if (!entry_is_dir(fd, type, name) || pm_ignored(n, name, true, NULL, 0))
				continue;
			struct pm_node *c = pm_node_find_child(n, name);
			struct stat cst;
			if (c && fstatat(fd, name, &cst, AT_SYMLINK_NOFOLLOW) == 0 && cst.st_ino == c->ino &&
			    cst.st_dev == c->dev) {
				if (push(&q, c) < 0)
					ret = pm_err(err, -ENOMEM, "out of memory");
				continue;
			}
			pm_observer_event(n, name, PYMON_CREATE, true, NULL);
			ret = pm_scan(w, n->root, n, name, true, err);
		}
		close(fd);
	}
	free(l.buf);
	free(q.items);
	return ret;
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
				if (pm_resync(w, node, &err) < 0 && err.code == -ENOSPC && !w->limit_warned) {
					pm_warn(w, "%s", err.message);
					w->limit_warned = true;
				}
			}
		}
		free(wds);
	}
}
