"""Automatic detection in the window (fake engine): photos are detected as they are added when the engine
can, the column shows the detected task with its confidence and can be overridden, a photo that already
looks fine is reported as "Not needed" (not a failure, nothing written) unless the user asks."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import make_photo
from PySide6.QtCore import Qt
from test_main_window import TIMEOUT, wait_idle

from app.qt_queue import COL_PHOTO, COL_STATE, COL_TASK
from app.queue_model import ItemState


def add(window, qtbot, paths) -> None:
    window.add_paths([str(p) for p in paths])
    qtbot.waitUntil(lambda: len(window.queue) == len(paths), timeout=TIMEOUT)


def by_name(window) -> dict:
    return {i.name: i for i in window.queue}


def detected_window(make_window, qtbot, fake_engine, photos):
    """A window whose engine detects on adding, with `photos` added and detected."""
    fake_engine.analysis_available = fake_engine.analyze_capability = True
    window = make_window()
    window.runner.start_engine()
    qtbot.waitUntil(lambda: window.runner.can_detect, timeout=TIMEOUT)
    add(window, qtbot, photos)
    qtbot.waitUntil(lambda: all(i.detected_task for i in window.queue), timeout=TIMEOUT)
    return window


def test_photos_are_detected_when_added_if_the_engine_can(make_window, qtbot, tmp_path, fake_engine):
    window = detected_window(make_window, qtbot, fake_engine,
                             [make_photo(tmp_path / "a.jpg"), make_photo(tmp_path / "clean.jpg")])
    assert window.model.index(0, COL_TASK).data() == "Haze 87%"
    assert window.model.index(1, COL_TASK).data() == "Looks fine 93%"
    assert all(i.state is ItemState.PENDING for i in window.queue)
    # the analysis also told each photo's size: the photo's tooltip shows it under its path
    tip = window.model.index(0, COL_PHOTO).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == f"{tmp_path / 'a.jpg'}\n16 × 12 pixels"
    window.queue[0].width, window.queue[0].height = 4000, 3000
    assert window.model.index(0, COL_PHOTO).data(Qt.ItemDataRole.ToolTipRole).endswith("4000 × 3000 pixels (12.0 MP)")
    # the user overrides the detected task: the choice wins
    window.model.setData(window.model.index(0, COL_TASK), "rain")
    assert window.model.index(0, COL_TASK).data() == "Rain (chosen)"
    assert [i.effective_task for i in window.queue] == ["rain", "none"]
    window.runner.start()
    wait_idle(qtbot, window)
    rain, clean = window.queue
    assert rain.state is ItemState.DONE and rain.output_path and not rain.skipped
    assert clean.state is ItemState.DONE and clean.skipped and "detected as already fine (93%)" in clean.note
    assert [o.task for _i, _o, o in fake_engine.submitted] == ["rain", "none"]
    assert [o.detected for _i, _o, o in fake_engine.submitted] == [None, None]  # (chosen; fine: not restored)


def test_a_detected_task_goes_to_the_engine_as_detected_so_the_result_records_it_so(make_window, qtbot, tmp_path,
                                                                                   fake_engine):
    window = detected_window(make_window, qtbot, fake_engine, [make_photo(tmp_path / "a.jpg")])
    window.runner.start()
    wait_idle(qtbot, window)
    assert [(o.task, o.detected) for _i, _o, o in fake_engine.submitted] == [("haze", 0.87)]


def test_nothing_is_detected_automatically_without_the_capability(make_window, qtbot, tmp_path, fake_engine):
    fake_engine.analysis_available = True  # answers if asked, but does not advertise it
    window = make_window()
    window.runner.start_engine()
    qtbot.waitUntil(lambda: fake_engine.ready is not None, timeout=TIMEOUT)
    add(window, qtbot, [make_photo(tmp_path / "a.jpg")])
    qtbot.wait(50)
    assert fake_engine.analyzed == [] and window.model.index(0, COL_TASK).data() == "Auto"


def test_a_photo_that_looks_fine_is_not_restored_and_not_a_failure(make_window, qtbot, tmp_path, fake_engine):
    window = make_window()
    add(window, qtbot, [make_photo(tmp_path / "a.jpg"), make_photo(tmp_path / "clean.jpg")])
    window.runner.start()
    wait_idle(qtbot, window)
    items = by_name(window)
    clean = items["clean.jpg"]
    assert clean.state is ItemState.DONE and clean.skipped and clean.output_path is None
    assert clean.detected_task == "none" and clean.confidence == 0.93
    assert not (tmp_path / "restored" / "clean.jpg").exists() and (tmp_path / "restored" / "a.jpg").exists()
    row = window.queue.index_of(clean.id)
    assert window.model.index(row, COL_STATE).data() == "Not needed"
    assert window.model.index(row, COL_TASK).data() == "Looks fine 93%"
    assert "already fine" in window.model.index(row, COL_STATE).data(Qt.ItemDataRole.ToolTipRole)
    text = window.status_line.label.text()
    assert text.startswith("2 photos · ") and "1 restored" in text and "1 already fine" in text
    assert "failed" not in text
    window.select_row(row)
    assert "Not restored" in window.panel.caption.text()
    # choosing a degradation puts it back in the queue; Start restores it with that task
    window.runner.set_task([clean.id], "haze")
    assert clean.state is ItemState.PENDING and not clean.skipped
    window.runner.start()
    wait_idle(qtbot, window)
    assert clean.state is ItemState.DONE and not clean.skipped and clean.output_path
    assert fake_engine.submitted[-1][2].task == "haze"


def test_a_result_hourglass_saved_is_not_restored_twice(make_window, qtbot, tmp_path, fake_engine):
    """A result added as a photo (or a photo holding its result after Replace) is "Not needed", saying how
    it was made; choosing a degradation restores it again."""
    from PIL import Image

    from engine.imaging.provenance import with_provenance

    xmp = with_provenance(None, {"Software": "Hourglass 0.1.0", "Task": "low-light", "Model": "hourglass-diffuir-t",
                                 "Strength": "1", "Photo": "night.jpg"},
                          "restored night.jpg as low-light with hourglass-diffuir-t")
    result = tmp_path / "night_restored.jpg"
    Image.new("RGB", (16, 12), (90, 80, 70)).save(result, xmp=xmp)
    fake_engine.analysis_available = fake_engine.analyze_capability = True
    window = make_window()
    window.runner.start_engine()
    add(window, qtbot, [result, make_photo(tmp_path / "clean.jpg")])
    item = window.queue[0]
    qtbot.waitUntil(lambda: item.state is ItemState.PENDING and bool(item.already_restored), timeout=TIMEOUT)
    assert window.model.index(0, COL_TASK).data() == "Restored already"  # said before Start
    assert "Double-click to choose a degradation" in window.model.index(0, COL_TASK).data(Qt.ItemDataRole.ToolTipRole)
    window.select_row(0)
    assert window.panel.caption.text().startswith("night_restored.jpg is a result Hourglass saved (restored night.jpg")
    assert window.panel.caption.text().endswith("Choose a degradation for it to restore it anyway.")
    window.runner.start()
    qtbot.waitUntil(lambda: all(i.state is ItemState.DONE for i in window.queue), timeout=TIMEOUT)
    assert item.skipped and not (tmp_path / "restored").exists()
    assert window.model.index(0, COL_STATE).data() == "Not needed"
    text = window.status_line.label.text()
    assert "1 already fine" in text and "1 restored before (Hourglass's results)" in text
    assert item.note.startswith("Not restored: it is a result Hourglass saved (restored night.jpg as low-light "
                                "with hourglass-diffuir-t, on ")
    window.select_row(0)
    assert "would be restored twice" in window.panel.caption.text()
    window.runner.set_task([item.id], "low-light")
    assert window.model.index(0, COL_TASK).data() == "Low light (chosen)"
    window.runner.start()
    wait_idle(qtbot, window)
    assert not item.skipped and (tmp_path / "restored" / "night_restored.jpg").is_file()


def test_restore_clean_setting_restores_photos_that_look_fine(make_window, qtbot, tmp_path, fake_engine):
    from app.settings import Settings

    window = make_window(settings=Settings(restore_clean=True))
    add(window, qtbot, [make_photo(tmp_path / "clean.jpg")])
    window.runner.start()
    wait_idle(qtbot, window)
    item = window.queue[0]
    assert item.state is ItemState.DONE and not item.skipped and item.output_path
    assert fake_engine.submitted[0][2].restore_clean is True


def test_the_srgb_setting_goes_with_each_job(make_window, qtbot, tmp_path, fake_engine):
    from app.settings import Settings

    window = make_window(settings=Settings(srgb=True, restore_clean=True))
    add(window, qtbot, [make_photo(tmp_path / "a.jpg")])
    window.runner.start()
    wait_idle(qtbot, window)
    assert fake_engine.submitted[0][2].srgb is True


def test_start_while_a_photo_is_being_detected_restores_it_after(make_window, qtbot, tmp_path, fake_engine):
    fake_engine.analysis_available = True
    fake_engine.step_s = 0.05
    window = make_window()
    add(window, qtbot, [make_photo(tmp_path / "a.jpg")])
    window.runner.detect()
    qtbot.waitUntil(lambda: window.queue[0].state is ItemState.DETECTING, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[0].state is ItemState.DONE, timeout=TIMEOUT)
    assert window.queue[0].detected_task == "haze"
    assert [o.task for _i, _o, o in fake_engine.submitted] == ["haze"]


def test_an_unsure_detection_is_shown_as_a_question_with_the_next_guess(make_window, qtbot, tmp_path, fake_engine):
    """A photo the detector calls fine at 45% (rain 40%) is skipped like any photo that looks fine, but the
    column asks ("Looks fine? 45%") and the tooltip and note name the next guess, so the user can override
    it before or after the batch."""
    window = detected_window(make_window, qtbot, fake_engine,
                             [make_photo(tmp_path / "unsure-rain.jpg"), make_photo(tmp_path / "clean.jpg")])
    unsure, _clean = window.queue
    assert (unsure.second_task, unsure.second_confidence) == ("rain", 0.4)
    assert window.model.index(0, COL_TASK).data() == "Looks fine? 45%"
    assert window.model.index(1, COL_TASK).data() == "Looks fine 93%"  # sure: no question, no next guess
    tip = window.model.index(0, COL_TASK).data(Qt.ItemDataRole.ToolTipRole)
    assert "unsure (45%; next: rain 40%)" in tip
    assert "unsure" not in window.model.index(1, COL_TASK).data(Qt.ItemDataRole.ToolTipRole)
    window.runner.start()  # skipped as fine by default, the note saying how unsure that was
    wait_idle(qtbot, window)
    assert unsure.skipped and "detected as already fine, but unsure (45%; next: rain 40%)" in unsure.note
    restored = type(unsure).from_json(unsure.to_json())  # the next guess survives a restart
    assert restored.second_guess == "; next: rain 40%"



def test_a_photo_restored_by_an_earlier_run_is_shown_restored_not_restored_again(make_window, qtbot, tmp_path,
                                                                                 fake_engine):
    """The queue was cleared (or the CLI restored the folder): the analysis finds the photo's newest result
    where its result goes, and the photo is done with it; Start passes over it, Retry restores it again."""
    before, fresh = make_photo(tmp_path / "before.jpg"), make_photo(tmp_path / "fresh.jpg")
    result = tmp_path / "restored" / "before (1).jpg"
    fake_engine.earlier[str(before)] = (str(result), {"Task": "rain", "Model": "tiny", "Strength": "0.6"})
    window = detected_window(make_window, qtbot, fake_engine, [before, fresh])
    assert fake_engine.asked_results == [str(tmp_path / "restored" / "before.jpg"),
                                         str(tmp_path / "restored" / "fresh.jpg")]
    done, pending = window.queue
    assert (done.state, done.output_path, done.saved_strength) == (ItemState.DONE, str(result), 0.6)
    assert done.effective_task == "rain" and not done.skipped  # restored as rain then, though detected as haze
    assert done.photo_stamp == [before.stat().st_size, before.stat().st_mtime_ns]  # (edited later: said so)
    assert done.note.startswith("Restored before (as rain, tiny, 60% strength): before (1).jpg was found")
    assert "before.jpg was restored before: its result is shown" in window.statusBar().currentMessage()
    assert pending.state is ItemState.PENDING
    window.runner.start()
    wait_idle(qtbot, window)
    assert [Path(i).name for i, _o, _opts in fake_engine.submitted] == ["fresh.jpg"]
