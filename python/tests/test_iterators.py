"""pymon.watch() and pymon.awatch(), stop_event included."""
import asyncio
import os
import threading
import time

from pmsupport import TIMEOUT, TempDirTest, write

import pymon
from pymon import Events


class WatchTest(TempDirTest):
    def test_yields_sets_of_kind_and_path_and_ends_on_stop_event(self):
        stop = threading.Event()
        seen = []
        threading.Timer(0.1, write, [self.path("a.py")]).start()
        t0 = time.monotonic()
        for changes in pymon.watch(self.dir, delay=0.01, stop_event=stop):
            self.assertIsInstance(changes, set)
            seen.append(changes)
            if (Events.CREATE, self.path("a.py")) in changes:
                threading.Timer(0.05, stop.set).start()
            self.assertLess(time.monotonic() - t0, TIMEOUT)
        self.assertTrue(any((Events.CREATE, self.path("a.py")) in c for c in seen))
        self.assertTrue(stop.is_set())

    def test_filters(self):
        stop = threading.Event()
        got = set()

        def change():
            write(self.path("skip.log"))
            write(self.path("skip.txt"))
            write(self.path("keep.py"))

        threading.Timer(0.1, change).start()
        for changes in pymon.watch(self.dir, ignore=["*.log"], ext=["py"], delay=0.01, stop_event=stop):
            got |= changes
            if (Events.CREATE, self.path("keep.py")) in got:
                break
        self.assertEqual({p for _, p in got}, {self.path("keep.py")})

    def test_stop_event_already_set_ends_at_once(self):
        stop = threading.Event()
        stop.set()
        self.assertEqual(list(pymon.watch(self.dir, stop_event=stop)), [])

    def test_missing_path_raises(self):
        with self.assertRaises(pymon.Error):
            next(iter(pymon.watch(self.path("nope"))))


class AwatchTest(TempDirTest):
    def test_yields_on_the_loop_and_ends_on_stop_event(self):
        async def main():
            stop = asyncio.Event()
            seen = []
            ticks = 0

            async def ticker():  # the loop keeps running: no thread, no blocking
                nonlocal ticks
                while not stop.is_set():
                    ticks += 1
                    await asyncio.sleep(0.005)

            async def change():
                await asyncio.sleep(0.1)
                write(self.path("a.py"))

            tasks = [asyncio.ensure_future(ticker()), asyncio.ensure_future(change())]
            async for changes in pymon.awatch(self.dir, delay=0.01, stop_event=stop):
                seen.append(changes)
                if (Events.CREATE, self.path("a.py")) in changes:
                    asyncio.get_running_loop().call_later(0.05, stop.set)
            await asyncio.gather(*tasks)
            return seen, ticks

        t0 = time.monotonic()
        seen, ticks = asyncio.run(asyncio.wait_for(main(), TIMEOUT))
        self.assertLess(time.monotonic() - t0, TIMEOUT)
        self.assertTrue(any((Events.CREATE, self.path("a.py")) in c for c in seen))
        self.assertGreater(ticks, 10)
        self.assertEqual(threading.active_count(), 1)

    def test_modify_and_delete(self):
        write(self.path("f"))

        async def main():
            got = set()

            async def change():
                await asyncio.sleep(0.1)
                with open(self.path("f"), "a") as fh:
                    fh.write("y")
                await asyncio.sleep(0.1)
                os.unlink(self.path("f"))

            task = asyncio.ensure_future(change())
            async for changes in pymon.awatch(self.dir, delay=0.01):
                got |= changes
                if (Events.DELETE, self.path("f")) in got:
                    break
            await task
            return got

        got = asyncio.run(asyncio.wait_for(main(), TIMEOUT))
        self.assertIn((Events.MODIFY, self.path("f")), got)
