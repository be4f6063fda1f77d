"""Unexpected errors, crashes and freezes of the app itself: logged, shown once, and a crash or a freeze it did
not come out of reported at the next start (app.crash_report, app.main.report_errors)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from app.crash_report import CRASH_FILE, hung, take_previous_crash
from app.main import report_errors
from app.widgets.error_dialog import ErrorDialog

ROOT = Path(__file__).resolve().parents[2]


def error_dialogs(window) -> list[ErrorDialog]:
    return [d for d in window._dialogs if isinstance(d, ErrorDialog) and d.isVisible()]


@pytest.fixture
def reporting(make_window):
    """A window that shows unexpected errors, as the app's does; the hooks are put back afterwards."""
    window = make_window()
    put_back = report_errors(window, None)
    yield window
    put_back()


def next_start_dialog(make_window, qtbot, folder: Path) -> ErrorDialog:
    """The dialog a window opens on the report the last run left in `folder`."""
    window = make_window()
    put_back = report_errors(window, take_previous_crash(folder))
    try:
        qtbot.waitUntil(lambda: len(error_dialogs(window)) == 1)
    finally:
        put_back()
    [dialog] = error_dialogs(window)
    return dialog


def paint_that_fails() -> None:
    raise ValueError("a bug in a slot")


@pytest.mark.qt_no_exception_capture  # (pytest-qt's own hook would take the error first)
def test_an_error_in_a_slot_is_logged_and_shown_once(reporting, qtbot, caplog):
    """Qt hands an error that escapes a slot to sys.excepthook, which only printed it: a double-clicked app
    has no terminal, so nobody saw it and the log file did not hold it."""
    window = reporting
    with caplog.at_level(logging.ERROR, logger="app.crash"):
        for _ in range(5):  # as from a paint, again and again
            QTimer.singleShot(0, paint_that_fails)
        qtbot.waitUntil(lambda: len(error_dialogs(window)) == 1)
        qtbot.wait(100)
    [dialog] = error_dialogs(window)
    assert dialog.windowTitle() == "Something went wrong"
    assert "ValueError: a bug in a slot" in dialog.message.text()
    assert "in paint_that_fails" in dialog.details.toPlainText()  # the traceback, for a report
    logged = [r.getMessage() for r in caplog.records]
    assert "in paint_that_fails" in logged[0] and "Traceback" in logged[0]
    # then once at 2 and at 4 times, without the traceback: the log is not flooded
    assert [m.split(":")[0] for m in logged[1:]] == ["the same unexpected error again (2 times so far)",
                                                     "the same unexpected error again (4 times so far)"]


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_thread_reaches_the_window(reporting, qtbot, caplog):
    window = reporting

    def work() -> None:
        raise OSError("a bug in a worker thread")

    with caplog.at_level(logging.ERROR, logger="app.crash"):
        thread = threading.Thread(target=work, name="reader")
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda: len(error_dialogs(window)) == 1)
    [dialog] = error_dialogs(window)
    assert "OSError: a bug in a worker thread" in dialog.message.text()
    assert "unexpected error in thread reader" in caplog.records[0].getMessage()


def run_child(folder: Path, then: str) -> subprocess.CompletedProcess:
    code = ("import sys; from pathlib import Path; from app.crash_report import watch_for_crashes; "
            f"watch_for_crashes(Path(sys.argv[1]), '9.9'); {then}")
    return subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60, check=False)


def test_a_crash_leaves_a_report_that_the_next_start_takes_once(tmp_path):
    """A segfault in Qt or a library left nothing behind: no traceback, no line in the log."""
    done = run_child(tmp_path, "import faulthandler; faulthandler._sigsegv()")
    assert done.returncode != 0
    report = take_previous_crash(tmp_path)
    assert report is not None and report.name.startswith("crash-") and report.suffix == ".txt"
    text = report.read_text()
    assert text.startswith("Hourglass 9.9, pid ")
    assert "Fatal Python error: Segmentation fault" in text and 'File "<string>", line 1 in <module>' in text
    assert not (tmp_path / CRASH_FILE).exists()
    assert take_previous_crash(tmp_path) is None  # reported once; the report stays in the log folder
    assert report.exists()


def test_a_run_that_ends_well_leaves_nothing_to_report(tmp_path):
    assert run_child(tmp_path, "print('fine')").returncode == 0
    assert (tmp_path / CRASH_FILE).read_text().startswith("Hourglass 9.9")
    assert take_previous_crash(tmp_path) is None
    assert take_previous_crash(tmp_path / "never-made") is None


def test_the_next_start_says_the_app_crashed_and_shows_the_report(make_window, qtbot, tmp_path):
    run_child(tmp_path, "import faulthandler; faulthandler._sigsegv()")
    dialog = next_start_dialog(make_window, qtbot, tmp_path)
    assert dialog.windowTitle() == "Hourglass closed unexpectedly"
    assert "queue is saved as it changes" in dialog.message.text() and "crash-" in dialog.message.text()
    assert "Fatal Python error: Segmentation fault" in dialog.details.toPlainText()



HANG = """
import os, sys, time
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.crash_report import HangWatch, ended_cleanly, watch_for_crashes
watch_for_crashes(Path(sys.argv[1]), "9.9")
app = QApplication([])
watch = HangWatch(seconds=1.0)
def stall():
    time.sleep(2.5)  # the GUI thread stuck, as in a deadlock
    if sys.argv[2] == "killed":
        os._exit(9)  # closed by force while it did not respond
    QTimer.singleShot(1500, end)
def end():
    if sys.argv[2] == "recovered, then killed":
        os._exit(9)
    ended_cleanly()
    app.quit()
QTimer.singleShot(300, stall)
app.exec()
"""


@pytest.mark.parametrize("end", ["killed", "recovered, then killed", "recovered, then quit"])
def test_a_window_that_stops_responding_leaves_its_stacks_for_the_next_start(tmp_path, end):
    """A deadlock (the GUI thread waiting for the GIL a worker holds) froze the window with no trace; closed
    by force, it left nothing to report. A stall is reported only if the window never came back."""
    done = subprocess.run([sys.executable, "-c", HANG, str(tmp_path), end], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen"),
                          timeout=60, check=False)
    assert done.returncode == (0 if end.endswith("quit") else 9), done.stderr
    text = (tmp_path / CRASH_FILE).read_text()
    assert "Timeout (0:00:01)!" in text and "in stall" in text, text  # the stack, dumped while it was stuck
    report = take_previous_crash(tmp_path)
    if end == "killed":
        assert report is not None and hung(report.read_text())
    else:
        assert report is None and re.search(r"responding again after [23] s", text), text
        assert ("ended cleanly" in text) == end.endswith("quit")
        # a freeze the user waited out is in the log too, with what each thread was doing
        assert re.search(r"the window did not respond for [23] s; what its threads were doing:\nTimeout",
                         done.stderr) and "in stall" in done.stderr.split("did not respond")[1], done.stderr


def test_the_next_start_says_the_window_stopped_responding(make_window, qtbot, tmp_path):
    subprocess.run([sys.executable, "-c", HANG, str(tmp_path), "killed"], capture_output=True, cwd=ROOT, timeout=60,
                   env=dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen"), check=False)
    dialog = next_start_dialog(make_window, qtbot, tmp_path)
    assert "Hourglass stopped responding and was closed" in dialog.message.text()
    assert "Timeout (0:00:01)!" in dialog.details.toPlainText()


def test_only_the_newest_reports_are_kept(tmp_path):
    for day in range(1, 13):
        (tmp_path / f"crash-202611{day:02d}-120000.txt").write_text("an old report")
    (tmp_path / CRASH_FILE).write_text("Hourglass 9.9\nFatal Python error: Aborted\n")
    report = take_previous_crash(tmp_path)
    kept = sorted(p.name for p in tmp_path.glob("crash-*.txt"))
    assert len(kept) == 10 and report.name == kept[-1] and kept[0] == "crash-20261104-120000.txt"
