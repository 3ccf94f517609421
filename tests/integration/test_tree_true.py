"""The tree stays true (issue 12): the watch tree follows the disk through
moves out and back, exchanges, batch floods, stale git locks, atomic saves,
deep trees, unmounts and budget failures.

Each test drives tests/tools/eventdump (or py-mon) against the real kernel
in its own temporary directory and waits on conditions with deadlines.
"""
import ctypes
import os
import time

import subprocess

from support import TIMEOUT, EventDump, write
from test_engine import EngineTest, _Registered, has


class _Ns(EventDump, _Registered):
    """eventdump behind a prefix (a namespace wrapper), with a stdin pipe;
    registered with the test as soon as it exists."""

    def __init__(self, args, cwd, registry, prefix):
        self._registry = registry
        super().__init__(args, cwd, prefix=prefix, stdin=subprocess.PIPE)

AT_FDCWD = -100
RENAME_EXCHANGE = 2


def rename_exchange(a, b):
    """renameat2(a, b, RENAME_EXCHANGE): swaps two names atomically."""
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        raise OSError("renameat2 not in this libc")
    if fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


# ---- 1. a directory moved out and back inside the move grace ------------

class TestMovedOutAndBack(EngineTest):
    def test_dir_moved_out_and_back_stays_watched(self):
        write(self.path("sub", "f.py"))
        write(self.path("sub", "deep", "g.py"))
        out = self.outside()
        ed = self.start()
        w0 = ed.watches
        # Both renames land well inside the 10 ms move grace.
        os.rename(self.path("sub"), os.path.join(out, "sub"))
        os.rename(os.path.join(out, "sub"), self.path("sub"))
        ev = self.drain(ed)
        self.assertFalse(has(ev, "sub", "delete"), ev)
        self.assertEqual(ed.watches, w0)
        write(self.path("sub", "new.py"))
        ev = self.wait_event(ed, "sub/new.py", "create")
        self.assert_only(ev, {"sub/new.py"})
        write(self.path("sub", "deep", "h.py"))
        self.wait_event(ed, "sub/deep/h.py", "create")
        self.assertEqual(ed.watches, w0)

    def test_other_dir_swapped_in_under_the_name_is_watched(self):
        write(self.path("sub", "f.py"))
        out = self.outside()
        write(os.path.join(out, "other", "o.py"))
        ed = self.start()
        w0 = ed.watches
        os.rename(self.path("sub"), os.path.join(out, "sub"))
        os.rename(os.path.join(out, "other"), self.path("sub"))
        ev = self.drain(ed)
        self.assertTrue(has(ev, "sub/o.py", "create"), ev)
        self.assertEqual(ed.watches, w0)
        write(self.path("sub", "new.py"))
        ev = self.wait_event(ed, "sub/new.py", "create")
        self.assert_only(ev, {"sub/new.py"})
        # The old directory is outside now: its changes are not ours.
        write(os.path.join(out, "sub", "f.py"), "changed\n")
        ed.no_batch(0.3)

    def test_dir_renamed_inside_and_other_moved_in_under_old_name(self):
        write(self.path("a", "f.py"))
        out = self.outside()
        write(os.path.join(out, "x", "o.py"))
        ed = self.start()
        w0 = ed.watches
        os.rename(self.path("a"), self.path("b"))
        os.rename(os.path.join(out, "x"), self.path("a"))
        self.drain(ed)
        self.assertEqual(ed.watches, w0 + 1)
        write(self.path("a", "n1.py"))
        write(self.path("b", "n2.py"))
        ev = ed.events_until(lambda ev: has(ev, "a/n1.py", "create") and has(ev, "b/n2.py", "create"))
        self.assert_only(ev, {"a/n1.py", "b/n2.py"})


# ---- 2. renameat2(RENAME_EXCHANGE) --------------------------------------

class TestExchange(EngineTest):
    def test_exchange_two_dirs_keeps_true_names(self):
        write(self.path("c", "fc.py"))
        write(self.path("d", "fd.py"))
        ed = self.start()
        w0 = ed.watches
        rename_exchange(self.path("c"), self.path("d"))
        self.drain(ed)
        self.assertEqual(ed.watches, w0)
        write(self.path("c", "new.py"))
        ev = self.wait_event(ed, "c/new.py", "create")
        self.assert_only(ev, {"c/new.py"})
        write(self.path("d", "fc.py"), "changed\n")
        ev = self.wait_event(ed, "d/fc.py", "modify")
        self.assert_only(ev, {"d/fc.py"})

    def test_exchange_across_directories(self):
        write(self.path("p1", "c", "fc.py"))
        write(self.path("p2", "d", "fd.py"))
        ed = self.start()
        w0 = ed.watches
        rename_exchange(self.path("p1", "c"), self.path("p2", "d"))
        self.drain(ed)
        self.assertEqual(ed.watches, w0)
        write(self.path("p1", "c", "x.py"))
        write(self.path("p2", "d", "y.py"))
        ev = ed.events_until(lambda ev: has(ev, "p1/c/x.py", "create") and has(ev, "p2/d/y.py", "create"))
        self.assert_only(ev, {"p1/c/x.py", "p2/d/y.py"})

    def test_exchange_twice_is_back_to_start(self):
        write(self.path("c", "fc.py"))
        write(self.path("d", "fd.py"))
        ed = self.start()
        rename_exchange(self.path("c"), self.path("d"))
        rename_exchange(self.path("c"), self.path("d"))
        self.drain(ed)
        write(self.path("c", "fc.py"), "changed\n")
        ev = self.wait_event(ed, "c/fc.py", "modify")
        self.assert_only(ev, {"c/fc.py"})


# ---- 3. a batch never silently drops changes ----------------------------

class TestBatchBound(EngineTest):
    def test_past_the_bound_the_batch_carries_a_rescan_of_the_root(self):
        os.mkdir(self.path("src"))
        ed = self.start("--limit", "100", delay=300, root="src")
        for i in range(250):
            write(self.path("src", "f%03d.py" % i))
        ev = self.drain(ed, quiet=0.6)
        rescans = [e for e in ev if e[0] == "rescan"]
        self.assertEqual(rescans, [("rescan", "src", None, True)], ev[-5:])
        self.assertGreater(ed.last_dropped, 0)
        # 150 files were left out; each write is a create and a modify.
        self.assertEqual(len([e for e in ev if e[0] == "create"]), 100)
        self.assertGreaterEqual(ed.last_dropped, 150)

    def test_under_the_bound_no_rescan(self):
        ed = self.start("--limit", "100", delay=200)
        for i in range(50):
            write(self.path("f%03d.py" % i))
        ev = self.drain(ed, quiet=0.5)
        self.assertEqual(len(ev), 50)
        self.assertFalse(any(e[0] == "rescan" for e in ev), ev)

    def test_watch_json_reports_the_rescan(self):
        from support import PYMON, Proc
        import json
        p = Proc([PYMON, "watch", "--json", "-d", "300ms", "."], cwd=self.dir, merge_stderr=True)
        self.procs.append(p)
        p.wait_line(lambda l: "watching" in l)
        for i in range(10500):
            fd = os.open(self.path("f%05d" % i), os.O_WRONLY | os.O_CREAT, 0o644)
            os.close(fd)
        seen = p.wait_line(lambda l: l.startswith("{") and json.loads(l)["event"] == "rescan",
                           timeout=max(TIMEOUT, 30))
        self.assertEqual(json.loads(seen)["path"], ".")


# ---- 5. atomic saves: one entry for the final name ----------------------

class TestAtomicSave(EngineTest):
    def test_temp_written_and_renamed_is_one_entry(self):
        write(self.path("app.py"), "v1\n")
        ed = self.start(delay=200)
        write(self.path(".app.py.tmp123"), "v2\n")
        os.rename(self.path(".app.py.tmp123"), self.path("app.py"))
        ev = self.drain(ed, quiet=0.5)
        self.assertEqual(ev, [("create", "app.py", None, False)])

    def test_modified_then_renamed_is_modify_of_new_name(self):
        write(self.path("a.py"), "v1\n")
        ed = self.start(delay=200)
        write(self.path("a.py"), "v2\n")
        os.rename(self.path("a.py"), self.path("b.py"))
        ev = self.drain(ed, quiet=0.5)
        self.assertEqual(ev, [("modify", "b.py", None, False)])

    def test_rename_alone_stays_a_move(self):
        write(self.path("a.py"), "v1\n")
        ed = self.start(delay=100)
        os.rename(self.path("a.py"), self.path("b.py"))
        ev = self.drain(ed, quiet=0.5)
        self.assertEqual(ev, [("move", "b.py", "a.py", False)])


# ---- 4. a stale .git/index.lock -----------------------------------------

def ctx_switches(pid):
    """Voluntary + involuntary context switches: how often it woke up."""
    n = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                n += int(line.split()[1])
    return n


class TestGitLockWait(EngineTest):
    def setUp(self):
        super().setUp()
        os.makedirs(self.path(".git"))
        self.lock = self.path(".git", "index.lock")

    def test_stale_lock_fires_after_the_bound_with_a_warning(self):
        write(self.lock, "")
        ed = self.start("--git-lock-wait", "1000", delay=50)
        t0 = time.monotonic()
        write(self.path("a.py"))
        b = ed.batch(timeout=max(TIMEOUT, 15))
        held = time.monotonic() - t0
        self.assertEqual(b, [("create", "a.py", None, False)])
        self.assertGreaterEqual(held, 0.9)
        self.assertTrue(any(".git/index.lock" in w for w in ed.warnings), ed.warnings)
        # The lock is known to be stale: the next change is not held.
        t0 = time.monotonic()
        write(self.path("b.py"))
        b = ed.batch()
        self.assertEqual(b, [("create", "b.py", None, False)])
        self.assertLess(time.monotonic() - t0, 0.9)
        # Once removed, a new lock is waited for again.
        os.remove(self.lock)
        ed.no_batch(0.2)
        write(self.lock, "")
        write(self.path("c.py"))
        ed.no_batch(0.5)
        os.remove(self.lock)
        self.assertEqual(ed.batch(), [("create", "c.py", None, False)])

    def test_waiting_for_the_lock_does_not_poll(self):
        write(self.lock, "")
        ed = self.start(delay=20)
        write(self.path("a.py"))
        time.sleep(0.2)  # let the quiet period pass: the batch is held now
        before = ctx_switches(ed.p.pid)
        ed.no_batch(1.0)
        woke = ctx_switches(ed.p.pid) - before
        # Polling the lock at 20 Hz would wake it about 20 times.
        self.assertLessEqual(woke, 3)
        t0 = time.monotonic()
        os.remove(self.lock)
        self.assertEqual(ed.batch(), [("create", "a.py", None, False)])
        self.assertLess(time.monotonic() - t0, 0.5)

    def test_lock_renamed_into_place_as_git_commits_it(self):
        write(self.lock, "")
        ed = self.start(delay=20)
        write(self.path("a.py"))
        ed.no_batch(0.4)
        os.rename(self.lock, self.path(".git", "index"))
        self.assertEqual(ed.batch(), [("create", "a.py", None, False)])


# ---- 6. deep trees are linear --------------------------------------------

def make_chain(top, depth, name="dd"):
    """top/dd/dd/... depth levels, made relative to each parent's
    descriptor (the path is far longer than PATH_MAX); returns the
    relative path of the deepest directory."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
    finally:
        os.close(fd)
    return "/".join([name] * depth)


def remove_chain(top, depth, name="dd"):
    """Removes what make_chain made (and any files in it), bottom up:
    shutil.rmtree and os.walk recurse once per level."""
    fds = [os.open(top, os.O_RDONLY | os.O_DIRECTORY)]
    try:
        for _ in range(depth):
            try:
                fds.append(os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fds[-1]))
            except FileNotFoundError:
                break
        while len(fds) > 1:
            fd = fds.pop()
            for entry in os.listdir(fd):
                os.unlink(entry, dir_fd=fd)
            os.close(fd)
            os.rmdir(name, dir_fd=fds[-1])
    finally:
        for fd in fds:
            os.close(fd)


class TestDeepTree(EngineTest):
    DEPTH = 3000  # 9,000 bytes of path: three times PATH_MAX

    def tearDown(self):
        # Before the shared tearDown, whose os.walk recurses per level.
        remove_chain(self.dir, self.DEPTH)
        super().tearDown()

    def test_3000_levels_are_watched_in_linear_time(self):
        depth = self.DEPTH
        rel = make_chain(self.dir, depth)
        t0 = time.monotonic()
        ed = self.start()
        took = time.monotonic() - t0
        self.assertEqual(ed.watches, depth + 1)
        # Quadratic path rebuilding took 13-43 s here; linear is ~0.15 s.
        self.assertLess(took, 5.0)
        # The bottom is watched under its true (long) path: create there
        # relative to the parent's descriptor, as no path reaches it.
        fd = os.open(self.dir, os.O_RDONLY | os.O_DIRECTORY)
        for part in rel.split("/"):
            nfd = os.open(part, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        try:
            os.close(os.open("bottom.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
        finally:
            os.close(fd)
        self.wait_event(ed, rel + "/bottom.py", "create")

    def test_3000_levels_are_resynced_in_linear_time(self):
        depth = self.DEPTH
        rel = make_chain(self.dir, depth)
        ed = self.start()
        self.assertEqual(ed.watches, depth + 1)
        # A new ignore file at the top makes the whole tree be compared
        # with the disk (as after an overflow): every level is opened.
        t0 = time.monotonic()
        write(self.path(".ignore"), "*.log\n")
        self.wait_event(ed, ".ignore", "create")
        self.assertLess(time.monotonic() - t0, 5.0)
        fd = os.open(self.dir, os.O_RDONLY | os.O_DIRECTORY)
        for part in rel.split("/"):
            nfd = os.open(part, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        try:
            os.close(os.open("bottom.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
        finally:
            os.close(fd)
        self.wait_event(ed, rel + "/bottom.py", "create")
        self.assertEqual(ed.watches, depth + 1)


# ---- 7. unmounts ----------------------------------------------------------

class TestUnmount(EngineTest):
    def test_directory_under_an_unmounted_fs_is_watched_again(self):
        import shutil
        reason = "cannot mount a tmpfs in a user namespace here (unshare -rm)"
        if not shutil.which("unshare"):
            self.skipTest(reason + ": no unshare")
        os.makedirs(self.path("w", "mnt"))
        probe = subprocess.run(["unshare", "-rm", "sh", "-c", 'mount -t tmpfs none "$1"', "sh",
                                self.path("w", "mnt")], capture_output=True)
        if probe.returncode != 0:
            self.skipTest(reason + ": " + probe.stderr.decode(errors="replace").strip())
        write(self.path("w", "mnt", "under.py"))
        # In a new namespace: mount a tmpfs over w/mnt, run eventdump,
        # unmount when the test says so on stdin, then wait for eventdump.
        script = ('mount -t tmpfs none w/mnt && echo t > w/mnt/on_tmpfs.py && mkdir w/mnt/sub && '
                  '{ "$@" & } && read go && umount w/mnt && wait')
        ed = _Ns(["--delay", "50", "w"], self.dir, self.procs,
                 prefix=["unshare", "-rm", "sh", "-c", script, "sh"])
        self.assertEqual(ed.watches, 3)  # w, the tmpfs root, its sub/
        ed.p.stdin.write(b"go\n")
        ed.p.stdin.flush()
        ev = self.wait_event(ed, "w/mnt/under.py", "create")
        ev += self.drain(ed)
        self.assertEqual(ed.watches, 2)
        self.assertTrue(any("w/mnt" in w and "unmounted" in w for w in ed.warnings), ed.warnings)
        write(self.path("w", "mnt", "new.py"))
        ev = self.wait_event(ed, "w/mnt/new.py", "create")
        self.assert_only(ev, {"w/mnt/new.py"})


# ---- 8. warnings name what they are about; budget failures are counted ----

class TestBudgetWhileRunning(EngineTest):
    def test_every_failure_is_counted_and_retried_on_the_next_rescan(self):
        import shutil
        reason = "user namespaces are not usable here (unshare -U -r), so the watch limit cannot be lowered"
        if not shutil.which("unshare"):
            self.skipTest(reason)
        probe = subprocess.run(["unshare", "-U", "-r", "sh", "-c", "echo 4 > /proc/sys/user/max_inotify_watches"],
                               capture_output=True)
        if probe.returncode != 0:
            self.skipTest(reason + ": " + probe.stderr.decode(errors="replace").strip())
        os.makedirs(self.path("w", "a"))
        os.makedirs(self.path("w", "b"))
        # A budget of 4 watches: w, a, b and one more. Raised when the test
        # says so on stdin.
        script = ('echo 4 > /proc/sys/user/max_inotify_watches && { "$@" & } && read go && '
                  'echo 100 > /proc/sys/user/max_inotify_watches && echo raised && wait')
        ed = _Ns(["--delay", "50", "w"], self.dir, self.procs,
                 prefix=["unshare", "-U", "-r", "sh", "-c", script, "sh"])
        self.assertEqual(ed.watches, 3)
        for i in range(4):
            os.mkdir(self.path("w", "n%d" % i))
        ev = ed.events_until(lambda ev: all(has(ev, "w/n%d" % i, "create") for i in range(4)))
        ev += self.drain(ed)
        self.assertEqual(ed.watches, 4)
        counted = [w for w in ed.warnings if "could not be watched" in w]
        self.assertEqual(len(counted), 3, ed.warnings)
        self.assertIn("(3 since start)", counted[-1])
        self.assertEqual(len([w for w in ed.warnings if "max_user_watches" in w]), 1, ed.warnings)
        # More budget, then a rescan (an ignore file changed): the three
        # directories are watched now.
        ed.p.stdin.write(b"go\n")
        ed.p.stdin.flush()
        ed.wait_line(lambda l: l == "raised")
        write(self.path("w", ".ignore"), "*.log\n")
        self.drain(ed)
        self.assertEqual(ed.watches, 7)
        for i in range(4):
            write(self.path("w", "n%d" % i, "f.py"))
        ev = ed.events_until(lambda ev: all(has(ev, "w/n%d/f.py" % i, "create") for i in range(4)))
        self.assert_only(ev, {"w/n%d/f.py" % i for i in range(4)})
