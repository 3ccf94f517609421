"""The planned chain: run `python3 app.py`, restart it when a file below
src/ or tests/ is created or modified (logs and build/ left out).
Usage: python3 chain.py [ROOT...]   (default: src tests)"""
import sys

from pymon import Events, Watcher

watcher = Watcher()
observer = (watcher.add(*(sys.argv[1:] or ["src", "tests"]))
                   .ignore("*.log", "build/")
                   .on(Events.CREATE | Events.MODIFY)
                   .run("python3 app.py"))
status = observer.observe()  # Ctrl-C stops app.py, then raises KeyboardInterrupt
sys.exit(status)
