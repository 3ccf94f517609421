"""Supervision, black-box: what the supervised command saw (its own log
of starts, signals and exits), never the wording of py-mon's messages."""
import json
import os
import signal
import sys
import time

from support import (PYMON, TIMEOUT, Proc, TempDirTest, alive, children, comm, read_jsonl, descendants, guardian_of, parent,
                     pymon_of, wait_for, write)

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")



class Supervision(TempDirTest):
    def setUp(self):
        super().setUp()
        self.log = self.path("log.jsonl")
        os.makedirs(self.path("src"))
        write(self.path("src", "app.py"), "print('hi')\n")

    def pymon(self, *args, env=None, cmd=None, mode="serve", **kw):
        e = dict(os.environ, LOG=self.log)
        e.update(env or {})
        argv = [PYMON, "-w", "src", "--delay", "20ms"] + list(args)
        if cmd is not None:
            argv += cmd if isinstance(cmd, list) else [cmd]
        else:
            argv += ["%s %s %s" % (sys.executable, CHILD, mode)]
        p = Proc(argv, cwd=self.dir, env=e, **kw)
        self.procs.append(p)
        return p

    def events(self, kind=None):
        return [e for e in read_jsonl(self.log) if kind is None or e["event"] == kind]

    def wait_starts(self, n, timeout=TIMEOUT):
        return wait_for(lambda: len(self.events("start")) >= n and self.events("start"),
                        timeout, what="%d start(s); log: %r" % (n, self.events()))

    def wait_ready(self, n):
        wait_for(lambda: len(self.events("ready")) >= n, what="%d ready; log: %r" % (n, self.events()))

    def touch(self, name="app.py", data=None):
        write(self.path("src", name), data or "# %f\n" % time.time())

    # -- the main loop ---------------------------------------------------

    def test_starts_then_restarts_with_changed_paths(self):
        self.pymon()
        first = self.wait_starts(1)[0]
        self.assertEqual(first["changed"], "")
        self.wait_ready(1)
        self.touch("app.py")
        second = self.wait_starts(2)[1]
        self.assertEqual(second["changed"], "src/app.py")
        self.assertFalse(alive(first["pid"]))

    def test_simple_command_is_execd_without_a_shell(self):
        p = self.pymon()
        start = self.wait_starts(1)[0]
        # The command runs under py-mon's guardian, with no sh in between.
        self.assertEqual(comm(start["ppid"]), "py-mon-guard")
        self.assertEqual(pymon_of(start["pid"]), p.p.pid, "a simple command must not run under sh -c")
        self.assertEqual(start["pgid"], start["pid"], "the command leads its own process group")

    def test_shell_command_runs_under_sh_and_whole_group_is_waited_for(self):
        cmd = "%s %s serve; echo done" % (sys.executable, CHILD)
        p = self.pymon(cmd=cmd, env={"STOP_DELAY": "0.4"})
        first = self.wait_starts(1)[0]
        self.assertNotEqual(comm(first["ppid"]), "py-mon-guard", "a shell line runs under sh")
        self.wait_ready(1)
        self.touch()
        second = self.wait_starts(2)[1]
        exits = self.events("exit")
        self.assertTrue(exits, "the old run was not stopped")
        self.assertLess(exits[0]["t"], second["t"], "the new run started before the old one ended")

    def test_new_run_starts_only_after_old_one_is_gone(self):
        self.pymon(env={"STOP_DELAY": "0.5"})
        self.wait_ready(1)
        self.touch()
        second = self.wait_starts(2)[1]
        exit_ = self.events("exit")[0]
        self.assertLess(exit_["t"], second["t"])

    def test_child_ignoring_term_is_killed_after_stop_timeout(self):
        self.pymon("-t", "300ms", mode="ignore-term")
        first = self.wait_starts(1)[0]
        self.wait_ready(1)
        t0 = time.time()
        self.touch()
        self.wait_starts(2)
        self.assertTrue(self.events("term-ignored"))
        self.assertFalse(alive(first["pid"]))
        self.assertGreaterEqual(time.time() - t0, 0.25)

    def test_grandchildren_and_setsid_escapees_are_stopped(self):
        p = self.pymon(mode="grandchild")
        self.wait_ready(1)
        grandchild = self.events("spawned")[0]["grandchild"]
        escapee = int(wait_for(lambda: os.path.exists(self.log + ".escapee") and
                               open(self.log + ".escapee").read().strip(), what="escapee pid"))
        self.assertTrue(alive(grandchild) and alive(escapee))
        self.touch()
        self.wait_starts(2)
        wait_for(lambda: not alive(grandchild) and not alive(escapee), what="old tree gone")
        self.wait_ready(2)
        second = self.events("spawned")[1]["grandchild"]
        p.send(signal.SIGTERM)
        self.assertEqual(p.wait(), 143)
        self.assertFalse(alive(second))

    def test_stop_signals_exit_with_128_plus_n_and_leave_nothing(self):
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)):
            with self.subTest(sig=sig):
                if os.path.exists(self.log):
                    os.unlink(self.log)
                p = self.pymon(mode="grandchild")
                self.wait_ready(1)
                gc = self.events("spawned")[0]["grandchild"]
                pid = self.events("start")[0]["pid"]
                p.send(sig)
                self.assertEqual(p.wait(), code)
                self.assertFalse(alive(pid))
                self.assertFalse(alive(gc))

    def test_sigusr1_restarts_by_hand(self):
        p = self.pymon()
        self.wait_ready(1)
        p.send(signal.SIGUSR1)
        self.wait_starts(2)

    def test_exit_is_reported_and_next_change_runs_again(self):
        p = self.pymon(cmd="%s %s exit 3" % (sys.executable, CHILD))
        self.wait_starts(1)
        wait_for(lambda: "3" in p.stderr_text(), what="exit code reported")
        self.touch()
        self.wait_starts(2)
        self.assertIsNone(p.p.poll())

    def test_program_that_cannot_start_is_reported_and_watching_goes_on(self):
        p = self.pymon(cmd=["--", "/nonexistent/prog-xyz", "arg"])
        wait_for(lambda: "/nonexistent/prog-xyz" in p.stderr_text(), what="error naming the program")
        self.assertIsNone(p.p.poll())
        # It still reacts: replace the command by a real one is not possible,
        # but a change must make it try again (a second report).
        n = p.stderr_text().count("prog-xyz")
        self.touch()
        wait_for(lambda: p.stderr_text().count("prog-xyz") > n, what="second attempt")

    def test_exec_that_fails_in_the_guardian_then_works_after_a_fix(self):
        # Found and executable, but its interpreter is missing: the exec
        # fails in the guardian, after py-mon handed the run over.
        script = self.path("src", "run.sh")
        write(script, "#!/no/such/interpreter\n")
        os.chmod(script, 0o755)
        p = self.pymon(cmd=["--", script])
        wait_for(lambda: "cannot start %s: No such file or directory" % script in p.stderr_text(),
                 what="the exec failure, named")
        self.assertIsNone(p.p.poll())
        write(script, "#!/bin/sh\necho '{\"event\": \"start\"}' >> \"$LOG\"\n")
        self.wait_starts(1)
        self.assertIsNone(p.p.poll())

    def test_child_inherits_no_descriptor(self):
        self.pymon(cmd="%s %s fds" % (sys.executable, CHILD))
        fds = wait_for(lambda: self.events("fds"), what="fds logged")[0]["fds"]
        # 0-2, plus the one listdir itself opens.
        self.assertLessEqual(len(fds), 4, fds)
        self.assertEqual(fds[:3], [0, 1, 2])

    def test_argv_form_passes_arguments_literally(self):
        self.pymon(cmd=["--", sys.executable, CHILD, "argv", "a b", "$HOME", "*", "; rm -rf /"])
        start = self.wait_starts(1)[0]
        self.assertEqual(start["argv"], ["argv", "a b", "$HOME", "*", "; rm -rf /"])

    def test_py_file_runs_with_python(self):
        write(self.path("src", "hello.py"),
              "import os, json\nopen(os.environ['LOG'], 'a').write(json.dumps({'event': 'start', "
              "'pid': os.getpid(), 'changed': os.environ.get('PYMON_CHANGED_PATHS')}) + '\\n')\n")
        self.pymon(cmd=["src/hello.py"])
        self.wait_starts(1)

    def test_virtualenv_python_is_used_for_py_files(self):
        venv = self.path("venv", "bin")
        os.makedirs(venv)
        marker = self.path("venv-used")
        write(os.path.join(venv, "python"), "#!/bin/sh\ntouch '%s'\nexec %s \"$@\"\n" % (marker, sys.executable))
        os.chmod(os.path.join(venv, "python"), 0o755)
        write(self.path("src", "hello.py"), "print('hi')\n")
        self.pymon(cmd=["src/hello.py"], env={"VIRTUAL_ENV": self.path("venv")})
        wait_for(lambda: os.path.exists(marker), what="the virtualenv's python to run")

    # -- options ------------------------------------------------------------

    def test_postpone_waits_for_first_change(self):
        self.pymon("-p")
        time.sleep(0.3)
        self.assertEqual(self.events("start"), [])
        self.touch()
        self.wait_starts(1)

    def test_once_exits_with_the_commands_status(self):
        p = self.pymon("--once", cmd="%s %s exit 5" % (sys.executable, CHILD))
        self.assertEqual(p.wait(), 5)
        self.assertEqual(len(self.events("start")), 1)

    def test_postpone_once_runs_after_first_change(self):
        p = self.pymon("-p", "--once", cmd="%s %s exit 0" % (sys.executable, CHILD))
        time.sleep(0.2)
        self.assertEqual(self.events("start"), [])
        self.touch()
        self.assertEqual(p.wait(), 0)
        self.assertEqual(self.events("start")[0]["changed"], "src/app.py")

    def test_on_busy_queue_reruns_after_the_run_ends(self):
        # A run that lasts a moment; two changes meanwhile make one more run.
        cmd = "%s -c \"import time; time.sleep(0.6)\"; %s %s exit 0" % (sys.executable, sys.executable, CHILD)
        self.pymon("--on-busy", "queue", cmd=cmd)
        self.wait_starts(1)
        time.sleep(0.1)
        self.touch("a.py")
        self.touch("b.py")
        self.wait_starts(2)
        time.sleep(0.8)
        self.assertEqual(len(self.events("start")), 2)
        self.assertEqual(self.events("term"), [])

    def test_on_busy_ignore_does_nothing_while_running(self):
        self.pymon("--on-busy", "ignore")
        self.wait_ready(1)
        self.touch()
        time.sleep(0.4)
        self.assertEqual(len(self.events("start")), 1)
        self.assertEqual(self.events("term"), [])

    def test_on_busy_signal_sends_the_signal_only(self):
        self.pymon("--on-busy", "signal", "-s", "HUP", mode="hup")
        self.wait_ready(1)
        self.touch()
        wait_for(lambda: self.events("hup"), what="SIGHUP delivered")
        self.assertEqual(len(self.events("start")), 1)

    def test_stop_signal_option(self):
        # With -s INT the child gets SIGINT (KeyboardInterrupt), not TERM.
        self.pymon("-s", "SIGINT")
        self.wait_ready(1)
        self.touch()
        self.wait_starts(2)
        self.assertEqual(self.events("term"), [])

    def test_ext_filter_limits_what_restarts(self):
        self.pymon("-e", "py")
        self.wait_ready(1)
        self.touch("notes.txt")
        time.sleep(0.3)
        self.assertEqual(len(self.events("start")), 1)
        self.touch("mod.py")
        self.wait_starts(2)

    def test_ignore_option(self):
        self.pymon("-i", "gen/")
        self.wait_ready(1)
        self.touch(os.path.join("gen", "out.py"))
        time.sleep(0.3)
        self.assertEqual(len(self.events("start")), 1)

    def test_rs_on_stdin_restarts(self):
        import subprocess
        p = self.pymon("--rs", stdin=subprocess.PIPE)
        self.wait_ready(1)
        p.p.stdin.write(b"rs\n")
        p.p.stdin.flush()
        self.wait_starts(2)

    def guardians(self, pid):
        """py-mon's children: its one kept guardian, nothing else."""
        kids = children(pid)
        self.assertEqual([comm(c) for c, _ in kids], ["py-mon-guard"], "children of py-mon: %r" % kids)
        return kids[0][0]

    def test_many_restarts_leave_no_zombie_and_no_descriptor_growth(self):
        p = self.pymon(cmd="%s %s exit 0" % (sys.executable, CHILD))
        fds = lambda: len(os.listdir("/proc/%d/fd" % p.p.pid))
        # The run is gone: py-mon's one child, its kept guardian, is idle.
        idle = lambda: len(children(p.p.pid)) == 1 and not any(descendants(c) for c, _ in children(p.p.pid))
        self.wait_starts(1)
        wait_for(idle, what="the first run to end")
        fds0 = fds()
        guard = self.guardians(p.p.pid)
        for i in range(2, 22):
            p.send(signal.SIGUSR1)
            self.wait_starts(i)
        wait_for(idle, what="the last run to end")
        self.assertEqual(fds(), fds0)
        self.assertEqual(self.guardians(p.p.pid), guard, "one guardian for every run")
        self.assertEqual(len(descendants(guard)), 0)

    def test_restarts_are_started_by_one_kept_guardian(self):
        # Every run is the same guardian's child (no clone of py-mon per
        # restart), and a kill -9 of py-mon takes the idle guardian too.
        p = self.pymon(cmd="%s %s exit 0" % (sys.executable, CHILD))
        starts = self.wait_starts(1)
        for i in range(2, 5):
            self.touch()
            starts = self.wait_starts(i)
        guards = {s["ppid"] for s in starts}
        self.assertEqual(len(guards), 1, "runs under guardians %r" % guards)
        guard = guards.pop()
        self.assertEqual(comm(guard), "py-mon-guard")
        self.assertEqual(parent(guard), p.p.pid)
        wait_for(lambda: not descendants(guard), what="the last run to end")
        # Idle, it holds nothing of py-mon's (no inotify or epoll descriptor,
        # no other guardian's socket): stdio, its socket, its signalfd.
        held = sorted(os.readlink("/proc/%d/fd/%s" % (guard, fd)).split(":")[0]
                      for fd in os.listdir("/proc/%d/fd" % guard) if int(fd) > 2)
        self.assertEqual(held, ["anon_inode", "socket"], "descriptors of the idle guardian")
        p.send(signal.SIGKILL)
        p.wait()
        wait_for(lambda: not alive(guard), what="the idle guardian to go with py-mon")

    def test_child_does_not_outlive_a_killed_pymon(self):
        p = self.pymon()
        self.wait_ready(1)
        pid = self.events("start")[0]["pid"]
        p.send(signal.SIGKILL)
        p.wait()
        wait_for(lambda: not alive(pid), what="the child to end with py-mon")
        self.assertTrue(self.events("term"), "the child did not get the stop signal")

    def test_on_busy_signal_shutdown_terms_the_child(self):
        p = self.pymon("--on-busy", "signal", "-s", "HUP", mode="hup")
        self.wait_ready(1)
        p.send(signal.SIGINT)
        self.assertEqual(p.wait(), 130)
        self.assertTrue(self.events("term"))

    def test_default_ignores_and_no_default_ignore(self):
        self.pymon()
        self.wait_ready(1)
        self.touch(os.path.join("__pycache__", "app.cpython-311.pyc"))
        time.sleep(0.3)
        self.assertEqual(len(self.events("start")), 1, "a .pyc write restarted the command")
        self.procs.pop().close()
        os.unlink(self.log)
        self.pymon("--no-default-ignore")
        self.wait_ready(1)
        self.touch(os.path.join("__pycache__", "app.cpython-311.pyc"))
        self.wait_starts(2)

    def test_gitignore_and_no_vcs_ignore(self):
        os.makedirs(self.path(".git"))
        write(self.path("src", ".gitignore"), "generated.py\n")
        self.pymon()
        self.wait_ready(1)
        self.touch("generated.py")
        time.sleep(0.3)
        self.assertEqual(len(self.events("start")), 1, "a .gitignore'd file restarted the command")
        self.procs.pop().close()
        os.unlink(self.log)
        self.pymon("--no-vcs-ignore")
        self.wait_ready(1)
        self.touch("generated.py")
        self.wait_starts(2)

    def test_on_limits_the_kinds_that_restart(self):
        self.pymon("--on", "create")
        self.wait_ready(1)
        self.touch("app.py")  # exists: a modification
        time.sleep(0.3)
        self.assertEqual(len(self.events("start")), 1)
        self.touch("brand_new.py")
        self.assertEqual(self.wait_starts(2)[1]["changed"], "src/brand_new.py")

    def test_delay_gathers_changes_into_one_restart(self):
        self.pymon("-d", "400ms")
        self.wait_ready(1)
        for name in ("a.py", "b.py", "c.py"):
            self.touch(name)
            time.sleep(0.1)
        second = self.wait_starts(2)[1]
        self.assertEqual(sorted(second["changed"].split("\n")), ["src/a.py", "src/b.py", "src/c.py"])
        time.sleep(0.6)
        self.assertEqual(len(self.events("start")), 2)

    def test_verbose_prints_each_change(self):
        p = self.pymon("-v")
        self.wait_ready(1)
        self.touch("verbose_one.py")
        self.wait_starts(2)
        wait_for(lambda: "src/verbose_one.py" in p.stderr_text(), what="the changed path in -v output")

    def test_escapee_of_an_exited_leader_is_stopped_before_the_next_run(self):
        esc = self.path("esc.pid")
        cmd = "setsid sh -c 'echo $$ > %s; exec sleep 300' & %s %s exit 0" % (esc, sys.executable, CHILD)
        p = self.pymon(cmd=cmd)
        self.wait_starts(1)
        pid = int(wait_for(lambda: os.path.exists(esc) and open(esc).read().strip(), what="escapee pid"))
        self.assertTrue(alive(pid))
        self.touch()
        self.wait_starts(2)
        wait_for(lambda: not alive(pid), what="the old run's escapee to be stopped")
        pid2 = int(wait_for(lambda: open(esc).read().strip() != str(pid) and open(esc).read().strip(),
                            what="second escapee"))
        p.send(signal.SIGTERM)
        self.assertEqual(p.wait(), 143)
        self.assertFalse(alive(pid2), "py-mon exited and left a process of its command running")

    def test_huge_batch_still_starts_and_says_it_was_cut(self):
        # A long delay keeps all 3,000 files in one batch on a slow machine.
        p = self.pymon("-p", "-d", "1500ms", cmd="%s %s argv" % (sys.executable, CHILD))
        d = self.path("src", "many")
        os.makedirs(d)
        time.sleep(0.2)
        for i in range(3000):
            with open(os.path.join(d, "file-with-a-rather-long-name-to-fill-the-environment-%05d.py" % i), "w"):
                pass
        start = self.wait_starts(1)[0]
        self.assertLessEqual(len(start["changed"]), 64 * 1024)
        self.assertEqual(start["truncated"], "1")
        self.assertIsNone(p.p.poll())
