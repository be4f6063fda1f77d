"""Files macOS opens with the app (Open With, the Dock icon, Lightroom's Edit In) come as QFileOpenEvents
to the application object (app.file_open): kept until the window can take them, then handed over at once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import QEvent, QUrl
from PySide6.QtGui import QFileOpenEvent

from app.file_open import OpenedFiles

ROOT = Path(__file__).resolve().parents[2]


def test_files_opened_before_the_window_wait_for_it_and_come_in_one_batch(qtbot, tmp_path):
    opened = OpenedFiles()
    got = []
    opened.files.connect(got.append)
    a, b, c = (str(tmp_path / n) for n in ("a.tif", "b.jpg", "c.png"))
    assert opened.take(QFileOpenEvent(a)) and opened.take(QFileOpenEvent(QUrl.fromLocalFile(b)))
    assert not opened.take(QEvent(QEvent.Type.Timer))  # not ours
    qtbot.wait(250)
    assert got == []  # no window yet
    opened.deliver()
    assert got == [[a, b]]
    opened.take(QFileOpenEvent(c))
    qtbot.waitUntil(lambda: len(got) == 2, timeout=2000)
    assert got[1] == [c]


def test_the_application_object_takes_the_event(tmp_path):
    """The real path: a QFileOpenEvent sent to the app's QApplication (as macOS does) comes out of
    `opened.files` (a process of its own: one QApplication per process)."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from PySide6.QtCore import QTimer
        from PySide6.QtGui import QFileOpenEvent
        from app.file_open import HourglassApplication
        app = HourglassApplication(sys.argv[:1])
        app.opened.files.connect(lambda paths: (print("opened", *paths), app.quit()))
        app.sendEvent(app, QFileOpenEvent({str(tmp_path / "IMG_0001-Edit.tif")!r}))
        QTimer.singleShot(0, app.opened.deliver)  # (the window is up once the loop runs)
        QTimer.singleShot(3000, app.quit)
        app.exec()
    """)
    out = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.stdout.strip() == f"opened {tmp_path / 'IMG_0001-Edit.tif'}", out.stderr[-500:]


def test_the_window_queues_and_shows_what_was_opened_before_it_was_up(make_window, qtbot, photos):
    """app.main's wiring: files opened while the window was being made are queued and shown once it is."""
    from types import SimpleNamespace

    from app.main import take_opened_files

    _root, files = photos
    app = SimpleNamespace(opened=OpenedFiles())
    app.opened.take(QFileOpenEvent(str(files[1])))  # (macOS sends it as the app starts)
    window = make_window()
    take_opened_files(app, window, window.runner)
    qtbot.waitUntil(lambda: len(window.queue) == 1 and window.current_item() is window.queue[0], timeout=5000)
    assert window.queue[0].path == str(files[1])
    app.opened.take(QFileOpenEvent(str(files[0])))  # and while it runs
    qtbot.waitUntil(lambda: len(window.queue) == 2 and window.current_item() is window.queue[1], timeout=5000)
