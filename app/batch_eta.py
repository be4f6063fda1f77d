"""How long the rest of a batch will take, from how long this run's photos took (for the status bar and
the window title: on a CPU a batch can take an hour, and "file 3 of 20" alone does not say when).

A photo's time grows with what the network has to look at: the whole photo when it is tiled (rain, snow,
blur), a ~1 MP copy on the fast path (large low-light and hazy photos; `engine.fullres_rule` says which, as
the engine will decide it), plus reading, carrying the correction over and writing, which grow with the
photo. So the photos restored in this run fit `seconds ≈ a × network megapixels + b × photo megapixels`,
and each waiting photo of known size is estimated from its own. A batch mixing phone shots, camera files
and small exports is then estimated photo by photo, not by their mean time. Photos of unknown size (their
analysis failed) fall back to the mean time of this run's photos of their degradation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.queue_model import ItemState, QueueItem
from engine.batch_time import FIRST_GUESS_AFTER_S
from engine.fullres_rule import resolve_fullres, working_size


@dataclass(frozen=True)
class Restored:
    """A photo restored in this run: its degradation, its wall time (reading and saving included) and, when
    its size is known, `(network megapixels, photo megapixels)` (`photo_work`)."""

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


class Estimator:
    """How long each photo should take, from this run's restored photos: fitted once (`fit_rates`, and the
    mean time of each degradation for photos of unknown size), then asked for each photo of a queue."""

    def __init__(self, restored: Sequence[Restored], restore_clean: bool, fullres: str = "auto") -> None:
        self.restore_clean, self.fullres = restore_clean, fullres
        self.rates = fit_rates(restored)
        by_task: dict[str, list[float]] = {}
        for r in restored:
            by_task.setdefault(r.task, []).append(r.seconds)
        self._means = {task: sum(times) / len(times) for task, times in by_task.items()}
        self._mean = sum(r.seconds for r in restored) / len(restored) if restored else 0.0

    def photo(self, item: QueueItem) -> float:
        """Seconds `item` is expected to take: 0 for a photo that will be skipped as fine; for a photo of
        known size, from the fitted rates; else the mean of this run's photos of its degradation (which
        decides the path), else of all of them."""
        task = item.effective_task
        if item.task == "none" or (task == "none" and not self.restore_clean):
            return 0.0
        work = photo_work(item.width, item.height, task, self.fullres)
        if work is not None and self.rates is not None:
            return self.rates[0] * work[0] + self.rates[1] * work[1]
        return self._means.get(task, self._mean)


def photo_estimate(item: QueueItem, restored: Sequence[Restored], restore_clean: bool,
                   fullres: str = "auto") -> float:
    """`Estimator(restored, …).photo(item)`: one photo's expected seconds (for many, build one Estimator)."""
    return Estimator(restored, restore_clean, fullres).photo(item)


def first_guess(running: QueueItem | None, running_for: float | None, fullres: str = "auto") -> list[Restored]:
    """Before a photo of this run has been restored: the first one as if it were, from its time so far
    (`running_for`) and the engine's estimate for the rest, once it has had `FIRST_GUESS_AFTER_S` to settle;
    nothing before that."""
    if running is None or running.eta_s is None or running_for is None or running_for < FIRST_GUESS_AFTER_S:
        return []
    task = running.effective_task
    return [Restored(task, running_for + running.eta_s, photo_work(running.width, running.height, task, fullres))]


def batch_time_left(running: QueueItem | None, waiting: Iterable[QueueItem], restored: Sequence[Restored],
                    restore_clean: bool, running_for: float | None = None, fullres: str = "auto") -> float | None:
    """Seconds until the batch ends: the photo being restored (its own estimate from the engine once it has
    one) plus every photo still waiting. Before a photo of this run has been restored, the first one's
    time so far (`running_for`) plus the engine's estimate for it stand in as a restored photo; None until
    then."""
    restored = restored or first_guess(running, running_for, fullres)
    if not restored:
        return None
    estimator = Estimator(restored, restore_clean, fullres)
    left = sum(estimator.photo(i) for i in waiting)
    if running is not None and running.state is ItemState.RUNNING:
        if running.eta_s is not None:
            left += running.eta_s
        else:
            left += estimator.photo(running) * (1.0 - running.progress)
    return left
