"""The real window with the real engine subprocess and a tiny random-weight model: three photos and a
corrupt file are dropped, Start restores the photos and the corrupt file fails alone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from gui_helpers import make_photo
from PIL import Image
from test_main_window import drop

from app.queue_model import ItemState

pytestmark = pytest.mark.integration


def real_window(qtbot, tiny_model_path):
    """The main window driving the real engine subprocess with the tiny model: (window, runner, queue)."""
    from app.client import ClientConfig, EngineClient
    from app.queue_model import BatchQueue, default_queue_path
    from app.runner import BatchRunner
    from app.settings import Settings
    from app.widgets.main_window import MainWindow

    queue = BatchQueue(default_queue_path())
    runner = BatchRunner(queue, Settings(model=str(tiny_model_path), quality="fast", threads=1),
                         EngineClient(ClientConfig()))
    window = MainWindow(runner)
    qtbot.addWidget(window)
    window.show()
    runner.start_engine()
    return window, runner, queue


def test_drop_three_photos_and_a_corrupt_file_then_start(qtbot, aloop, tmp_path, tiny_model_path):
    folder = tmp_path / "shoot"
    photos = [make_photo(folder / f"p{i}.png", size=(48, 48), colour=(30 * i, 60, 90)) for i in range(3)]
    corrupt = folder / "broken.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")

    window, runner, queue = real_window(qtbot, tiny_model_path)
    try:
        drop(window, [*photos, corrupt])
        qtbot.waitUntil(lambda: len(queue) == 4, timeout=10_000)
        qtbot.waitUntil(window.start_action.isEnabled, timeout=5_000)
        window.start_action.trigger()
        qtbot.waitUntil(lambda: all(i.state in (ItemState.DONE, ItemState.FAILED) for i in queue)
                        and not runner.running, timeout=60_000)
        by_name = {i.name: i for i in queue}
        assert by_name["broken.jpg"].state is ItemState.FAILED
        assert by_name["broken.jpg"].error_code == "input_unreadable", by_name["broken.jpg"].error_message
        assert by_name["broken.jpg"].error_message
        for photo in photos:
            item = by_name[photo.name]
            assert item.state is ItemState.DONE, item.error_message
            assert item.output_path == str(folder / "restored" / photo.name)
            with Image.open(item.output_path) as out:
                out.load()
                assert out.size == (48, 48)
        assert "3 restored" in window.status_line.label.text() and "1 failed" in window.status_line.label.text()
    finally:
        done = asyncio.ensure_future(runner.shutdown())
        qtbot.waitUntil(done.done, timeout=15_000)
        assert runner.engine.state.value == "stopped"


def test_a_result_is_saved_again_at_the_strength_on_the_slider(qtbot, aloop, tmp_path, tiny_model_path,
                                                                 monkeypatch):
    """Restored at 100%, then the slider at 40%: "Save at 40%" writes `p (1).png` from the saved result in
    the real engine, which becomes the photo's result; the first stays. The queue's menu does it for the
    selected photos that can be. An edited result is refused, and the photo keeps its result."""
    import numpy as np
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QMenu

    photo = make_photo(tmp_path / "shoot" / "p.png", size=(48, 40), colour=(40, 90, 160))
    other = make_photo(tmp_path / "shoot" / "q.png", size=(40, 32), colour=(150, 90, 40))
    window, runner, queue = real_window(qtbot, tiny_model_path)
    panel = window.panel
    try:
        drop(window, [photo, other])
        qtbot.waitUntil(lambda: len(queue) == 2, timeout=10_000)
        item, second = queue[0], queue[1]
        queue.set_task([item, second], "haze")
        qtbot.waitUntil(window.start_action.isEnabled, timeout=5_000)
        window.start_action.trigger()
        qtbot.waitUntil(lambda: second.state is ItemState.DONE and not runner.running, timeout=60_000)
        first = tmp_path / "shoot" / "restored" / "p.png"
        assert item.output_path == str(first) and item.saved_strength == 1.0
        window.select_row(0)
        assert panel.shown_item == item.id and not panel.resave_button.isVisibleTo(panel)
        panel.strength.setValue(40)
        assert panel.resave_button.isVisibleTo(panel) and panel.resave_button.text() == "Save at 40%"
        before = first.read_bytes()
        panel.resave_button.click()
        again = tmp_path / "shoot" / "restored" / "p (1).png"
        qtbot.waitUntil(lambda: item.output_path == str(again), timeout=30_000)
        assert item.saved_strength == 0.4 and item.note.startswith("made from p.png (100%, kept)")
        assert first.read_bytes() == before  # the earlier result is kept as it was
        original, full, blended = (np.asarray(Image.open(p).convert("RGB"), np.float64) for p in (photo, first, again))
        assert np.abs(blended - (original + 0.4 * (full - original))).max() <= 1
        qtbot.waitUntil(lambda: not panel.resave_button.isVisibleTo(panel), timeout=5_000)  # 40% is what is saved
        assert "saved again at 40% strength as p (1).png" in window.statusBar().currentMessage()
        panel.strength.setValue(80)  # more than was saved: the view cannot show it, and the status bar says so
        assert "was saved at 40% strength" in window.statusBar().currentMessage()
        assert not panel.resave_button.isVisibleTo(panel)
        panel.strength.setValue(30)  # from the 40% result: numbered after the photo, not after that file
        panel.resave_button.click()
        qtbot.waitUntil(lambda: item.output_path.endswith("p (2).png"), timeout=30_000)
        assert item.note.startswith("made from p (1).png (40%, kept)") and item.note.count("made from") == 1
        queue.update(item, output_path=str(again), saved_strength=0.4)  # (back to the 40% result)
        panel.strength.setValue(40)

        menus = []
        monkeypatch.setattr(QMenu, "popup", lambda self, *_a: menus.append(self))
        window.table.selectAll()
        window.queue_menu.popup(QPoint(5, 5))
        action = next(a for a in menus[-1].actions() if a.text() == "Save again at 40%")
        action.trigger()  # only q.png: p.png is at 40% already
        qtbot.waitUntil(lambda: second.output_path.endswith("q (1).png"), timeout=30_000)
        assert second.saved_strength == 0.4 and item.output_path == str(again)
        window.select_row(0)

        Image.open(again).crop((0, 0, 20, 20)).save(again)  # edited elsewhere since
        panel.strength.setValue(20)
        panel.resave_button.click()
        qtbot.waitUntil(lambda: "no longer the size of its photo" in panel.caption.text(), timeout=30_000)
        assert item.output_path == str(again) and item.saved_strength == 0.4
        assert not (tmp_path / "shoot" / "restored" / "p (3).png").exists()
    finally:
        done = asyncio.ensure_future(runner.shutdown())
        qtbot.waitUntil(done.done, timeout=15_000)


def test_a_copy_of_a_result_is_saved_as_a_preset_says_and_the_result_stays(qtbot, aloop, tmp_path, tiny_model_path,
                                                                           data_dir, monkeypatch):
    """Restored as a PNG; then *Save a copy with → For the web* (a preset: JPEG, `_web`, no location, no
    record) writes `p_web.jpg` beside it from the saved result, in the real engine; the photo's result is
    still `p.png`. *Current settings* makes `p (1).png`."""
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QMenu

    from app import presets
    from app.settings import Settings
    from engine import imaging

    photo = make_photo(tmp_path / "shoot" / "p.png", size=(48, 40), colour=(40, 90, 160))
    web = Settings(format="jpeg", jpeg_quality=85, name_suffix="_web", remove_location=True, record=False)
    presets.save({"For the web": presets.values_of(web)})
    window, runner, queue = real_window(qtbot, tiny_model_path)
    try:
        drop(window, [photo])
        qtbot.waitUntil(lambda: len(queue) == 1, timeout=10_000)
        item = queue[0]
        queue.set_task([item], "haze")
        qtbot.waitUntil(window.start_action.isEnabled, timeout=5_000)
        window.start_action.trigger()
        qtbot.waitUntil(lambda: item.state is ItemState.DONE and not runner.running, timeout=60_000)
        result = tmp_path / "shoot" / "restored" / "p.png"
        assert item.output_path == str(result)

        menus = []
        monkeypatch.setattr(QMenu, "popup", lambda self, *_a: menus.append(self))
        window.select_row(0)
        window.queue_menu.popup(QPoint(5, 5))
        copies = next(a.menu() for a in menus[-1].actions() if a.text() == "Save a copy with")
        assert [a.text() for a in copies.actions() if a.text()] == ["Current settings", "For the web"]
        next(a for a in copies.actions() if a.text() == "For the web").trigger()
        copy = tmp_path / "shoot" / "restored" / "p_web.jpg"
        qtbot.waitUntil(copy.exists, timeout=30_000)
        qtbot.waitUntil(lambda: "Saved a copy of p.png" in window.statusBar().currentMessage(), timeout=10_000)
        assert Image.open(copy).format == "JPEG" and imaging.read_provenance(copy) == {}
        assert item.output_path == str(result) and imaging.read_provenance(result)["Task"] == "haze"
        assert Image.open(copy).size == Image.open(result).size  # (its pixels: tests/test_reblend.py)
        next(a for a in copies.actions() if a.text() == "Current settings").trigger()
        qtbot.waitUntil((tmp_path / "shoot" / "restored" / "p (1).png").exists, timeout=30_000)
        assert imaging.read_history(tmp_path / "shoot" / "restored" / "p (1).png")[-1]["parameters"] == (
            "saved p.png as a copy of p.png at strength 100%")
    finally:
        done = asyncio.ensure_future(runner.shutdown())
        qtbot.waitUntil(done.done, timeout=15_000)


def test_photos_restored_by_an_earlier_run_are_found_by_the_real_engine(qtbot, aloop, tmp_path, tiny_model_path,
                                                                        stub):
    """The command line restored p.png, then saved it again at 50%; in the window (empty queue), adding the
    folder shows p.png restored with its 50% result, and Start restores only q.png. A result of another
    photo of the same name (a second card) is not taken for it."""
    from engine.api import RestoreOptions, restore_file
    from engine.models import load_model
    from engine.reblend import reblend_file

    stub("haze")
    photo = make_photo(tmp_path / "shoot" / "p.png", size=(48, 40), colour=(40, 90, 160))
    other = make_photo(tmp_path / "shoot" / "q.png", size=(40, 32), colour=(150, 90, 40))
    card2 = make_photo(tmp_path / "card2" / "q.png", size=(40, 32), colour=(10, 200, 40))
    restored = tmp_path / "shoot" / "restored"
    model = load_model(tiny_model_path, device="cpu")
    restore_file(photo, restored / "p.png", model, RestoreOptions(steps=1, task="rain"))
    restore_file(card2, restored / "q.png", model, RestoreOptions(steps=1, task="rain"))  # not q's
    reblend_file(photo, restored / "p.png", restored / "p (1).png", 1.0, 0.5)
    window, runner, queue = real_window(qtbot, tiny_model_path)
    try:
        qtbot.waitUntil(lambda: runner.can_detect, timeout=30_000)
        drop(window, [tmp_path / "shoot"])
        qtbot.waitUntil(lambda: len(queue) == 2 and all(i.detected_task for i in queue), timeout=30_000)
        p, q = queue[0], queue[1]
        assert (p.state, p.output_path, p.saved_strength) == (ItemState.DONE, str(restored / "p (1).png"), 0.5)
        assert p.effective_task == "rain" and "Restored before (as rain" in p.note
        stamp = [Path(p.path).stat().st_size, Path(p.path).stat().st_mtime_ns]  # (both made from this very file)
        assert p.previous == [[str(restored / "p.png"), 1.0, "", stamp]]  # the older result: "Back to p.png (100%)"
        assert p.photo_stamp == stamp
        assert q.path == str(other) and q.state is ItemState.PENDING
        window.start_action.trigger()
        qtbot.waitUntil(lambda: q.state is ItemState.DONE and not runner.running, timeout=60_000)
        assert q.output_path == str(restored / "q (1).png")  # beside the other card's q.png, which stays
        assert p.output_path == str(restored / "p (1).png")
    finally:
        done = asyncio.ensure_future(runner.shutdown())
        qtbot.waitUntil(done.done, timeout=15_000)
