"""pymon: watch file trees with Linux inotify and act on debounced changes.

The Python face of libpymon (the C library of py-mon), compiled into this
package::

    from pymon import Watcher, Events
    watcher = Watcher()
    observer = (watcher.add("src", "tests")
                       .ignore("*.log", "build/")
                       .on(Events.CREATE | Events.MODIFY)
                       .run("python3 app.py"))
    status = observer.observe()

or, in the shape of watchfiles::

    for changes in pymon.watch("src"):
        print(changes)          # {(Events.MODIFY, "src/app.py"), ...}

Delays and timeouts are in seconds (floats), as everywhere in Python.
Callbacks run on the thread that called observe(); the GIL is released
while it waits, and Ctrl-C raises KeyboardInterrupt after stopping any
supervised command.
"""
from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import signal as _signal
import threading
from typing import (Any, AsyncIterator, Callable, Iterable, Iterator, List, NamedTuple, Optional,
                    Sequence, Set, Tuple, Union)

from . import _pymon
from ._pymon import Error

__all__ = ["Watcher", "Observer", "Events", "Event", "Command", "Error", "watch", "awatch",
           "__version__"]
__version__: str = _pymon.VERSION

StrPath = Union[str, "os.PathLike[str]"]

# How often a blocked wait looks at a threading.Event given as stop_event
# (it has no descriptor), and at signals when they cannot wake the wait.
_POLL = 0.05


@contextlib.contextmanager
def _signals_wake(low: Any) -> Iterator[Optional[float]]:
    """On the main thread, points signal.set_wakeup_fd() at the watcher's
    wake pipe, so a signal caught on any thread (Ctrl-C) ends the wait at
    once and the wait needs no timeout: an idle watcher never wakes up.
    Yields the timeout to wait with."""
    try:
        old = _signal.set_wakeup_fd(low.wakeup_fd(), warn_on_full_buffer=False)
    except ValueError:  # not the main thread: signals are raised elsewhere
        yield None if threading.current_thread() is not threading.main_thread() else _POLL
        return
    try:
        yield None
    finally:
        _signal.set_wakeup_fd(old)


class Events(enum.IntFlag):
    """Kinds of change. Combine them with ``|`` for :meth:`Observer.on`.

    RESCAN is not a filter: it is delivered whatever the mask, when the
    kernel queue overflowed and changes below its path may have been missed.
    """
    CREATE = _pymon.CREATE
    DELETE = _pymon.DELETE
    MODIFY = _pymon.MODIFY  #: content written, or attributes (touch, chmod)
    MOVE = _pymon.MOVE      #: renamed inside the watched tree; Event.from_path is set
    ALL = _pymon.ALL
    RESCAN = _pymon.RESCAN


class Event(NamedTuple):
    """One change of a batch. ``path`` is the root as given joined with the
    path below it; ``from_path`` is the path before a MOVE, else None."""
    kind: Events
    path: str
    from_path: Optional[str]
    is_dir: bool


_BUSY = {"restart": _pymon.BUSY_RESTART, "queue": _pymon.BUSY_QUEUE,
         "ignore": _pymon.BUSY_IGNORE, "signal": _pymon.BUSY_SIGNAL}


class Command:
    """A supervised command for :meth:`Observer.run`.

    cmd: a str is a command line with the CLI's rules (a simple one is
    exec'd directly, shell syntax runs with /bin/sh -c); a list of str runs
    without a shell. signal: the stop signal (default SIGTERM); after
    stop_timeout seconds (default 5.0) what is left of the tree is killed.
    on_busy: what a change does while the command runs: "restart" (stop the
    whole tree, start again), "queue" (let it finish, run once more),
    "ignore", or "signal" (only send `signal`, e.g. SIGHUP). postpone: do
    not start before the first change. once: run once, then observe()
    returns its exit status.
    """

    __slots__ = ("cmd", "signal", "stop_timeout", "on_busy", "postpone", "once")

    def __init__(self, cmd: Union[str, Sequence[StrPath]], signal: int = _signal.SIGTERM,
                 stop_timeout: float = 5.0, on_busy: str = "restart", postpone: bool = False,
                 once: bool = False) -> None:
        if isinstance(cmd, (str, os.PathLike)):
            self.cmd: Union[str, List[str]] = os.fspath(cmd)
            if not self.cmd.strip():
                raise ValueError("Command: empty command")
        else:
            self.cmd = [os.fspath(a) for a in cmd]
            if not self.cmd:
                raise ValueError("Command: empty argument list")
        if on_busy not in _BUSY:
            raise ValueError("Command: on_busy must be one of %s, not %r" % (", ".join(_BUSY), on_busy))
        if not stop_timeout > 0:
            raise ValueError("Command: stop_timeout must be > 0 seconds, not %r" % (stop_timeout,))
        self.signal = int(signal)
        self.stop_timeout = float(stop_timeout)
        self.on_busy = on_busy
        self.postpone = postpone
        self.once = once

    def __repr__(self) -> str:
        return "Command(%r, signal=%d, stop_timeout=%g, on_busy=%r, postpone=%r, once=%r)" % (
            self.cmd, self.signal, self.stop_timeout, self.on_busy, self.postpone, self.once)


def _ms(seconds: float, what: str) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError("%s: seconds as a number, not %r" % (what, seconds))
    if not 0 <= seconds <= 86400:
        raise ValueError("%s: seconds between 0 and 86400, not %r" % (what, seconds))
    return int(round(seconds * 1000))


class Observer:
    """Roots, filters, event kinds, a delay and an action, on one Watcher.

    Made by :meth:`Watcher.add`. Every configuring method returns the
    observer, so calls chain. Configure it before observe() starts.
    """

    def __init__(self, watcher: "Watcher", low: Any) -> None:
        self.watcher = watcher
        self._o = low

    def _configurable(self) -> Any:
        if self.watcher._started:
            raise RuntimeError("configure observers before the watcher starts (observe() or start())")
        return self._o

    def add(self, *paths: StrPath) -> "Observer":
        """Adds roots: directories (watched recursively) or files (their
        directory is watched, events filtered by name). Raises Error
        (ENOENT...) naming the path."""
        for p in paths:
            self._configurable().add(os.fspath(p))
        return self

    def ignore(self, *patterns: str) -> "Observer":
        """Ignores paths matching gitignore-syntax patterns ("*.log",
        "build/", "/tmp", "!keep.log", "**"), relative to the root."""
        for p in patterns:
            self._configurable().ignore(p)
        return self

    def ext(self, *exts: str) -> "Observer":
        """Only files with these extensions ("py", ".html")."""
        if not exts:
            raise ValueError("ext: give at least one extension")
        for e in exts:
            if not e.strip(" .,"):
                raise ValueError("ext: empty extension %r" % (e,))
        self._configurable().ext(",".join(exts))
        return self

    def on(self, kinds: Events) -> "Observer":
        """The kinds that make up a batch (default Events.ALL)."""
        k = int(kinds)
        if not k & int(Events.ALL) or k & ~int(Events.ALL | Events.RESCAN):
            raise ValueError("on: expected a combination of Events.CREATE/DELETE/MODIFY/MOVE, not %r"
                             % (kinds,))
        self._configurable().on(k & int(Events.ALL))
        return self

    def delay(self, seconds: float) -> "Observer":
        """The quiet period before a batch fires, in seconds (default 0.05)."""
        self._configurable().delay(_ms(seconds, "delay"))
        return self

    def defaults(self, default_ignore: bool = True, vcs_ignore: bool = True,
                 git_lock_wait: bool = True) -> "Observer":
        """Turns off the default ignores (.git/, __pycache__/, *.pyc...),
        the VCS ignore files (.gitignore...) or the wait on .git/index.lock."""
        self._configurable().flags((0 if default_ignore else _pymon.NO_DEFAULT_IGNORE)
                      | (0 if vcs_ignore else _pymon.NO_VCS_IGNORE)
                      | (0 if git_lock_wait else _pymon.NO_GIT_LOCK_WAIT))
        return self

    def call(self, fn: Callable[[List[Event]], Any]) -> "Observer":
        """Action: fn(events) once per debounced batch, on the observing
        thread, with a list of Event. An exception in fn stops the watcher
        and is raised again by observe()."""
        def batch(raw: List[Tuple[int, str, Optional[str], bool]], dropped: int) -> None:
            fn([Event(Events(k), p, f, d) for k, p, f, d in raw])
        self._configurable().callback(batch)
        return self

    def run(self, command: Union[str, Sequence[StrPath], Command]) -> "Observer":
        """Action: run a command and restart it on each batch (see Command).
        The command runs in its own process group, gets PYMON_CHANGED_PATHS,
        and never takes the terminal (stdin is /dev/null)."""
        c = command if isinstance(command, Command) else Command(command)
        flags = _pymon.RUN_NO_TTY | (_pymon.RUN_POSTPONE if c.postpone else 0) \
            | (_pymon.RUN_ONCE if c.once else 0)
        self._configurable().run(c.cmd, signal=c.signal, stop_timeout_ms=max(1, _ms(c.stop_timeout, "stop_timeout")),
                    on_busy=_BUSY[c.on_busy], flags=flags)
        return self

    def each(self, argv: Sequence[StrPath], jobs: int = 1, once: bool = False) -> "Observer":
        """Action: run argv once per changed path, "{}" in any argument
        replaced by the path (no shell), at most `jobs` at once. once:
        return after the first batch's jobs (0 if all succeeded, else 1)."""
        if isinstance(argv, (str, bytes)):
            raise TypeError("each: argv is a list of arguments, not a string")
        if not 1 <= jobs <= 1024:
            raise ValueError("each: jobs between 1 and 1024, not %r" % (jobs,))
        self._configurable().each([os.fspath(a) for a in argv], jobs=jobs, flags=_pymon.RUN_ONCE if once else 0)
        return self

    def restart(self) -> None:
        """Restarts the command now, as if a change had arrived."""
        self._o.restart()

    def explain(self, path: StrPath, is_dir: bool = False) -> Tuple[bool, str]:
        """Whether `path` (relative to the first root) is ignored, and why."""
        ignored, why = self._o.explain(os.fspath(path), is_dir)
        return bool(ignored), str(why)

    def observe(self) -> int:
        """Runs the watcher of this observer (every observer of it); see
        :meth:`Watcher.observe`."""
        return self.watcher.observe()


def _poll_mode(poll: Union[None, bool, float]) -> Tuple[int, int]:
    if poll is None:
        return _pymon.POLL_AUTO, 0
    if poll is True or poll is False:
        return (_pymon.POLL_ALWAYS if poll else _pymon.POLL_NEVER), 0
    if not isinstance(poll, (int, float)):
        raise TypeError("poll: expected None, a bool or seconds (a number), got %s" % type(poll).__name__)
    if not 0.001 <= poll <= 3600:
        raise ValueError("poll: an interval from 0.001 to 3600 seconds, got %r" % poll)
    return _pymon.POLL_ALWAYS, int(round(poll * 1000))


class Watcher:
    """One inotify instance and one event loop, holding observers.

    ``with Watcher() as w:`` closes it (stopping any command) at the end.
    A watcher observes once: after observe() returns, make a new one.
    """

    def __init__(self, *, poll: Union[None, bool, float] = None, poll_on_limit: bool = False) -> None:
        """poll: None chooses by file system (polling only where inotify is
        blind: NFS, SMB, 9p, FUSE...; PYMON_POLL may force it), True polls
        everything every 0.5 s, a number of seconds polls everything at
        that interval, False never polls. poll_on_limit: poll what the
        inotify watch limit leaves unwatched instead of raising ENOSPC."""
        mode, interval_ms = _poll_mode(poll)
        self._w = _pymon.Watcher()
        try:
            if mode != _pymon.POLL_AUTO or poll_on_limit:
                self._w.poll(mode, interval_ms, _pymon.POLL_ON_LIMIT if poll_on_limit else 0)
        except BaseException:
            self._w.close()
            raise
        self._observers: List[Observer] = []
        self._observing = False
        self._started = False

    def add(self, *paths: StrPath) -> Observer:
        """A new observer watching these paths (str or os.PathLike, files or
        directories); configure it by chaining."""
        if self._started:
            raise RuntimeError("add observers before the watcher starts (observe() or start())")
        o = Observer(self, self._w.observer())
        self._observers.append(o)
        return o.add(*paths)

    def start(self) -> None:
        """Scans every root and adds the watches now; observe() does it if
        needed. Raises Error (e.g. ENOSPC naming fs.inotify.max_user_watches)."""
        if not self._started:
            self._w.start()
            self._started = True

    def observe(self) -> int:
        """Runs every observer until stop() (or a `once` command ends) and
        returns the status. Blocks; the GIL is released while waiting.
        Raises what a callback raised, KeyboardInterrupt on Ctrl-C, or
        Error; in each case the command trees are stopped first."""
        if self._observing:
            raise RuntimeError("observe: this watcher is already observing")
        self._observing = True
        w = self._w
        try:
            self.start()
            with _signals_wake(w) as timeout:
                while not w.dispatch():
                    w.wait(timeout)
            return int(w.status())
        except BaseException:
            self._shutdown()
            raise
        finally:
            self._observing = False

    def _shutdown(self) -> None:
        """Stops every command tree gracefully, a second Ctrl-C killing at
        once."""
        w = self._w
        if w.closed:
            return
        w.terminate(1)
        while True:
            try:
                while not w.dispatch():
                    w.wait(_POLL)
                return
            except KeyboardInterrupt:
                w.terminate(1)
            except BaseException:
                w.close()
                return

    def stop(self, status: int = 0) -> None:
        """Makes observe() return `status`; no callback runs after it. Safe
        from a callback or from another thread. Commands are stopped first
        (stop signal, grace, SIGKILL) and observe() returns once they are
        gone."""
        self._w.terminate(status)

    def fileno(self) -> int:
        """The loop's epoll descriptor: readable when there is work (for
        embedding in another loop)."""
        return int(self._w.fileno())

    @property
    def watch_count(self) -> int:
        """Directories watched (inotify watches held)."""
        return int(self._w.watch_count())

    def close(self) -> None:
        """Stops everything (commands are killed) and frees the watcher."""
        self._w.close()

    @property
    def closed(self) -> bool:
        """True once close() was called (or the with block ended)."""
        return bool(self._w.closed)

    def __enter__(self) -> "Watcher":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


Change = Tuple[Events, str]


def _watcher_for(paths: Sequence[StrPath], ignore: Iterable[str], ext: Iterable[str], delay: float,
                 events: Events, batches: List[Set[Change]], poll: Union[None, bool, float]) -> Watcher:
    if not paths:
        raise ValueError("watch: give at least one path")
    w = Watcher(poll=poll)
    try:
        o = w.add(*paths).on(events).delay(delay)
        ignore = list(ignore)
        if ignore:
            o.ignore(*ignore)
        ext = list(ext)
        if ext:
            o.ext(*ext)
        o.call(lambda evs: batches.append({(e.kind, e.path) for e in evs}))
    except BaseException:
        w.close()
        raise
    return w


def watch(*paths: StrPath, ignore: Iterable[str] = (), ext: Iterable[str] = (), delay: float = 0.05,
          events: Events = Events.ALL, stop_event: Optional[threading.Event] = None,
          poll: Union[None, bool, float] = None) -> Iterator[Set[Change]]:
    """Yields a set of (Events, path) per debounced batch of changes below
    `paths`, until `stop_event` (a threading.Event) is set or the caller
    stops iterating. A move yields (Events.MOVE, new path). delay is in
    seconds; poll as Watcher(poll=...). Ctrl-C raises KeyboardInterrupt."""
    batches: List[Set[Change]] = []
    with _watcher_for(paths, ignore, ext, delay, events, batches, poll) as w:
        low = w._w
        low.start()
        while True:
            if stop_event is not None and stop_event.is_set():
                return
            if low.dispatch():
                return
            while batches:
                yield batches.pop(0)
                if stop_event is not None and stop_event.is_set():
                    return
            # Not across the yield: the consumer's code runs with its own
            # signal setup.
            with _signals_wake(low) as timeout:
                low.wait(_POLL if stop_event is not None else timeout)


async def awatch(*paths: StrPath, ignore: Iterable[str] = (), ext: Iterable[str] = (),
                 delay: float = 0.05, events: Events = Events.ALL,
                 stop_event: Optional[asyncio.Event] = None,
                 poll: Union[None, bool, float] = None) -> AsyncIterator[Set[Change]]:
    """watch() on the running asyncio loop: the watcher's descriptor is
    registered with loop.add_reader (no thread). Ends when `stop_event` (an
    asyncio.Event) is set."""
    loop = asyncio.get_running_loop()
    batches: List[Set[Change]] = []
    with _watcher_for(paths, ignore, ext, delay, events, batches, poll) as w:
        low = w._w
        low.start()
        ready = asyncio.Event()
        fd = w.fileno()
        loop.add_reader(fd, ready.set)
        stopper = asyncio.ensure_future(stop_event.wait()) if stop_event is not None else None
        try:
            while True:
                if stop_event is not None and stop_event.is_set():
                    return
                ready.clear()
                if low.dispatch():
                    return
                while batches:
                    yield batches.pop(0)
                    if stop_event is not None and stop_event.is_set():
                        return
                if ready.is_set():
                    continue
                waiter = asyncio.ensure_future(ready.wait())
                try:
                    await asyncio.wait([waiter] + ([stopper] if stopper else []),
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
        finally:
            loop.remove_reader(fd)
            if stopper is not None:
                stopper.cancel()
