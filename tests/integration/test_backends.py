"""The two backends, seen from `py-mon watch --json`: the same events
whichever found them (inotify, or polling with PYMON_POLL), and a bad
PYMON_POLL is bad input."""
import json
import os
import subprocess

from support import PYMON, Proc, TempDirTest, wait_for, write


class Backends(TempDirTest):
    def watch(self, poll):
        os.makedirs(self.path("w", "pkg"), exist_ok=True)
        env = dict(os.environ)
        env.pop("PYMON_POLL", None)
        if poll:
            env["PYMON_POLL"] = poll
        p = Proc([PYMON, "watch", "--json", "--no-config", "-d", "300ms", "-w", "w"], cwd=self.dir, env=env,
                 merge_stderr=False)
        self.procs.append(p)
        wait_for(lambda: "watching" in p.stderr_text(), what="py-mon watch to start")
        return p

    def events(self, p, n):
        out = []
        while len(out) < n:
            out.append(json.loads(p.line()))
        return out

    def sequence(self, poll):
        """One change at a time, each awaited: the events of each."""
        p = self.watch(poll)
        seen = []
        write(self.path("w", "a.py"), "1\n")
        seen.append(self.events(p, 1))
        with open(self.path("w", "a.py"), "a") as f:
            f.write("2\n")
        seen.append(self.events(p, 1))
        os.rename(self.path("w", "a.py"), self.path("w", "pkg", "b.py"))
        seen.append(self.events(p, 1))
        os.unlink(self.path("w", "pkg", "b.py"))
        seen.append(self.events(p, 1))
        return seen

    def test_the_same_events_from_both_backends(self):
        inotify = self.sequence(None)
        polled = self.sequence("100ms")
        self.assertEqual(inotify, polled)
        self.assertEqual([e[0]["event"] for e in polled], ["create", "modify", "move", "delete"])
        self.assertEqual(polled[2][0], {"event": "move", "path": "w/pkg/b.py", "from": "w/a.py", "dir": False})

    def test_polling_says_so(self):
        p = self.watch("100ms")
        p.wait_stderr("polling %s every 100ms" % os.path.realpath(self.path("w")))

    def test_a_bad_pymon_poll_is_bad_input(self):
        for argv in ([PYMON, "--no-config", "true"], [PYMON, "watch", "--no-config"]):
            r = subprocess.run(argv, cwd=self.dir, env=dict(os.environ, PYMON_POLL="fast"), capture_output=True, text=True,
                               timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("PYMON_POLL: invalid value 'fast'", r.stderr)

    def test_a_flag_wins_over_a_bad_pymon_poll(self):
        os.makedirs(self.path("w"))
        r = subprocess.run([PYMON, "--no-config", "--no-poll", "-w", "w", "--once", "true"], cwd=self.dir,
                           env=dict(os.environ, PYMON_POLL="fast"), capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
