"""Images decoded off the GUI thread must not make Qt's format plugins there (app.images.load_format_plugins).

A plugin made in a worker thread is moved to the GUI thread under a lock the GUI thread can hold while it waits
for the GIL, which the worker holds: the test suite once hung there for good, at a window's first thumbnail. No
Python call shows where Qt makes a plugin, so a debugger counts the moves: gdb runs a child that makes the
window's image loader, then reads a JPEG, TIFF, WebP and GIF in a worker thread, as thumbnails are read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import sys, threading
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.images import ImageLoader, read_image
loader = ImageLoader()
from PySide6.QtCore import QObject, QThread
probe, elsewhere = QObject(), QThread()
probe.moveToThread(elsewhere)  # a move on the GUI thread: shows that gdb sees moves at all
sys.stderr.write("GUI thread ready\\n")  # (stderr, each line one write: gdb's own lines go to stdout)
sizes = []
worker = threading.Thread(target=lambda: sizes.extend(read_image(p, 48).width() for p in sys.argv[1:]))
worker.start()
worker.join()
sys.stderr.write(f"read {sizes}\\n")
"""
# Qt's private QObjectPrivate::setThreadData_helper runs only when an object really changes thread
GDB = """set pagination off
set breakpoint pending on
break QObjectPrivate::setThreadData_helper
commands
silent
printf "moved on thread %d\\n", $_thread
continue
end
run
"""


@pytest.mark.skipif(shutil.which("gdb") is None, reason="needs gdb, to see where Qt makes its plugins")
def test_reading_in_a_worker_thread_moves_no_plugin_between_threads(tmp_path):
    photos = []
    for ext in ("jpg", "tif", "webp", "gif"):
        Image.new("RGB", (64, 40), (30, 60, 90)).save(tmp_path / f"photo.{ext}")
        photos.append(str(tmp_path / f"photo.{ext}"))
    (tmp_path / "child.py").write_text(CHILD)
    (tmp_path / "commands.gdb").write_text(GDB)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run(["gdb", "-q", "-batch", "-x", str(tmp_path / "commands.gdb"), "--args", sys.executable,
                          str(tmp_path / "child.py"), *photos], check=False, capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=120)
    out, child = done.stdout, done.stderr
    assert "read [48, 48, 48, 48]" in child, child[-2000:]  # (the child itself worked)
    if "moved on thread 1" not in out:
        pytest.skip(f"gdb cannot see Qt's moves here (no symbol QObjectPrivate::setThreadData_helper):\n{out[-2000:]}")
    moves = [line for line in out.splitlines() if line.startswith("moved on thread") and line != "moved on thread 1"]
    assert moves == [], out[-2000:]  # (the probe's move, on the GUI thread, is thread 1's)
