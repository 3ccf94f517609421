"""An asyncio app that reacts to changes with awatch(): no thread, the
watcher's descriptor is on the event loop. SIGTERM or SIGINT ends it cleanly.
Usage: python3 awatch_app.py [ROOT]   (default: .)"""
import asyncio
import signal
import sys

import pymon


async def main(root: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("watching", root, flush=True)
    async for changes in pymon.awatch(root, ignore=["*.log"], stop_event=stop):
        for kind, path in sorted(changes):
            print((kind.name or str(int(kind))).lower(), path, flush=True)
    print("stopped", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "."))
