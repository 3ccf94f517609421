#!/usr/bin/env python3
"""Runs the Python package tests (test_*.py here) with the integration
runner's output and ends with 'python: N passed, N failed, N skipped'.
Imports pymon from python/ (the in-place build of `make test`), or from
sys.path when PYMON_INSTALLED=1 (a pip-installed package). Arguments
filter tests by substring."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))

# make test SANITIZE=1: the ASan + UBSan build of the extension, with the
# runtimes preloaded (Python itself is not instrumented: no leak report).
if os.environ.get("PYMON_PYTHON_LIB") and "PYMON_SANITIZED" not in os.environ:
    env = dict(os.environ, PYMON_SANITIZED="1", PYMON_INSTALLED="1",
               LD_PRELOAD=os.environ.get("PYMON_SANITIZE_PRELOAD", ""),
               ASAN_OPTIONS="detect_leaks=0:" + os.environ.get("ASAN_OPTIONS", ""),
               PYTHONPATH=os.pathsep.join(filter(None, [os.environ["PYMON_PYTHON_LIB"],
                                                        os.environ.get("PYTHONPATH")])))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
if os.environ.get("PYMON_INSTALLED") != "1":
    sys.path.insert(0, os.path.dirname(HERE))

from run import run  # noqa: E402  (tests/integration/run.py: one output format for both runners)


def main():
    import pymon
    print("pymon from %s%s" % (pymon._pymon.__file__, " (ASan+UBSan)" if os.environ.get("PYMON_SANITIZED") else ""))
    sys.exit(run(HERE, "python", sys.argv[1:]))


if __name__ == "__main__":
    main()
