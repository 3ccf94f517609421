"""The tree stays true (issue 12): the watch tree follows the disk through
moves out and back, exchanges, batch floods, stale git locks, atomic saves,
deep trees, unmounts and budget failures.

Each test drives tests/tools/eventdump (or py-mon) against the real kernel
in its own temporary directory and waits on conditions with deadlines.
"""
import ctypes
import os
import time

from support import TIMEOUT, wait_for, write
from test_engine import EngineTest, has, paths

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
