"""What a command prints: the exit codes, a progress line per photo, one JSON line per photo for scripts,
the run's last line, and one line (not a traceback) for a bug met with one photo."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from engine.batch_time import BatchClock, format_time_left

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


_STAGE_WORDS = {"load": "reading", "detect": "detecting", "save": "saving"}  # the restore's steps are counted


class ProgressBar:
    """One line on a terminal, updated in place; plain lines otherwise. With a `BatchClock`, it also says
    how long the rest of the batch will take."""

    def __init__(self, total: int, stream=None, clock: BatchClock | None = None):
        self.total, self.stream, self.clock = total, stream or sys.stderr, clock
        self.tty = self.stream.isatty()
        self.index = 0
        self._last = 0.0

    def _time_left(self, fraction: float | None = None) -> str:
        left = self.clock.left(fraction) if self.clock is not None else None
        return format_time_left(left) if left is not None and self.total > 1 else ""

    def photo(self, index: int, name: str) -> None:
        self.index, self.name = index, name
        if not self.tty:
            left = self._time_left()
            print(f"[{index}/{self.total}] {name}" + (f" ({left})" if left else ""), file=self.stream, flush=True)

    def update(self, p) -> None:
        now = time.monotonic()
        if not self.tty or (now - self._last < 0.1 and p.fraction < 1):
            return
        self._last = now
        width = 24
        restoring = p.stage == "restore"
        fraction = p.fraction if restoring else float(p.stage == "save")
        fill = round(fraction * width)
        if restoring:
            detail = f"{fraction:4.0%} step {p.step}/{p.steps}" + (f" tile {p.tile}/{p.tiles}" if p.tiles > 1 else "")
        else:
            detail = _STAGE_WORDS.get(p.stage, p.stage)
        left = self._time_left(p.fraction if restoring else None)
        line = f"\r[{self.index}/{self.total}] [{'#' * fill}{'.' * (width - fill)}] {detail}  "
        self.stream.write(line + (f"{left}  " if left else "") + self.name[:30] + "\033[K")
        self.stream.flush()

    def done(self, message: str) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
        print(message, file=self.stream, flush=True)


def unexpected(exc: Exception, doing: str, path: Path) -> str:
    """Log the traceback of a bug met with one photo (shown with -v) and say it in one line."""
    logging.getLogger("hourglass.cli").info("%s %s failed", doing, path, exc_info=exc)
    return f"unexpected error ({type(exc).__name__}: {exc}); please report it (-v shows the traceback)"


def json_line(enabled: bool, path: Path, status: str, **fields) -> None:
    """With --json: a photo's outcome as one JSON line on stdout, for scripts (restore, --again, copy)."""
    if enabled:
        print(json.dumps({"path": str(path), "status": status, **fields}), flush=True)


def end_of_run(first: str, notes: Sequence[str], failed: list[str], problems: list[str],
               after: Sequence[str] = ()) -> int:
    """Print a run's last line (`first`, its `notes`, how many failed, then `after`; empty ones left out) and
    return its exit status: 1 when a photo failed or an input was a problem."""
    parts = [first, *notes, f"{len(failed)} failed" if failed or problems else "", *after]
    print("; ".join(part for part in parts if part), file=sys.stderr)
    return EXIT_FAILED if failed or problems else EXIT_OK
