"""Black-box engine tests: tests/tools/eventdump against the real kernel.

Every test starts eventdump in its own temporary directory (cwd=self.dir,
root "." unless the test is about roots), changes the tree, and waits with
deadlines for the batches that must (or must not) come.
"""
import os
import shutil
import signal
import tempfile
import time

from support import EVENTDUMP, TIMEOUT, EventDump, Proc, TempDirTest, proc_state, wait_for, write


class _Registered(Proc):
    """Puts the process in the test's list as soon as it exists, so that it
    is closed even when EventDump's constructor fails."""

    def __init__(self, argv, cwd=None, **kw):
        super().__init__(argv, cwd=cwd, **kw)
        self._registry.append(self)


class _Dump(EventDump, _Registered):
    def __init__(self, args, cwd, registry):
        self._registry = registry
        super().__init__(args, cwd)


def paths(events):
    return [e[1] for e in events]


def has(events, path, kind=None, is_dir=None):
    return any(e[1] == path and (kind is None or e[0] == kind) and (is_dir is None or e[3] == is_dir)
               for e in events)


def touch_new(path):
    """Creates an empty file through a bytes or str path (no write())."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.close(fd)


class EngineTest(TempDirTest):
    def tearDown(self):
        # Whatever the test did, eventdump must not have crashed (nor, in a
        # sanitizer build, reported an error).
        problems = []
        for p in self.procs:
            if not isinstance(p, _Dump):
                continue
            err = p.stderr_text()
            if p.p.poll() is not None:
                problems.append("eventdump exited with %r; stderr: %s" % (p.p.returncode, err[-2000:]))
            elif "Sanitizer" in err or "runtime error" in err:
                problems.append("sanitizer report: %s" % err[-2000:])
        super().tearDown()
        if problems:
            self.fail("\n".join(problems))

    def start(self, *args, root=".", delay=50, cwd=None):
        argv = ["--delay", str(delay)] + list(args)
        if root is not None:
            argv.append(root)
        return _Dump(argv, cwd or self.dir, self.procs)

    def outside(self):
        """A scratch directory next to self.dir (same file system), outside
        every root, removed after the test."""
        d = tempfile.mkdtemp(prefix="pymon-out-", dir=os.path.dirname(self.dir))
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def wait_event(self, ed, path, kind=None, is_dir=None, timeout=TIMEOUT):
        """Collects batches until `path` (with `kind`) shows up."""
        return ed.events_until(lambda ev: has(ev, path, kind, is_dir), timeout=timeout)

    def drain(self, ed, quiet=0.3):
        """Collects batches until none comes for `quiet` seconds."""
        got = []
        while True:
            try:
                got += ed.batch(timeout=quiet)
            except AssertionError:
                self.assertIsNone(ed.p.poll(), "eventdump died: %s" % ed.stderr_text())
                return got

    def assert_running(self, ed):
        self.assertIsNone(ed.p.poll(), "eventdump exited: %s" % ed.stderr_text())

    def assert_only(self, events, allowed):
        extra = [e for e in events if e[1] not in allowed]
        self.assertEqual(extra, [], "unexpected events (all: %r)" % (events,))


# ---- 1. paths of a write ------------------------------------------------

class TestWritePaths(EngineTest):
    def setUp(self):
        super().setUp()
        write(self.path("src", "app.py"))

    def test_modify_relative_to_dot_root(self):
        ed = self.start()
        write(self.path("src", "app.py"), "changed\n")
        ev = self.wait_event(ed, "src/app.py", "modify", False)
        self.assert_only(ev, {"src/app.py"})

    def test_create_new_file_relative(self):
        ed = self.start()
        write(self.path("src", "new.py"))
        ev = self.wait_event(ed, "src/new.py")
        self.assertTrue(has(ev, "src/new.py", "create", False), ev)
        self.assert_only(ev, {"src/new.py"})

    def test_root_subdir_given_as_src(self):
        ed = self.start(root="src")
        write(self.path("src", "app.py"), "changed\n")
        ev = self.wait_event(ed, "src/app.py", "modify")
        self.assert_only(ev, {"src/app.py"})

    def test_root_subdir_given_as_dot_slash_src_slash(self):
        ed = self.start(root="./src/")
        write(self.path("src", "app.py"), "changed\n")
        ev = self.wait_event(ed, "src/app.py", "modify")
        self.assert_only(ev, {"src/app.py"})

    def test_absolute_root_gives_absolute_paths(self):
        root = self.path("src")
        ed = self.start(root=root)
        write(self.path("src", "app.py"), "changed\n")
        want = os.path.join(root, "app.py")
        ev = self.wait_event(ed, want, "modify")
        self.assert_only(ev, {want})


# ---- 2. new directories -------------------------------------------------

class TestNewDirectories(EngineTest):
    def test_makedirs_then_write_immediately(self):
        ed = self.start()
        w0 = ed.watches
        os.makedirs(self.path("a", "b", "c"))
        with open(self.path("a", "b", "c", "f.py"), "w") as f:
            f.write("x\n")
        ev = self.wait_event(ed, "a/b/c/f.py", "create", False)
        for d in ("a", "a/b", "a/b/c"):
            self.assertTrue(has(ev, d, "create", True), "no create for %s in %r" % (d, ev))
        self.assertEqual(ed.watches, w0 + 3)
        # Keeps watching the new directory.
        write(self.path("a", "b", "c", "g.py"))
        ev = self.wait_event(ed, "a/b/c/g.py", "create")
        self.assert_only(ev, {"a/b/c/g.py"})

    def test_deep_makedirs_30_levels(self):
        ed = self.start()
        w0 = ed.watches
        parts = ["d%02d" % i for i in range(30)]
        deep = self.path(*parts)
        os.makedirs(deep)
        with open(os.path.join(deep, "bottom.py"), "w") as f:
            f.write("x\n")
        rel = "/".join(parts)
        ev = self.wait_event(ed, rel + "/bottom.py", "create", False)
        for i in range(1, 31):
            self.assertTrue(has(ev, "/".join(parts[:i]), "create", True), "level %d missing" % i)
        self.assertEqual(ed.watches, w0 + 30)
        write(os.path.join(deep, "later.py"))
        self.wait_event(ed, rel + "/later.py", "create")


# ---- 3. moves -----------------------------------------------------------

class TestMoves(EngineTest):
    def test_file_rename_inside_is_one_move(self):
        write(self.path("a.py"))
        ed = self.start()
        os.rename(self.path("a.py"), self.path("b.py"))
        ev = self.wait_event(ed, "b.py")
        ev += self.drain(ed)
        self.assertEqual(ev, [("move", "b.py", "a.py", False)])

    def test_dir_rename_inside_keeps_watches(self):
        write(self.path("a", "s", "f.py"))
        write(self.path("a", "g.py"))
        ed = self.start()
        w0 = ed.watches
        self.assertEqual(w0, 3)
        os.rename(self.path("a"), self.path("b"))
        ev = self.wait_event(ed, "b")
        self.assertTrue(has(ev, "b", "move", True), ev)
        self.assertEqual([e for e in ev if e[1] == "b"][0][2], "a")
        self.assertEqual(ed.watches, w0)
        write(self.path("b", "x.py"))
        ev = self.wait_event(ed, "b/x.py", "create")
        self.assert_only(ev, {"b/x.py"})
        self.assertEqual(ed.watches, w0)
        write(self.path("b", "s", "f.py"), "changed\n")
        ev = self.wait_event(ed, "b/s/f.py", "modify")
        self.assert_only(ev, {"b/s/f.py"})

    def test_dir_moved_in_from_outside(self):
        out = self.outside()
        write(os.path.join(out, "d", "f.py"))
        write(os.path.join(out, "d", "sub", "g.py"))
        ed = self.start()
        w0 = ed.watches
        os.rename(os.path.join(out, "d"), self.path("d"))
        want = [("d", True), ("d/f.py", False), ("d/sub", True), ("d/sub/g.py", False)]
        ev = ed.events_until(lambda ev: all(has(ev, p, "create", isd) for p, isd in want))
        self.assert_only(ev, {p for p, _ in want})
        self.assertEqual(ed.watches, w0 + 2)
        write(self.path("d", "sub", "h.py"))
        self.wait_event(ed, "d/sub/h.py", "create")
        write(self.path("d", "f.py"), "changed\n")
        self.wait_event(ed, "d/f.py", "modify")

    def test_dir_moved_out(self):
        write(self.path("d", "f.py"))
        write(self.path("d", "sub", "g.py"))
        write(self.path("stay", "s.py"))
        ed = self.start()
        w0 = ed.watches
        self.assertEqual(w0, 4)
        out = self.outside()
        os.rename(self.path("d"), os.path.join(out, "d"))
        ev = self.wait_event(ed, "d", "delete", True)
        self.assert_only(ev, {"d"})
        self.assertEqual(ed.watches, w0 - 2)
        write(os.path.join(out, "d", "f.py"), "changed\n")
        write(os.path.join(out, "d", "sub", "g.py"), "changed\n")
        write(os.path.join(out, "d", "sub", "new.py"))
        ed.no_batch(0.3)
        # Still alive and watching what stayed.
        write(self.path("stay", "s.py"), "changed\n")
        ev = self.wait_event(ed, "stay/s.py", "modify")
        self.assert_only(ev, {"stay/s.py"})
        self.assertEqual(ed.watches, w0 - 2)

    def test_dir_rename_then_write_immediately(self):
        write(self.path("a", "s", "f.py"))
        ed = self.start()
        os.rename(self.path("a"), self.path("b"))
        write(self.path("b", "s", "now.py"))
        ev = self.wait_event(ed, "b/s/now.py", "create")
        self.assertTrue(has(ev, "b", "move", True), ev)
        self.assertFalse(any(p.startswith("a/") for p in paths(ev)), ev)
        self.assertEqual(ed.watches, 3)

    def test_dir_moved_in_then_write_immediately(self):
        out = self.outside()
        write(os.path.join(out, "d", "sub", "g.py"))
        ed = self.start()
        os.rename(os.path.join(out, "d"), self.path("d"))
        write(self.path("d", "sub", "now.py"))
        ev = self.wait_event(ed, "d/sub/now.py", "create")
        self.assertTrue(has(ev, "d", "create", True), ev)
        self.assertEqual(ed.watches, 3)

    def test_dir_renamed_over_empty_dir(self):
        write(self.path("a", "f.py"))
        os.mkdir(self.path("b"))
        ed = self.start()
        self.assertEqual(ed.watches, 3)
        os.rename(self.path("a"), self.path("b"))
        ev = self.wait_event(ed, "b", "move", True)
        ev += self.drain(ed)
        self.assertEqual(ed.watches, 2)
        write(self.path("b", "x.py"))
        ev = self.wait_event(ed, "b/x.py", "create")
        self.assert_only(ev, {"b/x.py"})
        write(self.path("b", "f.py"), "changed\n")
        ev = self.wait_event(ed, "b/f.py", "modify")
        self.assert_only(ev, {"b/f.py"})
        self.assertEqual(ed.watches, 2)

    def test_swap_two_directories(self):
        write(self.path("a", "fa.py"))
        write(self.path("b", "fb.py"))
        ed = self.start()
        os.rename(self.path("a"), self.path("tmp"))
        os.rename(self.path("b"), self.path("a"))
        os.rename(self.path("tmp"), self.path("b"))
        self.wait_event(ed, "b", "move", True)
        self.drain(ed)
        self.assertEqual(ed.watches, 3)
        write(self.path("a", "fb.py"), "changed\n")
        write(self.path("b", "fa.py"), "changed\n")
        ev = ed.events_until(lambda ev: has(ev, "a/fb.py", "modify") and has(ev, "b/fa.py", "modify"))
        self.assert_only(ev, {"a/fb.py", "b/fa.py"})

    def test_dir_moved_into_ignored_dir_is_delete(self):
        write(self.path("src", "sub", "f.py"))
        os.mkdir(self.path("build"))
        ed = self.start("-i", "build/")
        self.assertEqual(ed.watches, 3)
        os.rename(self.path("src"), self.path("build", "src"))
        ev = self.wait_event(ed, "src", "delete", True)
        self.assert_only(ev, {"src"})
        self.assertEqual(ed.watches, 1)
        write(self.path("build", "src", "sub", "f.py"), "changed\n")
        ed.no_batch(0.3)

    def test_dir_moved_out_of_ignored_dir_is_create(self):
        write(self.path("build", "src", "sub", "f.py"))
        ed = self.start("-i", "build/")
        self.assertEqual(ed.watches, 1)
        os.rename(self.path("build", "src"), self.path("src"))
        ev = ed.events_until(lambda ev: has(ev, "src/sub/f.py", "create"))
        self.assertTrue(has(ev, "src", "create", True), ev)
        self.assertEqual(ed.watches, 3)
        write(self.path("src", "sub", "g.py"))
        self.wait_event(ed, "src/sub/g.py", "create")

    def test_dir_renamed_to_ignored_name(self):
        write(self.path("src", "f.py"))
        ed = self.start("-i", "build/")
        self.assertEqual(ed.watches, 2)
        os.rename(self.path("src"), self.path("build"))
        ev = self.wait_event(ed, "src", "delete", True)
        self.assert_only(ev, {"src"})
        self.assertEqual(ed.watches, 1)
        write(self.path("build", "f.py"), "changed\n")
        ed.no_batch(0.3)

    def test_file_moved_out_is_delete(self):
        write(self.path("f.py"))
        ed = self.start()
        out = self.outside()
        os.rename(self.path("f.py"), os.path.join(out, "f.py"))
        ev = self.wait_event(ed, "f.py")
        ev += self.drain(ed)
        self.assertEqual(ev, [("delete", "f.py", None, False)])

    def test_file_moved_in_is_create(self):
        out = self.outside()
        write(os.path.join(out, "f.py"))
        ed = self.start()
        os.rename(os.path.join(out, "f.py"), self.path("f.py"))
        ev = self.wait_event(ed, "f.py")
        ev += self.drain(ed)
        self.assertEqual(ev, [("create", "f.py", None, False)])


class TestMoveStress(EngineTest):
    """A rename inside the tree must always be one move, even when the
    reader wakes up between the kernel queueing IN_MOVED_FROM and
    IN_MOVED_TO (inotify(7): the pair is not inserted atomically). 10000
    back-to-back rename pairs (about a second) make that window
    near-certain to be hit."""

    def test_many_renames_are_all_moves(self):
        self.maxDiff = None
        write(self.path("f0"))
        os.mkdir(self.path("d0"))
        ed = self.start(delay=0)
        split = []
        for i in range(10000):
            f, d = "f%d" % (i + 1), "d%d" % (i + 1)
            os.rename(self.path("f%d" % i), self.path(f))
            os.rename(self.path("d%d" % i), self.path(d))
            ev = ed.events_until(lambda ev: has(ev, f) and has(ev, d))
            if any(e[0] != "move" for e in ev):
                split.append(ev)
        self.assertEqual(split, [], "%d of 10000 rename pairs were not reported as moves" % len(split))
        self.assertEqual(ed.watches, 2)


# ---- 4. deletion --------------------------------------------------------

class TestDeletion(EngineTest):
    def test_rm_rf_subtree(self):
        files = ["t/f.py", "t/a/f.py", "t/a/b/f.py", "t/a/b/c/f.py", "t/x/y.txt"]
        for f in files:
            write(self.path(f))
        ed = self.start()
        w0 = ed.watches
        self.assertEqual(w0, 6)
        shutil.rmtree(self.path("t"))
        ev = ed.events_until(lambda ev: has(ev, "t", "delete", True) and ed.watches == 1)
        for f in files:
            self.assertTrue(has(ev, f, "delete", False), "no delete for %s in %r" % (f, ev))
        for d in ("t/a", "t/a/b", "t/a/b/c", "t/x"):
            self.assertTrue(has(ev, d, "delete", True), "no delete for %s in %r" % (d, ev))
        self.assertEqual(ed.watches, 1)
        ev += self.drain(ed)
        self.assertTrue(all(e[0] == "delete" for e in ev), ev)

    def test_delete_then_recreate_dir_same_name(self):
        write(self.path("d", "f.py"))
        ed = self.start()
        shutil.rmtree(self.path("d"))
        self.wait_event(ed, "d", "delete", True)
        self.assertEqual(ed.watches, 1)
        os.mkdir(self.path("d"))
        self.wait_event(ed, "d", "create", True)
        write(self.path("d", "x.py"))
        ev = self.wait_event(ed, "d/x.py", "create")
        self.assert_only(ev, {"d/x.py"})
        self.assertEqual(ed.watches, 2)

    def test_delete_and_recreate_dir_at_once(self):
        write(self.path("d", "sub", "f.py"))
        ed = self.start()
        shutil.rmtree(self.path("d"))
        os.makedirs(self.path("d", "sub"))
        write(self.path("d", "sub", "f.py"))
        self.wait_event(ed, "d/sub/f.py", "create")
        self.drain(ed)
        self.assertEqual(ed.watches, 3)
        write(self.path("d", "sub", "g.py"))
        ev = self.wait_event(ed, "d/sub/g.py", "create")
        self.assert_only(ev, {"d/sub/g.py"})
        self.assertEqual(ed.watches, 3)


    def test_dir_created_and_removed_at_once(self):
        ed = self.start()
        for i in range(20):
            os.makedirs(self.path("tmp%d" % i, "a", "b"))
            shutil.rmtree(self.path("tmp%d" % i))
        write(self.path("ok.py"))
        self.wait_event(ed, "ok.py", "create")
        self.drain(ed)
        self.assert_running(ed)
        self.assertEqual(ed.watches, 1)


# ---- 5. single-file root ------------------------------------------------

class TestFileRoot(EngineTest):
    def setUp(self):
        super().setUp()
        write(self.path("app.py"))
        write(self.path("other.py"))

    def test_write_reports_the_file_only(self):
        ed = self.start(root="app.py")
        self.assertEqual(ed.watches, 1)
        write(self.path("other.py"), "changed\n")
        write(self.path("app.py"), "changed\n")
        ev = self.wait_event(ed, "app.py", "modify", False)
        self.assert_only(ev, {"app.py"})

    def test_other_file_in_directory_not_reported(self):
        ed = self.start(root="app.py")
        write(self.path("other.py"), "changed\n")
        write(self.path("new.py"))
        os.mkdir(self.path("newdir"))
        ed.no_batch(0.3)
        self.assertEqual(ed.watches, 1)

    def test_twenty_atomic_saves(self):
        ed = self.start(root="app.py")
        for i in range(20):
            tmp = self.path("app.py.tmp")
            with open(tmp, "w") as f:
                f.write("save %d\n" % i)
            os.rename(tmp, self.path("app.py"))
        ev = self.wait_event(ed, "app.py")
        ev += self.drain(ed)
        self.assert_only(ev, {"app.py"})
        # Still watching the replaced file.
        write(self.path("app.py"), "after\n")
        ev = self.wait_event(ed, "app.py", "modify")
        self.assert_only(ev, {"app.py"})
        self.assertEqual(ed.watches, 1)

    def test_file_root_deleted_and_recreated(self):
        ed = self.start(root="app.py")
        os.remove(self.path("app.py"))
        self.wait_event(ed, "app.py", "delete", False)
        write(self.path("app.py"))
        ev = self.wait_event(ed, "app.py", "create", False)
        self.assert_only(ev, {"app.py"})
        write(self.path("app.py"), "again\n")
        self.wait_event(ed, "app.py", "modify")

    def test_absolute_file_root(self):
        root = self.path("app.py")
        ed = self.start(root=root)
        write(root, "changed\n")
        ev = self.wait_event(ed, root, "modify")
        self.assert_only(ev, {root})

    def test_atomic_saves_each_reported_when_spaced(self):
        ed = self.start(root="app.py", delay=0)
        for i in range(20):
            tmp = self.path("app.py.tmp")
            with open(tmp, "w") as f:
                f.write("save %d\n" % i)
            os.rename(tmp, self.path("app.py"))
            ev = self.wait_event(ed, "app.py")
            self.assert_only(ev, {"app.py"})
        write(self.path("app.py"), "after\n")
        self.wait_event(ed, "app.py", "modify")


# ---- 6. symlinks --------------------------------------------------------

class TestSymlinks(EngineTest):
    def test_symlink_loop(self):
        os.makedirs(self.path("a", "b"))
        os.symlink("..", self.path("a", "b", "loop"))
        os.symlink(".", self.path("self"))
        ed = self.start()
        self.assertEqual(ed.watches, 3)
        write(self.path("a", "b", "x.py"))
        ev = self.wait_event(ed, "a/b/x.py", "create")
        self.assert_only(ev, {"a/b/x.py"})

    def test_symlink_to_outside_dir_not_followed(self):
        out = self.outside()
        write(os.path.join(out, "f.py"))
        os.symlink(out, self.path("link"))
        ed = self.start()
        self.assertEqual(ed.watches, 1)
        write(os.path.join(out, "f.py"), "changed\n")
        write(os.path.join(out, "g.py"))
        os.mkdir(os.path.join(out, "sub"))
        ed.no_batch(0.3)

    def test_symlinks_in_new_directory_not_followed(self):
        out = self.outside()
        ed = self.start()
        os.mkdir(self.path("new"))
        os.symlink(out, self.path("new", "out"))
        os.symlink("..", self.path("new", "loop"))
        write(self.path("new", "f.py"))
        self.wait_event(ed, "new/f.py", "create")
        self.drain(ed)
        self.assertEqual(ed.watches, 2)
        write(os.path.join(out, "g.py"))
        ed.no_batch(0.3)

    def test_root_is_symlink_to_dir(self):
        write(self.path("real", "app.py"))
        os.symlink("real", self.path("link"))
        ed = self.start(root="link")
        self.assertEqual(ed.watches, 1)
        write(self.path("real", "app.py"), "changed\n")
        ev = self.wait_event(ed, "link/app.py", "modify")
        self.assert_only(ev, {"link/app.py"})


# ---- 7. filters ---------------------------------------------------------

class TestFilters(EngineTest):
    def test_ext_only_py(self):
        ed = self.start("--ext", "py")
        write(self.path("a.txt"))
        write(self.path("b.py"))
        ev = self.wait_event(ed, "b.py", "create")
        self.assert_only(ev, {"b.py"})
        os.mkdir(self.path("newdir"))
        ed.no_batch(0.3)
        # The directory is watched even though it is not reported.
        write(self.path("newdir", "x.py"))
        write(self.path("newdir", "x.txt"))
        ev = self.wait_event(ed, "newdir/x.py", "create")
        self.assert_only(ev, {"newdir/x.py"})
        self.assertEqual(ed.watches, 2)

    def test_ignore_dir_pattern(self):
        write(self.path("build", "sub", "x.o"))
        write(self.path("src", "a.py"))
        ed = self.start("-i", "build/")
        self.assertEqual(ed.watches, 2)
        write(self.path("build", "out.o"))
        write(self.path("build", "sub", "x.o"), "changed\n")
        os.makedirs(self.path("src", "build", "deep"))
        write(self.path("src", "build", "deep", "y.py"))
        write(self.path("src", "a.py"), "changed\n")
        ev = self.wait_event(ed, "src/a.py", "modify")
        ev += self.drain(ed)
        self.assert_only(ev, {"src/a.py"})
        self.assertEqual(ed.watches, 2)
        # A file named build (not a directory) is not matched by 'build/'.
        write(self.path("src", "builds"))
        self.wait_event(ed, "src/builds", "create")

    def test_ignore_glob(self):
        write(self.path("sub", "keep.txt"))
        ed = self.start("-i", "*.log")
        write(self.path("a.log"))
        write(self.path("sub", "b.log"))
        write(self.path("a.txt"))
        ev = self.wait_event(ed, "a.txt", "create")
        ev += self.drain(ed)
        self.assert_only(ev, {"a.txt"})

    def test_ignore_negation(self):
        ed = self.start("-i", "*.log", "-i", "!keep.log")
        write(self.path("other.log"))
        write(self.path("keep.log"))
        ev = self.wait_event(ed, "keep.log", "create")
        ev += self.drain(ed)
        self.assert_only(ev, {"keep.log"})

    def test_ignore_anchored(self):
        os.mkdir(self.path("sub"))
        ed = self.start("-i", "/top.txt")
        write(self.path("top.txt"))
        write(self.path("sub", "top.txt"))
        ev = self.wait_event(ed, "sub/top.txt", "create")
        ev += self.drain(ed)
        self.assert_only(ev, {"sub/top.txt"})

    def test_on_create_only(self):
        write(self.path("old.py"))
        ed = self.start("--on", "create")
        write(self.path("old.py"), "changed\n")
        ed.no_batch(0.3)
        write(self.path("new.py"))
        ev = self.wait_event(ed, "new.py", "create")
        ev += self.drain(ed)
        self.assertEqual(ev, [("create", "new.py", None, False)])
        os.remove(self.path("new.py"))
        ed.no_batch(0.3)

    DEFAULT_DIRS = [".git/objects", "__pycache__", ".venv/lib", "node_modules/m"]
    DEFAULT_FILES = [".git/x", "__pycache__/x.pyc", ".venv/lib/x.py", "node_modules/m/index.js",
                     "foo.swp", "foo~", "4913", "mod.pyc", ".#lock", ".DS_Store"]

    def make_default_ignored(self):
        for d in self.DEFAULT_DIRS:
            os.makedirs(self.path(d))

    def test_default_ignores(self):
        self.make_default_ignored()
        ed = self.start()
        self.assertEqual(ed.watches, 1)
        for f in self.DEFAULT_FILES:
            write(self.path(f))
        os.makedirs(self.path("sub", "__pycache__"))
        write(self.path("sub", "__pycache__", "y.pyc"))
        write(self.path("ok.py"))
        ev = ed.events_until(lambda ev: has(ev, "ok.py") and has(ev, "sub"))
        ev += self.drain(ed)
        self.assert_only(ev, {"ok.py", "sub"})
        self.assertEqual(ed.watches, 2)

    def test_no_default_ignore(self):
        self.make_default_ignored()
        ed = self.start("--no-default-ignore")
        # root, .git, .git/objects, __pycache__, .venv, .venv/lib, node_modules, node_modules/m
        self.assertEqual(ed.watches, 8)
        for f in self.DEFAULT_FILES:
            write(self.path(f))
        ev = ed.events_until(lambda ev: all(has(ev, f) for f in self.DEFAULT_FILES))
        self.assert_only(ev, set(self.DEFAULT_FILES))


# ---- 8. VCS ignore files ------------------------------------------------

class TestVcsIgnore(EngineTest):
    def make_repo(self, gitignore="out/\n*.tmp\n"):
        os.makedirs(self.path(".git", "info"))
        write(self.path(".gitignore"), gitignore)
        write(self.path("out", "deep", "o.txt"))
        write(self.path("src", "app.py"))

    def test_gitignore_dir_and_glob(self):
        self.make_repo()
        ed = self.start()
        self.assertEqual(ed.watches, 2)  # root and src; not .git, not out
        write(self.path("out", "a.py"))
        write(self.path("out", "deep", "o.txt"), "changed\n")
        write(self.path("x.tmp"))
        write(self.path("src", "y.tmp"))
        write(self.path("src", "ok.py"))
        ev = self.wait_event(ed, "src/ok.py", "create")
        ev += self.drain(ed)
        self.assert_only(ev, {"src/ok.py"})

    def test_git_init_work_tree(self):
        if not shutil.which("git"):
            self.skipTest("git not installed")
        import subprocess
        subprocess.run(["git", "init", "-q", self.dir], check=True)
        write(self.path(".gitignore"), "out/\n*.tmp\n")
        os.makedirs(self.path("out"))
        ed = self.start()
        self.assertEqual(ed.watches, 1)
        write(self.path("out", "a.py"))
        write(self.path("x.tmp"))
        write(self.path("ok.py"))
        ev = self.wait_event(ed, "ok.py", "create")
        ev += self.drain(ed)
        self.assert_only(ev, {"ok.py"})

    def test_nested_gitignore_applies_below_only(self):
        self.make_repo()
        write(self.path("sub", ".gitignore"), "local.txt\n")
        os.makedirs(self.path("other"))
        ed = self.start()
        write(self.path("sub", "local.txt"))
        write(self.path("local.txt"))
        write(self.path("other", "local.txt"))
        ev = ed.events_until(lambda ev: has(ev, "local.txt") and has(ev, "other/local.txt"))
        ev += self.drain(ed)
        self.assert_only(ev, {"local.txt", "other/local.txt"})

    def test_git_info_exclude(self):
        self.make_repo()
        write(self.path(".git", "info", "exclude"), "# comment\nsecret.txt\n")
        ed = self.start()
        write(self.path("secret.txt"))
        write(self.path("src", "secret.txt"))
        write(self.path("public.txt"))
        ev = self.wait_event(ed, "public.txt", "create")
        ev += self.drain(ed)
        self.assert_only(ev, {"public.txt"})

    def test_dot_ignore_without_git(self):
        write(self.path(".ignore"), "skip.txt\nskipdir/\n")
        os.makedirs(self.path("skipdir", "inner"))
        ed = self.start()
        self.assertEqual(ed.watches, 1)
        write(self.path("skip.txt"))
        write(self.path("skipdir", "inner", "f.py"))
        write(self.path("keep.txt"))
        ev = self.wait_event(ed, "keep.txt", "create")
        ev += self.drain(ed)
        self.assert_only(ev, {"keep.txt"})

    def test_no_vcs_ignore(self):
        self.make_repo()
        ed = self.start("--no-vcs-ignore")
        self.assertEqual(ed.watches, 4)  # root, src, out, out/deep
        write(self.path("out", "a.py"))
        write(self.path("x.tmp"))
        ev = ed.events_until(lambda ev: has(ev, "out/a.py") and has(ev, "x.tmp"))
        self.assert_only(ev, {"out/a.py", "x.tmp"})

    def test_gitignore_changed_while_running(self):
        self.make_repo("out/\n")
        ed = self.start()
        self.assertEqual(ed.watches, 2)
        with open(self.path(".gitignore"), "a") as f:
            f.write("gen/\n")
        self.wait_event(ed, ".gitignore", "modify")
        os.makedirs(self.path("gen", "deeper"))
        write(self.path("gen", "x.py"))
        write(self.path("gen", "deeper", "y.py"))
        write(self.path("src", "ok.py"))
        ev = self.wait_event(ed, "src/ok.py", "create")
        ev += self.drain(ed)
        self.assert_only(ev, {"src/ok.py"})
        self.assertEqual(ed.watches, 2)
        # Drop the rule again: gen/ becomes watched, and so does a new dir.
        write(self.path(".gitignore"), "out/\n")
        self.wait_event(ed, ".gitignore", "modify")
        os.makedirs(self.path("fresh"))
        write(self.path("fresh", "f.py"))
        self.wait_event(ed, "fresh/f.py", "create")
        write(self.path("gen", "x.py"), "changed\n")
        write(self.path("gen", "deeper", "z.py"))
        ev = ed.events_until(lambda ev: has(ev, "gen/x.py", "modify") and has(ev, "gen/deeper/z.py", "create"))
        self.assertEqual(ed.watches, 5)  # root, src, fresh, gen, gen/deeper

    def test_gitignore_rule_added_drops_watched_dir(self):
        self.make_repo("out/\n")
        ed = self.start()
        self.assertEqual(ed.watches, 2)
        with open(self.path(".gitignore"), "a") as f:
            f.write("src/\n")
        self.wait_event(ed, ".gitignore", "modify")
        self.drain(ed)
        write(self.path("src", "app.py"), "changed\n")
        write(self.path("top.py"))
        ev = self.wait_event(ed, "top.py", "create")
        ev += self.drain(ed)
        self.assert_only(ev, {"top.py"})
        self.assertEqual(ed.watches, 1)

    def test_gitignore_created_while_running(self):
        os.makedirs(self.path(".git"))
        write(self.path("out", "o.txt"))
        ed = self.start()
        self.assertEqual(ed.watches, 2)
        write(self.path(".gitignore"), "out/\n")
        self.wait_event(ed, ".gitignore", "create")
        ev = self.drain(ed)
        self.assertEqual(ed.watches, 1)
        write(self.path("out", "o.txt"), "changed\n")
        write(self.path("ok.py"))
        ev = self.wait_event(ed, "ok.py", "create")
        ev += self.drain(ed)
        self.assert_only(ev, {"ok.py"})

    def test_gitignore_deleted_while_running(self):
        self.make_repo("out/\n")
        ed = self.start()
        self.assertEqual(ed.watches, 2)
        os.remove(self.path(".gitignore"))
        self.wait_event(ed, ".gitignore", "delete")
        self.drain(ed)
        self.assertEqual(ed.watches, 4)  # root, src, out, out/deep
        write(self.path("out", "deep", "o.txt"), "changed\n")
        self.wait_event(ed, "out/deep/o.txt", "modify")

    def test_gitignore_replaced_atomically(self):
        self.make_repo("out/\n")
        ed = self.start()
        write(self.path(".gitignore.new"), "out/\ngen/\n")
        os.rename(self.path(".gitignore.new"), self.path(".gitignore"))
        self.wait_event(ed, ".gitignore")
        self.drain(ed)
        os.makedirs(self.path("gen"))
        write(self.path("gen", "x.py"))
        write(self.path("ok.py"))
        ev = self.wait_event(ed, "ok.py", "create")
        ev += self.drain(ed)
        self.assert_only(ev, {"ok.py"})
        self.assertEqual(ed.watches, 2)

    def test_explain_nested_gitignore(self):
        self.make_repo()
        write(self.path("sub", ".gitignore"), "# local\nlocal.txt\n")
        p = Proc([EVENTDUMP, "--explain", "sub/local.txt", "--explain", "local.txt", "."], cwd=self.dir)
        self.procs.append(p)
        got = {}
        for _ in range(2):
            l = p.wait_line(lambda l: l.startswith("explain "))
            path, text = l[len("explain "):].split("\t", 1)
            got[path] = text
        self.assertIn("sub/.gitignore", got["sub/local.txt"])
        self.assertIn(":2", got["sub/local.txt"])
        self.assertIn("local.txt", got["sub/local.txt"])
        self.assertEqual(got["local.txt"], "watched")

    def test_explain(self):
        self.make_repo()
        p = Proc([EVENTDUMP, "--explain", "out/", "--explain", "src/app.py",
                                 "--explain", "x.tmp", "--explain", "out/deep/o.txt",
                  "--explain", ".git/", "."], cwd=self.dir)
        self.procs.append(p)
        p.wait_line(lambda l: l.startswith("ready"))
        got = {}
        for _ in range(5):
            l = p.wait_line(lambda l: l.startswith("explain "))
            path, text = l[len("explain "):].split("\t", 1)
            got[path] = text
        self.assertIn(".gitignore", got["out/"])
        self.assertIn("out/", got["out/"])
        self.assertTrue(got["out/"].startswith("ignored"), got["out/"])
        self.assertEqual(got["src/app.py"], "watched")
        self.assertIn(".gitignore", got["x.tmp"])
        self.assertIn("*.tmp", got["x.tmp"])
        self.assertIn("out", got["out/deep/o.txt"])
        self.assertTrue(got["out/deep/o.txt"].startswith("ignored"), got["out/deep/o.txt"])
        self.assertIn(".git/", got[".git/"])
        self.assertTrue(got[".git/"].startswith("ignored"), got[".git/"])

    def explain(self, args, paths, cwd=None):
        argv = [EVENTDUMP]
        for x in paths:
            argv += ["--explain", x]
        p = Proc(argv + args, cwd=cwd or self.dir)
        self.procs.append(p)
        p.wait_line(lambda l: l.startswith("ready"))
        got = {}
        for _ in paths:
            l = p.wait_line(lambda l: l.startswith("explain "))
            path, text = l[len("explain "):].split("\t", 1)
            got[path] = text
        return got

    def test_explain_every_reason(self):
        os.makedirs(self.path("src", "pkg"))
        os.makedirs(self.path("other"))
        got = self.explain(["--ext", "py,html", "--on", "create,modify", "-i", "tmp/", "src"],
                           ["src/a.py", "src/a.txt", "src/__pycache__/x.pyc", "other/b.py",
                            self.path("src", "pkg", "new.py"), "src/tmp/x.py", "src/a.pyc"])
        self.assertEqual(got["src/a.py"], "watched (only create, modify events count)")
        self.assertEqual(got["src/a.txt"], "not a watched extension (py, html)")
        self.assertEqual(got["other/b.py"], "outside the watched paths (src)")
        # an absolute path, of a file that does not exist yet
        self.assertEqual(got[self.path("src", "pkg", "new.py")], "watched (only create, modify events count)")
        self.assertIn("ignored by default ignore '__pycache__/'", got["src/__pycache__/x.pyc"])
        self.assertIn("ignored by --ignore pattern 'tmp/'", got["src/tmp/x.py"])
        self.assertEqual(got["src/a.pyc"], "ignored by default ignore '*.pyc'")


# ---- 9. debounce --------------------------------------------------------

class TestDebounce(EngineTest):
    def test_spaced_writes_in_one_batch(self):
        ed = self.start(delay=300)
        for i in range(5):
            write(self.path("f%d.py" % i))
            time.sleep(0.05)
        b = ed.batch()
        self.assertEqual(sorted(paths(b)), ["f%d.py" % i for i in range(5)], b)
        self.assertTrue(all(e[0] == "create" for e in b), b)

    def test_same_path_once_per_batch(self):
        write(self.path("f.py"))
        ed = self.start(delay=200)
        for i in range(10):
            write(self.path("f.py"), "v%d\n" % i)
        b = ed.batch()
        self.assertEqual(b, [("modify", "f.py", None, False)])

    def test_create_then_writes_stays_create(self):
        ed = self.start(delay=200)
        for i in range(10):
            write(self.path("n.py"), "v%d\n" % i, mode="a")
        b = ed.batch()
        self.assertEqual(b, [("create", "n.py", None, False)])

    def test_batch_limit_counts_dropped(self):
        ed = self.start("--limit", "10", delay=200)
        for i in range(50):
            write(self.path("f%02d.py" % i))
        b = ed.batch()
        files = [e for e in b if e[0] != "rescan"]
        self.assertEqual(len(files), 10)
        self.assertEqual([e for e in b if e[0] == "rescan"], [("rescan", ".", None, True)])
        self.assertGreaterEqual(ed.last_dropped, 40)
        self.assertEqual(len(set(paths(b))), len(b))


# ---- 10. git index.lock -------------------------------------------------

class TestGitLock(EngineTest):
    def test_waits_for_index_lock(self):
        os.makedirs(self.path(".git"))
        ed = self.start(delay=50)
        lock = self.path(".git", "index.lock")
        write(lock, "")
        write(self.path("a.py"))
        write(self.path("b.py"))
        ed.no_batch(0.5)
        os.remove(lock)
        b = ed.batch()
        self.assertEqual(sorted(paths(b)), ["a.py", "b.py"])
        self.drain(ed)

    def test_no_git_lock_wait(self):
        os.makedirs(self.path(".git"))
        write(self.path(".git", "index.lock"), "")
        ed = self.start("--no-git-lock-wait", delay=50)
        write(self.path("a.py"))
        b = ed.batch(timeout=2)
        self.assertEqual(b, [("create", "a.py", None, False)])
        self.assertTrue(os.path.exists(self.path(".git", "index.lock")))


# ---- 11. kernel queue overflow -----------------------------------------


class TestOverflow(EngineTest):
    def test_queue_overflow_rescans(self):
        with open("/proc/sys/fs/inotify/max_queued_events") as f:
            maxq = int(f.read())
        os.mkdir(self.path("flood"))
        os.makedirs(self.path("gone", "sub"))
        ed = self.start(delay=50)
        w0 = ed.watches
        self.assertEqual(w0, 4)
        pid = ed.p.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            wait_for(lambda: proc_state(pid) in ("T", "t"), what="eventdump stopped")
            flood = self.path("flood")
            for i in range(maxq + 2000):
                touch_new(os.path.join(flood, "f%06d" % i))
            for d in range(4):
                write(self.path("nd%d" % d, "inner", "x.py"))
            shutil.rmtree(self.path("gone"))
        finally:
            os.kill(pid, signal.SIGCONT)
        ev = ed.events_until(lambda ev: any(e[0] == "rescan" for e in ev), timeout=max(TIMEOUT, 20))
        self.assertTrue(any(e[0] == "rescan" for e in ev))
        self.drain(ed)
        self.assert_running(ed)
        self.assertEqual(ed.watches, w0 + 8 - 2)
        self.assertTrue(any("overflow" in w for w in ed.warnings), ed.warnings)
        write(self.path("nd2", "inner", "after.py"))
        ev = self.wait_event(ed, "nd2/inner/after.py", "create")
        self.assert_only(ev, {"nd2/inner/after.py"})
        self.assert_running(ed)


# ---- 12. bad root -------------------------------------------------------

class TestBadRoot(EngineTest):
    def test_missing_root(self):
        p = Proc([EVENTDUMP, "no/such/dir"], cwd=self.dir)
        self.procs.append(p)
        l = p.wait_line(lambda l: l.startswith(("error", "ready")))
        self.assertTrue(l.startswith("error"), l)
        self.assertIn("no/such/dir", l)
        self.assertNotEqual(p.wait(), 0)

    def test_missing_root_after_good_one(self):
        p = Proc([EVENTDUMP, ".", "gone.py"], cwd=self.dir)
        self.procs.append(p)
        l = p.wait_line(lambda l: l.startswith(("error", "ready")))
        self.assertTrue(l.startswith("error"), l)
        self.assertIn("gone.py", l)
        self.assertNotEqual(p.wait(), 0)


# ---- 13. hostile names --------------------------------------------------

class TestHostileNames(EngineTest):
    NAMES = [
        (b"new\nline.txt", "new\\nline.txt"),
        (b"tab\there.txt", "tab\\there.txt"),
        (b"esc\x1b[31m.txt", "esc\\x1b[31m.txt"),
        (b"bad\xff\xfeutf8.txt", os.fsdecode(b"bad\xff\xfeutf8.txt")),
        (b"back\\slash.txt", "back\\\\slash.txt"),
        (b"del\x7f.txt", "del\\x7f.txt"),
        (b"x" * 255, "x" * 255),
    ]

    def test_hostile_file_names(self):
        ed = self.start()
        d = os.fsencode(self.dir)
        for raw, _ in self.NAMES:
            touch_new(os.path.join(d, raw))
        want = [shown for _, shown in self.NAMES]
        ev = ed.events_until(lambda ev: all(has(ev, s, "create", False) for s in want))
        self.assert_only(ev, set(want))
        self.assert_running(ed)

    def test_hostile_dir_names(self):
        ed = self.start()
        d = os.fsencode(self.dir)
        nl = os.path.join(d, b"d\nir")
        long = os.path.join(nl, b"y" * 255)
        os.makedirs(long)
        touch_new(os.path.join(long, b"\x1b\xff"))
        top = "d\\nir/" + "y" * 255
        want = top + "/\\x1b" + os.fsdecode(b"\xff")
        ev = self.wait_event(ed, want, "create", False)
        self.assertTrue(has(ev, "d\\nir", "create", True), ev)
        self.assertTrue(has(ev, top, "create", True), ev)
        self.assertEqual(ed.watches, 3)
        os.rename(os.path.join(long, b"\x1b\xff"), os.path.join(long, b"n\new"))
        ev = self.wait_event(ed, top + "/n\\new", "move")
        mv = [e for e in ev if e[1] == top + "/n\\new"][0]
        self.assertEqual(mv[2], want)
        os.rename(nl, os.path.join(d, b"\x01moved\xc3"))
        moved = "\\x01moved" + os.fsdecode(b"\xc3")
        ev = self.wait_event(ed, moved, "move", True)
        self.assertEqual([e for e in ev if e[1] == moved][0][2], "d\\nir")
        touch_new(os.path.join(d, b"\x01moved\xc3", b"y" * 255, b"z"))
        self.wait_event(ed, moved + "/" + "y" * 255 + "/z", "create")
        self.assertEqual(ed.watches, 3)
        self.assert_running(ed)


class TestReviewFindings(EngineTest):
    def test_ext_filter_reports_directories_that_go_or_move(self):
        os.makedirs(self.path("pkg"))
        write(self.path("pkg", "mod.py"))
        ed = self.start("--ext", "py")
        os.rename(self.path("pkg"), self.path("pkg2"))
        ev = self.wait_event(ed, "pkg2", "move", True)
        os.rename(self.path("pkg2"), os.path.join(self.outside(), "gone"))
        ev += self.wait_event(ed, "pkg2", "delete", True)
        os.makedirs(self.path("newdir"))
        write(self.path("newdir", "notes.txt"))
        write(self.path("marker.py"))
        ev = self.wait_event(ed, "marker.py")
        self.assertFalse(has(ev, "newdir"), "a new directory is not news with -e")

    def test_deleted_root_is_reported_with_a_warning(self):
        os.makedirs(self.path("sub"))
        ed = self.start(root="sub")
        shutil.rmtree(self.path("sub"))
        self.wait_event(ed, "sub", "delete")  # the warning comes before the batch
        self.assertTrue(any("no longer watched" in w for w in ed.warnings), ed.warnings)

    def test_ignore_file_moved_below_into_newly_ignored_dir(self):
        # Re-reading the source directory's rules drops the target
        # directory; the target's own re-read must not touch it afterwards.
        os.makedirs(self.path("a", "sub"))
        write(self.path(".ignore"), "a/sub/\n")
        write(self.path("a", ".ignore"), "!sub/\n")
        ed = self.start()
        os.rename(self.path("a", ".ignore"), self.path("a", "sub", ".ignore"))
        write(self.path("after.py"))
        self.wait_event(ed, "after.py")
        self.assert_running(ed)

    def test_directories_deeper_than_path_max_are_watched(self):
        # 25 levels of 201-byte names: about 5,000 bytes, past PATH_MAX.
        names = ["d" * 200 + str(i) for i in range(25)]

        def walk_open():
            fd = os.open(self.dir, os.O_RDONLY)
            for n in names:
                try:
                    os.mkdir(n, dir_fd=fd)
                except FileExistsError:
                    pass
                nfd = os.open(n, os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = nfd
            return fd

        os.close(walk_open())
        ed = self.start()
        self.assertEqual(ed.watches, 26)
        fd = walk_open()
        f = os.open("bottom.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(f, b"x")
        os.close(f)
        # A new directory down there is watched too.
        os.mkdir("deeper", dir_fd=fd)
        os.close(fd)
        deep = "/".join(names)
        ed.events_until(lambda ev: has(ev, deep + "/bottom.py") and has(ev, deep + "/deeper", "create", True))
        self.assertEqual(ed.watches, 27)
