#!/usr/bin/env python3
"""make soak: random churn against a running py-mon for N seconds.

A temporary directory holds the watched tree (w/), a place outside it for
directories moved out and in (outside/), the command's log and py-mon's
output. py-mon runs there with `-w w` and its defaults (50 ms debounce,
restart on change); the command is a tiny Python child that appends one
JSON line per start (pid, time, PYMON_CHANGED_PATHS) to the log and then
sleeps until py-mon stops it.

The churn comes in bursts -- creates, writes, atomic saves, renames,
deletes, directory creates, renames, moves out and in, removals, now and
then a storm of a few thousand files -- each ended by a write to a marker
file, and separated by quiet periods. Checks, one line each:

  runs      every quiet period after a burst is followed by a run that
            started after the burst's last write and saw the marker in
            PYMON_CHANGED_PATHS (or was told the list was truncated)
  rss       py-mon's VmRSS after the warm-up stays within 25% of the
            warm-up's peak (VmHWM: the warm-up has the largest batch,
            with the longest paths; skipped for an AddressSanitizer build)
  fds       py-mon's descriptor count after the warm-up does not change
  zombies   no zombie child, and only the current run as a child, at
            every quiet period
  alive     py-mon is running at the end (and no sanitizer report)
  shutdown  SIGTERM then: exit status 143, the last run gone

Prints its figures, then `soak: N passed, N failed`; exits 1 on failure.
Standard library only.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("PYMON_BUILD", "build"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from support import children, fd_count, rss_kb  # noqa: E402  (the one support module)

CHILD = r'''import json, os, signal, sys, time
with open(os.environ["SOAK_LOG"], "a") as f:
    f.write(json.dumps({"pid": os.getpid(), "t": time.time(),
                        "changed": os.environ.get("PYMON_CHANGED_PATHS", ""),
                        "truncated": os.environ.get("PYMON_CHANGED_PATHS_TRUNCATED")}) + "\n")
while True:
    signal.pause()
'''

# Names py-mon ignores by default are avoided: every operation here must be
# seen.
EXTS = [".py", ".txt", ".html", ".toml", ""]


# -- the kernel's view of py-mon ----------------------------------------------




def exists(pid):
    return os.path.exists("/proc/%d" % pid)


# -- the churn ------------------------------------------------------------------

# The deepest directory the churn makes below w. A batch holds each changed
# path whole, so py-mon's high-water mark grows with the length of the
# paths in its largest batch: the warm-up storm is made at this depth under
# longer names than the churn ever gives, so that no later batch needs more
# memory than the warm-up's (the rss check).
MAX_DEPTH = 16


def depth(rel):
    return rel.count("/") + 1 if rel else 0


class Churn:
    """Random operations on the tree below `w`, with a model of its files
    and directories (re-read from disk before each burst)."""

    def __init__(self, base, rng):
        self.base = base
        self.w = os.path.join(base, "w")
        self.outside = os.path.join(base, "outside")
        self.rng = rng
        self.ops = 0
        self.counts = {}
        self.serial = 0
        self.dirs = [""]
        self.files = []
        self.out_dirs = []
        self.journal = None      # a list of directory operations, with --keep

    def p(self, rel):
        return os.path.join(self.w, rel) if rel else self.w

    def resync(self):
        self.dirs, self.files = [""], []
        for top, ds, fs in os.walk(self.w):
            rel = os.path.relpath(top, self.w)
            rel = "" if rel == "." else rel
            self.dirs += [os.path.join(rel, d) for d in ds]
            self.files += [os.path.join(rel, f) for f in fs]
        self.out_dirs = sorted(os.listdir(self.outside))

    def name(self, prefix):
        self.serial += 1
        return "%s%d%s" % (prefix, self.serial, self.rng.choice(EXTS) if prefix == "f" else "")

    def count(self, op, *paths):
        self.ops += 1
        self.counts[op] = self.counts.get(op, 0) + 1
        self.note(op, *paths)

    def note(self, op, *paths):
        if paths and self.journal is not None:
            self.journal.append("%.6f %s %s" % (time.time(), op, " -> ".join(paths)))

    def some_dir(self, room=0):
        """A directory with room for `room` more levels below it."""
        return self.rng.choice([d for d in self.dirs if depth(d) + room <= MAX_DEPTH])

    def height(self, rel):
        """How many levels of directories lie below rel."""
        return max(depth(d) for d in self.dirs if d == rel or d.startswith(rel + "/")) - depth(rel)

    # Each operation may race with nothing but itself; an OSError means the
    # model was stale (e.g. a file inside a directory moved away): forget it.

    def create(self):
        rel = os.path.join(self.some_dir(), self.name("f"))
        with open(self.p(rel), "w") as f:
            f.write("created %d\n" % self.ops)
        self.files.append(rel)
        self.count("create")

    def write(self):
        if not self.files:
            return self.create()
        rel = self.rng.choice(self.files)
        with open(self.p(rel), self.rng.choice("aw")) as f:
            f.write("write %d\n" % self.ops)
        self.count("write")

    def atomic_save(self):
        if not self.files:
            return self.create()
        rel = self.rng.choice(self.files)
        tmp = self.p(rel) + ".tmp"
        with open(tmp, "w") as f:
            f.write("saved %d\n" % self.ops)
        os.replace(tmp, self.p(rel))
        self.count("atomic-save")

    def rename_file(self):
        if not self.files:
            return self.create()
        rel = self.rng.choice(self.files)
        new = os.path.join(self.some_dir(), self.name("f"))
        os.rename(self.p(rel), self.p(new))
        self.files.remove(rel)
        self.files.append(new)
        self.count("rename-file")

    def delete_file(self):
        if not self.files:
            return self.create()
        rel = self.rng.choice(self.files)
        self.files.remove(rel)
        os.unlink(self.p(rel))
        self.count("delete-file")

    def mkdir(self):
        rel = self.some_dir(room=3)
        for _ in range(self.rng.randint(1, 3)):
            rel = os.path.join(rel, self.name("d"))
            os.mkdir(self.p(rel))
            self.dirs.append(rel)
            self.note("mkdir", rel)
        if self.rng.random() < 0.7:                 # a file at once, as mkdir -p && write
            f = os.path.join(rel, self.name("f"))
            with open(self.p(f), "w") as fh:
                fh.write("new\n")
            self.files.append(f)
        self.count("mkdir")

    def _forget(self, rel):
        self.dirs = [d for d in self.dirs if d != rel and not d.startswith(rel + "/")]
        self.files = [f for f in self.files if not f.startswith(rel + "/")]

    def _pick_subdir(self, small=False):
        """A directory below w; with small=True one with at most 10
        directories below it, so that a removal or a move out does not
        take most of the tree with it."""
        cands = [d for d in self.dirs if d]
        for _ in range(5):
            if not cands:
                return None
            d = self.rng.choice(cands)
            if not small or sum(1 for x in self.dirs if x.startswith(d + "/")) <= 10:
                return d
        return None

    def rename_dir(self):
        rel = self._pick_subdir()
        if rel is None:
            return self.mkdir()
        h = self.height(rel)
        parents = [d for d in self.dirs
                   if d != rel and not d.startswith(rel + "/") and depth(d) + 1 + h <= MAX_DEPTH]
        if not parents:
            return self.mkdir()
        parent = self.rng.choice(parents)
        new = os.path.join(parent, self.name("d"))
        os.rename(self.p(rel), self.p(new))
        moved = lambda x: new + x[len(rel):] if x == rel or x.startswith(rel + "/") else x
        self.dirs = [moved(d) for d in self.dirs]
        self.files = [moved(f) for f in self.files]
        self.count("rename-dir", rel, new)

    def move_out(self):
        rel = self._pick_subdir(small=True)
        if rel is None:
            return self.mkdir()
        name = self.name("o")
        os.rename(self.p(rel), os.path.join(self.outside, name))
        self._forget(rel)
        self.out_dirs.append(name)
        self.count("move-out", rel, "outside/" + name)

    def move_in(self):
        if not self.out_dirs:
            return self.move_out()
        name = self.out_dirs.pop(self.rng.randrange(len(self.out_dirs)))
        src = os.path.join(self.outside, name)
        below = [(os.path.relpath(top, src), fs) for top, _, fs in os.walk(src)]
        h = max([depth(rel) for rel, _ in below if rel != "."], default=0)
        if h + 1 > MAX_DEPTH:                      # fits nowhere: dropped
            shutil.rmtree(src)
            return self.create()
        new = os.path.join(self.some_dir(room=h + 1), self.name("i"))
        os.rename(src, self.p(new))
        # The whole subtree joins the model: heights and moves count it.
        for rel, fs in below:
            d = new if rel == "." else os.path.join(new, rel)
            self.dirs.append(d)
            self.files += [os.path.join(d, f) for f in fs]
        self.count("move-in", "outside/" + name, new)

    def rmtree(self):
        rel = self._pick_subdir(small=True)
        if rel is None:
            return self.mkdir()
        shutil.rmtree(self.p(rel))
        self._forget(rel)
        self.count("rmtree", rel)

    def storm(self, n, deepest=False):
        """A new directory of n files made as fast as possible (a
        checkout, an unpacked archive); with deepest=True at MAX_DEPTH,
        below a chain of names longer than the churn's."""
        if deepest:
            rel = ""
            for i in range(MAX_DEPTH - 1):
                rel = os.path.join(rel, "deepest-%03d-of-the-tree" % i)
                os.mkdir(self.p(rel))
                self.dirs.append(rel)
            rel = os.path.join(rel, "storm-of-the-warm-up-%d" % n)
        else:
            rel = os.path.join(self.some_dir(room=1), self.name("storm"))
        os.mkdir(self.p(rel))
        for i in range(n):
            fd = os.open(os.path.join(self.p(rel), "s%05d.py" % i), os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, b"x\n")
            os.close(fd)
        self.dirs.append(rel)
        self.ops += n
        self.counts["storm-files"] = self.counts.get("storm-files", 0) + n

    def step(self):
        files, dirs = len(self.files), len(self.dirs)
        ops = [(self.create, 20), (self.write, 25), (self.atomic_save, 8), (self.rename_file, 8),
               (self.delete_file, 8 + (30 if files > 3000 else 0)), (self.mkdir, 6 if dirs < 300 else 0),
               (self.rename_dir, 4), (self.move_out, 2), (self.move_in, 2),
               (self.rmtree, 2 + (10 if dirs > 300 or files > 4000 else 0))]
        fns = [o for o, _ in ops]
        op = self.rng.choices(fns, weights=[w for _, w in ops])[0]
        try:
            op()
        except OSError:
            self.count("stale")
            self.resync()

    def marker(self, burst):
        """The burst's last operation: a write to a marker file; returns
        its path as py-mon reports it (relative to the cwd, w/...)."""
        for _ in range(10):
            rel = os.path.join(self.some_dir(), "marker%d.py" % burst)
            try:
                with open(self.p(rel), "w") as f:
                    f.write("burst %d\n" % burst)
            except OSError:
                self.resync()
                continue
            self.files.append(rel)
            self.count("marker", rel)
            return "w/" + rel
        raise RuntimeError("could not write a marker")


# -- the run ----------------------------------------------------------------------

class Log:
    """The command's log, read incrementally (a start line may hold 64 KiB
    of PYMON_CHANGED_PATHS, and it is polled often)."""

    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.partial = b""
        self.runs = []

    def read(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return self.runs
        self.pos += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        self.runs += [json.loads(l) for l in lines if l.strip()]
        return self.runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=600, help="how long to churn (default 600)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock); "
                    "burst lengths are timed, so a seed does not replay a run exactly")
    ap.add_argument("--pymon", default=os.path.join(BUILD, "py-mon"), help="the py-mon to test")
    ap.add_argument("--deadline", type=float, default=float(os.environ.get("PYMON_TEST_TIMEOUT", "10")),
                    help="seconds a run may take to follow a burst (default 10)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per burst")
    ap.add_argument("--pymon-verbose", action="store_true",
                    help="run py-mon with -v (every changed path on its stderr, kept with --keep)")
    args = ap.parse_args()
    # Under AddressSanitizer RSS grows by design (freed memory sits in a
    # quarantine, up to 256 MB): the RSS check says nothing there.
    try:
        with open(args.pymon, "rb") as f:
            asan = b"__asan_init" in f.read()
    except OSError:
        asan = False
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)

    base = tempfile.mkdtemp(prefix="pymon-soak-")
    os.makedirs(os.path.join(base, "w"))
    os.makedirs(os.path.join(base, "outside"))
    log_path = os.path.join(base, "log.jsonl")
    log = Log(log_path)
    child = os.path.join(base, "child.py")
    with open(child, "w") as f:
        f.write(CHILD)
    # A project to start with: 10 packages of 3 levels, 1,000 files; the
    # churn keeps it at about that size (up to 300 directories).
    for i in range(1000):
        d = os.path.join(base, "w", "pkg%d" % (i % 10), "sub%d" % (i % 4), "leaf%d" % (i % 2))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "m%d.py" % i), "w") as f:
            f.write("x\n")

    err_path = os.path.join(base, "pymon.err")
    err = open(err_path, "wb")
    argv = [args.pymon, "--no-color"] + (["-v"] if args.pymon_verbose else []) + [
        "-w", "w", "%s %s" % (sys.executable, child)]
    env = dict(os.environ, SOAK_LOG=log_path)
    print("soak: %s for %.0f s, seed %d, in %s" % (args.pymon, args.seconds, seed, base), flush=True)
    pm = subprocess.Popen(argv, cwd=base, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=err)
    pid = pm.pid
    fails = {k: [] for k in ("runs", "rss", "fds", "zombies", "alive", "shutdown")}
    churn = Churn(base, rng)
    if args.keep:
        churn.journal = []
    samples = []             # (t since start, rss kB, fds)
    latencies = []
    bursts = 0
    t_start = time.monotonic()
    warmup_end = t_start + max(0.15 * args.seconds, 5.0)
    baseline = None          # (peak rss during warm-up, fd count at its end)
    try:
        deadline = time.monotonic() + args.deadline
        while not log.read():
            if time.monotonic() > deadline or pm.poll() is not None:
                raise SystemExit("soak: py-mon did not start its command (status %r)" % pm.poll())
            time.sleep(0.02)
        samples.append((0.0, rss_kb(pid), fd_count(pid)))
        next_report = t_start + 30
        while time.monotonic() - t_start < args.seconds and pm.poll() is None:
            bursts += 1
            churn.resync()
            # The burst: as fast as possible, with now and then a pause that
            # may or may not let a batch fire in the middle.
            storm = 0
            # Storms. The warm-up has one past the batch limit (10,000
            # paths) at the deepest level with the longest names, so that
            # the largest batch py-mon can hold, and the allocator's
            # high-water mark with it, is reached before measuring; later
            # ones are smaller, with shorter paths.
            if bursts == 2 or rng.random() < 0.06:
                storm = 12000 if bursts == 2 else rng.randint(1000, 4000)
                churn.storm(storm, deepest=bursts == 2)
            t_end_burst = time.monotonic() + rng.uniform(0.05, 1.5)
            while time.monotonic() < t_end_burst:
                churn.step()
                r = rng.random()
                if r < 0.01:
                    time.sleep(rng.uniform(0.05, 0.15))
                elif r < 0.05:
                    time.sleep(rng.uniform(0, 0.01))
            nseen = len(log.read())
            marker = churn.marker(bursts)
            t_last = time.time()
            # The quiet period: a run must follow, having seen the marker.
            deadline = time.monotonic() + args.deadline
            seen = None
            while seen is None and time.monotonic() < deadline and pm.poll() is None:
                for e in log.read()[nseen:]:
                    if e["t"] > t_last and (marker in e["changed"].split("\n") or e["truncated"] == "1"):
                        seen = e
                        break
                else:
                    time.sleep(0.02)
            if seen is None:
                # What happened instead: no run at all, or the marker under
                # another path (a stale name after a rename)?
                later = [e for e in log.read() if e["t"] > t_last]
                tail = "/marker%d.py" % bursts
                other = [l for e in later for l in e["changed"].split("\n") if l.endswith(tail)]
                fails["runs"].append("burst %d: no run with %s within %.0f s (%d run(s) after the burst%s)" % (
                    bursts, marker, args.deadline, len(later),
                    "; the marker was reported as %r" % other[:3] if other else ""))
            else:
                latencies.append(seen["t"] - t_last)
            # Let the run settle, then measure.
            time.sleep(rng.uniform(0.2, 1.0))
            if pm.poll() is not None:
                break
            now = time.monotonic()
            rss, fds = rss_kb(pid), fd_count(pid)
            samples.append((now - t_start, rss, fds))
            if args.verbose:
                churn.resync()
                print("burst %4d  %5.1f s  storm %4d  dirs %4d  files %5d  runs %5d  RSS %6d kB  fds %d" % (
                    bursts, now - t_start, storm, len(churn.dirs), len(churn.files), len(log.runs), rss, fds),
                    flush=True)
            kids = children(pid)
            if any(s == "Z" for _, s in kids) or len(kids) > 1:
                time.sleep(0.2)                          # reaping is asynchronous: look again
                kids = children(pid)
                if any(s == "Z" for _, s in kids) or len(kids) > 1:
                    fails["zombies"].append("after burst %d: children %r" % (bursts, kids))
            if now < warmup_end:
                continue
            if baseline is None:
                # The warm-up's peak as the kernel kept it (VmHWM): the
                # samples, taken after each run settled, can miss the
                # largest batch's memory, which the allocator may keep.
                baseline = (max([rss_kb(pid, "VmHWM")] + [s[1] for s in samples]), fds)
            if rss > baseline[0] * 1.25:
                fails["rss"].append("after burst %d: %d kB > 1.25 x %d kB" % (bursts, rss, baseline[0]))
            if fds != baseline[1]:
                time.sleep(0.3)                          # e.g. a spawn's exec-status pipe: look again
                fds = fd_count(pid)
            if fds != baseline[1]:
                fails["fds"].append("after burst %d: %d descriptors, %d after the warm-up" % (bursts, fds, baseline[1]))
            if now > next_report:
                next_report = now + 30
                print("soak: %3.0f s: %d bursts, %d operations, %d runs, RSS %d kB, %d fds" % (
                    now - t_start, bursts, churn.ops, len(log.read()), rss, fds), flush=True)
        # The end: still there, then a clean stop.
        errtext = open(err_path, "rb").read().decode("utf-8", "replace")
        if pm.poll() is not None:
            fails["alive"].append("py-mon exited with status %r" % pm.returncode)
        if "Sanitizer" in errtext or "runtime error" in errtext:
            fails["alive"].append("sanitizer report: %s" % errtext[-2000:])
        runs = log.read()
        last = runs[-1]["pid"] if runs else None
        if pm.poll() is None:
            pm.send_signal(signal.SIGTERM)
            try:
                status = pm.wait(timeout=10)
                if status != 143:
                    fails["shutdown"].append("exit status %r, not 143" % status)
            except subprocess.TimeoutExpired:
                fails["shutdown"].append("still running 10 s after SIGTERM")
        else:
            fails["shutdown"].append("py-mon was not running")
        time.sleep(0.1)
        if last is not None and exists(last):
            fails["shutdown"].append("the last run (pid %d) outlived py-mon" % last)
    finally:
        if pm.poll() is None:
            pm.kill()
            pm.wait()
        err.close()

    # -- figures ---------------------------------------------------------------------
    elapsed = time.monotonic() - t_start
    runs = log.read()
    errtext = open(err_path, "rb").read().decode("utf-8", "replace")
    warnings = sum(1 for l in errtext.splitlines() if "warning" in l)
    after = [s for s in samples if s[0] >= warmup_end - t_start]
    rss_all = [s[1] for s in samples]
    print("soak: figures")
    print("  duration        %.0f s (warm-up %.0f s), seed %d" % (elapsed, warmup_end - t_start, seed))
    print("  bursts          %d, each followed by a run: %d" % (bursts, len(latencies)))
    print("  operations      %d  (%s)" % (churn.ops, ", ".join(
        "%s %d" % kv for kv in sorted(churn.counts.items()))))
    print("  runs            %d (truncated PYMON_CHANGED_PATHS: %d)" % (
        len(runs), sum(1 for r in runs if r.get("truncated") == "1")))
    if latencies:
        latencies.sort()
        print("  burst -> run    median %.0f ms, max %.0f ms" % (
            1000 * latencies[len(latencies) // 2], 1000 * latencies[-1]))
    print("  RSS kB          start %d, warm-up peak %s, end %d, max %d" % (
        rss_all[0], baseline[0] if baseline else "-", rss_all[-1], max(rss_all)))
    print("  descriptors     start %d, after warm-up %s, end %d, min/max after warm-up %s" % (
        samples[0][2], baseline[1] if baseline else "-", samples[-1][2],
        "%d/%d" % (min(s[2] for s in after), max(s[2] for s in after)) if after else "-"))
    print("  warnings        %d line(s) on py-mon's stderr" % warnings)
    if baseline is None:
        fails["rss"].append("the run was too short to get past the warm-up")
        fails["fds"].append("the run was too short to get past the warm-up")

    passed = failed = 0
    for name in ("runs", "rss", "fds", "zombies", "alive", "shutdown"):
        problems = fails[name]
        if name == "rss" and asan:
            print("skip rss       an AddressSanitizer build: its quarantine grows RSS by design")
        elif problems:
            failed += 1
            print("FAIL %-9s %d problem(s): %s" % (name, len(problems), "; ".join(problems[:5])))
        else:
            passed += 1
            print("ok   %s" % name)
    if failed and not args.keep:
        print("soak: py-mon's stderr (last 40 lines):")
        print("\n".join(errtext.splitlines()[-40:]))
    if args.keep:
        with open(os.path.join(base, "journal.txt"), "w") as f:
            f.write("\n".join(churn.journal) + "\n")
        print("soak: kept %s (journal.txt: the directory operations)" % base)
    else:
        shutil.rmtree(base, ignore_errors=True)
    print("soak: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
