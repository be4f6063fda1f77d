"""The time left in a batch as the CLI says it, and the wording the GUI shares."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from engine.batch_time import SKIPPED, BatchClock, PhotoTimes, Restored, format_time_left, photo_work
from engine.cli.report import ProgressBar


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_mean_time_of_this_runs_photos_times_the_photos_to_go():
    t = FakeClock()
    clock = BatchClock(4, t)
    assert clock.left() is None  # nothing known yet
    with clock.photo():
        t.now += 30
    with clock.photo():  # a photo that failed or was skipped counts with its time too
        t.now += 10
    assert clock.to_go == 2 and clock.left() == 2 * 20.0
    with clock.photo():
        t.now += 5  # the photo in progress has taken 5 s of its expected 20
        assert clock.left() == 15.0 + 20.0
        t.now += 40  # and now longer than the mean: the rest of it counts as nothing
        assert clock.left() == 20.0
    assert clock.to_go == 1


def test_before_any_photo_has_ended_the_first_ones_progress_stands_in():
    t = FakeClock()
    clock = BatchClock(3, t)
    with clock.photo():
        t.now += 2
        assert clock.left(0.1) is None  # too early to tell
        t.now += 8
        assert clock.left() is None and clock.left(0.0) is None  # no progress, no guess
        assert clock.left(0.25) == pytest.approx(30.0 + 2 * 40.0)  # 10 s for a quarter: 40 s a photo


def test_a_photo_that_raises_still_ends():
    t = FakeClock()
    clock = BatchClock(2, t)
    with pytest.raises(RuntimeError), clock.photo():
        t.now += 12
        raise RuntimeError("unreadable")
    assert clock.to_go == 1 and clock.left() == 12.0


@pytest.mark.parametrize(("seconds", "text"), [
    (5, "less than a minute left"), (59.4, "less than a minute left"), (61, "about 1 min left"),
    (25 * 60 + 20, "about 25 min left"), (3599, "about 1 h 00 min left"), (2 * 3600 + 7 * 60, "about 2 h 07 min left"),
])
def test_minutes_are_precise_enough(seconds, text):
    assert format_time_left(seconds) == text


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_says_the_time_left_on_a_terminal_and_in_a_log():
    t = FakeClock()
    clock = BatchClock(3, t)
    log = io.StringIO()
    bar = ProgressBar(3, log, clock)
    bar.photo(1, "a.jpg")
    with clock.photo():
        t.now += 600
    bar.photo(2, "b.jpg")
    assert log.getvalue().splitlines() == ["[1/3] a.jpg", "[2/3] b.jpg (about 20 min left)"]
    term = Terminal()
    bar = ProgressBar(3, term, clock)
    bar.photo(2, "b.jpg")
    with clock.photo():
        t.now += 300
        bar.update(SimpleNamespace(stage="restore", fraction=0.5, step=1, steps=3, tile=1, tiles=1))
    assert "about 15 min left" in term.getvalue() and "b.jpg" in term.getvalue()
    bar._last = 0.0
    bar.update(SimpleNamespace(stage="detect", fraction=1.0, step=0, steps=3, tile=0, tiles=0))
    assert term.getvalue().rsplit("\r", 1)[1].startswith("[2/3] [........................] detecting")
    one = BatchClock(1, t)
    term = Terminal()
    with one.photo():
        t.now += 10
        bar = ProgressBar(1, term, one)
        bar.photo(1, "a.jpg")
        bar.update(SimpleNamespace(stage="restore", fraction=0.5, step=1, steps=3, tile=1, tiles=1))
    assert "50%" in term.getvalue() and "left" not in term.getvalue()  # one photo: its bar says enough


def clock_for(t, to_go, tasks=None, sizes=None, task=None) -> BatchClock:
    clock = BatchClock(to_go, t, task=task)
    if tasks is not None:
        clock.tasks[:] = tasks
    if sizes is not None:
        clock.sizes[:] = sizes
    return clock


def test_photos_are_weighed_by_size_when_the_task_is_known():
    """`--task rain`: every photo is tiled, so a photo four times the size takes four times as long (before
    this, each waiting photo counted as the mean photo, whatever its size)."""
    t = FakeClock()
    clock = clock_for(t, 3, task="rain", sizes=[(2000, 1000), (1000, 1000), (4000, 1000)])
    with clock.photo() as attempt:
        t.now += 40
        attempt.restored("rain", 2000, 1000, "tiled")
    assert clock.left() == pytest.approx(20.0 + 80.0)
    with clock.photo():
        t.now += 5  # the 1 MP photo in progress: 15 s of its 20 to go
        assert clock.left() == pytest.approx(15.0 + 80.0)


def test_each_photo_counts_by_its_own_degradation_path_and_size():
    """On auto the CLI detects the next photos ahead: a waiting photo counts by the path its degradation
    takes at its size (a 12 MP low-light photo through a ~1 MP copy, a rainy one tiled), a photo that will
    be skipped as fine as the skipped ones took (none before one is seen), an unknown one as the mean photo."""
    t = FakeClock()
    sizes = [(4000, 3000), (2000, 1000), (4000, 3000), (4000, 3000), (4000, 3000), (4000, 3000)]
    clock = clock_for(t, 6, ["low-light", "rain", "low-light", "rain", "(skipped)", None], sizes)
    with clock.photo() as attempt:
        t.now += 30
        attempt.restored("low-light", 4000, 3000, "fast")
    with clock.photo() as attempt:
        t.now += 40
        attempt.restored("rain", 2000, 1000, "tiled")
    done = [Restored("low-light", 30.0, photo_work(4000, 3000, "low-light", "auto", "fast")),
            Restored("rain", 40.0, photo_work(2000, 1000, "rain", "auto", "tiled"))]
    times = PhotoTimes(done)
    low, rain = times.seconds("low-light", 4000, 3000), times.seconds("rain", 4000, 3000)
    assert rain > 4 * low and times.seconds(SKIPPED, 4000, 3000) == 0.0
    assert clock.left() == pytest.approx(low + rain + 0.0 + 35.0)
    with clock.photo() as attempt:
        t.now += 1
        attempt.skipped()
    assert PhotoTimes([*done, Restored(SKIPPED, 1.0)]).seconds(SKIPPED, 4000, 3000) == 1.0
    unsized = BatchClock(2, t)  # nothing known of the photos: the mean of the photos done, as before
    with unsized.photo() as attempt:
        t.now += 30
        attempt.restored("rain", 2000, 1000, "tiled")
    assert unsized.left() == 30.0


def test_the_first_guess_is_weighed_by_size_too():
    t = FakeClock()
    clock = clock_for(t, 3, task="rain", sizes=[(2000, 1000), (4000, 1000), None])
    with clock.photo():
        t.now += 10
        assert clock.left(0.25) == pytest.approx(30.0 + 80.0 + 40.0)  # 40 s for 2 MP; unknown size: 40 s
    auto = clock_for(t, 3, sizes=[(2000, 1000), (4000, 1000), None])
    with auto.photo():
        t.now += 10
        assert auto.left(0.25) == pytest.approx(30.0 + 2 * 40.0)  # the path is not known yet: as before


def test_what_comes_in_later_is_taken_into_account():
    t = FakeClock()
    clock = BatchClock(3, t)
    with clock.photo() as attempt:
        t.now += 40
        attempt.restored("rain", 2000, 1000, "tiled")
    assert clock.left() == pytest.approx(80.0)  # nothing read yet: the photo done's time each
    clock.sizes[1:] = [(1000, 1000), (4000, 1000)]  # (as the CLI's thread fills them in)
    assert clock.left() == pytest.approx(80.0)  # (a size without a degradation says nothing of the path)
    clock.tasks[1:] = ["rain", "rain"]
    assert clock.left() == pytest.approx(20.0 + 80.0)
