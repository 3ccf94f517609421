"""--poll[=TIME], --no-poll, --poll-on-limit and the config key poll: the
command line chooses the backend (pymon_watcher_poll), over PYMON_POLL;
without them the library's choice stands. The polled scenario suites
(test_scenarios.Polled*) cover what polling sees; here: that the flags
reach the library, in run and watch mode, and bad values are refused."""
import json
import os
import resource
import subprocess
import sys

from support import PYMON, TIMEOUT, Proc, TempDirTest, wait_for, watch_limit_prefix, write

HELP_POINTER = "Try 'py-mon --help' for more information."


def read(path):
    with open(path) as f:
        return f.read()


def env_without_poll(**extra):
    env = {k: v for k, v in os.environ.items() if k != "PYMON_POLL"}
    env.update(extra)
    return env


class PollFlags(TempDirTest):
    def setUp(self):
        super().setUp()
        os.mkdir(self.path("tree"))

    def watch(self, *args, env=None):
        """py-mon watch --json on tree/, started: (proc, the stderr lines
        printed before "watching N directories", which ends the start)."""
        config = [] if "--config" in args else ["--no-config"]
        p = Proc([PYMON, "watch", "--json"] + config + list(args) + ["tree"], cwd=self.dir,
                 env=env if env is not None else env_without_poll())
        self.procs.append(p)
        wait_for(lambda: "] watching " in p.stderr_text() or p.p.poll() is not None, what="the start")
        err = p.stderr_text()
        self.assertIsNone(p.p.poll(), err)
        return p, err[:err.index("] watching ")]

    def event(self, p, kind, name):
        def matches(l):
            e = json.loads(l)
            return e["event"] == kind and e["path"] == os.path.join("tree", name)
        p.wait_line(matches)

    def create_modify_delete(self, p):
        write(self.path("tree", "a.txt"), "1\n")
        self.event(p, "create", "a.txt")
        write(self.path("tree", "a.txt"), "22\n")
        self.event(p, "modify", "a.txt")
        os.unlink(self.path("tree", "a.txt"))
        self.event(p, "delete", "a.txt")

    def test_poll_with_an_interval_sees_create_modify_delete(self):
        p, start = self.watch("--poll=100ms")
        self.assertIn("polling %s every 100ms" % self.path("tree"), start)
        self.create_modify_delete(p)

    def test_a_polled_tree_deeper_than_the_descriptor_limit_is_seen_to_the_bottom(self):
        # A round opens each polled directory relative to its parent's
        # descriptor; 150 levels under a limit of 40 descriptors must not
        # run out of them (EMFILE would leave the bottom unpolled, silently).
        deep = self.path("tree", *(["d"] * 150))
        os.makedirs(deep)
        limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))
        p = Proc([PYMON, "watch", "--json", "--no-config", "--poll=100ms", "tree"], cwd=self.dir,
                 env=env_without_poll(), preexec_fn=limit)
        self.procs.append(p)
        wait_for(lambda: "] watching " in p.stderr_text() or p.p.poll() is not None, what="the start")
        self.assertIsNone(p.p.poll(), p.stderr_text())
        write(os.path.join(deep, "bottom.txt"), "1\n")
        self.event(p, "create", os.path.join(*(["d"] * 150 + ["bottom.txt"])))
        self.assertNotIn("Too many open files", p.stderr_text())

    def test_plain_poll_means_the_default_interval_and_takes_no_next_word(self):
        # The path after --poll is a path, not the flag's value.
        p, start = self.watch("--poll")
        self.assertIn("every 500ms", start)
        write(self.path("tree", "b.txt"))
        self.event(p, "create", "b.txt")

    def test_without_a_flag_the_tree_here_is_watched_with_inotify(self):
        _, start = self.watch()
        self.assertNotIn("polling", start)

    def test_no_poll_overrides_the_environment(self):
        _, start = self.watch(env=env_without_poll(PYMON_POLL="1"))
        self.assertIn("polling", start)  # the environment alone polls
        p, start = self.watch("--no-poll", env=env_without_poll(PYMON_POLL="1"))
        self.assertNotIn("polling", start)
        self.create_modify_delete(p)

    def test_poll_overrides_the_environments_interval(self):
        _, start = self.watch("--poll=150ms", env=env_without_poll(PYMON_POLL="2s"))
        self.assertIn("every 150ms", start)

    def test_poll_on_limit_alone_keeps_inotify(self):
        p, start = self.watch("--poll-on-limit")
        self.assertNotIn("polling", start)
        self.create_modify_delete(p)

    def test_poll_on_limit_polls_what_the_watch_limit_leaves(self):
        prefix = watch_limit_prefix(5)
        for i in range(20):
            os.makedirs(self.path("tree", "d%02d" % i))
        argv = [PYMON, "watch", "--no-config", "--json", "tree"]
        # Without the flag the limit is an error.
        r = subprocess.run(prefix + argv, cwd=self.dir, env=env_without_poll(), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("max_user_watches", r.stderr.decode())
        p = Proc(prefix + argv[:-1] + ["--poll-on-limit", "tree"], cwd=self.dir, env=env_without_poll())
        self.procs.append(p)
        wait_for(lambda: "] watching " in p.stderr_text() or p.p.poll() is not None, what="the start")
        self.assertIsNone(p.p.poll(), p.stderr_text())
        # The last directories are beyond the limit: polled.
        write(self.path("tree", "d19", "new.txt"))
        self.event(p, "create", "d19/new.txt")

    def test_run_mode_restarts_on_a_polled_change(self):
        log = self.path("runs.log")
        p = Proc([PYMON, "--no-config", "--poll=100ms", "-w", "tree", "--", "sh", "-c", 'echo run >> "$1"', "sh",
                  log], cwd=self.dir, env=env_without_poll())
        self.procs.append(p)
        wait_for(lambda: os.path.exists(log), what="the first run")
        p.wait_stderr("polling %s every 100ms" % self.path("tree"))
        write(self.path("tree", "app.py"))
        wait_for(lambda: read(log).count("run") == 2, what="the run after a polled change")

    def test_config_key(self):
        write(self.path("py-mon.toml"), 'poll = "150ms"\n')
        _, start = self.watch("--config", "py-mon.toml")
        self.assertIn("every 150ms", start)
        write(self.path("py-mon.toml"), "poll = true\npoll-on-limit = true\n")
        _, start = self.watch("--config", "py-mon.toml")
        self.assertIn("every 500ms", start)
        write(self.path("py-mon.toml"), "poll = false\n")
        _, start = self.watch("--config", "py-mon.toml", env=env_without_poll(PYMON_POLL="1"))
        self.assertNotIn("polling", start)
        # The command line wins over the file.
        write(self.path("py-mon.toml"), "poll = false\n")
        _, start = self.watch("--config", "py-mon.toml", "--poll=120ms")
        self.assertIn("every 120ms", start)


class PollInput(TempDirTest):
    def run_pymon(self, args, env=None):
        r = subprocess.run([PYMON] + list(args), cwd=self.dir, env=env or env_without_poll(),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def refused(self, args, *needles):
        status, out, err = self.run_pymon(args + ["--", "touch", self.path("started")])
        self.assertEqual(status, 2, err)
        self.assertEqual(err.splitlines()[1:], [HELP_POINTER], err)
        for n in needles:
            self.assertIn(n, err.splitlines()[0])
        self.assertFalse(os.path.exists(self.path("started")))

    def test_bad_values_exit_2_naming_the_flag(self):
        self.refused(["--no-config", "--poll=abc"], "--poll 'abc'", "not a duration")
        self.refused(["--no-config", "--poll=0"], "--poll '0'", "from 1ms to 3600s")
        self.refused(["--no-config", "--poll="], "--poll ''")
        self.refused(["--no-config", "--no-poll=1"], "'--no-poll' takes no value")
        # A value must be joined with '=': the next word would be the command.
        self.refused(["--no-config", "--poll", "250ms"], "write --poll=250ms")

    def test_bad_config_values_name_the_line(self):
        write(self.path("py-mon.toml"), 'delay = 10\npoll = "often"\n')
        self.refused([], "py-mon.toml:2:1: poll 'often'", "not a duration")
        write(self.path("py-mon.toml"), "poll = 1.5\n")
        self.refused([], "py-mon.toml:1:1", "poll")
        write(self.path("py-mon.toml"), '[[rule]]\ncommand = "true"\npoll = true\n')
        self.refused([], "py-mon.toml:1:1", "top table")

    def test_print_config_names_where_poll_came_from(self):
        status, out, err = self.run_pymon(["--no-config", "--print-config", "--poll=250ms", "true"])
        self.assertEqual(status, 0, err)
        self.assertIn('poll = "250ms"    # command line', out)
        self.assertIn("poll-on-limit = false    # default", out)
        status, out, err = self.run_pymon(["--no-config", "--print-config", "--no-poll", "true"])
        self.assertIn("poll = false    # command line", out)
        status, out, err = self.run_pymon(["--no-config", "--print-config", "true"],
                                          env=env_without_poll(PYMON_POLL="2s"))
        self.assertIn('poll = "2s"    # environment (PYMON_POLL)', out)
        status, out, err = self.run_pymon(["--no-config", "--print-config", "true"])
        self.assertIn("# poll: not set", out)
        write(self.path("py-mon.toml"), "\npoll = false\n")
        status, out, err = self.run_pymon(["--print-config", "true"])
        self.assertIn("poll = false    # py-mon.toml:2:1", out)


if __name__ == "__main__":
    import unittest
    unittest.main()
