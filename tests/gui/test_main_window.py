"""The main window against the fake engine: adding photos (samples included), queue transitions, batch
controls, per-photo failures, engine crashes, detection, strength, the window's layout, About and closing
(previews and comparisons: test_comparison.py)."""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import urllib.parse
import warnings
from pathlib import Path

import pytest
from gui_helpers import make_photo
from PIL import Image
from PySide6.QtCore import QItemSelectionModel, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.queue_model import ItemState, QueueItem
from app.widgets.error_dialog import ErrorDialog

TIMEOUT = 5000


def drop(window, paths, urls: list[QUrl] | None = None, image=None) -> None:
    """Synthesise a drop of local files/folders (or of these URLs, or of image data) onto the queue's drop zone."""
    mime = QMimeData()
    if image is not None:
        mime.setImageData(image)
    if paths or urls:
        mime.setUrls(urls if urls is not None else [QUrl.fromLocalFile(str(p)) for p in paths])
    zone = window.drop_zone
    centre = QPoint(zone.width() // 2, zone.height() // 2)
    with warnings.catch_warnings():  # PySide marks the only QDragEnterEvent constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(zone, enter)  # a real drag always enters first
    assert enter.isAccepted()
    event = QDropEvent(QPointF(zone.width() / 2, zone.height() / 2), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(zone, event)
    assert event.isAccepted()


def states(window):
    return {Path(i.path).name: i.state for i in window.queue}


def wait_idle(qtbot, window, timeout=TIMEOUT):
    qtbot.waitUntil(lambda: not window.runner.running, timeout=timeout)


def restored_window(make_window, qtbot, *photos):
    """A window whose queue holds `photos`, restored by the scripted engine."""
    window = make_window()
    window.add_paths([str(p) for p in photos])
    qtbot.waitUntil(lambda: len(window.queue) == len(photos), timeout=TIMEOUT)
    window.runner.start()
    wait_idle(qtbot, window)
    return window


def test_a_dropped_card_queues_one_file_of_each_raw_jpeg_shot(make_window, qtbot, tmp_path):
    from app.settings import Settings

    card = tmp_path / "DCIM"
    make_photo(card / "IMG_1.JPG")
    (card / "IMG_1.CR3").write_bytes(b"raw")
    make_photo(card / "IMG_2.JPG")
    window = make_window()
    drop(window, [card])
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    assert [i.name for i in window.queue] == ["IMG_1.CR3", "IMG_2.JPG"]
    assert window.statusBar().currentMessage() == ("Added 2 photos; passed over 1 JPEG/HEIF file that has a "
                                                   "RAW of the same name (Settings → RAW+JPEG shots)")
    (card / "fail_3.CR3").write_bytes(b"raw")  # one the engine cannot read: its JPEG is the way
    make_photo(card / "fail_3.JPG")
    drop(window, [card / "fail_3.CR3", card / "fail_3.JPG"])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    window.start_action.trigger()
    wait_idle(qtbot, window)
    failed = window.queue[2]
    assert failed.name == "fail_3.CR3" and failed.state is ItemState.FAILED
    assert failed.error_message.endswith(" Its camera JPEG, fail_3.JPG, is beside it: add it by name to restore it "
                                         "instead, or choose the JPEG in Settings → RAW+JPEG shots.")
    window.runner.settings = Settings(raw_jpeg="jpeg")  # files added together are paired as a folder's are
    window.runner.remove([i.id for i in window.queue])
    drop(window, [card / "IMG_1.JPG", card / "IMG_1.CR3"])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    assert window.queue[0].name == "IMG_1.JPG"
    assert "passed over 1 RAW file that has a JPEG/HEIF of the same name" in window.statusBar().currentMessage()


def test_the_window_says_when_the_saved_queue_could_not_be_read(make_window, qtbot, data_dir):
    """The queue the user left did not come back (a damaged file, kept aside): said when the window opens,
    not only in the log, so an empty queue is not mistaken for photos lost."""
    from app.queue_model import default_queue_path

    data_dir.mkdir(parents=True, exist_ok=True)
    default_queue_path().write_text('{"items": [{"path": "/p/a.jpg"}, ')  # cut off while it was written
    window = make_window()
    qtbot.waitUntil(lambda: any(isinstance(d, ErrorDialog) and d.isVisible() for d in window._dialogs),
                    timeout=TIMEOUT)
    [dialog] = [d for d in window._dialogs if isinstance(d, ErrorDialog)]
    assert dialog.windowTitle() == "The saved queue could not be read in full"
    assert str(data_dir / "queue.json.unreadable") in dialog.message.text() and len(window.queue) == 0


def test_the_window_says_when_the_queue_cannot_be_saved(make_window, qtbot, photos, data_dir):
    data_dir.mkdir(parents=True, exist_ok=True)
    window = make_window()
    (data_dir / "queue.json").mkdir()  # the file cannot be replaced: saving fails
    window.add_paths([str(photos[1][0])])
    qtbot.waitUntil(lambda: window.status_line.unsaved_label.isVisible(), timeout=TIMEOUT)
    assert window.status_line.unsaved_label.toolTip().startswith(f"The queue cannot be saved in {data_dir} (")
    (data_dir / "queue.json").rmdir()
    window.add_paths([str(photos[1][1])])
    qtbot.waitUntil(lambda: not window.status_line.unsaved_label.isVisible(), timeout=TIMEOUT)
    assert (data_dir / "queue.json").is_file()


def test_drop_files_and_folders_recursively_without_duplicates(make_window, qtbot, photos):
    root, files = photos
    window = make_window()
    assert window.drop_zone._stack.currentIndex() == 0  # the empty-queue hint
    drop(window, [files[0], root / "album", root / "album" / "notes.txt"])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    assert [i.name for i in window.queue] == ["a.jpg", "d.jpg", "e.png"]
    assert window.statusBar().currentMessage() == (
        "Added 3 photos; passed over 1 file Hourglass cannot open (1 TXT)")  # it was dropped by name
    album = [i for i in window.queue if i.name != "a.jpg"]
    assert all(i.root == str(root / "album") for i in album)
    drop(window, [root])  # a.jpg, d.jpg and e.png again: only b and c are new
    qtbot.waitUntil(lambda: len(window.queue) == 5, timeout=TIMEOUT)
    assert sorted(i.name for i in window.queue) == ["a.jpg", "b.png", "c.jpg", "d.jpg", "e.png"]
    assert window.statusBar().currentMessage() == "Added 2 photos; 3 already in the queue"
    assert window.drop_zone._stack.currentIndex() == 1
    assert window.model.rowCount() == 5
    qtbot.waitUntil(lambda: all(window.model.has_thumbnail(i.id) for i in window.queue), timeout=TIMEOUT)


@pytest.mark.skipif(sys.platform != "linux", reason="only POSIX systems let a file name be any bytes")
def test_a_dropped_file_whose_name_is_not_utf8_is_added(make_window, qtbot, tmp_path):
    """A file manager drops file:///…/caf%E9.jpg; Qt decodes that to a name with U+FFFD, which names no file,
    so the photo was silently not added."""
    odd = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9.jpg")
    make_photo(Path(odd))
    window = make_window()
    drop(window, [], urls=[QUrl(f"file://{urllib.parse.quote(os.fsencode(odd))}")])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    assert window.queue[0].path == odd


def test_start_restores_all_and_a_failure_stays_alone(make_window, qtbot, photos, fake_engine):
    root, files = photos
    bad = make_photo(root / "fail-me.jpg")
    window = make_window()
    window.add_paths([str(files[0]), str(bad), str(files[1])])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    seen = set()
    window.queue.subscribe(lambda _e, items: seen.update((i.name, i.state) for i in items))
    window.start_action.trigger()
    wait_idle(qtbot, window)
    assert states(window) == {"a.jpg": ItemState.DONE, "fail-me.jpg": ItemState.FAILED, "b.png": ItemState.DONE}
    assert {("a.jpg", ItemState.QUEUED), ("a.jpg", ItemState.RUNNING), ("a.jpg", ItemState.DONE)} <= seen
    for item in window.queue:
        if item.state is ItemState.DONE:
            assert Path(item.output_path) == Path(item.path).parent / "restored" / item.name
            assert Path(item.output_path).is_file() and item.progress == 1.0
    failed = window.queue.in_state(ItemState.FAILED)[0]
    assert "not a photo Hourglass can read" in failed.error_message
    assert window.status_line.overall.value() == 1000
    assert "2 restored" in window.status_line.label.text() and "1 failed" in window.status_line.label.text()


def test_the_shown_photo_says_when_it_fails_or_finishes(make_window, qtbot, photos, fake_engine):
    """The caption of the photo on view follows its outcome: the reason it failed, where it was saved,
    "not restored yet" once it is queued again; not only the state column does."""
    root, files = photos
    bad = make_photo(root / "fail-me.jpg")
    window = make_window()
    window.add_paths([str(bad), str(files[0])])
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    window.select_row(0)
    assert "not restored yet" in window.panel.caption.text()
    window.start_action.trigger()
    wait_idle(qtbot, window)
    failed = window.queue.in_state(ItemState.FAILED)[0]
    assert window.panel.shown_item == failed.id
    assert window.panel.caption.text() == failed.error_message == "fail-me.jpg is not a photo Hourglass can read."
    window.select_row(1)
    done = window.queue[1]
    assert window.panel.caption.text().startswith(f"a.jpg → {done.output_path}")
    window.retry_action.trigger()  # restore it again
    qtbot.waitUntil(lambda: "→" in window.panel.caption.text() and done.state is ItemState.DONE
                    and done.output_path.endswith("a (1).jpg"), timeout=TIMEOUT)


def test_engine_crash_fails_that_photo_readably_and_the_batch_continues(make_window, qtbot, photos):
    root, files = photos
    crash = make_photo(root / "crash.jpg")
    window = make_window()
    window.add_paths([str(crash), str(files[0])])
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    window.runner.start()
    wait_idle(qtbot, window)
    assert states(window) == {"crash.jpg": ItemState.FAILED, "a.jpg": ItemState.DONE}
    item = window.queue.in_state(ItemState.FAILED)[0]
    assert item.error_code == "engine_crashed" and "stopped unexpectedly" in item.error_message
    assert item.log_tail  # the engine's log is kept for the error dialog
    window.show_item_error(item)
    dialog = next(d for d in window._dialogs if isinstance(d, ErrorDialog))
    assert "stopped unexpectedly" in dialog.message.text()
    assert "fake engine log line" in dialog.details.toPlainText()
    dialog.toggle.click()
    assert dialog.details.isVisible()


def test_an_engine_that_cannot_start_is_reported_once_and_no_photo_is_lost(make_window, qtbot, photos):
    """A broken install: the engine exits at once. Its start, the batch's start and the engine's state each
    reported it, and four identical dialogs piled up. One dialog says why (the engine's last log line), the
    photos stay pending, and the status bar says that Start tries again."""
    from app.client import ClientConfig, EngineClient

    _root, files = photos
    code = "import sys; sys.stderr.write('ImportError: libtorch_cpu.so: cannot open\\n'); sys.exit(1)"
    engine = EngineClient(ClientConfig(command=(sys.executable, "-c", code), restart_backoff=(0.05,)))
    window = make_window(engine=engine)
    window.runner.start_engine()
    window.add_paths([str(f) for f in files])
    qtbot.waitUntil(lambda: len(window.queue) == 3 and window.status_line.engine_label.text().startswith("Engine: not running"),
                    timeout=TIMEOUT)

    def shown():
        return [d for d in window._dialogs if isinstance(d, ErrorDialog) and d.isVisible()]

    qtbot.waitUntil(lambda: len(shown()) == 1, timeout=TIMEOUT)
    window.runner.start()  # tries again, fails the same way: no second dialog while the first is open
    qtbot.waitUntil(lambda: not window.runner.running, timeout=TIMEOUT)
    qtbot.wait(200)
    [dialog] = shown()
    assert dialog.windowTitle() == "The engine could not be started"
    assert dialog.message.text() == ("The engine did not start: the engine exited with code 1. "
                                     "Its last log line: ImportError: libtorch_cpu.so: cannot open")
    assert window.status_line.engine_label.text() == "Engine: not running (Start tries again)"
    assert set(states(window).values()) == {ItemState.PENDING}


def test_two_photos_failed_the_same_way_each_open_their_own_error(make_window, qtbot, photos):
    """Identical reports from several places are shown once, but a photo's error that the user asks for
    always opens: two photos that crashed the engine share their words, not their titles and logs."""
    root, _files = photos
    crashed = [make_photo(root / "crash_1.jpg"), make_photo(root / "crash_2.jpg")]
    window = make_window()
    window.add_paths([str(p) for p in crashed])
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    window.runner.start()
    wait_idle(qtbot, window)
    first, second = window.queue
    assert first.error_message == second.error_message
    window.show_item_error(first)
    window.show_item_error(second)
    titles = [d.windowTitle() for d in window._dialogs if isinstance(d, ErrorDialog) and d.isVisible()]
    assert titles == ["crash_1.jpg could not be restored", "crash_2.jpg could not be restored"]


def running_slow_batch(make_window, qtbot, root, count):
    """A window restoring `count` slow photos, the first of them running."""
    slow = [make_photo(root / f"slow{i}.jpg") for i in range(count)]
    window = make_window()
    window.add_paths([str(p) for p in slow])
    qtbot.waitUntil(lambda: len(window.queue) == count, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[0].state is ItemState.RUNNING, timeout=TIMEOUT)
    return window


def test_pause_after_current_then_resume(make_window, qtbot, photos, fake_engine):
    window = running_slow_batch(make_window, qtbot, photos[0], 3)
    window.pause_action.trigger()
    assert not window.pause_action.isEnabled() and window.start_action.isEnabled()
    wait_idle(qtbot, window)
    assert [i.state for i in window.queue] == [ItemState.DONE, ItemState.QUEUED, ItemState.QUEUED]
    assert window.statusBar().currentMessage() == "Batch stopped: 1 done, 2 waiting"
    window.start_action.trigger()
    wait_idle(qtbot, window)
    assert [i.state for i in window.queue] == [ItemState.DONE] * 3
    assert window.statusBar().currentMessage() == "Batch finished: 2 done"  # this run's two


def test_start_cancel_and_retry_change_every_photo_in_one_step(make_window, qtbot, tmp_path, monkeypatch):
    """Start, Cancel and Retry change the photos in one queue event, so the window refreshes once for all of
    them: one event each, Start on 406 photos froze the real window for 1.9 s (each refresh looks at every
    photo), on 1,000 several times as long."""
    files = [make_photo(tmp_path / "many" / f"p{k:02d}.jpg") for k in range(30)]
    window = make_window()
    window.add_paths([str(tmp_path / "many")])
    qtbot.waitUntil(lambda: len(window.queue) == 30 and
                    all(i.state is ItemState.PENDING for i in window.queue), timeout=TIMEOUT)
    events, refreshes = [], []
    window.queue.subscribe(lambda event, items: events.append((event, len(items), items[0].state)))
    refresh = window._refresh
    monkeypatch.setattr(window, "_refresh", lambda: (refreshes.append(1), refresh()))
    window.runner.start()
    assert events == [("changed", 30, ItemState.QUEUED)]
    assert len(refreshes) == 2  # (the queue's event, and the batch's start)
    refreshes.clear()
    window.runner.cancel()
    assert events[1:] == [("changed", 30, ItemState.PENDING)] and len(refreshes) == 1
    window.runner.start()
    wait_idle(qtbot, window)
    assert all(i.state is ItemState.DONE for i in window.queue) and len(files) == 30
    events.clear()
    window.runner.retry([i.id for i in window.queue])
    assert events[0] == ("changed", 30, ItemState.QUEUED)
    assert all(i.previous for i in window.queue)  # each photo's own earlier result kept (`each`)
    wait_idle(qtbot, window)


def test_a_degradation_set_removal_and_their_undo_on_many_photos_refresh_the_window_once(make_window, qtbot,
                                                                                          tmp_path, monkeypatch):
    """Ctrl+3 on every photo, Remove and their Ctrl+Z change the rows in one step and select them again in
    one: on 406 photos in the real window, one refresh a photo froze it for 6.2 s (Ctrl+3), 6.8 s (its undo)
    and 7.9 s (the undo of a removal, each photo selected again on its own); 104, 63 and 147 ms now."""
    for k in range(30):
        make_photo(tmp_path / "many" / f"p{k:02d}.jpg")
    window = make_window()
    window.add_paths([str(tmp_path / "many")])
    qtbot.waitUntil(lambda: len(window.queue) == 30 and
                    all(i.state is ItemState.PENDING for i in window.queue), timeout=TIMEOUT)
    window.table.selectAll()
    events, refreshes = [], []
    window.queue.subscribe(lambda event, items: events.append((event, len(items))))
    refresh = window._refresh
    monkeypatch.setattr(window, "_refresh", lambda: (refreshes.append(1), refresh()))
    window.set_task_for_selection("haze")
    assert events == [("changed", 30)] and len(refreshes) == 1
    assert {i.task for i in window.queue} == {"haze"}
    window.undo_action.trigger()
    assert events[1:] == [("changed", 30)] and len(refreshes) == 2
    assert {i.task for i in window.queue} == {"auto"}
    window.remove_selected()
    assert len(window.queue) == 0
    refreshes.clear()
    window.undo_action.trigger()
    assert len(window.queue) == 30 and window.selected_ids() == [i.id for i in window.queue]  # and selected
    assert len(refreshes) == 2  # (the queue's event, and the selection's: one, not one a photo)
    window.table.clearSelection()
    window.reselect([window.queue[7].id, window.queue[2].id, window.queue[3].id])
    assert window.selected_ids() == [window.queue[k].id for k in (2, 3, 7)]  # (two ranges, in the queue's order)


def test_the_status_bar_and_title_say_how_long_the_batch_has_left(make_window, qtbot, photos, fake_engine):
    """Once a photo of the run has been restored, "about N min left" for the whole batch (a CPU batch can
    take an hour); nothing before there is anything to go by, and nothing once it is pausing or over."""
    window = running_slow_batch(make_window, qtbot, photos[0], 4)
    assert "left" not in window.status_line.label.text() and "restoring slow0.jpg (1 of 4)" in window.status_line.label.text()
    assert window.runner.time_left() is None  # the fake engine's photo takes 0.3 s: too short for a first guess
    qtbot.waitUntil(lambda: window.queue[1].state is ItemState.RUNNING, timeout=TIMEOUT)
    assert window.runner.time_left() is not None
    assert "less than a minute left" in window.status_line.label.text()
    assert window.windowTitle().endswith(" · 1 of 4 · less than a minute left — Hourglass")
    window.pause_action.trigger()
    assert window.runner.time_left() is None and "left" not in window.status_line.label.text()
    wait_idle(qtbot, window)
    assert "left" not in window.windowTitle() and "of 4" not in window.windowTitle()


def test_the_time_left_weighs_each_waiting_photo_by_its_size(make_window, qtbot, photos, fake_engine):
    """The analysis tells each photo's size: a waiting photo with four times the pixels of the one restored
    is expected to take four times as long (tiled), not as long as this run's photos took on average."""
    fake_engine.analysis_available = fake_engine.analyze_capability = True
    root = photos[0]
    files = [make_photo(root / "slow0.jpg", (40, 30)), make_photo(root / "slow1.jpg", (40, 30)),
             make_photo(root / "slow2.jpg", (80, 60))]
    window = make_window()
    window.runner.start_engine()
    window.add_paths([str(p) for p in files])
    qtbot.waitUntil(lambda: len(window.queue) == 3 and all(i.width for i in window.queue), timeout=TIMEOUT)
    assert [(i.width, i.height) for i in window.queue] == [(40, 30), (40, 30), (80, 60)]
    window.runner.settings.fullres = "tiled"
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[1].state is ItemState.RUNNING and window.queue[1].eta_s is not None,
                    timeout=TIMEOUT)
    first = window.runner._restored[0]
    assert first.work == (40 * 30 / 1e6, 40 * 30 / 1e6)
    left, running = window.runner.time_left(), window.queue[1].eta_s
    assert left - running == pytest.approx(4 * first.seconds)
    # the waiting photo's own estimate is in its row, rough ("≈ 10 s"), with a tooltip saying where it is from
    from app.qt_queue import COL_ETA, format_estimate

    qtbot.waitUntil(lambda: window.model.index(2, COL_ETA).data() == format_estimate(4 * first.seconds),
                    timeout=TIMEOUT)
    assert window.model.index(2, COL_ETA).data().startswith("≈ ")
    assert "this photo's size" in window.model.index(2, COL_ETA).data(Qt.ItemDataRole.ToolTipRole)
    assert window.model.index(0, COL_ETA).data() == ""  # done: nothing left
    window.runner.cancel()
    wait_idle(qtbot, window)


def test_before_the_first_photo_ends_the_waiting_photos_are_estimated_from_its_first_guess(
        make_window, qtbot, photos, fake_engine, monkeypatch):
    """On a CPU the first photo can take minutes: its time so far plus the engine's estimate stands in for a
    restored photo (as in the status bar), so the rows below are not blank until it ends."""
    from app.qt_queue import COL_ETA

    monkeypatch.setattr("app.batch_eta.FIRST_GUESS_AFTER_S", 0.0)
    fake_engine.analysis_available = fake_engine.analyze_capability = True
    root = photos[0]
    files = [make_photo(root / "slow0.jpg", (40, 30)), make_photo(root / "slow1.jpg", (80, 60))]
    window = make_window()
    window.runner.start_engine()
    window.add_paths([str(p) for p in files])
    qtbot.waitUntil(lambda: len(window.queue) == 2 and all(i.width for i in window.queue), timeout=TIMEOUT)
    window.runner.settings.fullres = "tiled"
    assert window.model.index(1, COL_ETA).data() == ""  # nothing to go by yet
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[0].eta_s is not None and window.runner.restored_count == 0
                    and window.model.index(1, COL_ETA).data().startswith("≈ "), timeout=TIMEOUT)
    window.runner.cancel()
    wait_idle(qtbot, window)


def test_before_start_photos_are_estimated_from_earlier_runs_with_the_same_settings(make_window, qtbot, photos,
                                                                                   fake_engine):
    """A CPU batch of 300 photos can take hours, and nothing said so before Start: the first estimate came
    seconds into the first photo. How long photos took is now remembered (app.photo_times), per model,
    quality, device and threads: after a restart the pending photos have their own estimates at once, and
    the status bar says how long restoring them should take. Other settings: nothing to go by."""
    from app.photo_times import PhotoTimes, way
    from app.qt_queue import COL_ETA, format_estimate

    fake_engine.analysis_available = fake_engine.analyze_capability = True
    root = photos[0]
    done = [make_photo(root / "a.jpg", (40, 30)), make_photo(root / "b.jpg", (40, 30))]
    window = make_window()
    window.runner.start_engine()
    window.runner.settings.fullres = "tiled"
    window.add_paths([str(p) for p in done])
    qtbot.waitUntil(lambda: len(window.queue) == 2 and all(i.width for i in window.queue), timeout=TIMEOUT)
    window.runner.start()
    wait_idle(qtbot, window)
    remembered = PhotoTimes().of(window.settings, cuda=window.runner.engine.ready.cuda_available)
    assert [r.work for r in remembered] == [(40 * 30 / 1e6,) * 2] * 2 and all(r.seconds > 0 for r in remembered)

    window.queue.flush()
    later = make_window(settings=dataclasses.replace(window.settings))  # the next start
    later.runner.start_engine()
    later.add_paths([str(make_photo(root / "c.jpg", (80, 60)))])
    qtbot.waitUntil(lambda: len(later.queue) == 3 and later.queue[2].state is ItemState.PENDING, timeout=TIMEOUT)
    mean = sum(r.seconds for r in remembered) / 2
    assert later.model.index(2, COL_ETA).data() == format_estimate(4 * mean)  # four times the pixels, tiled
    qtbot.waitUntil(lambda: "1 to restore, less than a minute" in later.status_line.label.text(), timeout=TIMEOUT)
    later.settings.quality = "best" if later.settings.quality != "best" else "fast"  # (not the earlier way)
    assert way(later.settings) != way(window.settings)
    later._refresh()
    assert later.model.index(2, COL_ETA).data() == ""
    qtbot.waitUntil(lambda: "to restore" not in later.status_line.label.text(), timeout=TIMEOUT)


def test_a_restored_photo_is_restored_again_with_a_new_degradation_and_the_first_result_kept(
        make_window, qtbot, photos, fake_engine):
    """The detector guessed wrong and the photo is already restored: choose the degradation, then Retry."""
    window = restored_window(make_window, qtbot, photos[1][0])
    item = window.queue[0]
    first = item.output_path
    assert item.state is ItemState.DONE and Path(first).is_file()
    window.select_row(0)
    assert window.retry_action.isEnabled()  # a finished photo can be restored again
    window.set_task_for_selection("rain")
    assert "Retry restores it again" in window.statusBar().currentMessage()
    assert item.state is ItemState.DONE and item.task == "rain"
    window.retry_action.trigger()
    wait_idle(qtbot, window)
    assert item.state is ItemState.DONE and item.output_path != first
    assert Path(first).is_file() and Path(item.output_path).is_file()  # nothing overwritten
    assert fake_engine.submitted[-1][2].task == "rain"
    window.table.clearSelection()
    window._refresh()
    assert not window.retry_action.isEnabled()  # with nothing selected it only offers failed/cancelled ones


def test_back_to_the_earlier_result_after_a_retry_or_a_save_at_a_lower_strength(make_window, qtbot, photos,
                                                                               monkeypatch):
    """Retried, then saved again at 40%: the queue's menu goes back one result at a time, each with its own
    strength and note; the newer files stay on disk, and a result gone since is named, nothing changed."""
    from PySide6.QtWidgets import QMenu

    menus = []
    monkeypatch.setattr(QMenu, "popup", lambda self, *_a: menus.append(self))
    window = restored_window(make_window, qtbot, photos[1][0])
    item = window.queue[0]
    first = item.output_path
    window.queue.update(item, note="a note of the first restore")
    window.select_row(0)
    window.retry_action.trigger()
    wait_idle(qtbot, window)
    second = item.output_path
    window.panel.strength.setValue(40)
    window.panel.resave_button.click()
    qtbot.waitUntil(lambda: item.output_path not in (first, second), timeout=TIMEOUT)
    third = item.output_path
    assert [entry[0] for entry in item.previous] == [first, second] and item.saved_strength == 0.4
    assert all(entry[3] == item.photo_stamp for entry in item.previous)  # each made from this very photo
    window.panel.strength.setValue(80)  # more than was saved: the earlier result is named as the way back
    assert f"or right-click → Back to {Path(second).name} (100%) shows the earlier result" in \
        window.statusBar().currentMessage()

    def back() -> str:
        window.queue_menu.popup(QPoint(5, 5))
        action = next(a for a in menus[-1].actions() if a.text().startswith("Back to"))
        text = action.text()
        action.trigger()
        return text

    assert back() == f"Back to {Path(second).name} (100%)"
    assert (item.output_path, item.saved_strength, item.previous) == (second, 1.0, [[first, 1.0, item.previous[0][2],
                                                                                     item.photo_stamp]])
    assert window.statusBar().currentMessage() == (f"{item.name} shows {Path(second).name} (100%) again; "
                                                   f"{Path(third).name} is kept")
    assert not item.note.startswith("made from") and Path(third).is_file()
    assert window.queue.get(item.id).to_json()["previous"] == [[first, 1.0, "a note of the first restore",
                                                                item.photo_stamp]]
    went_back = item.to_json()  # the row forgets the 40% result; Ctrl+Z shows it again, Redo goes back again
    assert window.undo_action.text() == "Undo go back to the earlier result"
    window.undo_action.trigger()
    assert (item.output_path, item.saved_strength) == (third, 0.4) and [e[0] for e in item.previous] == [first, second]
    window.redo_action.trigger()
    assert item.to_json() == went_back
    Path(first).unlink()
    back()
    assert item.output_path == second and "is gone (moved or deleted)" in window.statusBar().currentMessage()
    window.queue_menu.popup(QPoint(5, 5))
    assert next(a for a in menus[-1].actions() if a.text().startswith("Back to")).isEnabled()  # (said why)


def test_cancel_retry_remove_and_clear_finished(make_window, qtbot, photos, fake_engine):
    root, files = photos
    slow = make_photo(root / "slow.jpg")
    window = make_window()
    window.add_paths([str(slow), str(files[0]), str(files[1])])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[0].state is ItemState.RUNNING and window.queue[0].progress > 0,
                    timeout=TIMEOUT)
    window.cancel_action.trigger()
    wait_idle(qtbot, window)
    assert [i.state for i in window.queue] == [ItemState.CANCELLED, ItemState.PENDING, ItemState.PENDING]
    assert fake_engine.cancelled
    assert not Path(window.queue[0].path).parent.joinpath("restored", "slow.jpg").exists()
    window.select_row(0)
    window.retry_action.trigger()
    wait_idle(qtbot, window)
    assert window.queue[0].state is ItemState.DONE
    window.start_action.trigger()
    wait_idle(qtbot, window)
    window.select_row(2)
    window.remove_action.trigger()
    assert [i.name for i in window.queue] == ["slow.jpg", "a.jpg"]
    assert "Ctrl+Z puts them back" in window.statusBar().currentMessage() and window.undo_action.isEnabled()
    window.undo_action.trigger()  # Ctrl+Z
    assert [i.name for i in window.queue] == ["slow.jpg", "a.jpg", "b.png"]
    assert window.queue[2].state is ItemState.DONE and Path(window.queue[2].output_path).is_file()
    assert not window.undo_action.isEnabled()
    window.clear_action.trigger()
    assert len(window.queue) == 0
    window.undo_action.trigger()
    assert [i.name for i in window.queue] == ["slow.jpg", "a.jpg", "b.png"]
    assert window.undo_action.shortcut().toString() == "Ctrl+Z"


def test_detect_only_and_task_override_for_a_selection(make_window, qtbot, photos, fake_engine):
    _root, files = photos
    window = make_window()
    window.add_paths([str(f) for f in files])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    window.detect_action.trigger()
    qtbot.waitUntil(lambda: all(i.detect_message for i in window.queue), timeout=TIMEOUT)
    assert all(i.state is ItemState.PENDING for i in window.queue)
    assert window.model.index(0, 1).data() == "— (not available)"
    # override two photos at once, as the context menu does
    window.table.selectAll()
    window.table.selectionModel().select(window.model.index(1, 0),
                                         window.table.selectionModel().SelectionFlag.Deselect
                                         | window.table.selectionModel().SelectionFlag.Rows)
    window.set_task_for_selection("haze")
    assert [i.task for i in window.queue] == ["haze", "auto", "haze"]
    assert window.model.index(0, 1).data() == "Haze (chosen)"
    # from the keyboard, reviewing the detector's answers: Ctrl+1 … Ctrl+6 (the menu's order), Ctrl+0 Auto
    window.table.setFocus()
    QTest.keyClick(window.table, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert [i.task for i in window.queue] == ["rain", "auto", "rain"]
    QTest.keyClick(window.table, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert [i.task for i in window.queue] == ["auto", "auto", "auto"]
    assert window.task_actions["none"].shortcut().toString() == "Ctrl+6"
    window.set_task_for_selection("haze")
    # per photo, through the model's editor role
    window.model.setData(window.model.index(1, 1), "low-light")
    window.runner.start()
    wait_idle(qtbot, window)
    assert [o.task for _i, _o, o in fake_engine.submitted] == ["haze", "low-light", "haze"]


def test_ctrl_z_takes_back_degradations_set_one_change_at_a_time(make_window, qtbot, photos, fake_engine):
    """Correcting the detector from the keyboard, a slip (Ctrl+3 on the wrong selection) used to be mended
    only by choosing the old degradation again, which the user may not remember. Ctrl+Z now takes back each
    change, newest first, whichever way it was made (key, column editor); Redo makes it again. A photo
    changed since (restored meanwhile) is left as it is."""
    _root, files = photos
    window = make_window()
    window.add_paths([str(f) for f in files])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    window.table.selectAll()
    window.table.setFocus()
    QTest.keyClick(window.table, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    window.model.setData(window.model.index(1, 1), "low-light")  # one photo, in the column's editor
    assert [i.task for i in window.queue] == ["rain", "low-light", "rain"]
    assert window.undo_action.text() == f"Undo set {window.queue[1].name} to Low light"
    QTest.keyClick(window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [i.task for i in window.queue] == ["rain", "rain", "rain"]
    assert window.undo_action.text() == "Undo set 3 photos to Rain"
    window.undo_action.trigger()
    assert [i.task for i in window.queue] == ["auto", "auto", "auto"] and not window.undo_action.isEnabled()
    assert window.redo_action.text() == "Redo set 3 photos to Rain"
    assert QKeySequence("Ctrl+Shift+Z") in window.redo_action.shortcuts()
    QTest.keyClick(window.table, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    window.redo_action.trigger()
    assert [i.task for i in window.queue] == ["rain", "low-light", "rain"] and not window.redo_action.isEnabled()
    window.select_row(2)  # a photo set, then removed: Ctrl+Z puts it back, then takes its degradation back
    window.set_task_for_selection("blur")
    window.remove_selected()
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert [i.task for i in window.queue] == ["rain", "low-light", "rain"]
    window.select_row(0)
    window.set_task_for_selection("haze")  # a new change drops what could be redone, as in any editor
    window.undo_action.trigger()
    window.runner.start()  # restored with Low light meanwhile: the undo leaves that photo as it is
    wait_idle(qtbot, window)
    window.undo_action.trigger()
    assert [i.task for i in window.queue] == ["rain", "low-light", "rain"]
    assert window.statusBar().currentMessage().startswith("Nothing was undone: those photos have changed since")
    window.undo_action.trigger()  # the three set to Rain: all restored since, so none goes back
    assert [i.task for i in window.queue] == ["rain", "low-light", "rain"] and not window.undo_action.isEnabled()


def test_detection_fills_the_column_when_available(make_window, qtbot, photos, fake_engine):
    fake_engine.analysis_available = True
    window = make_window()
    window.add_paths([str(photos[1][0])])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    window.runner.detect()
    qtbot.waitUntil(lambda: window.queue[0].detected_task == "haze", timeout=TIMEOUT)
    assert window.model.index(0, 1).data() == "Haze 87%"
    assert window.queue[0].effective_task == "haze"


def test_queue_is_restored_after_restart_with_unfinished_photos_pending(make_window, qtbot, photos, aloop):
    root, files = photos
    slow = make_photo(root / "slow.jpg")
    window = make_window()
    window.add_paths([str(files[0]), str(slow), str(files[1])])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    window.runner.set_task([window.queue[2].id], "rain")
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[1].state is ItemState.RUNNING, timeout=TIMEOUT)
    # the app "dies" here: a new window reads the saved queue
    from fake_engine_service import FakeEngine

    second = make_window(engine=FakeEngine())
    assert [(i.name, i.state) for i in second.queue] == [
        ("a.jpg", ItemState.DONE), ("slow.jpg", ItemState.PENDING), ("b.png", ItemState.PENDING)]
    assert second.queue[2].task == "rain"
    assert second.queue[0].output_path and Path(second.queue[0].output_path).exists()
    window.runner.cancel()
    wait_idle(qtbot, window)


def test_a_restored_queue_has_thumbnails_and_a_photo_on_view(make_window, qtbot, photos):
    """The queue saved at the last close comes back with its thumbnails, and its first photo on view, as
    photos just added do (the window used to ask for thumbnails only on adds)."""
    _root, files = photos
    window = make_window()
    window.add_paths([str(f) for f in files])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    window.queue.flush()
    second = make_window()
    assert len(second.queue) == 3
    qtbot.waitUntil(lambda: all(second.model.has_thumbnail(i.id) for i in second.queue), timeout=TIMEOUT)
    assert second.current_item() is second.queue[0] and second.panel.shown_item == second.queue[0].id


def test_portrait_and_landscape_thumbnails_take_the_same_width_so_names_line_up(make_window, qtbot, tmp_path):
    """Qt draws an icon at its own aspect and starts the text after it: a portrait photo's name began 13 px
    left of a landscape one's, so a mixed folder's names zigzagged. Each thumbnail is now a square, the
    photo centred on it, and every name starts at the same place."""
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

    from app.qt_queue import COL_PHOTO

    wide, tall = make_photo(tmp_path / "wide.jpg", size=(96, 48)), make_photo(tmp_path / "tall.jpg", size=(48, 96))
    window = make_window()
    window.add_paths([str(wide), str(tall)])
    qtbot.waitUntil(lambda: len(window.queue) == 2 and all(window.model.has_thumbnail(i.id) for i in window.queue),
                    timeout=TIMEOUT)
    size = window.table.iconSize()
    icons = [window.model.index(r, COL_PHOTO).data(Qt.ItemDataRole.DecorationRole) for r in range(2)]
    assert [icon.actualSize(size) for icon in icons] == [size, size]
    image = icons[1].pixmap(size).toImage()  # the tall photo in the middle, transparent at the sides
    assert image.pixelColor(1, size.height() // 2).alpha() == 0
    assert image.pixelColor(size.width() // 2, size.height() // 2).alpha() == 255
    starts = []
    for row in range(2):
        option = QStyleOptionViewItem()
        option.rect = window.table.visualRect(window.model.index(row, COL_PHOTO))
        window.table.itemDelegate().initStyleOption(option, window.model.index(row, COL_PHOTO))
        starts.append(window.table.style().subElementRect(QStyle.SubElement.SE_ItemViewItemText, option,
                                                          window.table).left() - option.rect.left())
    assert starts[0] == starts[1]


def test_a_photo_or_result_moved_away_is_named_as_gone_and_not_restored_again(make_window, qtbot, photos,
                                                                               tmp_path):
    """After a batch, results are moved to a library or the photos archived: the panel says which file is
    gone (not "not restored yet", not "damaged"), and Retry leaves a photo that is gone as it was, with its
    result, instead of failing it."""
    _root, files = photos
    window = restored_window(make_window, qtbot, files[0], files[1])
    moved_photo, moved_result = window.queue
    result = Path(moved_result.output_path)
    result.rename(tmp_path / "library.png")
    window.select_row(1)
    window.panel.show_item(moved_result)
    assert "its restored file is no longer at" in window.panel.caption.text()
    assert str(result) in window.panel.caption.text()

    before_result = moved_photo.output_path
    files[0].rename(tmp_path / "archived.jpg")
    window.select_row(0)
    window.panel.show_item(moved_photo)
    qtbot.waitUntil(lambda: "no longer at" in window.panel.view.placeholder, timeout=TIMEOUT)
    assert str(files[0]) in window.panel.view.placeholder and "still at " + before_result in window.panel.view.placeholder
    window.panel.preview_visible()
    assert "no longer at" in window.panel.caption.text() and "cannot be previewed" in window.panel.caption.text()

    notices = []
    window.runner.notice.connect(notices.append)
    window.runner.retry([moved_photo.id])
    assert moved_photo.state is ItemState.DONE and moved_photo.output_path == before_result
    assert notices and "no longer where it was added" in notices[-1] and files[0].name in notices[-1]
    assert not window.runner.running


@pytest.mark.parametrize("broken", ["output folder", "model"])
def test_batch_pauses_when_a_setting_fails_every_photo(make_window, qtbot, photos, tmp_path, broken):
    """A full disk or a folder that cannot be written fails every photo saved there; so does an active model
    imported from a drive that is not mounted now (or deleted). The batch pauses after the first photo, says
    why and what to do, and keeps the others queued; once the setting is fixed, Start goes on."""
    from app.settings import Settings

    _root, files = photos
    blocker = tmp_path / "drive.txt"  # a file where a folder should be: no folder can be made under it
    blocker.write_text("")
    if broken == "output folder":
        settings = Settings(output_dir=str(blocker / "Restored"))
        code, title = "output_not_writable", "The batch is paused: results cannot be saved"
    else:
        settings = Settings(model=str(tmp_path / "unmounted" / "DiffUIR-L.safetensors"))
        code, title = "model_not_found", "The batch is paused: the model cannot be used"
    window = make_window(settings=settings)
    errors = []
    window.runner.error.connect(lambda *a: errors.append(a))
    window.add_paths([str(f) for f in files])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    window.runner.start()
    wait_idle(qtbot, window)
    assert [i.state for i in window.queue] == [ItemState.FAILED, ItemState.QUEUED, ItemState.QUEUED]
    assert window.queue[0].error_code == code
    assert [e[0] for e in errors] == [title]
    assert "The other 2 photos wait in the queue" in errors[0][1]
    if broken == "model":
        assert "Choose another model (Models), then press Start" in errors[0][1]
    settings.output_dir, settings.model = str(tmp_path / "Restored"), "default"
    window.runner.start()
    wait_idle(qtbot, window)
    assert [i.state for i in window.queue] == [ItemState.FAILED, ItemState.DONE, ItemState.DONE]


def test_batch_goes_on_when_only_one_folder_cannot_take_results(make_window, qtbot, tmp_path):
    """Results beside each photo: a folder that cannot take them fails its photo, the next photo, saved in
    another folder, is restored without a pause."""
    stuck = make_photo(tmp_path / "card" / "a.jpg")
    (tmp_path / "card" / "restored").write_text("")  # a file named like the results folder
    fine = make_photo(tmp_path / "home" / "b.jpg")
    window = make_window()
    errors = []
    window.runner.error.connect(lambda *a: errors.append(a))
    window.add_paths([str(stuck), str(fine)])
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    window.runner.start()
    wait_idle(qtbot, window)
    assert [i.state for i in window.queue] == [ItemState.FAILED, ItemState.DONE] and not errors


def test_clicking_a_column_title_sorts_the_queue_and_the_batch_runs_in_that_order(make_window, qtbot, tmp_path,
                                                                                  fake_engine):
    names = ["IMG_10.jpg", "IMG_9.jpg", "IMG_100.jpg"]
    paths = [make_photo(tmp_path / "card" / n) for n in names]
    window = make_window()
    window.add_paths([str(p) for p in paths])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: all(window.model.has_thumbnail(i.id) for i in window.queue), timeout=TIMEOUT)
    window.select_row(2)
    chosen = window.current_item()
    header = window.table.horizontalHeader()
    header.sectionClicked.emit(0)
    assert [i.name for i in window.queue] == ["IMG_9.jpg", "IMG_10.jpg", "IMG_100.jpg"]
    assert [window.model.index(r, 0).data() for r in range(3)] == ["IMG_9.jpg", "IMG_10.jpg", "IMG_100.jpg"]
    assert window.current_item() is chosen and header.isSortIndicatorShown()
    assert all(window.model.has_thumbnail(i.id) for i in window.queue)  # kept, not read again
    header.sectionClicked.emit(0)  # again: reversed
    assert [i.name for i in window.queue] == ["IMG_100.jpg", "IMG_10.jpg", "IMG_9.jpg"]
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    header.sectionClicked.emit(3)  # progress changes by the second: not an order to keep
    assert [i.name for i in window.queue] == ["IMG_100.jpg", "IMG_10.jpg", "IMG_9.jpg"]
    assert header.sortIndicatorSection() == 0
    window.runner.start()
    wait_idle(qtbot, window)
    assert [Path(job[0]).name for job in fake_engine.submitted] == ["IMG_100.jpg", "IMG_10.jpg", "IMG_9.jpg"]
    window.add_paths([str(make_photo(tmp_path / "card" / "IMG_1.jpg"))])  # added at the end: order no longer holds
    qtbot.waitUntil(lambda: len(window.queue) == 4, timeout=TIMEOUT)
    assert not header.isSortIndicatorShown()


def held_detection(fake_engine, monkeypatch, name: str):
    """Photos are detected as they are added, except `name`, whose detection waits for the returned event."""
    import asyncio

    gate = asyncio.Event()
    analyze = fake_engine.analyze

    async def held(path, result_path=""):
        if Path(path).name == name:
            await gate.wait()
        return await analyze(path, result_path)

    monkeypatch.setattr(fake_engine, "analyze", held)
    fake_engine.analysis_available = fake_engine.analyze_capability = True
    return gate


def test_restore_next_moves_photos_up_and_queues_them_in_a_running_batch(make_window, qtbot, tmp_path,
                                                                          fake_engine, monkeypatch):
    gate = held_detection(fake_engine, monkeypatch, "5.jpg")  # being detected when it is moved up
    paths = [make_photo(tmp_path / "in" / n) for n in ("1-slow.jpg", "2.jpg", "3.jpg", "4.jpg")]
    window = make_window()
    window.add_paths([str(p) for p in paths])
    qtbot.waitUntil(lambda: len(window.queue) == 4, timeout=TIMEOUT)
    window.select_row(3)
    window.restore_next()  # no batch yet: first on Start
    assert [i.name for i in window.queue] == ["4.jpg", "1-slow.jpg", "2.jpg", "3.jpg"]
    assert "first when you press Start" in window.statusBar().currentMessage()
    assert window.current_item().name == "4.jpg"
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[1].state is ItemState.RUNNING, timeout=TIMEOUT)  # the slow one
    window.add_paths([str(make_photo(tmp_path / "in" / "5.jpg"))])  # added during the batch: pending
    qtbot.waitUntil(lambda: len(window.queue) == 5 and window.queue[4].state is ItemState.DETECTING,
                    timeout=TIMEOUT)
    window.select_row(4)
    window.restore_next()
    assert [i.name for i in window.queue] == ["4.jpg", "1-slow.jpg", "5.jpg", "2.jpg", "3.jpg"]
    gate.set()
    qtbot.waitUntil(lambda: window.queue[2].state is ItemState.QUEUED, timeout=TIMEOUT)  # queued once detected
    wait_idle(qtbot, window, timeout=20000)
    assert [Path(job[0]).name for job in fake_engine.submitted] == ["4.jpg", "1-slow.jpg", "5.jpg", "2.jpg", "3.jpg"]


def test_ctrl_z_puts_back_the_order_a_column_title_click_changed_and_redo_sorts_again(make_window, qtbot, tmp_path,
                                                                                     fake_engine):
    """An order chosen by hand (the order photos were added in) was lost to a click on a column's title."""
    names = ["c.jpg", "a.jpg", "b.jpg"]
    window = make_window()
    window.add_paths([str(make_photo(tmp_path / "in" / n)) for n in names])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    header = window.table.horizontalHeader()
    window.select_row(1)
    header.sectionClicked.emit(0)
    assert [i.name for i in window.queue] == ["a.jpg", "b.jpg", "c.jpg"]
    assert window.undo_action.text() == "Undo sort by Photo"
    window.undo_action.trigger()
    assert [i.name for i in window.queue] == names
    assert [window.model.index(r, 0).data() for r in range(3)] == names
    assert not header.isSortIndicatorShown() and window.current_item().name == "a.jpg"
    assert "Undone: sort by Photo." in window.statusBar().currentMessage()
    window.redo_action.trigger()
    assert [i.name for i in window.queue] == ["a.jpg", "b.jpg", "c.jpg"] and header.isSortIndicatorShown()
    header.sectionClicked.emit(0)  # reversed, then back to ascending by Ctrl+Z
    assert [i.name for i in window.queue] == ["c.jpg", "b.jpg", "a.jpg"]
    window.undo_action.trigger()
    assert [i.name for i in window.queue] == ["a.jpg", "b.jpg", "c.jpg"]
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder and header.isSortIndicatorShown()
    window.add_paths([str(make_photo(tmp_path / "in" / "0.jpg"))])  # added since: it stays at the end
    qtbot.waitUntil(lambda: len(window.queue) == 4, timeout=TIMEOUT)
    window.undo_action.trigger()
    assert [i.name for i in window.queue] == [*names, "0.jpg"] and not header.isSortIndicatorShown()


def test_ctrl_z_takes_a_restore_next_back_out_of_the_running_batch(make_window, qtbot, tmp_path, fake_engine,
                                                                   monkeypatch):
    gate = held_detection(fake_engine, monkeypatch, "5.jpg")  # still being detected when Ctrl+Z comes
    window = make_window()
    window.add_paths([str(make_photo(tmp_path / "in" / n)) for n in ("1-slow.jpg", "2.jpg", "3.jpg")])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[0].state is ItemState.RUNNING, timeout=TIMEOUT)
    window.add_paths([str(make_photo(tmp_path / "in" / n)) for n in ("4.jpg", "5.jpg")])  # pending, not in it
    qtbot.waitUntil(lambda: len(window.queue) == 5 and window.queue[4].state is ItemState.DETECTING,
                    timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.queue[3].state is ItemState.PENDING, timeout=TIMEOUT)
    window.table.clearSelection()
    for row in (3, 4):
        window.table.selectionModel().select(window.model.index(row, 0), QItemSelectionModel.SelectionFlag.Select
                                             | QItemSelectionModel.SelectionFlag.Rows)
    window.restore_next()
    assert [i.name for i in window.queue] == ["1-slow.jpg", "4.jpg", "5.jpg", "2.jpg", "3.jpg"]
    assert window.queue[1].state is ItemState.QUEUED and window.undo_action.text() == "Undo restore 2 photos next"
    window.undo_action.trigger()
    assert [i.name for i in window.queue] == ["1-slow.jpg", "2.jpg", "3.jpg", "4.jpg", "5.jpg"]
    assert window.queue[3].state is ItemState.PENDING
    assert "Undone: restore 2 photos next (2 photos left the batch)." in window.statusBar().currentMessage()
    window.redo_action.trigger()
    assert [i.name for i in window.queue] == ["1-slow.jpg", "4.jpg", "5.jpg", "2.jpg", "3.jpg"]
    assert window.queue[1].state is ItemState.QUEUED and window.undo_action.text() == "Undo restore 2 photos next"
    window.undo_action.trigger()
    assert window.queue[0].state is ItemState.RUNNING  # (all of this while the first photo was restored)
    gate.set()  # 5.jpg's detection comes in: it is not queued, as it left the batch
    wait_idle(qtbot, window, timeout=20000)
    assert [Path(job[0]).name for job in fake_engine.submitted] == ["1-slow.jpg", "2.jpg", "3.jpg"]
    assert [i.state for i in window.queue][3:] == [ItemState.PENDING, ItemState.PENDING]


def test_cancel_keeps_a_photo_being_detected_out_of_the_batch(make_window, qtbot, tmp_path, fake_engine,
                                                             monkeypatch):
    """Start during a batch takes a photo still being detected once its detection is in; *Cancel* on it
    left it to be taken all the same."""
    gate = held_detection(fake_engine, monkeypatch, "2.jpg")
    window = make_window()
    window.add_paths([str(make_photo(tmp_path / "in" / "1-slow.jpg"))])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[0].state is ItemState.RUNNING, timeout=TIMEOUT)
    window.add_paths([str(make_photo(tmp_path / "in" / "2.jpg"))])
    qtbot.waitUntil(lambda: len(window.queue) == 2 and window.queue[1].state is ItemState.DETECTING,
                    timeout=TIMEOUT)
    window.runner.start()  # takes 2.jpg once it is detected
    window.runner.cancel_items([window.queue[1].id])
    gate.set()
    wait_idle(qtbot, window, timeout=20000)
    assert [Path(job[0]).name for job in fake_engine.submitted] == ["1-slow.jpg"]
    assert window.queue[1].state is ItemState.PENDING


def test_start_during_a_batch_takes_the_photos_added_since(make_window, qtbot, tmp_path, fake_engine):
    window = make_window()
    window.add_paths([str(make_photo(tmp_path / "in" / "slow.jpg"))])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[0].state is ItemState.RUNNING, timeout=TIMEOUT)
    assert not window.start_action.isEnabled()  # nothing to add to the batch
    window.add_paths([str(make_photo(tmp_path / "in" / "more.jpg"))])
    qtbot.waitUntil(lambda: len(window.queue) == 2 and window.start_action.isEnabled(), timeout=TIMEOUT)
    window.start_action.trigger()
    assert window.queue[1].state is ItemState.QUEUED
    wait_idle(qtbot, window, timeout=20000)
    assert [Path(job[0]).name for job in fake_engine.submitted] == ["slow.jpg", "more.jpg"]


def test_never_overwrite_and_output_folder_mirroring(make_window, qtbot, photos, tmp_path):
    from app.settings import Settings

    root, files = photos
    existing = make_photo(root / "restored" / "a.jpg")
    out = tmp_path / "out"
    window = make_window()
    window.add_paths([str(files[0])])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    window.runner.start()
    wait_idle(qtbot, window)
    assert Path(window.queue[0].output_path).name == "a (1).jpg" and existing.exists()
    settings = Settings(output_dir=str(out), format="png", name_suffix="_r")
    second = make_window(settings=settings)
    second.queue.remove([i.id for i in second.queue])
    second.add_paths([str(root / "album")])
    qtbot.waitUntil(lambda: len(second.queue) == 2, timeout=TIMEOUT)
    second.runner.start()
    wait_idle(qtbot, second)
    outputs = sorted(Path(i.output_path).relative_to(out).as_posix() for i in second.queue)
    assert outputs == ["album/d_r.png", "album/trip/e_r.png"]
    opts = second.runner.engine.submitted[-1][2]
    assert opts.format == "PNG" and opts.overwrite is False


def test_strength_is_sent_to_the_engine_and_previews_stay_at_full_strength(make_window, qtbot, tmp_path,
                                                                            fake_engine):
    """The engine blends the saved photo over the original (at full precision, so 16-bit, alpha, gray and
    metadata survive); the compare view blends previews live, so they are restored at full strength."""
    window = make_window()
    window.panel.strength.setValue(25)
    assert window.compare.strength == 0.25 and window.settings.strength == 0.25
    photo = make_photo(tmp_path / "p.png", colour=(40, 40, 40))
    window.add_paths([str(photo)])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    assert window.runner.job_options(window.queue[0]).strength == 0.25
    window.runner.start()
    wait_idle(qtbot, window)
    assert window.runner.engine.submitted[-1][2].strength == 0.25
    item = window.queue[0]
    assert item.saved_strength == 0.25  # the view shows that file as it is at 25 %, not blended again
    window.select_row(0)
    assert "saved at 25% strength" in window.panel.caption.text()
    qtbot.waitUntil(lambda: window.compare.after is not None, timeout=TIMEOUT)
    assert window.compare.after_strength == 0.25 and window.compare.after_opacity() == 1.0


def test_the_metadata_settings_are_sent_with_every_job(make_window, qtbot, tmp_path):
    window = make_window()
    window.settings.remove_location, window.settings.record = True, False
    window.add_paths([str(make_photo(tmp_path / "p.png", colour=(40, 40, 40)))])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    window.runner.start()
    wait_idle(qtbot, window)
    sent = window.runner.engine.submitted[-1][2]
    assert (sent.remove_location, sent.record) == (True, False)


def test_selecting_a_done_photo_shows_before_and_after(make_window, qtbot, photos):
    window = make_window()
    window.add_paths([str(photos[1][0])])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.compare.before is not None, timeout=TIMEOUT)
    assert window.compare.after is None
    window.runner.start()
    qtbot.waitUntil(lambda: window.compare.after is not None, timeout=TIMEOUT)
    assert window.compare.before.size() == window.compare.after.size()


def test_closing_during_a_batch_asks_then_cancels_cleanly(make_window, qtbot, photos, fake_engine):
    root, _ = photos
    slow = [make_photo(root / f"slow{i}.jpg") for i in range(2)]
    window = make_window()
    window.add_paths([str(p) for p in slow])
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[0].state is ItemState.RUNNING, timeout=TIMEOUT)
    window.close()
    assert window.isVisible()  # it asked first
    box = window._close_box
    box.button(QMessageBox.StandardButton.Yes).click()
    with qtbot.waitSignal(window.close_confirmed, timeout=TIMEOUT):
        pass
    assert not window.isVisible()
    assert [i.state for i in window.queue] == [ItemState.CANCELLED, ItemState.PENDING]


def test_the_menu_bar_holds_every_command_with_its_key(make_window, qtbot, photos):
    """There was no menu bar: the commands outside the toolbar (Undo, Save again, Paste, the degradation
    keys) were found only in right-click menus or the About box, and a Mac user looks for them nowhere else.
    File, Edit, Batch, View and Help now hold them, each with its key; Quit (Ctrl+Q) asks first while a
    batch runs, as closing the window does; Side by side follows the view's own S key."""
    window = make_window()
    menus = {m.title().replace("&", ""): m for m in (a.menu() for a in window.menu_bar.actions()) if m}
    assert list(menus) == ["File", "Edit", "Batch", "View", "Help"]

    def every(menu) -> list:
        return [x for a in menu.actions() for x in ([a] + (every(a.menu()) if a.menu() else []))]

    shown = {a for m in menus.values() for a in every(m)}
    assert set(window.toolbar.actions()) - {a for a in window.toolbar.actions() if a.isSeparator()} <= shown
    assert {window.undo_action, window.redo_action, window.paste_action, window.trash_action,
            window.save_again_action, window.save_view_action, window.copy_view_action,
            *window.task_actions.values()} <= shown
    assert window.undo_action in menus["Edit"].actions() and window.about_action in menus["Help"].actions()
    assert "Open log folder" in [a.text() for a in menus["Help"].actions()]  # (also in every error dialog)
    assert window.quit_action.shortcut().toString() == "Ctrl+Q" and window.quit_action in window.actions()
    assert window.settings_action.menuRole() is QAction.MenuRole.PreferencesRole  # (the Mac's app menu)
    assert window.quit_action.menuRole() is QAction.MenuRole.QuitRole

    window.side_by_side_action.trigger()
    assert window.compare.side_by_side and window.panel.side_button.isChecked()
    window.panel.side_button.click()  # the button (or S in the view) and the menu item agree
    assert not window.compare.side_by_side and not window.side_by_side_action.isChecked()
    window.original_action.trigger()
    assert window.compare.show_before and window.panel.toggle_button.isChecked()
    window.panel.toggle_button.click()  # (Space in the view does the same)
    assert not window.compare.show_before and not window.original_action.isChecked()
    next_photo = next(a for a in menus["View"].actions() if a.text() == "Next photo (↓)")
    window.add_paths([str(make_photo(photos[0] / f"view{i}.jpg")) for i in range(2)])
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    window.select_row(0)
    next_photo.trigger()
    assert window.current_item() is window.queue[1]
    window.remove_photos([i.id for i in window.queue])

    window.add_paths([str(make_photo(photos[0] / f"slow{i}.jpg")) for i in range(2)])
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[0].state is ItemState.RUNNING, timeout=TIMEOUT)
    window.quit_action.trigger()
    assert window.isVisible() and window._close_box.isVisible()  # it asked first
    window._close_box.button(QMessageBox.StandardButton.Yes).click()
    with qtbot.waitSignal(window.close_confirmed, timeout=TIMEOUT):
        pass
    assert not window.isVisible()


def test_context_menu_offers_open_output_and_show_in_folder(make_window, qtbot, photos, monkeypatch):
    from PySide6.QtWidgets import QMenu

    opened = []
    monkeypatch.setattr("app.widgets.queue_menu.QDesktopServices.openUrl", lambda url: opened.append(url))
    menus = []
    monkeypatch.setattr(QMenu, "popup", lambda self, *_a: menus.append(self))
    window = restored_window(make_window, qtbot, photos[1][0])
    window.select_row(0)
    window.queue_menu.popup(QPoint(5, 5))
    texts = [a.text() for a in menus[-1].actions()]
    assert "Open output" in texts and "Show in folder" in texts
    compare = next(a for a in menus[-1].actions() if a.text() == "Compare with").menu()
    assert "Fast (1 step)" in [a.text() for a in compare.actions()]  # the same alternatives as the button's
    next(a for a in menus[-1].actions() if a.text() == "Open output").trigger()
    assert opened and opened[0].toLocalFile() == window.queue[0].output_path

    # the result moved to a library since: nothing to open, and the status bar says why a double-click did nothing
    result = Path(window.queue[0].output_path)
    result.unlink()
    window.queue_menu.popup(QPoint(5, 5))
    assert not next(a for a in menus[-1].actions() if a.text() == "Open output").isEnabled()
    window.queue_menu.open_output(window.queue[0])
    assert len(opened) == 1 and "no longer at" in window.statusBar().currentMessage()
    next(a for a in menus[-1].actions() if a.text() == "Show in folder").trigger()  # the photo's folder then
    assert opened[-1].toLocalFile() == str(Path(window.queue[0].path).parent)


def test_ctrl_s_says_when_no_selected_photo_can_be_saved_again(make_window, qtbot, photos):
    """Saving again needs the slider below a restored photo's saved strength; otherwise the key says so."""
    window = restored_window(make_window, qtbot, photos[1][0])
    window.select_row(0)
    window.panel.strength.setValue(100)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert "Nothing to save again at 100%" in window.statusBar().currentMessage()
    assert window.save_again_action.shortcut().toString() == "Ctrl+S"


def test_moving_the_slider_during_a_batch_says_it_sets_the_waiting_photos_strength(make_window, qtbot, photos):
    from fake_engine_service import FakeEngine

    window = make_window(engine=FakeEngine(step_s=0.3))
    window.add_paths([str(p) for p in photos[1][:3]])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[0].state is ItemState.RUNNING, timeout=TIMEOUT)
    window.panel.strength.setValue(70)  # as a key press does
    assert "The 2 photos still to restore in this batch will be saved at 70% strength" in \
        window.statusBar().currentMessage()
    window.runner.cancel()
    wait_idle(qtbot, window)


def test_a_batch_below_full_strength_says_so_as_it_starts(make_window, qtbot, photos):
    window = make_window()
    window.add_paths([str(photos[1][0])])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    window.panel.strength.setValue(40)  # left there after toning one photo down
    window.runner.start()
    qtbot.waitUntil(lambda: "saves its results at 40% strength" in window.statusBar().currentMessage(),
                    timeout=TIMEOUT)
    wait_idle(qtbot, window)


@pytest.mark.parametrize("state", [ItemState.DONE])
def test_state_column_labels(make_window, qtbot, photos, state):
    window = restored_window(make_window, qtbot, photos[1][0])
    assert window.queue[0].state is state
    assert window.model.index(0, 2).data() == "Done"


def _two_photos_around_one_that_fails(make_window, qtbot, photos):
    """A window queuing a photo, one the scripted engine fails ("fail-me.jpg"), and another photo."""
    root, files = photos
    window = make_window()
    window.add_paths([str(files[0]), str(make_photo(root / "fail-me.jpg")), str(files[1])])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    return window


def test_restored_rows_drag_out_as_their_files(make_window, qtbot, photos):
    window = _two_photos_around_one_that_fails(make_window, qtbot, photos)
    pending = window.model.index(0, 0)
    assert not window.model.flags(pending) & Qt.ItemFlag.ItemIsDragEnabled  # nothing to drag yet
    window.start_action.trigger()
    wait_idle(qtbot, window)
    m = window.model
    draggable = [bool(m.flags(m.index(r, 0)) & Qt.ItemFlag.ItemIsDragEnabled) for r in range(3)]
    assert draggable == [True, False, True]  # the failed photo has no restored file
    assert window.table.dragEnabled() and m.mimeTypes() == ["text/uri-list"]
    mime = m.mimeData([m.index(r, c) for r in range(3) for c in (0, 2)])  # whole rows, several columns
    assert [Path(u.toLocalFile()) for u in mime.urls()] == [Path(window.queue[r].output_path) for r in (0, 2)]
    assert all(Path(u.toLocalFile()).parent.name == "restored" for u in mime.urls())
    Path(window.queue[0].output_path).unlink()  # moved away since: no longer offered
    assert not m.flags(m.index(0, 0)) & Qt.ItemFlag.ItemIsDragEnabled


def test_ctrl_c_copies_the_selected_photos_restored_files_for_a_file_manager(make_window, qtbot, photos):
    """Dragging rows out was the only way to hand results to a file manager: none for the keyboard."""
    window = _two_photos_around_one_that_fails(make_window, qtbot, photos)
    window.select_row(0)
    window.copy_files_action.trigger()  # not restored yet
    assert "None of the selected photos has a restored file" in window.statusBar().currentMessage()
    window.start_action.trigger()
    wait_idle(qtbot, window)
    window.table.selectAll()
    window.copy_files_action.trigger()
    mime = QApplication.clipboard().mimeData()
    outputs = [window.queue[r].output_path for r in (0, 2)]  # (the failed photo has none)
    assert [u.toLocalFile() for u in mime.urls()] == outputs
    gnome = bytes(mime.data("x-special/gnome-copied-files")).split(b"\n")
    assert gnome[0] == b"copy" and [QUrl.fromEncoded(u).toLocalFile() for u in gnome[1:]] == outputs
    assert mime.text().splitlines() == outputs
    assert "Copied 2 restored files" in window.statusBar().currentMessage()
    assert window.copy_files_action.shortcut().toString() == "Ctrl+C"


def test_paste_adds_copied_files_and_folders_and_says_when_there_are_none(make_window, qtbot, photos):
    from app.mime_data import clipboard_paths

    root, files = photos
    window = make_window()
    clipboard = QApplication.clipboard()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(files[0])), QUrl.fromLocalFile(str(root / "album"))])
    clipboard.setMimeData(mime)
    window.paste_action.trigger()
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    assert sorted(i.name for i in window.queue) == ["a.jpg", "d.jpg", "e.png"]
    clipboard.setText(f'"{files[1]}"\n{root / "missing.jpg"}\n')  # paths as text: existing ones only
    assert clipboard_paths(clipboard.mimeData()) == [str(files[1])]
    window.paste_action.trigger()
    qtbot.waitUntil(lambda: len(window.queue) == 4, timeout=TIMEOUT)
    clipboard.setText("just some words")
    window.paste_action.trigger()
    assert "no photo, file or folder" in window.statusBar().currentMessage() and len(window.queue) == 4
    assert window.paste_action.shortcut().toString() == "Ctrl+V"


def test_a_pasted_image_is_saved_as_a_png_and_queued(make_window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtGui import QColor, QImage

    monkeypatch.setenv("HOURGLASS_DATA_DIR", str(tmp_path / "data"))
    window = make_window()
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor(30, 60, 90))
    for _ in range(2):  # two pastes in the same second get two files
        QApplication.clipboard().setImage(image)
        window.paste_action.trigger()
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    paths = sorted(Path(i.path) for i in window.queue)
    assert all(p.parent == tmp_path / "data" / "Pasted" and p.suffix == ".png" for p in paths)
    assert len(set(paths)) == 2
    # two in the same second are numbered as results are ("name (1).png"), not by a scheme of their own
    assert all(re.fullmatch(r"pasted-\d{8}-\d{6}( \(1\))?\.png", p.name) for p in paths), paths
    with Image.open(paths[0]) as saved:
        assert saved.size == (40, 30) and saved.convert("RGB").getpixel((5, 5)) == (30, 60, 90)
    for p in paths:  # a file where the Pasted folder should be: said, not mistaken for an empty clipboard
        p.unlink()
    (tmp_path / "data" / "Pasted").rmdir()
    (tmp_path / "data" / "Pasted").write_text("in the way")
    window.paste_action.trigger()
    assert window.statusBar().currentMessage().startswith("The pasted image could not be saved: ")
    assert len(window.queue) == 2


def test_an_image_dragged_from_a_browser_is_kept_and_queued_and_a_web_link_is_explained(make_window, qtbot,
                                                                                       tmp_path, monkeypatch):
    """A drag out of a browser or an editor carries the image itself, not a file: it is kept as a PNG, as a
    pasted image is. A drag that carries only a web link was ignored without a word; it says what to do."""
    from PySide6.QtGui import QColor, QImage

    monkeypatch.setenv("HOURGLASS_DATA_DIR", str(tmp_path / "data"))
    window = make_window()
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor(90, 60, 30))
    drop(window, [], urls=[QUrl("https://example.org/photo.jpg")], image=image)  # as a browser drags one
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    path = Path(window.queue[0].path)
    assert path.parent == tmp_path / "data" / "Pasted" and re.fullmatch(r"dropped-\d{8}-\d{6}\.png", path.name)
    with Image.open(path) as saved:
        assert saved.size == (40, 30) and saved.convert("RGB").getpixel((5, 5)) == (90, 60, 30)
    drop(window, [], urls=[QUrl("https://example.org/gallery.html")])
    assert window.statusBar().currentMessage().startswith("Only photos on this computer can be added")
    assert len(window.queue) == 1


def test_title_shows_the_batch_progress_and_a_finished_batch_asks_for_attention(make_window, qtbot, photos,
                                                                                monkeypatch):
    from app.widgets.status_line import TITLE

    alerts = []
    monkeypatch.setattr("app.widgets.main_window.QApplication.alert", lambda widget, ms=0: alerts.append(widget))
    root, files = photos
    window = make_window()
    titles = []
    window.windowTitleChanged.connect(titles.append)
    window.add_paths([str(f) for f in files])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    assert window.windowTitle() == TITLE
    monkeypatch.setattr(window, "isActiveWindow", lambda: False)  # the user is in another window
    window.start_action.trigger()
    wait_idle(qtbot, window)
    progress = [t for t in titles if t != TITLE]
    assert progress and all(t.endswith(" — Hourglass") and " of 3" in t and "%" in t for t in progress)
    assert window.windowTitle() == TITLE and alerts == [window]
    monkeypatch.setattr(window, "isActiveWindow", lambda: True)  # watching: no need to flash
    window.add_paths([str(root / "album")])
    qtbot.waitUntil(lambda: len(window.queue) == 5, timeout=TIMEOUT)
    window.start_action.trigger()
    wait_idle(qtbot, window)
    assert alerts == [window]


def test_a_long_note_or_file_name_does_not_widen_the_window(make_window, qtbot):
    window = make_window()
    qtbot.wait(50)
    width = window.width()
    window.panel.caption.setText("photo.jpg → /a/long/path/restored/photo.jpg  (" + "a measured limit " * 40 + ")")
    window.status_line.label.setText("3 photos · restoring " + "a very long file name " * 20 + ".jpg (1 of 3)")
    qtbot.wait(50)  # the layout settles
    assert window.width() == width and window.minimumSizeHint().width() < width


def test_the_window_comes_back_as_it_was_left(make_window, qtbot, data_dir):
    from app.qt_queue import COL_TASK

    first = make_window()
    # the offscreen screen is 800×600 and a restored window is fitted into it: the narrowest window fits
    first.resize(first.minimumSizeHint().width(), 560)
    first.split.setSizes([300, 700])
    first.table.horizontalHeader().resizeSection(COL_TASK, 177)
    qtbot.wait(20)
    sizes = first.split.sizes()
    first.close()
    assert (data_dir / "window.json").is_file()
    second = make_window()
    qtbot.wait(20)
    assert second.height() == 560
    assert second.split.sizes() == sizes and second.table.horizontalHeader().sectionSize(COL_TASK) == 177
    (data_dir / "window.json").write_text("{not json")  # damaged: the default layout, no error
    third = make_window()
    assert third.height() == 780 and third.split.sizes() != sizes


def test_the_window_fits_a_1024_pixel_wide_screen(make_window, qtbot):
    window = make_window()
    qtbot.wait(20)
    assert window.minimumSizeHint().width() <= 1024


def test_about_shows_the_version_licences_the_models_limits_and_every_shortcut(make_window, qtbot):
    from engine import __version__

    window = make_window()
    dialog = window.open_about()
    text = dialog.text.toPlainText()
    assert f"Hourglass {__version__}" in text and "MIT" in text and "LGPL" in text
    for keys in ("Ctrl+O", "Ctrl+V", "Ctrl+Z", "F11", "Ctrl+Shift+S", "F1", "Space or B", "Page Down", "Side by side",
                 "Ctrl+R", "Ctrl+Backspace", "Degradation: Low light"):
        assert keys in text, keys
    # a toolbar button's hover names its key too
    assert window.add_action.toolTip() == "Add photos to the queue (Ctrl+O)"
    assert window.retry_action.toolTip().endswith("beside it) (Ctrl+R)") and window.pause_action.toolTip() == (
        "Stop after the current photo")
    # the bundled model's listing arrives from `hourglass models` (a real subprocess) with its notes
    qtbot.waitUntil(lambda: dialog.model != "bundled default", timeout=60_000)
    assert dialog.model == "hourglass-diffuir-t" and set(dialog.notes) <= {"low-light", "haze", "rain", "snow", "blur"}
    assert all(note in dialog.text.toPlainText() for note in dialog.notes.values())
    dialog.close()


def test_the_empty_queue_offers_the_sample_photos_copied_where_results_can_be_saved(make_window, qtbot, data_dir):
    from app.paths import resources_dir

    window = make_window()
    window.drop_zone.samples_button.click()
    bundled = sorted(p.name for p in (resources_dir() / "samples").glob("*.jpg"))
    qtbot.waitUntil(lambda: len(window.queue) == len(bundled), timeout=TIMEOUT)
    assert sorted(i.name for i in window.queue) == bundled and len(bundled) == 5
    assert all(Path(i.path).parent == data_dir / "Samples" for i in window.queue)
    window.start_action.trigger()
    wait_idle(qtbot, window)
    assert all(Path(i.output_path).parent == data_dir / "Samples" / "restored" for i in window.queue)


def test_the_queue_and_the_strength_slider_have_names_for_screen_readers(make_window):
    from PySide6.QtGui import QAccessible

    window = make_window()
    names = [QAccessible.queryAccessibleInterface(w).text(QAccessible.Text.Name)
             for w in (window.table, window.panel.strength)]
    assert names == ["Photo queue", "Strength"]


def test_a_photo_edited_after_it_was_restored_is_said_to_have_changed(make_window, qtbot, photos):
    """A photographer restores a batch, then edits one photo in another app (crops it, retouches it) and comes
    back: its result was made from the earlier version, so the comparison no longer pairs like with like. The
    row, its tooltip and the caption say so (on coming back to the window, at the next start, and when the
    photo is chosen); an untouched photo and one that is gone are not flagged; Retry makes a new result from
    the edited photo and keeps the old one."""
    from PySide6.QtGui import QGuiApplication

    from app.qt_queue import COL_STATE, PHOTO_CHANGED

    _root, files = photos
    window = restored_window(make_window, qtbot, files[0], files[1])
    edited, untouched = window.queue
    assert edited.photo_stamp == [files[0].stat().st_size, files[0].stat().st_mtime_ns]
    assert window.model.data(window.model.index(0, COL_STATE)) == "Done"
    first_result = edited.output_path

    make_photo(files[0], size=(12, 12), colour=(10, 200, 30))  # cropped and retouched elsewhere
    os.utime(files[0], ns=(edited.photo_stamp[1] + 10**9,) * 2)
    QGuiApplication.instance().applicationStateChanged.emit(Qt.ApplicationState.ApplicationActive)
    qtbot.waitUntil(lambda: edited.photo_changed, timeout=TIMEOUT)  # (the files looked at off the GUI thread)
    assert not untouched.photo_changed
    assert window.model.data(window.model.index(0, COL_STATE)) == "Photo changed"
    assert window.model.data(window.model.index(0, COL_STATE), Qt.ItemDataRole.ToolTipRole) == PHOTO_CHANGED
    assert window.model.data(window.model.index(1, COL_STATE)) == "Done"
    assert window.statusBar().currentMessage().startswith("a.jpg has changed since it was restored")
    window.select_row(0)
    assert window.panel.shown_item == edited.id
    assert window.panel.caption.text().startswith("a.jpg has changed since it was restored (edited or replaced): "
                                                  f"{first_result} was made from the earlier version.")

    window.queue.flush()  # the next start sees it too, from the saved stamp
    second = make_window()
    second.queue[0].photo_changed = False  # (as a queue saved before the photo was edited would say)
    second.check_photos()
    qtbot.waitUntil(lambda: second.queue[0].photo_changed, timeout=TIMEOUT)
    assert not second.queue[1].photo_changed

    files[1].unlink()  # gone is not "changed": the panel says it is gone
    window.queue.check_photos()
    assert not untouched.photo_changed

    window.retry_action.trigger()
    qtbot.waitUntil(lambda: edited.state is ItemState.DONE and edited.output_path != first_result, timeout=TIMEOUT)
    assert not edited.photo_changed and edited.photo_stamp[1] == files[0].stat().st_mtime_ns
    assert Path(first_result).exists() and edited.previous[-1][0] == first_result
    assert window.model.data(window.model.index(0, COL_STATE)) == "Done"
    assert window.panel.caption.text().startswith(f"a.jpg → {edited.output_path}")

    # the first result was made from the photo before its edit: said again
    from app.resave import back_to_earlier

    assert back_to_earlier(window.queue, edited)[0] and edited.output_path == first_result
    assert edited.photo_changed and window.model.data(window.model.index(0, COL_STATE)) == "Photo changed"
    assert QueueItem.from_json(edited.to_json()).photo_stamp == edited.photo_stamp


def test_side_by_side_is_a_button_a_key_and_a_menu_item_and_is_kept(make_window, qtbot, photos, monkeypatch):
    from PySide6.QtWidgets import QMenu

    from app.settings import Settings

    window = make_window()
    button = window.panel.side_button
    assert not button.isChecked() and not window.compare.side_by_side
    button.click()
    assert window.compare.side_by_side and Settings.load().side_by_side
    qtbot.keyClick(window.compare, Qt.Key.Key_S)  # the key says so on the button, and is kept too
    assert not button.isChecked() and not Settings.load().side_by_side
    qtbot.keyClick(window.compare, Qt.Key.Key_S)
    assert button.isChecked()
    second = make_window()
    assert second.panel.side_button.isChecked() and second.compare.side_by_side
    menus = []
    monkeypatch.setattr(QMenu, "popup", lambda self, *_a: menus.append(self))
    second.panel._view_menu(QPoint(5, 5))  # the view's right-click menu has it too
    action = next(a for a in menus[-1].actions() if a.text() == "Side by side (S)")
    assert action.isChecked()
    action.trigger()
    assert not second.compare.side_by_side and not second.panel.side_button.isChecked()


def test_up_and_down_in_the_comparison_step_through_the_queue_also_in_full_screen(make_window, qtbot, photos):
    """Reviewing a batch: the comparison keeps the keyboard and Down/Up (Page Down/Up) show the next and
    previous photo in the queue's order, at the zoom the view had (photos of one size)."""
    _root, files = photos
    window = make_window()
    window.add_paths([str(f) for f in files])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    window.show()
    window.select_row(0)
    qtbot.waitUntil(lambda: window.compare.before is not None, timeout=TIMEOUT)
    window.set_full_screen(True)
    view = window.compare
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_1)  # at 100 %
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert window.current_item() is window.queue[1] and window.panel.shown_item == window.queue[1].id
    qtbot.keyClick(view, Qt.Key.Key_PageDown)
    assert window.current_item() is window.queue[2]
    qtbot.keyClick(view, Qt.Key.Key_Down)  # the last one: it stays
    assert window.current_item() is window.queue[2] and window.statusBar().currentMessage() == \
        "The last photo of the queue"
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert window.current_item() is window.queue[1] and len(window.selected_items()) == 1
    assert QApplication.focusWidget() is view and not view.fit_mode and view.transform.zoom == 1.0
    window.set_full_screen(False)


def test_a_photo_touched_or_copied_over_with_the_same_bytes_is_not_taken_for_an_edit(make_window, qtbot, photos):
    """A new modification time alone (a `touch`, a sync, the same file copied over) is not an edit: the
    photo's bytes are compared with those it was restored from, and the photo takes its new stamp."""
    from PySide6.QtGui import QGuiApplication

    _root, files = photos
    window = restored_window(make_window, qtbot, files[0])
    item = window.queue[0]
    assert len(item.photo_sha256) == 64
    os.utime(files[0], ns=(item.photo_stamp[1] + 10**9,) * 2)
    QGuiApplication.instance().applicationStateChanged.emit(Qt.ApplicationState.ApplicationActive)
    qtbot.waitUntil(lambda: item.photo_stamp[1] == files[0].stat().st_mtime_ns, timeout=TIMEOUT)
    assert not item.photo_changed
    make_photo(files[0], colour=(1, 2, 3))  # now edited
    os.utime(files[0], ns=(item.photo_stamp[1] + 10**9,) * 2)
    window.queue.check_photos()
    assert item.photo_changed


def test_a_photo_left_as_it_was_and_edited_since_is_flagged_and_looked_at_again(make_window, qtbot, tmp_path):
    """A photo the batch left (found fine) and then edited in another app was still "Not needed", from an
    answer about the file before: it is "Photo changed" now, and Retry looks at it again (here the edit made
    it need restoring: the scripted engine restores what has no "clean" in its name)."""
    from PySide6.QtGui import QGuiApplication

    from app.qt_queue import COL_STATE, LEFT_CHANGED

    photo = make_photo(tmp_path / "clean.jpg")
    window = restored_window(make_window, qtbot, photo)
    item = window.queue[0]
    assert item.skipped and window.model.data(window.model.index(0, COL_STATE)) == "Not needed"
    make_photo(photo, colour=(5, 5, 5))  # darkened in an editor
    os.utime(photo, ns=(item.photo_stamp[1] + 10**9,) * 2)
    QGuiApplication.instance().applicationStateChanged.emit(Qt.ApplicationState.ApplicationActive)
    qtbot.waitUntil(lambda: item.photo_changed, timeout=TIMEOUT)
    assert window.model.data(window.model.index(0, COL_STATE)) == "Photo changed"
    assert window.model.data(window.model.index(0, COL_STATE), Qt.ItemDataRole.ToolTipRole) == f"The photo {LEFT_CHANGED}"
    assert window.statusBar().currentMessage() == "clean.jpg has changed since it was left as it was: Retry looks at it again"
    window.select_row(0)
    assert window.panel.caption.text().startswith("clean.jpg has changed since Hourglass left it as it was")
    window.retry_action.trigger()  # looked at again: still fine to the (scripted) detector, with its new stamp
    qtbot.waitUntil(lambda: item.state is ItemState.DONE and not item.photo_changed, timeout=TIMEOUT)
    assert item.skipped and item.photo_stamp[1] == photo.stat().st_mtime_ns
    assert window.model.data(window.model.index(0, COL_STATE)) == "Not needed"
    window.set_task_for_selection("low-light")  # what the photographer sees it needs now: restored
    window.runner.start()
    qtbot.waitUntil(lambda: item.state is ItemState.DONE and item.restored, timeout=TIMEOUT)
    assert not item.photo_changed and Path(item.output_path).is_file()

def test_a_watched_folder_restores_the_photos_that_arrive_once_they_are_whole(make_window, qtbot, tmp_path,
                                                                               monkeypatch):
    """Watch folder…: photos already there are left as they are; a photo that arrives is taken once its size
    and time have not changed between two looks (not while it is being written) and restored; results and
    hidden files are not taken; a paused batch stays paused; stopping the watch stops it."""
    from app.watch_folder import FolderWatch

    tether = tmp_path / "tether"
    make_photo(tether / "before.jpg")
    window = make_window()
    window.watch = watch = FolderWatch(window.queue.paths, window.settings, interval_ms=60, parent=window)
    watch.arrived.connect(window.watching.arrived)
    watch.started.connect(window.watching.started)
    window.watching.watch_folder(str(tether))
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == (
        f"Watching {tether}: photos that arrive in it are restored; the photo already there is left as it is "
        "(Add folder… takes it)"), timeout=TIMEOUT)
    assert window.watch_action.isChecked() and window.watching.label.text() == "Watching tether"

    growing = tether / "IMG_0002.jpg"
    with growing.open("wb") as fh:  # the camera's software writes it, a piece every 20 ms (the looks: 60 ms)
        for _ in range(15):
            fh.write(b"\xff" * 64)
            fh.flush()
            qtbot.wait(20)
            assert len(window.queue) == 0
    make_photo(growing)  # written in full
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    item = window.queue[0]
    assert item.name == "IMG_0002.jpg"
    qtbot.waitUntil(lambda: item.state is ItemState.DONE, timeout=TIMEOUT)  # restored without Start
    assert (tether / "restored" / "IMG_0002.jpg").is_file()
    make_photo(tether / ".hidden.jpg")
    qtbot.wait(300)
    assert [i.name for i in window.queue] == ["IMG_0002.jpg"]  # not its result, nor a hidden file, nor before.jpg

    window.watching.toggle(False)
    assert not watch.watching and not window.watching.label.isVisible()
    make_photo(tether / "after_stop.jpg")
    qtbot.wait(300)
    assert len(window.queue) == 1


def test_arrivals_in_a_watched_folder_wait_behind_a_paused_batch(make_window, qtbot, photos):
    """A batch paused with photos queued stays paused: what arrives is queued after it, for Start."""
    _root, files = photos
    window = make_window()
    window.add_paths([str(files[0])])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    window.queue.set_state(window.queue[0], ItemState.QUEUED)  # (what a pause leaves)
    window.watching.arrived([str(files[1])])
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    assert not window.runner.running and window.queue[1].state is ItemState.PENDING
    assert window.statusBar().currentMessage() == ("1 new photo in the watched folder, queued after the paused "
                                                   "batch (Start)")
    window.start_action.trigger()
    wait_idle(qtbot, window)
    assert [i.state for i in window.queue] == [ItemState.DONE, ItemState.DONE]
