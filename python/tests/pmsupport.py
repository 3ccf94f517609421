"""Helpers of the Python package tests, on top of the shared
tests/integration/support.py (temp trees, processes, wait_for)."""
import os
import queue
import subprocess
import sys
import threading
import time

from support import ROOT, TIMEOUT, Proc, TempDirTest, wait_for, watch_limit_prefix, write  # noqa: F401

import pymon

PACKAGE_DIR = os.path.dirname(os.path.dirname(pymon.__file__))
# The environment of a child Python that must import the same pymon.
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    [PACKAGE_DIR] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class Observing:
    """Runs watcher.observe() on a thread; batches arrive in self.batches
    (when the test uses self.record as its .call() action)."""

    def __init__(self, watcher):
        self.watcher = watcher
        self.batches = queue.Queue()
        self.seen = []
        self.status = None
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def record(self, events):
        self.batches.put(events)

    def _run(self):
        try:
            self.status = self.watcher.observe()
        except BaseException as e:  # handed to the test thread
            self.error = e

    def __enter__(self):
        self.watcher.start()  # watches are in place before the test changes files
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self, status=0):
        if self.thread.is_alive():
            self.watcher.stop(status)
        self.thread.join(TIMEOUT)
        if self.thread.is_alive():
            raise AssertionError("observe() did not return within %.1fs of stop()" % TIMEOUT)
        return self.status

    def until(self, pred, timeout=TIMEOUT, what="events"):
        """Collects events until pred(all events so far) holds."""
        deadline = time.monotonic() + timeout
        while not pred(self.seen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %s; seen: %r" % (what, self.seen))
            try:
                self.seen += self.batches.get(timeout=left)
            except queue.Empty:
                pass
        return self.seen

    def has(self, kind, path, from_path=None):
        return self.until(lambda evs: any(e.kind == kind and e.path == path and e.from_path == from_path
                                          for e in evs), what="%s %s" % (kind, path))


def run_python(code, *args, **kw):
    """Starts a child Python running `code` with this pymon importable."""
    return Proc([sys.executable, "-c", code] + list(args), env=ENV, **kw)


def python_m_pymon(*args, **kw):
    return subprocess.run([sys.executable, "-m", "pymon"] + list(args), env=ENV, capture_output=True,
                          timeout=TIMEOUT, **kw)
