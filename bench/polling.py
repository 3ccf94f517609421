#!/usr/bin/env python3
"""The polling backend beside the pollers users would otherwise run:
watchdog's PollingObserver (one DirectorySnapshot per round) and nodemon
-L (chokidar with usePolling). For 10k and 100k files (10 per directory):
CPU per round at the default 500 ms interval, the share of one core that
makes, peak RSS, and the floor, `find -size` (getdents plus one stat per
file, what any stat-based poller must do). py-mon keeps a round within 5 %
of a core by polling quiet directories in turn (README: "a round within
its budget"), so it is measured twice: at 500 ms, and with every file in
every round (at 4 s, where a full round fits the budget). And what the
split costs: a write in place into a quiet directory, and then into the
same (now busy) directory, until `py-mon watch` prints it. Run after
`make`:

    python3 bench/polling.py            (QUICK=1: 10k files only)

Prints a table; writes bench/out/polling.json. Ratios, not assertions.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PYMON = os.path.join(REPO, os.environ.get("BUILD", "build"), "py-mon")
NODEMON = os.path.join(HERE, "node_modules", ".bin", "nodemon")
CLK = os.sysconf("SC_CLK_TCK")
INTERVAL = 0.5
MEASURE_S = float(os.environ.get("POLL_MEASURE_S", "20"))  # two relists of a full round
PROBES = 7
SIZES = [10000] if os.environ.get("QUICK") else [10000, 100000]


def cpu_tree(pid):
    """utime + stime of pid and its descendants, in seconds."""
    total, todo = 0.0, [pid]
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                f = open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()
                procs[int(d)] = (int(f[1]), (int(f[11]) + int(f[12])) / CLK)
            except (OSError, IndexError):
                pass
    while todo:
        p = todo.pop()
        if p in procs:
            total += procs[p][1]
        todo += [c for c, (pp, _) in procs.items() if pp == p]
    return total


def rss_tree_kb(pid):
    total, todo = 0, [pid]
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                kids.setdefault(int(open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()[1]), []).append(int(d))
            except (OSError, IndexError):
                pass
    while todo:
        p = todo.pop()
        try:
            for l in open("/proc/%d/status" % p):
                if l.startswith("VmRSS:"):
                    total += int(l.split()[1])
        except OSError:
            pass
        todo += kids.get(p, [])
    return total


def make_tree(base, nfiles):
    for d in range(nfiles // 10):
        p = os.path.join(base, "d%03d" % (d // 100), "e%03d" % (d % 100))
        os.makedirs(p, exist_ok=True)
        for f in range(10):
            open(os.path.join(p, "f%d.py" % f), "w").close()


def stop(p):
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def steady_cpu(argv, env, warmup):
    """Share of a core over MEASURE_S once the tool has scanned."""
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(warmup)
        c0, t0 = cpu_tree(p.pid), time.monotonic()
        time.sleep(MEASURE_S)
        c1, t1 = cpu_tree(p.pid), time.monotonic()
        return (c1 - c0) / (t1 - t0), rss_tree_kb(p.pid)
    finally:
        stop(p)


def detection_ms(base, nfiles, env):
    """Write → printed, ms: (quiet directories, the same directories again
    once busy), PROBES each, under `py-mon watch` at 500 ms."""
    p = subprocess.Popen([PYMON, "watch", "--no-config", "-w", base], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, bufsize=1)
    quiet, busy = [], []
    try:
        time.sleep(5 + nfiles / 10000)  # scanned, listings steady, rounds paced
        for i in range(PROBES):
            d = i * (nfiles // 10 // PROBES) + 3
            for when, into in (("quiet", quiet), ("busy", busy)):
                path = os.path.join(base, "d%03d" % (d // 100), "e%03d" % (d % 100), "f%d.py" % (1 + (when == "busy")))
                time.sleep(0.13 * (i + 1) % 0.5)  # not in step with the rounds
                t0 = time.monotonic()
                with open(path, "a") as f:
                    f.write("x")
                while True:
                    line = p.stdout.readline()
                    if not line:
                        raise RuntimeError("py-mon watch ended")
                    if line.rstrip("\n").endswith(path):
                        break
                into.append((time.monotonic() - t0) * 1000)
    finally:
        stop(p)
    med = lambda v: sorted(v)[len(v) // 2]
    return {"quiet_median_ms": med(quiet), "quiet_max_ms": max(quiet), "busy_median_ms": med(busy),
            "busy_max_ms": max(busy)}


WATCHDOG_ROUND = r'''
import sys, time
from watchdog.utils.dirsnapshot import DirectorySnapshot
best = None
for _ in range(3):
    t = time.process_time()
    DirectorySnapshot(sys.argv[1], recursive=True)
    d = time.process_time() - t
    best = d if best is None else min(best, d)
print(best)
'''


def main():
    rows = []
    env = dict(os.environ)
    for n in SIZES:
        base = tempfile.mkdtemp(prefix="pymon-poll-")
        try:
            make_tree(base, n)
            row = {"files": n}
            # py-mon: rounds every 500 ms; CPU per round = share x interval.
            share, rss = steady_cpu([PYMON, "watch", "-q", "--no-config", "-w", base],
                                    dict(env, PYMON_POLL="500ms"), 2 + n / 20000)
            row["py-mon"] = {"ms_per_round": share * INTERVAL * 1000, "core_pct": share * 100, "rss_kb": rss}
            # Every file in every round: at 4 s a full round fits the budget.
            share, _ = steady_cpu([PYMON, "watch", "-q", "--no-config", "-w", base],
                                  dict(env, PYMON_POLL="4s"), 2 + n / 20000)
            row["py-mon full"] = {"ms_per_round": share * 4000}
            row["py-mon"].update(detection_ms(base, n, dict(env, PYMON_POLL="500ms")))
            # The floor: getdents + a stat per file, in one process.
            t = os.times()
            subprocess.run(["find", base, "-size", "+1"], stdout=subprocess.DEVNULL, check=False)
            t2 = os.times()
            row["floor"] = {"ms_per_round": ((t2.children_user - t.children_user) +
                                             (t2.children_system - t.children_system)) * 1000}
            # watchdog: the CPU of one snapshot is its CPU per round.
            py = "/usr/bin/python3"
            r = subprocess.run([py, "-c", WATCHDOG_ROUND, base], capture_output=True, text=True)
            if r.returncode == 0:
                row["watchdog"] = {"ms_per_round": float(r.stdout) * 1000}
            else:
                row["watchdog"] = {"missing": (r.stderr.strip().splitlines() or ["?"])[-1]}
            # nodemon -L: chokidar polls each file on its own timer (interval 500 ms).
            if os.access(NODEMON, os.X_OK) and shutil.which("node"):
                share, rss = steady_cpu([NODEMON, "-L", "--delay", "0", "-w", base, "-e", "py", "-x", "true"],
                                        dict(env, NO_UPDATE_NOTIFIER="1"), 5 + n / 5000)
                row["nodemon -L"] = {"ms_per_round": share * INTERVAL * 1000, "core_pct": share * 100, "rss_kb": rss}
            else:
                row["nodemon -L"] = {"missing": "bench/node_modules/.bin/nodemon (make bench installs it)"}
            rows.append(row)
        finally:
            shutil.rmtree(base, ignore_errors=True)
    if len(rows) == 2 and "rss_kb" in rows[0]["py-mon"]:
        per_file = (rows[1]["py-mon"]["rss_kb"] - rows[0]["py-mon"]["rss_kb"]) * 1024 / (rows[1]["files"] - rows[0]["files"])
    else:
        per_file = None
    print("polling, %d ms interval (CPU per round, ms; share of one core)" % (INTERVAL * 1000))
    print("%8s  %-22s %-16s %-22s %-22s %-12s" % ("files", "py-mon", "py-mon full", "watchdog Polling", "nodemon -L",
                                                 "floor (find)"))
    for r in rows:
        def cell(k):
            v = r[k]
            if "missing" in v:
                return "-"
            s = "%.1f ms" % v["ms_per_round"]
            if "core_pct" in v:
                s += " (%.1f%%)" % v["core_pct"]
            return s
        ratio = ""
        if "ms_per_round" in r["watchdog"] and r["py-mon"]["ms_per_round"]:
            ratio = "  watchdog/py-mon %.1fx (full %.1fx)" % (
                r["watchdog"]["ms_per_round"] / r["py-mon"]["ms_per_round"],
                r["watchdog"]["ms_per_round"] / r["py-mon full"]["ms_per_round"])
        print("%8d  %-22s %-16s %-22s %-22s %-12s%s" % (
            r["files"], cell("py-mon"), cell("py-mon full"), cell("watchdog"), cell("nodemon -L"),
            "%.1f ms" % r["floor"]["ms_per_round"], ratio))
    for r in rows:
        v = r["py-mon"]
        print("%8d  write -> printed, ms: quiet directory median %.0f (max %.0f), busy median %.0f (max %.0f)" % (
            r["files"], v["quiet_median_ms"], v["quiet_max_ms"], v["busy_median_ms"], v["busy_max_ms"]))
    if per_file is not None:
        print("py-mon memory per polled file: %.0f bytes (RSS, 10k -> 100k files)" % per_file)
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    with open(os.path.join(HERE, "out", "polling.json"), "w") as f:
        json.dump({"rows": rows, "bytes_per_file": per_file, "date": time.strftime("%Y-%m-%d %H:%M:%S")}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
