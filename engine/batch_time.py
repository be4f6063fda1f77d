"""How long the rest of a batch will take, said the same way by the GUI and the CLI ("about 25 min left").

On a CPU a batch of photos can take an hour; "[3/20]" alone does not say when it ends. Standard library
only, so the GUI may import it (like engine.protocol and engine.filetypes).

A photo's time grows with what the network has to look at: the whole photo when it is tiled (rain, snow,
blur), a ~1 MP copy on the fast path (large low-light and hazy photos; `engine.fullres_rule` says which, as
the engine will decide it), plus reading, carrying the correction over and writing, which grow with the
photo. So the photos restored in a run fit `seconds ≈ a × network megapixels + b × photo megapixels`
(`PhotoTimes`), and each waiting photo of known size and degradation is estimated from its own: a batch
mixing phone shots, camera files and small exports is estimated photo by photo, not by their mean time.
The GUI (`app.batch_eta`) knows each queued photo's degradation from its analysis; the CLI knows it when
the user names it (`--task rain`), and on `auto` learns it only as it restores the photo, so there a
waiting photo counts as the mean photo done so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from engine.fullres_rule import resolve_fullres, working_size

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


SKIPPED, FAILED = "(skipped)", "(failed)"  # what a photo of the CLI's run that was not restored counts as


@dataclass(frozen=True)
class Restored:
    """A photo restored in this run: its degradation, its wall time (reading and saving included) and, when
    its size is known, `(network megapixels, photo megapixels)` (`photo_work`). The CLI also counts photos
    skipped as fine and failed ones (`SKIPPED`, `FAILED`: no work, their own mean time)."""

    task: str
    seconds: float
    work: tuple[float, float] | None = None


def photo_work(width: int | None, height: int | None, task: str, fullres: str,
               path: str | None = None) -> tuple[float, float] | None:
    """(megapixels the network sees per step, the photo's megapixels) for a photo of this size and task
    restored with the `fullres` setting, or on the path the engine reported (`path`: "fast" / "tiled")."""
    if not width or not height:
        return None
    path = path or resolve_fullres(fullres, task, height, width)
    h, w = working_size(height, width) if path == "fast" else (height, width)
    return h * w / 1e6, width * height / 1e6


def fit_rates(restored: Sequence[Restored]) -> tuple[float, float] | None:
    """(a, b): seconds per network megapixel and per photo megapixel, least squares over the photos of known
    size, neither negative. Where the photos cannot tell the two apart (all of them tiled, or one photo),
    all of the time goes to the network: a photo twice the size then takes twice as long (tiled; on the fast
    path, one with a working copy twice the size)."""
    sized = [(r.seconds, *r.work) for r in restored if r.work is not None and r.work[0] > 0]
    if not sized:
        return None
    snn = sum(n * n for _, n, _ in sized)
    smm = sum(m * m for _, _, m in sized)
    snm = sum(n * m for _, n, m in sized)
    stn = sum(t * n for t, n, _ in sized)
    stm = sum(t * m for t, _, m in sized)
    det = snn * smm - snm * snm
    if det > 1e-6 * snn * smm:  # (tiled photos alone have n == m: no way to split the time)
        a, b = (stn * smm - stm * snm) / det, (stm * snn - stn * snm) / det
        if a >= 0 and b >= 0:
            return a, b
        if stm * stm / smm > stn * stn / snn:  # the best fit with one of them 0: the one that explains more
            return 0.0, stm / smm
    return stn / snn, 0.0


class PhotoTimes:
    """How long a photo should take, from this run's photos: fitted once (`fit_rates`, and the mean time of
    each degradation for photos of unknown size), then asked for each waiting photo."""

    def __init__(self, restored: Sequence[Restored], fullres: str = "auto") -> None:
        self.fullres = fullres
        self.rates = fit_rates(restored)
        by_task: dict[str, list[float]] = {}
        for r in restored:
            by_task.setdefault(r.task, []).append(r.seconds)
        self._means = {task: sum(times) / len(times) for task, times in by_task.items()}
        self._mean = sum(r.seconds for r in restored) / len(restored) if restored else 0.0

    def seconds(self, task: str | None, width: int | None, height: int | None) -> float:
        """Seconds a photo of this degradation and size should take: from the fitted rates when its size is
        known, else the mean of this run's photos of its degradation (which decides the path), else of all
        of them. `task` None: not known yet (the CLI on auto), the mean of all of them. (Its size alone does
        not help: the path decides more. Counted as this run's mix of degradations, each on its path at
        the photo's size, the time left replayed from measured photos was further off, 131% on average
        against 92% with the mean: a waiting 24 MP photo counted partly as tiled took seconds on the fast
        path.)"""
        if task is None:
            return self._mean
        if task == SKIPPED:  # (a few seconds of reading and detection; none counted before one is seen)
            return self._means.get(SKIPPED, 0.0)
        work = photo_work(width, height, task, self.fullres) if task != FAILED else None
        if work is not None and self.rates is not None:
            return self.rates[0] * work[0] + self.rates[1] * work[1]
        return self._means.get(task, self._mean)


class Attempt:
    """What became of the photo being restored (`BatchClock.photo`): the CLI says when it was restored or
    skipped as fine; a photo it says nothing of failed."""

    def __init__(self, fullres: str) -> None:
        self.fullres, self.task, self.work = fullres, FAILED, None

    def restored(self, task: str, width: int, height: int, path: str) -> None:
        """Restored as `task` on the full-resolution `path` the engine took ("fast" / "tiled")."""
        self.task, self.work = task, photo_work(width, height, task, self.fullres, path)

    def skipped(self) -> None:
        self.task = SKIPPED


class BatchClock:
    """The time left in a batch restored one photo after another (the CLI's).

    `to_go` photos are still to be restored, in this order (photos kept from an earlier run are left out:
    they take no time). `tasks` and `sizes` say, per photo, its degradation (`SKIPPED` for a photo that
    will be skipped as fine) and its (width, height); None where not known, or not yet: `task` is every
    photo's when the user named it, and the CLI reads the sizes and detects the degradations on `auto` on
    a thread while the photos restore. Each photo attempted counts with its whole wall time, reading,
    detection and saving included: restored ones by degradation and size (`PhotoTimes`), skipped and
    failed ones at their mean time, so the batch's mix of them is covered. A waiting photo whose
    degradation is not known counts as the mean photo done. Before the first photo has ended, that photo's
    progress stands in: after `FIRST_GUESS_AFTER_S`, its time so far over its fraction done, for every
    photo (in proportion to its size where its degradation and size are known)."""

    def __init__(self, to_go: int, clock: Callable[[], float] = time.monotonic, *, task: str | None = None,
                 fullres: str = "auto") -> None:
        self.to_go = max(0, to_go)
        self.tasks: list[str | None] = [task] * self.to_go
        self.sizes: list[tuple[int, int] | None] = [None] * self.to_go
        self.fullres = fullres
        self._clock = clock
        self._done: list[Restored] = []
        self._since: float | None = None
        self._expected: tuple[tuple[int, ...], list[float]] | None = None  # (for which state, each photo's)

    @contextmanager
    def photo(self) -> Iterator[Attempt]:
        """Around one photo's whole restore: it ends restored, skipped or failed (`Attempt`), and counts
        either way."""
        self._since = self._clock()
        attempt = Attempt(self.fullres)
        try:
            yield attempt
        finally:
            self._done.append(Restored(attempt.task, self._clock() - self._since, attempt.work))
            self._since = None
            self.to_go = max(0, self.to_go - 1)

    def left(self, fraction: float | None = None) -> float | None:
        """Seconds until the batch ends, or None while nothing says yet. `fraction`: how far the photo in
        progress is (0–1), used only before any photo of this run has ended."""
        running_for = self._clock() - self._since if self._since is not None else None
        at = len(self._done)  # (the photo in progress, or the next one)
        if self._done:
            expected = self._each_photo()
            current = max(0.0, expected[at] - running_for) if running_for is not None else 0.0
            later = at + (1 if running_for is not None else 0)
            return current + sum(expected[later:at + self.to_go])
        if running_for is None or running_for < FIRST_GUESS_AFTER_S or not fraction or fraction <= 0:
            return None
        per_photo = running_for / min(1.0, fraction)
        task, width, height = self._known(at)
        if task is None or width is None:  # (its path not known: every photo as long)
            return per_photo - running_for + per_photo * (self.to_go - 1)
        times = PhotoTimes([Restored(task, per_photo, photo_work(width, height, task, self.fullres))], self.fullres)
        return per_photo - running_for + sum(times.seconds(*self._known(i)) for i in range(at + 1, at + self.to_go))

    def _known(self, i: int) -> tuple[str | None, int | None, int | None]:
        """Photo `i`'s degradation, width and height, each None while not known."""
        if i >= len(self.tasks):
            return None, None, None
        size = self.sizes[i]
        return (self.tasks[i], *size) if size is not None else (self.tasks[i], None, None)

    def _each_photo(self) -> list[float]:
        """Each photo's expected seconds from the photos done so far, computed again only when a photo
        has ended or more is known of the photos (the progress line asks ten times a second)."""
        state = (len(self._done), sum(t is not None for t in self.tasks), sum(s is not None for s in self.sizes))
        if self._expected is None or self._expected[0] != state:
            times = PhotoTimes(self._done, self.fullres)
            count = len(self._done) + self.to_go + 1  # (and the photo in progress)
            self._expected = state, [times.seconds(*self._known(i)) for i in range(count)]
        return self._expected[1]
