#!/usr/bin/env python3
"""Save -> new code served: py-mon beside the reloaders built into Flask
(Werkzeug), uvicorn and Django.

Run by `make bench` (after the watcher figures) and alone by
`sh bench/run.sh frameworks`; QUICK=1 for a short look. Python 3 standard
library only; the frameworks are Debian's packages and run with
/usr/bin/python3 (FW_PYTHON to change it). Prints a table on stdout,
progress on stderr, writes bench/out/frameworks.json and
bench/out/frameworks.txt. What each figure means: bench/README.md,
section "Save -> new code served".
"""

import json
import os
import random
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402 - the shared /proc and process helpers

FW_PY = os.environ.get("FW_PYTHON", "/usr/bin/python3")
QUICK = B.QUICK
REPS = 5 if QUICK else 20
IDLE_S = 10 if QUICK else 30
REP_TIMEOUT_S = 20.0
POLL_S = 0.002  # one HTTP attempt every 2 ms while waiting for the new body
SAMPLE_S = 0.25  # RSS sampling period

# ---------------------------------------------------------------- the apps

# Loaded by every Python process of the runs (PYTHONPATH): appends
# "pid CLOCK_REALTIME-ns" to $BENCH_UP_STAMP as soon as the interpreter runs
# site, then runs the sitecustomize it shadows (Debian's apport hook).
SITECUSTOMIZE = r'''
import os as _os, signal as _signal, sys as _sys, time as _time
_p = _os.environ.get("BENCH_UP_STAMP")


def _stamp(kind):
    try:
        with open(_p, "a") as f:
            f.write("%s %d %d\n" % (kind, _os.getpid(), _time.time_ns()))
    except OSError:
        pass


if _p:
    _stamp("up")
    # SIGTERM's arrival, stamped in whatever handler the process has for
    # it: the default (stamp, then die of SIGTERM as before) or its own
    # (signal.signal is wrapped, asyncio's add_signal_handler included).
    _orig_signal = _signal.signal

    def _term_default(signum, frame):
        _stamp("term")
        _orig_signal(_signal.SIGTERM, _signal.SIG_DFL)
        _os.kill(_os.getpid(), _signal.SIGTERM)

    def _signal_hook(signum, handler):
        if signum == _signal.SIGTERM:
            if handler == _signal.SIG_DFL:
                handler = _term_default
            elif callable(handler):
                def handler(s, f, _h=handler):
                    _stamp("term")
                    return _h(s, f)
        return _orig_signal(signum, handler)

    if _signal.getsignal(_signal.SIGTERM) == _signal.SIG_DFL:
        _orig_signal(_signal.SIGTERM, _term_default)
    _signal.signal = _signal_hook
_here = _os.path.dirname(_os.path.abspath(__file__))
for _d in _sys.path:
    _c = _os.path.join(_d or ".", "sitecustomize.py")
    if _d and _os.path.abspath(_d) != _here and _os.path.isfile(_c):
        try:
            exec(compile(open(_c).read(), _c, "exec"), {"__name__": "sitecustomize"})
        except Exception:
            pass
        break
'''

# Put first on PYTHONPATH to make `import watchdog` fail: Werkzeug then
# falls back to its stat reloader.
HIDE_WATCHDOG = "raise ImportError('hidden by the py-mon bench')\n"

FLASK_APP = '''from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "{body}"
'''

FASTAPI_APP = '''from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/", response_class=PlainTextResponse)
def index():
    return "{body}"
'''

DJANGO_FILES = {
    "manage.py": '''import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_cfg.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
''',
    "site_cfg/__init__.py": "",
    "site_cfg/settings.py": '''SECRET_KEY = "bench-only-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["hello"]
MIDDLEWARE = []
ROOT_URLCONF = "site_cfg.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
DATABASES = {}
USE_TZ = True
''',
    "site_cfg/urls.py": '''from django.urls import path

from hello import views

urlpatterns = [path("", views.index)]
''',
    "hello/__init__.py": "",
    "hello/templates/hello/page.html": "<p>{{ body }}</p>\n",
}
DJANGO_VIEW = '''from django.http import HttpResponse


def index(request):
    return HttpResponse("{body}", content_type="text/plain")
'''

# The pymon.run() variant (issue 10's Python package), once it exists.
PYMON_RUNNER = '''import sys

import pymon

w = pymon.Watcher()
obs = w.add(".").ext(*sys.argv[1].split(",")).run(sys.argv[2:])
sys.exit(obs.observe())
'''


class Framework:
    def __init__(self, name, module, pkgs, files, view, view_src, ext, serve, reloader_argv, reloader_re,
                 fd_serve=None):
        self.name, self.module, self.pkgs = name, module, pkgs
        self.files, self.view, self.view_src, self.ext = files, view, view_src, ext
        self.serve = serve  # port -> argv of the server without any reloader
        self.reloader_argv = reloader_argv  # port -> argv with the framework's reloader
        self.reloader_re = reloader_re  # finds the reloader's name in its log
        self.fd_serve = fd_serve  # (argv, extra env) serving on inherited fd 3, or None
        self.version, self.missing = "", None

    def write_app(self, d, body):
        for rel, text in self.files.items():
            path = os.path.join(d, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        self.save(d, body)

    def save(self, d, body):
        """A save of the view: one open(O_TRUNC) + write + close, like an editor
        writing in place."""
        data = self.view_src.format(body=body).encode()
        fd = os.open(os.path.join(d, self.view), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def frameworks():
    host = "127.0.0.1"
    return [
        Framework(
            "flask", "flask", "python3-flask", {}, "app.py", FLASK_APP, "py",
            serve=lambda p: [FW_PY, "-m", "flask", "--app", "app", "run", "--no-reload", "--host", host, "--port", str(p)],
            reloader_argv=lambda p: [FW_PY, "-m", "flask", "--app", "app", "--debug", "run", "--host", host, "--port", str(p)],
            reloader_re=r"Restarting with (.+)",
            # Werkzeug serves on an inherited socket when it believes it runs
            # under its own reloader.
            fd_serve=([FW_PY, "-m", "flask", "--app", "app", "run", "--no-reload", "--host", host, "--port", "0"],
                      dict(WERKZEUG_RUN_MAIN="true", WERKZEUG_SERVER_FD="3"))),
        Framework(
            "uvicorn", "uvicorn", "python3-uvicorn python3-fastapi", {}, "main.py", FASTAPI_APP, "py",
            serve=lambda p: [FW_PY, "-m", "uvicorn", "main:app", "--host", host, "--port", str(p)],
            reloader_argv=lambda p: [FW_PY, "-m", "uvicorn", "main:app", "--reload", "--host", host, "--port", str(p)],
            reloader_re=r"Started reloader process \[\d+\] using (\w+)",
            fd_serve=([FW_PY, "-m", "uvicorn", "main:app", "--fd", "3"], {})),
        Framework(
            "django", "django", "python3-django", DJANGO_FILES, "hello/views.py", DJANGO_VIEW, "py,html",
            serve=lambda p: [FW_PY, "manage.py", "runserver", "--noreload", f"{host}:{p}"],
            reloader_argv=lambda p: [FW_PY, "manage.py", "runserver", f"{host}:{p}"],
            reloader_re=r"Watching for file changes with (\w+)"),
    ]


def detect(fw):
    code = {"flask": "import flask, werkzeug; print(flask.__version__, werkzeug.__version__)",
            "uvicorn": "import uvicorn, fastapi, starlette; print(uvicorn.__version__, fastapi.__version__, starlette.__version__)",
            "django": "import django; print(django.get_version())"}[fw.name]
    names = {"flask": ("Flask", "Werkzeug"), "uvicorn": ("uvicorn", "FastAPI", "Starlette"), "django": ("Django",)}[fw.name]
    if not os.access(FW_PY, os.X_OK):
        fw.missing = f"{FW_PY} not found"
        return
    r = subprocess.run([FW_PY, "-c", code], capture_output=True, text=True, env=clean_env())
    if r.returncode != 0:
        fw.missing = f"{fw.pkgs} not importable by {FW_PY} ({(r.stderr.strip().splitlines() or ['?'])[-1]})"
        return
    fw.version = " ".join(f"{n} {v}" for n, v in zip(names, r.stdout.split()))


def importable(mod, extra_path=()):
    env = clean_env()
    env["PYTHONPATH"] = os.pathsep.join(extra_path)
    return subprocess.run([FW_PY, "-c", f"import {mod}"], capture_output=True, env=env).returncode == 0


def clean_env():
    env = dict(B.ENV)
    for k in ("PYTHONPATH", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV", "FLASK_APP", "FLASK_DEBUG",
              "WERKZEUG_RUN_MAIN", "WERKZEUG_SERVER_FD", "DJANGO_SETTINGS_MODULE", "LISTEN_FDS", "LISTEN_PID"):
        env.pop(k, None)
    return env


# ---------------------------------------------------------------- measuring


class UpStamps:
    """The sitecustomize stamps: (pid, ns) of every interpreter started
    (items) and of every SIGTERM handled (terms, pid -> ns)."""

    def __init__(self, path):
        self.path, self.off, self.items, self.terms = path, 0, [], {}

    def poll(self):
        try:
            with open(self.path) as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return self.items
        end = data.rfind("\n") + 1
        self.off += len(data[:end].encode())
        for line in data[:end].splitlines():
            kind, pid, ns = line.split()
            if kind == "up":
                self.items.append((int(pid), int(ns)))
            else:
                self.terms.setdefault(int(pid), int(ns))
        return self.items


def get(port, timeout=2.0):
    """One GET /: ("ok", body) | ("refused", None) | ("error", reason)."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except ConnectionRefusedError:
        return "refused", None
    except OSError as e:
        return "error", type(e).__name__
    try:
        s.settimeout(timeout)
        s.sendall(f"GET / HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n", 1)[0]:
            return "error", head.split(b"\r\n", 1)[0].decode(errors="replace")[:60] or "empty reply"
        return "ok", body.decode(errors="replace").strip()
    except OSError as e:
        return "error", type(e).__name__
    finally:
        s.close()


class RssSampler(threading.Thread):
    """Peak of the summed VmHWM of the live process tree, every SAMPLE_S."""

    def __init__(self, root):
        super().__init__(daemon=True)
        self.root, self.peak_kb, self.halt = root, 0, threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.sample()
            self.halt.wait(SAMPLE_S)

    def sample(self):
        self.peak_kb = max(self.peak_kb, B.tree_hwm_kb(B.tree_sample(self.root)))

    def stop(self):
        self.halt.set()
        self.join()
        self.sample()
        return self.peak_kb / 1024.0


def pidfd(pid):
    try:
        return os.pidfd_open(pid)
    except (OSError, AttributeError):
        return None


class ExitWatch(threading.Thread):
    """The time (CLOCK_REALTIME ns) a process exits, through a pidfd, in a
    thread: the harness's own request may be blocked in a listen backlog
    meanwhile."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.fd, self.t, self.halt = pidfd(pid), None, False
        if self.fd is not None:
            self.start()

    def run(self):
        while not self.halt and self.t is None:
            if select.select([self.fd], [], [], 0.1)[0]:
                self.t = time.time_ns()

    def finish(self):
        if self.fd is None:
            return None
        self.halt = True
        self.join()
        if self.t is None and select.select([self.fd], [], [], 0)[0]:
            self.t = time.time_ns()
        os.close(self.fd)
        return self.t


def pctl(vals, q):
    if not vals:
        return None
    s = sorted(vals)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summ(vals):
    if not vals:
        return None
    return dict(median=statistics.median(vals), p90=pctl(vals, 0.9), min=min(vals), max=max(vals), n=len(vals))


def wait_body(port, want, timeout, dead=lambda: None):
    """Polls until `want` is served; returns (ns when served or None, refused, errors)."""
    refused = errors = 0
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        kind, body = get(port)
        if kind == "ok" and body == want:
            return time.time_ns(), refused, errors
        if kind == "refused":
            refused += 1
        elif kind == "error":
            errors += 1
        if dead():
            return None, refused, errors
        time.sleep(POLL_S)
    return None, refused, errors


class Floor:
    """The harness as the ideal restarter, in the same rotation as the
    tools: on each save it sends SIGTERM to the server itself, waits for
    its exit and starts the next one at once (posix_spawn, the same
    session setup as the tools'), with no detection and no debounce. Its
    parts are the server's own: SIGTERM -> exit, spawn -> site, site ->
    served."""

    name = "harness restart (floor)"

    def __init__(self, fw, base, env, port):
        self.fw, self.env, self.port = fw, env, port
        self.d = tempfile.mkdtemp(prefix=f"{fw.name}-floor-", dir=base)
        fw.write_app(self.d, "v0")
        self.up_path = self.d + ".up"
        self.env = dict(env, BENCH_UP_STAMP=self.up_path)
        self.ups = UpStamps(self.up_path)
        self.logname = os.path.join(B.OUT, "logs", f"fw-{fw.name}-floor.log")
        self.log = open(self.logname, "ab")
        self.res = dict(argv=fw.serve(port), port=port)
        self.lists = {k: [] for k in ("served", "sigterm_exit", "kill_term", "term_exit", "spawn_up", "up_served")}
        self.pid = None
        self.spawn()
        self.rss_peak_kb = 0

    def spawn(self):
        fa = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
              (os.POSIX_SPAWN_DUP2, self.log.fileno(), 1), (os.POSIX_SPAWN_DUP2, self.log.fileno(), 2)]
        here = os.getcwd()
        os.chdir(self.d)  # posix_spawn has no cwd; the harness's other threads do not use it
        try:
            argv = self.fw.serve(self.port)
            t = time.time_ns()
            self.pid = os.posix_spawn(argv[0], argv, self.env, file_actions=fa, setsid=True)
        finally:
            os.chdir(here)
        return t

    def dead(self):
        return False

    def failed(self):
        return "failed" in self.res

    def ready(self, timeout):
        t, _, _ = wait_body(self.port, "v0", timeout)
        if t is None:
            self.res["failed"] = f"v0 never served within {timeout:.0f} s: " + B.log_tail(self.logname)
        return t is not None

    def save(self, i):
        L = self.lists
        want = f"v{i}-" + "x" * i
        t0 = time.time_ns()
        self.fw.save(self.d, want)
        self.rss_peak_kb = max(self.rss_peak_kb, B.tree_hwm_kb(B.tree_sample(self.pid)))
        fd = pidfd(self.pid)
        t_kill = time.time_ns()
        os.kill(self.pid, signal.SIGTERM)
        if not select.select([fd], [], [], 10)[0]:
            os.kill(self.pid, signal.SIGKILL)
            select.select([fd], [], [], 5)
        t_exit = time.time_ns()
        os.close(fd)
        os.waitpid(self.pid, 0)
        self.old_pid = self.pid
        n0 = len(self.ups.poll())
        t_spawn = self.spawn()
        t_served, _, _ = wait_body(self.port, want, REP_TIMEOUT_S)
        if t_served is None:
            self.res["failed"] = f"save {i}: the new server did not serve within {REP_TIMEOUT_S:.0f} s: " + \
                B.log_tail(self.logname)
            return
        old_pid = self.old_pid
        up = [ns for pid, ns in self.ups.poll()[n0:] if pid == self.pid]
        L["served"].append((t_served - t0) / 1e6)
        L["sigterm_exit"].append((t_exit - t_kill) / 1e6)
        t_term = self.ups.terms.get(old_pid)
        if t_term is not None:
            L["kill_term"].append((t_term - t_kill) / 1e6)
            L["term_exit"].append((t_exit - t_term) / 1e6)
        if up:
            L["spawn_up"].append((up[0] - t_spawn) / 1e6)
            L["up_served"].append((t_served - up[0]) / 1e6)

    def idle_begin(self):
        pass

    def idle_end(self, seconds):
        pass

    def close(self):
        L = self.lists
        self.res.update(served_raw=L["served"], served=summ(L["served"]), sigterm_exit=summ(L["sigterm_exit"]),
                        spawn_up=summ(L["spawn_up"]), up_served=summ(L["up_served"]),
                        kill_term=summ(L["kill_term"]), term_exit=summ(L["term_exit"]),
                        peak_mib=self.rss_peak_kb / 1024.0)
        if self.pid:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.kill(self.pid, sig)
                except ProcessLookupError:
                    break
                fd = pidfd(self.pid)
                if fd is None or select.select([fd], [], [], 5)[0]:
                    if fd is not None:
                        os.close(fd)
                    break
                os.close(fd)
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
        self.log.close()
        self.res["log"] = os.path.relpath(self.logname, B.REPO)
        B.rm_tree(self.d)
        return self.res


class Live:
    """One tool serving its own copy of the app on its own port."""

    def __init__(self, fw, name, argv, base, env, port):
        self.fw, self.name, self.argv, self.port = fw, name, argv, port
        self.d = tempfile.mkdtemp(prefix=f"{fw.name}-{re.sub(r'[^A-Za-z0-9]+', '_', name)}-", dir=base)
        fw.write_app(self.d, "v0")
        up_path = self.d + ".up"  # outside the watched directory
        self.logname = os.path.join(B.OUT, "logs", f"fw-{fw.name}-{re.sub(r'[^A-Za-z0-9.]+', '_', name)}.log")
        self.log = open(self.logname, "ab")
        self.log.write(f"\n== {' '.join(argv)}\n".encode())
        self.log.flush()
        self.ups = UpStamps(up_path)
        self.p = B.start(argv, self.log, cwd=self.d, env=dict(env, BENCH_UP_STAMP=up_path))
        self.rss = RssSampler(self.p.pid)
        self.rss.start()
        self.res = dict(argv=argv, port=port)
        self.lists = {k: [] for k in ("served", "old_exit", "exit_up", "up_served", "save_up", "refused", "errors",
                                      "save_term", "term_exit", "term_plus_respawn")}

    def dead(self):
        return self.p.poll() is not None

    def failed(self):
        return "failed" in self.res

    def ready(self, timeout):
        t, _, _ = wait_body(self.port, "v0", timeout, self.dead)
        if t is None:
            self.res["failed"] = ("it exited: " if self.dead() else f"v0 never served within {timeout:.0f} s: ") + \
                B.log_tail(self.logname)
        return t is not None

    def save(self, i):
        """Save number i: write the new body, poll until it is served."""
        L = self.lists
        self.ups.poll()
        known = {pid for pid, _ in self.ups.items}
        tree = B.tree_pids(self.p.pid)
        alive = [pid for pid, _ in self.ups.items if pid in tree]
        old = alive[-1] if alive else None  # the interpreter that serves now
        ew = ExitWatch(old) if old else None
        # A new length every save: the .pyc left by the last start records
        # the source's mtime in whole seconds and its size, so a same-size
        # save within the same second would load the old bytecode.
        want = f"v{i}-" + "x" * i
        t0 = time.time_ns()
        self.fw.save(self.d, want)
        t_served, nref, nerr = None, 0, 0
        end = time.monotonic() + REP_TIMEOUT_S
        while time.monotonic() < end:
            kind, body = get(self.port)
            if kind == "ok" and body == want:
                t_served = time.time_ns()
                break
            if kind == "refused":
                nref += 1
            elif kind == "error":
                nerr += 1
            if self.dead():
                break
            time.sleep(POLL_S)
        t_exit = ew.finish() if ew else None
        if t_served is None:
            self.res["failed"] = f"save {i}: the new body was not served within {REP_TIMEOUT_S:.0f} s" + (
                " (it exited: " + B.log_tail(self.logname) + ")" if self.dead() else "")
            return
        new = [(pid, ns) for pid, ns in self.ups.poll() if pid not in known and ns >= t0]
        t_up = new[-1][1] if new else None
        L["served"].append((t_served - t0) / 1e6)
        L["refused"].append(nref)
        L["errors"].append(nerr)
        if t_exit is not None:
            L["old_exit"].append((t_exit - t0) / 1e6)
        if t_up is not None:
            L["save_up"].append((t_up - t0) / 1e6)
            L["up_served"].append((t_served - t_up) / 1e6)
            if t_exit is not None:
                L["exit_up"].append((t_up - t_exit) / 1e6)
        # SIGTERM reached the old server (a reloader whose child exits by
        # itself sends none).
        t_term = self.ups.terms.get(old)
        if t_term is not None and t_term >= t0:
            L["save_term"].append((t_term - t0) / 1e6)
            if t_exit is not None:
                L["term_exit"].append((t_exit - t_term) / 1e6)
                if t_up is not None:
                    # What the restarter itself spends: until the signal,
                    # and from the old server's exit to the new one's start.
                    L["term_plus_respawn"].append((t_term - t0 + t_up - t_exit) / 1e6)

    def idle_begin(self):
        self.s0 = B.tree_sample(self.p.pid)

    def idle_end(self, seconds):
        s1 = B.tree_sample(self.p.pid)
        tck = os.sysconf("SC_CLK_TCK")
        self.res["idle"] = dict(seconds=seconds, cpu_ms=B.tree_delta(self.s0, s1, "ticks") * 1000.0 / tck,
                                cpu_ns_ms=B.tree_delta(self.s0, s1, "cpu_ns") / 1e6,
                                ctx=B.tree_delta(self.s0, s1, "ctx"), procs=len(s1))

    def close(self):
        L = self.lists
        self.res.update(served_raw=L["served"], served=summ(L["served"]), save_old_exit=summ(L["old_exit"]),
                        old_exit_up=summ(L["exit_up"]), save_up=summ(L["save_up"]),
                        up_served=summ(L["up_served"]), refused_raw=L["refused"], refused=summ(L["refused"]),
                        errors=sum(L["errors"]), no_new_interpreter=len(L["served"]) - len(L["save_up"]),
                        save_term=summ(L["save_term"]), term_exit=summ(L["term_exit"]),
                        term_plus_respawn=summ(L["term_plus_respawn"]))
        self.res["peak_mib"] = self.rss.stop()
        B.stop(self.p)
        self.log.close()
        self.res["log"] = os.path.relpath(self.logname, B.REPO)
        with open(self.logname, errors="replace") as f:
            m = re.search(self.fw.reloader_re, f.read())
        if m and self.name.startswith("reloader"):
            self.res["reloader"] = m.group(1).strip()
        B.rm_tree(self.d)
        return self.res


def run_framework(fw, base, env, notes, rng):
    out = dict(version=fw.version, variants={})
    help_text = subprocess.run([B.PYMON, "--help"], capture_output=True, text=True).stdout
    variants = []  # (name, port -> argv, extra env)
    pm = lambda *opts: (lambda P: [B.PYMON, "--no-config"] + list(opts) + ["-e", fw.ext, " ".join(fw.serve(P))])
    variants.append(("py-mon", pm(), {}))
    # Without the debounce: what py-mon's own part is made of beyond it.
    variants.append(("py-mon -d 0", pm("-d", "0"), {}))
    variants.append(("reloader", fw.reloader_argv, {}))
    if fw.name == "flask" and importable("watchdog"):
        # Werkzeug takes watchdog when it can import it: the stat reloader too.
        shadow = os.path.join(base, "hide-watchdog")
        os.makedirs(os.path.join(shadow, "watchdog"), exist_ok=True)
        with open(os.path.join(shadow, "watchdog", "__init__.py"), "w") as f:
            f.write(HIDE_WATCHDOG)
        variants.append(("reloader, watchdog hidden", fw.reloader_argv, dict(EXTRA_PATH=shadow)))
    if "--socket" not in help_text:
        notes.add("py-mon --socket: skipped, this py-mon has no --socket option yet (issue 11)")
    elif fw.fd_serve:
        fd_argv, extra = fw.fd_serve
        variants.append(("py-mon --socket", lambda P: [B.PYMON, "--no-config", "--socket", f"127.0.0.1:{P}", "-e", fw.ext,
                                                       " ".join(fd_argv)], dict(extra)))
    else:
        out["variants"]["py-mon --socket"] = dict(na=f"{fw.name} cannot serve on an inherited socket")
    pymon_path = [p for p in (os.environ.get("BENCH_PYMON_PYTHONPATH", ""), os.path.join(B.REPO, "python")) if p]
    if importable("pymon", pymon_path):
        runner = os.path.join(base, "pymon_run.py")
        with open(runner, "w") as f:
            f.write(PYMON_RUNNER)
        variants.append(("pymon .run()", lambda P: [FW_PY, runner, fw.ext] + fw.serve(P),
                         dict(EXTRA_PATH=os.pathsep.join(pymon_path))))
    else:
        notes.add("pymon.run(): skipped, the Python package (issue 10) is not importable by " + FW_PY)
    # Every tool at once, each on its own copy and port; the saves go
    # round-robin, one tool at a time, so a busy machine's drift hits
    # every tool alike.
    lives = []
    try:
        for name, argv, extra in variants:
            e = dict(env)
            pre = extra.pop("EXTRA_PATH", None)  # after the sitecustomize, before dist-packages
            e.update(extra)
            if pre:
                e["PYTHONPATH"] = os.pathsep.join([e["PYTHONPATH"], pre])
            port = B.free_port()
            while port in (lv.port for lv in lives):
                port = B.free_port()
            lives.append(Live(fw, name, argv(port), base, e, port))
        port = B.free_port()
        while port in (lv.port for lv in lives):
            port = B.free_port()
        lives.append(Floor(fw, base, dict(env), port))
        for lv in lives:
            lv.ready(30)
        time.sleep(1.0)  # let each reloader take its first snapshot
        B.say(f"frameworks: {fw.name}: {REPS} saves each, round-robin: " + ", ".join(lv.name for lv in lives))
        for i in range(1, REPS + 1):
            order = lives[i % len(lives):] + lives[:i % len(lives)]
            for lv in order:
                if lv.failed():
                    continue
                lv.save(i)
                # The next save lands at a random phase of a polling reloader's
                # interval, once the last restart has settled.
                time.sleep(0.3 + 0.5 * rng.random())
        B.say(f"frameworks: {fw.name}: {IDLE_S} s idle")
        for lv in lives:
            if not lv.failed():
                lv.idle_begin()
        time.sleep(IDLE_S)
        for lv in lives:
            if not lv.failed():
                lv.idle_end(IDLE_S)
    finally:
        for lv in lives:
            r = lv.close()
            if isinstance(lv, Floor):
                out["floor"] = r
                continue
            out["variants"][lv.name] = r
            if "failed" in r:
                B.say(f"frameworks: {fw.name}: {lv.name}: failed: {r['failed']}")
    return out


# ---------------------------------------------------------------- report


def f1(v, nd=0):
    return "-" if v is None else f"{v:.{nd}f}"


def rt(a, b):
    return "-" if a is None or b is None or not b else f"{a / b:.2f}"


def g(r, key, stat="median"):
    if not r or "failed" in r or "na" in r:
        return None
    v = r.get(key)
    if isinstance(v, dict):
        return v.get(stat)
    return v


def table(R):
    L = []
    w = L.append
    m = R["machine"]
    w(f"Save -> new code served  {R['date']}  {'QUICK' if QUICK else 'full'} run  {m['nproc']} cores, {m['cpu']}, "
      f"Linux {m['kernel']}, py-mon {m['commit']}{' (src modified)' if m['dirty_src'] else ''}, {R['python']}")
    w(f"  load average (1/5/15 min) at the start {' '.join(R['loadavg_start'])}, at the end {' '.join(R['loadavg_end'])}")
    for n in R["notes"]:
        w(f"  {n}")
    w(f"  {R['reps']} saves per tool, round-robin; served = save -> first GET / with the new body (one attempt every "
      f"{R['poll_ms']:.0f} ms);")
    w(f"  idle = CPU of the whole process tree over {R['idle_s']} s; RSS = peak of the tree's summed VmHWM")
    w("")
    w(f"  {'':38} {'served ms':>9} {'p90':>7} {'refused':>8} {'idle CPU':>9} {'idle CPU':>9} {'peak RSS':>9}")
    w(f"  {'':38} {'median':>9} {'':>7} {'/save':>8} {'ms ticks':>9} {'ms sched':>9} {'MiB':>9}")
    for fwn, F in R["frameworks"].items():
        if "missing" in F:
            w(f"  {fwn}: skipped: {F['missing']}")
            continue
        w(f"  {fwn} ({F['version']})")
        V = F["variants"]
        fl = F.get("floor", {})
        if "failed" in fl:
            w(f"    {'harness restart (floor)':36} failed: {fl['failed']}")
        elif fl:
            w(f"    {'harness restart (floor)':36} {f1(g(fl, 'served')):>9} {f1(g(fl, 'served', 'p90')):>7}")
        for vn, r in V.items():
            label = vn
            if vn.startswith("reloader"):
                label = f"{vn} ({r.get('reloader', '?')})"
            if "failed" in r:
                w(f"    {label:36} failed: {r['failed']}")
                continue
            if "na" in r:
                w(f"    {label:36} n/a: {r['na']}")
                continue
            idle = r.get("idle", {})
            w(f"    {label:36} {f1(g(r, 'served')):>9} {f1(g(r, 'served', 'p90')):>7} {f1(g(r, 'refused'), 1):>8} "
              f"{f1(idle.get('cpu_ms')):>9} {f1(idle.get('cpu_ns_ms'), 1):>9} {f1(r.get('peak_mib'), 1):>9}")
        pm = V.get("py-mon")
        for rn, rl in V.items():
            if not rn.startswith("reloader") or not pm or "failed" in pm or "failed" in rl or "na" in rl:
                continue
            w(f"    {'py-mon / ' + rn:36} {rt(g(pm, 'served'), g(rl, 'served')):>9} "
              f"{rt(g(pm, 'served', 'p90'), g(rl, 'served', 'p90')):>7} {'':>8} "
              f"{rt(pm.get('idle', {}).get('cpu_ms'), rl.get('idle', {}).get('cpu_ms')):>9} "
              f"{rt(pm.get('idle', {}).get('cpu_ns_ms'), rl.get('idle', {}).get('cpu_ns_ms')):>9} "
              f"{rt(pm.get('peak_mib'), rl.get('peak_mib')):>9}")
    w("")
    w("  Parts of a restart, median ms: save -> SIGTERM handled by the old server (stamped in its handler) -> its exit")
    w("  -> new interpreter up (site) -> new body served. The floor's 'save -> TERM' is its own kill -> handler.")
    w(f"  {'':38} {'->TERM':>7} {'->exit':>7} {'TERM->exit':>10} {'exit->up':>9} {'->served':>9} {'own part':>9}")
    for fwn, F in R["frameworks"].items():
        if "missing" in F:
            continue
        fl = F.get("floor", {})
        kill_term, spawn_up = g(fl, "kill_term"), g(fl, "spawn_up")
        w(f"  {fwn}")
        if fl and "failed" not in fl:
            w(f"    {'harness restart (floor)':36} {f1(kill_term, 1):>7} {f1(g(fl, 'sigterm_exit'), 1):>7} "
              f"{f1(g(fl, 'term_exit'), 1):>10} {f1(spawn_up, 1):>9} {f1(g(fl, 'up_served'), 1):>9}")
        for vn, r in F["variants"].items():
            if "failed" in r or "na" in r:
                continue
            own = None
            tr = g(r, "term_plus_respawn")
            if vn.startswith(("py-mon", "pymon")) and tr is not None and kill_term is not None and spawn_up is not None:
                own = tr - kill_term - spawn_up
            w(f"    {vn:36} {f1(g(r, 'save_term'), 1):>7} {f1(g(r, 'save_old_exit'), 1):>7} "
              f"{f1(g(r, 'term_exit'), 1):>10} {f1(g(r, 'old_exit_up'), 1):>9} {f1(g(r, 'up_served'), 1):>9} "
              f"{f1(own, 1):>9}")
    w("  own part = what py-mon itself spends: (save -> TERM) + (exit -> new interpreter up), median per save, minus")
    w("  the floor's kill -> TERM and spawn -> up: detection, debounce (50 ms by default; -d 0: none), signalling,")
    w("  reaping, spawning. The old server's own shutdown is TERM -> exit, beside it.")
    w("  Targets (issue 14): own part <= 10 ms beyond the server's own shutdown; refused 0 with --socket.")
    return "\n".join(L)


def main():
    B.ENV = dict(os.environ)
    B.ENV["PATH"] = os.pathsep.join([B.ENV.get("PATH", ""), "/usr/local/bin", "/usr/bin", "/bin"])
    B.ENV.update(NO_COLOR="1")
    if not os.access(B.PYMON, os.X_OK):
        sys.exit(f"bench: {B.PYMON} is missing: run `make bench` (it builds it)")
    B.become_subreaper()
    os.makedirs(os.path.join(B.OUT, "logs"), exist_ok=True)
    for f in os.listdir(os.path.join(B.OUT, "logs")):
        if f.startswith("fw-"):
            os.unlink(os.path.join(B.OUT, "logs", f))
    base = tempfile.mkdtemp(prefix="pymon-bench-fw-", dir=os.environ.get("BENCH_TMP", "/tmp"))
    site = os.path.join(base, "site")
    os.makedirs(site)
    with open(os.path.join(site, "sitecustomize.py"), "w") as f:
        f.write(SITECUSTOMIZE)
    env = clean_env()
    env["PYTHONPATH"] = site
    ver = subprocess.run([FW_PY, "-c", "import platform; print(platform.python_version())"],
                         capture_output=True, text=True, env=clean_env()).stdout.strip()
    notes = set()
    R = dict(date=time.strftime("%Y-%m-%d %H:%M:%S %Z"), quick=QUICK, machine=B.machine(),
             python=f"{FW_PY} {ver}", loadavg_start=open("/proc/loadavg").read().split()[:3], reps=REPS, idle_s=IDLE_S, poll_ms=POLL_S * 1e3, frameworks={})
    rng = random.Random(14)
    fws = frameworks()
    only = [x for x in os.environ.get("BENCH_FRAMEWORKS", "").replace(",", " ").split() if x]
    status = 0
    try:
        for fw in fws:
            if only and fw.name not in only:
                continue
            detect(fw)
            if fw.missing:
                B.say(f"frameworks: {fw.name}: skipped: {fw.missing}")
                R["frameworks"][fw.name] = dict(missing=fw.missing)
                continue
            R["frameworks"][fw.name] = run_framework(fw, base, env, notes, rng)
    except KeyboardInterrupt:
        status = 130
    finally:
        B.stop_all()
        B.rm_tree(base)
    left = B.leftovers()
    if left:
        notes.add("LEFT RUNNING (harness bug): " + "; ".join(left))
        status = status or 1
    R["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    R["notes"] = sorted(notes)
    if status == 130:
        sys.exit(130)
    text = table(R)
    R["table"] = text
    path = os.path.join(B.OUT, "frameworks.json")
    with open(path, "w") as f:
        json.dump(R, f, indent=1)
    with open(os.path.join(B.OUT, "frameworks.txt"), "w") as f:
        f.write(text + "\n")
    print(text)
    B.say(f"frameworks: done; raw figures in {os.path.relpath(path, B.REPO)}")
    sys.exit(status)


if __name__ == "__main__":
    main()
