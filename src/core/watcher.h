/*
 * The watcher and its observers: what the loop, the tree, the filter and
 * the actions share. An observer's action is opaque here (act/action.h);
 * core calls it only through its table of functions.
 */
#ifndef PM_CORE_WATCHER_H
#define PM_CORE_WATCHER_H

#include "pymon.h"
#include "base/util.h"
#include "core/batch.h"
#include "core/loop.h"
#include "core/tree.h"
#include "filter/ignore.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct pm_action;

struct pymon_observer {
	pymon_watcher *w;
	struct pymon_observer *next;
	struct pm_action *action; /* NULL until one is set */
	struct pm_root *roots;
	struct pm_ruleset defaults;
	struct pm_ruleset user;
	char **exts;
	size_t nexts;
	unsigned kinds;
	unsigned delay_ms;
	unsigned flags;
	pymon_run_fn status_fn; /* progress of a command action */
	void *status_ud;
	pymon_skip_fn skip_fn;  /* events that did not count, for diagnostics */
	void *skip_ud;
	struct pm_batch batch;
	uint64_t deadline_ns; /* monotonic; 0 when nothing is pending */
	unsigned git_lock_ms; /* longest hold of a batch for .git/index.lock */
	uint64_t lock_since_ns; /* holding a due batch for a lock since then; 0 when not */
};

/* Default longest wait for a git index.lock before a batch runs anyway. */
#define PM_GIT_LOCK_WAIT_MS 10000u

/* A MOVED_FROM waiting for its MOVED_TO. */
struct pm_pending_move {
	uint32_t cookie;
	uint32_t id;     /* marks the directory nodes it took away (pm_node.moving) */
	int wd;
	int is_dir;
	char *name;
};

/* A root that was deleted: its nearest existing ancestor is watched until
 * the root's directory is there again. */
struct pm_root_wait {
	struct pm_root *root;
	int wd; /* of the ancestor; -1 when none could be watched */
};

/* A descriptor added with pymon_watcher_add_fd(). */
struct pm_fdwatch {
	struct pm_source src;
	pymon_fd_fn fn;
	void *userdata;
	struct pm_fdwatch *next;
};

struct pymon_watcher {
	int epfd;
	int ifd;    /* inotify */
	int tfd;    /* timerfd for debounce deadlines */
	struct pm_source inotify_src, timer_src;
	struct pymon_observer *observers;
	/* wd -> nodes */
	struct pm_node **buckets;
	size_t nbuckets, nnodes, nwatches, npolled;
	struct pm_node *free_nodes; /* node chunks (tree.c) */
	void **node_chunks;
	size_t nchunks;
	struct pm_pending_move *moves;
	size_t nmoves, capmoves;
	uint64_t moves_deadline_ns; /* unpaired MOVED_FROMs count as moved out then */
	uint32_t move_seq;          /* last pending move id given out */
	int *resync;                /* wds of directories to read again (scan races) */
	struct pm_root_wait *waits; /* deleted roots waiting to come back */
	size_t nwaits;
	size_t ngitwatch;           /* roots with a git_wd: index.lock is looked for */
	size_t unwatched;           /* directories left unwatched (ENOSPC) since start */
	size_t nresync, capresync;
	char *evbuf;
	size_t evbuf_len;
	pymon_warn_fn warn;
	void *warn_data;
	/* While a scan runs on its own thread (core/scan.c): warnings wait,
	 * NUL-separated, for the caller's thread, and that thread's working
	 * directory is its own. */
	struct pm_buf held_warnings;
	bool warnings_held, scan_owns_cwd;
	bool started, stopped, limit_warned;
	int status;
	uint64_t armed_ns;
	unsigned roles;          /* pymon_role the embedder gave us */
	/* Polling (core/poll.c). */
	enum pymon_poll poll_mode;
	unsigned poll_interval_ms;
	unsigned poll_flags;
	bool poll_armed, poll_limit_warned;
	struct pm_source poll_src;
	/* Pacing (poll.c, "a round within its budget"): quiet directories are
	 * polled every poll_stride rounds, in turn by inode. */
	uint64_t poll_round;       /* rounds so far */
	unsigned poll_stride;      /* 0 or 1: every directory every round */
	unsigned poll_said_stride; /* the stride last announced */
	double poll_unit_ns;       /* CPU per unit of a round, smoothed */
	char poll_reason[160];   /* why inotify is not used at all, when ifd < 0 */
	bool poll_by_env;        /* PYMON_POLL forced it, not the program */
	bool terminating;        /* pymon_watcher_terminate() was called */
	int term_status;
	/* PYMON_ROLE_SIGNALS: INT, TERM, HUP, USR1 through one signalfd. */
	int sfd;
	struct pm_source sig_src;
	sigset_t sigs, old_mask;
	struct pm_fdwatch *fdwatches, *dead_fdwatches;
};

void pm_warn(pymon_watcher *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* From hold until release, warnings are kept, then delivered in order on
 * the thread that calls release: no embedder code runs on a thread of ours
 * (out of memory, a warning goes to stderr at once). */
void pm_warn_hold(pymon_watcher *w);
void pm_warn_release(pymon_watcher *w);
/* Called by an action whose processes are all gone: while terminating,
 * stops the loop once no action is busy. */
void pm_watcher_action_idle(pymon_watcher *w);
/* The fdwatches removed during this round, freed after it. */
void pm_fdwatch_reap(pymon_watcher *w);
void pm_fdwatch_free(pymon_watcher *w);
/* Gives back what pymon_watcher_roles() took (the signal mask). */
void pm_roles_free(pymon_watcher *w);

#endif
