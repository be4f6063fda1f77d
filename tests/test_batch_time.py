"""The time left in a batch as the CLI says it, and the wording the GUI shares."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from engine.batch_time import BatchClock, format_time_left
from engine.cli import ProgressBar


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
