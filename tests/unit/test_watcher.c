/* The watcher against the real kernel in a temp dir, with failures
 * injected through the syscall seam: limits, permission races, EINTR,
 * debounce timing and an idle loop that never wakes. */
#include "harness.h"
#include "support.h"
#include "core/watcher.h"
#include "filter/rules.h"
#include "base/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

static void mk(const char *rel)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/%s", pm_test_tmpdir(), rel);
	CHECK(mkdir(p, 0755) == 0);
}

static void touch(const char *rel)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/%s", pm_test_tmpdir(), rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, "x\n", 2) == 2);
	close(fd);
}

struct seen {
	int batches;
	size_t events;
	char last[1024];
	int stop;
};

static void on_batch(pymon_observer *o, const pymon_batch *b, void *ud)
{
	struct seen *s = ud;
	s->batches++;
	s->events += b->count;
	if (b->count)
		snprintf(s->last, sizeof s->last, "%s %s", pymon_kind_name(b->events[b->count - 1].kind),
		         b->events[b->count - 1].path);
	if (s->stop)
		pymon_watcher_stop(pymon_observer_watcher(o), 7);
}

/* A watcher with one observer of root (the temp dir when NULL). */
static pymon_watcher *make_at(struct seen *s, unsigned delay, const char *root, pymon_error *err)
{
	pymon_watcher *w = pymon_watcher_new(err);
	CHECK(w != NULL);
	pymon_observer *o = pymon_observer_new(w, NULL);
	CHECK(o != NULL);
	CHECK_INT(pymon_observer_add(o, root ? root : pm_test_tmpdir(), err), 0);
	pymon_observer_delay(o, delay);
	pymon_observer_callback(o, on_batch, s, NULL);
	return w;
}

static pymon_watcher *make(struct seen *s, unsigned delay, pymon_error *err)
{
	return make_at(s, delay, NULL, err);
}

/* Dispatches until that many batches or the deadline. */
static void pump(pymon_watcher *w, struct seen *s, int batches, int ms)
{
	pm_test_dispatch_until(w, &s->batches, batches, ms);
}

static int fail_emfile(int flags)
{
	(void)flags;
	errno = EMFILE;
	return -1;
}

TEST(seam_emfile_names_max_user_instances)
{
	pymon_error err = {0};
	pm_sys.inotify_init1 = fail_emfile;
	CHECK(pymon_watcher_new(&err) == NULL);
	CHECK_INT(err.code, -EMFILE);
	CHECK_CONTAINS(err.message, "fs.inotify.max_user_instances = ");
	CHECK_CONTAINS(err.message, "sudo sysctl fs.inotify.max_user_instances=");
}

TEST(seam_enospc_names_max_user_watches_and_path)
{
	mk("a");
	mk("a/b");
	mk("c");
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 0, &err);
	pm_test_limit_watches(2);
	CHECK_INT(pymon_watcher_start(w, &err), -ENOSPC);
	CHECK_CONTAINS(err.message, "fs.inotify.max_user_watches = ");
	CHECK_CONTAINS(err.message, "sudo sysctl fs.inotify.max_user_watches=");
	CHECK_CONTAINS(err.message, pm_test_tmpdir());
	/* How many it wanted, and where they are: the root, a, a/b, c. */
	CHECK_CONTAINS(err.message, "the tree wants 4 directories");
	CHECK_CONTAINS(err.message, " directory - add -i ");
	pymon_watcher_free(w);
}

/* The directory cannot be opened (as a race with chmod would do). */
static int eacces_open(int dirfd, const char *path, int flags, int mode)
{
	/* A full path, or a name relative to the parent's descriptor. */
	const char *s = strrchr(path, '/');
	if (strcmp(s ? s + 1 : path, "secret") == 0) {
		errno = EACCES;
		return -1;
	}
	return pm_sys_real.openat(dirfd, path, flags, mode);
}

static int warnings;
static char warning[512];
static void on_warn(const char *msg, void *ud)
{
	(void)ud;
	warnings++;
	snprintf(warning, sizeof warning, "%s", msg);
}

TEST(seam_eacces_on_subdir_warns_once_and_goes_on)
{
	mk("ok");
	mk("secret");
	mk("secret/inner");
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 0, &err);
	pymon_watcher_on_warning(w, on_warn, NULL);
	pm_sys.openat = eacces_open;
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_INT(warnings, 1);
	CHECK_CONTAINS(warning, "secret");
	CHECK_CONTAINS(warning, "Permission denied");
	CHECK_INT(pymon_watcher_watch_count(w), 2); /* root and ok/ */
	touch("ok/f.py");
	pump(w, &s, 1, 3000);
	CHECK_INT(s.batches, 1);
	CHECK_CONTAINS(s.last, "ok/f.py");
	pymon_watcher_free(w);
}

/* The directory opens but cannot be listed (EIO from the disk). */
static ino_t broken_ino;
static ssize_t eio_getdents(int fd, void *buf, size_t len)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_ino == broken_ino) {
		errno = EIO;
		return -1;
	}
	return pm_sys_real.getdents64(fd, buf, len);
}

TEST(seam_unreadable_directory_is_named_in_the_warning)
{
	mk("fine");
	mk("broken");
	char p[512];
	snprintf(p, sizeof p, "%s/broken", pm_test_tmpdir());
	struct stat st;
	CHECK(stat(p, &st) == 0);
	broken_ino = st.st_ino;
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 0, &err);
	warnings = 0;
	pymon_watcher_on_warning(w, on_warn, NULL);
	pm_sys.getdents64 = eio_getdents;
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_INT(warnings, 1);
	CHECK_CONTAINS(warning, "cannot read ");
	CHECK_CONTAINS(warning, p);
	CHECK_CONTAINS(warning, "Input/output error");
	pymon_watcher_free(w);
}

static int eintr_reads;
static ssize_t eintr_read(int fd, void *buf, size_t len)
{
	if (eintr_reads-- > 0) {
		errno = EINTR;
		return -1;
	}
	return pm_sys_real.read(fd, buf, len);
}

TEST(seam_eintr_on_inotify_read_is_retried)
{
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 0, &err);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	eintr_reads = 3;
	pm_sys.read = eintr_read;
	touch("f.py");
	pump(w, &s, 1, 3000);
	CHECK_INT(s.batches, 1);
	CHECK_CONTAINS(s.last, "f.py");
	pymon_watcher_free(w);
}

static int eintr_waits;
static int eintr_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	if (eintr_waits-- > 0) {
		errno = EINTR;
		return -1;
	}
	return pm_sys_real.epoll_wait(epfd, ev, max, timeout);
}

TEST(seam_eintr_on_epoll_wait_keeps_observing)
{
	struct seen s = {.stop = 1};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 0, &err);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	touch("queued.py"); /* queued before the loop runs */
	eintr_waits = 2;
	pm_sys.epoll_wait = eintr_epoll_wait;
	CHECK_INT(pymon_observe(w, &err), 7);
	CHECK_INT(s.batches, 1);
	CHECK_CONTAINS(s.last, "queued.py");
	pymon_watcher_free(w);
}

static int eintr_dents;
static ssize_t eintr_getdents(int fd, void *buf, size_t len)
{
	if (eintr_dents-- > 0) {
		errno = EINTR;
		return -1;
	}
	return pm_sys_real.getdents64(fd, buf, len);
}

TEST(seam_eintr_during_scan_loses_no_directory)
{
	mk("a");
	mk("a/b");
	mk("c");
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 0, &err);
	eintr_dents = 5;
	pm_sys.getdents64 = eintr_getdents;
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_INT(pymon_watcher_watch_count(w), 4);
	pymon_watcher_free(w);
}

TEST(watcher_missing_root_names_the_path)
{
	pymon_error err = {0};
	pymon_watcher *w = pymon_watcher_new(&err);
	pymon_observer *o = pymon_observer_new(w, NULL);
	char p[512];
	snprintf(p, sizeof p, "%s/no-such-dir", pm_test_tmpdir());
	CHECK_INT(pymon_observer_add(o, p, &err), -ENOENT);
	CHECK_CONTAINS(err.message, "no-such-dir");
	CHECK_CONTAINS(err.message, "No such file or directory");
	pymon_watcher_free(w);
}

TEST(watcher_debounce_gathers_one_batch_after_quiet_period)
{
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 150, &err);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	uint64_t t0 = pm_now_ns();
	touch("1.py");
	touch("2.py");
	touch("3.py");
	pump(w, &s, 1, 3000);
	uint64_t elapsed = pm_now_ns() - t0;
	CHECK_INT(s.batches, 1);
	CHECK_INT(s.events, 3);
	CHECK(elapsed >= 150u * 1000000u);
	pymon_watcher_free(w);
}

TEST(watcher_delay_zero_fires_in_the_same_dispatch)
{
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 0, &err);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	touch("now.py");
	struct pollfd p = {.fd = pymon_watcher_fd(w), .events = POLLIN};
	CHECK_INT(poll(&p, 1, 3000), 1);
	CHECK_INT(pymon_watcher_dispatch(w, &err), 0);
	CHECK_INT(s.batches, 1);
	pymon_watcher_free(w);
}

TEST(watcher_idle_loop_has_nothing_armed)
{
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 50, &err);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	touch("x.py");
	pump(w, &s, 1, 3000);
	CHECK_INT(s.batches, 1);
	/* After the batch fired, nothing is pending: the timer is disarmed
	 * and the epoll fd stays quiet. */
	CHECK_INT(w->armed_ns, 0);
	struct itimerspec its;
	CHECK_INT(timerfd_gettime(w->tfd, &its), 0);
	CHECK_INT(its.it_value.tv_sec, 0);
	CHECK_INT(its.it_value.tv_nsec, 0);
	struct pollfd p = {.fd = pymon_watcher_fd(w), .events = POLLIN};
	CHECK_INT(poll(&p, 1, 200), 0);
	pymon_watcher_free(w);
}

TEST(watcher_parse_kinds_and_ext_errors_name_the_value)
{
	pymon_error err = {0};
	unsigned k = 0;
	CHECK_INT(pymon_parse_kinds("create, MODIFY", &k, &err), 0);
	CHECK_INT(k, PYMON_CREATE | PYMON_MODIFY);
	CHECK_INT(pymon_parse_kinds("all", &k, &err), 0);
	CHECK_INT(k, PYMON_ALL);
	CHECK_INT(pymon_parse_kinds("create,chnage", &k, &err), -EINVAL);
	CHECK_CONTAINS(err.message, "'chnage'");
	CHECK_INT(pymon_parse_kinds("", &k, &err), -EINVAL);
	pymon_watcher *w = pymon_watcher_new(&err);
	pymon_observer *o = pymon_observer_new(w, NULL);
	CHECK_INT(pymon_observer_ext(o, "py, .toml html", &err), 0);
	CHECK_INT(o->nexts, 3);
	CHECK(pm_ext_ok(o, "a.toml"));
	CHECK(!pm_ext_ok(o, "a.txt"));
	CHECK(!pm_ext_ok(o, ".py"));
	CHECK_INT(pymon_observer_ext(o, " , ", &err), -EINVAL);
	CHECK_INT(pymon_observer_ext(o, "a/b", &err), -EINVAL);
	CHECK_CONTAINS(err.message, "a/b");
	pymon_watcher_free(w);
}

/* The deleted root's parents come back while py-mon moves its wait down:
 * a/b/w (and a file in it) appear just before the watch on a exists, so
 * no event will ever name b. The wait looks again after each watch. */
static int racing_adds;
static int racing_add(int fd, const char *path, uint32_t mask)
{
	size_t n = strlen(path);
	if (!racing_adds && n >= 2 && strcmp(path + n - 2, "/a") == 0) {
		racing_adds++;
		mk("a/b");
		mk("a/b/w");
		touch("a/b/w/x.py");
	}
	return pm_sys_real.inotify_add_watch(fd, path, mask);
}

TEST(watcher_root_back_with_its_parents_in_one_race)
{
	mk("a");
	mk("a/b");
	mk("a/b/w");
	char root[512], p[600];
	snprintf(root, sizeof root, "%s/a/b/w", pm_test_tmpdir());
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make_at(&s, 0, root, &err);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_INT(rmdir(root), 0);
	snprintf(p, sizeof p, "%s/a/b", pm_test_tmpdir());
	CHECK_INT(rmdir(p), 0);
	snprintf(p, sizeof p, "%s/a", pm_test_tmpdir());
	CHECK_INT(rmdir(p), 0);
	pump(w, &s, 1, 2000); /* the root's deletion */
	racing_adds = 0;
	pm_sys.inotify_add_watch = racing_add;
	int before = s.batches;
	mk("a");
	pump(w, &s, before + 1, 3000);
	CHECK_INT(racing_adds, 1);
	CHECK(s.batches > before);
	CHECK_CONTAINS(s.last, "x.py");
	pymon_watcher_free(w);
}

/* Watches name the directory the scan holds open: at start, on the scan's
 * own thread, as "." after an fchdir() into it; where that thread cannot
 * be had or cannot have a working directory of its own (and for scans
 * while running), through /proc/PID/fd/N, or /proc/self/fd/N where /proc
 * is not this process's own (a pid namespace without its own /proc:
 * "/proc/PID" there is another process, whose descriptor N may be any
 * directory). What the seam saw on which thread, with which signals
 * blocked, is recorded for the checks. */
static char watched_as[4][64];
static int nwatched_as, adds_off_caller, adds_unblocked, adds_faults_blocked, chdirs_on_caller, chdirs_off_caller;
static pthread_t caller;
static int recording_add(int fd, const char *path, uint32_t mask)
{
	if (nwatched_as < 4)
		snprintf(watched_as[nwatched_as++], sizeof watched_as[0], "%s", path);
	if (!pthread_equal(pthread_self(), caller))
		adds_off_caller++;
	sigset_t now;
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	if (!sigismember(&now, SIGINT) || !sigismember(&now, SIGUSR1))
		adds_unblocked++;
	if (sigismember(&now, SIGSEGV) || sigismember(&now, SIGBUS))
		adds_faults_blocked++;
	return pm_sys_real.inotify_add_watch(fd, path, mask);
}

static int (*fchdir_then)(int fd) = NULL; /* after recording: the real one when NULL */
static int recording_fchdir(int fd)
{
	if (pthread_equal(pthread_self(), caller))
		chdirs_on_caller++;
	else
		chdirs_off_caller++;
	return fchdir_then ? fchdir_then(fd) : pm_sys_real.fchdir(fd);
}

static ssize_t foreign_proc(const char *path, char *buf, size_t len)
{
	if (strcmp(path, "/proc/self") == 0) {
		snprintf(buf, len, "%d", (int)getpid() + 1);
		return (ssize_t)strlen(buf);
	}
	return pm_sys_real.readlink(path, buf, len);
}

static int eperm_unshare(int flags)
{
	(void)flags;
	errno = EPERM;
	return -1;
}

static int eagain_thread(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	(void)t, (void)a, (void)fn, (void)arg;
	return EAGAIN;
}

static int eacces_fchdir(int fd)
{
	(void)fd;
	errno = EACCES;
	return -1;
}

/* Starts a watcher on the temp dir holding a/ and checks that both
 * watches were named with prefix (exactly, when exact). */
static void watch_paths_start_with(const char *prefix, bool exact)
{
	mk("a");
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 0, &err);
	nwatched_as = adds_off_caller = adds_unblocked = adds_faults_blocked = chdirs_on_caller = chdirs_off_caller = 0;
	caller = pthread_self();
	pm_sys.inotify_add_watch = recording_add;
	pm_sys.fchdir = recording_fchdir;
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_INT(nwatched_as, 2); /* the root and a */
	for (int i = 0; i < nwatched_as; i++)
		CHECK(exact ? strcmp(watched_as[i], prefix) == 0
		            : strncmp(watched_as[i], prefix, strlen(prefix)) == 0);
	CHECK_INT((int)pymon_watcher_watch_count(w), 2);
	CHECK_INT(chdirs_on_caller, 0);
	pymon_watcher_free(w);
}

TEST(watcher_watches_each_directory_as_dot_on_a_thread_that_moves_only_its_own_cwd)
{
	char before[512], after[512];
	CHECK(getcwd(before, sizeof before) != NULL);
	sigset_t mask_before, mask_after;
	pthread_sigmask(SIG_BLOCK, NULL, &mask_before);
	/* Where a seccomp profile refuses unshare() the scan uses /proc (the
	 * tests below force that); here (one test per process) ask first. */
	char prefix[64];
	snprintf(prefix, sizeof prefix, "/proc/%d/fd/", (int)getpid());
	bool own_cwd = pm_sys_real.unshare(CLONE_FS) == 0;
	if (!own_cwd)
		fprintf(stderr, "note: unshare(CLONE_FS) refused here (%s): the scan watches through /proc\n",
		        strerror(errno));
	watch_paths_start_with(own_cwd ? "." : prefix, own_cwd);
	CHECK_INT(adds_off_caller, 2);
	CHECK_INT(adds_unblocked, 0); /* no signal handler of the host's runs there */
	CHECK_INT(adds_faults_blocked, 0); /* but a crash there reaches its handler */
	CHECK(getcwd(after, sizeof after) != NULL);
	CHECK_STR(after, before);
	pthread_sigmask(SIG_BLOCK, NULL, &mask_after);
	CHECK_INT(sigismember(&mask_after, SIGINT), sigismember(&mask_before, SIGINT));
	CHECK_INT(sigismember(&mask_after, SIGUSR1), sigismember(&mask_before, SIGUSR1));
}

TEST(watcher_watches_a_directory_made_while_running_by_pid_on_the_callers_thread)
{
	mk("a");
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 0, &err);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	nwatched_as = adds_off_caller = chdirs_on_caller = 0;
	caller = pthread_self();
	pm_sys.inotify_add_watch = recording_add;
	pm_sys.fchdir = recording_fchdir;
	mk("a/b");
	touch("a/b/x.py");
	pump(w, &s, 1, 3000);
	CHECK_INT(nwatched_as, 1);
	char prefix[64];
	snprintf(prefix, sizeof prefix, "/proc/%d/fd/", (int)getpid());
	CHECK(strncmp(watched_as[0], prefix, strlen(prefix)) == 0);
	CHECK_INT(adds_off_caller, 0);
	CHECK_INT(chdirs_on_caller, 0);
	CHECK_INT((int)pymon_watcher_watch_count(w), 3);
	pymon_watcher_free(w);
}

TEST(watcher_watches_name_the_open_directory_by_pid_where_unshare_is_refused)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "/proc/%d/fd/", (int)getpid());
	pm_sys.unshare = eperm_unshare;
	watch_paths_start_with(prefix, false);
	CHECK_INT(adds_off_caller, 2);
}

TEST(watcher_watches_name_self_where_proc_is_another_namespaces)
{
	pm_sys.unshare = eperm_unshare;
	pm_sys.readlink = foreign_proc;
	watch_paths_start_with("/proc/self/fd/", false);
}

TEST(watcher_scans_on_the_callers_thread_when_no_thread_can_start)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "/proc/%d/fd/", (int)getpid());
	pm_sys.pthread_create = eagain_thread;
	sigset_t before, after;
	pthread_sigmask(SIG_BLOCK, NULL, &before);
	watch_paths_start_with(prefix, false);
	CHECK_INT(adds_off_caller, 0);
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	for (int sig = 1; sig < 32; sig++)
		CHECK_INT(sigismember(&after, sig), sigismember(&before, sig));
}

/* A root added to a started watcher is scanned the same way. */
TEST(watcher_scans_a_root_added_while_started_on_its_own_thread)
{
	mk("a");
	mk("b");
	mk("b/c");
	char b[512];
	snprintf(b, sizeof b, "%s/b", pm_test_tmpdir());
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = pymon_watcher_new(&err);
	pymon_observer *o = pymon_observer_new(w, &err);
	char a[512];
	snprintf(a, sizeof a, "%s/a", pm_test_tmpdir());
	CHECK_INT(pymon_observer_add(o, a, &err), 0);
	pymon_observer_callback(o, on_batch, &s, NULL);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	bool own_cwd = pm_sys_real.unshare(CLONE_FS) == 0;
	nwatched_as = adds_off_caller = 0;
	caller = pthread_self();
	pm_sys.inotify_add_watch = recording_add;
	CHECK_INT(pymon_observer_add(o, b, &err), 0);
	CHECK_INT(nwatched_as, 2); /* b and b/c */
	CHECK_INT(adds_off_caller, 2);
	for (int i = 0; own_cwd && i < nwatched_as; i++)
		CHECK_STR(watched_as[i], ".");
	CHECK_INT((int)pymon_watcher_watch_count(w), 3);
	touch("b/c/x.py");
	pump(w, &s, 1, 3000);
	CHECK_CONTAINS(s.last, "b/c/x.py");
	pymon_watcher_free(w);
}

/* The watch limit met at "." is the limit: /proc is not tried again. */
static int proc_tries;
static int nospc_at_dot(int fd, const char *path, uint32_t mask)
{
	if (strncmp(path, "/proc/", 6) == 0)
		proc_tries++;
	if (strcmp(path, ".") == 0) {
		errno = ENOSPC;
		return -1;
	}
	return pm_sys_real.inotify_add_watch(fd, path, mask);
}

TEST(watcher_stops_at_the_watch_limit_met_at_dot)
{
	if (pm_sys_real.unshare(CLONE_FS) != 0)
		return; /* no "." here: the /proc tests cover the limit */
	mk("a");
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 0, &err);
	proc_tries = 0;
	pm_sys.inotify_add_watch = nospc_at_dot;
	CHECK_INT(pymon_watcher_start(w, &err), -ENOSPC);
	CHECK_INT(proc_tries, 0);
	CHECK_CONTAINS(err.message, "max_user_watches");
	pymon_watcher_free(w);
}

/* Names of 255 bytes (NAME_MAX) and of 254 are read whole from a
 * listing, whose records give a name's length in one byte. */
TEST(watcher_scans_directories_with_names_of_254_and_255_bytes)
{
	char long255[256], long254[255], rel[600];
	memset(long255, 'x', 255);
	long255[255] = '\0';
	memset(long254, 'y', 254);
	long254[254] = '\0';
	mk(long255);
	snprintf(rel, sizeof rel, "%s/%s", long255, long254);
	mk(rel);
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 0, &err);
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_INT((int)pymon_watcher_watch_count(w), 3);
	snprintf(rel, sizeof rel, "%s/%s/f.py", long255, long254);
	touch(rel);
	pump(w, &s, 1, 3000);
	CHECK_INT(s.batches, 1);
	CHECK_CONTAINS(s.last, rel);
	pymon_watcher_free(w);
}

TEST(watcher_watches_by_pid_a_directory_it_cannot_fchdir_into)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "/proc/%d/fd/", (int)getpid());
	fchdir_then = eacces_fchdir;
	watch_paths_start_with(prefix, false);
	CHECK_INT(adds_off_caller, 2);
	if (pm_sys_real.unshare(CLONE_FS) == 0)
		CHECK_INT(chdirs_off_caller, 2); /* tried on the scan's thread, refused */
}

/* Warnings raised while the scan runs on its own thread reach the
 * embedder's callback on the embedder's thread, in the order raised,
 * before start returns. */
static char failed_dirs[2][512];
static int nfailed_dirs, warned_off_caller;
static char warned[2][512];
static int nwarned;
static ssize_t eio_in_x_and_y(int fd, void *buf, size_t len)
{
	char link[64], path[512];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof path - 1);
	path[n > 0 ? n : 0] = '\0';
	const char *base = strrchr(path, '/');
	if (base && (strcmp(base, "/x") == 0 || strcmp(base, "/y") == 0)) {
		if (nfailed_dirs < 2)
			snprintf(failed_dirs[nfailed_dirs++], sizeof failed_dirs[0], "%s", base + 1);
		errno = EIO;
		return -1;
	}
	return pm_sys_real.getdents64(fd, buf, len);
}

static void recording_warn(const char *msg, void *ud)
{
	(void)ud;
	if (!pthread_equal(pthread_self(), caller))
		warned_off_caller++;
	if (nwarned < 2)
		snprintf(warned[nwarned], sizeof warned[0], "%s", msg);
	nwarned++;
}

TEST(watcher_delivers_the_scans_warnings_on_the_callers_thread_in_order)
{
	mk("x");
	mk("y");
	struct seen s = {0};
	pymon_error err = {0};
	pymon_watcher *w = make(&s, 0, &err);
	pymon_watcher_on_warning(w, recording_warn, NULL);
	caller = pthread_self();
	nwatched_as = adds_off_caller = 0;
	pm_sys.inotify_add_watch = recording_add;
	pm_sys.getdents64 = eio_in_x_and_y;
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_INT(adds_off_caller, 3); /* the scan did run on its own thread */
	CHECK_INT(nfailed_dirs, 2);
	CHECK_INT(nwarned, 2);
	CHECK_INT(warned_off_caller, 0);
	for (int i = 0; i < 2 && i < nwarned; i++) {
		char want[16];
		snprintf(want, sizeof want, "/%s:", failed_dirs[i]);
		CHECK_CONTAINS(warned[i], want);
		CHECK_CONTAINS(warned[i], "cannot read");
	}
	pymon_watcher_free(w);
}

/* A warning callback that adds a root: while starting, the root is still
 * scanned before start returns; while running, its scan's warnings come
 * once each, after the ones that were being delivered. */
static pymon_observer *adding_to;
static char adding_root[512];
static char adding_seen[4][512];
static int adding_n;
static void adding_warn(const char *msg, void *ud)
{
	(void)ud;
	if (adding_n < 4)
		snprintf(adding_seen[adding_n], sizeof adding_seen[0], "%s", msg);
	if (adding_n++ == 0) {
		pymon_error err = {0};
		CHECK_INT(pymon_observer_add(adding_to, adding_root, &err), 0);
	}
}

static pymon_watcher *adding_watcher(const char *first_root)
{
	pymon_error err = {0};
	pymon_watcher *w = pymon_watcher_new(&err);
	adding_to = pymon_observer_new(w, &err);
	char p[512];
	snprintf(p, sizeof p, "%s/%s", pm_test_tmpdir(), first_root);
	CHECK_INT(pymon_observer_add(adding_to, p, &err), 0);
	pymon_watcher_on_warning(w, adding_warn, NULL);
	snprintf(adding_root, sizeof adding_root, "%s/q", pm_test_tmpdir());
	adding_n = 0;
	return w;
}

TEST(watcher_scans_a_root_a_warning_callback_adds_while_starting)
{
	mk("p");
	mk("p/x");
	mk("q");
	mk("q/y");
	pymon_watcher *w = adding_watcher("p");
	pm_sys.getdents64 = eio_in_x_and_y;
	pymon_error err = {0};
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	CHECK_INT(adding_n, 2);
	CHECK_CONTAINS(adding_seen[0], "/p/x");
	CHECK_CONTAINS(adding_seen[1], "/q/y");
	CHECK_INT((int)pymon_watcher_watch_count(w), 4); /* p, p/x, q, q/y */
	pymon_watcher_free(w);
}

TEST(watcher_delivers_warnings_once_when_a_warning_callback_adds_a_root)
{
	mk("a");
	mk("p");
	mk("p/x");
	mk("q");
	mk("q/y");
	pymon_watcher *w = adding_watcher("a");
	pymon_error err = {0};
	CHECK_INT(pymon_watcher_start(w, &err), 0);
	pm_sys.getdents64 = eio_in_x_and_y;
	char p[512];
	snprintf(p, sizeof p, "%s/p", pm_test_tmpdir());
	CHECK_INT(pymon_observer_add(adding_to, p, &err), 0);
	CHECK_INT(adding_n, 2);
	CHECK_CONTAINS(adding_seen[0], "/p/x");
	CHECK_CONTAINS(adding_seen[1], "/q/y");
	CHECK_INT((int)pymon_watcher_watch_count(w), 5);
	pymon_watcher_free(w);
}
