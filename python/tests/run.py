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

import importlib.util  # noqa: E402

# The integration runner's result class: one output format for both runners.
_spec = importlib.util.spec_from_file_location("integration_run", os.path.join(ROOT, "tests", "integration", "run.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
Result = _mod.Result


def main():
    import pymon
    print("pymon from %s%s" % (pymon._pymon.__file__, " (ASan+UBSan)" if os.environ.get("PYMON_SANITIZED") else ""))
    suite = unittest.TestLoader().discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    filters = sys.argv[1:]

    def flatten(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                yield from flatten(t)
            else:
                yield t

    tests = [t for t in flatten(suite) if not filters or any(f in t.id() for f in filters)]
    runner = unittest.TextTestRunner(stream=sys.stdout, resultclass=Result, verbosity=0)
    result = runner.run(unittest.TestSuite(tests))
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped) - len(result.expectedFailures)
    print("python: %d passed, %d failed, %d skipped" % (passed, failed, len(result.skipped)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
