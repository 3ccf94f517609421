/*
 * Reading and interpreting inotify events: the bounds-checked record
 * iterator, moves paired by cookie, new directories scanned after their
 * watch exists, the tree kept in step with deletions, and queue overflow
 * turned into a resync.
 */
#include "core/inotify.h"
#include "core/batch.h"
#include "core/scan.h"
#include "core/watcher.h"
#include "filter/rules.h"
#include "base/sys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/inotify.h>
#include <unistd.h>

int pm_event_next(const char *buf, size_t len, size_t *off, struct pm_raw_event *ev)
{
	struct inotify_event hdr;
	if (*off >= len)
		return 0;
	if (len - *off < sizeof hdr)
		return -EINVAL;
	memcpy(&hdr, buf + *off, sizeof hdr);
	size_t room = len - *off - sizeof hdr;
	if (hdr.len > room)
		return -EINVAL;
	ev->wd = hdr.wd;
	ev->mask = hdr.mask;
	ev->cookie = hdr.cookie;
	if (hdr.len) {
		ev->name = buf + *off + sizeof hdr;
		ev->namelen = strnlen(ev->name, hdr.len);
		/* The kernel pads names with NULs; a name filling its record
		 * without one is malformed, and so is an empty one. */
		if (ev->namelen == hdr.len || ev->namelen == 0)
			return -EINVAL;
	} else {
		ev->name = "";
		ev->namelen = 0;
	}
	*off += sizeof hdr + hdr.len;
	return 1;
}

/* Snapshot of the nodes sharing a wd: handlers may add nodes (which can
 * rehash the table) or drop them, so chains are never walked live. */
struct nodeset {
	struct pm_node *small[8];
	struct pm_node **v;
	size_t n, cap;
};

static void nodeset_collect(pymon_watcher *w, int wd, struct nodeset *s)
{
	s->v = s->small;
	s->cap = 8;
	s->n = 0;
	for (struct pm_node *n = pm_wd_first(w, wd); n; n = pm_wd_next(n, wd)) {
		if (s->n == s->cap) {
			size_t cap = s->cap * 2;
			struct pm_node **v = malloc(cap * sizeof *v);
			if (!v)
				break;
			memcpy(v, s->v, s->n * sizeof *v);
			if (s->v != s->small)
				free(s->v);
			s->v = v;
			s->cap = cap;
		}
		s->v[s->n++] = n;
	}
}

static void nodeset_free(struct nodeset *s)
{
	if (s->v != s->small)
		free(s->v);
}

/* Is node still alive (in the wd table under wd)? */
static bool alive(pymon_watcher *w, struct pm_node *node, int wd)
{
	for (struct pm_node *n = pm_wd_first(w, wd); n; n = pm_wd_next(n, wd))
		if (n == node)
			return true;
	return false;
}

static void scan_failed(pymon_watcher *w, pymon_error *err, size_t before)
{
	if (err->code == -ENOSPC)
		pm_budget_report(w, err, before);
	else
		pm_warn(w, "%s", err->message);
}

static bool vcs_on(const struct pm_node *n)
{
	return !(n->root->obs->flags & PYMON_NO_VCS_IGNORE);
}

/* An ignore file changed in dir: re-read it, then bring the watches of the
 * subtree in line with the new rules. */
static void ignore_file_changed(pymon_watcher *w, struct pm_node *dir)
{
	if (dir->root->file || !vcs_on(dir))
		return;
	pymon_error err = {0};
	size_t before = w->unwatched;
	pm_rules_load(w, dir, -1);
	if (pm_resync(w, dir, &err) < 0)
		scan_failed(w, &err, before);
}

static void new_directory(pymon_watcher *w, struct pm_node *dir, const char *name)
{
	if (dir->root->file || pm_ignored(dir, name, true, NULL, 0))
		return;
	pymon_error err = {0};
	size_t before = w->unwatched;
	if (pm_scan(w, dir->root, dir, name, true, &err) < 0)
		scan_failed(w, &err, before);
}

/*
 * One side of a move for one observer. S/from: where it left (NULL when
 * the source is not in this observer's tree); T/to: where it arrived
 * (NULL when it left the tree).
 */
static void move_one(pymon_watcher *w, struct pm_node *S, const char *from, uint32_t id,
                     struct pm_node *T, const char *to, int to_wd, bool is_dir)
{
	bool src_vis = S && pm_visible(S, from, is_dir);
	/* A directory that left while another one (or itself, moved back)
	 * took its name: the name was reported as created, and is no delete. */
	if (src_vis && !T && is_dir && !S->root->file && pm_node_find_child(S, from))
		src_vis = false;
	bool dst_vis = T && pm_visible(T, to, is_dir);
	struct pm_buf from_disp = {0};
	if (src_vis && dst_vis && pm_node_display(S, from, &from_disp) < 0)
		return;

	if (src_vis && dst_vis)
		pm_observer_event(T, to, PYMON_MOVE, is_dir, from_disp.s);
	else if (dst_vis)
		pm_observer_event(T, to, PYMON_CREATE, is_dir, NULL);
	else if (src_vis)
		pm_observer_event(S, from, PYMON_DELETE, is_dir, NULL);
	pm_buf_free(&from_disp);

	if (is_dir) {
		/* The node the MOVED_FROM took away, by identity: a directory
		 * that came back (or another one) under the old name meanwhile
		 * is a different node and stays. */
		struct pm_node *child = S && !S->root->file ? pm_node_find_moving(S, id) : NULL;
		bool watch_new = T && !T->root->file && !pm_ignored(T, to, true, NULL, 0);
		if (child && watch_new && child->root == T->root) {
			/* Renamed inside the tree: keep every watch below it. A
			 * directory under the new name is displaced: renamed over
			 * (its DELETE_SELF follows) or exchanged (its own MOVED_FROM
			 * follows, and must find it, not this one). */
			struct pm_node *old = pm_node_find_child(T, to);
			if (old && old != child)
				old->moving = PM_NODE_DISPLACED;
			if (pm_node_rename(child, T, to) < 0)
				pm_node_drop(w, child, -1);
		} else {
			if (child)
				pm_node_drop(w, child, -1);
			if (watch_new)
				new_directory(w, T, to);
		}
	}
	bool src_rules = S && pm_is_ignore_file(from);
	if (src_rules)
		ignore_file_changed(w, S);
	/* Re-reading S's rules may have dropped T (now ignored). */
	if (T && pm_is_ignore_file(to) && !(src_rules && T == S) && alive(w, T, to_wd))
		ignore_file_changed(w, T);
}

static struct pm_pending_move *find_move(pymon_watcher *w, uint32_t cookie)
{
	for (size_t i = 0; i < w->nmoves; i++)
		if (w->moves[i].cookie == cookie)
			return &w->moves[i];
	return NULL;
}

static void remember_move(pymon_watcher *w, const struct pm_raw_event *ev)
{
	if (!pm_wd_first(w, ev->wd))
		return; /* not a directory of the tree (a git directory's lock) */
	if (w->nmoves == w->capmoves) {
		size_t cap = w->capmoves ? w->capmoves * 2 : 8;
		struct pm_pending_move *m = realloc(w->moves, cap * sizeof *m);
		if (!m)
			return; /* it will look like a creation at the destination */
		w->moves = m;
		w->capmoves = cap;
	}
	char *name = pm_strndup(ev->name, ev->namelen);
	if (!name)
		return;
	uint32_t id = ++w->move_seq;
	if (id == 0 || id == PM_NODE_DISPLACED)
		id = w->move_seq = 1;
	w->moves[w->nmoves++] = (struct pm_pending_move){
		.cookie = ev->cookie, .id = id, .wd = ev->wd, .is_dir = !!(ev->mask & IN_ISDIR), .name = name};
	if (!(ev->mask & IN_ISDIR))
		return;
	/* Mark the directory that left, in every observer's tree: from now
	 * on it is found by this move, not by its name. A displaced node of
	 * that name (the second half of an exchange) is the one leaving. */
	for (struct pm_node *n = pm_wd_first(w, ev->wd); n; n = pm_wd_next(n, ev->wd)) {
		if (n->root->file)
			continue;
		struct pm_node *c = pm_node_find_displaced(n, name);
		if (!c)
			c = pm_node_find_child(n, name);
		if (c)
			c->moving = id;
	}
}

/* Pairs the sides of a move observer by observer. p may be NULL (the
 * source is not watched): then it is a creation for every observer. */
static void complete_move(pymon_watcher *w, struct pm_pending_move *p, int to_wd, const char *to, bool is_dir)
{
	struct nodeset src = {0}, dst = {0};
	if (p)
		nodeset_collect(w, p->wd, &src);
	else
		src.v = src.small;
	if (to)
		nodeset_collect(w, to_wd, &dst);
	else
		dst.v = dst.small;
	bool used[src.n ? src.n : 1];
	memset(used, 0, sizeof used);
	for (size_t i = 0; i < dst.n; i++) {
		struct pm_node *T = dst.v[i], *S = NULL;
		if (!alive(w, T, to_wd))
			continue;
		/* Prefer the same root, then the same observer. */
		for (int pass = 0; pass < 2 && !S; pass++)
			for (size_t j = 0; j < src.n && !S; j++)
				if (!used[j] && (pass ? src.v[j]->root->obs == T->root->obs : src.v[j]->root == T->root) &&
				    alive(w, src.v[j], p->wd)) {
					S = src.v[j];
					used[j] = true;
				}
		move_one(w, S, p ? p->name : NULL, p ? p->id : 0, T, to, to_wd, is_dir);
	}
	for (size_t j = 0; j < src.n; j++)
		if (!used[j] && alive(w, src.v[j], p->wd))
			move_one(w, src.v[j], p->name, p->id, NULL, NULL, -1, is_dir);
	nodeset_free(&src);
	nodeset_free(&dst);
}

static void drop_move(pymon_watcher *w, struct pm_pending_move *p)
{
	free(p->name);
	*p = w->moves[--w->nmoves];
	if (!w->nmoves)
		w->moves_deadline_ns = 0;
}

/* MOVED_FROMs whose MOVED_TO never came: moved out of every watched tree. */
void pm_moves_flush(pymon_watcher *w)
{
	w->moves_deadline_ns = 0;
	while (w->nmoves) {
		struct pm_pending_move *p = &w->moves[w->nmoves - 1];
		complete_move(w, p, -1, NULL, p->is_dir);
		drop_move(w, p);
	}
}

/* ---- roots that come back ------------------------------------------- */

static void forget_wait_watch(pymon_watcher *w, int wd)
{
	if (wd < 0 || pm_wd_first(w, wd))
		return; /* a tree node uses it too */
	for (size_t i = 0; i < w->nwaits; i++)
		if (w->waits[i].wd == wd)
			return;
	pm_sys.inotify_rm_watch(w->ifd, wd);
}

/* Watches the nearest existing ancestor of the root's directory (the same
 * fixed mask as every watch: a wd shared with a tree node keeps working).
 * The directory below it may have been created before the watch existed
 * (no event will say so): it is looked at again after the watch, and the
 * wait moves down while it is there. True when the root itself is there. */
static bool wait_for_root(pymon_watcher *w, struct pm_root_wait *rw)
{
	const char *real = rw->root->real;
	for (int depth = 0; depth < 4096; depth++) {
		int old = rw->wd;
		rw->wd = -1;
		size_t len = strlen(real);
		while (w->ifd >= 0) {
			const char *slash = memrchr(real, '/', len);
			if (!slash)
				break;
			len = slash == real ? 1 : (size_t)(slash - real);
			char *dir = pm_strndup(real, len);
			if (!dir)
				break;
			int wd = pm_sys.inotify_add_watch(w->ifd, dir, PM_WATCH_MASK);
			int e = errno;
			free(dir);
			if (wd >= 0) {
				rw->wd = wd;
				break;
			}
			if ((e != ENOENT && e != ENOTDIR) || len == 1)
				break;
		}
		if (old >= 0 && old != rw->wd)
			forget_wait_watch(w, old);
		if (rw->wd < 0)
			return false;
		/* The component below the watched ancestor: there already? */
		const char *end = strchr(real + len + 1, '/');
		char *below = pm_strndup(real, end ? (size_t)(end - real) : strlen(real));
		struct stat st;
		bool there = below && stat(below, &st) == 0 && S_ISDIR(st.st_mode);
		free(below);
		if (!there)
			return false;
		if (!end)
			return true;
	}
	return false;
}

/* The root is there again: watch and read it (its files are reported). */
static void root_back(pymon_watcher *w, size_t i)
{
	struct pm_root *root = w->waits[i].root;
	int old = w->waits[i].wd;
	w->waits[i] = w->waits[--w->nwaits];
	forget_wait_watch(w, old);
	pymon_error err = {0};
	const char *name = root->display[0] ? root->display : ".";
	size_t before = w->unwatched;
	if (pm_scan(w, root, NULL, NULL, true, &err) < 0)
		scan_failed(w, &err, before);
	else
		pm_warn(w, "%s is back; watching it again", name);
}

static void root_gone(pymon_watcher *w, struct pm_root *root)
{
	struct pm_root_wait *v = realloc(w->waits, (w->nwaits + 1) * sizeof *v);
	if (!v)
		return;
	w->waits = v;
	v[w->nwaits] = (struct pm_root_wait){.root = root, .wd = -1};
	w->nwaits++;
	if (wait_for_root(w, &v[w->nwaits - 1]))
		root_back(w, w->nwaits - 1);
}

/* Something appeared in (or happened to) a watched ancestor of a deleted
 * root: is the root back, or a step closer? */
static void root_waits_event(pymon_watcher *w, const struct pm_raw_event *ev)
{
	for (size_t i = 0; i < w->nwaits;) {
		struct pm_root_wait *rw = &w->waits[i];
		if (rw->wd != ev->wd || !(ev->mask & (IN_CREATE | IN_MOVED_TO | IN_IGNORED | IN_DELETE_SELF))) {
			i++;
			continue;
		}
		struct stat st;
		if ((stat(rw->root->real, &st) == 0 && S_ISDIR(st.st_mode)) || wait_for_root(w, rw)) {
			root_back(w, i);
			continue;
		}
		i++;
	}
}

void pm_root_waits_free(pymon_watcher *w)
{
	free(w->waits);
	w->waits = NULL;
	w->nwaits = 0;
}

static void self_event(pymon_watcher *w, const struct pm_raw_event *ev)
{
	struct nodeset s;
	nodeset_collect(w, ev->wd, &s);
	for (size_t i = 0; i < s.n; i++) {
		struct pm_node *n = s.v[i];
		if (!alive(w, n, ev->wd))
			continue;
		bool is_root = !n->parent;
		if (ev->mask & IN_IGNORED) {
			struct pm_root *root = n->root;
			if (is_root)
				pm_warn(w, "%s is no longer watched (removed or unmounted); watching for it to come back",
				        root->display[0] ? root->display : ".");
			pm_node_drop(w, n, ev->wd);
			if (is_root)
				root_gone(w, root);
		} else if ((ev->mask & IN_UNMOUNT) && !is_root && n->parent->dev != n->dev) {
			/* A file system mounted inside the tree went away: the
			 * directory it covered is there again, with its own
			 * entries. Watch and read it as a new directory. */
			struct pm_node *up = n->parent;
			char *name = pm_strdup(n->name);
			pm_node_drop(w, n, -1);
			if (name) {
				struct pm_buf path = {0};
				pm_node_display(up, name, &path);
				pm_warn(w, "%s was unmounted; watching the directory underneath", path.s ? path.s : name);
				pm_buf_free(&path);
				new_directory(w, up, name);
				free(name);
			}
		} else if (ev->mask & (IN_DELETE_SELF | IN_UNMOUNT)) {
			struct pm_root *root = n->root;
			if (is_root)
				pm_warn(w, "%s was %s; watching for it to come back", root->display[0] ? root->display : ".",
				        ev->mask & IN_UNMOUNT ? "unmounted" : "deleted");
			if (is_root && !n->root->file) {
				struct pymon_observer *o = n->root->obs;
				if (o->kinds & PYMON_DELETE) {
					pm_observer_push(n->root, PYMON_DELETE, n->root->display[0] ? n->root->display : ".",
					                 NULL, 1);
				}
			}
			pm_node_drop(w, n, -1);
			if (is_root)
				root_gone(w, root);
		} else if ((ev->mask & IN_MOVE_SELF) && is_root && !n->root->file) {
			pm_warn(w, "%s was moved away; events below it keep the old path",
			        n->root->display[0] ? n->root->display : ".");
		}
	}
	nodeset_free(&s);
}

void pm_handle_event(pymon_watcher *w, const struct pm_raw_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		pm_overflow(w);
		return;
	}
	pm_git_lock_event(w, ev->wd, ev->mask, ev->name);
	if (w->nwaits)
		root_waits_event(w, ev);
	if (!ev->namelen) {
		self_event(w, ev);
		return;
	}
	bool is_dir = ev->mask & IN_ISDIR;
	if (ev->mask & IN_MOVED_FROM) {
		remember_move(w, ev);
		return;
	}
	if (ev->mask & IN_MOVED_TO) {
		struct pm_pending_move *p = find_move(w, ev->cookie);
		complete_move(w, p, ev->wd, ev->name, is_dir);
		if (p)
			drop_move(w, p);
		return;
	}
	struct nodeset s;
	nodeset_collect(w, ev->wd, &s);
	for (size_t i = 0; i < s.n; i++) {
		struct pm_node *n = s.v[i];
		if (!alive(w, n, ev->wd))
			continue;
		const char *name = ev->name;
		if (ev->mask & IN_CREATE) {
			pm_observer_event(n, name, PYMON_CREATE, is_dir, NULL);
			if (is_dir)
				new_directory(w, n, name);
			else if (pm_is_ignore_file(name))
				ignore_file_changed(w, n);
		} else if (ev->mask & IN_DELETE) {
			pm_observer_event(n, name, PYMON_DELETE, is_dir, NULL);
			if (is_dir) {
				struct pm_node *c = n->root->file ? NULL : pm_node_find_child(n, name);
				if (c)
					pm_node_drop(w, c, -1);
			} else if (pm_is_ignore_file(name)) {
				ignore_file_changed(w, n);
			}
		} else if (ev->mask & (IN_MODIFY | IN_ATTRIB)) {
			/* IN_CLOSE_WRITE alone is no change: every SQLite read
			 * opens the database for writing and writes nothing. */
			pm_observer_event(n, name, PYMON_MODIFY, is_dir, NULL);
			/* A directory that could not be read (EACCES) when it was
			 * scanned: its permissions changed, try it again. */
			if (is_dir && (ev->mask & IN_ATTRIB) && !n->root->file && !pm_node_find_child(n, name))
				new_directory(w, n, name);
		} else if ((ev->mask & IN_CLOSE_WRITE) && pm_is_ignore_file(name)) {
			ignore_file_changed(w, n);
		}
	}
	nodeset_free(&s);
}

/*
 * The kernel dropped events. Nothing that was lost can be recovered from
 * the queue, so compare the tree with the disk: watch directories that
 * appeared, forget those that went, and give every observer a RESCAN event
 * so its action runs. File-level changes inside known directories cannot be
 * listed; RESCAN says so.
 */
void pm_overflow(pymon_watcher *w)
{
	pm_warn(w, "the kernel event queue overflowed (fs.inotify.max_queued_events); rescanning");
	for (size_t i = 0; i < w->nmoves; i++)
		free(w->moves[i].name);
	w->nmoves = 0;
	w->moves_deadline_ns = 0;
	for (struct pymon_observer *o = w->observers; o; o = o->next) {
		for (struct pm_root *r = o->roots; r; r = r->next) {
			if (!r->node)
				continue;
			/* Nodes waiting for a move that is forgotten now: the
			 * resync finds them again where they are. */
			pm_tree_drop_unsettled(w, r->node);
			pymon_error err = {0};
			size_t before = w->unwatched;
			if (!r->file && pm_resync(w, r->node, &err) < 0)
				scan_failed(w, &err, before);
			const char *path = r->display[0] ? r->display : ".";
			pm_observer_push(r, PYMON_RESCAN, path, NULL, !r->file);
		}
	}
}

void pm_inotify_ready(pymon_watcher *w, struct pm_source *src, uint32_t events)
{
	(void)src;
	(void)events;
	/* Bounded per wake-up so timers and signals still get their turn in
	 * a flood; epoll reports the descriptor again. */
	bool drained = false;
	for (int reads = 0; reads < 64 && !drained; reads++) {
		ssize_t n = pm_sys.read(w->ifd, w->evbuf, w->evbuf_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				pm_warn(w, "reading inotify events: %s", strerror(errno));
			drained = true;
			break;
		}
		size_t off = 0;
		struct pm_raw_event ev;
		int r;
		while ((r = pm_event_next(w->evbuf, (size_t)n, &off, &ev)) > 0)
			pm_handle_event(w, &ev);
		if (r < 0)
			pm_overflow(w); /* a record we cannot trust: resync */
	}
	/* The kernel queues MOVED_FROM and MOVED_TO in two steps, so a read
	 * can end between them. What is still unpaired gets a short grace
	 * period on the loop's timer before it counts as moved out. */
	/* Only once the queue ran dry have the renames that made a scan
	 * fail been handled, so the directories' paths are current. */
	if (drained && !w->nmoves)
		pm_run_deferred_resyncs(w);
	if (w->nmoves && !w->moves_deadline_ns)
		w->moves_deadline_ns = pm_now_ns() + PM_MOVE_GRACE_MS * 1000000u;
}
