#!/usr/bin/env python3
"""Interoperability, robustness and durability tests of Apus against real clients.

    python3 tests/interop/run.py [--apus PATH] [-k PATTERN] [-v]

Each test class starts its own `apus dev`/`apus serve` on free 127.0.0.1 ports and stops it by PID.
Needs: python3 (stdlib only), swaks, openssl. The last line printed is `N passed, N failed`;
the exit status is non-zero when anything failed.
"""
import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True      # no __pycache__ in the source tree


class CountingResult(unittest.TextTestResult):
    """Counts each test once: failed if the test or any of its subtests failed or errored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome = {}

    def _mark(self, test, ok):
        key = test.id()
        self.outcome[key] = self.outcome.get(key, True) and ok

    def addSuccess(self, test):
        super().addSuccess(test)
        self._mark(test, True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._mark(test, False)

    def addError(self, test, err):
        super().addError(test, err)
        self._mark(test, False)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._mark(test, False)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._mark(test, False)          # a skipped interop test is a missing peer: count it as failed

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._mark(test, True)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._mark(test, False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--apus", default=os.path.join(ROOT, ".build/debug/apus"), help="the apus binary")
    ap.add_argument("-k", dest="patterns", action="append", help="only tests whose name contains PATTERN")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    import apusctl
    apusctl.APUS = os.path.abspath(args.apus)
    if not os.access(apusctl.APUS, os.X_OK):
        print(f"no apus binary at {apusctl.APUS} (build it with: swift build --product apus)")
        print("0 passed, 1 failed")
        return 1

    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [f"*{p}*" for p in args.patterns]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(verbosity=2 if args.verbose else 1, resultclass=CountingResult,
                                     stream=sys.stdout)
    t0 = time.monotonic()
    result = runner.run(suite)
    passed = sum(1 for ok in result.outcome.values() if ok)
    failed = sum(1 for ok in result.outcome.values() if not ok)
    print(f"interop suite: {time.monotonic() - t0:.1f} s, apus = {apusctl.APUS}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
