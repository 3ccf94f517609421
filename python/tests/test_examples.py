"""examples/python/ run as a user would run them; the README shows them
verbatim."""
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import unittest
import urllib.request

from pmsupport import ENV, ROOT, TIMEOUT, Proc, TempDirTest, alive, wait_for, write

EXAMPLES = os.path.join(ROOT, "examples", "python")

APP = "import os, time\nprint('run', os.getpid(), flush=True)\ntime.sleep(60)\n"


def example(name, *args, cwd):
    return Proc([sys.executable, os.path.join(EXAMPLES, name)] + list(args), cwd=cwd, env=ENV)


class ExamplesTest(TempDirTest):
    def test_chain_restarts_app_and_stops_it_on_ctrl_c(self):
        os.mkdir(self.path("src"))
        os.mkdir(self.path("tests"))
        write(self.path("app.py"), APP)
        p = example("chain.py", cwd=self.dir)
        self.procs.append(p)
        first = p.wait_line(lambda l: l.startswith("run "))
        write(self.path("src", "x.py"))
        second = p.wait_line(lambda l: l.startswith("run "))
        self.assertNotEqual(first, second)
        write(self.path("build", "ignored.py"))  # ignored: no third run
        write(self.path("tests", "debug.log"))
        write(self.path("tests", "test_x.py"))
        third = p.wait_line(lambda l: l.startswith("run "))
        self.assertEqual(len([l for l in p.seen if l.startswith("run ")]), 3, third)
        p.send(signal.SIGINT)
        self.assertNotEqual(p.wait(), 0)
        self.assertIn("KeyboardInterrupt", p.stderr_text())
        self.assertFalse(alive(int(third.split()[1])))

    def test_awatch_app_prints_changes_and_ends_on_sigterm(self):
        p = example("awatch_app.py", self.dir, cwd=self.dir)
        self.procs.append(p)
        p.wait_line(lambda l: l.startswith("watching"))
        # awatch() starts watching on its first iteration, a moment after
        # "watching": write until a change is seen.
        for i in range(int(TIMEOUT / 0.1)):
            write(self.path("a%d.log" % i))
            write(self.path("a%d.txt" % i))
            try:
                p.wait_line(lambda l: l.startswith("create "), timeout=0.1)
                break
            except AssertionError:
                pass
        else:
            self.fail("no change printed; seen: %r" % p.seen)
        self.assertEqual([l for l in p.seen if ".log" in l], [])
        p.send(signal.SIGTERM)
        p.wait_line(lambda l: l == "stopped")
        self.assertEqual(p.wait(), 0)

    def test_flask_server_restarts_on_change(self):
        try:
            import flask  # noqa: F401
        except ImportError:
            self.skipTest("flask not importable by %s (Debian: python3-flask)" % sys.executable)
        hello = "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return %r\n"
        write(self.path("hello.py"), hello % "v1")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        p = example("flask_dev.py", "hello", str(port), cwd=self.dir)
        self.procs.append(p)

        def answer():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=1) as r:
                    return r.read().decode()
            except (OSError, http.client.HTTPException):
                return None  # not up, or stopped mid-answer by the restart

        self.assertEqual(wait_for(answer, what="the server's first answer"), "v1")
        write(self.path("hello.py"), hello % "v2")
        wait_for(lambda: answer() == "v2", what="the restarted server's answer")
        p.send(signal.SIGINT)
        self.assertNotEqual(p.wait(), 0)
        wait_for(lambda: answer() is None, timeout=TIMEOUT, what="the server to be stopped")

    def test_readme_shows_the_examples_verbatim(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            readme = f.read()
        blocks = re.findall(r"<!-- example:(examples/python/\S+) -->\n```py\n(.*?)```", readme, re.S)
        self.assertEqual(sorted(b[0] for b in blocks), ["examples/python/chain.py"])
        for path, code in blocks:
            with open(os.path.join(ROOT, path)) as f:
                self.assertEqual(code, f.read(), "README block differs from %s" % path)


class TypesTest(unittest.TestCase):
    def test_examples_and_package_pass_mypy_strict(self):
        mypy = [p for p in (sys.executable, "/usr/bin/python3")
                if os.access(p, os.X_OK) and subprocess.run([p, "-m", "mypy", "--version"],
                                                            capture_output=True).returncode == 0]
        if not mypy:
            self.skipTest("mypy not installed (Debian: python3-mypy)")
        env = dict(os.environ, MYPYPATH=os.path.join(ROOT, "python"))
        files = sorted(os.path.join(EXAMPLES, f) for f in os.listdir(EXAMPLES) if f.endswith(".py"))
        r = subprocess.run([mypy[0], "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull]
                           + files, env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # The package itself, against the binding's stubs (pymon/_pymon.pyi).
        pkg = os.path.join(ROOT, "python")
        r = subprocess.run([mypy[0], "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull,
                            "pymon/__init__.py", "pymon/__main__.py"],
                           cwd=pkg, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
