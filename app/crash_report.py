"""What the app keeps when it goes wrong, for the photographer and for a bug report.

A Python error that escapes a Qt slot or a thread only reaches `sys.excepthook`, which prints it to a
terminal a double-clicked app does not have: the user saw nothing and the log file held nothing. `catch_errors`
logs it with its traceback and says so in the window, once per place it comes from (an error in a paint would
otherwise come 60 times a second). A crash of the process itself (a segfault in Qt or a library) leaves no
Python traceback at all: `watch_for_crashes` has `faulthandler` write every thread's stack into the log folder,
and the next start's `take_previous_crash` keeps that report under its own name and says so once. So does a
window that stopped responding and was closed by force (`HangWatch`): a deadlock leaves no trace otherwise.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger("app.crash")

CRASH_FILE = "crash.txt"  # this run's: a header, then faulthandler's report if it crashes
CRASHED = "Fatal Python error"  # how every faulthandler report of a crash starts
HUNG = "Timeout ("  # and of a stack dumped by `HangWatch`: "Timeout (0:00:10)!"
ENDED = "ended cleanly"
RECOVERED = "responding again"
KEEP_REPORTS = 10  # the newest crash-*.txt kept, as the log keeps a few older files
HANG_S = 10.0  # a GUI thread this long without a turn of its event loop has stopped responding
_crash_file = None  # kept open for faulthandler, which writes to its descriptor when the process dies
_ended = False


def take_previous_crash(folder: Path) -> Path | None:
    """The report of the last run, if it crashed or hung, renamed to crash-<when>.txt so it stays (the newest
    `KEEP_REPORTS` are kept); else None."""
    path = folder / CRASH_FILE
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return None
    if CRASHED not in text and not hung(text):
        return None
    kept = folder / time.strftime("crash-%Y%m%d-%H%M%S.txt", time.localtime(path.stat().st_mtime))
    try:
        path.replace(kept)
    except OSError as exc:
        log.warning("could not keep the crash report %s: %s", path, exc)
        return None
    for old in sorted(folder.glob("crash-*.txt"))[:-KEEP_REPORTS]:  # (their names sort by time)
        try:
            old.unlink()
        except OSError:
            pass
    return kept


def hung(report: str) -> bool:
    """Whether a run's report says its window stopped responding, and that it did not respond again before
    the run was ended by force (a stall it came out of, or a computer's sleep, is no hang)."""
    return ENDED not in report and report.rfind(HUNG) > report.rfind(RECOVERED)


def ended_cleanly() -> None:
    """Say in this run's report that it ended of itself: a stall it recovered from is not reported."""
    global _ended
    _ended = True
    faulthandler.cancel_dump_traceback_later()
    problem = _note(f"{ENDED} {_now()}")
    if problem is not None:
        log.warning("could not finish the crash report file: %s", problem)


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def _note(line: str) -> Exception | None:
    """Add `line` to this run's report, after whatever faulthandler wrote; the error if it could not be."""
    if _crash_file is None:
        return None
    try:
        _crash_file.write(line + "\n")
        _crash_file.flush()
    except (OSError, ValueError) as exc:  # (a full disk; or closed)
        return exc
    return None


def watch_for_crashes(folder: Path, version: str) -> Path | None:
    """From now on, a crash writes every thread's stack to `folder`/crash.txt (call `take_previous_crash`
    first: this starts the file anew). Returns the file, or None where it cannot be written."""
    global _crash_file, _ended
    path = folder / CRASH_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        f = open(path, "w", encoding="utf-8")  # noqa: SIM115 (open for the life of the process)
        f.write(f"Hourglass {version}, pid {os.getpid()}, started {_now()}\n")
        f.flush()
    except OSError as exc:
        log.warning("no crash report file (%s): %s", path, exc)
        return None
    if _crash_file is not None:
        _crash_file.close()
    _crash_file, _ended = f, False
    faulthandler.enable(file=f, all_threads=True)
    return path


class ErrorReporter(QObject):
    """Unexpected Python errors, from any thread, handed to the GUI thread as `error(summary, details)`."""

    error = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.seen: dict[tuple[str, str, int], int] = {}  # (error type, file, line) → how many times
        self._lock = threading.Lock()

    def report(self, kind: type[BaseException], value: BaseException, tb: TracebackType | None,
               where: str = "") -> None:
        frames = traceback.extract_tb(tb)
        last = frames[-1] if frames else None
        key = (kind.__name__, last.filename if last else "", last.lineno or 0 if last else 0)
        with self._lock:
            count = self.seen[key] = self.seen.get(key, 0) + 1
        if count & (count - 1):  # the first time with its traceback, then at 2, 4, 8… times
            return
        summary = "".join(traceback.format_exception_only(kind, value)).strip()
        if count > 1:
            log.error("the same unexpected error again (%d times so far)%s: %s", count, where, summary)
            return
        details = "".join(traceback.format_exception(kind, value, tb))
        log.error("unexpected error%s:\n%s", where, details.rstrip())
        self.error.emit(summary, details)


def catch_errors(reporter: ErrorReporter) -> Callable[[], None]:
    """Send the errors that escape slots (`sys.excepthook`) and threads (`threading.excepthook`) to
    `reporter`; returns the function that puts the former hooks back."""
    before, before_thread = sys.excepthook, threading.excepthook

    def hook(kind, value, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            before(kind, value, tb)
            return
        try:
            reporter.report(kind, value, tb)
        except Exception:  # noqa: BLE001 (never let the report itself fail into this hook again)
            before(kind, value, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        try:
            name = args.thread.name if args.thread is not None else "?"
            reporter.report(args.exc_type, args.exc_value, args.exc_traceback, f" in thread {name}")
        except Exception:  # noqa: BLE001 (as above)
            before_thread(args)

    sys.excepthook, threading.excepthook = hook, thread_hook

    def put_back() -> None:
        sys.excepthook, threading.excepthook = before, before_thread

    return put_back


def _last_dump() -> str:
    """The stacks `HangWatch` had dumped since the window last responded, if any ("" where none)."""
    try:
        text = Path(_crash_file.name).read_text("utf-8", errors="replace")
    except (OSError, AttributeError):
        return ""
    start = text.rfind(HUNG)
    return text[start:].rstrip() if start > text.rfind(RECOVERED) else ""


class HangWatch(QObject):
    """If the GUI thread goes `seconds` without a turn of its event loop, every thread's stack goes into
    this run's crash report (`watch_for_crashes`), and into the log once the window responds again (a
    freeze the user waited out is reported too, with its cause). The watch is faulthandler's own C thread,
    re-armed by a timer each second: it runs while Python cannot (the deadlock over the GIL that hung the
    tests). Other systems' clocks were not tried across a computer's sleep."""

    def __init__(self, parent: QObject | None = None, seconds: float = HANG_S) -> None:
        super().__init__(parent)
        self.seconds = seconds
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._arm)
        self._timer.start(1000)
        self._last = time.monotonic()
        self._arm()

    def _arm(self) -> None:
        if _crash_file is None or _ended:
            return
        now = time.monotonic()
        gap, self._last = now - self._last, now
        if gap >= self.seconds:  # the stacks may have been dumped: into the log, and say the window came back
            dump = _last_dump()
            if dump:  # (on Linux none after the computer's sleep, which its monotonic clock does not count)
                log.warning("the window did not respond for %.0f s; what its threads were doing:\n%s", gap, dump)
            _note(f"{RECOVERED} after {gap:.0f} s, {_now()}")  # (a report that cannot be written: nothing to say)
        faulthandler.dump_traceback_later(self.seconds, file=_crash_file)
