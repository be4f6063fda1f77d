"""How long the rest of a batch will take, from how long this run's photos took (for the status bar and
the window title: on a CPU a batch can take an hour, and "file 3 of 20" alone does not say when)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from app.queue_model import ItemState, QueueItem
from engine.batch_time import FIRST_GUESS_AFTER_S


def photo_estimate(item: QueueItem, durations: Mapping[str, Sequence[float]], restore_clean: bool) -> float:
    """Seconds one photo is expected to take: 0 for one that will be skipped as fine, else the mean of the
    photos of its degradation restored in this run (the degradation decides the path: a large low-light
    photo takes the fast path, a rainy one is tiled at full resolution), else of all of them. Photos of one
    batch usually come from one camera, so their size is not weighed."""
    task = item.effective_task
    if item.task == "none" or (task == "none" and not restore_clean):
        return 0.0
    same = durations.get(task) or [s for times in durations.values() for s in times]
    return sum(same) / len(same)


def batch_time_left(running: QueueItem | None, waiting: Iterable[QueueItem],
                    durations: Mapping[str, Sequence[float]], restore_clean: bool,
                    running_for: float | None = None) -> float | None:
    """Seconds until the batch ends: the photo being restored (its own estimate from the engine once it has
    one) plus every photo still waiting. Before a photo of this run has been restored, the first one's
    time so far (`running_for`) plus the engine's estimate for it stand in for all; None until then."""
    if not any(durations.values()):
        if running is None or running.eta_s is None or running_for is None or running_for < FIRST_GUESS_AFTER_S:
            return None
        durations = {running.effective_task: [running_for + running.eta_s]}
    left = sum(photo_estimate(i, durations, restore_clean) for i in waiting)
    if running is not None and running.state is ItemState.RUNNING:
        if running.eta_s is not None:
            left += running.eta_s
        else:
            left += photo_estimate(running, durations, restore_clean) * (1.0 - running.progress)
    return left
