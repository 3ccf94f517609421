"""--restart-on-exit[=fail|always]: a command that ends without a change
starts again after a backoff (100 ms doubling to 10 s, reset after 10 s of
uptime; src/act/supervisor.c), so a crash loop never spins."""
import os
import subprocess
import time

from support import PYMON, TIMEOUT, Proc, TempDirTest, cpu_seconds, wait_for, write

HELP_POINTER = "Try 'py-mon --help' for more information."


def lines(path):
    try:
        with open(path) as f:
            return f.read().count("\n")
    except FileNotFoundError:
        return 0


class RestartOnExit(TempDirTest):
    def setUp(self):
        super().setUp()
        os.mkdir(self.path("src"))
        self.log = self.path("starts.log")

    def start(self, status, *args):
        """py-mon watching src/ with a command that logs its start and exits
        with status at once."""
        p = Proc([PYMON, "--no-config", "-w", "src"] + list(args) +
                 ["--", "sh", "-c", 'echo start >> "$1"; exit %d' % status, "sh", self.log], cwd=self.dir)
        self.procs.append(p)
        return p

    def test_a_crash_loop_backs_off(self):
        p = self.start(1, "--restart-on-exit")
        wait_for(lambda: lines(self.log) >= 1, what="the first start")
        # Starts at 0, 0.1, 0.3, 0.7, 1.5, 3.1 s (then 6.3 s): 6 in 5 s. A
        # measuring window, not a wait: the bounds leave room for slow runs.
        t0, cpu0 = time.monotonic(), cpu_seconds(p.p.pid)
        time.sleep(5)
        n = lines(self.log)
        self.assertLessEqual(n, 7, "restarts do not back off")
        self.assertGreaterEqual(n, 4, "the command is not restarted often enough: %d starts" % n)
        # No busy loop between starts (py-mon itself, without its children).
        self.assertLess(cpu_seconds(p.p.pid) - cpu0, 0.5 * (time.monotonic() - t0))
        p.wait_stderr("app crashed - restarting")
        self.assertNotIn("waiting for file changes", p.stderr_text())

    def test_a_clean_exit_with_fail_waits_for_a_change(self):
        p = self.start(0, "--restart-on-exit=fail")
        wait_for(lambda: "clean exit - waiting for changes" in p.stderr_text(), what="the clean exit")
        # Ten times the first backoff: a restart would have come.
        time.sleep(1)
        self.assertEqual(lines(self.log), 1)
        write(self.path("src", "app.py"))
        wait_for(lambda: lines(self.log) == 2, what="the start after a change")

    def test_a_clean_exit_with_always_restarts(self):
        p = self.start(0, "--restart-on-exit=always")
        wait_for(lambda: lines(self.log) >= 3, what="two restarts")
        p.wait_stderr("clean exit - restarting")

    def test_the_config_key(self):
        write(self.path("py-mon.toml"), 'restart-on-exit = "always"\n')
        p = Proc([PYMON, "--config", "py-mon.toml", "-w", "src", "--",
                  "sh", "-c", 'echo start >> "$1"', "sh", self.log], cwd=self.dir)
        self.procs.append(p)
        wait_for(lambda: lines(self.log) >= 3, what="two restarts")


class RestartOnExitInput(TempDirTest):
    def run_pymon(self, args):
        r = subprocess.run([PYMON] + list(args), cwd=self.dir, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def refused(self, args, *needles):
        status, out, err = self.run_pymon(args)
        self.assertEqual(status, 2, err)
        self.assertEqual(err.splitlines()[1:], [HELP_POINTER], err)
        for n in needles:
            self.assertIn(n, err.splitlines()[0])

    def test_bad_input(self):
        self.refused(["--no-config", "--restart-on-exit=sometimes", "true"], "--restart-on-exit 'sometimes'",
                     "fail or always")
        self.refused(["--no-config", "--restart-on-exit", "always", "true"], "write --restart-on-exit=always")
        self.refused(["--no-config", "--restart-on-exit", "--once", "true"], "not with --once")
        self.refused(["--no-config", "--restart-on-exit", "--each", "--", "echo", "{}"], "not with --each")
        write(self.path("py-mon.toml"), 'restart-on-exit = "often"\n')
        self.refused(["true"], "py-mon.toml:1:1: restart-on-exit 'often'")

    def test_print_config(self):
        write(self.path("py-mon.toml"), "restart-on-exit = true\n")
        status, out, err = self.run_pymon(["--print-config", "true"])
        self.assertEqual(status, 0, err)
        self.assertIn('restart-on-exit = "fail"    # py-mon.toml:1:1', out)
        status, out, err = self.run_pymon(["--print-config", "--restart-on-exit=always", "true"])
        self.assertIn('restart-on-exit = "always"    # command line', out)
        status, out, err = self.run_pymon(["--no-config", "--print-config", "true"])
        self.assertIn("restart-on-exit = false    # default", out)


if __name__ == "__main__":
    import unittest
    unittest.main()
