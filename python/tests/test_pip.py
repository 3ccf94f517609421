"""The README's pip commands, on a copy of the source tree with nothing
built: Debian's /usr/bin/python3, a venv, pip with no package index."""
import os
import shutil
import subprocess
import tempfile
import unittest

from pmsupport import ROOT

SYSTEM_PYTHON = "/usr/bin/python3"


def can_build_wheels():
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return False
    r = subprocess.run([SYSTEM_PYTHON, "-c", "import ensurepip, setuptools, wheel, sysconfig, os;"
                        "assert os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))"],
                       capture_output=True)
    return r.returncode == 0


class PipInstallTest(unittest.TestCase):
    @unittest.skipUnless(can_build_wheels(), "needs /usr/bin/python3 with python3-dev python3-venv "
                         "python3-setuptools python3-wheel")
    def test_readme_pip_commands_on_a_fresh_copy(self):
        tmp = tempfile.mkdtemp(prefix="pymon-pip-")
        self.addCleanup(shutil.rmtree, tmp, True)
        tree = os.path.join(tmp, "py-mon")
        os.mkdir(tree)
        for d in ("include", "src", "python"):
            shutil.copytree(os.path.join(ROOT, d), os.path.join(tree, d),
                            ignore=shutil.ignore_patterns("build", "*.so", "*.egg-info", "__pycache__"))
        env = dict(os.environ, PIP_NO_INDEX="1")
        env.pop("PYTHONPATH", None)

        def run(*argv):
            r = subprocess.run(list(argv), cwd=tree, env=env, capture_output=True, text=True, timeout=600)
            self.assertEqual(r.returncode, 0, "%s: %s%s" % (argv, r.stdout[-2000:], r.stderr[-2000:]))
            return r.stdout

        run(SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", "v")
        run("v/bin/pip", "install", "--no-build-isolation", "./python")
        self.assertEqual(run("v/bin/python", "-m", "pymon", "--version").strip(), "py-mon 0.1.0")
        self.assertEqual(run("v/bin/py-mon", "--version").strip(), "py-mon 0.1.0")
        where = run("v/bin/python", "-c", "import pymon, os; print(os.path.dirname(pymon.__file__))").strip()
        self.assertTrue(where.startswith(os.path.join(tree, "v")), where)
        self.assertTrue(os.path.exists(os.path.join(where, "py.typed")))
        for f in ("__init__.pyi", "_pymon.pyi"):
            self.assertTrue(os.path.exists(os.path.join(where, f)), f)
