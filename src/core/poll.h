/*
 * The polling backend, beside the inotify reader: for trees on file systems
 * where inotify is blind (network and virtual file systems, where changes
 * come from another machine or the VM's host) or where the user asks for
 * it. A polled directory node keeps a snapshot of its entries; each round
 * (a timerfd, armed only while something is polled) stats them again
 * relative to the directory's descriptor, lists the directory again where
 * its times moved, diffs, pairs a vanished and an appeared entry with the
 * same inode as a move, and feeds the result to the same filter and batch
 * code as inotify events. A round keeps within 5 % of a core: where a full
 * one would cost more, quiet directories are polled in turn (poll.c: "a
 * round within its budget").
 */
#ifndef PM_CORE_POLL_H
#define PM_CORE_POLL_H

#include "core/tree.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* One entry of a directory as seen in one round: 32 bytes plus its name. */
struct pm_snap_entry {
	uint64_t ino;
	int64_t mtime_ns;
	uint64_t size;
	uint32_t mode;
	uint32_t name; /* offset into the snapshot's names */
};

/* One allocation: the header, `count` entries sorted by name, the names.
 * The directory's own times say whether its entries can have changed: a
 * round lists it again only when they moved, and otherwise stats the
 * entries it knows (see poll.c: when a listing holds). */
struct pm_snap {
	size_t count;
	size_t names_len;
	int64_t dir_mtime_ns, dir_ctime_ns; /* the directory's, before it was listed */
	uint64_t times_seen_ns;             /* the round that first saw those times */
	uint64_t listed_ns;                 /* the round that listed it */
	uint64_t changed_ns;                /* the last round that found a change in it; 0: none */
	uint64_t polled_round;              /* the round that last polled it */
	struct pm_snap_entry e[];
};

static inline const char *pm_snap_name(const struct pm_snap *s, const struct pm_snap_entry *e)
{
	return (const char *)(s->e + s->count) + e->name;
}

/* What changed between two snapshots of one directory (pure). */
enum pm_snap_op {
	PM_SNAP_GONE,    /* in the old one only (or replaced by another inode/type) */
	PM_SNAP_NEW,     /* in the new one only (or the replacement) */
	PM_SNAP_CHANGED, /* same name and inode, other size, mtime or mode */
};
typedef void (*pm_snap_fn)(void *ud, enum pm_snap_op op, const struct pm_snap *s, const struct pm_snap_entry *e);
void pm_snap_diff(const struct pm_snap *old, const struct pm_snap *cur, pm_snap_fn fn, void *ud);

/* Builds a snapshot from (name, stat) pairs; names need not be sorted. Pure:
 * for tests and the fuzz target. NULL when out of memory. */
struct pm_snap *pm_snap_build(const char *const *names, const struct pm_snap_entry *stats, size_t n);

/* Reads a directory through its descriptor (getdents64 + fstatat with
 * AT_SYMLINK_NOFOLLOW; no path strings). NULL with errno set. */
struct pm_snap *pm_snap_read(int dirfd);

/* Is a file system of this statfs f_type one inotify cannot see changes
 * on (changes made elsewhere)? Sets *name to its name ("nfs", "9p" ...). */
bool pm_fs_blind(long f_type, const char **name);

/* Whether node n (open as dirfd) is polled: forced, refused, or by its file
 * system (classified at roots and mount points, else inherited). Says so
 * once per polled root or mount. Sets n's dev and ino, and *dir to the
 * directory's stat (zeroed when fstat fails) for pm_poll_node(). */
bool pm_poll_wanted(pymon_watcher *w, struct pm_node *n, int dirfd, struct stat *dir);

/* Starts polling node n (its snapshot, the round timer), with dir as
 * pm_poll_wanted() gave it (zeroed times: the next round lists it). 0, or
 * -ENOMEM. */
int pm_poll_node(pymon_watcher *w, struct pm_node *n, int dirfd, const struct stat *dir);

/* How long a listing of a directory whose times stand still is trusted:
 * 10 s, or four turns of a quiet directory when rounds are split. */
uint64_t pm_poll_relist_ns(const pymon_watcher *w, bool is_busy);

/* Whether this round (w->poll_round) polls directory n, snapshot s, at
 * time now: every round while rounds are not split or s is busy, else in
 * turn and at least every 10 s (poll.c: "a round within its budget"). */
bool pm_poll_due(const pymon_watcher *w, const struct pm_node *n, const struct pm_snap *s, uint64_t now);

/* Applies PYMON_POLL from the environment (see README); -EINVAL with the
 * value named for a bad one. */
int pm_poll_from_env(pymon_watcher *w, pymon_error *err);

/* The round timer's source; the loop calls it when the timerfd fires. */
void pm_poll_free(pymon_watcher *w);
int pm_poll_setup(pymon_watcher *w);

#endif
