"""SIGTERM and Ctrl+C close the app as Quit does (app.quit_signals), in a real `python -m app` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gui_helpers import make_photo

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_closes_the_window_as_quit_does(tmp_path, signum):
    """SIGTERM (a logout, `kill`) ended the app on the spot (status -15); Ctrl+C in its terminal left the real
    window open, or here ended the run with 130 without closing it. Both now close it as Quit does."""
    photo = make_photo(tmp_path / "photos" / "dark.jpg")
    data = tmp_path / "data"
    engine = f"{sys.executable} {ROOT / 'tests' / 'fakes' / 'fake_engine.py'} normal"
    app = subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data), "--engine-cmd", engine, str(photo)],
                           cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        queue = data / "queue.json"
        deadline = time.monotonic() + 60
        while not (queue.exists() and "dark.jpg" in queue.read_text()) and time.monotonic() < deadline:
            assert app.poll() is None, app.stdout.read()
            time.sleep(0.1)
        time.sleep(0.5)  # (the window up, the photo queued)
        app.send_signal(signum)
        out = app.communicate(timeout=30)[0]
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, out
    report = (data / "logs" / "crash.txt").read_text()
    assert "ended cleanly" in report
    assert f"{signal.Signals(signum).name}: closing the window" in (data / "logs" / "hourglass.log").read_text()
    assert "dark.jpg" in (data / "queue.json").read_text()
