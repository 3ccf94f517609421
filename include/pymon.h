/*
 * libpymon: watch file trees with Linux inotify and act on debounced changes.
 *
 * One watcher = one inotify instance + one epoll loop. A watcher holds any
 * number of observers; each observer has its own roots, filters, event kinds,
 * debounce delay and action (a callback, or a supervised command).
 *
 *     pymon_error err;
 *     pymon_watcher *w = pymon_watcher_new(&err);
 *     pymon_observer *o = pymon_observer_new(w, &err);
 *     pymon_observer_add(o, "src", &err);
 *     pymon_observer_ignore(o, "build/", &err);
 *     pymon_observer_on(o, PYMON_CREATE | PYMON_MODIFY);
 *     pymon_observer_callback(o, on_batch, NULL);
 *     int status = pymon_observe(w, &err);
 *     pymon_watcher_free(w);
 *
 * Conventions
 * - Fallible functions return 0 (or a non-negative value) on success and a
 *   negative errno on failure, and fill *err (which may be NULL) with a
 *   message ready to print, e.g. "src: No such file or directory".
 * - Nothing here is thread-safe; use a watcher from one thread.
 * - Every descriptor the library opens is close-on-exec.
 * - Strings passed in are copied unless a comment says "borrowed"; strings
 *   handed to callbacks are valid until the callback returns.
 * - A good guest: by default the library takes no process-wide role. It
 *   reaps only the processes it started (through pidfds; they send no
 *   SIGCHLD), installs no signal handler, changes no signal mask and leaves
 *   the terminal alone. pymon_watcher_roles() opts into signals and the
 *   terminal.
 * - Paths in events are the root as it was given joined with the path below
 *   it ("src/app.py"); a root given as "." yields plain relative paths.
 */
#ifndef PYMON_H
#define PYMON_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PYMON_VERSION "0.1.0"

/* Event kinds; combine as a bit mask for pymon_observer_on(). */
enum pymon_kind {
	PYMON_CREATE = 1u << 0,
	PYMON_DELETE = 1u << 1,
	PYMON_MODIFY = 1u << 2, /* content written, or attributes (touch, chmod) */
	PYMON_MOVE = 1u << 3,   /* renamed inside the watched tree: .from is set */
	PYMON_ALL = 0xfu,
	/* Not a filter bit: the kernel queue overflowed (or the tree was
	 * re-synchronised) and changes may have been missed below .path.
	 * Always delivered, whatever the observer's kind mask. */
	PYMON_RESCAN = 1u << 4,
};

typedef struct pymon_error {
	int code;          /* negative errno, 0 when no error */
	char message[512]; /* human-readable, no trailing newline */
} pymon_error;

typedef struct pymon_event {
	unsigned kind;    /* one pymon_kind value */
	const char *path; /* the path now */
	const char *from; /* PYMON_MOVE only: the path before, else NULL */
	int is_dir;
} pymon_event;

typedef struct pymon_batch {
	const pymon_event *events; /* each path at most once, in arrival order */
	size_t count;
	size_t dropped; /* events left out because the batch hit its bound (a
	                 * PYMON_RESCAN of their root is then in .events) */
} pymon_batch;

typedef struct pymon_watcher pymon_watcher;
typedef struct pymon_observer pymon_observer;

/* Called once per debounced batch. Inside it, the only calls allowed on the
 * watcher are pymon_watcher_stop() and the read-only getters. The batch and
 * its strings are valid until the callback returns. */
typedef void (*pymon_batch_fn)(pymon_observer *o, const pymon_batch *batch, void *userdata);

/* Warnings (a subdirectory that vanished or cannot be read while scanning, a
 * rescan after queue overflow). The default prints "py-mon: warning: MSG" to
 * stderr. */
typedef void (*pymon_warn_fn)(const char *message, void *userdata);

/* ---- watcher ---------------------------------------------------------- */

/* A new watcher with its inotify instance and epoll loop. NULL on failure
 * (EMFILE names fs.inotify.max_user_instances and its current value). */
pymon_watcher *pymon_watcher_new(pymon_error *err);

/* Kills every command tree at once (SIGKILL), waits for them, frees every
 * observer. Use pymon_watcher_terminate() first for a graceful stop. */
void pymon_watcher_free(pymon_watcher *w);

void pymon_watcher_on_warning(pymon_watcher *w, pymon_warn_fn fn, void *userdata);

/* Scans every observer's roots and adds the watches. Called by
 * pymon_observe(); call it yourself when embedding with pymon_watcher_fd().
 * ENOSPC names fs.inotify.max_user_watches and its current value.
 * The scan runs on a short-lived thread of the library's, with every
 * signal but the faults blocked and a working directory of its own (the
 * caller's is never moved), while the caller waits; warnings reach the
 * callback afterwards, on the caller's thread. pymon_observer_add() on a
 * started watcher scans the same way. */
int pymon_watcher_start(pymon_watcher *w, pymon_error *err);

/* The epoll descriptor: readable when pymon_watcher_dispatch() has work. */
int pymon_watcher_fd(const pymon_watcher *w);

/* Handles whatever is ready without blocking: reads events, fires due
 * batches. Returns 0, or 1 once pymon_watcher_stop() was called, or a
 * negative errno. */
int pymon_watcher_dispatch(pymon_watcher *w, pymon_error *err);

/* Starts (if not yet started) and runs the loop until pymon_watcher_stop().
 * Returns the status given to pymon_watcher_stop(), or a negative errno. */
int pymon_observe(pymon_watcher *w, pymon_error *err);

/* Makes pymon_observe() return `status` once the current dispatch ends.
 * Safe inside callbacks. Running commands keep running until
 * pymon_watcher_terminate() or pymon_watcher_free(). */
void pymon_watcher_stop(pymon_watcher *w, int status);

/* Graceful end: sends every command tree its stop signal, SIGKILLs what is
 * left after its stop timeout, and makes pymon_observe() return `status`
 * once every tree is gone (at once when none runs). A second call skips
 * the grace period. Safe inside callbacks. */
void pymon_watcher_terminate(pymon_watcher *w, int status);

/* Where inotify cannot see changes (NFS, SMB/CIFS, 9p as in WSL2's /mnt/c,
 * FUSE such as sshfs, AFS, Ceph, vboxsf: changes made by another machine or
 * the VM's host), a subtree is polled instead: each root and each mount
 * point below it is classified by its file system type (statfs f_type).
 * Polling compares every polled directory's entries (inode, size, mtime,
 * mode) each interval and reports create/delete/modify/move like inotify.
 * Also polled: everything, when inotify_init1 fails (ENOSYS in emulated
 * containers). A warning names each polled tree and why. */
enum pymon_poll {
	PYMON_POLL_AUTO = 0, /* by file system (default) */
	PYMON_POLL_ALWAYS,   /* poll every root */
	PYMON_POLL_NEVER,    /* never (inotify only, even where it is blind) */
};
enum pymon_poll_flag {
	/* When the inotify watch limit is reached, poll the directories that
	 * could not be watched instead of failing with ENOSPC. */
	PYMON_POLL_ON_LIMIT = 1u << 0,
};
/* interval_ms 0 keeps the current interval (default 500). Call before
 * pymon_watcher_start(). The environment variable PYMON_POLL sets the
 * default of every new watcher: "1" (ALWAYS), "0" (NEVER) or an interval
 * ("250ms", "2s": ALWAYS at that interval); pymon_watcher_new() fails with
 * -EINVAL naming a bad value. A call here overrides it. */
int pymon_watcher_poll(pymon_watcher *w, enum pymon_poll mode, unsigned interval_ms, unsigned flags,
                       pymon_error *err);

/* Process-wide roles, none by default. */
enum pymon_role {
	/* Block SIGINT, SIGTERM, SIGHUP and SIGUSR1 and read them in the loop:
	 * INT/TERM/HUP terminate (pymon_observe() returns 128 + the signal
	 * number; a second one kills at once), USR1 restarts every command.
	 * The mask is restored by pymon_watcher_free(). */
	PYMON_ROLE_SIGNALS = 1u << 0,
	/* When stdin is a terminal and this process is in its foreground,
	 * commands stay in this process's group: they read the terminal
	 * (input(), pdb), Ctrl-C reaches them and this process together, and
	 * Ctrl-Z/fg stop and resume both through the shell's job control.
	 * Without it, a command gets its own process group and, when stdin is
	 * a terminal, /dev/null as stdin. */
	PYMON_ROLE_TERMINAL = 1u << 1,
};
/* Takes the roles in `roles` (pymon_role bits). Call before
 * pymon_watcher_start(). */
int pymon_watcher_roles(pymon_watcher *w, unsigned roles, pymon_error *err);

/* Number of directories watched (inotify watches held, plus polled
 * directories), for diagnostics. */
size_t pymon_watcher_watch_count(const pymon_watcher *w);

/* ---- observers -------------------------------------------------------- */

/* A new observer owned by the watcher (freed with it). Defaults: all kinds,
 * 50 ms delay, default ignores on, VCS ignore files on, no action. NULL
 * (err filled) only when out of memory. Configure it before
 * pymon_watcher_start(). An observer has at most one action: callback,
 * command or per-file command; a second one is -EBUSY. */
pymon_observer *pymon_observer_new(pymon_watcher *w, pymon_error *err);

/* Adds a root: a directory (watched recursively) or a file (its directory is
 * watched and events are filtered by name, so atomic saves keep working).
 * A root that is a symlink is resolved; symlinks below it are not followed.
 * -ENOENT etc. with the path in the message. */
int pymon_observer_add(pymon_observer *o, const char *path, pymon_error *err);

/* Adds a gitignore-syntax pattern, matched against the path relative to its
 * root: "*.log", "/build", "tmp/", "!keep.log", and "**" for any depth. Ignored
 * directories are never watched. Patterns added later win. */
int pymon_observer_ignore(pymon_observer *o, const char *pattern, pymon_error *err);

/* Only files with these extensions (comma or space separated, dots
 * optional: "py,toml" or ".py .html"). Directories are still watched; a
 * directory's creation is not reported (its matching files are), its
 * deletion and its moves are (they take files along). */
int pymon_observer_ext(pymon_observer *o, const char *list, pymon_error *err);

/* The kinds that make up a batch (default PYMON_ALL). A directory's
 * creation or modification never starts a command or a per-file job (its
 * files that pass the filters do); callbacks receive it with is_dir set. */
void pymon_observer_on(pymon_observer *o, unsigned kinds);

/* Quiet period before a batch fires, in milliseconds (default 50; 0 fires
 * right after the events that are already queued were read). */
void pymon_observer_delay(pymon_observer *o, unsigned ms);

enum pymon_observer_flag {
	PYMON_NO_DEFAULT_IGNORE = 1u << 0, /* drop .git/, __pycache__/, *.pyc ... */
	PYMON_NO_VCS_IGNORE = 1u << 1,     /* drop .gitignore, .git/info/exclude, .ignore */
	PYMON_NO_GIT_LOCK_WAIT = 1u << 2,  /* fire even while .git/index.lock exists */
};
void pymon_observer_flags(pymon_observer *o, unsigned flags);

/* While .git/index.lock exists (a checkout, a rebase), a due batch waits
 * for its removal, woken by inotify, at most max_ms (default 10000). A
 * lock older than that (git crashed) is named in a warning, and batches
 * run until it is removed. 0 never waits, as PYMON_NO_GIT_LOCK_WAIT. */
void pymon_observer_git_lock_wait(pymon_observer *o, unsigned max_ms);

/* Upper bound on distinct paths in one batch (default 10000); further
 * events are counted in pymon_batch.dropped, and the batch then carries a
 * PYMON_RESCAN event for their root: never a silent loss. */
void pymon_observer_batch_limit(pymon_observer *o, size_t max_events);

/* Action: call fn with each batch. userdata is borrowed. */
int pymon_observer_callback(pymon_observer *o, pymon_batch_fn fn, void *userdata, pymon_error *err);

/* Explains whether changes to `path` (as a user would type it: relative
 * to the working directory, or absolute; it need not exist) count for the
 * observer, into buf: "watched", "watched (only create, modify events
 * count)", "ignored by .gitignore:3: build/", "ignored by default ignore
 * '*.pyc'", "ignored by --ignore pattern 'tmp/'", "ignored (its directory
 * out/ is ignored by ...)", "not a watched extension (py, html)" or
 * "outside the watched paths (src, tests)". Returns 0 when watched, 1 when
 * not. Call it after pymon_watcher_start() (ignore files are read then). */
int pymon_observer_explain(pymon_observer *o, const char *path, int is_dir, char *buf, size_t len);

pymon_watcher *pymon_observer_watcher(const pymon_observer *o);

/* Diagnostics (py-mon -v): fn hears of every event that does not count for
 * the observer, with why, in the words of pymon_observer_explain()
 * ("ignored by .gitignore:3: *.log"). The strings live until fn returns.
 * Costs nothing while unset. */
typedef void (*pymon_skip_fn)(pymon_observer *o, unsigned kind, const char *path, const char *why,
                              void *userdata);
void pymon_observer_on_skip(pymon_observer *o, pymon_skip_fn fn, void *userdata);

/* ---- supervised commands ---------------------------------------------- */

/* What to do when a batch arrives while the command is still running. */
enum pymon_busy {
	PYMON_BUSY_RESTART = 0, /* stop the whole tree, then start again (default) */
	PYMON_BUSY_QUEUE,       /* let it finish, then run once more */
	PYMON_BUSY_IGNORE,      /* do nothing */
	PYMON_BUSY_SIGNAL,      /* only send stop_signal (e.g. SIGHUP for gunicorn) */
};

enum pymon_run_flag {
	PYMON_RUN_POSTPONE = 1u << 0, /* do not start before the first batch */
	PYMON_RUN_ONCE = 1u << 1,     /* run once, then make pymon_observe() return its status */
	PYMON_RUN_NO_TTY = 1u << 2,   /* never hand the terminal to the child; stdin is /dev/null */
};

/* Restarting a command that ended without a change. */
enum pymon_restart_on_exit {
	PYMON_RESTART_NEVER = 0, /* wait for the next change (default) */
	PYMON_RESTART_ON_FAILURE, /* exit status != 0 or killed by a signal */
	PYMON_RESTART_ALWAYS,
	/* Backoff: 100 ms, doubling up to 10 s; reset after 10 s of uptime.
	 * Not with PYMON_RUN_ONCE, which ends after the one run. */
};

/* Structs the caller fills in start with `size` = sizeof the struct, so they
 * can grow without breaking libpymon.so.0. Everything is copied. */
typedef struct pymon_command {
	size_t size;             /* sizeof(pymon_command) */
	/* Exactly one of the two: */
	const char *shell;       /* a command line, split by pymon_split_command() */
	char *const *argv;       /* program and arguments, NULL-terminated, no shell */
	int stop_signal;         /* 0 means SIGTERM */
	unsigned stop_timeout_ms;/* then SIGKILL; 0 means 5000 */
	enum pymon_busy on_busy;
	unsigned flags;          /* pymon_run_flag */
	enum pymon_restart_on_exit restart_on_exit;
	/* Descriptors handed to every run as 3, 4, ... with LISTEN_FDS,
	 * LISTEN_PID (systemd socket activation) and PYMON_SOCKET_FDS set. The
	 * descriptors are borrowed: keep them open while the watcher lives. */
	const int *fds;
	size_t nfds;
} pymon_command;

/* Progress of a supervised command, for the caller's messages. */
enum pymon_run_state {
	PYMON_RUN_CHANGED,    /* .batch: every batch, before the action is decided */
	PYMON_RUN_STARTING,   /* .command: about to start (after the old tree is gone) */
	PYMON_RUN_RESTARTING, /* .batch: a change; the running tree is being stopped */
	PYMON_RUN_EXITED,     /* .code: the command exited with this status */
	PYMON_RUN_KILLED,     /* .code: the command was killed by this signal */
	PYMON_RUN_FAILED,     /* .code: errno; the program could not be started */
	PYMON_RUN_SIGNALED,   /* .code: PYMON_BUSY_SIGNAL sent this signal */
	PYMON_RUN_ESCALATED,  /* the stop timeout ran out: SIGKILL sent to the tree */
};

typedef struct pymon_run_status {
	enum pymon_run_state state;
	int code;
	const char *command;      /* the command as given, for display */
	const pymon_batch *batch; /* RESTARTING: the batch that triggered it */
	int requested;            /* EXITED/KILLED: the stop came from us */
	const char *path;         /* per-file actions: the path this job is for */
} pymon_run_status;

typedef void (*pymon_run_fn)(pymon_observer *o, const pymon_run_status *status, void *userdata);

/*
 * Action: run a command and restart it on each batch. Each run starts
 * under a small guardian process (named py-mon-guard) that is the child
 * subreaper of the run's tree: every descendant of the command, also one
 * that left its process group (setsid, double fork), stays in the tree. A
 * restart signals the whole tree, waits up to stop_timeout_ms, SIGKILLs
 * what is left, and starts the next run only when the old tree is gone.
 * If this process dies without stopping it (SIGKILL, OOM), the guardian
 * stops the tree the same way. The guardian is cloned once, when the
 * watcher starts (before its scan), and kept: it starts every run itself,
 * with the environment, working directory and stdin/stdout/stderr this
 * process has at that start; other process state (rlimits, umask,
 * credentials) is that of the watcher's start. The run gets
 * PYMON_CHANGED_PATHS (the batch's paths, one per line; empty on the
 * first run; at most 64 KiB of whole lines, PYMON_CHANGED_PATHS_TRUNCATED=1
 * when some were left out).
 */
int pymon_observer_run(pymon_observer *o, const pymon_command *cmd, pymon_error *err);

/* A per-file action: the command runs once for each changed file of a
 * batch, with PYMON_PATH / PYMON_EVENT in its environment. In argv, "{}" in
 * any argument is replaced by the path (one argv element; a relative path
 * starting with '-' is passed as "./-name"). A command line that needs a
 * shell gets the path as "$1": {} is replaced by "$1", never by the path.
 * Paths already waiting are not queued twice; rescan events and
 * directories are skipped. Each job slot has its own kept guardian, like a
 * command's; stopping py-mon stops every job's tree with stop_signal, then
 * SIGKILL after stop_timeout_ms. */
typedef struct pymon_each {
	size_t size;       /* sizeof(pymon_each) */
	/* Exactly one of the two: */
	const char *shell; /* a command line, split by pymon_split_command() */
	char *const *argv; /* program and arguments, NULL-terminated */
	unsigned jobs;     /* at most this many at once; 0 means 1 */
	unsigned flags;    /* PYMON_RUN_ONCE: return after the first batch's jobs,
	                      with 0 if all succeeded, else 1 */
	int stop_signal;   /* 0 means SIGTERM */
	unsigned stop_timeout_ms; /* 0 means 5000 */
} pymon_each;

int pymon_observer_each(pymon_observer *o, const pymon_each *spec, pymon_error *err);

/* Progress reports of the observer's command (before or after _run()). */
void pymon_observer_on_status(pymon_observer *o, pymon_run_fn fn, void *userdata);

/* Restarts the command now, as if a batch had arrived (e.g. "rs").
 * -EINVAL when the observer's action is not a command. */
int pymon_observer_restart(pymon_observer *o);

/* The splitting rule of every command line (pymon_command.shell,
 * pymon_each.shell, the py-mon command): a line of plain words (letters,
 * digits, _-./:=,+@%^ and non-ASCII; "{}" too) whose first word is neither
 * a VAR=value assignment nor a shell keyword or builtin missing from PATH
 * is exec'd directly, split at blanks; anything else runs as
 * /bin/sh -c LINE. Sets *argv (free with pymon_argv_free) to the words, or
 * to { "/bin/sh", "-c", line }; returns 1 for words, 0 for the shell, or a
 * negative errno. */
int pymon_split_command(const char *line, char ***argv, pymon_error *err);
void pymon_argv_free(char **argv);


/* Adds any descriptor to the loop: fn(fd, userdata) runs when it is
 * readable. For embedders and for reading commands from stdin. */
typedef void (*pymon_fd_fn)(pymon_watcher *w, int fd, void *userdata);
int pymon_watcher_add_fd(pymon_watcher *w, int fd, pymon_fd_fn fn, void *userdata, pymon_error *err);
int pymon_watcher_remove_fd(pymon_watcher *w, int fd);

/* ---- helpers ---------------------------------------------------------- */

/* Name of one busy mode: "restart", "queue", "ignore", "signal"; and back
 * (-EINVAL for another word). */
const char *pymon_busy_name(enum pymon_busy mode);
int pymon_parse_busy(const char *name, enum pymon_busy *out);

/* Name of one kind: "create", "delete", "modify", "move", "rescan". */
const char *pymon_kind_name(unsigned kind);

/* Parses "create,modify" (also space separated, case-insensitive, "all")
 * into a mask. -EINVAL with the offending word in err. */
int pymon_parse_kinds(const char *list, unsigned *out, pymon_error *err);

#ifdef __cplusplus
}
#endif
#endif
