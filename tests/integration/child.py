#!/usr/bin/env python3
"""The command py-mon supervises in the tests. It appends one JSON line per
happening to $LOG (start, signals, exit), then behaves as its mode says:

  serve        sleep until signalled; on SIGTERM exit 0 after $STOP_DELAY s
  ignore-term  ignore SIGTERM (must be SIGKILLed)
  exit N       exit at once with status N
  grandchild   start a grandchild (same group) and a setsid escapee, then serve
  hup          log SIGHUP and keep running; exit 0 on SIGTERM
  fds          log the open descriptors, then exit 0
  argv         log argv, then exit 0
"""
import json
import os
import signal
import subprocess
import sys
import time

LOG = os.environ["LOG"]


def log(event, **kw):
    kw.update(event=event, pid=os.getpid(), t=time.time())
    with open(LOG, "a") as f:
        f.write(json.dumps(kw) + "\n")


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "serve"
    log("start", ppid=os.getppid(), pgid=os.getpgid(0), sid=os.getsid(0), mode=mode,
        changed=os.environ.get("PYMON_CHANGED_PATHS"), argv=sys.argv[1:],
        truncated=os.environ.get("PYMON_CHANGED_PATHS_TRUNCATED"))
    if mode == "exit":
        sys.exit(int(sys.argv[2]))
    if mode == "fds":
        log("fds", fds=sorted(int(x) for x in os.listdir("/proc/self/fd")))
        return
    if mode == "argv":
        return

    def on_term(sig, frame):
        log("term")
        time.sleep(float(os.environ.get("STOP_DELAY", "0")))
        log("exit")
        sys.exit(0)

    if mode == "ignore-term":
        signal.signal(signal.SIGTERM, lambda s, f: log("term-ignored"))
    else:
        signal.signal(signal.SIGTERM, on_term)
    if mode == "hup":
        signal.signal(signal.SIGHUP, lambda s, f: log("hup"))
    if mode == "grandchild":
        g = subprocess.Popen(["sleep", "300"])
        # An escapee: its own session, parent exits at once (double fork).
        e = subprocess.Popen(["setsid", "sh", "-c", "sleep 300 & echo $! > \"$ESC\""],
                             env=dict(os.environ, ESC=LOG + ".escapee"))
        e.wait()
        log("spawned", grandchild=g.pid)
    log("ready")
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
