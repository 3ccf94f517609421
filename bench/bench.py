#!/usr/bin/env python3
"""py-mon beside the watchers users pick instead, and beside the floor.

Run by `make bench` through bench/run.sh (which builds the C helpers and
installs the peers); QUICK=1 for a short look. Python 3 standard library
only. Prints a table on stdout, progress on stderr, and writes the raw
figures to bench/out/results.json. What each figure means: bench/README.md.
"""

import json
import os
import platform
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BUILD = os.path.join(REPO, os.environ.get("BUILD", "build"))
PYMON = os.path.join(BUILD, "py-mon")
HELPERS = os.path.join(BUILD, "bench")
TRIGGER = os.path.join(HELPERS, "trigger")
FLOOR_SCAN = os.path.join(HELPERS, "floor_scan")
FLOOR_LOOP = os.path.join(HELPERS, "floor_loop")
NODE_BIN = os.path.join(HERE, "node_modules", ".bin")
OUT = os.path.join(HERE, "out")
QUICK = os.environ.get("QUICK", "") not in ("", "0")
PY = os.path.realpath(sys.executable)  # the server's interpreter: no pyenv shim in between

if QUICK:
    C = dict(lat_reps=10, restart_reps=3, ready_reps_core=3, ready_reps_peer=1, slow_reps=1,
             growth=[1000, 10000], idle_s=3, flood_n=20000, flood_reps=1, burst_n=5000,
             burst_quiet=2, burst_cap=5, ready_timeout=30, growth_timeout=10, big_timeout=40)
else:
    C = dict(lat_reps=100, restart_reps=10, ready_reps_core=5, ready_reps_peer=5, slow_reps=3,
             growth=[1000, 10000, 100000], idle_s=10, flood_n=100000, flood_reps=3, burst_n=5000,
             burst_quiet=4, burst_cap=30, ready_timeout=60, growth_timeout=60, big_timeout=40)
FILES_PER_DIR = 10
SLOW_READY_S = 5.0  # a peer slower than this on its first rep gets slow_reps repetitions

T_START = time.monotonic()
LIVE = []  # every process started, stopped again on any exit path


def say(msg):
    print(f"[{time.monotonic() - T_START:6.1f}s] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc


def proc_table():
    """pid -> (ppid, state) for every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                s = f.read()
        except OSError:
            continue
        r = s.rindex(b")")
        fields = s[r + 2:].split()
        out[int(d)] = (int(fields[1]), fields[0])
    return out


def tree_pids(root):
    table = proc_table()
    kids = defaultdict(list)
    for pid, (ppid, _) in table.items():
        kids[ppid].append(pid)
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in table and table[pid][1] != b"Z":
            out.append(pid)
        stack.extend(kids.get(pid, ()))
    return out


def read_status(path):
    vals = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(":")
                vals[k] = v.strip()
    except OSError:
        pass
    return vals


def proc_sample(pid):
    """VmHWM (kB), CPU ticks (utime+stime), CPU ns (schedstat, all threads)
    and context switches (all threads) of one process, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            s = f.read()
        fields = s[s.rindex(b")") + 2:].split()
        ticks = int(fields[11]) + int(fields[12])
        hwm = int(read_status(f"/proc/{pid}/status").get("VmHWM", "0 kB").split()[0])
        cpu_ns = ctx = 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    cpu_ns += int(f.read().split()[0])
            except OSError:
                pass
            st = read_status(f"/proc/{pid}/task/{tid}/status")
            ctx += int(st.get("voluntary_ctxt_switches", 0)) + int(st.get("nonvoluntary_ctxt_switches", 0))
        return dict(hwm_kb=hwm, ticks=ticks, cpu_ns=cpu_ns, ctx=ctx)
    except (OSError, ValueError, IndexError):
        return None


def tree_sample(root):
    """pid -> proc_sample for the process and all its descendants."""
    out = {}
    for pid in tree_pids(root):
        s = proc_sample(pid)
        if s:
            out[pid] = s
    return out


def tree_hwm_kb(sample):
    return sum(s["hwm_kb"] for s in sample.values())


def tree_delta(s0, s1, key):
    """Growth of a counter over the tree between two samples; processes that
    appeared in between count from zero."""
    return sum(v[key] - s0.get(pid, {}).get(key, 0) if pid in s0 else v[key] for pid, v in s1.items())


def cpu_ns_of(pid):
    s = proc_sample(pid)
    return s["cpu_ns"] if s else None


# ---------------------------------------------------------------- processes


def start(argv, log, stdin=None, cwd=None, stdout=None, env=None):
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    p = subprocess.Popen(argv, stdin=fin, stdout=stdout if stdout else subprocess.DEVNULL,
                         stderr=log, cwd=cwd, env=env if env is not None else ENV, start_new_session=True)
    if stdin:
        fin.close()
    LIVE.append(p)
    return p


def kill_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def cmdline(pid):
    """The command line of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None


def stop(p, grace=5.0):
    """SIGTERM to the process group and every descendant (some leave the
    group), SIGKILL after grace; returns once all of them are gone."""
    pids = tree_pids(p.pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(p.pid, sig)
        except OSError:
            pass
        kill_all(pids, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            p.poll()
            table = proc_table()
            if all(pid not in table or table[pid][1] == b"Z" for pid in pids) and p.returncode is not None:
                break
            time.sleep(0.02)
        else:
            continue
        break
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    if p in LIVE:
        LIVE.remove(p)


def stop_all():
    for p in list(LIVE):
        try:
            stop(p, grace=2.0)
        except Exception:  # noqa: BLE001 - cleanup must go on
            pass
    sweep_orphans()


def sweep_orphans(grace=2.0):
    """Stops what a tool left behind once it was stopped itself: processes
    re-parented to the harness (a peer's server that outlived the peer).
    Call only when no run is meant to be alive. Returns them as "pid cmd"."""
    me = os.getpid()
    left = [(pid, cmdline(pid)) for pid in tree_pids(me) if pid != me]
    left = [(pid, cmd) for pid, cmd in left if cmd is not None]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        kill_all([pid for pid, _ in left], sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                while os.waitpid(-1, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                pass
            table = proc_table()
            if all(pid not in table or table[pid][1] == b"Z" for pid, _ in left):
                break
            time.sleep(0.02)
        else:
            continue
        break
    return [f"{pid} {cmd[:120]}" for pid, cmd in left]


def become_subreaper():
    """Orphans of the tools (a daemonised helper, a server whose parent
    crashed) are re-parented to the harness instead of init, so stop() and
    leftovers() still see them. SIGTERM and SIGHUP end the run like Ctrl-C."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)


def leftovers():
    """The final check: every process still under the harness after the
    cleanup, as "pid comm" strings (empty when the run left nothing)."""
    out = []
    for pid in tree_pids(os.getpid()):
        cmd = cmdline(pid) if pid != os.getpid() else None
        if cmd is not None:
            out.append(f"{pid} {cmd[:120]}")
    # Zombies re-parented to the harness: reap them.
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass
    return out


def log_tail(path, n=3):
    try:
        with open(path, errors="replace") as f:
            lines = [l.strip() for l in f if l.strip() and not l.startswith("== ")]
        return " | ".join(lines[-n:])[:300]
    except OSError:
        return ""


class Stamps:
    """The trigger's output file: one CLOCK_REALTIME ns value per run."""

    def __init__(self, path):
        self.path, self.off, self.values, self.partial = path, 0, [], b""
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return len(self.values)
        self.off += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        self.values.extend(int(x) for x in lines if x.strip())
        return len(self.values)

    def settle(self, quiet, cap=15.0):
        """Waits until no run came for `quiet` seconds."""
        n, last, end = self.poll(), time.monotonic(), time.monotonic() + cap
        while time.monotonic() < end:
            time.sleep(0.05)
            m = self.poll()
            if m != n:
                n, last = m, time.monotonic()
            elif time.monotonic() - last >= quiet:
                return True
        return False


def write_file(path, data=b"x"):
    """A save: open, write, close."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- trees


def make_tree(root, ndirs, files_per_dir=FILES_PER_DIR):
    """ndirs leaf directories (top/leaf, 100 leaves per top directory) of
    files_per_dir empty .py files each."""
    per = min(100, ndirs)
    top = max(1, ndirs // per)
    os.makedirs(root)
    dirs = 1
    for i in range(top):
        d = f"{root}/d{i:04d}"
        os.mkdir(d)
        dirs += 1
        for j in range(per):
            e = f"{d}/e{j:03d}"
            os.mkdir(e)
            dirs += 1
            for k in range(files_per_dir):
                os.close(os.open(f"{e}/f{k:02d}.py", os.O_CREAT | os.O_WRONLY, 0o644))
    os.sync()  # no writeback of the new tree competing with the first measurements
    return dict(path=root, dirs=dirs, files=top * per * files_per_dir)


def last_file(root):
    """The file in the directory a watcher reaches last: the last directory
    in readdir order at every level (last for breadth- and depth-first walks
    alike); entr gets its list in the same order."""
    d = root
    while True:
        last_dir = None
        with os.scandir(d) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    last_dir = e.path
        if not last_dir:
            break
        d = last_dir
    last = None
    with os.scandir(d) as it:
        for e in it:
            if e.is_file(follow_symlinks=False):
                last = e.path
    return last


def file_list(tree):
    """The tree's files, one a line, in walk (readdir) order: entr's stdin."""
    path = tree["path"] + ".files"
    if not os.path.exists(path):
        with open(path, "w") as f:
            for d, _, files in os.walk(tree["path"]):
                for name in files:
                    f.write(f"{d}/{name}\n")
    return path


def rm_tree(path):
    subprocess.run(["rm", "-rf", "--", path], check=False)


# ---------------------------------------------------------------- the peers


SERVER_PY = r"""
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = str(os.getpid()).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def q(s):
    return shlex.quote(str(s))


def trig(stamp):
    return f"{q(TRIGGER)} {q(stamp)}"


def sh_loop(watch_cmd, stamp):
    """A watcher piped into a shell loop that runs the trigger per line."""
    return ["/bin/sh", "-c", f"{watch_cmd} | while IFS= read -r _; do {trig(stamp)}; done"]


class Tool:
    def __init__(self, name, version="", fast=None, default=None, restart=None, missing="", peer=True,
                 how="", touch_s=0.01):
        self.name, self.version, self.missing, self.peer, self.how = name, version, missing, peer, how
        # While waiting for readiness the last file is written every touch_s:
        # more often than a tool's own event gathering would starve it.
        self.touch_s = touch_s
        self.fast, self.default, self.restart = fast, default, restart


def cmd_version(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20, env=ENV)
        out = (r.stdout + r.stderr).strip().splitlines()
        return out[0].strip() if out else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def deb_version(pkg):
    v = cmd_version(["dpkg-query", "-W", "-f=${Version}", pkg])
    return v if v and "no packages" not in v else ""


def npm_version(pkg):
    try:
        with open(os.path.join(HERE, "node_modules", pkg, "package.json")) as f:
            return json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        return ""


def make_tools():
    tools = []
    tools.append(Tool(
        "py-mon", cmd_version([PYMON, "--version"]), peer=False,
        how="py-mon --no-config -q -p -d 0 -w TREE -- trigger STAMP",
        fast=lambda t, s: dict(argv=[PYMON, "--no-config", "-q", "-p", "-d", "0", "-w", t["path"], "--", TRIGGER, s]),
        default=lambda t, s: dict(argv=[PYMON, "--no-config", "-q", "-p", "-w", t["path"], "--", TRIGGER, s]),
        restart=lambda t, srv: dict(argv=[PYMON, "--no-config", "-q", "-d", "0", "-w", t["path"], "--"] + srv)))
    tools.append(Tool(
        "floor_loop", "bench/floor_loop.c", peer=False,
        how="floor_loop watch TREE trigger STAMP (one posix_spawn per read())",
        fast=lambda t, s: dict(argv=[FLOOR_LOOP, "watch", t["path"], TRIGGER, s])))

    def have(exe):
        return shutil.which(exe, path=ENV["PATH"])

    if have("entr"):
        tools.append(Tool(
            "entr", deb_version("entr"), touch_s=0.1,
            how="file list | entr -n -p trigger STAMP (no debounce option; written every 100 ms while waiting: "
                "entr does not fire while a file is written every 10 ms)",
            fast=lambda t, s: dict(argv=["entr", "-n", "-p", TRIGGER, s], stdin=file_list(t)),
            default=lambda t, s: dict(argv=["entr", "-n", "-p", TRIGGER, s], stdin=file_list(t)),
            restart=lambda t, srv: dict(argv=["entr", "-n", "-r"] + srv, stdin=file_list(t))))
    else:
        tools.append(Tool("entr", missing="entr is not installed"))
    if have("inotifywait"):
        iw = "inotifywait -m -r -q -e close_write,create,delete,move --format %w%f"
        tools.append(Tool(
            "inotifywait", deb_version("inotify-tools"),
            how=f"{iw} TREE | while read; do trigger STAMP; done",
            fast=lambda t, s: dict(argv=sh_loop(f"{iw} {q(t['path'])}", s)),
            default=lambda t, s: dict(argv=sh_loop(f"{iw} {q(t['path'])}", s))))
    else:
        tools.append(Tool("inotifywait", missing="inotify-tools is not installed"))
    if have("fswatch"):
        tools.append(Tool(
            "fswatch", deb_version("fswatch"),
            how="fswatch -r -o -l 0.1 TREE | while read; do trigger STAMP; done (0.1 s: the documented minimum latency; default 1 s)",
            fast=lambda t, s: dict(argv=sh_loop(f"fswatch -r -o -l 0.1 {q(t['path'])}", s)),
            default=lambda t, s: dict(argv=sh_loop(f"fswatch -r -o {q(t['path'])}", s))))
    else:
        tools.append(Tool("fswatch", missing="fswatch is not installed"))
    if have("watchmedo"):
        tools.append(Tool(
            "watchmedo", deb_version("python3-watchdog"),
            how="watchmedo shell-command -R -c 'trigger STAMP' TREE (no debounce option)",
            fast=lambda t, s: dict(argv=["watchmedo", "shell-command", "-R", "-c", trig(s), t["path"]]),
            default=lambda t, s: dict(argv=["watchmedo", "shell-command", "-R", "-c", trig(s), t["path"]]),
            restart=lambda t, srv: dict(argv=["watchmedo", "auto-restart", "-R", "-d", t["path"], "--signal", "SIGTERM", "--"] + srv)))
    else:
        tools.append(Tool("watchmedo", missing="python3-watchdog is not installed"))
    nodemon = os.path.join(NODE_BIN, "nodemon")
    if os.access(nodemon, os.X_OK) and have("node"):
        tools.append(Tool(
            "nodemon", npm_version("nodemon"),
            how="nodemon -C -q --delay 0 -w TREE -e py -x 'trigger STAMP' (default delay otherwise)",
            fast=lambda t, s: dict(argv=[nodemon, "-C", "-q", "--delay", "0", "-w", t["path"], "-e", "py", "-x", trig(s)]),
            default=lambda t, s: dict(argv=[nodemon, "-C", "-q", "-w", t["path"], "-e", "py", "-x", trig(s)]),
            restart=lambda t, srv: dict(argv=[nodemon, "-q", "--delay", "0", "--signal", "SIGTERM", "-w", t["path"], "-e", "py", "-x", " ".join(q(a) for a in srv)])))
    else:
        tools.append(Tool("nodemon", missing="nodemon is not installed (npm install --prefix bench nodemon)"))
    chokidar = os.path.join(NODE_BIN, "chokidar")
    if os.access(chokidar, os.X_OK) and have("node"):
        tools.append(Tool(
            "chokidar-cli", npm_version("chokidar-cli"),
            how="chokidar TREE -c 'trigger STAMP' -d 0 --silent (default -d 400)",
            fast=lambda t, s: dict(argv=[chokidar, t["path"], "-c", trig(s), "-d", "0", "--silent"]),
            default=lambda t, s: dict(argv=[chokidar, t["path"], "-c", trig(s), "--silent"])))
    else:
        tools.append(Tool("chokidar-cli", missing="chokidar-cli is not installed (npm install --prefix bench chokidar-cli)"))
    return tools


# ---------------------------------------------------------------- measuring


class Run:
    """One launch of a tool against a tree, writing its runs to a stamp file."""

    counter = 0

    def __init__(self, work, tool, spec, tag):
        Run.counter += 1
        self.stamp = os.path.join(work, f"stamp-{Run.counter}")
        self.st = Stamps(self.stamp)
        self.log = os.path.join(OUT, "logs", f"{tag}-{tool.name}.log")
        self.cwd = os.path.join(work, "cwd")
        os.makedirs(self.cwd, exist_ok=True)
        self.spec = spec
        self.p = None
        self.t_launch = None
        self.peak_kb = 0

    def launch(self, tree):
        spec = self.spec(tree, self.stamp)
        self.logf = open(self.log, "ab")
        self.logf.write(f"\n== {' '.join(spec['argv'])}\n".encode())
        self.logf.flush()
        self.t_launch = time.time_ns()
        self.p = start(spec["argv"], self.logf, stdin=spec.get("stdin"), cwd=self.cwd)
        return self

    def sample(self):
        s = tree_sample(self.p.pid)
        self.peak_kb = max(self.peak_kb, tree_hwm_kb(s))
        return s

    def dead(self):
        if self.p.poll() is not None:
            tail = log_tail(self.log)
            return f"exited with status {self.p.returncode}" + (f": {tail}" if tail else "")
        return None

    def wait_first_run(self, target, timeout, interval=0.01):
        """Writes target every interval until the tool runs the command.
        Returns (first stamp, None) or (None, reason)."""
        end = time.monotonic() + timeout
        next_sample = 0.0
        while True:
            if self.st.poll():
                return self.st.values[0], None
            why = self.dead()
            if why:
                return None, why
            now = time.monotonic()
            if now > end:
                return None, f"timeout: no run within {timeout:.0f} s"
            write_file(target)
            if now >= next_sample:
                self.sample()
                next_sample = now + 0.25
            time.sleep(interval)

    def close(self):
        if self.p:
            stop(self.p)
            self.p = None
        self.logf.close()


def med(vals):
    return statistics.median(vals) if vals else None


def summ(vals, scale=1.0):
    if not vals:
        return None
    v = [x * scale for x in vals]
    return dict(median=statistics.median(v), min=min(v), max=max(v), n=len(v))


def fail(reason):
    return dict(failed=reason)


def spawn_floor_once(stamp):
    r = subprocess.run([FLOOR_LOOP, "spawn", "1", TRIGGER, stamp], capture_output=True, text=True, timeout=60)
    return {mode: int(ns) for mode, ns in (line.split() for line in r.stdout.splitlines())}


def fig_latency(work, tools, base):
    """Every tool runs at once, each on its own copy of the 1,000-file tree;
    the saves go round-robin (one tool at a time, the others idle), with the
    spawn floors measured in the same rotation: drift on a busy machine
    then hits every tool alike."""
    reps = C["lat_reps"]
    active, runs, targets, out = [], {}, {}, {}
    tree = None
    for t in tools:
        if t.missing or not t.fast:
            continue
        tree = make_tree(os.path.join(base, "lat", t.name), 100)
        targets[t.name] = last_file(tree["path"])
        say(f"latency: starting {t.name}")
        run = Run(work, t, t.fast, "latency").launch(tree)
        runs[t.name] = run
        first, why = run.wait_first_run(targets[t.name], C["ready_timeout"], t.touch_s)
        if why:
            out[t.name] = fail(why)
            run.close()
            continue
        active.append(t)
    for t in active:
        runs[t.name].st.settle(0.5)
    say(f"latency: {reps} saves round-robin over " + ", ".join(t.name for t in active) + " and the spawn floors")
    lats, nrun, why = defaultdict(list), defaultdict(list), {}
    floor = defaultdict(list)
    spawn_stamp = os.path.join(work, "spawn-stamps")
    try:
        for rep in range(reps):
            for mode, ns in spawn_floor_once(spawn_stamp).items():
                floor[mode].append(ns)
            order = active[rep % len(active):] + active[:rep % len(active)] if active else []
            for t in order:
                if t.name in why:
                    continue
                run = runs[t.name]
                n0 = run.st.poll()
                t0 = time.time_ns()
                write_file(targets[t.name])
                end = time.monotonic() + 5
                while run.st.poll() == n0 and time.monotonic() < end and not run.dead():
                    time.sleep(0.002)
                if run.st.poll() == n0:
                    why[t.name] = f"after {len(lats[t.name])} saves: " + (run.dead() or "no run within 5 s of a save")
                    continue
                lat = run.st.values[n0] - t0
                lats[t.name].append(lat)
                time.sleep(max(0.15, 3 * lat / 1e9))
                nrun[t.name].append(run.st.poll() - n0)
    finally:
        for run in runs.values():
            run.close()
    for t in active:
        if t.name in why:
            out[t.name] = fail(why[t.name])
        else:
            out[t.name] = dict(summary=summ(lats[t.name], 1e-6), runs_per_save=med(nrun[t.name]),
                               raw_ns=lats[t.name], raw_runs=nrun[t.name])
    spawn = {m: dict(summary=summ(v, 1e-6), raw_ns=v) for m, v in floor.items()}
    return out, spawn, dict(dirs=tree["dirs"], files=tree["files"]) if tree else None


def ready_series(work, t, tree, reps, timeout, idle_s=0, tag="ready"):
    """reps launches: launch -> first run of the command while the last
    directory's file is written every 10 ms. Peak RSS of the process tree;
    idle CPU and wake-ups over idle_s after the last one."""
    target = last_file(tree["path"])
    readies, peaks, idle, died = [], [], None, None
    rep = 0
    while rep < reps:
        run = Run(work, t, t.fast, tag).launch(tree)
        try:
            first, why = run.wait_first_run(target, timeout, t.touch_s)
            if why:
                return dict(failed=why, raw_ns=readies, peak_kb=peaks, peak_at_failure_kb=run.peak_kb)
            readies.append(first - run.t_launch)
            if rep == 0 and readies[0] / 1e9 > SLOW_READY_S:
                reps = min(reps, C["slow_reps"])
            time.sleep(0.3)
            run.sample()
            why = run.dead()
            if why:
                died = f"died after it was ready: {why}"
            if idle_s and rep == reps - 1 and why:
                idle = dict(failed=died)
            elif idle_s and rep == reps - 1:
                run.st.settle(1.5, cap=10)
                s0 = run.sample()
                n0 = run.st.poll()
                time.sleep(idle_s)
                s1 = run.sample()
                idle = dict(seconds=idle_s, ticks=tree_delta(s0, s1, "ticks"), ctx=tree_delta(s0, s1, "ctx"),
                            cpu_ms=tree_delta(s0, s1, "cpu_ns") / 1e6, runs=run.st.poll() - n0,
                            processes=len(s1))
            peaks.append(run.peak_kb)
            why = run.dead()
            if why and not died:
                died = f"died after it was ready: {why}"
                if idle and "failed" not in idle:
                    idle = dict(failed=died + " (during the idle window)")
        finally:
            run.close()
        rep += 1
    return dict(summary=summ(readies, 1e-9), peak_kb=peaks, peak=summ(peaks, 1 / 1024), raw_ns=readies, idle=idle,
                died=died)


def merge_series(parts):
    """One series from single-rep series run interleaved with another tool's."""
    readies = [x for p in parts for x in p.get("raw_ns", [])]
    peaks = [x for p in parts for x in p.get("peak_kb", [])]
    out = dict(summary=summ(readies, 1e-9), peak_kb=peaks, peak=summ(peaks, 1 / 1024), raw_ns=readies,
               idle=next((p["idle"] for p in reversed(parts) if p.get("idle")), None),
               died=next((p["died"] for p in parts if p.get("died")), None))
    failed = next((p for p in parts if "failed" in p), None)
    if failed:
        out["failed"] = failed["failed"]
        out["peak_at_failure_kb"] = failed.get("peak_at_failure_kb")
        if readies:
            out["failed"] += f" (in 1 of {len(parts)} launches)"
    return out


def floor_scan_series(tree, reps):
    vals, hwm, wall = [], [], []
    for _ in range(reps):
        t0 = time.monotonic_ns()
        r = subprocess.run([FLOOR_SCAN, tree["path"]], capture_output=True, text=True, timeout=600)
        wall.append(time.monotonic_ns() - t0)
        kv = dict(x.split("=") for x in r.stdout.split())
        vals.append(int(kv["scan_ns"]))
        hwm.append(int(kv["hwm_kb"]))
    return dict(summary=summ(vals, 1e-9), process_wall=summ(wall, 1e-9), peak=summ(hwm, 1 / 1024),
                dirs=int(kv["dirs"]), watches=int(kv["watches"]), raw_ns=vals, peak_kb=hwm)


def fig_growth(work, tools, base):
    out = {}
    for size in C["growth"]:
        say(f"growth: creating a tree of {size} leaf directories, {size * FILES_PER_DIR} files")
        tree = make_tree(os.path.join(base, f"tree-{size}"), size)
        res = dict(dirs=tree["dirs"], files=tree["files"], tools={})
        try:
            big = size > 10000
            core_reps = 3 if size != 10000 else C["ready_reps_core"]
            peer_reps = 1 if big else (C["ready_reps_peer"] if size == 10000 else min(3, C["ready_reps_peer"]))
            timeout = C["big_timeout"] if big else C["growth_timeout"]
            idle = C["idle_s"] if size == 10000 else 0
            floor_scan_series(tree, 1)  # warm the dentry cache the same for all
            # py-mon and the floor loop take turns, so that drift on a busy
            # machine does not favour one of them.
            core = [t for t in tools if not t.peer and t.fast and not t.missing]
            say(f"growth {size}: floor_scan, {', '.join(t.name for t in core)} interleaved, {core_reps} reps each")
            parts = defaultdict(list)
            for rep in range(core_reps):
                parts["floor_scan"].append(floor_scan_series(tree, 1))
                for t in core:
                    parts[t.name].append(ready_series(work, t, tree, 1, timeout,
                                                      idle if rep == core_reps - 1 else 0, tag=f"ready{size}"))
            for t in core:
                res["tools"][t.name] = merge_series(parts[t.name])
            fs = parts["floor_scan"]
            res["floor_scan"] = dict(
                summary=summ([x for p in fs for x in p["raw_ns"]], 1e-9),
                process_wall=summ([p["process_wall"]["median"] for p in fs]),
                peak=summ([x for p in fs for x in p["peak_kb"]], 1 / 1024),
                dirs=fs[0]["dirs"], watches=fs[0]["watches"],
                raw_ns=[x for p in fs for x in p["raw_ns"]], peak_kb=[x for p in fs for x in p["peak_kb"]])
            for t in tools:
                if t.missing or not t.fast or not t.peer:
                    continue
                say(f"growth {size}: {t.name} ({peer_reps} rep{'s' if peer_reps > 1 else ''})")
                res["tools"][t.name] = ready_series(work, t, tree, peer_reps, timeout, idle, tag=f"ready{size}")
        finally:
            say(f"growth: removing the {size} tree")
            rm_tree(tree["path"])
            for ext in (".files",):
                if os.path.exists(tree["path"] + ext):
                    os.unlink(tree["path"] + ext)
        out[str(size)] = res
    return out


def fig_burst(work, tools, base):
    """Default settings; 5,000 files of a watched tree written at once;
    runs counted until none came for burst_quiet s (cut at burst_cap).
    Every tool is started and made ready first, each on its own copy of the
    tree; then one burst per tool, one tool at a time, and each tool is
    stopped right after its turn."""
    n = C["burst_n"]
    out, runs, probes, files = {}, {}, {}, {}
    order = [t for t in tools if not t.missing and t.default]
    try:
        for t in order:
            tree = make_tree(os.path.join(base, "burst", t.name), n // FILES_PER_DIR)
            probes[t.name] = os.path.join(tree["path"], "probe.py")
            write_file(probes[t.name])
            fl = []
            for d, _, names in os.walk(tree["path"]):
                fl.extend(f"{d}/{x}" for x in names if x != "probe.py")
            files[t.name] = fl[:n]
            runs[t.name] = Run(work, t, t.default, "burst").launch(tree)
        say("burst: waiting until " + ", ".join(t.name for t in order) + " are ready")
        pending = list(order)
        end = time.monotonic() + C["ready_timeout"]
        while pending and time.monotonic() < end:
            for t in list(pending):
                run = runs[t.name]
                if run.st.poll():
                    pending.remove(t)
                elif run.dead():
                    out[t.name] = fail(run.dead())
                    pending.remove(t)
                else:
                    write_file(probes[t.name])
            time.sleep(1.2)  # slower than every default debounce, so it cannot starve one
        for t in pending:
            out[t.name] = fail(f"timeout: no run within {C['ready_timeout']} s")
        for t in order:
            run = runs[t.name]
            if t.name in out:
                run.close()
                continue
            say(f"burst: {t.name}")
            try:
                run.st.settle(2.0, cap=10)
                n0 = run.st.poll()
                t_b = time.time_ns()
                for f in files[t.name]:
                    write_file(f, b"y")
                t_w = time.monotonic()
                last_n, last_t, cut = run.st.poll(), time.monotonic(), False
                while True:
                    time.sleep(0.1)
                    m = run.st.poll()
                    now = time.monotonic()
                    if m != last_n:
                        last_n, last_t = m, now
                    if now - last_t >= C["burst_quiet"] and now - t_w >= C["burst_quiet"]:
                        break
                    if now - t_w > C["burst_cap"]:
                        cut = True
                        break
                runs_ = sum(1 for v in run.st.values[n0:] if v >= t_b)
                span = (run.st.values[-1] - t_b) / 1e9 if runs_ else 0.0
                dead = run.dead()
                alive = None
                if not cut and not dead:
                    # Does it still react after the burst?
                    k = run.st.poll()
                    end = time.monotonic() + 5
                    while time.monotonic() < end and run.st.poll() == k:
                        write_file(probes[t.name])
                        time.sleep(0.5)
                    alive = run.st.poll() > k
                out[t.name] = dict(runs=runs_, cut_at_cap=cut, seconds=span, reacts_after=alive, died=dead)
            finally:
                run.close()
    finally:
        for run in runs.values():
            if run.p:
                run.close()
        rm_tree(os.path.join(base, "burst"))
    return out


FLOOD_MASK = "create,delete,modify,close_write,attrib,moved_from,moved_to,delete_self,move_self"


FLOOD_RATE = 10000  # files per second in the paced repetitions


def flood_one(work, base, name, argv, n, rate, tag):
    """n creates in a watched directory, paced at `rate` files/s (None: as
    fast as the harness can). The watcher writes to a file."""
    d = os.path.join(base, f"flood-{name}-{tag}")
    sub = os.path.join(d, "sub")
    os.makedirs(sub)
    outp = d + ".out"
    log = open(os.path.join(OUT, "logs", f"flood-{name}.log"), "ab")
    with open(outp, "wb") as fo:
        p = start(argv(d), log, stdout=fo, cwd=work)
    try:
        # ready: a probe shows up in the output
        end, k = time.monotonic() + 30, 0
        while os.path.getsize(outp) == 0 and time.monotonic() < end and p.poll() is None:
            write_file(os.path.join(d, f"probe{k}"))
            k += 1
            time.sleep(0.02)
        if os.path.getsize(outp) == 0:
            return fail(f"not ready: {log_tail(log.name)}")
        time.sleep(0.3)
        base_lines = sum(1 for _ in open(outp, "rb"))
        c0 = cpu_ns_of(p.pid)
        t0 = time.monotonic()
        for i in range(n):
            os.close(os.open(f"{sub}/f{i:06d}", os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644))
            if rate and i % 50 == 49:
                ahead = t0 + (i + 1) / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        t_end = time.monotonic()
        last_c, last_s, t_last = c0, -1, t_end
        cap = t_end + 120
        while time.monotonic() < cap:
            time.sleep(0.02)
            c = cpu_ns_of(p.pid)
            if c is None:
                break
            sz = os.path.getsize(outp)
            now = time.monotonic()
            if c != last_c or sz != last_s:
                last_c, last_s, t_last = c, sz, now
            elif now - t_last > 0.5:
                break
        with open(outp, "rb") as f:
            lines = f.read().splitlines()[base_lines:]
        over = sum(1 for l in lines if b"OVERFLOW" in l or b'"rescan"' in l)
        return dict(cpu_ns=last_c - c0, cpu_us_per_event=(last_c - c0) / n / 1e3, create_s=t_end - t0,
                    files_per_s=n / (t_end - t0), drain_s=max(0.0, t_last - t_end), lines=len(lines),
                    overflow_lines=over, died=p.poll() is not None)
    finally:
        stop(p)
        log.close()
        rm_tree(d)
        os.unlink(outp)


def fig_flood(work, base):
    """CPU per event at a fixed pace both can follow (the figure compared),
    repetitions alternating between the watchers; then one repetition each
    as fast as the harness can create files, for the drain time."""
    n = C["flood_n"]
    watchers = {"py-mon": lambda d: [PYMON, "watch", "--no-config", "--json", d]}
    if shutil.which("inotifywait", path=ENV["PATH"]):
        # The same event mask py-mon's watches use, so the kernel queues the same events.
        watchers["inotifywait"] = lambda d: ["inotifywait", "-m", "-r", "-q", "-e", FLOOD_MASK, d]
    paced, fast = defaultdict(list), {}
    for rep in range(C["flood_reps"]):
        for name, argv in watchers.items():
            say(f"flood: {name}, {n} creates at {FLOOD_RATE}/s, rep {rep + 1}")
            paced[name].append(flood_one(work, base, name, argv, n, FLOOD_RATE, f"p{rep}"))
    for name, argv in watchers.items():
        say(f"flood: {name}, {n} creates as fast as possible")
        fast[name] = flood_one(work, base, name, argv, n, None, "max")
    out = {}
    for name in watchers:
        ok = [r for r in paced[name] if "failed" not in r]
        out[name] = dict(paced=paced[name], max_rate=fast[name], rate=FLOOD_RATE,
                         cpu_us_per_event=summ([r["cpu_us_per_event"] for r in ok]),
                         files_per_s=summ([r["files_per_s"] for r in ok]),
                         lines=summ([r["lines"] for r in ok]),
                         overflow_lines=summ([r["overflow_lines"] for r in ok]))
        if not ok:
            out[name]["failed"] = paced[name][0]["failed"] if paced[name] else "no repetition"
    return out


def http_pid(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.settimeout(0.5)
            s.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        return int(data.split(b"\r\n\r\n", 1)[1])
    except (OSError, ValueError, IndexError):
        return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_server(port, old, timeout, dead=lambda: None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pid = http_pid(port)
        if pid is not None and pid != old:
            return pid
        if dead():
            return None
        time.sleep(0.002)
    return None


def fig_restart(work, tools, tree):
    server = os.path.join(work, "server.py")
    with open(server, "w") as f:
        f.write(SERVER_PY)
    target = last_file(tree["path"])
    reps = C["restart_reps"]
    out = {}
    # The floor: the harness itself stops the old server (SIGTERM, wait)
    # and starts the new one.
    say("restart: floor")
    port = free_port()
    log = open(os.path.join(OUT, "logs", "restart-floor.log"), "ab")
    p = start([PY, server, str(port)], log, cwd=work)
    old = wait_server(port, None, 15)
    vals = []
    for _ in range(reps):
        t0 = time.monotonic_ns()
        p.send_signal(signal.SIGTERM)
        p.wait()
        LIVE.remove(p)
        p = start([PY, server, str(port)], log, cwd=work)
        new = wait_server(port, old, 10)
        vals.append(time.monotonic_ns() - t0)
        old = new
        time.sleep(0.2)
    stop(p)
    log.close()
    out["floor"] = dict(summary=summ(vals, 1e-6), raw_ns=vals)
    for t in tools:
        if t.missing:
            continue
        if not t.restart:
            out[t.name] = dict(na="no restart mode")
            continue
        say(f"restart: {t.name}")
        port = free_port()
        run = Run(work, t, lambda tr, s, t=t, port=port: t.restart(tr, [PY, server, str(port)]), "restart")
        run.launch(tree)
        try:
            old = wait_server(port, None, C["ready_timeout"], run.dead)
            if old is None:
                out[t.name] = fail(run.dead() or "the server never answered")
                continue
            time.sleep(0.5)
            old = http_pid(port) or old
            vals, extra, why = [], 0, None
            for _ in range(reps):
                t0 = time.monotonic_ns()
                write_file(target)
                new = wait_server(port, old, 10, run.dead)
                if new is None:
                    why = run.dead() or "no new server answered within 10 s (old one: " + (
                        "still answering" if http_pid(port) == old else "gone") + ")"
                    break
                vals.append(time.monotonic_ns() - t0)
                time.sleep(0.4)
                now_pid = http_pid(port)
                if now_pid is not None and now_pid != new:
                    extra += 1
                old = now_pid or new
            if why:
                out[t.name] = fail(f"after {len(vals)} restarts: {why}")
            else:
                out[t.name] = dict(summary=summ(vals, 1e-6), raw_ns=vals, extra_restarts=extra)
        finally:
            run.close()
            # A peer that restarts its command without waiting for it may
            # leave the old server running once the peer is stopped.
            orphans = sweep_orphans()
            if orphans:
                say(f"restart: {t.name} left {len(orphans)} process(es) running after it was stopped "
                    f"(stopped by the harness): " + "; ".join(orphans))
                if t.name in out:
                    out[t.name]["left_running"] = orphans
    return out


# ---------------------------------------------------------------- report


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = read_status("/proc/meminfo").get("MemTotal", "")
    git = lambda *a: subprocess.run(["git", "-C", REPO] + list(a), capture_output=True, text=True).stdout.strip()
    return dict(nproc=os.cpu_count(), kernel=platform.release(), cpu=cpu, mem=mem,
                python=platform.python_version(), commit=git("rev-parse", "--short", "HEAD"),
                dirty_src=bool(git("status", "--porcelain", "--", "src", "include")),
                max_user_watches=open("/proc/sys/fs/inotify/max_user_watches").read().strip(),
                max_queued_events=open("/proc/sys/fs/inotify/max_queued_events").read().strip())


def fmt(s, nd=2, unit=""):
    if not s:
        return "-"
    f = f"{{:.{nd}f}}"
    return f"{f.format(s['median'])}{unit} [{f.format(s['min'])}-{f.format(s['max'])}]"


def ratio(a, b):
    if a is None or b is None or not b:
        return "-"
    return f"{a / b:.2f}"


def smed(r, key="summary"):
    return r.get(key, {}).get("median") if r and r.get(key) else None


def table(R, tools):
    L = []
    w = L.append
    names = [t.name for t in tools]
    missing = [t for t in tools if t.missing]
    m = R["machine"]
    w(f"py-mon bench  {R['date']}  {'QUICK' if QUICK else 'full'} run  "
      f"{m['nproc']} cores, {m['cpu']}, Linux {m['kernel']}, py-mon {m['commit']}{' (src modified)' if m['dirty_src'] else ''}")
    w("  versions: " + ", ".join(f"{t.name} {t.version or '?'}" for t in tools if not t.missing and t.peer))
    for t in missing:
        w(f"  skipped {t.name}: {t.missing}")
    if R.get("left_running"):
        w("  LEFT RUNNING after the cleanup (harness bug): " + "; ".join(R["left_running"]))
    w("")

    lat = R["latency"]
    sp = R["spawn_floor"]
    pm = smed(lat.get("py-mon"))
    w(f"1. Trigger latency, ms: write+close of one file in a {R['latency_tree']['files']}-file tree -> trigger's timestamp ({C['lat_reps']} reps)")
    w(f"   {'':22} {'median [min-max]':>26} {'runs/save':>10} {'py-mon/x':>9}")
    for mode, label in (("posix_spawn", "floor: posix_spawn"), ("fork_exec", "floor: fork+exec"), ("sh_c", "floor: sh -c")):
        if mode in sp:
            w(f"   {label:22} {fmt(sp[mode]['summary']):>26} {'':>10} {ratio(pm, smed(sp[mode])):>9}")
    for n in names:
        r = lat.get(n)
        if r is None:
            continue
        if "failed" in r:
            w(f"   {n:22} failed: {r['failed']}")
        else:
            w(f"   {n:22} {fmt(r['summary']):>26} {r['runs_per_save']:>10} {ratio(pm, smed(r)):>9}")
    w("")

    g = R["growth"]
    g10 = g.get("10000")
    if g10:
        pm = smed(g10["tools"].get("py-mon"))
        w(f"2. Ready time, s: launch -> a change in the last directory is detected, {g10['dirs']} dirs / {g10['files']} files")
        w(f"   {'':22} {'median [min-max]':>26} {'py-mon/x':>9}")
        fs = g10["floor_scan"]
        w(f"   {'floor_scan (in-process)':22} {fmt(fs['summary'], 3):>26} {ratio(pm, smed(fs)):>9}")
        for n in names:
            r = g10["tools"].get(n)
            if r is None:
                continue
            if "failed" in r:
                w(f"   {n:22} failed: {r['failed']}")
            else:
                died = f"  ({r['died']})" if r.get("died") else ""
                w(f"   {n:22} {fmt(r['summary'], 3):>26} {ratio(pm, smed(r)):>9}{died}")
        w("")

    sizes = list(g.keys())
    w("3. Growth: ready time s | peak RSS MiB of the process tree, at " + ", ".join(f"{g[s]['dirs']} dirs" for s in sizes))
    w(f"   {'':22} " + " ".join(f"{s + ' leaf dirs':>24}" for s in sizes) + f" {'us/dir ready':>14}")

    def slope(get):
        pts = [(g[s]["dirs"], get(g[s])) for s in sizes]
        pts = [(d, v) for d, v in pts if v is not None]
        if len(pts) < 2:
            return "-"
        return " / ".join(f"{(b[1] - a[1]) / (b[0] - a[0]) * 1e6:.1f}" for a, b in zip(pts, pts[1:]))

    cells = []
    for s in sizes:
        fs = g[s]["floor_scan"]
        cells.append(f"{smed(fs):.3f} | {smed(fs, 'peak'):.1f}")
    w(f"   {'floor_scan':22} " + " ".join(f"{c:>24}" for c in cells) + f" {slope(lambda x: smed(x['floor_scan'])):>14}")
    for n in names:
        cells, any_ = [], False
        for s in sizes:
            r = g[s]["tools"].get(n)
            if r is None:
                cells.append("-")
            elif "failed" in r:
                any_ = True
                why = r["failed"]
                cell = "timeout" if why.startswith("timeout") else "failed"
                if r.get("peak_at_failure_kb"):
                    cell += f" | >={r['peak_at_failure_kb'] / 1024:.1f}"
                cells.append(cell)
            else:
                any_ = True
                cells.append(f"{smed(r):.3f} | {smed(r, 'peak'):.1f}" + (" +" if r.get("died") else ""))
        if any_:
            get = lambda x, n=n: smed(x["tools"].get(n)) if x["tools"].get(n) and "failed" not in x["tools"][n] else None
            w(f"   {n:22} " + " ".join(f"{c:>24}" for c in cells) + f" {slope(get):>14}")
    for s in sizes:
        for n in names:
            r = g[s]["tools"].get(n)
            if r and "failed" in r:
                w(f"   ({n} at {s}: {r['failed']})")
    w("   us/dir ready: slope of ready time between consecutive sizes, microseconds per directory;"
      " +: died after it was ready")
    w("")

    if g10:
        pm = smed(g10["tools"].get("py-mon"), "peak")
        w(f"4. Peak RSS of the whole process tree, MiB, {g10['dirs']} dirs (VmHWM summed over the watcher and its descendants)")
        w(f"   {'floor_scan':22} {fmt(g10['floor_scan']['peak'], 1):>26} {ratio(pm, smed(g10['floor_scan'], 'peak')):>9}")
        for n in names:
            r = g10["tools"].get(n)
            if r is None:
                continue
            if r.get("peak"):
                w(f"   {n:22} {fmt(r['peak'], 1):>26} {ratio(pm, smed(r, 'peak')):>9}" + ("  (before it failed)" if "failed" in r else ""))
            elif "failed" in r and r.get("peak_at_failure_kb"):
                w(f"   {n:22} {'>= %.1f' % (r['peak_at_failure_kb'] / 1024):>26} {'':>9}  (when it failed: {r['failed'][:60]})")
            elif "failed" in r:
                w(f"   {n:22} failed: {r['failed']}")
        w("")
        w(f"5. Idle: {C['idle_s']} s of quiet on the {g10['dirs']}-dir tree, whole process tree")
        w(f"   {'':22} {'CPU ticks':>10} {'CPU ms':>8} {'ctx switches':>13} {'processes':>10}")
        for n in names:
            r = g10["tools"].get(n)
            if r is None:
                continue
            i = r.get("idle")
            if i and "failed" in i:
                w(f"   {n:22} n/a: {i['failed'][:100]}")
            elif i:
                w(f"   {n:22} {i['ticks']:>10} {i['cpu_ms']:>8.1f} {i['ctx']:>13} {i['processes']:>10}")
            else:
                w(f"   {n:22} n/a: {r.get('failed', 'no idle window')}")
        w("")

    fl = R["flood"]
    w(f"6. Flood: {C['flood_n']} creates in one watched directory; watcher output to a file")
    w(f"   paced at {FLOOD_RATE} files/s ({C['flood_reps']} rep{'s' if C['flood_reps'] > 1 else ''}, alternating) | as fast as the harness can (1 rep)")
    w(f"   {'':22} {'CPU us/event paced':>22} {'lines':>8} | {'files/s':>8} {'CPU us/ev':>9} {'drain s':>8} {'overflow':>8}")
    for n, r in fl.items():
        if "failed" in r:
            w(f"   {n:22} failed: {r['failed']}")
            continue
        m = r["max_rate"]
        mx = (f"{m['files_per_s']:>8.0f} {m['cpu_us_per_event']:>9.2f} {m['drain_s']:>8.2f} {m['overflow_lines']:>8}"
              if "failed" not in m else f"failed: {m['failed']}")
        w(f"   {n:22} {fmt(r['cpu_us_per_event'], 2):>22} {smed(r, 'lines'):>8.0f} | {mx}")
    if "py-mon" in fl and "inotifywait" in fl:
        w(f"   py-mon/inotifywait CPU per event (paced): {ratio(smed(fl['py-mon'], 'cpu_us_per_event'), smed(fl['inotifywait'], 'cpu_us_per_event'))}")
    b = R["burst"]
    w(f"   Burst: {C['burst_n']} files written at once, default settings: runs of the command (until {C['burst_quiet']} s quiet, cut at {C['burst_cap']} s)")
    for n in names:
        r = b.get(n)
        if r is None:
            continue
        if "failed" in r:
            w(f"   {n:22} failed: {r['failed']}")
            continue
        note = []
        if r["cut_at_cap"]:
            note.append("still running at the cap")
        if r["died"]:
            note.append(f"died: {r['died']}")
        if r["reacts_after"] is False:
            note.append("blind after the burst")
        runs = f"{'>=' if r['cut_at_cap'] else ''}{r['runs']}"
        w(f"   {n:22} {runs:>8} runs over {r['seconds']:.2f} s  {'; '.join(note)}")
    w("")

    rs = R["restart"]
    pm = smed(rs.get("py-mon"))
    w(f"7. Restart, ms: write+close -> a new http.server answers (old one exits on SIGTERM), {C['restart_reps']} reps")
    for n in ["floor"] + names:
        r = rs.get(n)
        if r is None:
            continue
        label = "floor: TERM+respawn" if n == "floor" else n
        if "failed" in r:
            w(f"   {label:22} failed: {r['failed']}")
        elif "na" in r:
            w(f"   {label:22} n/a: {r['na']}")
        else:
            ex = f"  extra restarts: {r['extra_restarts']}" if r.get("extra_restarts") else ""
            w(f"   {label:22} {fmt(r['summary']):>26} {ratio(pm, smed(r)):>9}{ex}")
    w("")
    w("Targets (issue 6)")
    for ok, text in R["targets"]:
        w(f"   [{ {True: 'met', False: 'MISSED', None: 'n/a'}[ok]:>6}] {text}")
    return "\n".join(L)


def targets(R, tools):
    T = []
    peers = [t.name for t in tools if t.peer and not t.missing]
    lat = R["latency"]
    pm = smed(lat.get("py-mon"))
    fe = smed(R["spawn_floor"].get("fork_exec", {}))
    if pm is not None and fe is not None:
        T.append((pm <= fe + 1.0, f"trigger latency {pm:.2f} ms <= fork+exec floor {fe:.2f} + 1 ms"))
        worse = [n for n in peers if lat.get(n) and "failed" not in lat[n] and smed(lat[n]) <= pm]
        T.append((not worse, "trigger latency lower than every peer" + (f" (not: {', '.join(worse)})" if worse else "")))
    g = R["growth"]
    g10 = g.get("10000")
    if g10 and g10["tools"].get("py-mon") and "failed" not in g10["tools"]["py-mon"]:
        r = smed(g10["tools"]["py-mon"])
        fl = g10["tools"].get("floor_loop")
        f = smed(fl) if fl and "failed" not in fl else None
        if f:
            T.append((r <= 1.25 * f, f"ready time {r:.3f} s <= 1.25 x floor_loop {f:.3f} s (= {1.25 * f:.3f} s; ratio {r / f:.2f})"))
        worse = [n for n in peers if g10["tools"].get(n) and "failed" not in g10["tools"][n] and smed(g10["tools"][n]) <= r]
        T.append((not worse, "ready time lower than every peer" + (f" (not: {', '.join(worse)})" if worse else "")))
        sizes = [s for s in g if g[s]["tools"].get("py-mon") and "failed" not in g[s]["tools"]["py-mon"]]
        if len(sizes) >= 3:
            pts = [(g[s]["dirs"], smed(g[s]["tools"]["py-mon"])) for s in sizes]
            sl = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(pts, pts[1:])]
            T.append((sl[-1] <= 1.25 * sl[0], "linear growth: ready-time slope " + " -> ".join(f"{x * 1e6:.1f}" for x in sl) + " us/dir (last <= 1.25 x first)"))
        else:
            T.append((None, "linear growth from 1k to 100k dirs: needs the 100k point (full run)"))
        pk = smed(g10["tools"]["py-mon"], "peak")
        T.append((pk <= 4.0, f"peak RSS {pk:.1f} MiB <= 4 MiB at {g10['dirs']} dirs"))
        g100 = g.get("100000")
        if g100 and g100["tools"].get("py-mon") and "failed" not in g100["tools"]["py-mon"]:
            pk1 = smed(g100["tools"]["py-mon"], "peak")
            T.append((pk1 <= 24.0, f"peak RSS {pk1:.1f} MiB <= 24 MiB at {g100['dirs']} dirs"))
        else:
            T.append((None, "peak RSS <= 24 MiB at 100k dirs: needs the full run"))
        worse = [n for n in peers if g10["tools"].get(n) and g10["tools"][n].get("peak") and smed(g10["tools"][n], "peak") <= pk]
        T.append((not worse, "peak RSS lower than every peer" + (f" (not: {', '.join(worse)})" if worse else "")))
        i = g10["tools"]["py-mon"].get("idle")
        if i and "failed" not in i:
            T.append((i["ticks"] == 0 and i["ctx"] == 0, f"idle: {i['ticks']} CPU ticks, {i['ctx']} context switches in {i['seconds']} s (target 0 and 0)"))
    fl = R["flood"]
    a, b = smed(fl.get("py-mon", {}), "cpu_us_per_event"), smed(fl.get("inotifywait", {}), "cpu_us_per_event")
    if a is not None and b is not None:
        T.append((a <= b, f"flood CPU per event {a:.2f} us <= inotifywait's {b:.2f} us (paced, {FLOOD_RATE} files/s)"))
    br = R["burst"].get("py-mon")
    if br and "failed" not in br:
        T.append((br["runs"] == 1, f"a {C['burst_n']}-file burst is one run ({br['runs']})"))
    return T


def main():
    global ENV
    ENV = dict(os.environ)
    ENV["PATH"] = os.pathsep.join([ENV.get("PATH", ""), "/usr/local/bin", "/usr/bin", "/bin"])
    ENV.update(NO_UPDATE_NOTIFIER="1", NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1")
    # entr refuses more files than RLIMIT_NOFILE allows: give every tool the
    # same, as high as the kernel permits (root may raise the hard limit).
    try:
        nr_open = int(open("/proc/sys/fs/nr_open").read())
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(nr_open, 1048576)
        if os.geteuid() == 0:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
        else:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (OSError, ValueError):
        pass
    for exe in (PYMON, TRIGGER, FLOOR_SCAN, FLOOR_LOOP):
        if not os.access(exe, os.X_OK):
            sys.exit(f"bench: {exe} is missing: run `make bench` (it builds them)")
    become_subreaper()
    os.makedirs(os.path.join(OUT, "logs"), exist_ok=True)
    for f in os.listdir(os.path.join(OUT, "logs")):
        if not f.startswith("fw-"):  # the frameworks' logs are bench/frameworks.py's
            os.unlink(os.path.join(OUT, "logs", f))
    base = tempfile.mkdtemp(prefix="pymon-bench-", dir=os.environ.get("BENCH_TMP", "/tmp"))
    work = os.path.join(base, "work")
    os.makedirs(work)
    tools = make_tools()
    R = dict(date=time.strftime("%Y-%m-%d %H:%M:%S %Z"), quick=QUICK, config=C, machine=machine(),
             nofile=resource.getrlimit(resource.RLIMIT_NOFILE)[0],
             tools={t.name: dict(version=t.version, how=t.how, missing=t.missing) for t in tools})
    notes = os.path.join(HELPERS, "install-notes.txt")
    if os.path.exists(notes):
        R["install_notes"] = open(notes).read().strip()
    say(f"trees under {base}; tools: " + ", ".join(t.name for t in tools if not t.missing))
    try:
        R["latency"], R["spawn_floor"], R["latency_tree"] = fig_latency(work, tools, base)
        lt = make_tree(os.path.join(base, "restart"), 100)
        R["restart"] = fig_restart(work, tools, lt)
        rm_tree(os.path.join(base, "lat"))
        rm_tree(lt["path"])
        R["burst"] = fig_burst(work, tools, base)
        R["flood"] = fig_flood(work, base)
        R["growth"] = fig_growth(work, tools, base)
    except KeyboardInterrupt:
        interrupted = True
    else:
        interrupted = False
    finally:
        stop_all()
        rm_tree(base)
    # Nothing may outlive the run: list what did and fail.
    left = leftovers()
    for line in left:
        say(f"LEFT RUNNING after the cleanup (harness bug): {line}")
    if interrupted:
        sys.exit(130)
    R["left_running"] = left
    R["targets"] = targets(R, tools)
    R["elapsed_s"] = time.monotonic() - T_START
    text = table(R, tools)
    R["table"] = text
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(R, f, indent=1)
    with open(os.path.join(OUT, "table.txt"), "w") as f:
        f.write(text + "\n")
    print(text)
    say(f"done in {R['elapsed_s']:.0f} s; raw figures in {os.path.relpath(os.path.join(OUT, 'results.json'), REPO)}")
    if left:
        sys.exit(1)


if __name__ == "__main__":
    main()
