"""Keeping the computer awake while a batch runs (app.keep_awake): the desktop services over a private
D-Bus session bus with a stand-in service of the real signatures, and the window's wiring. The ways that
need no desktop service (engine.keep_awake) are tested in tests/test_keep_awake.py."""

from __future__ import annotations

import time

import pytest
from keep_awake_helpers import Recording, keep_awake_on  # noqa: F401 - (an autouse fixture)

from app.keep_awake import DBusInhibitor, KeepAwake


def _backends(bus):
    from app.keep_awake import DBUS_SERVICES

    return lambda: [DBusInhibitor(bus, *service) for service in DBUS_SERVICES]


@pytest.mark.parametrize("desktop", ["kde", "gnome"])
def test_a_batch_keeps_the_desktop_from_suspending_until_it_ends(qapp, session_bus, desktop):
    """KDE/XFCE's power service or GNOME's session manager is asked to hold off (idle) suspend when the batch
    starts, with the cookie it gave back released when it ends; GNOME's flag is suspend only (4), so the
    screen may still blank."""
    bus, start = session_bus
    calls = start(desktop)
    keep = KeepAwake(_backends(bus))
    keep.set_held(True)
    keep.set_held(True)  # a batch that grows while it runs: still one hold
    assert keep.wait(30)
    assert keep.held_by == ("org.freedesktop.PowerManagement" if desktop == "kde" else "org.gnome.SessionManager")
    keep.set_held(False)
    keep.set_held(False)
    assert keep.wait(30)
    assert keep.held_by is None
    log = calls.read_text().splitlines()[1:]
    if desktop == "kde":
        assert log == ["Inhibit hourglass 'Restoring photos' -> 42", "UnInhibit 42"]
    else:
        assert log == ["Inhibit hourglass 0 'Restoring photos' flags=4 -> 1001", "Uninhibit 1001"]


def test_without_a_desktop_power_service_nothing_is_held_and_nothing_fails(qapp, session_bus, caplog):
    bus, _start = session_bus
    keep = KeepAwake(_backends(bus))
    with caplog.at_level("INFO", logger="engine.keep_awake"):
        keep.set_held(True)
        assert keep.wait(30)
    assert keep.held_by is None and "it may go to sleep" in caplog.text
    keep.set_held(False)


def test_a_slow_power_service_does_not_hold_up_the_window(qapp, session_bus, tmp_path):
    """A power service that takes its time to answer (D-Bus waits up to 25 s) is waited for on the keep-awake
    thread: the window's set_held returns before the service has answered, and the hold is taken when it
    does. (Asked on the GUI thread, it froze the window until then.)"""
    bus, start = session_bus
    gate = tmp_path / "gate"
    calls = start("gnome", gate)
    keep = KeepAwake(_backends(bus))
    keep.set_held(True)
    answered = "->" in calls.read_text()  # read at once: the service answers only once the gate is open
    deadline = time.monotonic() + 20
    while "asked" not in calls.read_text():
        assert time.monotonic() < deadline, "the request did not reach the service"
        time.sleep(0.02)
    assert not answered and keep.held_by is None
    keep.set_held(False)  # the batch ended meanwhile: released once the hold is in
    gate.touch()
    assert keep.wait(30)
    assert keep.held_by is None
    assert calls.read_text().splitlines()[1:] == [
        "asked", "Inhibit hourglass 0 'Restoring photos' flags=4 -> 1001", "Uninhibit 1001"]


def test_holds_and_releases_are_applied_in_order_on_one_thread():
    """Windows ties SetThreadExecutionState to the calling thread: holding and releasing must share one."""
    import threading

    threads: set[int] = set()

    class OnThread(Recording):
        def hold(self) -> bool:
            threads.add(threading.get_ident())
            return super().hold()

        def release(self) -> None:
            threads.add(threading.get_ident())
            super().release()

    held: list[bool] = []
    keep = KeepAwake(lambda: [OnThread(held)])
    for state in (True, False, True, True, False, True):
        keep.set_held(state)
    assert keep.wait(30)
    assert held == [True, False, True, False, True] and keep.held_by == "test"
    assert keep.close(30) and held[-1] is False and keep.held_by is None
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_closing_without_a_batch_starts_nothing():
    keep = KeepAwake(lambda: pytest.fail("no batch ran: nothing to hold"))
    assert keep.close(0.1)


def test_the_window_holds_the_computer_awake_while_its_batch_runs(make_window, photos, qtbot):
    """The app connects the runner's running state to the hold (app.main.build does the same)."""
    from app.keep_awake import connect

    held: list[bool] = []
    window = make_window()
    keep = KeepAwake(lambda: [Recording(held)])
    connect(window.runner, keep)
    _root, files = photos
    window.runner.add_paths([str(f) for f in files])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=10_000)
    window.runner.start()
    qtbot.waitUntil(lambda: held == [True], timeout=10_000)
    qtbot.waitUntil(lambda: not window.runner.running, timeout=30_000)
    assert keep.wait(30)
    assert held == [True, False]


def test_the_app_wires_the_hold_to_its_runner(qtbot, aloop):
    import argparse

    from app.main import build

    window, runner = build(argparse.Namespace(engine_cmd=None))
    qtbot.addWidget(window)
    held: list[bool] = []
    window.keep_awake.backends = lambda: [Recording(held)]
    runner.running_changed.emit(True)
    runner.running_changed.emit(False)
    assert window.keep_awake.wait(30)
    assert held == [True, False]
