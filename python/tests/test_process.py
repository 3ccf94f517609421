"""Ctrl-C, the host's own children, and `python3 -m pymon` — each in a
child Python, so signal masks and reaping stay out of the test runner."""
import os
import signal
import subprocess
import sys
import time
import unittest

from pmsupport import ROOT, TIMEOUT, TempDirTest, alive, python_m_pymon, run_python, wait_for, write

import pymon

PYMON_BIN = os.path.join(ROOT, os.environ.get("PYMON_BUILD", "build"), "py-mon")

# Prints the pid of a supervised command, then 'ready'; on Ctrl-C prints
# 'interrupted' and re-raises.
OBSERVE_UNTIL_CTRL_C = r"""
import sys, pymon
w = pymon.Watcher()
w.add(sys.argv[1]).run([sys.executable, "-c",
    "import os, time; print('child', os.getpid(), flush=True); time.sleep(60)"])
try:
    w.start()
    print("ready", flush=True)
    w.observe()
except KeyboardInterrupt:
    print("interrupted", flush=True)
    raise
"""

WATCH_UNTIL_CTRL_C = r"""
import sys, pymon
try:
    it = pymon.watch(sys.argv[1])
    print("ready", flush=True)
    for changes in it:
        pass
except KeyboardInterrupt:
    print("interrupted", flush=True)
    raise
"""


class CtrlCTest(TempDirTest):
    def interrupt(self, proc):
        t0 = time.monotonic()
        proc.send(signal.SIGINT)
        proc.wait_line(lambda l: l == "interrupted")
        took = time.monotonic() - t0
        self.assertNotEqual(proc.wait(), 0)
        proc.wait_stderr("KeyboardInterrupt")
        return took

    def test_ctrl_c_in_observe_stops_the_command_and_raises(self):
        p = run_python(OBSERVE_UNTIL_CTRL_C, self.dir)
        self.procs.append(p)
        wait_for(lambda: p.line() and "ready" in p.seen and any(l.startswith("child ") for l in p.seen),
                 what="ready and the command's pid")
        child = int([l for l in p.seen if l.startswith("child ")][0].split()[1])
        took = self.interrupt(p)
        self.assertLess(took, 0.5, "KeyboardInterrupt took %.3f s" % took)
        wait_for(lambda: not alive(child), what="the supervised command to be stopped")

    def test_ctrl_c_in_watch_raises(self):
        p = run_python(WATCH_UNTIL_CTRL_C, self.dir)
        self.procs.append(p)
        p.wait_line(lambda l: l == "ready")
        took = self.interrupt(p)
        self.assertLess(took, 0.5, "KeyboardInterrupt took %.3f s" % took)


HOST_CHILDREN = r"""
import os, subprocess, sys, threading, pymon
cmd, trig, threaded = sys.argv[1], sys.argv[2], sys.argv[3] == "thread"
w = pymon.Watcher()
w.add(cmd).delay(0.01).run([sys.executable, "-c", "import time; time.sleep(60)"])
statuses, in_callback = [], []
def batch(events):
    # The host's own child, inside a callback, while a command is supervised.
    in_callback.append(subprocess.run(["sh", "-c", "exit 3"]).returncode)
    if len(in_callback) >= 5:
        w.stop(0)
w.add(trig).delay(0.01).call(batch)
def other_thread():
    # ... and on another thread while the command restarts.
    for _ in range(50 if threaded else 0):
        statuses.append(subprocess.run(["sh", "-c", "exit 4"]).returncode)
t = threading.Thread(target=other_thread)
w.start()
print("ready", flush=True)
t.start()
w.observe()
t.join()
print("statuses", sorted(set(statuses + in_callback)), len(statuses + in_callback), flush=True)
"""


class HostChildrenTest(TempDirTest):
    def run_host(self, mode, expect):
        os.mkdir(self.path("cmd"))
        os.mkdir(self.path("trig"))
        p = run_python(HOST_CHILDREN, self.path("cmd"), self.path("trig"), mode)
        self.procs.append(p)
        p.wait_line(lambda l: l == "ready")
        deadline = time.monotonic() + TIMEOUT
        i = 0
        while p.p.poll() is None and time.monotonic() < deadline:
            # Restart the command and fire the callback, again and again.
            write(self.path("cmd", "f%d" % (i % 3)))
            write(self.path("trig", "g%d" % (i % 3)))
            i += 1
            time.sleep(0.02)
        line = p.wait_line(lambda l: l.startswith("statuses "))
        self.assertEqual(line.split(" ", 1)[1], expect, "a host child's status was lost: " + line)
        self.assertEqual(p.wait(), 0)

    def test_subprocess_in_a_callback_returns_its_status(self):
        self.run_host("callback", "[3] 5")

    # The library waits only for its guardians (pidfds, no exit signal) and
    # signals only their trees: a subprocess on another thread keeps its
    # exit status while the command restarts.
    def test_subprocess_on_another_thread_while_the_command_restarts(self):
        self.run_host("thread", "[3, 4] 55")


class MainTest(TempDirTest):
    def test_help_equals_the_binary(self):
        if not os.access(PYMON_BIN, os.X_OK):
            self.skipTest("no %s: run make first" % PYMON_BIN)
        ours = python_m_pymon("--help")
        theirs = subprocess.run([PYMON_BIN, "--help"], capture_output=True, timeout=TIMEOUT)
        self.assertEqual(ours.returncode, 0)
        self.assertEqual(ours.stdout, theirs.stdout)
        self.assertIn(b"Usage: py-mon", ours.stdout)

    def test_bad_flag_exits_2_like_the_binary(self):
        ours = python_m_pymon("--no-such-flag")
        self.assertEqual(ours.returncode, 2)
        self.assertIn(b"--no-such-flag", ours.stderr)
        if os.access(PYMON_BIN, os.X_OK):
            theirs = subprocess.run([PYMON_BIN, "--no-such-flag"], capture_output=True, timeout=TIMEOUT)
            self.assertEqual(ours.stderr, theirs.stderr)

    def test_version(self):
        r = python_m_pymon("--version")
        self.assertEqual(r.stdout.decode().strip(), "py-mon " + pymon.__version__)

    def test_run_restarts_on_change(self):
        os.mkdir(self.path("src"))
        write(self.path("src", "app.py"), "import os\nprint('run', os.getpid(), flush=True)\n"
                                          "import time\ntime.sleep(60)\n")
        p = run_python("import sys, pymon.__main__ as m; sys.exit(m.main())", "run", "--no-config",
                       "-w", "src", "%s src/app.py" % sys.executable, cwd=self.dir)
        self.procs.append(p)
        first = p.wait_line(lambda l: l.startswith("run "))
        write(self.path("src", "other.py"))
        second = p.wait_line(lambda l: l.startswith("run "))
        self.assertNotEqual(first, second)
        p.send(signal.SIGINT)
        self.assertEqual(p.wait(), 130)
        self.assertFalse(alive(int(second.split()[1])))


class LinkingTest(unittest.TestCase):
    def test_extension_binds_every_symbol_at_load(self):
        # A run the kept guardian starts by clone() shares the guardian's
        # TLS on a 64 KiB stack: it must not enter the lazy resolver.
        r = subprocess.run(["readelf", "-d", pymon._pymon.__file__], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("BIND_NOW", r.stdout)


if __name__ == "__main__":
    unittest.main()
