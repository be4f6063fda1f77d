"""The model manager (listing, the import error path through the engine's validator) and the launcher."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog

from app.launcher import wants_gui
from app.models_service import ModelRow, ModelService, error_text, rows_from_json


def test_error_text_prefers_the_cli_message():
    assert error_text("Traceback...\nhourglass: not a DiffUIR checkpoint\n") == "not a DiffUIR checkpoint"
    assert error_text("", "line1\nline2") == "line1\nline2"


def test_rows_from_json():
    rows = rows_from_json([{"name": "m", "path": "/m.safetensors", "origin": "user", "size_bytes": 10,
                            "variant": "T", "default": False}])
    assert rows == [ModelRow("m", "/m.safetensors", "user", 10, "T", False)] and rows[0].source == "Imported"
    noted = rows_from_json([{"name": "n", "path": "/n.safetensors", "size_bytes": 1, "variant": "T",
                             "default": True, "notes": {"blur": "does not sharpen"}}])
    assert noted[0].notes == (("blur", "does not sharpen"),)


def test_the_dialog_marks_a_model_with_task_notes_and_shows_them(qtbot):
    from app.widgets.model_dialog import ModelDialog

    dialog = ModelDialog(ModelService(), "default")
    qtbot.addWidget(dialog)
    dialog.set_rows([ModelRow("b", "/b.safetensors", "bundled", 1, "T", True, (("blur", "does not sharpen"),)),
                     ModelRow("m", "/m.safetensors", "user", 1, "T")])
    assert dialog.table.item(0, 0).text() == "b ✓ ⚠" and dialog.table.item(0, 4).toolTip() == "blur: does not sharpen"
    assert dialog.table.item(1, 0).text() == "m" and not dialog.table.item(1, 0).toolTip()


def test_import_of_a_wrong_file_shows_a_clear_message(qtbot, aloop, tmp_path):
    from app.widgets.model_dialog import ModelDialog

    bogus = tmp_path / "holiday.pth"
    bogus.write_bytes(b"definitely not a checkpoint")
    service = ModelService()
    dialog = ModelDialog(service, "default")
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(service.import_finished, timeout=60_000) as blocker:
        dialog.import_path(str(bogus))
    ok, message, _details = blocker.args
    assert not ok and message and "Traceback" not in message
    assert dialog.status.text().startswith("Import failed:") and message in dialog.status.text()


def test_model_list_and_selection(qtbot, aloop, tiny_model_path, monkeypatch, tmp_path):
    import shutil

    from app.widgets.model_dialog import ModelDialog

    models_dir = tmp_path / "models"
    models_dir.mkdir()
    shutil.copy(tiny_model_path, models_dir / "tiny.safetensors")
    monkeypatch.setenv("HOURGLASS_MODELS_DIR", str(models_dir))
    service = ModelService()
    dialog = ModelDialog(service, "default")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(service.models_listed, timeout=60_000):
        service.refresh()
    names = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert "tiny" in names
    row = names.index("tiny")
    assert dialog.table.item(row, 3).text() == "Imported" and dialog.table.item(row, 1).text() == "DiffUIR-T"
    dialog.table.selectRow(row)
    with qtbot.waitSignal(dialog.model_selected) as blocker:
        dialog.use_button.click()
    assert blocker.args == ["tiny"]


@pytest.mark.parametrize(("argv", "gui"), [([], True), (["gui"], True), (["photo.jpg"], True),
                                           (["restore", "x", "-o", "y"], False), (["engine"], False),
                                           (["models", "list"], False), (["--help"], False)])
def test_launcher_dispatch(argv, gui):
    assert wants_gui(argv) is gui


def test_launcher_sends_subcommands_to_the_engine_cli(monkeypatch):
    import engine.cli
    from app import launcher

    calls = []

    def fake_main(argv):
        calls.append(argv)
        return 0

    monkeypatch.setattr(engine.cli, "main", fake_main)
    assert launcher.main(["models", "list"]) == 0
    assert calls == [["models", "list"]]


def test_the_window_loads_neither_torch_nor_engine_internals():
    from test_architecture import APP_MAY_IMPORT

    code = ("import sys, app.main, app.widgets.main_window, app.runner, app.preview;"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'safetensors') or "
            f"(m.startswith('engine.') and m not in {sorted(APP_MAY_IMPORT)})];"
            "sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=60).returncode == 0


def test_emitting_signals_from_python_keeps_true_alive(qapp):
    """The PySide6 emit reference bug (see app.qt_compat) must not drain True's references."""
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        fired = Signal(bool)

    emitter = Emitter()
    got = []
    emitter.fired.connect(got.append)
    before = sys.getrefcount(True)
    for _ in range(2000):
        emitter.fired.emit(False)
    assert len(got) == 2000
    assert sys.getrefcount(True) >= before


def test_without_a_display_the_window_explains_instead_of_aborting(tmp_path):
    import os

    from app.main import display_problem

    def answers(display):
        return None

    def silent(display):
        return f"nothing at {display}."

    both = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}
    assert display_problem({"DISPLAY": ":0"}, "linux", x11_check=answers) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", wayland_check=answers) is None
    assert display_problem(both, "linux", x11_check=answers, wayland_check=silent) is None  # Qt falls back
    assert display_problem(both, "linux", x11_check=silent, wayland_check=answers) is None
    problem = display_problem(both, "linux", x11_check=silent, wayland_check=silent)
    assert problem.startswith("nothing at wayland-0. Nothing at :0. From a terminal, restore with")
    assert display_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux", x11_check=silent) is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "win32") is None and display_problem({}, "darwin") is None
    assert "hourglass restore" in display_problem({}, "linux")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["HOURGLASS_DATA_DIR"] = str(tmp_path)
    r = subprocess.run([sys.executable, "-m", "app", "photo.jpg"], env=env, capture_output=True, text=True,
                       timeout=60, check=False)
    assert r.returncode == 2 and "no display to open the window on" in r.stderr and "Aborted" not in r.stderr


def _loader_without(gone: set[str], loaded: list[str] | None = None):
    """ctypes.CDLL as if exactly the libraries `gone` were missing: the others load from this machine where
    they are installed, and a stand-in answers for those it lacks (a machine without xvfb may have no
    libxcb-icccm4), so the message depends on `gone` alone. The names asked for are added to `loaded`."""
    import ctypes

    def load(name):
        if loaded is not None:
            loaded.append(name)
        if name in gone:
            raise OSError(name)
        try:
            return ctypes.CDLL(name)
        except OSError:
            return object()

    return load


def test_an_x11_display_that_cannot_be_used_is_explained_instead_of_aborting(tmp_path):
    """A DISPLAY left over from a closed SSH session, or a desktop without libxcb-cursor0 (which Qt 6.5+
    needs on X11): Qt aborted with a core dump and advised reinstalling."""
    import os

    from app.main import x11_problem

    assert "sudo apt install libxcb-cursor0" in x11_problem(":4711", _loader_without({"libxcb-cursor.so.0"}))
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(DISPLAY=":4711", HOURGLASS_DATA_DIR=str(tmp_path))  # no X server there
    r = subprocess.run([sys.executable, "-m", "app"], env=env, capture_output=True, text=True, timeout=60,
                       check=False)
    assert r.returncode == 2 and "Aborted" not in r.stderr and "core dumped" not in r.stderr
    assert ("no X11 display answers at DISPLAY=:4711" in r.stderr) != ("sudo apt install" in r.stderr)
    env.update(WAYLAND_DISPLAY="wayland-4711", XDG_RUNTIME_DIR=str(tmp_path))  # no compositor either
    r = subprocess.run([sys.executable, "-m", "app"], env=env, capture_output=True, text=True, timeout=60,
                       check=False)
    assert r.returncode == 2 and "Aborted" not in r.stderr
    assert "Wayland" in r.stderr and ("DISPLAY=:4711" in r.stderr or "sudo apt install" in r.stderr)


def test_every_x11_library_qt_needs_is_checked_and_named_with_its_package():
    """Qt 6.5+ names only libxcb-cursor0 when any library of its xcb plugin is missing (a minimal Debian, WSL
    without libxcb-icccm4 and libxcb-keysyms1), then aborts: the check names each missing one's package."""
    from app.main import XCB_LIBRARIES, x11_problem

    loaded: list[str] = []
    message = x11_problem(":4711", _loader_without({"libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-shm.so.0"},
                                                    loaded))
    assert "`sudo apt install libxcb-shm0 libxcb-icccm4 libxcb-keysyms1`" in message
    assert "`sudo dnf install libxcb xcb-util-wm xcb-util-keysyms`" in message
    assert "libxcb-cursor0" not in message and "librar" in message
    assert set(loaded) >= {name for name, _, _ in XCB_LIBRARIES}


def _elf_needed(path) -> list[str]:
    """The DT_NEEDED entries (linked libraries) of a 64-bit little-endian ELF file."""
    import struct

    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    for _name, kind, _flags, _addr, offset, size, link, *_rest in sections:
        if kind == 6:  # SHT_DYNAMIC, its strings in section `link`
            strings = sections[link][4]
            needed = []
            for at in range(offset, offset + size, 16):
                tag, value = struct.unpack_from("<qQ", data, at)
                if tag == 1:  # DT_NEEDED
                    end = data.index(b"\0", strings + value)
                    needed.append(data[strings + value:end].decode())
            return needed
    return []


@pytest.mark.skipif(sys.platform != "linux", reason="Qt's xcb plugin is Linux's")
def test_the_x11_check_knows_every_library_qts_xcb_plugin_links():
    """The list the display check loads must follow PySide6: a library the plugin stops linking would be
    asked for needlessly, and a new one would go unchecked (and Qt would abort again)."""
    import PySide6

    from app.main import XCB_LIBRARIES

    qt = Path(PySide6.__file__).parent / "Qt"
    linked = set(_elf_needed(qt / "plugins" / "platforms" / "libqxcb.so"))
    linked |= set(_elf_needed(next((qt / "lib").glob("libQt6XcbQpa.so.6*"))))
    x11 = {name for name in linked if name.startswith(("libxcb", "libX11", "libxkbcommon"))} - {"libxcb.so.1"}
    assert x11 == {name for name, _, _ in XCB_LIBRARIES}


def test_a_model_file_dropped_on_the_window_is_imported_not_queued(make_window, qtbot, tmp_path, monkeypatch):
    """A checkpoint just downloaded and dragged onto the window opens the Models dialog, which imports it;
    photos dropped with it are queued as usual."""
    from app.models_service import ModelService

    imported = []
    monkeypatch.setattr(ModelService, "import_file", lambda self, path, name=None: imported.append(path))
    checkpoint = tmp_path / "model-300.pt"
    checkpoint.write_bytes(b"PK")
    photo = tmp_path / "photo.png"
    from PIL import Image

    Image.new("RGB", (64, 48), (90, 60, 30)).save(photo)
    import zipfile

    drive = tmp_path / "DiffUIR-T-20240101T000000Z-001.zip"  # (a shared folder, downloaded)
    with zipfile.ZipFile(drive, "w") as archive:
        archive.writestr("DiffUIR-T/model-300.pt", b"PK")
    with zipfile.ZipFile(tmp_path / "holiday.zip", "w") as archive:  # (not a model: passed over as before)
        archive.writestr("beach.jpg", b"\xff\xd8")
    window = make_window()
    window.add_paths([str(checkpoint), str(photo), str(drive), str(tmp_path / "holiday.zip")])
    qtbot.waitUntil(lambda: len(window.runner.queue) == 1, timeout=5000)
    assert imported == [str(checkpoint), str(drive)] and window.runner.queue.paths() == [str(photo)]
    dialog = next(w for w in window.findChildren(QDialog) if w.windowTitle() == "Models")
    assert dialog.isVisible() and dialog.status.text().startswith("Checking ")
    window.add_paths([str(checkpoint)])  # dropped again: the dialog already open takes it
    assert [w for w in window.findChildren(QDialog) if w.windowTitle() == "Models"] == [dialog]
    assert imported == [str(checkpoint), str(drive), str(checkpoint)]


def test_an_imported_model_is_selected_ready_to_use(qtbot, aloop, tiny_model_path, monkeypatch, tmp_path):
    """After an import (through the real `hourglass models` command) the new model's row is selected, so
    one click on "Use selected" restores with it."""
    from app.widgets.model_dialog import ModelDialog

    monkeypatch.setenv("HOURGLASS_MODELS_DIR", str(tmp_path / "models"))
    service = ModelService()
    dialog = ModelDialog(service, "default")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name.setText("mine")
    with qtbot.waitSignal(service.models_listed, timeout=60_000):
        dialog.import_path(str(tiny_model_path))
    names = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    selected = dialog.table.selectionModel().selectedRows()
    assert [names[i.row()] for i in selected] == ["mine"]
    assert dialog.status.text().startswith("Imported DiffUIR-T as 'mine'") and "Use selected" in dialog.status.text()
    with qtbot.waitSignal(dialog.model_selected) as blocker:
        dialog.use_button.click()
    assert blocker.args == ["mine"]


def test_an_imported_model_is_removed_after_asking_and_the_bundled_one_takes_over(qtbot, aloop, tiny_model_path,
                                                                                    monkeypatch, tmp_path):
    """*Remove…* deletes the selected imported model's file (through the real `hourglass models remove`),
    after a question; removing the model in use hands over to the bundled one. The bundled row cannot be
    removed."""
    import shutil

    from PySide6.QtWidgets import QMessageBox

    from app.widgets.model_dialog import ModelDialog

    models_dir = tmp_path / "models"
    models_dir.mkdir()
    shutil.copy(tiny_model_path, models_dir / "mine.safetensors")
    monkeypatch.setenv("HOURGLASS_MODELS_DIR", str(models_dir))
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    service = ModelService()
    dialog = ModelDialog(service, "mine")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(service.models_listed, timeout=60_000):
        service.refresh()
    names = [dialog.table.item(r, 0).text().split(" ")[0] for r in range(dialog.table.rowCount())]
    dialog.table.selectRow(names.index("hourglass-diffuir-t"))
    assert not dialog.remove_button.isEnabled()  # (bundled)
    dialog.table.selectRow(names.index("mine"))
    assert dialog.remove_button.isEnabled()
    with qtbot.waitSignal(dialog.model_selected, timeout=60_000) as chosen:
        dialog.remove_button.click()
    assert chosen.args == ["default"] and asked and "Remove the model 'mine'?" in asked[0]
    assert not (models_dir / "mine.safetensors").exists() and dialog.status.text().startswith("Removed 'mine'")
    qtbot.waitUntil(lambda: "mine" not in [m.name for m in dialog.rows], timeout=60_000)
