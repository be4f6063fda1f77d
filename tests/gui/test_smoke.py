"""`hourglass --smoke` (app/smoke.py): the installation self-test the packaging smoke test runs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from app.smoke import PREFIX, launch_epoch, process_start_epoch, smoke_check

ROOT = Path(__file__).resolve().parents[2]


def _run(qtbot, coro):
    fut = asyncio.ensure_future(coro)
    qtbot.waitUntil(fut.done, timeout=20_000)
    return fut.result()


def test_smoke_reports_the_window_and_the_engine_handshake(make_window, fake_engine, qtbot, tmp_path, capsys):
    async def ping(timeout=None):
        return SimpleNamespace(state=SimpleNamespace(value="idle"))

    fake_engine.ping = ping
    window = make_window()
    report = tmp_path / "smoke.json"
    assert _run(qtbot, smoke_check(window, window.runner, str(report))) == 0
    data = json.loads(report.read_text())
    assert data["passed"] and data["window_visible"] and data["ping"] == "idle"
    assert data["models"] == [{"name": "tiny", "origin": "user", "default": False}]
    assert 0 <= data["window_shown_s"] <= data["engine_ready_s"] <= data["total_s"]
    assert data["frozen"] is False and data["engine_command"][1:] == ["-m", "engine"]
    assert "backends" in data["keep_awake"]  # (Qt's D-Bus module is there; an installer must bundle it)
    assert data["notifications"]["client"].startswith("jeepney ")  # (so must it bundle jeepney)
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(PREFIX)]
    assert json.loads(line[0][len(PREFIX):]) == data


def test_smoke_fails_with_the_reason_when_the_engine_does_not_start(make_window, fake_engine, qtbot, tmp_path):
    async def start():
        raise RuntimeError("no torch in this bundle")

    fake_engine.start = start
    window = make_window()
    report = tmp_path / "smoke.json"
    assert _run(qtbot, smoke_check(window, window.runner, str(report))) == 1
    data = json.loads(report.read_text())
    assert not data["passed"] and "no torch in this bundle" in data["error"]


def test_smoke_fails_when_the_computer_could_not_be_kept_awake(make_window, fake_engine, qtbot, tmp_path,
                                                               monkeypatch):
    """An installer that left out Qt's D-Bus module would let a Linux desktop sleep in the middle of a batch."""
    import app.keep_awake

    async def ping(timeout=None):
        return SimpleNamespace(state=SimpleNamespace(value="idle"))

    def without_dbus():
        raise ImportError("No module named 'PySide6.QtDBus'")

    fake_engine.ping = ping
    monkeypatch.setattr(app.keep_awake, "default_backends", without_dbus)
    window = make_window()
    report = tmp_path / "smoke.json"
    assert _run(qtbot, smoke_check(window, window.runner, str(report))) == 1
    assert "PySide6.QtDBus" in json.loads(report.read_text())["keep_awake"]["error"]


def test_launch_time_comes_from_the_process_start(monkeypatch):
    import time

    start = process_start_epoch()
    if sys.platform.startswith("linux"):
        assert start is not None and start <= time.time()
    monkeypatch.setenv("HOURGLASS_LAUNCH_TS", "123.5")
    assert launch_epoch() == 123.5


def test_smoke_flag_end_to_end_with_a_scripted_engine(tmp_path):
    """`python -m app --smoke` opens the window, talks to an engine process and exits with a report (the
    scripted engine offers no model, so the check fails, and says why)."""
    engine = f"{sys.executable} {ROOT / 'tests' / 'fakes' / 'fake_engine.py'} normal"
    report = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "-m", "app", "--smoke", "--smoke-report", str(report), "--engine-cmd", engine,
                        "--data-dir", str(tmp_path / "data")], check=False, capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 1, r.stderr
    data = json.loads(report.read_text())
    assert data["window_visible"] and data["protocol"] == 1 and data["ping"]
    assert "no model" in data["error"]
    log = (tmp_path / "data" / "logs" / "hourglass.log").read_text("utf-8")  # for a bug report
    assert "Hourglass GUI starting" in log and "fake engine normal" in log  # the app's lines and the engine's
    assert "fake engine normal" not in r.stderr  # the console keeps the default level (WARNING)


def test_smoke_fails_when_notifications_could_not_be_sent(make_window, fake_engine, qtbot, tmp_path, monkeypatch):
    """An installer that left out jeepney would finish a Linux batch in the background without telling."""
    async def ping(timeout=None):
        return SimpleNamespace(state=SimpleNamespace(value="idle"))

    fake_engine.ping = ping
    monkeypatch.setitem(sys.modules, "jeepney", None)  # (import jeepney now raises ImportError)
    window = make_window()
    report = tmp_path / "smoke.json"
    assert _run(qtbot, smoke_check(window, window.runner, str(report))) == 1
    assert "jeepney" in json.loads(report.read_text())["notifications"]["error"]
