"""How long the rest of a batch will take, said the same way by the GUI and the CLI ("about 25 min left").

On a CPU a batch of photos can take an hour; "[3/20]" alone does not say when it ends. Standard library
only, so the GUI may import it (like engine.protocol and engine.filetypes). The GUI's own estimate
(`app.batch_eta`) weighs each queued photo by its size and the path its detected degradation takes; the
CLI learns a photo's degradation only as it restores it, so `BatchClock` uses the mean time of the photos
done so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

FIRST_GUESS_AFTER_S = 3.0  # a photo's own progress says little about its length before this


def format_time_left(seconds: float) -> str:
    """Minutes are precise enough for a batch: "about 25 min left"."""
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes:02d} min left"


class BatchClock:
    """The time left in a batch restored one photo after another.

    `to_go` photos are still to be restored (photos kept from an earlier run are left out: they take no
    time). Each photo attempted in this run (restored, skipped as fine or failed) counts with its whole
    wall time, reading, detection and saving included, so the mean covers a batch's mix of them. Before
    the first photo has ended, that photo's progress stands in: after `FIRST_GUESS_AFTER_S`, its time so
    far over its fraction done, for every photo."""

    def __init__(self, to_go: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.to_go = max(0, to_go)
        self._clock = clock
        self._times: list[float] = []
        self._since: float | None = None

    @contextmanager
    def photo(self) -> Iterator[None]:
        """Around one photo's whole restore: it ends restored, skipped or failed, and counts either way."""
        self._since = self._clock()
        try:
            yield
        finally:
            self._times.append(self._clock() - self._since)
            self._since = None
            self.to_go = max(0, self.to_go - 1)

    def left(self, fraction: float | None = None) -> float | None:
        """Seconds until the batch ends, or None while nothing says yet. `fraction`: how far the photo in
        progress is (0–1), used only before any photo of this run has ended."""
        running_for = self._clock() - self._since if self._since is not None else None
        waiting = self.to_go - (1 if running_for is not None else 0)
        if self._times:
            mean = sum(self._times) / len(self._times)
            current = max(0.0, mean - running_for) if running_for is not None else 0.0
            return current + mean * waiting
        if running_for is None or running_for < FIRST_GUESS_AFTER_S or not fraction or fraction <= 0:
            return None
        per_photo = running_for / min(1.0, fraction)
        return per_photo - running_for + per_photo * waiting
