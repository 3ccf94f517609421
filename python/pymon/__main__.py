"""``python3 -m pymon``: the py-mon command-line tool (same options, output
and exit codes as the binary; the C CLI runs in this process). The
``py-mon`` console script that pip installs calls main() too.

    python3 -m pymon run "python3 app.py"
    python3 -m pymon -e py,html "flask --app app run --no-reload"
"""
import signal
import sys
from typing import List, Optional

from . import _pymon


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the CLI with argv (default sys.argv[1:]); returns its exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    # The CLI handles its own signals (through a signalfd); Python's handlers
    # must not turn Ctrl-C into an exception it cannot see.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(s, signal.SIG_DFL)
    sys.stdout.flush()
    sys.stderr.flush()
    return int(_pymon.cli_main(["py-mon"] + args))


if __name__ == "__main__":
    sys.exit(main())
