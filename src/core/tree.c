/*
 * The watch tree: one node per watched directory (parent + name), and the
 * table from inotify watch descriptor to the nodes that use it.
 */
#include "core/tree.h"
#include "core/watcher.h"
#include "filter/ignore.h"
#include "base/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static struct pm_node *node_alloc(pymon_watcher *w)
{
	if (!w->free_nodes) {
		void **chunks = realloc(w->node_chunks, (w->nchunks + 1) * sizeof *chunks);
		if (!chunks)
			return NULL;
		w->node_chunks = chunks;
		struct pm_node *c = malloc(PM_NODES_PER_CHUNK * sizeof *c);
		if (!c)
			return NULL;
		chunks[w->nchunks++] = c;
		for (size_t i = PM_NODES_PER_CHUNK; i-- > 0;) {
			c[i].next = w->free_nodes;
			w->free_nodes = &c[i];
		}
	}
	struct pm_node *n = w->free_nodes;
	w->free_nodes = n->next;
	memset(n, 0, sizeof *n);
	return n;
}

static void node_release(pymon_watcher *w, struct pm_node *n)
{
	n->next = w->free_nodes;
	w->free_nodes = n;
}

/* Points n->name at a copy of name: in the node when it fits. */
static int set_name(struct pm_node *n, const char *name, size_t len)
{
	char *to = len < sizeof n->short_name ? n->short_name : malloc(len + 1);
	if (!to)
		return -ENOMEM;
	memmove(to, name, len);
	to[len] = '\0';
	if (n->name && n->name != n->short_name && n->name != to)
		free(n->name);
	n->name = to;
	return 0;
}

struct pm_node *pm_node_new(struct pm_root *root, struct pm_node *parent, const char *name, size_t len)
{
	pymon_watcher *w = root->obs->w;
	struct pm_node *n = node_alloc(w);
	if (!n)
		return NULL;
	if (set_name(n, name, len) < 0) {
		node_release(w, n);
		return NULL;
	}
	n->root = root;
	n->wd = -1;
	if (parent)
		pm_node_link(parent, n);
	return n;
}

static struct pm_node_more *more_of(struct pm_node *n)
{
	if (!n->more)
		n->more = calloc(1, sizeof *n->more);
	return n->more;
}

static void less(struct pm_node *n)
{
	if (n->more && !n->more->rules && !n->more->snap) {
		free(n->more);
		n->more = NULL;
	}
}

int pm_node_set_rules(struct pm_node *n, struct pm_dirrules *rules)
{
	struct pm_node_more *m = rules || n->more ? more_of(n) : NULL;
	if (m)
		m->rules = rules;
	less(n);
	return rules && !m ? -ENOMEM : 0;
}

int pm_node_set_snap(struct pm_node *n, struct pm_snap *snap)
{
	struct pm_node_more *m = snap || n->more ? more_of(n) : NULL;
	if (m)
		m->snap = snap;
	less(n);
	return snap && !m ? -ENOMEM : 0;
}

void pm_node_link(struct pm_node *parent, struct pm_node *n)
{
	n->parent = parent;
	n->next = parent->child;
	parent->child = n;
}

void pm_node_unlink(struct pm_node *n)
{
	if (!n->parent)
		return;
	/* O(1) for the first child (a subtree is dropped that way), else a
	 * walk of the siblings. */
	struct pm_node **pp = &n->parent->child;
	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp)
		*pp = n->next;
	n->parent = NULL;
	n->next = NULL;
}

struct pm_node *pm_node_find_child(struct pm_node *parent, const char *name)
{
	for (struct pm_node *c = parent->child; c; c = c->next)
		if (!c->moving && strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

struct pm_node *pm_node_find_moving(struct pm_node *parent, uint32_t id)
{
	for (struct pm_node *c = parent->child; c && id; c = c->next)
		if (c->moving == id)
			return c;
	return NULL;
}

struct pm_node *pm_node_find_displaced(struct pm_node *parent, const char *name)
{
	for (struct pm_node *c = parent->child; c; c = c->next)
		if (c->moving == PM_NODE_DISPLACED && strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void pm_tree_drop_unsettled(pymon_watcher *w, struct pm_node *top)
{
	/* Pre-order walk without recursion; a dropped node takes its subtree. */
	struct pm_node *cur = top->child;
	while (cur && cur != top) {
		if (cur->moving) {
			struct pm_node *next = cur->next, *up = cur->parent;
			pm_node_drop(w, cur, -1);
			cur = next;
			while (!cur && up != top) {
				cur = up->next;
				up = up->parent;
			}
			continue;
		}
		if (cur->child) {
			cur = cur->child;
			continue;
		}
		while (cur != top && !cur->next)
			cur = cur->parent;
		if (cur != top)
			cur = cur->next;
	}
}

int pm_node_rename(struct pm_node *n, struct pm_node *new_parent, const char *name)
{
	/* Into a buffer of its own first: name may be n's own short_name. */
	char *copy = pm_strdup(name);
	if (!copy)
		return -ENOMEM;
	int r = set_name(n, copy, strlen(copy));
	free(copy);
	if (r < 0)
		return r;
	pm_node_unlink(n);
	n->moving = 0;
	pm_node_link(new_parent, n);
	return 0;
}

int pm_node_relpath(const struct pm_node *n, struct pm_buf *b)
{
	size_t total = 0;
	b->len = 0;
	for (const struct pm_node *p = n; p->parent; p = p->parent)
		total += strlen(p->name) + 1;
	if (pm_buf_put(b, "", 0) < 0)
		return -ENOMEM;
	if (!total)
		return 0;
	total--; /* no leading '/' */
	if (b->cap < total + 1) {
		char *s = realloc(b->s, total + 1);
		if (!s)
			return -ENOMEM;
		b->s = s;
		b->cap = total + 1;
	}
	size_t end = total;
	b->s[end] = '\0';
	for (const struct pm_node *p = n; p->parent; p = p->parent) {
		size_t l = strlen(p->name);
		end -= l;
		memcpy(b->s + end, p->name, l);
		if (end) {
			end--;
			b->s[end] = '/';
		}
	}
	b->len = total;
	return 0;
}

/* prefix + '/' + relpath(n) + '/' + child, skipping empty parts. */
static int build(const char *prefix, const struct pm_node *n, const char *child, struct pm_buf *b)
{
	struct pm_buf rel = {0};
	int r = pm_node_relpath(n, &rel);
	b->len = 0;
	if (r == 0)
		r = pm_buf_put(b, prefix, strlen(prefix));
	if (r == 0 && rel.len) {
		if (b->len && b->s[b->len - 1] != '/')
			r = pm_buf_put(b, "/", 1);
		if (r == 0)
			r = pm_buf_put(b, rel.s, rel.len);
	}
	if (r == 0 && child && *child) {
		if (b->len && b->s[b->len - 1] != '/')
			r = pm_buf_put(b, "/", 1);
		if (r == 0)
			r = pm_buf_put(b, child, strlen(child));
	}
	pm_buf_free(&rel);
	return r;
}

int pm_node_realpath(const struct pm_node *n, const char *child, struct pm_buf *b)
{
	return build(n->root->real, n, child, b);
}

int pm_node_display(const struct pm_node *n, const char *child, struct pm_buf *b)
{
	const struct pm_root *r = n->root;
	if (r->file && child && strcmp(child, r->file) == 0 && !n->parent) {
		b->len = 0;
		return pm_buf_put(b, r->display, strlen(r->display));
	}
	return build(r->display, n, child, b);
}

/*
 * Opens the node's directory. Paths longer than the kernel takes
 * (ENAMETOOLONG) are opened a component at a time from the nearest
 * ancestor that can be opened, never following symlinks.
 */
int pm_node_open(const struct pm_node *n, const char *known)
{
	struct pm_buf path = {0};
	int fd = -1, e = ENOMEM;
	if (known || pm_node_realpath(n, NULL, &path) == 0) {
		fd = pm_sys.openat(AT_FDCWD, known ? known : path.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		e = errno;
	}
	pm_buf_free(&path);
	if (fd >= 0 || e != ENAMETOOLONG || !n->parent) {
		errno = e;
		return fd;
	}
	int up = pm_node_open(n->parent, NULL);
	if (up < 0)
		return -1;
	fd = pm_sys.openat(up, n->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	e = errno;
	close(up);
	errno = e;
	return fd;
}

/* ---- wd table ------------------------------------------------------- */

/* The wd itself: inotify gives wds out in sequence (cyclically), so they
 * spread evenly, and a scan's inserts land in neighbouring buckets. */
static size_t bucket_of(const pymon_watcher *w, int wd)
{
	return (uint32_t)wd & (w->nbuckets - 1);
}

static int grow(pymon_watcher *w)
{
	size_t nb = w->nbuckets ? w->nbuckets * 2 : 64;
	struct pm_node **b = calloc(nb, sizeof *b);
	if (!b)
		return -ENOMEM;
	struct pm_node **old = w->buckets;
	size_t oldn = w->nbuckets;
	w->buckets = b;
	w->nbuckets = nb;
	for (size_t i = 0; i < oldn; i++) {
		struct pm_node *n = old[i];
		while (n) {
			struct pm_node *next = n->hash_next;
			size_t k = bucket_of(w, n->wd);
			n->hash_next = b[k];
			b[k] = n;
			n = next;
		}
	}
	free(old);
	return 0;
}

struct pm_node *pm_wd_first(pymon_watcher *w, int wd)
{
	if (!w->nbuckets)
		return NULL;
	for (struct pm_node *n = w->buckets[bucket_of(w, wd)]; n; n = n->hash_next)
		if (n->wd == wd)
			return n;
	return NULL;
}

struct pm_node *pm_wd_next(struct pm_node *n, int wd)
{
	for (n = n->hash_next; n; n = n->hash_next)
		if (n->wd == wd)
			return n;
	return NULL;
}

static void wd_remove(pymon_watcher *w, struct pm_node *n)
{
	if (n->wd < 0 || !w->nbuckets)
		return;
	struct pm_node **pp = &w->buckets[bucket_of(w, n->wd)];
	for (; *pp; pp = &(*pp)->hash_next) {
		if (*pp == n) {
			*pp = n->hash_next;
			n->hash_next = NULL;
			w->nnodes--;
			if (!pm_wd_first(w, n->wd))
				w->nwatches--;
			return;
		}
	}
}

/*
 * The kernel hands out the same wd for an inode that is already watched, so
 * several nodes (of different observers) may share it. A wd whose nodes
 * name another inode is stale: its IN_IGNORED was not seen yet and the
 * number was reused; those nodes are dropped so nothing maps to them.
 */
int pm_wd_insert(pymon_watcher *w, struct pm_node *n)
{
	for (;;) {
		struct pm_node *old = pm_wd_first(w, n->wd);
		while (old && old->dev == n->dev && old->ino == n->ino)
			old = pm_wd_next(old, n->wd);
		if (!old)
			break;
		pm_node_drop(w, old, n->wd);
	}
	if (w->nnodes + 1 > 2 * w->nbuckets && grow(w) < 0) /* two nodes a bucket: wds are dense */
		return -ENOMEM;
	if (!pm_wd_first(w, n->wd))
		w->nwatches++;
	size_t k = bucket_of(w, n->wd);
	n->hash_next = w->buckets[k];
	w->buckets[k] = n;
	w->nnodes++;
	return 0;
}

static void free_one(pymon_watcher *w, struct pm_node *n, int gone_wd)
{
	if (n->wd >= 0) {
		int wd = n->wd;
		wd_remove(w, n);
		/* EINVAL (already gone) is expected and harmless. After the
		 * inotify descriptor is closed (exit) there is nothing to remove. */
		if (wd != gone_wd && w->ifd >= 0 && !pm_wd_first(w, wd))
			pm_sys.inotify_rm_watch(w->ifd, wd);
	}
	if (n->root && n->root->node == n)
		n->root->node = NULL;
	if (n->more) {
		pm_dirrules_free(n->more->rules);
		if (n->more->snap)
			w->npolled--;
		free(n->more->snap);
		free(n->more);
		n->more = NULL;
	}
	if (n->name != n->short_name)
		free(n->name);
	node_release(w, n);
}

void pm_node_drop(pymon_watcher *w, struct pm_node *n, int gone_wd)
{
	pm_node_unlink(n);
	struct pm_node *cur = n;
	for (;;) {
		while (cur->child)
			cur = cur->child;
		if (cur == n) {
			free_one(w, cur, gone_wd);
			return;
		}
		struct pm_node *up = cur->parent;
		pm_node_unlink(cur);
		free_one(w, cur, gone_wd);
		cur = up;
	}
}

void pm_tree_free(pymon_watcher *w)
{
	for (struct pymon_observer *o = w->observers; o; o = o->next)
		for (struct pm_root *r = o->roots; r; r = r->next)
			if (r->node)
				pm_node_drop(w, r->node, -1);
	free(w->buckets);
	w->buckets = NULL;
	w->nbuckets = 0;
	for (size_t i = 0; i < w->nchunks; i++)
		free(w->node_chunks[i]);
	free(w->node_chunks);
	w->node_chunks = NULL;
	w->nchunks = 0;
	w->free_nodes = NULL;
}
