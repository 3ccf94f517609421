"""Input py-mon used to take silently wrong (issue 11 items 6 and 7, issue
9's one-command-per-table rule): each case is refused with exit status 2 and
a message naming the flag, or FILE:LINE:COL, or accepted as documented."""
import os
import stat
import subprocess
import time

from support import PYMON, TIMEOUT, TempDirTest, write


class InputTest(TempDirTest):
    def run_pymon(self, args, timeout=TIMEOUT, stdin=subprocess.DEVNULL, **kw):
        try:
            r = subprocess.run([PYMON] + list(args), cwd=self.dir, stdin=stdin, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=timeout, **kw)
        except subprocess.TimeoutExpired:
            self.fail("py-mon %r did not exit within %.0fs" % (args, timeout))
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    def refused(self, args, *needles):
        status, out, err = self.run_pymon(args)
        self.assertEqual(status, 2, "py-mon %r: status %d, stderr %r" % (args, status, err))
        first = err.splitlines()[0] if err else ""
        self.assertTrue(first.startswith("py-mon: "), err)
        for n in needles:
            self.assertIn(n, first, "py-mon %r" % (args,))
        return first


class OneCommandPerTable(InputTest):
    def test_command_and_exec_in_one_table_are_refused_naming_both(self):
        write(self.path("py-mon.toml"), 'delay = "10ms"\ncommand = "echo a"\n\nexec = ["echo", "b"]\n')
        self.refused(["--print-config"], "py-mon.toml:4:1", "'exec'", "'command'", "py-mon.toml:2:1")

    def test_each_and_command_in_a_rule_are_refused(self):
        write(self.path("py-mon.toml"), '[[rule]]\nname = "x"\neach = ["true", "{}"]\ncommand = "true"\n')
        self.refused(["--print-config"], "py-mon.toml:4:1", "py-mon.toml:3:1")


class Exec(InputTest):
    def test_exec_is_the_command(self):
        status, _, err = self.run_pymon(["--once", "-x", "exit 7"])
        self.assertEqual(status, 7, err)
        status, _, err = self.run_pymon(["--once", "--exec=exit 5"])
        self.assertEqual(status, 5, err)

    def test_exec_runs_a_script_like_the_positional_command(self):
        write(self.path("app.py"), "import sys; sys.exit(4)\n")
        status, _, err = self.run_pymon(["--once", "-x", "app.py"])
        self.assertEqual(status, 4, err)

    def test_exec_and_a_positional_command_are_refused(self):
        self.refused(["-x", "true", "false"], "--exec 'true'", "'false'")
        self.refused(["-x", "true", "--", "false"], "--exec 'true'")
        self.refused(["-x", "true", "-x", "false"], "twice")
