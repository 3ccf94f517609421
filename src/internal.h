/*
 * Internal structures of libpymon, shared by its modules. Nothing here is
 * part of the public API.
 */
#ifndef PM_INTERNAL_H
#define PM_INTERNAL_H

#include "pymon.h"
#include "ignore.h"

#include <stdarg.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#define PM_API __attribute__((visibility("default")))

struct pm_node;
struct pm_root;

/* One descriptor in the epoll set; epoll's data.ptr points here. */
struct pm_source {
	int fd;
	void (*ready)(pymon_watcher *w, struct pm_source *src, uint32_t events);
	void *data;
};

/* The ignore files of one directory (either may be NULL). */
struct pm_dirrules {
	struct pm_ruleset *gitignore;
	struct pm_ruleset *ignore;
};

/*
 * One watched directory. A node knows only its parent and its own name, so
 * a directory renamed inside the tree is one pointer and one name update;
 * full paths are built on demand by walking up. Nodes of all observers that
 * share an inotify watch descriptor are chained through wd_next.
 */
struct pm_node {
	struct pm_node *parent;                   /* NULL for a root's node */
	struct pm_node *child, *prev, *next;      /* children, doubly linked siblings */
	struct pm_node *hash_next;                /* bucket chain of the wd table */
	struct pm_root *root;
	struct pm_dirrules *rules;                /* NULL when the directory has none */
	dev_t dev;
	ino_t ino;
	int wd;                                   /* -1 until watched */
	char *name;                               /* component name; "" for a root's node */
};

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
	struct pm_ruleset **above;
	char **above_prefix;
	size_t nabove;
};

struct pm_batch_entry {
	unsigned kind;
	int is_dir;
	char *path;
	char *from;
	uint32_t hash;
};

struct pm_batch {
	struct pm_batch_entry *entries;
	size_t count, cap;
	uint32_t *slots; /* open addressing: index+1 into entries, 0 = empty */
	size_t nslots;
	size_t dropped;
	size_t limit;
};

struct pm_run;
struct pm_each;

struct pymon_observer {
	pymon_watcher *w;
	struct pm_run *run;   /* the supervised command, when the action is one */
	struct pm_each *each; /* the per-file command, when the action is one */
	struct pymon_observer *next;
	struct pm_root *roots;
	struct pm_ruleset defaults;
	struct pm_ruleset user;
	char **exts;
	size_t nexts;
	unsigned kinds;
	unsigned delay_ms;
	unsigned flags;
	pymon_batch_fn fn;
	void *userdata;
	pymon_run_fn status_fn; /* for a command action, whenever it is set */
	void *status_ud;
	struct pm_batch batch;
	uint64_t deadline_ns; /* monotonic; 0 when nothing is pending */
};

/* A MOVED_FROM waiting for its MOVED_TO. */
struct pm_pending_move {
	uint32_t cookie;
	int wd;
	int is_dir;
	char *name;
};

struct pymon_watcher {
	int epfd;
	int ifd;    /* inotify */
	int tfd;    /* timerfd for debounce deadlines */
	struct pm_source inotify_src, timer_src;
	struct pymon_observer *observers;
	/* wd -> nodes */
	struct pm_node **buckets;
	size_t nbuckets, nnodes, nwatches;
	struct pm_pending_move *moves;
	size_t nmoves, capmoves;
	uint64_t moves_deadline_ns; /* unpaired MOVED_FROMs count as moved out then */
	int *resync;                /* wds of directories to read again (scan races) */
	size_t nresync, capresync;
	char *evbuf;
	size_t evbuf_len;
	pymon_warn_fn warn;
	void *warn_data;
	bool started, stopped, limit_warned;
	int status;
	uint64_t armed_ns;
	/* Supervision: SIGCHLD (and with pymon_watcher_handle_signals INT,
	 * TERM, HUP, USR1) read through one signalfd. */
	int sfd;
	struct pm_source sig_src;
	sigset_t sigs, old_mask;
	bool supervising;
	int exit_signal; /* shutting down because of this signal */
	struct pm_fdwatch *fdwatches, *dead_fdwatches;
};

/* A descriptor added with pymon_watcher_add_fd(). */
struct pm_fdwatch {
	struct pm_source src;
	pymon_fd_fn fn;
	void *userdata;
	struct pm_fdwatch *next;
};

/* util.c */
int pm_err(pymon_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void pm_warn(pymon_watcher *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *pm_strdup(const char *s);
char *pm_strndup(const char *s, size_t n);
uint64_t pm_now_ns(void);
int pm_limit_error(pymon_error *err, int code, const char *what);
char *pm_path_join(const char *a, const char *b);

/* A growable string, for building paths. */
struct pm_buf {
	char *s;
	size_t len, cap;
};
int pm_buf_put(struct pm_buf *b, const char *s, size_t n);
void pm_buf_free(struct pm_buf *b);

/* tree.c */
struct pm_node *pm_node_new(struct pm_root *root, struct pm_node *parent, const char *name, size_t len);
void pm_node_link(struct pm_node *parent, struct pm_node *n);
void pm_node_unlink(struct pm_node *n);
struct pm_node *pm_node_find_child(struct pm_node *parent, const char *name);
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

/* scan.c */
#define PM_WATCH_MASK                                                                        \
	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM |         \
	 IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
/* Watches dir `name` below `parent` (or the root's own directory when
 * parent is NULL) and everything below it that is not ignored, breadth
 * first, each watch added before its directory is read. With `report`,
 * every entry found becomes a CREATE event. 0, or a negative errno for a
 * fatal error (watch limit) with err filled. */
int pm_scan(pymon_watcher *w, struct pm_root *root, struct pm_node *parent, const char *name,
            bool report, pymon_error *err);
/* Brings the tree below n in line with the disk after an overflow or an
 * ignore-file change: watches new directories, drops vanished or now-ignored ones. */
int pm_resync(pymon_watcher *w, struct pm_node *n, pymon_error *err);
void pm_defer_resync(pymon_watcher *w, int wd);
void pm_run_deferred_resyncs(pymon_watcher *w);

/* rules.c */
bool pm_ignored(struct pm_node *dir, const char *name, bool is_dir, char *why, size_t whylen);
bool pm_ext_ok(const struct pymon_observer *o, const char *name);
/* (Re)reads .gitignore and .ignore of the node's directory; dirfd < 0 opens it. */
void pm_rules_load(pymon_watcher *w, struct pm_node *n, int dirfd);
void pm_dirrules_free(struct pm_dirrules *r);
int pm_root_git_setup(pymon_watcher *w, struct pm_root *root);
void pm_root_git_free(struct pm_root *root);
bool pm_git_locked(const struct pm_root *root);
bool pm_is_ignore_file(const char *name);

/* batch.c */
int pm_batch_add(struct pm_batch *b, unsigned kind, const char *path, const char *from, int is_dir);
void pm_batch_clear(struct pm_batch *b);
void pm_batch_free(struct pm_batch *b);
/* Adds an event of observer o for `name` in directory node `dir` (or the
 * directory itself when name is NULL), applying kind, ext and ignore filters. */
bool pm_visible(struct pm_node *dir, const char *name, bool is_dir);
void pm_observer_event(struct pm_node *dir, const char *name, unsigned kind, bool is_dir,
                       const char *from_display);

/* inotify.c */
#define PM_MOVE_GRACE_MS 10
struct pm_raw_event {
	int wd;
	uint32_t mask;
	uint32_t cookie;
	const char *name; /* NUL-terminated, "" when the event has no name */
	size_t namelen;
};
/* Iterates over a buffer read from inotify. Returns 1 with *ev filled, 0 at
 * the end, -EINVAL for a truncated or malformed record (iteration stops). */
int pm_event_next(const char *buf, size_t len, size_t *off, struct pm_raw_event *ev);
void pm_inotify_ready(pymon_watcher *w, struct pm_source *src, uint32_t events);
void pm_handle_event(pymon_watcher *w, const struct pm_raw_event *ev);
void pm_moves_flush(pymon_watcher *w);
void pm_overflow(pymon_watcher *w);

/* run.c */
void pm_run_start_observer(struct pymon_observer *o);
void pm_run_free(pymon_watcher *w, struct pm_run *run);
void pm_supervision_free(pymon_watcher *w);
void pm_fdwatch_reap(pymon_watcher *w);
int pm_supervise(pymon_watcher *w, pymon_error *err);
/* While shutting down: stops the loop once no command process is left. */
void pm_finish_shutdown(pymon_watcher *w);
void pm_report(struct pymon_observer *o, enum pymon_run_state state, int code, const char *command,
               const pymon_batch *batch, int requested, const char *path);
char **pm_build_env(char *const *extra, size_t nextra);

/* each.c */
bool pm_each_reaped(pymon_watcher *w, pid_t pid, int status);
bool pm_each_busy(const struct pymon_observer *o);
void pm_each_stop(struct pymon_observer *o, int sig);
void pm_each_free(struct pm_each *e);
/* Splits a simple command line into words; 1 when it has no shell syntax
 * (and *argv is set, NULL-terminated, to free with pm_argv_free), 0 when it
 * needs a shell, negative errno on failure. */
int pm_split_simple(const char *cmd, char ***argv);
void pm_argv_free(char **argv);

/* loop.c */
int pm_loop_add(pymon_watcher *w, struct pm_source *src, uint32_t events);
void pm_loop_del(pymon_watcher *w, struct pm_source *src);
void pm_schedule(pymon_watcher *w);
void pm_fire_due(pymon_watcher *w);
void pm_timer_ready(pymon_watcher *w, struct pm_source *src, uint32_t events);

#endif
