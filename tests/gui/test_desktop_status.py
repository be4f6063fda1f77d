"""The batch seen from outside the window (app.desktop_status): its progress on the launcher entry (the
LauncherEntry signal, read back with dbus-monitor) and a notification when it ends unseen (a stand-in
notification service of the real signature), over a private D-Bus session bus; and the window's wiring."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from gui_helpers import make_photo
from test_main_window import TIMEOUT, wait_idle

from app.desktop_status import LauncherProgress, Notifier, connect


def monitor(address: str, log: Path) -> subprocess.Popen:
    """dbus-monitor printing the LauncherEntry signals on the bus, once it is listening."""
    if shutil.which("dbus-monitor") is None:
        pytest.skip("no dbus-monitor on this machine")
    process = subprocess.Popen(["dbus-monitor", "--address", address,
                                "type='signal',interface='com.canonical.Unity.LauncherEntry'"],
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while "NameAcquired" not in log.read_text():
        assert time.monotonic() < deadline, "dbus-monitor did not start"
        time.sleep(0.05)
    return process


def updates(log: Path, count: int) -> list[str]:
    """The LauncherEntry Update signals dbus-monitor printed, each as one line of its arguments, once
    `count` are there and the log has stopped growing (dbus-monitor prints a signal over several writes:
    read between them, the last one was cut short)."""
    deadline = time.monotonic() + 20
    text = ""
    while True:
        before, text = text, log.read_text()
        blocks = text.split("member=Update")[1:]
        if (len(blocks) >= count and text == before) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    lines = []
    for block in blocks:
        words = [w.strip() for w in block.splitlines()[1:] if w.strip() and not w.startswith("signal")]
        lines.append(" ".join(" ".join(w.split()) for w in words if w not in ("array [", "]", "dict entry(", ")")))
    return lines


def test_the_launcher_entry_shows_the_batchs_progress(qapp, session_bus, tmp_path):
    """KDE's task manager, Ubuntu's dock and Dash to Dock read `Update(app_uri, a{sv})`: the bar is sent
    when it moves by half a percent or more, appears or goes, not on every refresh of the window."""
    bus, start = session_bus
    process = monitor(start.address, tmp_path / "monitor.log")
    try:
        launcher = LauncherProgress(bus)
        for fraction in (0.0, 0.001, 0.004, 0.25, 0.252, 1.0, None, None):
            launcher.show(fraction)
        got = updates(tmp_path / "monitor.log", 4)
    finally:
        process.kill()
        process.wait()
    uri = 'string "application://hourglass.desktop"'
    visible = 'string "progress-visible" variant boolean true'
    assert got == [f'{uri} string "progress" variant double 0 {visible}',
                   f'{uri} string "progress" variant double 0.25 {visible}',
                   f'{uri} string "progress" variant double 1 {visible}',
                   f'{uri} string "progress-visible" variant boolean false']


def test_a_batch_that_ends_unseen_is_a_desktop_notification(qapp, session_bus, tmp_path):
    _bus, start = session_bus
    calls = start("notifications")
    icon = tmp_path / "icon.png"
    icon.write_bytes(b"png")
    notifier = Notifier(start.address, icon)
    notifier.notify("Batch finished", "12 done, 1 failed")
    assert notifier.wait(30)
    assert calls.read_text().splitlines()[1:] == [
        (f"Notify 'Hourglass' 0 '{icon.as_uri()}' 'Batch finished' '12 done, 1 failed' [] "
         "{'desktop-entry': 'hourglass'} -1 -> 1")]


def test_a_slow_notification_service_does_not_hold_up_the_window(qapp, session_bus, tmp_path):
    _bus, start = session_bus
    gate = tmp_path / "gate"
    calls = start("notifications", gate)
    notifier = Notifier(start.address)
    notifier.notify("Batch finished", "3 done")
    answered = "->" in calls.read_text()  # read at once: the service answers only once the gate is open
    assert not answered
    gate.touch()
    assert notifier.wait(30)
    assert calls.read_text().splitlines()[1:] == [
        "asked", "Notify 'Hourglass' 0 'hourglass' 'Batch finished' '3 done' [] {'desktop-entry': 'hourglass'} -1 -> 1"]


def test_without_a_notification_service_nothing_is_shown_and_nothing_fails(qapp, session_bus, caplog,
                                                                          monkeypatch, tmp_path):
    _bus, start = session_bus
    with caplog.at_level("INFO", logger="app.desktop_status"):
        notifier = Notifier(start.address)  # a bus without the service
        notifier.notify("Batch finished", "1 done")
        assert notifier.wait(30)
        assert "did not show the notification" in caplog.text and "ServiceUnknown" in caplog.text
        monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
        notifier = Notifier()  # no session bus at all
        notifier.notify("Batch finished", "1 done")
        assert notifier.wait(30)
        assert "no session bus here" in caplog.text
        for address in ("tcp:host=127.0.0.1,port=1", "disabled:", str(tmp_path / "nowhere")):
            monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)  # buses it cannot reach
            notifier.notify("Batch finished", "1 done")
        assert notifier.wait(30)
    assert caplog.text.count("no notification (") == 3 and "a call failed" not in caplog.text


def test_the_window_reports_its_batch_to_the_desktop(make_window, qtbot, tmp_path, monkeypatch):
    """The progress goes to the launcher while the batch runs and is hidden when it ends; a batch that ends
    while the user is in another window is also a notification (one they are watching is not)."""
    shown: list[float | None] = []
    notes: list[tuple[str, str]] = []

    class Launcher:
        def __init__(self, _bus) -> None: ...

        def show(self, fraction) -> None:
            shown.append(fraction)

    class Notes:
        def __init__(self, **_kw) -> None: ...

        def notify(self, summary: str, body: str, on_click=None) -> None:
            notes.append((summary, body))

    monkeypatch.setattr("app.desktop_status.LauncherProgress", Launcher)
    monkeypatch.setattr("app.desktop_status.Notifier", Notes)
    assert connect(object(), None) is None  # no session bus (Windows, macOS, a bare session): nothing to do
    window = make_window()
    window.desktop_status = connect(window, object())  # (kept, as the app keeps them)
    monkeypatch.setattr(window, "isActiveWindow", lambda: False)  # the user is in another window
    window.add_paths([str(make_photo(tmp_path / "in" / f"slow{i}.jpg")) for i in range(2)])
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    window.runner.start()
    wait_idle(qtbot, window)
    fractions = [f for f in shown if f is not None]
    assert fractions and fractions == sorted(fractions) and shown[-1] is None
    assert len(notes) == 1 and notes[0][0] == "Batch finished"
    assert re.fullmatch(r"2 done in \d+ s", notes[0][1])  # (how long the batch took: it ran while they were away)
    monkeypatch.setattr(window, "isActiveWindow", lambda: True)  # watching: no notification
    window.add_paths([str(make_photo(tmp_path / "in" / "slow2.jpg"))])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    window.runner.start()
    wait_idle(qtbot, window)
    assert len(notes) == 1


def click(address: str, member: str, *body) -> None:
    """What the notification service sends when the user clicks a notification or it is closed."""
    from jeepney import DBusAddress, new_signal
    from jeepney.io.blocking import open_dbus_connection

    signature = {"ActionInvoked": "us", "NotificationClosed": "uu"}[member]
    with open_dbus_connection(bus=address) as connection:
        connection.send(new_signal(DBusAddress("/org/freedesktop/Notifications",
                                               interface="org.freedesktop.Notifications"), member, signature, body))


def test_a_click_on_the_notification_runs_its_action_until_it_is_closed(qapp, session_bus):
    """The notification offers its default action ("Show"); the click on it (ActionInvoked with its id) runs
    `on_click` once. Another application's notification is none of its business; once closed, nothing
    listens any more."""
    import threading

    _bus, start = session_bus
    calls = start("notifications")
    clicked = threading.Event()
    notifier = Notifier(start.address)
    notifier.notify("Batch finished", "2 done", clicked.set)
    assert notifier.wait(30) and notifier.watching == 1
    assert "['default', 'Show']" in calls.read_text()
    click(start.address, "ActionInvoked", 99, "default")  # another notification's
    click(start.address, "ActionInvoked", 1, "other")
    assert not clicked.wait(0.5)
    click(start.address, "ActionInvoked", 1, "default")
    assert clicked.wait(30)
    deadline = time.monotonic() + 30
    while notifier.watching:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    clicked.clear()  # a second one, closed without a click: the listening ends, nothing runs
    notifier.notify("Batch stopped", "1 done, 1 waiting", clicked.set)
    assert notifier.wait(30) and notifier.watching == 1
    click(start.address, "NotificationClosed", 2, 2)
    while notifier.watching:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert not clicked.is_set()


def test_the_app_wires_its_window_to_the_session_bus(qtbot, aloop, session_bus, tmp_path, monkeypatch):
    import argparse

    from app import desktop_status
    from app.main import build

    bus, start = session_bus
    calls = start("notifications")
    monkeypatch.setattr(desktop_status, "default_bus", lambda: bus)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", start.address)
    process = monitor(start.address, tmp_path / "monitor.log")
    try:
        window, _runner = build(argparse.Namespace(engine_cmd=None))
        qtbot.addWidget(window)
        window.batch_progress.emit(0.5)
        window.batch_ended_unseen.emit("Batch stopped", "1 done, 2 waiting")
        got = updates(tmp_path / "monitor.log", 1)
    finally:
        process.kill()
        process.wait()
    assert len(got) == 1 and 'string "progress" variant double 0.5' in got[0]
    _launcher, notifier = window.desktop_status
    assert notifier.wait(30)
    assert "'Batch stopped' '1 done, 2 waiting'" in calls.read_text()
    # a click on it brings the window forward, on the GUI thread
    import threading

    import app.main

    forward: list[bool] = []
    monkeypatch.setattr(app.main, "bring_forward", lambda w, r, paths: forward.append(
        w is window and paths == [] and threading.current_thread() is threading.main_thread()))
    click(start.address, "ActionInvoked", 1, "default")
    qtbot.waitUntil(lambda: forward == [True], timeout=30_000)
