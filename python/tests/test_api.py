"""The Watcher/Observer chain on real kernel events in temp trees."""
import errno
import os
import subprocess
import sys
import threading
import time

from pmsupport import ENV, TIMEOUT, Observing, TempDirTest, alive, wait_for, watch_limit_prefix, write

import pymon
from pymon import Command, Event, Events, Watcher


class ChainTest(TempDirTest):
    def test_each_kind_with_its_paths(self):
        with Watcher() as w:
            obs = Observing(w)
            o = w.add(self.dir).delay(0.01).call(obs.record)
            self.assertIsInstance(o, pymon.Observer)
            with obs:
                f = self.path("a.txt")
                write(f)
                obs.has(Events.CREATE, f)
                with open(f, "a") as fh:
                    fh.write("more\n")
                obs.has(Events.MODIFY, f)
                g = self.path("b.txt")
                os.rename(f, g)
                obs.has(Events.MOVE, g, from_path=f)
                os.unlink(g)
                obs.has(Events.DELETE, g)
                os.mkdir(self.path("sub"))
                ev = obs.until(lambda evs: any(e.path == self.path("sub") for e in evs))
                self.assertTrue([e for e in ev if e.path == self.path("sub")][0].is_dir)
            for e in obs.seen:
                self.assertIsInstance(e, Event)
                self.assertIsInstance(e.kind, Events)

    def test_on_filters_kinds_and_pathlike_roots(self):
        import pathlib
        with Watcher() as w:
            obs = Observing(w)
            w.add(pathlib.Path(self.dir)).on(Events.DELETE).delay(0.01).call(obs.record)
            with obs:
                write(self.path("x"))
                os.unlink(self.path("x"))
                obs.has(Events.DELETE, self.path("x"))
            self.assertEqual({e.kind for e in obs.seen}, {Events.DELETE})

    def test_ignore_and_ext(self):
        with Watcher() as w:
            obs = Observing(w)
            w.add(self.dir).ignore("*.log", "build/").ext("py").delay(0.01).call(obs.record)
            with obs:
                write(self.path("a.log"))
                write(self.path("b.txt"))
                write(self.path("build", "c.py"))
                write(self.path("d.py"))
                obs.has(Events.CREATE, self.path("d.py"))
            # Events arrive in order: anything not filtered would be here by now.
            self.assertEqual({e.path for e in obs.seen}, {self.path("d.py")})

    def test_stop_from_another_thread_returns_status_and_gil_is_free(self):
        with Watcher() as w:
            w.add(self.dir)
            ticks = []
            done = threading.Event()

            def other():
                # Runs while observe() blocks: the GIL is released.
                t0 = time.monotonic()
                while time.monotonic() - t0 < 0.2:
                    ticks.append(1)
                    time.sleep(0.001)
                w.stop(7)
                done.set()

            threading.Thread(target=other).start()
            t0 = time.monotonic()
            self.assertEqual(w.observe(), 7)
            self.assertLess(time.monotonic() - t0, TIMEOUT)
            self.assertTrue(done.is_set())
            self.assertGreater(len(ticks), 20)

    def test_idle_observe_does_not_wake_up(self):
        # The observing (main) thread sleeps in poll() with no timeout.
        def switches():
            with open("/proc/self/task/%d/status" % os.getpid()) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        return int(line.split()[1])
            raise AssertionError("no voluntary_ctxt_switches")

        counts = []
        with Watcher() as w:
            w.add(self.dir)
            w.start()

            def other():
                time.sleep(0.2)
                counts.append(switches())
                time.sleep(1.0)
                counts.append(switches())
                w.stop(0)

            t = threading.Thread(target=other)
            t.start()
            self.assertEqual(w.observe(), 0)
            t.join()
        self.assertLessEqual(counts[1] - counts[0], 2, "the idle loop woke up %d times in 1 s"
                             % (counts[1] - counts[0]))

    def test_callback_exception_propagates_from_observe(self):
        class Boom(Exception):
            pass

        def cb(events):
            raise Boom(events[0].path)

        with Watcher() as w:
            w.add(self.dir).delay(0.01).call(cb)
            w.start()
            threading.Timer(0.05, write, [self.path("f")]).start()
            with self.assertRaises(Boom) as cm:
                w.observe()
            self.assertEqual(str(cm.exception), self.path("f"))

    def test_stop_inside_callback(self):
        with Watcher() as w:
            w.add(self.dir).delay(0.01).call(lambda evs: w.stop(len(evs) + 40))
            w.start()
            threading.Timer(0.05, write, [self.path("f")]).start()
            self.assertEqual(w.observe(), 41)

    def test_two_observers_of_one_watcher(self):
        os.mkdir(self.path("a"))
        os.mkdir(self.path("b"))
        with Watcher() as w:
            obs = Observing(w)
            got = []
            w.add(self.path("a")).delay(0.01).call(obs.record)
            w.add(self.path("b")).delay(0.01).call(lambda evs: got.extend(evs))
            with obs:
                write(self.path("b", "y"))
                wait_for(lambda: got, what="the second observer's batch")
                write(self.path("a", "x"))
                obs.has(Events.CREATE, self.path("a", "x"))
            self.assertEqual([e.path for e in got], [self.path("b", "y")])
            self.assertEqual([e.path for e in obs.seen], [self.path("a", "x")])

    def test_context_manager_closes(self):
        with Watcher() as w:
            w.add(self.dir)
        self.assertTrue(w.closed)
        with self.assertRaises(ValueError):
            w.add(self.dir)


class ErrorTest(TempDirTest):
    def test_missing_path_is_an_oserror_with_enoent(self):
        missing = self.path("nope")
        with Watcher() as w:
            with self.assertRaises(pymon.Error) as cm:
                w.add(missing)
        e = cm.exception
        self.assertIsInstance(e, OSError)
        self.assertEqual(e.errno, errno.ENOENT)
        self.assertIn(missing, str(e))

    def test_bad_arguments(self):
        with Watcher() as w:
            o = w.add(self.dir)
            with self.assertRaises(ValueError):
                o.on(Events(0))
            with self.assertRaises(ValueError):
                o.delay(-1)
            with self.assertRaises(TypeError):
                o.delay("1")  # type: ignore[arg-type]
            with self.assertRaises(ValueError):
                o.ext("")
            with self.assertRaises(TypeError):
                o.each("ruff check {}")  # type: ignore[arg-type]
            with self.assertRaises(ValueError):
                Command("x", on_busy="later")
            with self.assertRaises(ValueError):
                Command([])
            w.start()
            with self.assertRaises(RuntimeError):
                o.ignore("late")


def inotify_watches():
    """The inotify watches this process holds (/proc/self/fdinfo)."""
    n = 0
    for fd in os.listdir("/proc/self/fdinfo"):
        try:
            with open("/proc/self/fdinfo/" + fd) as f:
                n += sum(1 for line in f if line.startswith("inotify wd:"))
        except OSError:
            pass
    return n


class PollTest(TempDirTest):
    def test_poll_finds_changes_with_no_inotify_watch(self):
        before = inotify_watches()
        with Watcher(poll=0.02) as w:
            obs = Observing(w)
            w.add(self.dir).delay(0.01).call(obs.record)
            with obs:
                self.assertEqual(inotify_watches(), before)
                f = self.path("a.py")
                write(f)
                obs.has(Events.CREATE, f)
                with open(f, "a") as fh:
                    fh.write("more\n")
                obs.has(Events.MODIFY, f)
        self.assertEqual(Watcher(poll=True).close(), None)

    def test_auto_and_no_poll_watch_with_inotify(self):
        for poll in (None, False):
            with self.subTest(poll=poll):
                before = inotify_watches()
                with Watcher(poll=poll) as w:
                    w.add(self.dir).call(lambda events: None)
                    w.start()
                    self.assertEqual(inotify_watches(), before + 1)

    def test_watch_iterator_polls(self):
        before = inotify_watches()
        stop = threading.Event()
        f = self.path("b.py")
        it = pymon.watch(self.dir, delay=0.01, poll=0.02, stop_event=stop)
        threading.Timer(0.3, write, (f,)).start()
        changes = next(it)
        self.assertEqual(inotify_watches(), before)
        self.assertIn((Events.CREATE, f), changes)
        stop.set()
        self.assertEqual(list(it), [])

    def test_poll_on_limit_polls_what_the_watch_limit_leaves(self):
        prefix = watch_limit_prefix(5)
        for i in range(20):
            os.makedirs(self.path("d%02d" % i))
        code = ("import errno, sys, pymon\n"
                "for flag in (False, True):\n"
                "    try:\n"
                "        with pymon.Watcher(poll_on_limit=flag) as w:\n"
                "            w.add(sys.argv[1]).call(lambda events: None)\n"
                "            w.start()\n"
                "            print(flag, 'started', w.watch_count)\n"
                "    except pymon.Error as e:\n"
                "        print(flag, errno.errorcode[e.errno])\n")
        r = subprocess.run(prefix + [sys.executable, "-c", code, self.dir], env=ENV, capture_output=True,
                           text=True, timeout=TIMEOUT)
        self.assertEqual(r.stdout.split("\n")[:2], ["False ENOSPC", "True started 21"], r.stderr)
        self.assertIn("fs.inotify.max_user_watches", r.stderr)

    def test_bad_poll_values(self):
        with self.assertRaisesRegex(TypeError, "poll: expected None, a bool or seconds"):
            Watcher(poll="fast")  # type: ignore[arg-type]
        for bad in (0, -1, 7200):
            with self.assertRaisesRegex(ValueError, "poll: an interval from 0.001 to 3600 seconds"):
                Watcher(poll=bad)


class CommandTest(TempDirTest):
    def child(self, name="child.py"):
        """A command that appends its pid to pids.txt and sleeps."""
        out = self.path("out")
        os.makedirs(out, exist_ok=True)
        script = os.path.join(out, name)
        write(script, "import os, time\n"
                      "with open(%r, 'a') as f: f.write('%%d\\n' %% os.getpid())\n"
                      "time.sleep(60)\n" % os.path.join(out, "pids.txt"))
        return [sys.executable, script]

    def pids(self):
        try:
            with open(self.path("out", "pids.txt")) as f:
                return [int(x) for x in f.read().split()]
        except FileNotFoundError:
            return []

    def test_run_restarts_a_real_child_and_leaves_nothing_behind(self):
        os.mkdir(self.path("src"))
        with Watcher() as w:
            obs = Observing(w)
            w.add(self.path("src")).delay(0.01).run(Command(self.child(), stop_timeout=2))
            with obs:
                first = wait_for(lambda: self.pids(), what="the first run")[0]
                write(self.path("src", "app.py"))
                second = wait_for(lambda: self.pids()[1:], what="the restart")[0]
                self.assertNotEqual(first, second)
                self.assertFalse(alive(first), "the first run outlived its restart")
        # Closing the watcher stopped the second run too.
        wait_for(lambda: not alive(second), what="the command to be gone after close()")
        self.assertEqual(len(self.pids()), 2)

    def test_once_returns_the_exit_status(self):
        with Watcher() as w:
            w.add(self.dir).run(Command([sys.executable, "-c", "raise SystemExit(5)"], once=True))
            self.assertEqual(w.observe(), 5)

    def test_shell_string_command(self):
        out = self.path("out")
        os.mkdir(out)
        os.mkdir(self.path("src"))
        with Watcher() as w:
            w.add(self.path("src")).run(Command("echo hello > '%s'/said && exit 3" % out, once=True))
            self.assertEqual(w.observe(), 3)
        with open(os.path.join(out, "said")) as f:
            self.assertEqual(f.read(), "hello\n")

    def test_each_runs_per_path_with_jobs(self):
        out = self.path("out")
        os.mkdir(out)
        os.mkdir(self.path("src"))
        code = "import os, sys; open(os.path.join(%r, os.path.basename(sys.argv[1])), 'w').close()" % out
        with Watcher() as w:
            w.add(self.path("src")).delay(0.05).each([sys.executable, "-c", code, "{}"], jobs=2, once=True)
            w.start()
            for n in ("a.py", "b.py", "c.py"):
                write(self.path("src", n))
            self.assertEqual(w.observe(), 0)
        self.assertEqual(sorted(os.listdir(out)), ["a.py", "b.py", "c.py"])
