/*
 * The watch tree: one node per watched directory (parent + name, paths
 * built on demand), the roots of each observer, and the table from inotify
 * watch descriptors to nodes.
 */
#ifndef PM_CORE_TREE_H
#define PM_CORE_TREE_H

#include "pymon.h"
#include "base/util.h"
#include "filter/ignore.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pm_root;
struct pm_snap;
struct pm_dirrules;

/* What few directories have, out of the node: 8 bytes per node instead of
 * 16 for the many that have neither. */
struct pm_node_more {
	struct pm_dirrules *rules; /* its .gitignore / .ignore sets */
	struct pm_snap *snap;      /* polled: the last round's entries */
};

/*
 * One watched directory. A node knows only its parent and its own name, so
 * a directory renamed inside the tree is one pointer and one name update;
 * full paths are built on demand by walking up. Nodes of all observers that
 * share an inotify watch descriptor are chained through hash_next.
 */
struct pm_node {
	struct pm_node *parent;                   /* NULL for a root's node */
	struct pm_node *child, *next;             /* children, siblings (singly linked: a
	                                             subtree is dropped first child first) */
	struct pm_node *hash_next;                /* bucket chain of the wd table */
	struct pm_root *root;
	struct pm_node_more *more;                /* NULL without rules and unpolled */
	char *name;                               /* component name; "" for a root's node:
	                                             short_name, or malloc'd when longer */
	ino_t ino;
	uint32_t dev;                             /* st_dev: the kernel's dev_t is 32 bits */
	int wd;                                   /* -1 until watched */
	/* 0: settled, found by name. Otherwise the node is on its way out of
	 * its name and lookups by name pass it over: the id of the pending
	 * move whose MOVED_FROM named it (it is found by that id when the move
	 * completes), or PM_NODE_DISPLACED when another directory was renamed
	 * onto its name (its DELETE_SELF follows, or, for an exchange, its own
	 * MOVED_FROM). Moves are paired by node, never by name after the fact. */
	uint32_t moving;
	char short_name[12];                      /* most names fit: no allocation of their own */
};                                            /* 88 bytes on 64-bit */

static inline struct pm_dirrules *pm_node_rules(const struct pm_node *n)
{
	return n->more ? n->more->rules : NULL;
}

/* Non-NULL when the directory is polled. */
static inline struct pm_snap *pm_node_snap(const struct pm_node *n)
{
	return n->more ? n->more->snap : NULL;
}

/* Set (or with NULL clear) one of them; the caller frees what it
 * replaces. -ENOMEM only when the node had neither. */
int pm_node_set_rules(struct pm_node *n, struct pm_dirrules *rules);
int pm_node_set_snap(struct pm_node *n, struct pm_snap *snap);

/* Nodes come from per-watcher chunks (no malloc header per directory) and
 * go back to a free list; the chunks are freed with the watcher. */
#define PM_NODES_PER_CHUNK 512

/* A root of an observer: a directory watched recursively, or a file whose
 * parent directory is watched without recursion and filtered by name. */
struct pm_root {
	struct pymon_observer *obs;
	struct pm_root *next;
	char *display;   /* as the user gave it, normalised: "" for ".", no trailing '/' */
	char *real;      /* resolved absolute path of the watched directory */
	char *file;      /* file roots: the file's name inside `real`; NULL for directories */
	struct pm_node *node;
	/* git: the directory holding index.lock, and the ignore sets that
	 * apply from above the root (info/exclude, .gitignore of ancestors),
	 * each with the prefix that turns a root-relative path into one
	 * relative to that set's directory. */
	char *gitdir;
	int git_wd;       /* watch on gitdir while a batch waits for its lock, else -1 */
	bool git_stale;   /* the lock outlived the wait: batches run until it goes */
	struct pm_ruleset **above;
	char **above_prefix;
	size_t nabove;
};

struct pm_node *pm_node_new(struct pm_root *root, struct pm_node *parent, const char *name, size_t len);
void pm_node_link(struct pm_node *parent, struct pm_node *n);
void pm_node_unlink(struct pm_node *n);
#define PM_NODE_DISPLACED UINT32_MAX

/* The settled child named `name`, or NULL. */
struct pm_node *pm_node_find_child(struct pm_node *parent, const char *name);
/* The child a pending move (id) took away, or NULL. */
struct pm_node *pm_node_find_moving(struct pm_node *parent, uint32_t id);
/* The child under `name` that another directory displaced, or NULL. */
struct pm_node *pm_node_find_displaced(struct pm_node *parent, const char *name);
/* Drops every node below top that is not settled (after an overflow, when
 * the moves they wait for are forgotten); a resync finds them again. */
void pm_tree_drop_unsettled(pymon_watcher *w, struct pm_node *top);
int pm_node_rename(struct pm_node *n, struct pm_node *new_parent, const char *name);
/* Root-relative path of the node ("" for the root) into b; 0 or -ENOMEM. */
int pm_node_relpath(const struct pm_node *n, struct pm_buf *b);
/* Real (absolute) path of the node, optionally with a child name appended. */
int pm_node_realpath(const struct pm_node *n, const char *child, struct pm_buf *b);
/* Display path of node/child as events report it. */
int pm_node_display(const struct pm_node *n, const char *child, struct pm_buf *b);
/* The node's directory opened (O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC), also
 * when its path is longer than PATH_MAX; -1 with errno set. `path` is its
 * real path when the caller has built it already, else NULL. */
int pm_node_open(const struct pm_node *n, const char *path);
int pm_wd_insert(pymon_watcher *w, struct pm_node *n);
struct pm_node *pm_wd_first(pymon_watcher *w, int wd);
struct pm_node *pm_wd_next(struct pm_node *n, int wd);
/* Removes the subtree below and including n from the tree and the wd table,
 * removing the kernel watch of every wd no node uses any more (except
 * `gone_wd`, a watch the kernel already dropped: pass -1 if none). */
void pm_node_drop(pymon_watcher *w, struct pm_node *n, int gone_wd);
void pm_tree_free(pymon_watcher *w);

#endif
