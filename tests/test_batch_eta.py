"""The GUI's time left for a batch: from how long this run's photos of each degradation took (the CLI's
and the wording: tests/test_batch_time.py)."""

from __future__ import annotations

import pytest

from app.batch_eta import batch_time_left, photo_estimate
from app.queue_model import ItemState, QueueItem


def item(task="auto", detected=None, state=ItemState.QUEUED, **kw) -> QueueItem:
    return QueueItem(f"/photos/{task}-{detected}.jpg", task=task, detected_task=detected, state=state, **kw)


def test_before_a_photo_of_this_run_is_restored_the_first_ones_estimate_stands_in():
    """The engine's estimate for the first photo, once it has had a few seconds to settle, plus its time so
    far, is the first guess for every photo; nothing before that."""
    first = item("rain", state=ItemState.RUNNING, progress=0.5)
    assert batch_time_left(first, [item()], {}, False, running_for=10.0) is None  # no estimate from the engine yet
    assert batch_time_left(None, [item()], {"rain": []}, False) is None
    first.eta_s = 30.0
    assert batch_time_left(first, [item("rain"), item("rain")], {}, False, running_for=2.0) is None  # too early
    assert batch_time_left(first, [item("rain"), item("rain")], {}, False, running_for=10.0) == 30.0 + 2 * 40.0


def test_each_photo_takes_as_long_as_this_runs_photos_of_its_degradation():
    """A 12 MP low-light photo takes the fast path (seconds), a rainy one is tiled (minutes): a mixed batch
    is estimated per degradation, and a degradation not seen yet by the mean of all."""
    durations = {"low-light": [30.0, 34.0], "rain": [400.0]}
    assert photo_estimate(item("auto", "low-light"), durations, False) == 32.0
    assert photo_estimate(item("rain"), durations, False) == 400.0  # the user's choice counts as the task
    assert photo_estimate(item("auto", "haze"), durations, False) == pytest.approx(464 / 3)
    assert photo_estimate(item("auto", None), durations, False) == pytest.approx(464 / 3)  # not detected yet
    waiting = [item("auto", "low-light"), item("auto", "rain"), item("auto", "rain")]
    assert batch_time_left(None, waiting, durations, False) == 832.0


def test_photos_that_will_be_skipped_cost_nothing():
    durations = {"haze": [60.0]}
    assert photo_estimate(item("none"), durations, True) == 0.0  # "Leave as is"
    assert photo_estimate(item("auto", "none"), durations, False) == 0.0  # detected fine: skipped
    assert photo_estimate(item("auto", "none"), durations, True) == 60.0  # unless fine photos are restored too


def test_the_running_photo_counts_with_the_engines_own_estimate_once_it_has_one():
    durations = {"haze": [60.0]}
    running = item("haze", state=ItemState.RUNNING, progress=0.25)
    assert batch_time_left(running, [item("haze")], durations, False) == 60.0 + 45.0
    running.eta_s = 10.0
    assert batch_time_left(running, [item("haze")], durations, False) == 70.0
    running.state = ItemState.DONE  # finished between two refreshes: nothing left of it
    assert batch_time_left(running, [item("haze")], durations, False) == 60.0
