"""py-mon in a real terminal (tmux): the child shares py-mon's foreground
process group, so input() and breakpoint() work, Ctrl-C ends the child's
tree and py-mon (once, whatever the child does with SIGINT), and Ctrl-Z/fg
stop and resume both."""
import os
import shutil
import subprocess
import sys
import time
import unittest

from support import PYMON, TempDirTest, wait_for, write


@unittest.skipUnless(shutil.which("tmux"), "tmux is not installed")
class Terminal(TempDirTest):
    def setUp(self):
        super().setUp()
        self.sock = "pymon-test-%d-%d" % (os.getpid(), int(time.time() * 1000) % 100000)

    def tearDown(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)
        super().tearDown()

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.sock] + list(args), capture_output=True, text=True)

    def start(self, script_body, args=""):
        write(self.path("app.py"), script_body)
        shell = "cd '%s' && '%s' --no-color %s -w app.py '%s app.py'; echo PYMON-EXIT=$?; sleep 60" % (
            self.dir, PYMON, args, sys.executable)
        r = self.tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", "t", shell)
        self.assertEqual(r.returncode, 0, r.stderr)

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "t").stdout

    def wait_screen(self, text):
        return wait_for(lambda: text in self.screen() and self.screen(), what="%r on screen" % text)

    def test_input_reaches_the_child_and_ctrl_c_ends_both(self):
        self.start("name = input('name? ')\nprint('hello', name, flush=True)\n"
                   "import time\ntime.sleep(600)\n")
        self.wait_screen("name?")
        self.tmux("send-keys", "-t", "t", "world", "Enter")
        self.wait_screen("hello world")
        self.tmux("send-keys", "-t", "t", "C-c")
        self.wait_screen("PYMON-EXIT=130")

    def app_pids(self):
        return [int(p) for p in os.listdir("/proc") if p.isdigit() and self.is_app(int(p))]

    def is_app(self, pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                return f.read().split(b"\0")[1:2] == [b"app.py"]
        except OSError:
            return False

    def test_one_ctrl_c_ends_a_server_that_catches_sigint(self):
        # Flask, uvicorn, Django and gunicorn catch SIGINT and exit 0.
        self.start("import signal, sys, time\n"
                   "signal.signal(signal.SIGINT, lambda *a: (print('bye', flush=True), sys.exit(0)))\n"
                   "print('serving', flush=True)\ntime.sleep(600)\n")
        self.wait_screen("serving")
        pids = self.app_pids()
        self.assertTrue(pids)
        self.tmux("send-keys", "-t", "t", "C-c")
        self.wait_screen("PYMON-EXIT=130")
        self.assertNotIn("waiting for", self.screen().split("bye")[-1])
        wait_for(lambda: not self.app_pids(), what="the app to be gone")

    def test_second_ctrl_c_skips_the_grace_period(self):
        # The app ignores SIGINT and SIGTERM; the stop timeout is long.
        self.start("import signal, time\n"
                   "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                   "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                   "print('stubborn', flush=True)\ntime.sleep(600)\n", args="-t 60s")
        self.wait_screen("stubborn")
        self.tmux("send-keys", "-t", "t", "C-c")
        time.sleep(0.3)  # a first Ctrl-C alone does not end it (60 s grace)
        self.assertNotIn("PYMON-EXIT", self.screen())
        self.tmux("send-keys", "-t", "t", "C-c")
        self.wait_screen("PYMON-EXIT=130")
        wait_for(lambda: not self.app_pids(), what="the app to be killed")

    def test_breakpoint_gives_a_working_pdb(self):
        self.start("x = 41\nbreakpoint()\nprint('answer', x + 1, flush=True)\n"
                   "import time\ntime.sleep(600)\n")
        self.wait_screen("(Pdb)")
        self.tmux("send-keys", "-t", "t", "p x", "Enter")
        self.wait_screen("41")
        self.tmux("send-keys", "-t", "t", "c", "Enter")
        self.wait_screen("answer 42")
        # A change restarts it: the new run stops at the breakpoint again.
        write(self.path("app.py"), "print('second run', flush=True)\nimport time\ntime.sleep(600)\n")
        self.wait_screen("second run")
        self.tmux("send-keys", "-t", "t", "C-c")
        self.wait_screen("PYMON-EXIT=130")

    def test_ctrl_z_stops_both_and_fg_resumes(self):
        write(self.path("app.py"), "import time\nfor i in range(10**6):\n    print('tick', i, flush=True)\n"
              "    time.sleep(0.2)\n")
        shell = "cd '%s' && exec bash --norc --noprofile -i" % self.dir
        r = self.tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", "t", shell)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.tmux("send-keys", "-t", "t", "PS1='READY$ '; '%s' --no-color -w app.py '%s app.py'" % (PYMON, sys.executable),
                  "Enter")
        self.wait_screen("tick 2")
        self.tmux("send-keys", "-t", "t", "C-z")
        self.wait_screen("Stopped")
        self.tmux("send-keys", "-t", "t", "clear; fg", "Enter")
        self.wait_screen("tick")
        self.tmux("send-keys", "-t", "t", "C-c")
        self.wait_screen("READY$")
