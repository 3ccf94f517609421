/* The polling backend: snapshot diffs (pure), file-system classification
 * by f_type through the seam (blind file systems polled, ext4/tmpfs/
 * overlay/btrfs/xfs not), the fallback when inotify_init1 fails with
 * ENOSYS, polling on the watch limit, and a round that sees changes. */
#include "harness.h"
#include "support.h"
#include "base/sys.h"
#include "core/poll.h"
#include "core/watcher.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct diff_log {
	char text[1024];
};

static void log_diff(void *ud, enum pm_snap_op op, const struct pm_snap *s, const struct pm_snap_entry *e)
{
	struct diff_log *l = ud;
	const char *ops[] = {"gone", "new", "changed"};
	size_t n = strlen(l->text);
	snprintf(l->text + n, sizeof l->text - n, "%s%s:%s", n ? " " : "", ops[op], pm_snap_name(s, e));
}

static struct pm_snap_entry st(uint64_t ino, int64_t mtime, uint64_t size, uint32_t mode)
{
	return (struct pm_snap_entry){.ino = ino, .mtime_ns = mtime, .size = size, .mode = mode};
}

TEST(poll_snapshot_diff_reports_each_kind)
{
	const char *a_names[] = {"same", "gone.py", "written.py", "chmod.py", "swapped", "dir"};
	struct pm_snap_entry a_st[] = {st(1, 10, 5, S_IFREG | 0644), st(2, 10, 5, S_IFREG | 0644),
	                               st(3, 10, 5, S_IFREG | 0644), st(4, 10, 5, S_IFREG | 0644),
	                               st(5, 10, 5, S_IFREG | 0644), st(6, 10, 0, S_IFDIR | 0755)};
	const char *b_names[] = {"written.py", "same", "new.py", "chmod.py", "swapped", "dir"};
	struct pm_snap_entry b_st[] = {st(3, 20, 5, S_IFREG | 0644), st(1, 10, 5, S_IFREG | 0644),
	                               st(7, 10, 5, S_IFREG | 0644), st(4, 10, 5, S_IFREG | 0600),
	                               st(8, 10, 5, S_IFREG | 0644), st(6, 30, 0, S_IFDIR | 0755)};
	struct pm_snap *a = pm_snap_build(a_names, a_st, 6), *b = pm_snap_build(b_names, b_st, 6);
	CHECK(a && b);
	/* sorted by name */
	CHECK_STR(pm_snap_name(a, &a->e[0]), "chmod.py");
	struct diff_log l = {0};
	pm_snap_diff(a, b, log_diff, &l);
	CHECK_STR(l.text, "changed:chmod.py changed:dir gone:gone.py new:new.py gone:swapped new:swapped "
	                  "changed:written.py");
	struct diff_log none = {0};
	pm_snap_diff(b, b, log_diff, &none);
	CHECK_STR(none.text, "");
	struct diff_log all = {0};
	pm_snap_diff(NULL, a, log_diff, &all);
	CHECK_CONTAINS(all.text, "new:same");
	free(a);
	free(b);
}

TEST(poll_snapshot_costs_32_bytes_plus_the_name)
{
	CHECK_INT((int)sizeof(struct pm_snap_entry), 32);
}

TEST(poll_blind_file_systems_by_magic)
{
	static const struct {
		long magic;
		const char *name;
	} blind[] = {{0x6969, "nfs"},          {0x517B, "smb"},        {(long)0xFF534D42, "cifs"},
	             {(long)0xFE534D42, "smb2"}, {0x01021997, "9p"},    {0x65735546, "fuse"},
	             {0x5346414F, "afs"},       {0x6B414653, "afs"},   {0x00C36400, "ceph"},
	             {0x786F4256, "vboxsf"}};
	for (size_t i = 0; i < sizeof blind / sizeof blind[0]; i++) {
		const char *name = NULL;
		CHECK(pm_fs_blind(blind[i].magic, &name));
		CHECK_STR(name, blind[i].name);
	}
	/* ext4, tmpfs, overlayfs, btrfs, xfs: inotify sees everything */
	const long seeing[] = {0xEF53, 0x01021994, 0x794c7630, 0x9123683E, 0x58465342};
	for (size_t i = 0; i < sizeof seeing / sizeof seeing[0]; i++)
		CHECK(!pm_fs_blind(seeing[i], NULL));
}

struct seen {
	int batches;
	char paths[2048];
};

static void on_batch(pymon_observer *o, const pymon_batch *b, void *ud)
{
	(void)o;
	struct seen *s = ud;
	s->batches++;
	for (size_t i = 0; i < b->count; i++) {
		size_t n = strlen(s->paths);
		snprintf(s->paths + n, sizeof s->paths - n, "%s%s %s", n ? "," : "", pymon_kind_name(b->events[i].kind),
		         strrchr(b->events[i].path, '/') + 1);
	}
}

static void pump(pymon_watcher *w, struct seen *s, int batches, int ms)
{
	pm_test_dispatch_until(w, &s->batches, batches, ms);
}

static void touch(const char *rel)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", pm_test_tmpdir(), rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, "x\n", 2) == 2);
	close(fd);
}

static char warned[512];
static void on_warn(const char *msg, void *ud)
{
	(void)ud;
	snprintf(warned, sizeof warned, "%s", msg);
}

static pymon_watcher *polled_watcher(struct seen *s, pymon_error *err)
{
	pymon_watcher *w = pymon_watcher_new(err);
	CHECK(w != NULL);
	pymon_watcher_on_warning(w, on_warn, NULL);
	pymon_observer *o = pymon_observer_new(w, err);
	CHECK(o != NULL);
	CHECK_INT(pymon_observer_add(o, pm_test_tmpdir(), err), 0);
	pymon_observer_delay(o, 0);
	CHECK_INT(pymon_observer_callback(o, on_batch, s, err), 0);
	return w;
}

static int nfs_statfs(int fd, struct statfs *buf)
{
	int r = pm_sys_real.fstatfs(fd, buf);
	buf->f_type = 0x6969;
	return r;
}

TEST(poll_nfs_root_is_polled_and_sees_a_change)
{
	pm_sys.fstatfs = nfs_statfs;
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = polled_watcher(&s, &err);
	CHECK_INT(pymon_watcher_poll(w, PYMON_POLL_AUTO, 20, 0, &err), 0);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_CONTAINS(warned, "polling ");
	CHECK_CONTAINS(warned, "every 20ms (nfs: ");
	CHECK_INT((int)w->nwatches, 0);
	CHECK_INT((int)pymon_watcher_watch_count(w), 1);
	touch("a.py");
	pump(w, &s, 1, 3000);
	CHECK_STR(s.paths, "create a.py");
	pymon_watcher_free(w);
}

TEST(poll_never_keeps_inotify_on_a_blind_file_system)
{
	pm_sys.fstatfs = nfs_statfs;
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = polled_watcher(&s, &err);
	CHECK_INT(pymon_watcher_poll(w, PYMON_POLL_NEVER, 0, 0, &err), 0);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_INT((int)w->nwatches, 1);
	CHECK_INT((int)w->npolled, 0);
	pymon_watcher_free(w);
}

static int no_inotify(int flags)
{
	(void)flags;
	errno = ENOSYS;
	return -1;
}

TEST(poll_enosys_from_inotify_falls_back_to_polling)
{
	pm_sys.inotify_init1 = no_inotify;
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = polled_watcher(&s, &err);
	CHECK_INT(pymon_watcher_poll(w, PYMON_POLL_AUTO, 20, 0, &err), 0);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_CONTAINS(warned, "inotify is not available");
	mkdir(strcat(strcpy((char[512]){0}, pm_test_tmpdir()), "/sub"), 0755);
	touch("sub/b.py");
	pump(w, &s, 1, 3000);
	CHECK_CONTAINS(s.paths, "b.py");
	/* refusing to poll without inotify is an error, not deafness */
	CHECK_INT(pymon_watcher_poll(w, PYMON_POLL_NEVER, 0, 0, &err), -ENOSYS);
	pymon_watcher_free(w);
}

TEST(poll_on_limit_polls_what_cannot_be_watched)
{
	char p[512];
	snprintf(p, sizeof p, "%s/deep", pm_test_tmpdir());
	CHECK(mkdir(p, 0755) == 0);
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = polled_watcher(&s, &err);
	CHECK_INT(pymon_watcher_poll(w, PYMON_POLL_AUTO, 20, PYMON_POLL_ON_LIMIT, &err), 0);
	pm_test_limit_watches(1);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_CONTAINS(warned, "fs.inotify.max_user_watches");
	CHECK_INT((int)w->nwatches, 1);
	CHECK_INT((int)w->npolled, 1);
	touch("deep/c.py");
	pump(w, &s, 1, 3000);
	CHECK_STR(s.paths, "create c.py");
	pymon_watcher_free(w);
}

TEST(poll_env_value_is_checked)
{
	pymon_error err = {0};
	setenv("PYMON_POLL", "fast", 1);
	CHECK(pymon_watcher_new(&err) == NULL);
	CHECK_CONTAINS(err.message, "PYMON_POLL: invalid value 'fast'");
	setenv("PYMON_POLL", "250ms", 1);
	pymon_watcher *w = pymon_watcher_new(&err);
	CHECK(w != NULL);
	CHECK_INT((int)w->poll_mode, PYMON_POLL_ALWAYS);
	CHECK_INT((int)w->poll_interval_ms, 250);
	pymon_watcher_free(w);
	unsetenv("PYMON_POLL");
}

TEST(poll_says_who_asked_for_it)
{
	struct seen s = {0};
	pymon_error err = {0};
	setenv("PYMON_POLL", "1", 1);
	pymon_watcher *w = polled_watcher(&s, &err);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_CONTAINS(warned, "every 500ms (asked for by PYMON_POLL)");
	pymon_watcher_free(w);
	/* The program's own setting wins over the environment's. */
	w = polled_watcher(&s, &err);
	CHECK_INT(pymon_watcher_poll(w, PYMON_POLL_ALWAYS, 40, 0, &err), 0);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_CONTAINS(warned, "every 40ms (asked for)");
	pymon_watcher_free(w);
	unsetenv("PYMON_POLL");
}

/* ---- when a listing holds: the round's clock and the directory's times
 * come through the seam, so the tests move the one and freeze the other */

static uint64_t clock_ns = 1000ull * 1000000000ull;
static int rounds, listings;
static bool frozen_times; /* a file system that does not keep directory times */
/* The round's CPU time (a round reads it twice), and what polling one
 * directory costs by it. */
static uint64_t cpu_ns, cpu_per_poll;
static int cpu_reads;

static int fake_clock(clockid_t clock, struct timespec *ts)
{
	uint64_t t = clock_ns;
	if (clock == CLOCK_THREAD_CPUTIME_ID) {
		cpu_reads++;
		t = cpu_ns;
	}
	ts->tv_sec = (time_t)(t / 1000000000u);
	ts->tv_nsec = (long)(t % 1000000000u);
	return 0;
}

static int counted_fstat(int fd, struct stat *st)
{
	rounds++; /* one polled directory: one fstat per round */
	cpu_ns += cpu_per_poll;
	int r = pm_sys_real.fstat(fd, st);
	if (frozen_times)
		st->st_mtim = st->st_ctim = (struct timespec){.tv_sec = 1};
	return r;
}

static ssize_t counted_getdents(int fd, void *buf, size_t len)
{
	ssize_t r = pm_sys_real.getdents64(fd, buf, len);
	listings += r > 0;
	return r;
}

static void await_rounds(pymon_watcher *w, int more)
{
	CHECK(pm_test_dispatch_until(w, &rounds, rounds + more, 3000));
}

static pymon_watcher *timed_watcher(struct seen *s)
{
	pm_sys.clock_gettime = fake_clock;
	pm_sys.fstat = counted_fstat;
	pm_sys.getdents64 = counted_getdents;
	pymon_error err = {0};
	pymon_watcher *w = polled_watcher(s, &err);
	CHECK_INT(pymon_watcher_poll(w, PYMON_POLL_ALWAYS, 20, 0, &err), 0);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	return w;
}

static void append(const char *rel)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", pm_test_tmpdir(), rel);
	int fd = open(p, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK(write(fd, "more\n", 5) == 5);
	close(fd);
}

/* How many of the next n polls of the directory list it. */
static int listings_in(pymon_watcher *w, int n)
{
	int before = listings;
	await_rounds(w, n);
	return listings - before;
}

#define MS(x) ((uint64_t)(x) * 1000000ull)

TEST(poll_steady_directory_is_not_listed_again_its_files_are_still_stat_ed)
{
	touch("a.py");
	struct seen s = {0};
	pymon_watcher *w = timed_watcher(&s);
	/* The scan's one fstat gives the identity, the file system's mount
	 * and the snapshot's times. */
	CHECK_INT(rounds, 1);
	uint64_t t0 = clock_ns; /* the scan saw the times and listed */
	/* A listing holds once it was made 2 s after the times were first
	 * seen: at 1.9 s every round lists, the first one at 2 s is the last. */
	clock_ns = t0 + MS(1900);
	CHECK_INT(listings_in(w, 2), 2);
	clock_ns = t0 + MS(2000);
	CHECK_INT(listings_in(w, 1), 1);
	CHECK_INT(listings_in(w, 3), 0);
	/* 10 s after that listing one more, and then they hold again (the
	 * 10 s count from the listing, not from the times). */
	clock_ns = t0 + MS(11900);
	CHECK_INT(listings_in(w, 2), 0);
	clock_ns = t0 + MS(12000);
	CHECK_INT(listings_in(w, 1), 1);
	CHECK_INT(listings_in(w, 2), 0);
	int steady = listings;
	/* A write in place leaves the directory's times: the stat finds it. */
	append("a.py");
	pump(w, &s, 1, 3000);
	CHECK_STR(s.paths, "modify a.py");
	CHECK_INT(listings, steady);
	/* A new entry moves them: the directory is listed again. */
	touch("b.py");
	pump(w, &s, 2, 3000);
	CHECK_STR(s.paths, "modify a.py,create b.py");
	CHECK(listings > steady);
	pymon_watcher_free(w);
}

TEST(poll_listing_as_young_as_the_times_does_not_hold)
{
	/* Times that never move, and a clock that stands still: no listing
	 * is ever 2 s older than the times, so each round lists (a change in
	 * the same tick as a listing leaves a directory's times as they were). */
	frozen_times = true;
	struct seen s = {0};
	pymon_watcher *w = timed_watcher(&s);
	int before = listings;
	await_rounds(w, 2);
	CHECK(listings >= before + 2);
	touch("c.py");
	pump(w, &s, 1, 3000);
	CHECK_STR(s.paths, "create c.py");
	pymon_watcher_free(w);
}

TEST(poll_times_that_never_move_still_see_everything)
{
	frozen_times = true;
	touch("a.py");
	touch("b.py");
	struct seen s = {0};
	pymon_watcher *w = timed_watcher(&s);
	clock_ns += MS(3000);
	await_rounds(w, 1);
	int steady = listings;
	await_rounds(w, 2);
	CHECK_INT(listings, steady);
	/* A known entry gone: its stat fails and the round lists at once. */
	CHECK(unlink(strcat(strcpy((char[512]){0}, pm_test_tmpdir()), "/a.py")) == 0);
	pump(w, &s, 1, 3000);
	CHECK_STR(s.paths, "delete a.py");
	CHECK(listings > steady);
	/* A new entry under frozen times is not seen by the stats... */
	touch("c.py");
	await_rounds(w, 3);
	CHECK_INT(s.batches, 1);
	/* ...but every directory is listed in full at least every 10 s. */
	clock_ns += MS(10000);
	pump(w, &s, 2, 3000);
	CHECK_STR(s.paths, "delete a.py,create c.py");
	pymon_watcher_free(w);
}

TEST(poll_directory_replaced_under_frozen_times_is_seen_at_once)
{
	frozen_times = true;
	char sub[512], other[512];
	snprintf(sub, sizeof sub, "%s/sub", pm_test_tmpdir());
	snprintf(other, sizeof other, "%s/other", pm_test_tmpdir());
	CHECK(mkdir(sub, 0755) == 0);
	struct seen s = {0};
	pymon_watcher *w = timed_watcher(&s);
	clock_ns += MS(3000);
	await_rounds(w, 2); /* two polled directories: a round polls both */
	int steady = listings;
	await_rounds(w, 4);
	CHECK_INT(listings, steady);
	/* Another directory renamed over sub: the frozen times hide the new
	 * name, not the other inode under the old one. */
	CHECK(mkdir(other, 0755) == 0);
	touch("other/b.py");
	CHECK(rename(other, sub) == 0);
	pump(w, &s, 1, 3000);
	CHECK_CONTAINS(s.paths, "create b.py");
	pymon_watcher_free(w);
}

/* ---- a round within its budget: the CPU a round costs comes through the
 * seam, charged per polled directory */

/* Four directories of four files under the root, which holds them: five
 * polled directories of six units each (2 + their entries). */
static void four_by_four(void)
{
	const char *dirs[] = {"a", "b", "c", "d"};
	for (int i = 0; i < 4; i++) {
		char p[512];
		snprintf(p, sizeof p, "%s/%s", pm_test_tmpdir(), dirs[i]);
		CHECK(mkdir(p, 0755) == 0);
		for (int f = 0; f < 4; f++) {
			snprintf(p, sizeof p, "%s/f%d.py", dirs[i], f);
			touch(p);
		}
	}
}

static void await_polls(pymon_watcher *w, int n)
{
	CHECK(pm_test_dispatch_until(w, &cpu_reads, cpu_reads + 2 * n, 5000));
}

/* How many directories the next n rounds poll. */
static int polls_in(pymon_watcher *w, int n)
{
	int before = rounds;
	await_polls(w, n);
	return rounds - before;
}

static int opens;
static int counted_openat(int dirfd, const char *path, int flags, int mode)
{
	opens++;
	return pm_sys_real.openat(dirfd, path, flags, mode);
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	CHECK(d != NULL);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

TEST(poll_round_over_budget_polls_quiet_directories_in_turn)
{
	four_by_four();
	/* 2.1 ms per directory: 10.5 ms a round, 10.5 times the budget of a
	 * 20 ms interval (5 % of it, 1 ms) and over the 10 ms below which a
	 * round is never split: every 11th round. */
	cpu_per_poll = 2100000;
	pm_sys.openat = counted_openat;
	struct seen s = {0};
	pymon_watcher *w = timed_watcher(&s);
	await_polls(w, 1);
	CHECK_INT((int)w->poll_stride, 11);
	/* Said once the first listings are past (they cost more). */
	CHECK(!strstr(warned, "would take"));
	await_polls(w, 16);
	CHECK_CONTAINS(warned, "polling 20 entries in 5 directories every 20ms would take over 5% of a core (about ");
	CHECK_CONTAINS(warned, "ms of CPU a round): directories changed in the last 10 minutes are still polled "
	                       "every 20ms, the others every 0.2s");
	/* Each directory once in 11 rounds; a directory not due is opened
	 * only for a due child's sake, and every descriptor is closed. */
	int fds = open_fds(), opened = opens;
	CHECK_INT(polls_in(w, 11), 5);
	CHECK_INT(polls_in(w, 11), 5);
	CHECK(opens - opened <= 2 * 10);
	CHECK_INT(open_fds(), fds);
	/* A write in a quiet directory is found on its turn... */
	append("a/f1.py");
	pump(w, &s, 1, 3000);
	CHECK_STR(s.paths, "modify f1.py");
	/* ...and from then on that directory is polled every round (not its
	 * parent, whose entry for it only changed times). */
	CHECK_INT(polls_in(w, 11), 11 + 4);
	append("a/f2.py");
	int at = cpu_reads;
	pump(w, &s, 2, 3000);
	CHECK_STR(s.paths, "modify f1.py,modify f2.py");
	CHECK(cpu_reads - at <= 2 * 2); /* the next round, or the one after */
	/* A new file in another quiet directory, on its turn too (then one
	 * less, so that every directory costs the same again). */
	touch("c/new.py");
	pump(w, &s, 3, 3000);
	CHECK(unlink(strcat(strcpy((char[512]){0}, pm_test_tmpdir()), "/c/f3.py")) == 0);
	pump(w, &s, 4, 3000);
	CHECK_STR(s.paths, "modify f1.py,modify f2.py,create new.py,delete f3.py");
	CHECK_INT(polls_in(w, 11), 2 * 11 + 3);
	/* Ten minutes without a change: quiet again. */
	clock_ns += MS(601000);
	await_polls(w, 1);
	CHECK_INT((int)w->poll_stride, 11);
	CHECK_INT(polls_in(w, 11), 5);
	pymon_watcher_free(w);
}

TEST(poll_round_within_budget_or_cheap_polls_everything)
{
	four_by_four();
	/* 7.5 ms a round: over 5 % of 20 ms, but below 10 ms. */
	cpu_per_poll = 1500000;
	struct seen s = {0};
	pymon_watcher *w = timed_watcher(&s);
	await_polls(w, 1);
	CHECK_INT(polls_in(w, 6), 6 * 5);
	CHECK(w->poll_stride <= 1);
	CHECK_INT((int)w->poll_said_stride, 0);
	pymon_watcher_free(w);
}

TEST(poll_quiet_directory_is_polled_at_least_every_10s)
{
	four_by_four();
	cpu_per_poll = 1000000000; /* a second a directory */
	struct seen s = {0};
	pymon_watcher *w = timed_watcher(&s);
	await_polls(w, 1);
	CHECK_INT((int)w->poll_stride, 10000 / 20);
	await_polls(w, 16);
	CHECK_CONTAINS(warned, "the others every 10.0s");
	/* Whatever the stride does from round to round, a quiet directory
	 * waits at most 10 s (500 rounds of 20 ms): strides that flip between
	 * 19 and 20 each round, then 499 and 500, for every phase. */
	const struct pm_node *n = w->observers->roots->node;
	struct pm_snap quiet = {0};
	for (uint64_t ino = 1; ino < 200; ino++) {
		struct pm_node node = *n;
		node.ino = ino * 7919;
		for (unsigned base = 19; base < 500; base += 480) {
			quiet.polled_round = 1000;
			uint64_t gap = 0;
			for (w->poll_round = 1001; w->poll_round < 3000; w->poll_round++) {
				w->poll_stride = base + (unsigned)(w->poll_round & 1);
				if (pm_poll_due(w, &node, &quiet, clock_ns)) {
					if (w->poll_round - quiet.polled_round > gap)
						gap = w->poll_round - quiet.polled_round;
					quiet.polled_round = w->poll_round;
				}
			}
			CHECK(gap <= 500);
		}
	}
	/* Turns are spread: of 1,000 directories with inodes in sequence, at a
	 * stride of 10, each round polls about a tenth. */
	w->poll_stride = 10;
	quiet.polled_round = 10000;
	for (w->poll_round = 10001; w->poll_round <= 10010; w->poll_round++) {
		int dues = 0;
		for (uint64_t ino = 5000; ino < 6000; ino++) {
			struct pm_node node = *n;
			node.ino = ino;
			dues += pm_poll_due(w, &node, &quiet, clock_ns);
		}
		CHECK(dues >= 50 && dues <= 150);
	}
	/* Changed 599 s ago: busy, due in each of 500 rounds; 600 s ago:
	 * quiet, due once in them. */
	w->poll_stride = 500;
	for (int age = 599; age <= 600; age++) {
		quiet.changed_ns = clock_ns - MS(age * 1000);
		int dues = 0;
		for (w->poll_round = 5000; w->poll_round < 5500; w->poll_round++) {
			quiet.polled_round = w->poll_round - 1;
			dues += pm_poll_due(w, n, &quiet, clock_ns);
		}
		CHECK_INT(dues, age == 599 ? 500 : 1);
	}
	/* Their listings are trusted for four turns (a full listing costs
	 * twice the stats); busy ones, or with every directory every round
	 * at any interval, 10 s. */
	w->poll_interval_ms = 20;
	CHECK(pm_poll_relist_ns(w, false) == 40ull * 1000000000u);
	CHECK(pm_poll_relist_ns(w, true) == 10ull * 1000000000u);
	w->poll_stride = 1;
	w->poll_interval_ms = 4000;
	CHECK(pm_poll_relist_ns(w, false) == 10ull * 1000000000u);
	w->poll_stride = 12;
	w->poll_interval_ms = 500;
	CHECK(pm_poll_relist_ns(w, false) == 24ull * 1000000000u);
	pymon_watcher_free(w);
}
