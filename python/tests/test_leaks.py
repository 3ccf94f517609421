"""10,000 batches through .call(): Python allocations (tracemalloc) and
the process's RSS stay flat."""
import os
import tracemalloc

from pmsupport import TIMEOUT, TempDirTest

from pymon import Watcher


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class LeakTest(TempDirTest):
    BATCHES = 10000

    def test_ten_thousand_batches_through_call(self):
        got = [0]  # batches seen: a counter, so the test itself does not grow

        def count(events):
            got[0] += 1
        path = self.path("f")
        with Watcher() as w:
            w.add(self.dir).delay(0).call(count)
            w.start()
            low = w._w  # the loop, stepped here: one write, one batch
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                def one_batch():
                    n = got[0]
                    os.write(fd, b"x")
                    for _ in range(int(TIMEOUT * 20)):
                        if low.dispatch():
                            raise AssertionError("stopped")
                        if got[0] > n:
                            return
                        low.wait(0.05)
                    raise AssertionError("no batch within %.1fs after %d" % (TIMEOUT, n))

                for _ in range(1000):  # warm up: caches, arenas, the batch buffer
                    one_batch()
                rss0 = rss_kib()
                tracemalloc.start()
                snap0 = tracemalloc.take_snapshot()
                for _ in range(self.BATCHES):
                    one_batch()
                snap1 = tracemalloc.take_snapshot()
                tracemalloc.stop()
                rss1 = rss_kib()
            finally:
                os.close(fd)
        grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename"))
        if os.environ.get("PYMON_FIGURES"):
            print("\n     %d batches: Python allocations %+d bytes, RSS %+d KiB" % (self.BATCHES, grown, rss1 - rss0))
        self.assertLess(grown, 64 * 1024, "Python allocations grew by %d bytes" % grown)
        # Under ASan freed memory sits in its quarantine: RSS says nothing there.
        if not os.environ.get("PYMON_SANITIZED"):
            self.assertLess(rss1 - rss0, 1024, "RSS grew by %d KiB over %d batches" % (rss1 - rss0, self.BATCHES))
        self.assertEqual(got[0], 1000 + self.BATCHES)
