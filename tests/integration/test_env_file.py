"""--env-file: .env variables in the command's environment at each start,
the file watched (editing it restarts the command, whatever -e says), and
bad files refused with FILE:LINE."""
import os
import subprocess
import sys
import time

from support import PYMON, TIMEOUT, Proc, TempDirTest, wait_for, write

SHOW = "import os; print('env', os.environ.get('FOO'), os.environ.get('BAR'), os.environ.get('QUOTED'), flush=True)"


class EnvFile(TempDirTest):
    def start(self, *args):
        p = Proc([PYMON, "--no-config", "-d", "20"] + list(args) + ["--", sys.executable, "-c", SHOW],
                 cwd=self.dir)
        self.procs.append(p)
        return p

    def env_line(self, p):
        return p.wait_line(lambda l: l.startswith("env "))

    def test_variables_reach_the_command_and_an_edit_restarts_it(self):
        write(self.path(".env"), "# settings\nexport FOO=one\nQUOTED=\"a b\\tc\"\n")
        write(self.path("more.env"), "BAR='$HOME' # literal\nFOO=two\n")
        p = self.start("-e", "py", "--env-file", ".env", "--env-file", "more.env")
        self.assertEqual(self.env_line(p), "env two $HOME a b\tc")
        # -e py: the .env file is watched on its own.
        write(self.path("more.env"), "BAR=changed\n")
        self.assertEqual(self.env_line(p), "env one changed a b\tc")
        # A variable the file stops setting is gone again.
        write(self.path("more.env"), "\n")
        self.assertEqual(self.env_line(p), "env one None a b\tc")

    def test_an_env_file_in_the_watched_tree_restarts_once(self):
        write(self.path(".env"), "FOO=1\n")
        p = self.start("--env-file", ".env")
        self.assertEqual(self.env_line(p), "env 1 None None")
        write(self.path(".env"), "FOO=2\n")
        self.assertEqual(self.env_line(p), "env 2 None None")
        # "restarting", or "starting" when the command had already ended.
        wait_for(lambda: "starting due to changes: .env" in p.stderr_text(), what="the restart line")
        time.sleep(0.3)
        err = p.stderr_text()
        self.assertEqual(err.count("due to changes"), 1, err)
        self.assertEqual(err.count("starting `"), 2, err)

    def test_files_win_over_the_environment_and_give_it_back(self):
        # An ignore file listing .env does not stop it from being watched.
        write(self.path(".ignore"), ".env\n")
        write(self.path(".env"), "FOO=file\n")
        env = dict(os.environ, FOO="outer", BAR="outer-bar")
        p = Proc([PYMON, "--no-config", "-d", "20", "--env-file", ".env", "--", sys.executable, "-c", SHOW],
                 cwd=self.dir, env=env)
        self.procs.append(p)
        self.assertEqual(self.env_line(p), "env file outer-bar None")
        write(self.path(".env"), "BAR=file-bar\n")
        self.assertEqual(self.env_line(p), "env outer file-bar None")

    def test_a_broken_edit_keeps_the_previous_values(self):
        write(self.path(".env"), "FOO=1\n")
        p = self.start("--env-file", ".env")
        self.assertEqual(self.env_line(p), "env 1 None None")
        write(self.path(".env"), "FOO=2\nBAR\n")
        wait_for(lambda: ".env:2: expected '=' after BAR (the environment is unchanged)" in p.stderr_text(),
                 what="the warning")
        self.assertEqual(self.env_line(p), "env 1 None None")

    def run_pymon(self, args):
        r = subprocess.run([PYMON, "--no-config"] + args, cwd=self.dir, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
        return r.returncode, r.stderr.decode()

    def test_bad_files_are_refused_naming_file_and_line(self):
        marker = self.path("started")
        write(self.path(".env"), "A=1\n\nB='unterminated\n")
        status, err = self.run_pymon(["--env-file", ".env", "touch " + marker])
        self.assertEqual(status, 2, err)
        self.assertEqual(err.splitlines()[0], "py-mon: .env:3: unterminated single-quoted value of B")
        status, err = self.run_pymon(["--env-file", "missing.env", "touch " + marker])
        self.assertEqual(status, 2, err)
        self.assertIn("--env-file 'missing.env': No such file or directory", err)
        os.mkfifo(self.path("fifo.env"))
        status, err = self.run_pymon(["--env-file", "fifo.env", "touch " + marker])
        self.assertEqual(status, 2, err)
        self.assertIn("not a regular file", err)
        self.assertFalse(os.path.exists(marker))

    def test_env_file_in_the_config_is_relative_to_it(self):
        write(self.path("conf", "py-mon.toml"), 'env-file = ["../.env"]\n')
        write(self.path(".env"), "FOO=fromconf\n")
        r = subprocess.run([PYMON, "--config", "conf/py-mon.toml", "--once", "--", sys.executable, "-c", SHOW],
                           cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode().splitlines(), ["env fromconf None None"])
