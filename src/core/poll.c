/*
 * The polling backend (see poll.h). Per polled directory: a snapshot of its
 * entries, 32 bytes each plus the name. Per round: one fstatat per entry,
 * relative to the directory's descriptor, and a getdents64 listing only
 * where the directory's times moved (see "when a listing holds").
 */
#include "core/poll.h"
#include "base/sys.h"
#include "core/batch.h"
#include "core/loop.h"
#include "core/scan.h"
#include "core/watcher.h"
#include "filter/rules.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* ---- snapshots (pure) ------------------------------------------------- */

struct sort_item {
	const char *name;
	struct pm_snap_entry st;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct sort_item *)a)->name, ((const struct sort_item *)b)->name);
}

struct pm_snap *pm_snap_build(const char *const *names, const struct pm_snap_entry *stats, size_t n)
{
	struct sort_item *items = malloc((n ? n : 1) * sizeof *items);
	if (!items)
		return NULL;
	size_t names_len = 0;
	for (size_t i = 0; i < n; i++) {
		items[i] = (struct sort_item){.name = names[i], .st = stats[i]};
		names_len += strlen(names[i]) + 1;
	}
	qsort(items, n, sizeof *items, by_name);
	struct pm_snap *s = malloc(sizeof *s + n * sizeof s->e[0] + names_len);
	if (!s) {
		free(items);
		return NULL;
	}
	*s = (struct pm_snap){.count = n, .names_len = names_len};
	char *blob = (char *)(s->e + n);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		s->e[i] = items[i].st;
		s->e[i].name = (uint32_t)off;
		size_t l = strlen(items[i].name) + 1;
		memcpy(blob + off, items[i].name, l);
		off += l;
	}
	free(items);
	return s;
}

static int64_t ns_of(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static bool same_type(uint32_t a, uint32_t b)
{
	return (a & S_IFMT) == (b & S_IFMT);
}

void pm_snap_diff(const struct pm_snap *old, const struct pm_snap *cur, pm_snap_fn fn, void *ud)
{
	size_t i = 0, j = 0, no = old ? old->count : 0, nc = cur ? cur->count : 0;
	while (i < no || j < nc) {
		int c = i == no ? 1 : j == nc ? -1 : strcmp(pm_snap_name(old, &old->e[i]), pm_snap_name(cur, &cur->e[j]));
		if (c < 0) {
			fn(ud, PM_SNAP_GONE, old, &old->e[i++]);
		} else if (c > 0) {
			fn(ud, PM_SNAP_NEW, cur, &cur->e[j++]);
		} else {
			const struct pm_snap_entry *a = &old->e[i++], *b = &cur->e[j++];
			if (a->ino != b->ino || !same_type(a->mode, b->mode)) {
				/* Another inode under the name: for a file that is an
				 * atomic save, which the caller reports as a change. */
				fn(ud, PM_SNAP_GONE, old, a);
				fn(ud, PM_SNAP_NEW, cur, b);
			} else if (a->mtime_ns != b->mtime_ns || a->size != b->size || a->mode != b->mode) {
				fn(ud, PM_SNAP_CHANGED, cur, b);
			}
		}
	}
}

struct pm_snap *pm_snap_read(int dirfd)
{
	/* Names are gathered first (the directory's entries), then stat'ed. */
	size_t cap = 64, n = 0, blen = 0, bcap = 4096;
	char *blob = malloc(bcap);
	size_t *offs = malloc(cap * sizeof *offs);
	struct pm_snap *s = NULL;
	if (!blob || !offs)
		goto out;
	if (lseek(dirfd, 0, SEEK_SET) < 0)
		goto out;
	char buf[16384] __attribute__((aligned(8)));
	ssize_t got;
	while ((got = pm_sys.getdents64(dirfd, buf, sizeof buf)) > 0) {
		for (ssize_t off = 0; off < got;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			off += d->d_reclen;
			if (d->d_name[0] == '.' && (!d->d_name[1] || (d->d_name[1] == '.' && !d->d_name[2])))
				continue;
			size_t l = strlen(d->d_name) + 1;
			if (n == cap) {
				size_t *p = realloc(offs, (cap *= 2) * sizeof *offs);
				if (!p)
					goto out;
				offs = p;
			}
			if (blen + l > bcap) {
				while (blen + l > bcap)
					bcap *= 2;
				char *p = realloc(blob, bcap);
				if (!p)
					goto out;
				blob = p;
			}
			memcpy(blob + blen, d->d_name, l);
			offs[n++] = blen;
			blen += l;
		}
	}
	if (got < 0)
		goto out;
	{
		const char **names = malloc((n ? n : 1) * sizeof *names);
		struct pm_snap_entry *stats = malloc((n ? n : 1) * sizeof *stats);
		size_t k = 0;
		if (names && stats) {
			for (size_t i = 0; i < n; i++) {
				struct stat st;
				const char *name = blob + offs[i];
				if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
					continue; /* gone since the listing: next round */
				names[k] = name;
				stats[k++] = (struct pm_snap_entry){
					.ino = st.st_ino,
					.mtime_ns = ns_of(st.st_mtim),
					.size = (uint64_t)st.st_size,
					.mode = st.st_mode,
				};
			}
			s = pm_snap_build(names, stats, k);
		}
		free(names);
		free(stats);
	}
out:
	free(blob);
	free(offs);
	if (!s && !errno)
		errno = ENOMEM;
	return s;
}

/* ---- which file systems ------------------------------------------------ */

/* f_type values checked against linux/magic.h (Debian 12), except vboxsf,
 * which is not there: VBOXSF_SUPER_MAGIC in the kernel's fs/vboxsf. */
static const struct {
	long magic;
	const char *name;
	const char *why;
} blind[] = {
	{0x6969, "nfs", "changes from other NFS clients"},
	{0x517B, "smb", "changes from other SMB clients"},
	{(long)0xFF534D42, "cifs", "changes from other SMB clients"},
	{(long)0xFE534D42, "smb2", "changes from other SMB clients"},
	{0x01021997, "9p", "changes from the host (WSL2 /mnt/c, VM shares)"},
	{0x65735546, "fuse", "changes made by the FUSE server's side (sshfs, Docker Desktop)"},
	{0x5346414F, "afs", "changes from other AFS clients"},
	{0x6B414653, "afs", "changes from other AFS clients"}, /* kAFS */
	{0x00C36400, "ceph", "changes from other Ceph clients"},
	{0x786F4256, "vboxsf", "changes from the VirtualBox host"},
};

static const char *blind_why(long f_type)
{
	for (size_t i = 0; i < sizeof blind / sizeof blind[0]; i++)
		if ((blind[i].magic & 0xffffffffL) == (f_type & 0xffffffffL))
			return blind[i].why;
	return NULL;
}

bool pm_fs_blind(long f_type, const char **name)
{
	for (size_t i = 0; i < sizeof blind / sizeof blind[0]; i++)
		if ((blind[i].magic & 0xffffffffL) == (f_type & 0xffffffffL)) {
			if (name)
				*name = blind[i].name;
			return true;
		}
	return false;
}

static void say_polling(pymon_watcher *w, const struct pm_node *n, const char *why)
{
	struct pm_buf path = {0};
	if (pm_node_realpath(n, NULL, &path) == 0)
		pm_warn(w, "polling %s every %ums (%s)", path.s, w->poll_interval_ms, why);
	pm_buf_free(&path);
}

bool pm_poll_wanted(pymon_watcher *w, struct pm_node *n, int dirfd, struct stat *dir)
{
	/* The node's identity, whether it is a mount point, and the times a
	 * polled snapshot starts from, in one fstat (the scan needs dev and
	 * ino anyway). */
	struct stat st = {0};
	bool mount = !n->parent;
	if (pm_sys.fstat(dirfd, &st) == 0) {
		mount |= n->parent && n->parent->dev && (uint32_t)st.st_dev != n->parent->dev;
		n->dev = (uint32_t)st.st_dev;
		n->ino = st.st_ino;
	}
	*dir = st;
	if (w->poll_mode == PYMON_POLL_NEVER)
		return false;
	if (w->poll_mode == PYMON_POLL_ALWAYS || w->ifd < 0) {
		if (!n->parent)
			say_polling(w, n, w->ifd < 0 ? w->poll_reason : w->poll_by_env ? "asked for by PYMON_POLL" : "asked for");
		return true;
	}
	if (!mount)
		return n->parent && pm_node_snap(n->parent);
	struct statfs sf;
	if (pm_sys.fstatfs(dirfd, &sf) < 0)
		return n->parent && pm_node_snap(n->parent);
	const char *name = NULL;
	if (!pm_fs_blind((long)sf.f_type, &name))
		return false;
	char why[160];
	snprintf(why, sizeof why, "%s: %s are invisible to inotify", name, blind_why((long)sf.f_type));
	say_polling(w, n, why);
	return true;
}

/* ---- rounds ------------------------------------------------------------ */

struct change {
	struct pm_node *dir;
	char *name;
	char *display; /* the path as events report it (a move's from) */
	uint64_t ino;
	bool is_dir;
	bool paired;
};

struct round {
	pymon_watcher *w;
	struct pm_node *dir;
	struct change *gone, *born;
	size_t ngone, nborn, capgone, capborn;
	uint64_t now;
	size_t dirs, entries;          /* every polled directory, and their entries */
	size_t units_all, units_polled; /* see "a round within its budget" */
	bool any;
	bool changed; /* the directory being polled */
};

static int push_change(struct change **v, size_t *n, size_t *cap, struct pm_node *dir, const char *name,
                       uint64_t ino, bool is_dir)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct change *p = realloc(*v, c * sizeof *p);
		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = c;
	}
	struct pm_buf disp = {0};
	char *copy = pm_strdup(name);
	if (!copy || pm_node_display(dir, name, &disp) < 0) {
		free(copy);
		pm_buf_free(&disp);
		return -ENOMEM;
	}
	(*v)[(*n)++] = (struct change){.dir = dir, .name = copy, .display = disp.s, .ino = ino, .is_dir = is_dir};
	return 0;
}

static void on_diff(void *ud, enum pm_snap_op op, const struct pm_snap *s, const struct pm_snap_entry *e)
{
	struct round *r = ud;
	const char *name = pm_snap_name(s, e);
	bool is_dir = S_ISDIR(e->mode);
	if (op != PM_SNAP_CHANGED || !is_dir) /* not a subdirectory's times */
		r->changed = true;
	switch (op) {
	case PM_SNAP_CHANGED:
		/* A directory's mtime follows its entries: those are reported. */
		if (!is_dir)
			pm_observer_event(r->dir, name, PYMON_MODIFY, false, NULL);
		break;
	case PM_SNAP_GONE:
		push_change(&r->gone, &r->ngone, &r->capgone, r->dir, name, e->ino, is_dir);
		break;
	case PM_SNAP_NEW:
		push_change(&r->born, &r->nborn, &r->capborn, r->dir, name, e->ino, is_dir);
		break;
	}
}

/* ---- a round within its budget ----------------------------------------- */

/* Polling costs CPU whether or not anything changes, so a round has a
 * budget: BUDGET_PERCENT of the interval, the idle cost of a poller users
 * accept. A round that would cost more (above about 15,000 files at
 * 500 ms on a 2-core test machine: one fstatat per file is the floor) is
 * split: a directory where a change was found in the last HOT_NS is busy
 * and polled every round (what a developer is editing; a directory that
 * appears while polling runs starts busy), the quiet others in turn, every
 * poll_stride rounds, so that the quiet share of a round stays within the
 * budget, and each at least every COLD_MAX_MS whatever the stride did
 * meanwhile. Busy directories take what they cost: the budget holds once
 * nothing changed for HOT_NS. Rounds cheaper than SPLIT_FLOOR_NS are never
 * split (a short --poll interval on a small tree). The cost is the
 * thread's CPU time over the walk, per unit (an entry's fstatat; a
 * directory's open, fstat and close count 2), smoothed over rounds, times
 * the units of every polled directory. */
#define BUDGET_PERCENT 5
#define HOT_NS (600 * 1000000000ull)
#define COLD_MAX_MS 10000u
#define SPLIT_FLOOR_NS 10000000.0
#define ANNOUNCE_AFTER_ROUNDS 16 /* past the first listings, which cost more */

/* A clock through the seam, in ns; a failing one stands still (a round
 * clock that does: every round lists). */
static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts = {0};
	pm_sys.clock_gettime(id, &ts);
	return (uint64_t)ns_of(ts);
}

static bool busy(const struct pm_snap *s, uint64_t now)
{
	return s->changed_ns && now >= s->changed_ns && now - s->changed_ns < HOT_NS;
}

/* Rounds a quiet directory may wait at most. */
static unsigned most_rounds(const pymon_watcher *w)
{
	return w->poll_interval_ms < COLD_MAX_MS ? COLD_MAX_MS / w->poll_interval_ms : 1;
}

bool pm_poll_due(const pymon_watcher *w, const struct pm_node *n, const struct pm_snap *s, uint64_t now)
{
	if (w->poll_stride <= 1 || busy(s, now) || w->poll_round - s->polled_round >= most_rounds(w))
		return true;
	/* In turn: the phase is a hash of the inode, which a file system
	 * may give out in any pattern. */
	uint64_t phase = (n->ino * 0x9E3779B97F4A7C15ull) >> 32;
	return (w->poll_round + phase) % w->poll_stride == 0;
}

/* ---- when a listing holds ---------------------------------------------- */

/* A directory's mtime and ctime move whenever an entry is added, removed or
 * renamed, so while they stand still a round need not list it again: it
 * stats the entries it knows, as it must anyway (a write changes only the
 * file). Two things can make the times lie. Their granularity: a change in
 * the same tick as the listing leaves them as they were (a jiffy on ext4,
 * 1 s on ext3 or HFS+, 2 s on FAT). So a listing holds only when it was
 * made at least STEADY_NS after the round that first saw these times: with
 * ticks of up to 2 s any later change falls in a later tick, whatever the
 * server's clock says. And file systems with coarser ticks, or that keep
 * no directory times at all (a careless FUSE server): every directory is
 * listed in full at least every RELIST_NS all the same, or every fourth
 * time a quiet directory is polled when rounds are split (see "a round
 * within its budget": a listing costs twice a round of stats). */
#define STEADY_NS (2 * 1000000000ull)
#define RELIST_NS (10 * 1000000000ull)

uint64_t pm_poll_relist_ns(const pymon_watcher *w, bool is_busy)
{
	if (is_busy || w->poll_stride <= 1)
		return RELIST_NS;
	uint64_t every_fourth = 4ull * w->poll_stride * w->poll_interval_ms * 1000000u;
	return every_fourth > RELIST_NS ? every_fourth : RELIST_NS;
}

static bool listing_holds(const pymon_watcher *w, const struct pm_snap *s, const struct stat *dir, uint64_t now)
{
	return s->dir_mtime_ns == ns_of(dir->st_mtim) && s->dir_ctime_ns == ns_of(dir->st_ctim) &&
	       s->listed_ns >= s->times_seen_ns + STEADY_NS && now - s->listed_ns < pm_poll_relist_ns(w, busy(s, now));
}

/* Stamps a fresh listing of a directory with its times (taken before it
 * was read) and the round's clock; `old` is the listing it replaces. */
static void stamp(struct pm_snap *s, const struct pm_snap *old, const struct stat *dir, uint64_t now)
{
	s->dir_mtime_ns = ns_of(dir->st_mtim);
	s->dir_ctime_ns = ns_of(dir->st_ctim);
	bool same = old && old->dir_mtime_ns == s->dir_mtime_ns && old->dir_ctime_ns == s->dir_ctime_ns;
	s->times_seen_ns = same ? old->times_seen_ns : now;
	s->listed_ns = now;
	s->changed_ns = old ? old->changed_ns : 0;
	s->polled_round = old ? old->polled_round : 0;
}

/* The entries of a listing that holds, stat'ed again in place: a change is
 * reported as it is found. -1 when an entry is gone or another inode took
 * its name (a change in the same tick as the times): the caller lists. */
static int restat(struct round *r, struct pm_snap *s, int fd)
{
	for (size_t i = 0; i < s->count; i++) {
		struct pm_snap_entry *e = &s->e[i];
		struct stat st;
		if (fstatat(fd, pm_snap_name(s, e), &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_ino != e->ino ||
		    !same_type(st.st_mode, e->mode))
			return -1;
		int64_t mtime = ns_of(st.st_mtim);
		if (mtime != e->mtime_ns || (uint64_t)st.st_size != e->size || st.st_mode != e->mode) {
			e->mtime_ns = mtime;
			e->size = (uint64_t)st.st_size;
			e->mode = st.st_mode;
			on_diff(r, PM_SNAP_CHANGED, s, e);
		}
	}
	return 0;
}

/* Polls directory n, open as fd. */
static void poll_dir(struct round *r, struct pm_node *n, int fd)
{
	/* Another directory under the node's path (removed and made again, or
	 * swapped): its parent's round reports the replacement. */
	struct stat st;
	if (pm_sys.fstat(fd, &st) < 0 || st.st_ino != n->ino || (uint32_t)st.st_dev != n->dev)
		return;
	r->dir = n;
	r->changed = false;
	struct pm_snap *old = pm_node_snap(n);
	uint64_t now = r->now; /* taken before any listing of the round */
	if (listing_holds(r->w, old, &st, now) && restat(r, old, fd) == 0) {
		if (r->changed)
			old->changed_ns = now;
		return;
	}
	struct pm_snap *cur = pm_snap_read(fd);
	if (!cur)
		return;
	stamp(cur, old, &st, now);
	pm_snap_diff(old, cur, on_diff, r);
	if (r->changed)
		cur->changed_ns = now;
	pm_node_set_snap(n, cur); /* cannot fail: it replaces one */
	free(old);
}

static void pace(pymon_watcher *w, const struct round *r, uint64_t cpu_ns)
{
	if (r->units_polled) {
		double unit = (double)cpu_ns / (double)r->units_polled;
		w->poll_unit_ns = w->poll_unit_ns > 0 ? (3 * w->poll_unit_ns + unit) / 4 : unit;
	}
	if (w->poll_unit_ns <= 0)
		return;
	double full = w->poll_unit_ns * (double)r->units_all;
	double budget = (double)w->poll_interval_ms * 1e6 * BUDGET_PERCENT / 100;
	unsigned most = most_rounds(w);
	unsigned stride = 1;
	if (full > budget && full > SPLIT_FLOOR_NS) {
		double k = full / budget;
		stride = k >= most ? most : (unsigned)k + ((double)(unsigned)k < k);
	}
	w->poll_stride = stride;
	if (stride > 1 && stride >= 2 * w->poll_said_stride && w->poll_round >= ANNOUNCE_AFTER_ROUNDS) {
		w->poll_said_stride = stride;
		pm_warn(w,
		        "polling %zu entries in %zu directories every %ums would take over %d%% of a core (about "
		        "%.0fms of CPU a round): directories changed in the last %llu minutes are still polled every "
		        "%ums, the others every %.1fs (a longer interval polls all of them every round)",
		        r->entries, r->dirs, w->poll_interval_ms, BUDGET_PERCENT, full / 1e6,
		        (unsigned long long)(HOT_NS / 60000000000ull), w->poll_interval_ms,
		        (double)stride * w->poll_interval_ms / 1000);
	}
}

/* Descriptors a round holds at once, one per polled level: below that
 * depth a directory is opened by its path (a deep tree must not run out
 * of descriptors). */
#define WALK_HELD_FDS 16

/* A directory on the walk's way down, opened only when something below it
 * needs its descriptor: one polled this round, or not due but above one
 * that is (see "a round within its budget"). */
struct lazy_dir {
	const struct lazy_dir *up;
	const struct pm_node *n;
	int fd;
	bool tried;
};

static int open_below(const struct lazy_dir *up, const struct pm_node *n)
{
	int parent_fd = -1;
	if (up && !up->tried) {
		struct lazy_dir *l = (struct lazy_dir *)up;
		l->tried = true;
		l->fd = open_below(l->up, l->n);
	}
	if (up)
		parent_fd = up->fd;
	return parent_fd >= 0 ? pm_sys.openat(parent_fd, n->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)
	                      : pm_node_open(n, NULL);
}

/* Pre-order walk of every polled node; children are linked before the
 * walk goes on, and nothing is dropped during the walk. A polled node is
 * opened relative to its polled parent's descriptor (one name to look up,
 * no path string); the top of a polled subtree, and what lies more than
 * WALK_HELD_FDS polled levels down, by its path. */
static void walk(struct round *r, struct pm_node *n, const struct lazy_dir *up, int held)
{
	for (; n; n = n->next) {
		/* Not polled, or too deep to hold a descriptor: below it, by path. */
		struct lazy_dir here = {.up = up, .n = n, .fd = -1, .tried = true};
		const struct pm_snap *s = pm_node_snap(n);
		if (s) {
			r->any = true;
			r->dirs++;
			r->entries += s->count;
			r->units_all += 2 + s->count;
			if (pm_poll_due(r->w, n, s, r->now)) {
				r->units_polled += 2 + s->count;
				here.fd = open_below(up, n);
				/* Gone (its parent's round reports it) or unreadable. */
				if (here.fd >= 0)
					poll_dir(r, n, here.fd);
				struct pm_snap *polled = pm_node_snap(n); /* poll_dir may replace it */
				if (polled)
					polled->polled_round = r->w->poll_round;
			} else {
				here.tried = held >= WALK_HELD_FDS;
			}
			if (here.fd >= 0 && held >= WALK_HELD_FDS) {
				close(here.fd);
				here.fd = -1;
			}
		}
		walk(r, n->child, &here, here.fd >= 0 || !here.tried ? held + 1 : held);
		if (here.fd >= 0)
			close(here.fd);
	}
}

static void scan_failed(pymon_watcher *w, pymon_error *err)
{
	pm_warn(w, "%s", err->message);
}

static bool below(const struct pm_node *n, const struct pm_node *top)
{
	for (; n; n = n->parent)
		if (n == top)
			return true;
	return false;
}

/* Drops a directory node, and forgets the changes found below it this
 * round (their nodes go with it). */
static void drop_dir(struct round *r, struct pm_node *child)
{
	for (size_t i = 0; i < r->ngone; i++)
		if (r->gone[i].dir && below(r->gone[i].dir, child))
			r->gone[i].dir = NULL;
	for (size_t i = 0; i < r->nborn; i++)
		if (r->born[i].dir && below(r->born[i].dir, child))
			r->born[i].dir = NULL;
	pm_node_drop(r->w, child, -1);
}

static void settle(struct round *r)
{
	pymon_watcher *w = r->w;
	/* A vanished and an appeared entry with the same inode: a move. */
	for (size_t i = 0; i < r->nborn; i++) {
		struct change *b = &r->born[i];
		for (size_t k = 0; k < r->ngone && !b->paired && b->dir; k++) {
			struct change *g = &r->gone[k];
			if (!g->dir || g->paired || g->ino != b->ino || g->is_dir != b->is_dir || g->dir->root->obs != b->dir->root->obs)
				continue;
			g->paired = b->paired = true;
			/* Same name, same directory: an inode reused at once, or a
			 * type change; either way not a move. */
			if (g->dir == b->dir && strcmp(g->name, b->name) == 0) {
				g->paired = b->paired = false;
				continue;
			}
			bool src = pm_visible(g->dir, g->name, g->is_dir), dst = pm_visible(b->dir, b->name, b->is_dir);
			if (src && dst)
				pm_observer_event(b->dir, b->name, PYMON_MOVE, b->is_dir, g->display);
			else if (dst)
				pm_observer_event(b->dir, b->name, PYMON_CREATE, b->is_dir, NULL);
			else if (src)
				pm_observer_event(g->dir, g->name, PYMON_DELETE, g->is_dir, NULL);
			if (b->is_dir) {
				struct pm_node *child = pm_node_find_child(g->dir, g->name);
				bool keep = child && child->root == b->dir->root && !pm_ignored(b->dir, b->name, true, NULL, 0);
				if (keep && pm_node_rename(child, b->dir, b->name) == 0)
					continue;
				if (child)
					drop_dir(r, child);
				b->paired = false; /* scanned below as new */
			}
		}
	}
	/* Files replaced under the same name (atomic saves): a change. */
	for (size_t i = 0; i < r->nborn; i++) {
		struct change *b = &r->born[i];
		for (size_t k = 0; k < r->ngone && !b->paired && b->dir; k++) {
			struct change *g = &r->gone[k];
			if (g->dir && !g->paired && !b->is_dir && !g->is_dir && g->dir == b->dir && strcmp(g->name, b->name) == 0) {
				g->paired = b->paired = true;
				pm_observer_event(b->dir, b->name, PYMON_MODIFY, false, NULL);
			}
		}
	}
	for (size_t k = 0; k < r->ngone; k++) {
		struct change *g = &r->gone[k];
		if (g->paired || !g->dir)
			continue;
		pm_observer_event(g->dir, g->name, PYMON_DELETE, g->is_dir, NULL);
		if (g->is_dir) {
			struct pm_node *child = pm_node_find_child(g->dir, g->name);
			if (child)
				drop_dir(r, child);
		}
	}
	for (size_t i = 0; i < r->nborn; i++) {
		struct change *b = &r->born[i];
		if ((b->paired && !b->is_dir) || !b->dir)
			continue;
		if (!b->paired)
			pm_observer_event(b->dir, b->name, PYMON_CREATE, b->is_dir, NULL);
		if (b->is_dir && !pm_node_find_child(b->dir, b->name) && !b->dir->root->file &&
		    !pm_ignored(b->dir, b->name, true, NULL, 0)) {
			pymon_error err = {0};
			if (pm_scan(w, b->dir->root, b->dir, b->name, true, &err) < 0)
				scan_failed(w, &err);
		}
	}
}

static void free_changes(struct change *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].display);
	}
	free(v);
}

static void arm(pymon_watcher *w, unsigned ms)
{
	struct itimerspec its = {0};
	if (ms) {
		its.it_value.tv_sec = its.it_interval.tv_sec = ms / 1000;
		its.it_value.tv_nsec = its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000L;
	}
	timerfd_settime(w->poll_src.fd, 0, &its, NULL);
	w->poll_armed = ms != 0;
}

static void round_ready(pymon_watcher *w, struct pm_source *src, uint32_t events)
{
	(void)events;
	uint64_t ticks;
	while (read(src->fd, &ticks, sizeof ticks) < 0 && errno == EINTR)
		;
	struct round r = {.w = w, .now = clock_ns(CLOCK_MONOTONIC)};
	uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (pymon_observer *o = w->observers; o; o = o->next)
		for (struct pm_root *root = o->roots; root; root = root->next)
			if (root->node)
				walk(&r, root->node, NULL, 0);
	cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu;
	w->poll_round++;
	pace(w, &r, cpu);
	settle(&r);
	free_changes(r.gone, r.ngone);
	free_changes(r.born, r.nborn);
	if (!r.any)
		arm(w, 0); /* nothing is polled any more: no wake-ups */
}

int pm_poll_setup(pymon_watcher *w)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	w->poll_src = (struct pm_source){.fd = fd, .ready = round_ready};
	int r = pm_loop_add(w, &w->poll_src, EPOLLIN);
	if (r < 0) {
		close(fd);
		w->poll_src.fd = -1;
	}
	return r;
}

int pm_poll_node(pymon_watcher *w, struct pm_node *n, int dirfd, const struct stat *dir)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC); /* before the listing, as in a round */
	struct pm_snap *s = pm_snap_read(dirfd);
	if (!s || lseek(dirfd, 0, SEEK_SET) < 0) { /* the scan reads it again */
		free(s);
		return -ENOMEM;
	}
	struct pm_snap *old = pm_node_snap(n);
	stamp(s, old, dir, now);
	if (!old) {
		s->polled_round = w->poll_round;
		if (w->poll_round)
			s->changed_ns = now; /* new since polling began: busy */
	}
	if (pm_node_set_snap(n, s) < 0) {
		free(s);
		return -ENOMEM;
	}
	if (!old)
		w->npolled++;
	free(old);
	if (w->poll_src.fd < 0 && pm_poll_setup(w) < 0)
		return -ENOMEM;
	if (!w->poll_armed)
		arm(w, w->poll_interval_ms);
	return 0;
}

void pm_poll_free(pymon_watcher *w)
{
	if (w->poll_src.fd >= 0) {
		pm_loop_del(w, &w->poll_src);
		close(w->poll_src.fd);
		w->poll_src.fd = -1;
	}
}

/* PYMON_POLL from the environment: "1" polls everything, "0" never polls,
 * a duration ("250ms", "2s") polls everything at that interval. */
int pm_poll_from_env(pymon_watcher *w, pymon_error *err)
{
	const char *v = getenv("PYMON_POLL");
	if (!v || !*v)
		return 0;
	if (strcmp(v, "0") == 0) {
		w->poll_mode = PYMON_POLL_NEVER;
		return 0;
	}
	if (strcmp(v, "1") == 0) {
		w->poll_mode = PYMON_POLL_ALWAYS;
		w->poll_by_env = true;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	unsigned long ms = strcmp(end, "ms") == 0 ? n : strcmp(end, "s") == 0 ? n * 1000 : 0;
	if (errno || end == v || !ms || ms > 3600000ul)
		return pm_err(err, -EINVAL,
		              "PYMON_POLL: invalid value '%s' (expected 1, 0 or an interval from 1ms to 3600s, e.g. 500ms)",
		              v);
	w->poll_mode = PYMON_POLL_ALWAYS;
	w->poll_by_env = true;
	w->poll_interval_ms = (unsigned)ms;
	return 0;
}

PM_API int pymon_watcher_poll(pymon_watcher *w, enum pymon_poll mode, unsigned interval_ms, unsigned flags,
                              pymon_error *err)
{
	if (flags & ~(unsigned)PYMON_POLL_ON_LIMIT)
		return pm_err(err, -EINVAL, "unknown polling flags 0x%x", flags);
	if (mode != PYMON_POLL_AUTO && mode != PYMON_POLL_ALWAYS && mode != PYMON_POLL_NEVER)
		return pm_err(err, -EINVAL, "unknown polling mode %d", (int)mode);
	if (mode == PYMON_POLL_NEVER && w->ifd < 0)
		return pm_err(err, -ENOSYS, "polling is refused, but inotify is not available: %s", w->poll_reason);
	if (w->started)
		return pm_err(err, -EBUSY, "set the polling mode before the watcher starts");
	w->poll_mode = mode;
	w->poll_by_env = false;
	w->poll_flags = flags;
	if (interval_ms)
		w->poll_interval_ms = interval_ms;
	return 0;
}
