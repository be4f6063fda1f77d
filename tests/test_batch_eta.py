"""The GUI's time left for a batch: from how long this run's photos took, weighed by each photo's size and
the path the engine will take for it (the CLI's and the wording: tests/test_batch_time.py)."""

from __future__ import annotations

import pytest

from app.batch_eta import batch_time_left, photo_estimate
from app.queue_model import ItemState, QueueItem
from engine.batch_time import Restored, fit_rates, photo_work
from engine.fullres_rule import working_size


def item(task="auto", detected=None, state=ItemState.QUEUED, **kw) -> QueueItem:
    return QueueItem(f"/photos/{task}-{detected}.jpg", task=task, detected_task=detected, state=state, **kw)


MP12 = {"width": 4000, "height": 3000}
MP24 = {"width": 6000, "height": 4000}
MP3 = {"width": 2000, "height": 1500}


def test_before_a_photo_of_this_run_is_restored_the_first_ones_estimate_stands_in():
    """The engine's estimate for the first photo, once it has had a few seconds to settle, plus its time so
    far, is the first guess for every photo; nothing before that."""
    first = item("rain", state=ItemState.RUNNING, progress=0.5)
    assert batch_time_left(first, [item()], [], False, running_for=10.0) is None  # no estimate from the engine yet
    assert batch_time_left(None, [item()], [], False) is None
    first.eta_s = 30.0
    assert batch_time_left(first, [item("rain"), item("rain")], [], False, running_for=2.0) is None  # too early
    assert batch_time_left(first, [item("rain"), item("rain")], [], False, running_for=10.0) == 30.0 + 2 * 40.0
    first.width, first.height = MP3["width"], MP3["height"]  # known sizes: the first guess is weighed by them
    assert batch_time_left(first, [item("rain", **MP12)], [], False, running_for=10.0) == pytest.approx(30 + 160)


def test_photos_of_unknown_size_take_as_long_as_this_runs_photos_of_their_degradation():
    """A 12 MP low-light photo takes the fast path (seconds), a rainy one is tiled (minutes): without sizes
    (an analysis that failed), a mixed batch is estimated per degradation, one not seen yet by the mean."""
    restored = [Restored("low-light", 30.0), Restored("low-light", 34.0), Restored("rain", 400.0)]
    assert photo_estimate(item("auto", "low-light"), restored, False) == 32.0
    assert photo_estimate(item("rain"), restored, False) == 400.0  # the user's choice counts as the task
    assert photo_estimate(item("auto", "haze"), restored, False) == pytest.approx(464 / 3)
    assert photo_estimate(item("auto", None), restored, False) == pytest.approx(464 / 3)  # not detected yet
    waiting = [item("auto", "low-light"), item("auto", "rain"), item("auto", "rain")]
    assert batch_time_left(None, waiting, restored, False) == 832.0
    unreadable = item("auto", None, detect_message='Detection failed: "x.dng" is a DNG compressed with JPEG XL.')
    assert photo_estimate(unreadable, restored, False) == 0.0  # (it will fail at once)
    unreadable.task = "rain"  # (a degradation chosen for it changes nothing: it cannot be read)
    assert photo_estimate(unreadable, restored, False) == 0.0


def test_a_tiled_photo_takes_as_long_as_its_pixels():
    """Rain is tiled at full resolution: a 12 MP photo after a 3 MP one takes four times as long (the mean
    of this run's photos said: as long)."""
    restored = [Restored("rain", 20.0, photo_work(**MP3, task="rain", fullres="auto"))]
    assert photo_estimate(item("auto", "rain", **MP12), restored, False) == pytest.approx(80.0)
    assert photo_estimate(item("auto", "rain", **MP3), restored, False) == pytest.approx(20.0)
    assert photo_estimate(item("auto", "rain"), restored, False) == 20.0  # size unknown: the mean


def test_the_fast_path_costs_its_working_copy_plus_what_grows_with_the_photo():
    """A large low-light photo is restored through a ~0.8 MP copy: its time hardly grows with its size.
    Once this run has photos that tell the network's share from the share that grows with the photo
    (reading, carrying the correction over, saving), each is priced from its own size."""
    network, per_mp = 6.0, 0.25  # seconds per network megapixel and per photo megapixel
    sizes = [MP3, MP12, {"width": 1000, "height": 750}]
    restored = []
    for size in sizes:
        work = photo_work(**size, task="low-light", fullres="auto")
        restored.append(Restored("low-light", network * work[0] + per_mp * work[1], work))
    assert fit_rates(restored) == pytest.approx((network, per_mp))
    copy = working_size(4000, 6000)
    expect = network * copy[0] * copy[1] / 1e6 + per_mp * 24
    assert photo_estimate(item("auto", "low-light", **MP24), restored, False) == pytest.approx(expect)
    assert expect < 1.5 * restored[1].seconds  # twice the pixels of the 12 MP photo, far less than twice the time
    # the same photo detected as rain is tiled: every one of its 24 MP goes through the network
    assert photo_estimate(item("auto", "rain", **MP24), restored, False) == pytest.approx((network + per_mp) * 24)


def test_the_path_follows_the_large_photos_setting():
    fast = photo_work(**MP12, task="low-light", fullres="auto")
    assert fast[1] == 12.0 and fast[0] == pytest.approx(1024 * 768 / 1e6)
    assert photo_work(**MP12, task="low-light", fullres="tiled") == (12.0, 12.0)
    assert photo_work(**MP12, task="rain", fullres="auto") == (12.0, 12.0)
    assert photo_work(**MP12, task="rain", fullres="fast") == fast  # forced
    assert photo_work(**MP12, task="rain", fullres="auto", path="fast") == fast  # what the engine reported
    assert photo_work(None, None, task="rain", fullres="auto") is None


def test_rates_that_cannot_be_told_apart_go_to_the_network():
    """Tiled photos alone (network pixels = photo pixels), or one photo: all of the time is the network's.
    A fit that would make either rate negative keeps the one that explains the times better."""
    tiled = [Restored("rain", 10.0, (2.0, 2.0)), Restored("snow", 44.0, (8.0, 8.0))]
    a, b = fit_rates(tiled)
    assert b == 0.0 and a == pytest.approx((10 * 2 + 44 * 8) / (4 + 64))
    assert fit_rates([Restored("haze", 9.0, (0.8, 12.0))]) == (pytest.approx(9.0 / 0.8), 0.0)
    assert fit_rates([Restored("haze", 9.0)]) is None
    # times that fall as the network's pixels grow: no sensible positive split; the photo's size explains them
    odd = [Restored("haze", 10.0, (1.0, 12.0)), Restored("rain", 2.0, (4.0, 4.0))]
    a, b = fit_rates(odd)
    assert a == 0.0 and b == pytest.approx((10 * 12 + 2 * 4) / (144 + 16))


def test_photos_that_will_be_skipped_cost_nothing():
    restored = [Restored("haze", 60.0)]
    assert photo_estimate(item("none"), restored, True) == 0.0  # "Leave as is"
    assert photo_estimate(item("auto", "none"), restored, False) == 0.0  # detected fine: skipped
    assert photo_estimate(item("auto", "none"), restored, True) == 60.0  # unless fine photos are restored too
    result = {"already_restored": "restored p.jpg as haze …"}  # a result Hourglass saved: left as it is
    assert photo_estimate(item("auto", "haze", **result), restored, False) == 0.0
    assert photo_estimate(item("haze", "haze", **result), restored, False) == 60.0  # a task chosen: restored
    assert photo_estimate(item("auto", "haze", **result), restored, True) == 60.0  # with "restore photos that look fine"


def test_the_running_photo_counts_with_the_engines_own_estimate_once_it_has_one():
    restored = [Restored("haze", 60.0)]
    running = item("haze", state=ItemState.RUNNING, progress=0.25)
    assert batch_time_left(running, [item("haze")], restored, False) == 60.0 + 45.0
    running.eta_s = 10.0
    assert batch_time_left(running, [item("haze")], restored, False) == 70.0
    running.state = ItemState.DONE  # finished between two refreshes: nothing left of it
    assert batch_time_left(running, [item("haze")], restored, False) == 60.0


def test_a_waiting_photos_estimate_is_said_roughly():
    from app.qt_queue import format_estimate

    assert [format_estimate(s) for s in (None, 0.0, 3.0, 44.0, 59.0, 61.0, 754.0, 3599.0, 3900.0)] == [
        "", "", "≈ 10 s", "≈ 40 s", "≈ 1 min", "≈ 1 min", "≈ 13 min", "≈ 1 h 00 min", "≈ 1 h 05 min"]
