"""A Flask dev server restarted by pymon on every .py or .html change
(Flask's own reloader off: pymon is the reloader).
Usage: python3 flask_dev.py APP [PORT]   e.g. python3 flask_dev.py hello 5000"""
import sys

from pymon import Command, Watcher

app = sys.argv[1] if len(sys.argv) > 1 else "app"
port = sys.argv[2] if len(sys.argv) > 2 else "5000"
server = Command([sys.executable, "-m", "flask", "--app", app, "run", "--no-reload", "--port", port],
                 stop_timeout=2.0)
with Watcher() as watcher:
    sys.exit(watcher.add(".").ext("py", "html").run(server).observe())
