"""Shared helpers for the black-box tests: temp trees, processes whose
output is read on a thread, and waiting on conditions with deadlines."""
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("PYMON_BUILD", "build"))
PYMON = os.path.join(BUILD, "py-mon")
EVENTDUMP = os.path.join(BUILD, "tools", "eventdump")

CLK_TCK = os.sysconf("SC_CLK_TCK")

# Generous: CI machines are slow and sanitizer builds slower still.
TIMEOUT = float(os.environ.get("PYMON_TEST_TIMEOUT", "10"))



# -- the kernel's view of a process (one implementation for every test) ---------

def proc_stat(pid):
    """The fields of /proc/PID/stat after the command name (state first),
    or None when the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def proc_state(pid):
    st = proc_stat(pid)
    return st[0] if st else None


def alive(pid):
    """Running or stopped: not gone and not a zombie."""
    return proc_state(pid) not in (None, "Z", "X")


def parent(pid):
    st = proc_stat(pid)
    return int(st[1]) if st else None


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return None


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    st = proc_stat(pid)
    return (int(st[11]) + int(st[12])) / CLK_TCK if st else 0.0


def _all_procs():
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st:
                out.append((int(name), st[0], int(st[1])))
    return out


def children(pid):
    """(pid, state) of every process whose parent is pid, zombies included."""
    return [(p, state) for p, state, ppid in _all_procs() if ppid == pid]


def live_children(pid):
    return [p for p, state in children(pid) if state not in ("Z", "X")]


def descendants(pid):
    """Every live process below pid, from one scan of /proc."""
    procs = _all_procs()
    out, frontier = [], [pid]
    while frontier:
        nxt = [p for p, state, ppid in procs if ppid in frontier and state not in ("Z", "X")]
        out += nxt
        frontier = nxt
    return out


def runs_of(pid):
    """What py-mon's runs and jobs left alive: its descendants, less its
    kept guardians (its children named py-mon-guard)."""
    return [d for d in descendants(pid) if not (parent(d) == pid and comm(d) == "py-mon-guard")]


def guardian_of(pid):
    """The py-mon-guard process a command runs under (its parent)."""
    return parent(pid)


def pymon_of(pid):
    """The py-mon that supervises a command: the parent of its guardian."""
    g = parent(pid)
    return parent(g) if g else None


def unreadable_prefix(path):
    """A command prefix under which a chmod 000 directory at `path` cannot
    be read, and why not when there is none (skip the test then). Tests
    often run as root, and root reads a chmod 000 directory anyway
    (CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH): then the command runs without
    those two capabilities (setpriv), which makes the mode bits count."""
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            return None, "running as root, and setpriv (util-linux) is not there to drop CAP_DAC_OVERRIDE"
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
        if subprocess.run(prefix + ["true"], capture_output=True).returncode != 0:
            return None, "running as root, and setpriv cannot drop CAP_DAC_OVERRIDE here"
    if subprocess.run(prefix + ["ls", path], capture_output=True).returncode == 0:
        return None, "a chmod 000 directory is still readable here (capabilities)"
    return prefix, None


def read_jsonl(path):
    """The JSON objects of the complete lines of a log that processes append
    to (a line still being written, without its newline, is left for the
    next read); [] when the file does not exist yet."""
    import json
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    lines = text.split("\n")[:-1]  # the part after the last newline is not done
    return [json.loads(l) for l in lines if l.strip()]


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kb(pid, field="VmRSS"):
    """A process's resident memory in kB: VmRSS now, or VmHWM, its peak."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0

def wait_for(cond, timeout=TIMEOUT, interval=0.01, what="condition"):
    """Polls cond() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def watch_limit_prefix(limit):
    """An argv prefix running a command in a new user namespace whose
    inotify watch limit (/proc/sys/user/max_inotify_watches, per namespace
    since Linux 4.9) is limit. Skips the test when that is not possible."""
    reason = "user namespaces are not usable here (unshare -U -r), so the watch limit cannot be lowered"
    if not shutil.which("unshare"):
        raise unittest.SkipTest(reason)
    script = 'echo %d > /proc/sys/user/max_inotify_watches && exec "$@"' % limit
    probe = subprocess.run(["unshare", "-U", "-r", "sh", "-c", script, "sh", "true"], capture_output=True)
    if probe.returncode != 0:
        raise unittest.SkipTest(reason + ": " + probe.stderr.decode(errors="replace").strip())
    return ["unshare", "-U", "-r", "sh", "-c", script, "sh"]


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (as of now)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path, data="x\n", mode="w"):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


class TempDirTest(unittest.TestCase):
    """Each test gets self.dir, an empty directory removed afterwards."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pymon-it-")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.close()
        for root, dirs, _ in os.walk(self.dir):
            for d in dirs:
                try:
                    os.chmod(os.path.join(root, d), 0o755)
                except OSError:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)


class Proc:
    """A child process whose stdout (and optionally stderr) lines are
    collected on threads, so tests can wait for a line with a deadline."""

    def __init__(self, argv, cwd=None, env=None, stdin=subprocess.DEVNULL, merge_stderr=False, **kw):
        self.lines = queue.Queue()
        self.err_lines = queue.Queue()
        self.seen = []
        self.err_seen = []
        self.p = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=stdin, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE, **kw)
        threading.Thread(target=self._pump, args=(self.p.stdout, self.lines), daemon=True).start()
        if not merge_stderr:
            threading.Thread(target=self._pump, args=(self.p.stderr, self.err_lines), daemon=True).start()

    @staticmethod
    def _pump(stream, q):
        for raw in iter(stream.readline, b""):
            q.put(raw.decode("utf-8", "surrogateescape").rstrip("\n"))
        q.put(None)

    def line(self, timeout=TIMEOUT):
        try:
            l = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no output within %.1fs; seen: %r" % (timeout, self.seen[-20:]))
        if l is None:
            raise AssertionError("process ended; seen: %r; stderr: %r" % (self.seen[-20:], self.stderr_text()))
        self.seen.append(l)
        return l

    def wait_line(self, pred, timeout=TIMEOUT):
        """Returns the first line for which pred(line) is true."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for a line; seen: %r" % self.seen[-30:])
            l = self.line(left)
            if pred(l):
                return l

    def stderr_text(self):
        while True:
            try:
                l = self.err_lines.get_nowait()
            except queue.Empty:
                break
            if l is not None:
                self.err_seen.append(l)
        return "\n".join(self.err_seen)

    def wait_stderr(self, text, timeout=TIMEOUT):
        """Waits until text is in what py-mon wrote to stderr (read by a
        thread of its own: a line written before another effect may
        still be on its way)."""
        wait_for(lambda: text in self.stderr_text(), timeout, what=repr(text) + " on stderr")

    def send(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def wait(self, timeout=TIMEOUT):
        return self.p.wait(timeout=timeout)

    def close(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                # py-mon's default stop timeout is 5 s: give it that and more.
                self.p.wait(timeout=8)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        # The streams are not closed here: a reader thread may still be in
        # readline() if something outlived the process, and closing under it
        # would block. They close with the threads at end of file.


class EventDump(Proc):
    """The engine seen through tests/tools/eventdump."""

    def __init__(self, args, cwd, prefix=(), **kw):
        """prefix: argv run before eventdump (e.g. a namespace wrapper that
        ends with exec "$@"); kw goes to Proc (e.g. stdin)."""
        super().__init__(list(prefix) + [EVENTDUMP] + list(args), cwd=cwd, **kw)
        l = self.wait_line(lambda l: l.startswith(("ready", "error")))
        if l.startswith("error"):
            raise AssertionError("eventdump failed: %s" % l)
        self.watches = int(l.split()[1])
        self.warnings = []

    def batch(self, timeout=TIMEOUT):
        """The next batch as a list of (kind, path, from, is_dir)."""
        while True:
            l = self.line(timeout)
            if l.startswith("warning "):
                self.warnings.append(l[8:])
                continue
            if l.startswith("batch "):
                break
        _, count, dropped, watches = l.split()
        self.last_dropped = int(dropped)
        self.watches = int(watches)
        events = []
        while True:
            l = self.line(timeout)
            if l == "end":
                return events
            kind, path, frm, isdir = l.split("\t")
            events.append((kind, path, None if frm == "-" else frm, isdir == "1"))

    def events_until(self, pred, timeout=TIMEOUT):
        """Collects batches until pred(all events so far) holds."""
        got = []
        deadline = time.monotonic() + timeout
        while not pred(got):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out; events so far: %r" % got)
            got += self.batch(left)
        return got

    def no_batch(self, quiet=0.3):
        """Asserts that nothing is reported during a quiet period."""
        try:
            l = self.lines.get(timeout=quiet)
        except queue.Empty:
            return
        raise AssertionError("unexpected output: %r" % l)
