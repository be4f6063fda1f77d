"""How long the rest of a batch will take, from how long this run's photos took (for the status bar and
the window title: on a CPU a batch can take an hour, and "file 3 of 20" alone does not say when).

Each queued photo is estimated from its own size and the path its detected degradation takes
(`engine.batch_time.PhotoTimes`, shared with the CLI); photos of unknown size (their analysis failed)
fall back to the mean time of this run's photos of their degradation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.queue_model import ItemState, QueueItem
from engine.batch_time import FIRST_GUESS_AFTER_S, PhotoTimes, Restored, photo_work


class Estimator:
    """How long each photo of a queue should take, from this run's restored photos (`PhotoTimes`, fitted
    once), photos that will be skipped as fine taking none."""

    def __init__(self, restored: Sequence[Restored], restore_clean: bool, fullres: str = "auto") -> None:
        self.restore_clean, self.fullres = restore_clean, fullres
        self.times = PhotoTimes(restored, fullres)

    def photo(self, item: QueueItem) -> float:
        """Seconds `item` is expected to take: 0 for a photo that will be skipped as fine or as a result
        Hourglass saved, or that the engine could not read when analysing it, else as `PhotoTimes.seconds`
        says for its degradation and size."""
        task = item.effective_task
        if item.task == "none" or (task == "none" and not self.restore_clean):
            return 0.0
        if item.left_as_result and not self.restore_clean:
            return 0.0
        if item.unreadable:
            return 0.0  # (the engine could not read it: it will fail at once, whatever its degradation)
        return self.times.seconds(task, item.width, item.height)


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
