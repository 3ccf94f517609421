"""py-mon watch, --each and the project config (issue 4), black-box.

watch: what a script reading the output gets (text lines, JSON lines that
round-trip any file name to its bytes, filters, --count/--timeout exit
statuses). --each: what the per-file command saw (its argv, environment and
timing, logged as JSON lines to $REC), never py-mon's wording. Config: the
settings a py-mon.toml / pyproject.toml gives, seen through the commands it
runs and through --print-config."""
import json
import os
import queue
import signal
import subprocess
import sys
import time

from support import (PYMON, TIMEOUT, Proc, TempDirTest, comm, guardian_of, parent, pymon_of, runs_of, wait_for, write,
                     read_jsonl)

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = os.path.join(HERE, "child.py")
PY = sys.executable

# The per-file command of the --each tests: logs one JSON line per run to
# $REC (its argv, PYMON_PATH, PYMON_EVENT, start and end times), sleeps
# $SLEEP seconds in between, and fails when its file's name starts with bad.
REC_PY = r'''
import json, os, sys, time
start = time.time()
args = sys.argv[1:]
time.sleep(float(os.environ.get("SLEEP", "0")))
rec = dict(argv=args, path=os.environ.get("PYMON_PATH"), event=os.environ.get("PYMON_EVENT"), foo=os.environ.get("FOO"),
           changed=os.environ.get("PYMON_CHANGED_PATHS"), pid=os.getpid(), ppid=os.getppid(),
           start=start, end=time.time())
with open(os.environ["REC"], "a") as f:
    f.write(json.dumps(rec) + "\n")
if args and os.path.basename(args[-1]).startswith("bad"):
    sys.exit(1)
'''

CONTROL = set(range(0x20)) | {0x7f}


def touch(path):
    """Creates an empty file: one create (and a close) event."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))



def max_overlap(intervals):
    """The largest number of (start, end) intervals open at one time."""
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals],
                    key=lambda p: (p[0], p[1]))
    cur = best = 0
    for _, d in points:
        cur += d
        best = max(best, cur)
    return best


class Base(TempDirTest):
    def setUp(self):
        super().setUp()
        os.makedirs(self.path("src"))
        self.rec = self.path("rec.jsonl")
        self.log = self.path("log.jsonl")
        self.rec_py = self.path("rec.py")
        write(self.rec_py, REC_PY)
        self.env = dict(os.environ, REC=self.rec, LOG=self.log)
        self.env.pop("NO_COLOR", None)

    def start(self, args, cwd=None, **kw):
        p = Proc([PYMON] + list(args), cwd=cwd or self.dir, env=self.env, **kw)
        self.procs.append(p)
        return p

    def run_pymon(self, args, cwd=None, timeout=TIMEOUT):
        return subprocess.run([PYMON] + list(args), cwd=cwd or self.dir, env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)

    def wait_err(self, p, pred, what, timeout=TIMEOUT):
        """The first stderr line for which pred holds (kept in p.err_seen)."""
        deadline = time.monotonic() + timeout
        while True:
            for l in p.err_seen:
                if pred(l):
                    return l
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %s on stderr; seen: %r" % (what, p.err_seen[-20:]))
            try:
                l = p.err_lines.get(timeout=min(left, 0.05))
            except queue.Empty:
                continue
            if l is None:
                raise AssertionError("py-mon ended (status %r) before %s; stderr: %r"
                                     % (p.p.poll(), what, p.err_seen[-20:]))
            p.err_seen.append(l)

    def records(self):
        return read_jsonl(self.rec)

    def wait_records(self, pred, what):
        return wait_for(lambda: pred(self.records()) and self.records(),
                        what="%s; records: %r" % (what, self.records()))

    def child_events(self, kind=None):
        return [e for e in read_jsonl(self.log) if kind is None or e["event"] == kind]


# ---------------------------------------------------------------------------
# py-mon watch
# ---------------------------------------------------------------------------

class Watch(Base):
    def watch(self, *args):
        """py-mon watch, returned once its watches are in place."""
        p = self.start(["watch", "--no-config"] + list(args))
        self.wait_err(p, lambda l: "watching" in l, "the watching line")
        return p

    def rest(self, p):
        """Every stdout line up to the end of the output."""
        lines = []
        while True:
            l = p.lines.get(timeout=TIMEOUT)
            if l is None:
                return lines
            lines.append(l)

    def json_lines_until(self, p, pred, what):
        """Reads JSON lines until pred(all objects so far); each line must be
        strict UTF-8 and exactly one JSON object."""
        objs = []
        deadline = time.monotonic() + TIMEOUT
        while not pred(objs):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %s; got %r" % (what, objs))
            l = p.line(left)
            raw = l.encode("utf-8", "surrogateescape")
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                self.fail("line is not valid UTF-8 (%s): %r" % (e, raw))
            self.assertFalse(any(b in CONTROL for b in raw), "raw control byte in %r" % raw)
            try:
                obj = json.loads(l)
            except ValueError as e:
                self.fail("line is not one JSON value (%s): %r" % (e, l))
            self.assertIsInstance(obj, dict, l)
            self.assertIn(obj.get("event"), ("create", "modify", "delete", "move"), l)
            self.assertIsInstance(obj.get("path"), str, l)
            self.assertIsInstance(obj.get("dir"), bool, l)
            self.assertEqual(set(obj) - {"event", "path", "from", "dir"}, set(), l)
            self.assertEqual("from" in obj, obj["event"] == "move", l)
            objs.append(obj)
        return objs

    # -- text ----------------------------------------------------------------

    def test_text_modify_line(self):
        write(self.path("src", "app.py"), "a\n")
        p = self.watch("src")
        write(self.path("src", "app.py"), "b\n")
        p.wait_line(lambda l: l == "modify  src/app.py")

    def test_text_move_line(self):
        touch(self.path("src", "old.py"))
        p = self.watch("src")
        os.rename(self.path("src", "old.py"), self.path("src", "new.py"))
        p.wait_line(lambda l: l == "move    src/old.py -> src/new.py")

    def test_text_escapes_control_characters(self):
        name = "a\nb\x1b[31mc\x7f"
        p = self.watch("--count", "1", "src")
        os.mkdir(self.path("src", name))
        self.assertEqual(p.wait(), 0)
        lines = self.rest(p)
        self.assertEqual(len(lines), 1, "one event must be one line: %r" % lines)
        raw = lines[0].encode("utf-8", "surrogateescape")
        self.assertFalse(any(b in CONTROL for b in raw), "raw control byte in %r" % raw)
        self.assertTrue(lines[0].startswith("create  src/a\\nb"), lines[0])

    # -- JSON ----------------------------------------------------------------

    def test_json_hostile_names_round_trip(self):
        names = [
            b"new\nline", b'qu"ote', b"back\\slash", b"tab\there", b"esc\x1b[2Jx", b"del\x7f",
            b"bad\xff\xfeutf8", b"ls\xe2\x80\xa8sep", b"ps\xe2\x80\xa9sep", b"emoji\xf0\x9f\x90\x8d",
            b"cr\rret", b"\xc0\x80overlong", b"surr\xed\xa0\x80", b"x" * 255,
        ]
        src = os.fsencode(self.path("src"))
        p = self.watch("--json", "src")
        for n in names:
            touch(os.path.join(src, n))
        want = {b"src/" + n for n in names}
        objs = self.json_lines_until(
            p, lambda objs: want <= {os.fsencode(o["path"]) for o in objs}, "every hostile name")
        for o in objs:
            self.assertIn(os.fsencode(o["path"]), want)
            self.assertFalse(o["dir"])
        self.assertIsNone(p.p.poll())

    def test_json_move_has_from_and_dir_flag(self):
        src = os.fsencode(self.path("src"))
        os.mkdir(os.path.join(src, b"q\"\xff"))
        p = self.watch("--json", "src")
        os.rename(os.path.join(src, b"q\"\xff"), os.path.join(src, b"moved\n\xfe"))
        os.mkdir(os.path.join(src, b"newdir"))
        touch(os.path.join(src, b"file"))
        objs = self.json_lines_until(
            p, lambda objs: {"src/newdir", "src/file"} <= {o["path"] for o in objs}, "dir and file")
        moves = [o for o in objs if o["event"] == "move"]
        self.assertEqual(len(moves), 1, objs)
        self.assertEqual(os.fsencode(moves[0]["from"]), b"src/q\"\xff")
        self.assertEqual(os.fsencode(moves[0]["path"]), b"src/moved\n\xfe")
        self.assertTrue(moves[0]["dir"])
        newdir = [o for o in objs if o["path"] == "src/newdir"]
        self.assertEqual([(o["event"], o["dir"]) for o in newdir], [("create", True)])
        self.assertTrue(all(not o["dir"] for o in objs if o["path"] == "src/file"))
        os.rmdir(os.path.join(src, b"newdir"))
        os.rename(os.path.join(src, b"file"), os.path.join(src, b"file2"))
        objs = self.json_lines_until(p, lambda objs: any(o["path"] == "src/file2" for o in objs), "delete, move")
        # touch's own modify may come in a batch of its own, after the wait above.
        objs = [o for o in objs if (o["event"], o["path"]) != ("modify", "src/file")]
        self.assertEqual([(o["event"], o["path"], o.get("from"), o["dir"]) for o in objs],
                         [("delete", "src/newdir", None, True), ("move", "src/file2", "src/file", False)])

    def test_json_lines_are_flushed_as_they_happen(self):
        p = self.watch("--json", "src")
        os.mkdir(self.path("src", "d1"))
        l = p.line()
        self.assertIsNone(p.p.poll(), "the line must come while py-mon still runs")
        self.assertEqual(json.loads(l), {"event": "create", "path": "src/d1", "dir": True})
        os.mkdir(self.path("src", "d2"))
        self.assertEqual(json.loads(p.line())["path"], "src/d2")

    # -- filters ---------------------------------------------------------------

    def assert_only(self, p, expect_last, forbidden, quiet=0.25):
        """Waits for a line containing expect_last, then asserts that no line
        seen (up to a short quiet period later) mentions a forbidden name."""
        p.wait_line(lambda l: expect_last in l)
        end = time.monotonic() + quiet
        while time.monotonic() < end:
            try:
                l = p.lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            if l is None:
                break
            p.seen.append(l)
        for l in p.seen:
            for f in forbidden:
                self.assertNotIn(f, l, "filtered path reported: %r" % p.seen)

    def test_ext_filter(self):
        p = self.watch("-e", "py", "src")
        touch(self.path("src", "notes.txt"))
        touch(self.path("src", "mod.py"))
        self.assert_only(p, "src/mod.py", ["notes.txt"])

    def test_ignore_filter(self):
        p = self.watch("-i", "skip*", "src")
        touch(self.path("src", "skip_me.py"))
        touch(self.path("src", "keep.py"))
        self.assert_only(p, "src/keep.py", ["skip_me"])

    def test_on_create_filter(self):
        write(self.path("src", "old.py"), "a\n")
        p = self.watch("--on", "create", "src")
        write(self.path("src", "old.py"), "b\n")
        os.remove(self.path("src", "old.py"))
        os.mkdir(self.path("src", "fresh"))
        self.assert_only(p, "src/fresh", ["old.py"])
        self.assertTrue(all(l.startswith("create  ") for l in p.seen), p.seen)

    def test_default_ignores(self):
        os.mkdir(self.path("src", "__pycache__"))
        p = self.watch("src")
        touch(self.path("src", "__pycache__", "m.cpython-311.pyc"))
        touch(self.path("src", "stale.pyc"))
        touch(self.path("src", "m.py"))
        self.assert_only(p, "src/m.py", ["__pycache__", "stale.pyc"])

    def test_no_default_ignore(self):
        os.mkdir(self.path("src", "__pycache__"))
        p = self.watch("--no-default-ignore", "src")
        touch(self.path("src", "__pycache__", "m.cpython-311.pyc"))
        p.wait_line(lambda l: "src/__pycache__/m.cpython-311.pyc" in l)

    # -- --count, --timeout, -d --------------------------------------------------

    def test_count_exits_0_after_exactly_n_events(self):
        p = self.watch("--count", "2", "src")
        for n in ("d1", "d2", "d3"):
            os.mkdir(self.path("src", n))
        self.assertEqual(p.wait(), 0)
        lines = self.rest(p)
        self.assertEqual(lines, ["create  src/d1/", "create  src/d2/"])

    def test_timeout_without_events_exits_3(self):
        t0 = time.monotonic()
        r = self.run_pymon(["watch", "--no-config", "--timeout", "300ms", "src"])
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertGreaterEqual(time.monotonic() - t0, 0.29)

    def test_timeout_with_an_event_exits_0(self):
        p = self.watch("--timeout", "1s", "src")
        os.mkdir(self.path("src", "d"))
        self.assertEqual(p.wait(), 0)
        self.assertEqual(p.line(), "create  src/d/")

    def test_count_not_reached_before_timeout_exits_3(self):
        p = self.watch("--count", "5", "--timeout", "500ms", "src")
        os.mkdir(self.path("src", "d"))
        self.assertEqual(p.line(), "create  src/d/")
        self.assertEqual(p.wait(), 3)

    def test_missing_path_exits_2_naming_it(self):
        r = self.run_pymon(["watch", "--no-config", "src", "no-such-dir"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"no-such-dir", r.stderr)
        self.assertEqual(r.stdout, b"")

    def test_delay_batches_writes_of_one_file(self):
        write(self.path("src", "a.py"), "0\n")
        p = self.watch("-d", "200ms", "src")
        write(self.path("src", "a.py"), "1\n")
        time.sleep(0.05)
        write(self.path("src", "a.py"), "2\n")
        self.assertEqual(p.line(), "modify  src/a.py")
        with self.assertRaises(queue.Empty, msg="a second line for one batched file: %r" % p.seen):
            p.seen.append(p.lines.get(timeout=0.5))


# ---------------------------------------------------------------------------
# --each
# ---------------------------------------------------------------------------

class Each(Base):
    def tearDown(self):
        # A record is written just before its job exits: let the jobs end
        # before py-mon is stopped (stopping during a job is tested apart).
        for p in self.procs:
            try:
                wait_for(lambda: p.p.poll() is not None or not runs_of(p.p.pid), timeout=3)
            except AssertionError:
                pass
        super().tearDown()

    def each(self, *args, cmd=None):
        """py-mon --each, returned once its watches are in place."""
        if cmd is None:
            cmd = [PY, self.rec_py, "{}"]
        p = self.start(["--no-config", "-v", "-w", "src", "-d", "20ms", "--each"] + list(args) + ["--"] + cmd)
        self.wait_err(p, lambda l: "watched" in l, "the watch count")
        return p

    def test_once_per_file_with_path_and_event(self):
        self.each(cmd=["sh", "-c", 'printf "%s|%s|%s\\n" "$1" "$PYMON_PATH" "$PYMON_EVENT" >> "$LOG"',
                       "sh", "{}"])
        touch(self.path("src", "a.py"))
        touch(self.path("src", "b.py"))

        def lines():
            try:
                with open(self.log) as f:
                    return f.read().splitlines()
            except FileNotFoundError:
                return []
        wait_for(lambda: len(lines()) >= 2, what="two runs; log %r" % lines())
        self.assertEqual(sorted(lines()), ["src/a.py|src/a.py|create", "src/b.py|src/b.py|create"])

    def test_placeholder_inside_an_argument_and_no_directories(self):
        self.each(cmd=[PY, self.rec_py, "--file={}", "{}{}"])
        os.mkdir(self.path("src", "adir"))
        touch(self.path("src", "x.py"))
        recs = self.wait_records(lambda r: r, "a run")
        time.sleep(0.2)
        recs = self.records()
        self.assertEqual([r["argv"] for r in recs], [["--file=src/x.py", "src/x.pysrc/x.py"]])

    def test_file_names_never_reach_a_shell(self):
        self.each(cmd=["sh", "-c", 'printf "%s\\n" "$1" >> "$LOG"; printf "%s\\n" "$#" >> "$LOG"', "sh", "{}"])
        write(self.path("src", "b.py"), "keep me\n")
        evil = ["$(touch PWNED); x.py", "a;rm -rf b.py", "`touch PWNED`.py", "c && touch PWNED.py"]
        for n in evil:
            touch(self.path("src", n))

        def lines():
            try:
                with open(self.log) as f:
                    return f.read().splitlines()
            except FileNotFoundError:
                return []
        want = {"src/" + n for n in evil}
        wait_for(lambda: want <= set(lines()), what="every evil name; log %r" % lines())
        got = lines()
        pairs = list(zip(got[0::2], got[1::2]))
        for name, argc in pairs:
            if name in want:
                self.assertEqual(argc, "1", "the name must be one argument: %r" % pairs)
        for root, _, files in os.walk(self.dir):
            self.assertNotIn("PWNED", files, "a shell ran a file name in %s" % root)
        self.assertTrue(os.path.exists(self.path("src", "b.py")))

    def test_exact_bytes_of_hostile_names_as_one_argument(self):
        self.each()
        names = ["$(touch PWNED); x.py", "new\nline.py", "sp ace's.py", "a;rm -rf b.py"]
        for n in names:
            touch(self.path("src", n))
        recs = self.wait_records(lambda r: {"src/" + n for n in names} <= {x["path"] for x in r}, "all names")
        for r in recs:
            self.assertEqual(len(r["argv"]), 1, r)
            self.assertEqual(r["argv"][0], r["path"])
        self.assertFalse(os.path.exists(self.path("PWNED")))

    def test_deleted_files_are_skipped_by_default(self):
        touch(self.path("src", "gone.py"))
        self.each()
        os.remove(self.path("src", "gone.py"))
        time.sleep(0.1)  # its own batch
        touch(self.path("src", "sentinel.py"))
        self.wait_records(lambda r: any(x["path"] == "src/sentinel.py" for x in r), "the sentinel run")
        time.sleep(0.2)
        self.assertEqual([x["path"] for x in self.records()], ["src/sentinel.py"])

    def test_deleted_files_with_on_delete(self):
        touch(self.path("src", "gone.py"))
        self.each("--on", "delete")
        os.remove(self.path("src", "gone.py"))
        recs = self.wait_records(lambda r: r, "the delete run")
        self.assertEqual([(x["path"], x["event"], x["argv"]) for x in recs],
                         [("src/gone.py", "delete", ["src/gone.py"])])

    def test_moved_file_runs_with_its_new_path(self):
        touch(self.path("src", "before.py"))
        self.each()
        os.rename(self.path("src", "before.py"), self.path("src", "after.py"))
        recs = self.wait_records(lambda r: r, "the move run")
        time.sleep(0.2)
        self.assertEqual([(x["path"], x["event"], x["argv"]) for x in self.records()],
                         [("src/after.py", "move", ["src/after.py"])])

    def test_a_failing_run_is_reported_and_the_rest_go_on(self):
        p = self.each()
        for n in ("ok1.py", "bad.py", "ok2.py"):
            touch(self.path("src", n))
        self.wait_records(lambda r: {"src/ok1.py", "src/bad.py", "src/ok2.py"} <= {x["path"] for x in r},
                          "all three runs")
        self.wait_err(p, lambda l: "bad.py" in l and ("fail" in l.lower() or "exit" in l.lower()),
                      "a report of the failing run")
        self.assertFalse(any("ok1.py" in l and "fail" in l.lower() for l in p.err_seen), p.err_seen)
        touch(self.path("src", "later.py"))
        self.wait_records(lambda r: any(x["path"] == "src/later.py" for x in r), "a run after the failure")
        self.assertIsNone(p.p.poll())

    def run_six(self, *args):
        self.env["SLEEP"] = "0.3"
        p = self.start(["--no-config", "-v", "-w", "src", "-d", "100ms", "--each"] + list(args) +
                       ["--", PY, self.rec_py, "{}"])
        self.wait_err(p, lambda l: "watched" in l, "the watch count")
        names = ["f%d.py" % i for i in range(6)]
        for n in names:
            touch(self.path("src", n))
        recs = self.wait_records(lambda r: len(r) >= 6, "six runs")
        time.sleep(0.2)
        recs = self.records()
        self.assertEqual(sorted(r["path"] for r in recs), ["src/" + n for n in names])
        return max_overlap([(r["start"], r["end"]) for r in recs])

    def test_jobs_runs_up_to_n_at_once(self):
        overlap = self.run_six("--jobs", "3")
        self.assertGreaterEqual(overlap, 2, "--jobs 3 ran nothing in parallel")
        self.assertLessEqual(overlap, 3, "--jobs 3 ran more than 3 at once")
        # Each slot has its kept guardian: three, all py-mon's children.
        guards = {r["ppid"] for r in self.records()}
        self.assertLessEqual(len(guards), 3, guards)
        pymon = self.procs[-1].p.pid
        self.assertEqual([comm(g) for g in sorted(guards)], ["py-mon-guard"] * len(guards))
        self.assertTrue(all(parent(g) == pymon for g in guards), guards)

    def test_jobs_of_a_slot_are_started_by_its_kept_guardian(self):
        # One slot: every job is the child of one guardian, cloned before
        # the scan and kept (no clone of py-mon per job).
        p = self.each()
        for n in ("a.py", "b.py", "c.py"):
            touch(self.path("src", n))
        recs = self.wait_records(lambda r: len(r) >= 3, "three jobs")
        guards = {r["ppid"] for r in recs}
        self.assertEqual(len(guards), 1, recs)
        guard = guards.pop()
        self.assertEqual(comm(guard), "py-mon-guard")
        self.assertEqual(parent(guard), p.p.pid)

    def test_without_jobs_runs_are_sequential(self):
        self.assertEqual(self.run_six(), 1)

    def test_sigterm_while_a_job_runs_stops_it_and_exits(self):
        p = self.each(cmd=["sh", "-c", 'echo $$ >> "$LOG"; exec sleep 30', "sh", "{}"])
        touch(self.path("src", "slow.py"))

        def job():
            try:
                with open(self.log) as f:
                    return int(f.read().split()[0])
            except (FileNotFoundError, IndexError, ValueError):
                return None
        pid = wait_for(job, what="the job to start")
        p.send(signal.SIGTERM)
        try:
            status = p.wait(timeout=3)
        except subprocess.TimeoutExpired:
            p.p.kill()
            p.wait()
            self.fail("py-mon did not exit on SIGTERM while a --each job ran (the job %s: %s)"
                      % (pid, "gone" if not os.path.exists("/proc/%d" % pid) else "alive"))
        self.assertEqual(status, 128 + signal.SIGTERM)
        wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
                 open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] in "ZX",
                 timeout=3, what="the job to be stopped")

    def test_shell_line_gets_the_path_as_data(self):
        # A line that needs the shell (VAR=value, &&) runs under sh -c with
        # {} as "$1": the path is an argument, never shell text.
        p = self.start(["--no-config", "-v", "-w", "src", "-d", "20ms", "--each",
                        "FOO=1 %s %s {} && true" % (PY, self.rec_py)])
        self.wait_err(p, lambda l: "watched" in l, "the watch count")
        name = "$(touch pwned) `touch pwned2` ';x.py"
        touch(self.path("src", name))
        recs = self.wait_records(lambda r: r, "a run")
        self.assertEqual(recs[0]["argv"], ["src/" + name])
        self.assertEqual(recs[0]["foo"], "1")
        self.assertFalse(os.path.exists(self.path("pwned")) or os.path.exists(self.path("pwned2")))

    def test_a_path_never_becomes_an_option(self):
        # Relative to the root ".", a file named --version would be an
        # option of the program: it is passed as ./--version.
        p = self.start(["--no-config", "-v", "-w", ".", "-d", "20ms", "-i", "*.jsonl", "--each", "--",
                        PY, self.rec_py, "{}"], cwd=self.path("src"))
        self.wait_err(p, lambda l: "watched" in l, "the watch count")
        touch(self.path("src", "--version"))
        recs = self.wait_records(lambda r: r, "a run")
        self.assertEqual(recs[0]["argv"], ["./--version"])
        self.assertEqual(recs[0]["path"], "--version")

    def test_simple_one_string_is_split_into_words(self):
        p = self.start(["--no-config", "-v", "-w", "src", "-d", "20ms", "--each",
                        "%s %s {}" % (PY, self.rec_py)])
        self.wait_err(p, lambda l: "watched" in l, "the watch count")
        touch(self.path("src", "x y.py"))
        recs = self.wait_records(lambda r: r, "a run")
        self.assertEqual(recs[0]["argv"], ["src/x y.py"])

    def test_a_job_whose_exec_fails_is_reported_and_the_slot_serves_the_next(self):
        # The exec fails in the slot's guardian (missing interpreter), after
        # the job was handed over: reported by name, and the same slot then
        # runs the next job (--jobs 1).
        bad = self.path("bad.sh")
        with open(bad, "w") as f:
            f.write("#!/no/such/interpreter\n")
        os.chmod(bad, 0o755)
        p = self.each("--jobs", "1", cmd=[bad, "{}"])
        touch(self.path("src", "a.py"))
        self.wait_err(p, lambda l: l == "[py-mon] cannot start %s for src/a.py: No such file or directory" % bad,
                      "the exec failure")
        with open(bad, "w") as f:
            f.write("#!/bin/sh\nexec %s %s \"$@\"\n" % (PY, self.rec_py))
        touch(self.path("src", "b.py"))
        recs = self.wait_records(lambda r: r, "a run after the fix")
        self.assertEqual(recs[0]["argv"], ["src/b.py"])
        self.assertIsNone(p.p.poll())

    def test_jobs_without_each_is_refused(self):
        r = self.run_pymon(["--no-config", "-w", "src", "--jobs", "2", "--", "true"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--each", r.stderr)


# ---------------------------------------------------------------------------
# Config files
# ---------------------------------------------------------------------------

def toml_str(s):
    return json.dumps(s)  # a JSON string of ASCII text is a TOML basic string


class Config(Base):
    def logger(self, tag):
        """A shell command that appends 'tag|$PYMON_CHANGED_PATHS' to $LOG."""
        return 'printf "%%s|%%s\\n" %s "$PYMON_CHANGED_PATHS" >> "$LOG"' % tag

    def log_lines(self):
        try:
            with open(self.log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait_log(self, n):
        return wait_for(lambda: len(self.log_lines()) >= n and self.log_lines(),
                        what="%d log lines; log %r" % (n, self.log_lines()))

    def print_config(self, *args, cwd=None):
        r = self.run_pymon(["--print-config"] + list(args), cwd=cwd)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode()

    def setting(self, out, key):
        """(value, origin) of a top-level key in --print-config output."""
        for l in out.splitlines():
            if l.startswith(key + " = "):
                value, _, origin = l[len(key) + 3:].partition("    # ")
                return value, origin
        self.fail("no %r in:\n%s" % (key, out))

    def refused(self, text, name="py-mon.toml", args=(), cwd=None):
        write(self.path(name), text)
        r = self.run_pymon(list(args) + ["--", "true"], cwd=cwd)
        self.assertEqual(r.returncode, 2, "accepted:\n%s\nstderr: %r" % (text, r.stderr))
        return r.stderr.decode("utf-8", "replace")

    # -- finding and applying the file -------------------------------------------

    def test_pyproject_settings_run_the_command(self):
        write(self.path("pyproject.toml"), (
            '[project]\nname = "demo"\n\n[tool.py-mon]\nwatch = ["src"]\next = ["py"]\n'
            'delay = "20ms"\ncommand = %s\n') % toml_str(self.logger("run")))
        self.start(["-v"])
        self.assertEqual(self.wait_log(1), ["run|"])
        touch(self.path("src", "notes.txt"))
        touch(self.path("app.py"))  # not under the watched src
        touch(self.path("src", "app.py"))
        self.assertEqual(self.wait_log(2), ["run|", "run|src/app.py"])
        time.sleep(0.2)
        self.assertEqual(len(self.log_lines()), 2, self.log_lines())

    def test_found_from_a_subdirectory_with_paths_relative_to_the_file(self):
        write(self.path("pyproject.toml"), (
            '[tool.py-mon]\nwatch = ["src"]\ndelay = "20ms"\ncommand = %s\n') % toml_str(self.logger("run")))
        sub = self.path("sub", "deeper")
        os.makedirs(sub)
        os.makedirs(os.path.join(sub, "src"))  # a decoy: not the file's src
        self.start([], cwd=sub)
        self.wait_log(1)
        touch(os.path.join(sub, "src", "decoy.py"))
        touch(self.path("src", "real.py"))
        lines = self.wait_log(2)
        self.assertTrue(lines[1].startswith("run|") and lines[1].endswith("src/real.py"), lines)
        self.assertNotIn("decoy", "\n".join(lines))

    def test_py_mon_toml_wins_over_pyproject_in_the_same_directory(self):
        write(self.path("pyproject.toml"), '[tool.py-mon]\ndelay = "111ms"\n')
        write(self.path("py-mon.toml"), 'delay = "222ms"\n')
        out = self.print_config("--", "true")
        self.assertIn("config file: py-mon.toml", out.splitlines()[0])
        self.assertEqual(self.setting(out, "delay"), ('"222ms"', "py-mon.toml:1:1"))

    def test_nearest_file_wins(self):
        write(self.path("py-mon.toml"), 'delay = "222ms"\n')
        write(self.path("sub", "pyproject.toml"), '[tool.py-mon]\ndelay = "333ms"\n')
        out = self.print_config("--", "true", cwd=self.path("sub"))
        self.assertEqual(self.setting(out, "delay"), ('"333ms"', "pyproject.toml:2:1"))

    def test_pyproject_without_our_table_is_skipped_for_a_parent_file(self):
        write(self.path("py-mon.toml"), 'delay = "222ms"\n')
        write(self.path("sub", "pyproject.toml"), '[project]\nname = "x"\n')
        out = self.print_config("--", "true", cwd=self.path("sub"))
        self.assertEqual(self.setting(out, "delay"), ('"222ms"', "../py-mon.toml:1:1"))

    def test_config_option_names_the_file(self):
        write(self.path("py-mon.toml"), 'delay = "222ms"\n')
        write(self.path("conf", "other.toml"), 'watch = ["../src"]\ndelay = "444ms"\n')
        out = self.print_config("--config", "conf/other.toml", "--", "true")
        self.assertEqual(self.setting(out, "delay"), ('"444ms"', "conf/other.toml:2:1"))
        value, origin = self.setting(out, "watch")
        self.assertEqual(os.path.normpath(self.path(json.loads(value)[0])), self.path("src"))
        self.assertEqual(origin, "conf/other.toml:1:1")

    def test_config_option_with_a_missing_file(self):
        r = self.run_pymon(["--config", "nope.toml", "--", "true"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"nope.toml", r.stderr)

    def test_no_config_ignores_the_file(self):
        write(self.path("py-mon.toml"), 'command = %s\n' % toml_str(self.logger("run")))
        r = self.run_pymon(["--no-config"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"command", r.stderr)
        out = self.print_config("--no-config", "--", "true")
        self.assertIn("config file: none", out.splitlines()[0])
        self.assertEqual(self.log_lines(), [])

    def test_command_line_overrides_the_file(self):
        write(self.path("py-mon.toml"), (
            'watch = ["src", "lib"]\next = ["py", "html"]\ndelay = "100ms"\nstop_timeout = "2s"\n'
            'command = "echo from-file"\n'))
        os.makedirs(self.path("other"))
        out = self.print_config("-e", "txt", "-w", "other", "-d", "7", "--", "echo", "cli")
        self.assertEqual(self.setting(out, "ext"), ('["txt"]', "command line"))
        value, origin = self.setting(out, "watch")
        self.assertEqual((json.loads(value), origin), (["other"], "command line"))
        self.assertEqual(self.setting(out, "delay"), ('"7ms"', "command line"))
        self.assertEqual(self.setting(out, "stop-timeout"), ('"2000ms"', "py-mon.toml:4:1"))
        self.assertEqual(self.setting(out, "exec"), ('["echo", "cli"]', "command line"))

    def test_command_line_ext_replaces_the_files_ext_when_running(self):
        write(self.path("py-mon.toml"), (
            'watch = ["src"]\next = ["py"]\ndelay = "20ms"\ncommand = %s\n') % toml_str(self.logger("run")))
        self.start(["-e", "txt"])
        self.wait_log(1)
        touch(self.path("src", "a.py"))
        touch(self.path("src", "a.txt"))
        self.assertEqual(self.wait_log(2)[1], "run|src/a.txt")
        time.sleep(0.2)
        self.assertEqual(len(self.log_lines()), 2, self.log_lines())

    def test_command_line_command_replaces_a_file_each(self):
        write(self.path("py-mon.toml"), 'each = ["echo", "{}"]\n')
        out = self.print_config("--", "echo", "cli")
        self.assertNotIn("each = ", out, "the file's per-file mode leaked into the command line's command")
        self.assertEqual(self.setting(out, "exec"), ('["echo", "cli"]', "command line"))

    def test_exec_runs_without_a_shell(self):
        write(self.path("py-mon.toml"), (
            'watch = ["src"]\ndelay = "20ms"\nexec = [%s, %s, "serve", "$HOME;touch PWNED", "*"]\n')
            % (toml_str(PY), toml_str(CHILD)))
        p = self.start([])
        start = wait_for(lambda: self.child_events("start"), what="a start").pop()
        self.assertEqual(start["argv"], ["serve", "$HOME;touch PWNED", "*"])
        self.assertEqual(pymon_of(start["pid"]), p.p.pid, "exec must not go through sh -c")
        self.assertFalse(os.path.exists(self.path("PWNED")))

    def test_two_rules_in_one_process(self):
        write(self.path("pyproject.toml"), '''
[project]
name = "demo"

[tool.py-mon]
quiet = true

[[tool.py-mon.rule]]
name = "server"
watch = ["src"]
ext = ["py"]
delay = "20ms"
exec = [%s, %s, "serve"]

[[tool.py-mon.rule]]
name = "css"
watch = ["styles"]
ext = ["scss"]
delay = "20ms"
each = [%s, %s, "{}"]
''' % (toml_str(PY), toml_str(CHILD), toml_str(PY), toml_str(self.rec_py)))
        os.makedirs(self.path("styles"))
        p = self.start([])
        wait_for(lambda: self.child_events("ready"), what="the server; log %r" % self.child_events())
        first = self.child_events("start")[0]
        self.assertEqual(pymon_of(first["pid"]), p.p.pid)
        # Files of the wrong kind or place for each rule, then one for the css rule.
        touch(self.path("styles", "x.py"))
        touch(self.path("src", "y.scss"))
        touch(self.path("styles", "a.scss"))
        recs = self.wait_records(lambda r: r, "the css rule's run")
        self.assertEqual([r["argv"] for r in recs], [["styles/a.scss"]])
        self.assertEqual(len(self.child_events("start")), 1, "a .scss change restarted the server")
        # A .py change restarts the server, and only that.
        touch(self.path("src", "app.py"))
        wait_for(lambda: len(self.child_events("start")) >= 2, what="a restart; log %r" % self.child_events())
        self.assertEqual(self.child_events("start")[1]["changed"], "src/app.py")
        time.sleep(0.2)
        self.assertEqual(len(self.records()), 1, self.records())
        self.assertEqual(len(self.child_events("start")), 2)
        self.assertIsNone(p.p.poll())

    # -- errors ----------------------------------------------------------------

    def test_syntax_error_has_line_and_column(self):
        err = self.refused('watch = ["src"]\n# a comment\next = [py]\n')
        self.assertIn("py-mon.toml:3:8:", err)

    def test_syntax_error_in_pyproject_table(self):
        err = self.refused('[project]\nname = "demo"\n\n[tool.py-mon]\ndelay = "100ms\n', name="pyproject.toml")
        self.assertIn("pyproject.toml:5:9:", err)

    def test_syntax_error_found_from_a_subdirectory(self):
        os.makedirs(self.path("sub"))
        err = self.refused('delay = "1s"\ndelay = "2s"\n', cwd=self.path("sub"))
        self.assertIn("py-mon.toml:2:1:", err)

    def test_unknown_key_is_named(self):
        err = self.refused('watch = ["src"]\ncolour = true\n')
        self.assertIn("colour", err)
        self.assertIn("py-mon.toml:2:1:", err)

    def test_unknown_key_in_a_rule_is_named(self):
        err = self.refused('[[rule]]\nname = "a"\ncommand = "true"\n  frobnicate = 1\n')
        self.assertIn("frobnicate", err)
        self.assertIn("py-mon.toml:4:3:", err)

    def test_wrong_types_are_errors_with_positions(self):
        cases = [
            ('watch = ["src"]\ndelay = 1.5\n', "py-mon.toml:2:"),
            ('# first\nwatch = 3\n', "py-mon.toml:2:"),
            ('watch = [3]\n', "py-mon.toml:1:"),
            ('delay = true\n', "py-mon.toml:1:"),
            ('\n\ncommand = 3\n', "py-mon.toml:3:"),
            ('ext = "py"\nclear = "yes"\n', "py-mon.toml:2:"),
        ]
        # A directory named 3 must not make watch = 3 look right.
        os.makedirs(self.path("3"))
        for text, pos in cases:
            with self.subTest(text=text):
                err = self.refused(text)
                self.assertIn(pos, err)

    def test_broken_pyproject_without_our_table_is_ignored(self):
        write(self.path("pyproject.toml"), '[project\nname = "demo\nversion = = 1\n')
        r = self.run_pymon(["--once", "--", PY, "-c", "open('ran', 'w').close()"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(self.path("ran")))

    def test_pyproject_with_quoted_table_name_is_read(self):
        write(self.path("pyproject.toml"), '[tool."py-mon"]\ndelay = "321ms"\n')
        out = self.print_config("--", "true")
        self.assertEqual(self.setting(out, "delay"), ('"321ms"', "pyproject.toml:2:1"))

    # -- --print-config ----------------------------------------------------------

    def test_print_config_shows_origins_and_runs_nothing(self):
        write(self.path("py-mon.toml"), (
            '# settings\nwatch = ["src"]\n\next = ["py", "html"]\n  delay = "100ms"\non_busy = "queue"\n'
            'command = %s\n\n[[rule]]\nname = "css"\nwatch = ["src"]\neach = ["true", "{}"]\n')
            % toml_str(self.logger("run")))
        t0 = time.monotonic()
        out = self.print_config("-d", "5ms", "--signal", "HUP")
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(self.setting(out, "watch"), ('["src"]', "py-mon.toml:2:1"))
        value, origin = self.setting(out, "ext")
        self.assertEqual(value, '["py", "html"]')
        self.assertTrue(origin.startswith("py-mon.toml:4:"), origin)
        self.assertEqual(self.setting(out, "delay"), ('"5ms"', "command line"))
        self.assertEqual(self.setting(out, "signal"), ('"SIGHUP"', "command line"))
        self.assertEqual(self.setting(out, "on-busy"), ('"queue"', "py-mon.toml:6:1"))
        self.assertEqual(self.setting(out, "stop-timeout"), ('"5000ms"', "default"))
        self.assertEqual(self.setting(out, "command")[1], "py-mon.toml:7:1")
        self.assertIn("[[rule]]    # py-mon.toml:9:1", out)
        self.assertIn('name = "css"', out)
        time.sleep(0.2)
        self.assertEqual(self.log_lines(), [], "--print-config ran the command")

    def test_print_config_origin_of_a_list_is_its_key(self):
        # Like every other setting (and like a one-element list), the origin
        # of a list is where its key is, not where its last element is.
        write(self.path("py-mon.toml"), 'ext = ["py"]\nwatch = ["src", "."]\n')
        out = self.print_config("--", "true")
        self.assertEqual(self.setting(out, "ext"), ('["py"]', "py-mon.toml:1:1"))
        self.assertEqual(self.setting(out, "watch"), ('["src", "."]', "py-mon.toml:2:1"))

    def test_print_config_without_a_file(self):
        out = self.print_config("--no-config", "-e", "py", "--", "true")
        self.assertEqual(self.setting(out, "ext"), ('["py"]', "command line"))
        self.assertEqual(self.setting(out, "delay"), ('"50ms"', "default"))
        self.assertEqual(self.setting(out, "watch"), ('["."]', "default"))

    def test_watch_mode_reads_the_config(self):
        write(self.path("py-mon.toml"), 'watch = ["src"]\next = ["py"]\ncommand = "true"\n')
        p = self.start(["watch", "--json"])
        self.wait_err(p, lambda l: "watching" in l, "the watching line")
        touch(self.path("src", "a.txt"))
        touch(self.path("src", "a.py"))
        obj = json.loads(p.wait_line(lambda l: "a.py" in l))
        self.assertEqual(obj["path"], "src/a.py")
        self.assertNotIn("a.txt", "\n".join(p.seen))


if __name__ == "__main__":
    import unittest
    unittest.main()
