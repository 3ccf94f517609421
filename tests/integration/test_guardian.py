"""Supervision guarantees that hold in every configuration (the guardian
design, issue 9) and the library's changes-that-count rules (issue 11):
kill -9 of py-mon leaves nothing, escapees go with any number of rules,
per-file jobs honour the stop timeout, builtins run through the shell, a
new directory alone starts nothing, an open-for-write without a write is
no change, --on-busy signal reaches the main process only, and a program
embedding libpymon keeps its own children."""
import json
import os
import signal
import subprocess
import sys

from support import (BUILD, PYMON, TIMEOUT, Proc, TempDirTest, alive, children, comm, descendants, parent,
                     read_jsonl, wait_for, write)

PY = sys.executable

# A command that logs its start (with PYMON_CHANGED_PATHS) and then waits.
START_PY = r'''
import json, os, signal, sys, time
with open(os.environ["LOG"], "a") as f:
    f.write(json.dumps({"event": "start", "pid": os.getpid(),
                        "changed": os.environ.get("PYMON_CHANGED_PATHS", "")}) + "\n")
while True:
    signal.pause()
'''

# Forks one worker; both log each SIGHUP they get (gunicorn's shape).
HUP_PY = r'''
import json, os, signal, sys, time
def log(**kw):
    with open(os.environ["LOG"], "a") as f:
        f.write(json.dumps(kw) + "\n")
role = "master"
if os.fork() == 0:
    role = "worker"
signal.signal(signal.SIGHUP, lambda *a: log(event="hup", role=role, pid=os.getpid()))
log(event="ready", role=role, pid=os.getpid())
while True:
    signal.pause()
'''


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode() for a in f.read().split(b"\0")[:-1]]
    except OSError:
        return []


class Guardian(TempDirTest):
    def setUp(self):
        super().setUp()
        os.makedirs(self.path("w"))
        self.log = self.path("log.jsonl")
        write(self.path("start.py"), START_PY)
        write(self.path("hup.py"), HUP_PY)
        self.env = dict(os.environ, LOG=self.log)

    def start(self, args, **kw):
        # -v: "N directories watched" says when every watch exists
        p = Proc([PYMON, "--no-color", "--no-config", "-v"] + args, cwd=self.dir, env=self.env, merge_stderr=True,
                 **kw)
        self.procs.append(p)
        return p

    def records(self, event=None):
        return [r for r in read_jsonl(self.log) if event is None or r.get("event") == event]

    def wait_records(self, n, event="start"):
        wait_for(lambda: len(self.records(event)) >= n, what="%d %s records: %r" % (n, event, self.records()))
        return self.records(event)

    def wait_watching(self, p):
        # "N directories watched" comes once every watch exists
        # ("watching: w" comes before the scan).
        p.wait_line(lambda l: l.endswith(" watched"))

    def guardians(self, p):
        kids = [c for c, state in children(p.p.pid) if state not in ("Z", "X")]
        self.assertTrue(all(comm(c) == "py-mon-guard" for c in kids), kids)
        return kids

    def test_the_guardian_is_cloned_before_the_first_run_and_runs_it(self):
        # -p: nothing runs before a change, yet the guardian is there (cloned
        # before the scan, idle); the first run is its child.
        p = self.start(["-p", "-w", "w", "--", PY, self.path("start.py")])
        self.wait_watching(p)
        guards = self.guardians(p)
        self.assertEqual(len(guards), 1)
        self.assertEqual(descendants(guards[0]), [])
        write(self.path("w", "a.py"))
        start = self.wait_records(1)[0]
        self.assertEqual(parent(start["pid"]), guards[0])

    def test_each_prepares_a_guardian_per_slot_up_to_eight(self):
        for jobs, want in (("3", 3), ("12", 8)):
            p = self.start(["-w", "w", "--each", "--jobs", jobs, "--", "true", "{}"])
            self.wait_watching(p)
            self.assertEqual(len(self.guardians(p)), want, "--jobs %s" % jobs)
            p.send(signal.SIGTERM)
            p.wait()

    # -- the tree is stopped whatever happens to py-mon ----------------------

    def test_kill_9_of_pymon_leaves_nothing(self):
        p = self.start(["-w", "w", "sleep 1001 | cat"])
        wait_for(lambda: {"sleep", "cat"} <= {comm(d) for d in descendants(p.p.pid)},
                 what="sleep and cat to run")
        tree = [d for d in descendants(p.p.pid) if comm(d) in ("sleep", "cat", "py-mon-guard")]
        os.kill(p.p.pid, signal.SIGKILL)
        p.p.wait()
        wait_for(lambda: not [d for d in tree if alive(d)],
                 what="the command's tree to end after kill -9: %r" % [(d, comm(d)) for d in tree if alive(d)])

    def test_escapees_are_stopped_with_two_rules(self):
        # A setsid child left behind by each run must not survive a restart
        # or py-mon's exit, whatever the number of rules.
        esc = self.path("esc.py")
        write(esc, "import os, subprocess, sys\n"
                   "subprocess.Popen(['sleep', '1003'], start_new_session=True)\n"
                   "exec(open(sys.argv[1]).read())\n")
        write(self.path("pyproject.toml"), '''
[[tool.py-mon.rule]]
name = "a"
watch = ["w"]
ext = ["py"]
delay = "20ms"
exec = [%s, %s, %s]

[[tool.py-mon.rule]]
name = "b"
watch = ["w"]
ext = ["txt"]
delay = "20ms"
exec = ["sleep", "1004"]
''' % (json.dumps(PY), json.dumps(esc), json.dumps(self.path("start.py"))))
        p = Proc([PYMON, "--no-color"], cwd=self.dir, env=self.env)
        self.procs.append(p)
        self.wait_records(1)
        sleepers = lambda arg: [d for d in descendants(p.p.pid) if cmdline(d) == ["sleep", arg]]
        wait_for(lambda: len(sleepers("1003")) == 1 and len(sleepers("1004")) == 1,
                 what="the escapee and rule b's sleep")
        old = sleepers("1003")[0]
        write(self.path("w", "app.py"))
        self.wait_records(2)
        wait_for(lambda: not alive(old), what="the first run's escapee to be stopped by the restart")
        wait_for(lambda: len(sleepers("1003")) == 1, what="the second run's escapee")
        left = sleepers("1003") + sleepers("1004")
        p.send(signal.SIGTERM)
        self.assertEqual(p.wait(), 143)
        wait_for(lambda: not [d for d in left if alive(d)], what="every sleeper to end with py-mon")

    def test_each_jobs_honour_the_stop_timeout(self):
        # A job that ignores SIGTERM is killed after --stop-timeout, so
        # py-mon ends long before the job would.
        p = self.start(["-w", "w", "-d", "20ms", "-t", "300ms", "--each", "--",
                        "sh", "-c", "trap '' TERM; echo $$ >> \"$LOG.jobs\"; sleep 60; : {}"])
        self.wait_watching(p)
        write(self.path("w", "a.py"))
        jobs = lambda: open(self.log + ".jobs").read().split() if os.path.exists(self.log + ".jobs") else []
        wait_for(jobs, what="the job to start")
        job = int(jobs()[0])
        p.send(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=TIMEOUT), 143)
        wait_for(lambda: not alive(job), what="the job to be killed")

    def test_shell_builtins_run_through_the_shell(self):
        p = self.start(["-w", "w", "--once", "command -v ls >> \"$LOG\"; type ls >> \"$LOG\""])
        self.assertEqual(p.wait(), 0, p.stderr_text())
        p2 = self.start(["-w", "w", "--once", "command -v ls"])
        self.assertEqual(p2.wait(), 0, p2.stderr_text())

    # -- what counts as a change -------------------------------------------

    def sentinel_run(self, p, n):
        """Writes a file that does count, and returns the next run's
        changed paths: whatever happened before it and did not count is
        absent, and no run started in between."""
        write(self.path("w", "sentinel.py"))
        recs = self.wait_records(n + 1)
        self.assertEqual(len(recs), n + 1, recs)
        return recs[n]["changed"].splitlines()

    def test_new_directory_with_only_ignored_files_starts_nothing(self):
        p = self.start(["-w", "w", "-d", "50ms", "-i", "*.log", "%s start.py" % PY])
        self.wait_records(1)
        self.wait_watching(p)
        os.makedirs(self.path("w", "logs", "2026"))
        write(self.path("w", "logs", "2026", "app.log"))
        self.assertEqual(self.sentinel_run(p, 1), ["w/sentinel.py"])

    def test_open_for_writing_without_a_write_is_no_change(self):
        write(self.path("w", "data.bin"))
        write(self.path("w", "app.sqlite3"))
        p = self.start(["-w", "w", "-d", "50ms", "%s start.py" % PY])
        self.wait_records(1)
        self.wait_watching(p)
        for name in ("data.bin", "app.sqlite3"):
            os.close(os.open(self.path("w", name), os.O_RDWR))
        # SQLite's runtime files are ignored by default.
        for name in ("app.sqlite3", "app.sqlite3-journal", "app.db-wal", "x.db-shm", "server.log", ".coverage"):
            write(self.path("w", name), "changed\n")
        os.makedirs(self.path("w", "htmlcov"))
        write(self.path("w", "htmlcov", "index.html"))
        self.assertEqual(self.sentinel_run(p, 1), ["w/sentinel.py"])

    def test_real_changes_still_count(self):
        write(self.path("w", "t.txt"), "old\n")
        write(self.path("w", "a.txt"), "a\n")
        p = self.start(["-w", "w", "-d", "50ms", "%s start.py" % PY])
        self.wait_records(1)
        self.wait_watching(p)
        with open(self.path("w", "t.txt"), "r+") as f:
            f.truncate(0)
        self.assertEqual(self.wait_records(2)[1]["changed"], "w/t.txt")
        os.utime(self.path("w", "a.txt"))  # touch: attributes
        self.assertEqual(self.wait_records(3)[2]["changed"], "w/a.txt")

    def test_on_busy_signal_reaches_the_main_process_only(self):
        p = self.start(["-w", "w", "-d", "20ms", "--on-busy", "signal", "-s", "HUP", "%s hup.py" % PY])
        self.wait_records(2, "ready")
        write(self.path("w", "app.py"))
        hups = self.wait_records(1, "hup")
        self.assertEqual([h["role"] for h in hups], ["master"])
        write(self.path("w", "app2.py"))
        wait_for(lambda: len(self.records("hup")) >= 2, what="a second HUP")
        self.assertEqual({h["role"] for h in self.records("hup")}, {"master"})

    # -- a good guest ------------------------------------------------------

    def test_embedding_program_keeps_its_own_children(self):
        tool = os.path.join(BUILD, "tools", "embed")
        r = subprocess.run([tool], cwd=self.dir, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("own child: exit 42", r.stdout)
        self.assertIn("restarts: 50", r.stdout)
        self.assertIn("subreaper: 0", r.stdout)
        self.assertIn("host reaped: only its own", r.stdout)


class Verbose(TempDirTest):
    def test_v_says_why_a_change_did_not_count(self):
        os.makedirs(self.path("w"))
        write(self.path("w", ".ignore"), "*.tmp\n")
        p = Proc([PYMON, "--no-color", "--no-config", "-v", "-w", "w", "-e", "py", "-d", "20ms", "sleep 100"],
                 cwd=self.dir, merge_stderr=True)
        self.procs.append(p)
        p.wait_line(lambda l: "watched" in l)
        write(self.path("w", "a.tmp"))
        write(self.path("w", "d.log"))
        write(self.path("w", "b.txt"))
        write(self.path("w", "c.py"))
        p.wait_line(lambda l: "w/c.py" in l)
        text = "\n".join(p.seen)
        self.assertRegex(text, r"skipped create w/a\.tmp: ignored by .*w/\.ignore:1: \*\.tmp")
        self.assertIn("skipped create w/d.log: ignored by default ignore '*.log'", text)
        self.assertIn("skipped create w/b.txt: not a watched extension", text)
        self.assertNotIn("skipped create w/c.py", text)


class BatchBound(TempDirTest):
    def test_changes_past_the_batch_bound_are_announced(self):
        os.makedirs(self.path("w"))
        p = Proc([PYMON, "--no-color", "--no-config", "-w", "w", "-d", "300ms", "sleep 100"],
                 cwd=self.dir, merge_stderr=True)  # the command starts once every watch exists
        self.procs.append(p)
        p.wait_line(lambda l: "starting" in l)
        for i in range(10050):
            with open(self.path("w", "f%05d" % i), "w"):
                pass
        line = p.wait_line(lambda l: "were not listed" in l, timeout=30)
        self.assertRegex(line, r"\d+ more changes were not listed \(too many for one batch\); the batch carries "
                               r"a rescan of their root")
