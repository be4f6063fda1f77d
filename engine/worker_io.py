"""The worker's stdio plumbing: a private protocol stream, a line writer, coalesced progress, process guards.

Kept apart from the command dispatcher (`engine.worker`) because none of it knows about jobs or models:
it is what makes a long-lived child process safe to talk to over a pipe.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import BinaryIO, ClassVar

from engine import protocol as P

log = logging.getLogger("engine.worker")

PROGRESS_INTERVAL_S = 0.1  # at most ~10 progress events per second


def protect_stdout() -> BinaryIO:
    """Return a private stream on the real stdout for protocol lines; fd 1 and sys.stdout now go to stderr."""
    sys.stdout.flush()
    fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ["TQDM_DISABLE"] = "1"
    return os.fdopen(fd, "wb")


def watch_parent_death() -> None:
    """Linux: ask the kernel to SIGTERM us when the parent dies (the ticker also polls getppid)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed (errno %d)", ctypes.get_errno())
    except (OSError, AttributeError) as exc:
        log.warning("prctl(PR_SET_PDEATHSIG) is not available: %s", exc)


def rss_mb() -> float | None:
    """Resident memory of this process in MiB (current on Linux, peak elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024
    except (ImportError, OSError):
        return None


class Channel:
    """Writes events as lines, one writer at a time, flushed at once. A closed pipe means the GUI is gone."""

    def __init__(self, stream: BinaryIO, on_broken: Callable[[], None] | None = None) -> None:
        self._stream, self._lock, self._on_broken = stream, threading.Lock(), on_broken
        self.broken = False

    def send(self, msg: P.Message) -> bool:
        try:
            data = P.encode(msg)
        except P.ProtocolError as exc:
            log.error("dropping an event that cannot be encoded: %s", exc)
            job_id = getattr(msg, "job_id", None)
            err = P.ErrorInfo.make(P.ErrorCode.INTERNAL, "The engine produced an invalid message.", str(exc))
            data = P.encode(P.Failed(job_id, err) if P.is_terminal(msg) else P.ErrorEvent(err, job_id=job_id))
        with self._lock:
            if self.broken:
                return False
            try:
                self._stream.write(data)
                self._stream.flush()
                return True
            except (OSError, ValueError):
                self.broken = True
        log.warning("the protocol pipe is closed; the GUI is gone")
        if self._on_broken is not None:
            self._on_broken()
        return False


class ProgressReporter:
    """Turns pipeline progress into `progress` events: job-wide fraction, ETA, ≤10 Hz.

    The first event of each stage goes out at once; later ones at most every `interval` (a pending one is
    sent by the ticker). `close` flushes the pending event, so the last progress precedes the terminal one.
    """

    SPANS: ClassVar[dict[str, tuple[float, float]]] = {"load": (0.0, 0.05), "detect": (0.05, 0.1), "restore": (0.1, 0.95), "save": (0.95, 1.0)}

    def __init__(self, job_id: str, send: Callable[[P.Message], object], interval: float = PROGRESS_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.job_id, self._send, self._interval, self._clock = job_id, send, interval, clock
        self._lock = threading.Lock()
        self._pending: P.Progress | None = None
        self._stage: str | None = None
        self._last_sent = float("-inf")
        self._fraction = 0.0
        self._restore_start: float | None = None
        self._closed = False
        self.last: P.Progress | None = None  # the last event sent

    def update(self, stage: str, step: int, steps: int, tile: int, tiles: int, stage_fraction: float) -> None:
        now = self._clock()
        lo, hi = self.SPANS.get(stage, (0.0, 1.0))
        stage_fraction = min(max(stage_fraction, 0.0), 1.0)
        with self._lock:
            if self._closed:
                return
            self._fraction = max(self._fraction, lo + (hi - lo) * stage_fraction)
            eta = None
            if stage == "restore":
                if self._restore_start is None:
                    self._restore_start = now
                if stage_fraction > 0:
                    eta = (now - self._restore_start) * (1 - stage_fraction) / stage_fraction
            elif stage == "save":
                eta = 0.0
            event = P.Progress(self.job_id, stage, step, steps, tile, tiles, round(self._fraction, 4),
                               None if eta is None else round(eta, 2))
            if stage != self._stage:
                self._flush_locked()
                self._stage = stage
                self._emit_locked(event, now)
            elif now - self._last_sent >= self._interval:
                self._emit_locked(event, now)
            else:
                self._pending = event

    def tick(self) -> None:
        """Called by the ticker: send a pending event once the interval has passed."""
        with self._lock:
            if not self._closed and self._pending is not None and self._clock() - self._last_sent >= self._interval:
                self._flush_locked()

    def close(self) -> None:
        with self._lock:
            self._flush_locked()
            self._closed = True

    def _flush_locked(self) -> None:
        if self._pending is not None:
            self._emit_locked(self._pending, self._clock())

    def _emit_locked(self, event: P.Progress, now: float) -> None:
        self._pending = None
        self._last_sent = now
        self.last = event
        self._send(event)
