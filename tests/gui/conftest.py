"""GUI test fixtures: an asyncio loop on top of pytest-qt's Qt loop (qasync), isolated data folders,
small generated photos, a fake engine and a ready-made main window."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from gui_helpers import make_photo

pytest.importorskip("PySide6")
qasync = pytest.importorskip("qasync")

from app import qt_compat

qt_compat.install()  # before any signal is emitted (see the module's docstring)


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread():
    """After each GUI test, its windows and dialogs (kept alive by reference cycles: signals connected to
    lambdas that hold their owners) are freed here, on the GUI thread. Left to the cyclic collector, they
    were freed by whichever thread allocated next, a later test's worker thread among them, and a timer of
    theirs then crashed the run (`QTimerInfoList::activateTimers`, a segmentation fault in a CLI test
    150 tests on). The app itself collects on the GUI thread (`app.main_thread_gc`)."""
    import gc

    yield
    gc.collect()


@pytest.fixture(autouse=True)
def empty_clipboard():
    """After each GUI test the clipboard is emptied: data a test left there (Copy restored files puts a
    QMimeData of its own) crashed the interpreter as it exited under the offscreen platform (a segmentation
    fault after the last test, the run's status 139; not under X11, where the app runs)."""
    yield
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        QApplication.clipboard().clear()


@pytest.fixture
def aloop(qapp):
    """A qasync loop marked as running: coroutines advance whenever pytest-qt spins the Qt loop."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    deadline = loop.time() + 5
    while any(not t.done() for t in pending) and loop.time() < deadline:
        qapp.processEvents()
    loop._QEventLoop__is_running = False
    loop._after_run_forever()
    asyncio.events._set_running_loop(None)
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    path = tmp_path / "data"
    monkeypatch.setenv("HOURGLASS_DATA_DIR", str(path))
    return path


@pytest.fixture
def photos(tmp_path):
    """Three photos, a folder with nested photos and a text file, in `tmp_path/in`."""
    root = tmp_path / "in"
    files = [make_photo(root / "a.jpg"), make_photo(root / "b.png"), make_photo(root / "c.jpg")]
    make_photo(root / "album" / "d.jpg")
    make_photo(root / "album" / "trip" / "e.png")
    (root / "album" / "notes.txt").write_text("not a photo")
    return root, files


@pytest.fixture
def fake_engine():
    from fake_engine_service import FakeEngine

    return FakeEngine()


@pytest.fixture
def make_window(qtbot, aloop, fake_engine):
    """Build a MainWindow over a fresh queue (persisted in the test's data folder) and the fake engine."""
    from app.queue_model import BatchQueue, default_queue_path
    from app.runner import BatchRunner
    from app.settings import Settings
    from app.widgets.main_window import MainWindow

    made = []

    def make(engine=None, settings=None):
        queue = BatchQueue(default_queue_path())
        queue.load()
        runner = BatchRunner(queue, settings or Settings.load(), engine or fake_engine)
        window = MainWindow(runner)
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        return window

    yield make
    for w in made:
        w.runner._closing = True
        w.runner._pause = True


FAKES = Path(__file__).resolve().parents[1] / "fakes"
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@pytest.fixture
def session_bus(tmp_path):
    """A private D-Bus session bus (dbus-daemon), a Qt connection to it, and `start(kind, *gate)`, which puts a
    stand-in desktop service on it (tests/fakes/fake_desktop_service.py) and returns the file it logs to."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("no dbus-daemon on this machine")
    from PySide6.QtDBus import QDBusConnection

    config = tmp_path / "bus.conf"  # a session bus that starts no service itself (a notification daemon
    config.write_text(BUS_CONFIG)    # installed here would be activated by the standard one's .service files)
    daemon = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                              stdout=subprocess.PIPE, text=True)
    address = daemon.stdout.readline().strip()
    name = f"desktop-test-{tmp_path.name}"
    bus = QDBusConnection.connectToBus(address, name)
    assert bus.isConnected()
    services = []

    def start(kind: str, *gate: Path) -> Path:
        calls = tmp_path / f"{kind}.log"
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
        services.append(subprocess.Popen([sys.executable, str(FAKES / "fake_desktop_service.py"), str(calls), kind,
                                          *map(str, gate)], env=env))
        deadline = time.monotonic() + 20
        while not (calls.exists() and "ready" in calls.read_text()):
            assert time.monotonic() < deadline, "the stand-in service did not start"
            time.sleep(0.05)
        return calls

    start.address = address  # (for dbus-monitor)
    yield bus, start
    for service in services:
        service.kill()
        service.wait()
    QDBusConnection.disconnectFromBus(name)
    daemon.kill()
    daemon.wait()
