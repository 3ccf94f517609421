#!/usr/bin/env python3
"""Runs the integration tests (test_*.py here) and ends with
'integration: N passed, N failed'. Arguments filter tests by substring."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Result(unittest.TextTestResult):
    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def _line(self, word, test):
        ms = (time.monotonic() - self._t0) * 1000
        self.stream.write("%-4s %s (%.0f ms)\n" % (word, test.id(), ms))
        self.stream.flush()

    def addSuccess(self, test):
        unittest.TestResult.addSuccess(self, test)
        self._line("ok", test)

    def addFailure(self, test, err):
        unittest.TestResult.addFailure(self, test, err)
        self._line("FAIL", test)
        self.stream.write(self._exc_info_to_string(err, test) + "\n")

    def addError(self, test, err):
        unittest.TestResult.addError(self, test, err)
        self._line("FAIL", test)
        self.stream.write(self._exc_info_to_string(err, test) + "\n")

    def addSkip(self, test, reason):
        unittest.TestResult.addSkip(self, test, reason)
        self._line("skip", test)
        self.stream.write("     %s\n" % reason)


def run(here, label, argv):
    """Discovers test_*.py under here, runs those whose id contains one of
    argv (all when argv is empty), prints one line per test and ends with
    'LABEL: N passed, N failed, N skipped'. Returns the exit status."""
    suite = unittest.TestLoader().discover(here, pattern="test_*.py", top_level_dir=here)

    def flatten(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                yield from flatten(t)
            else:
                yield t

    tests = [t for t in flatten(suite) if not argv or any(f in t.id() for f in argv)]
    runner = unittest.TextTestRunner(stream=sys.stdout, resultclass=Result, verbosity=0)
    result = runner.run(unittest.TestSuite(tests))
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped) - len(result.expectedFailures)
    print("%s: %d passed, %d failed, %d skipped" % (label, passed, failed, len(result.skipped)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run(HERE, "integration", sys.argv[1:]))
