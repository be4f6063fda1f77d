"""The comparison side of the window against the fake engine: previews of the visible area, comparisons
of two settings ("Compare with", "Use …"), full screen and saving the view as an image."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import make_photo
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from app.queue_model import ItemState

TIMEOUT = 5000


def test_preview_restores_the_visible_region(make_window, qtbot, tmp_path, fake_engine):
    photo = make_photo(tmp_path / "big.png", size=(900, 700))
    window = make_window()
    window.panel.strength.setValue(40)  # the view blends it; the crop is restored at full strength
    window.add_paths([str(photo)])
    qtbot.waitUntil(lambda: window.compare.before is not None, timeout=TIMEOUT)
    window.compare.actual_size()
    region = window.compare.visible_image_rect()
    with qtbot.waitSignal(window.preview.finished, timeout=TIMEOUT) as blocker:
        window.preview_action.trigger()
    _item_id, image, used = blocker.args
    assert used.width() <= 512 and used.height() <= 512
    assert region.contains(used.center())
    assert image.width() == used.width() and window.compare.after_region == used
    inp, _out, opts = fake_engine.submitted[-1]
    assert opts.format == "PNG" and Image.open(inp if Path(inp).exists() else photo).size
    assert opts.strength == 1.0 and window.compare.strength == 0.4
    assert window.queue[0].state is ItemState.PENDING  # a preview is not a restore
    window.panel.strength.setValue(0)  # results would be the originals: the window says so
    assert window.statusBar().currentMessage().startswith("Strength 0%: the results are saved as the originals")


def test_compare_with_another_quality_restores_the_area_twice_then_uses_it(make_window, qtbot, tmp_path,
                                                                           fake_engine):
    photo = make_photo(tmp_path / "big.png", size=(900, 700))
    window = make_window()
    window.settings.quality = "best"
    window.add_paths([str(photo)])
    qtbot.waitUntil(lambda: window.compare.before is not None, timeout=TIMEOUT)
    window.select_row(0)
    window.panel.fill_compare_menu()
    labels = [a.text() for a in window.panel.compare_menu.actions() if not a.isSeparator()]
    assert "Fast (1 step)" in labels and "Best (3 steps)" not in labels and "Rain" in labels
    fast = next(a for a in window.panel.compare_menu.actions() if a.text() == "Fast (1 step)")
    with qtbot.waitSignal(window.preview.compared, timeout=TIMEOUT) as blocker:
        fast.trigger()
    _item_id, left, right, used, alt = blocker.args
    assert alt.changes == {"quality": "fast"}
    assert [opts.quality for _i, _o, opts in fake_engine.submitted[-2:]] == ["best", "fast"]
    assert left.size() == right.size() == used.size()
    assert window.compare.left is not None and window.compare.labels == ("Best (3 steps)", "Fast (1 step)")
    assert window.panel.use_button.isVisibleTo(window) and window.panel.use_button.text() == "Use Fast (1 step)"
    window.panel.use_button.click()
    assert window.settings.quality == "fast" and not window.panel.use_button.isVisibleTo(window)
    assert window.queue[0].state is ItemState.PENDING  # a comparison is not a restore


def test_compare_with_another_degradation_sets_it_for_that_photo_only(make_window, qtbot, tmp_path, fake_engine):
    from app.comparisons import alternatives

    photo = make_photo(tmp_path / "big.png", size=(300, 200))
    window = make_window()
    window.add_paths([str(photo), str(make_photo(tmp_path / "other.png"))])
    qtbot.waitUntil(lambda: len(window.queue) == 2 and window.compare.before is not None, timeout=TIMEOUT)
    window.select_row(0)
    rain = next(a for a in alternatives((), "default", "best", "auto") if a.changes.get("task") == "rain")
    with qtbot.waitSignal(window.preview.compared, timeout=TIMEOUT):
        window.panel.compare_with(rain)
    assert [opts.task for _i, _o, opts in fake_engine.submitted[-2:]] == ["auto", "rain"]
    window.panel.use_alternative()
    assert window.queue[0].task == "rain" and window.queue[1].task == "auto"
    assert "Retry" not in window.statusBar().currentMessage()  # not restored yet: Start will use it
    window.runner.start()
    qtbot.waitUntil(lambda: all(i.state is ItemState.DONE for i in window.queue), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not window.runner.running, timeout=TIMEOUT)
    window.select_row(0)
    snow = next(a for a in alternatives((), "default", "best", "rain") if a.changes.get("task") == "snow")
    with qtbot.waitSignal(window.preview.compared, timeout=TIMEOUT):
        window.panel.compare_with(snow)
    window.panel.use_alternative()
    assert window.queue[0].task == "snow" and "Retry restores it again" in window.statusBar().currentMessage()


def test_a_comparison_cancelled_after_its_first_half_does_not_start_the_second(make_window, qtbot, tmp_path,
                                                                               fake_engine):
    from app.comparisons import alternatives

    photo = make_photo(tmp_path / "big.png", size=(300, 200))
    fake_engine.step_s = 0.5  # the first restoration is still running when the user cancels
    window = make_window()
    window.add_paths([str(photo)])
    qtbot.waitUntil(lambda: window.compare.before is not None, timeout=TIMEOUT)
    window.select_row(0)
    fast = next(a for a in alternatives((), "default", "best", "auto") if a.changes.get("quality") == "fast")
    window.panel.compare_with(fast)
    qtbot.waitUntil(lambda: len(fake_engine.submitted) == 1, timeout=TIMEOUT)
    with qtbot.waitSignal(window.preview.cancelled, timeout=TIMEOUT):
        window.preview.cancel()
    qtbot.wait(200)
    assert len(fake_engine.submitted) == 1 and window.compare.left is None


def test_full_screen_shows_the_comparison_alone_and_esc_returns(make_window, qtbot):
    window = make_window()
    assert not window.leave_full_screen_action.isEnabled()  # Esc is not taken from editors and dialogs
    window.full_screen_action.trigger()
    qtbot.waitUntil(window.isFullScreen, timeout=TIMEOUT)
    assert window.full_screen_action.isChecked()
    assert not window.drop_zone.isVisible() and not window.toolbar.isVisible() and window.compare.isVisible()
    assert not window.menu_bar.isVisible()
    # F11 and Esc are the window's own shortcuts, so they work with the toolbar hidden
    assert {window.full_screen_action, window.leave_full_screen_action} <= set(window.actions())
    assert window.leave_full_screen_action.shortcut().toString() == "Esc"
    window.leave_full_screen_action.trigger()
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=TIMEOUT)
    assert window.drop_zone.isVisible() and window.toolbar.isVisible() and window.statusBar().isVisible()
    assert window.menu_bar.isVisible()
    assert not window.full_screen_action.isChecked() and not window.leave_full_screen_action.isEnabled()


def test_save_image_as_shown_writes_the_split_view_and_never_over_the_photo(make_window, qtbot, tmp_path):
    photo = make_photo(tmp_path / "big.png", size=(300, 200), colour=(10, 10, 10))
    window = make_window()
    window.add_paths([str(photo)])
    qtbot.waitUntil(lambda: window.compare.before is not None, timeout=TIMEOUT)
    window.select_row(0)
    window.panel.save_view()
    dialog = window.panel.save_dialog
    assert Path(dialog.selectedFiles()[0]).name == "big-comparison.jpg"
    out = tmp_path / "shared.png"
    dialog.fileSelected.emit(str(out))
    assert Image.open(out).size == (300, 200)
    before = photo.read_bytes()
    assert not window.panel.write_view(window.compare.render_image(), str(photo), window.queue[0])
    assert photo.read_bytes() == before and "Not saved" in window.statusBar().currentMessage()
    dialog.close()


def test_copy_image_as_shown_puts_the_split_view_on_the_clipboard(make_window, qtbot, tmp_path):
    photo = make_photo(tmp_path / "big.png", size=(300, 200), colour=(10, 10, 10))
    window = make_window()
    QApplication.clipboard().clear()
    window.panel.copy_view()  # nothing selected
    assert QApplication.clipboard().image().isNull() and "Select a photo" in window.panel.caption.text()
    window.add_paths([str(photo)])
    qtbot.waitUntil(lambda: window.compare.before is not None, timeout=TIMEOUT)
    window.select_row(0)
    window.copy_view_action.trigger()
    copied = QApplication.clipboard().image()
    assert (copied.width(), copied.height()) == (300, 200)  # the photo's size, not the view's
    assert QColor(copied.pixel(150, 100)).red() < 30  # the dark photo
    assert "Copied the image as shown (300 × 200 pixels)" in window.statusBar().currentMessage()
    assert window.copy_view_action.shortcut().toString() == "Ctrl+Shift+C"


def test_a_photo_the_view_cannot_show_says_why_it_cannot_be_previewed(make_window, qtbot, tmp_path, fake_engine):
    raw = tmp_path / "shot.dng"
    raw.write_bytes(b"II*\x00" + bytes(64))  # a camera file Qt cannot decode
    window = make_window()
    window.add_paths([str(raw)])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    window.select_row(0)
    qtbot.waitUntil(lambda: "cannot be shown" in window.compare.placeholder, timeout=TIMEOUT)
    window.panel.preview_visible()
    assert "cannot be previewed" in window.panel.caption.text() and not fake_engine.submitted


def test_a_photo_the_engine_cannot_read_either_shows_the_engines_reason(make_window, qtbot, tmp_path, fake_engine):
    """A photo neither the view nor the engine can decode: the view said "(damaged?)" while the engine's
    analysis knew why (here a JPEG XL DNG, which is not damaged); it now shows what the engine said."""
    raw = tmp_path / "jpeg-xl.dng"
    raw.write_bytes(b"II*\x00" + bytes(64))
    fake_engine.analysis_available = fake_engine.analyze_capability = True
    window = make_window()
    window.runner.start_engine()
    qtbot.waitUntil(lambda: window.runner.can_detect, timeout=TIMEOUT)
    window.add_paths([str(raw)])
    qtbot.waitUntil(lambda: len(window.queue) == 1 and bool(window.queue[0].detect_message), timeout=TIMEOUT)
    window.select_row(0)
    qtbot.waitUntil(lambda: "JPEG XL" in window.compare.placeholder, timeout=TIMEOUT)
    assert window.compare.placeholder == ('This photo cannot be shown: it could not be decoded.\n'
                                          '"jpeg-xl.dng" is a DNG compressed with JPEG XL.')
    assert window.model.index(0, 1).data() == "— (failed)"  # (not "not available": the photo is the cause)
    assert window.model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole).endswith("compressed with JPEG XL.")


def test_an_analysis_the_engine_did_not_answer_is_not_the_photos_fault(make_window, qtbot, tmp_path, fake_engine):
    """Only an answer that the photo cannot be read marks its analysis failed (and its restore as one that
    will fail at once, for the time left); an engine that went away says detection did not run."""
    from app.batch_eta import Estimator
    from engine.batch_time import Restored

    fake_engine.analysis_available = fake_engine.analyze_capability = True
    window = make_window()
    window.runner.start_engine()
    qtbot.waitUntil(lambda: window.runner.can_detect, timeout=TIMEOUT)
    (tmp_path / "jpeg-xl.dng").write_bytes(b"II*\x00" + bytes(64))
    window.add_paths([str(make_photo(tmp_path / "engine-down.jpg")), str(tmp_path / "jpeg-xl.dng")])
    qtbot.waitUntil(lambda: len(window.queue) == 2 and all(i.detect_message for i in window.queue), timeout=TIMEOUT)
    down, unreadable = sorted(window.queue, key=lambda i: i.name)
    assert down.detect_message == "Detection did not run: The engine stopped."
    assert window.model.index(window.queue.index_of(down.id), 1).data() == "— (not available)"
    estimator = Estimator([Restored("rain", 40.0)], restore_clean=False)
    assert estimator.photo(down) == 40.0 and estimator.photo(unreadable) == 0.0  # (it will fail at once)
