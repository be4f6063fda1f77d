"""Watch folder… beyond a first look: photos it took stay taken when removed from the queue; photos it took
are taken again when they are written again (an editor's re-export, a copy read half-way), but not when
Hourglass itself writes them (Replace, Put back); the watch is resumed when the app starts again, taking
what arrived while it was closed. (Its first session: test_main_window.py.)"""

from __future__ import annotations

import json

import pytest
from gui_helpers import make_photo

from app.queue_model import ItemState

TIMEOUT = 5000


@pytest.fixture(autouse=True)
def quick_looks(monkeypatch):
    monkeypatch.setenv("HOURGLASS_WATCH_INTERVAL_S", "0.06")


def watching(make_window, qtbot, folder):
    """A window watching `folder` (its photos there now are left)."""
    window = make_window()
    window.watching.watch_folder(str(folder))
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(f"Watching {folder}"), timeout=TIMEOUT)
    return window


def arrive(window, qtbot, path, **photo):
    make_photo(path, **photo)
    qtbot.waitUntil(lambda: any(i.path == str(path) and i.state is ItemState.DONE for i in window.queue),
                    timeout=TIMEOUT)
    return next(i for i in window.queue if i.path == str(path))


def test_a_photo_the_watch_took_and_the_user_removed_is_not_taken_again(make_window, qtbot, tmp_path):
    tether = tmp_path / "tether"
    tether.mkdir()
    window = watching(make_window, qtbot, tether)
    arrive(window, qtbot, tether / "IMG_0001.jpg")
    window.queue.clear_finished()  # Clear finished (or Remove)
    assert len(window.queue) == 0
    qtbot.wait(400)  # several looks
    assert len(window.queue) == 0


def test_a_photo_read_half_way_is_restored_once_it_is_written_in_full(make_window, qtbot, tmp_path):
    """A writer that stalls longer than two looks: the photo is taken cut short and fails as unreadable;
    once the writer has finished it, it is taken again and restored."""
    tether = tmp_path / "tether"
    tether.mkdir()
    window = watching(make_window, qtbot, tether)
    said = []
    window.statusBar().messageChanged.connect(said.append)
    whole = make_photo(tmp_path / "whole.jpg", size=(64, 48)).read_bytes()
    photo = tether / "IMG_0002.jpg"
    photo.write_bytes(whole[: len(whole) // 2])  # ... and the camera's software stalls
    qtbot.waitUntil(lambda: len(window.queue) == 1 and window.queue[0].state is ItemState.FAILED, timeout=TIMEOUT)
    item = window.queue[0]
    assert item.error_code == "input_unreadable"
    photo.write_bytes(whole)  # it goes on, and finishes
    qtbot.waitUntil(lambda: item.state is ItemState.DONE, timeout=TIMEOUT)
    assert len(window.queue) == 1 and (tether / "restored" / "IMG_0002.jpg").read_bytes() == whole
    assert "IMG_0002.jpg was written again in the watched folder: restoring it again (its earlier result is " \
           "kept)" in said


def test_a_photo_exported_again_under_its_name_is_restored_again_and_its_first_result_kept(
        make_window, qtbot, tmp_path):
    tether = tmp_path / "tether"
    tether.mkdir()
    window = watching(make_window, qtbot, tether)
    item = arrive(window, qtbot, tether / "IMG_0003.jpg", colour=(10, 20, 30))
    first = tether / "restored" / "IMG_0003.jpg"
    assert item.output_path == str(first)
    make_photo(tether / "IMG_0003.jpg", size=(20, 14), colour=(200, 20, 30))  # the editor exports it again
    qtbot.waitUntil(lambda: item.state is ItemState.DONE and item.output_path != str(first), timeout=TIMEOUT)
    assert item.output_path == str(tether / "restored" / "IMG_0003 (1).jpg")
    assert [e[0] for e in item.previous] == [str(first)] and first.is_file()  # nothing lost
    assert len(window.queue) == 1


def test_a_photo_hourglass_writes_itself_is_not_taken_again(make_window, qtbot, tmp_path):
    """Replace the photo with its result, and Put back, write the photo's file: not an export to restore."""
    from app import replace

    tether = tmp_path / "tether"
    tether.mkdir()
    window = watching(make_window, qtbot, tether)
    item = arrive(window, qtbot, tether / "IMG_0004.jpg")
    assert replace.replace_photo(window.queue, item, tmp_path / "originals").startswith("IMG_0004.jpg now holds")
    qtbot.wait(400)
    assert replace.put_back(window.queue, item).startswith("IMG_0004.jpg is the photo as it was again")
    qtbot.wait(400)
    assert item.state is ItemState.DONE and item.previous == []
    assert sorted(p.name for p in (tether / "restored").iterdir()) == ["IMG_0004.jpg"]


def test_a_watch_left_on_is_resumed_at_the_next_start_and_takes_what_arrived_meanwhile(
        make_window, qtbot, tmp_path, data_dir):
    tether = tmp_path / "tether"
    make_photo(tether / "there.jpg")
    first = watching(make_window, qtbot, tether)
    arrive(first, qtbot, tether / "IMG_0005.jpg")
    with qtbot.waitSignal(first.close_confirmed, timeout=TIMEOUT):
        first.close()
    assert json.loads((data_dir / "watch.json").read_text())["folder"] == str(tether)
    make_photo(tether / "IMG_0006.jpg")  # shot while Hourglass was closed

    second = make_window()
    assert second.watch.watching and second.watch_action.isChecked()
    assert second.watching.label.text() == "Watching tether"
    assert second.statusBar().currentMessage() == (f"Watching {tether} again: photos that arrived in it while "
                                                   "Hourglass was closed are restored too")
    qtbot.waitUntil(lambda: any(i.name == "IMG_0006.jpg" and i.state is ItemState.DONE for i in second.queue),
                    timeout=TIMEOUT)
    qtbot.wait(300)
    assert sorted(i.name for i in second.queue) == ["IMG_0005.jpg", "IMG_0006.jpg"]  # not there.jpg

    second.watching.toggle(False)  # stopped: forgotten, so not resumed
    assert not (data_dir / "watch.json").exists()
    assert not make_window().watch.watching


def test_a_watched_folder_gone_at_the_next_start_is_not_watched(make_window, qtbot, tmp_path, data_dir):
    (data_dir / "watch.json").parent.mkdir(parents=True, exist_ok=True)
    (data_dir / "watch.json").write_text(json.dumps({"folder": str(tmp_path / "card"), "seen": {}}))
    window = make_window()
    assert not window.watch.watching and not window.watch_action.isChecked()
    assert window.statusBar().currentMessage() == (f"The watched folder {tmp_path / 'card'} is not there any "
                                                   "more: it is not watched now (Watch folder… watches it again)")
    assert not (data_dir / "watch.json").exists()


def test_a_damaged_watch_state_is_not_resumed(make_window, qtbot, data_dir):
    (data_dir / "watch.json").parent.mkdir(parents=True, exist_ok=True)
    (data_dir / "watch.json").write_text("{not json")
    window = make_window()
    assert not window.watch.watching and not (data_dir / "watch.json").exists()


def test_a_folder_unplugged_for_a_while_does_not_make_its_photos_arrivals(make_window, qtbot, tmp_path):
    tether = tmp_path / "tether"
    make_photo(tether / "there.jpg")
    window = watching(make_window, qtbot, tether)
    tether.rename(tmp_path / "away")
    qtbot.wait(300)
    (tmp_path / "away").rename(tether)
    qtbot.wait(400)
    assert len(window.queue) == 0


def test_which_photos_written_again_are_restored_again(make_window, qtbot, tmp_path):
    """`BatchRunner.restore_again`: a failed photo, and a finished one (restored or found fine) whose file is
    not the one it was finished from; not a finished one whose file is unchanged, nor a cancelled one."""
    import os

    folder = tmp_path / "in"
    names = ["ok.jpg", "same.jpg", "clean.jpg", "fails.jpg", "cancelled.jpg"]
    paths = [make_photo(folder / n) for n in names]
    window = make_window()
    window.add_paths([str(p) for p in paths[:4]])
    qtbot.waitUntil(lambda: len(window.queue) == 4, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=TIMEOUT)
    window.add_paths([str(paths[4])])
    qtbot.waitUntil(lambda: len(window.queue) == 5, timeout=TIMEOUT)
    window.runner.cancel_items([window.queue[4].id])
    window.queue.set_state(window.queue[4], ItemState.QUEUED)
    window.queue.set_state(window.queue[4], ItemState.CANCELLED)
    states = [(i.state, i.skipped) for i in window.queue]
    assert states == [(ItemState.DONE, False), (ItemState.DONE, False), (ItemState.DONE, True),
                      (ItemState.FAILED, False), (ItemState.CANCELLED, False)]
    for p in (paths[0], paths[2], paths[4]):
        make_photo(p, colour=(1, 2, 3))  # written again
    os.utime(paths[1], ns=(1_000_000_000, 1_000_000_000))  # only touched: its bytes are those restored
    again = window.runner.restore_again([str(p) for p in paths])
    assert [i.name for i in again] == ["ok.jpg", "clean.jpg", "fails.jpg"]
    assert window.queue[1].photo_stamp[1] == 1_000_000_000  # (the touched one takes its new time)
    qtbot.waitUntil(lambda: not window.runner.running and all(
        i.state is not ItemState.QUEUED for i in window.queue), timeout=TIMEOUT)
    assert window.queue[0].output_path.endswith("ok (1).jpg") and window.queue[2].skipped


def test_a_photo_written_again_while_it_is_restored_is_restored_again_once_done(make_window, qtbot, tmp_path):
    photo = make_photo(tmp_path / "in" / "slow.jpg")
    window = make_window()
    window.add_paths([str(photo)])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    item = window.queue[0]
    window.runner.start()
    qtbot.waitUntil(lambda: item.state is ItemState.RUNNING, timeout=TIMEOUT)
    make_photo(photo, colour=(1, 2, 3))  # (after the engine read it)
    assert window.runner.restore_again([str(photo)]) == []  # not now: it is being restored
    qtbot.waitUntil(lambda: item.state is ItemState.DONE and item.output_path.endswith("slow (1).jpg"),
                    timeout=TIMEOUT)
    assert [e[0] for e in item.previous] == [str(tmp_path / "in" / "restored" / "slow.jpg")]
    qtbot.waitUntil(lambda: not window.runner.running, timeout=TIMEOUT)


def test_a_tethered_shoot_does_not_flash_or_notify_for_each_shot_only_for_a_failure(make_window, qtbot, tmp_path,
                                                                                      monkeypatch):
    """The photographer is in the camera's software: photos restored from the watched folder do not flash
    the taskbar or notify each time; one that fails does."""
    alerts, notes = [], []
    monkeypatch.setattr("app.widgets.main_window.QApplication.alert", lambda widget, ms=0: alerts.append(widget))
    tether = tmp_path / "tether"
    tether.mkdir()
    window = watching(make_window, qtbot, tether)
    window.batch_ended_unseen.connect(lambda summary, body: notes.append(summary))
    monkeypatch.setattr(window, "isActiveWindow", lambda: False)
    for n in (1, 2):
        arrive(window, qtbot, tether / f"IMG_000{n}.jpg")
        qtbot.waitUntil(lambda: not window.runner.running, timeout=TIMEOUT)
    assert alerts == [] and notes == []
    make_photo(tether / "IMG_0003_fail.jpg")
    qtbot.waitUntil(lambda: any(i.state is ItemState.FAILED for i in window.queue), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: notes == ["Batch finished"], timeout=TIMEOUT)
    assert alerts == [window]


def test_results_saved_into_the_watched_folder_itself_are_not_taken_as_arrivals(make_window, qtbot, tmp_path):
    """With the watched folder as the output folder (and no suffix), each result lands beside its photo as
    `name (1).jpg`: taken as an arrival it would be restored again, and its result too, without end."""
    from app.settings import Settings

    tether = tmp_path / "tether"
    tether.mkdir()
    window = make_window(settings=Settings(output_dir=str(tether)))
    window.watching.watch_folder(str(tether))
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(f"Watching {tether}"), timeout=TIMEOUT)
    arrive(window, qtbot, tether / "IMG_0001.jpg")
    assert (tether / "IMG_0001 (1).jpg").is_file()
    qtbot.wait(600)  # ten looks
    assert [i.name for i in window.queue] == ["IMG_0001.jpg"]
    assert sorted(p.name for p in tether.iterdir()) == ["IMG_0001 (1).jpg", "IMG_0001.jpg"]


def test_a_photo_found_fine_and_only_touched_is_not_looked_at_again(make_window, qtbot, tmp_path):
    import os

    photo = make_photo(tmp_path / "in" / "clean.jpg")
    window = make_window()
    window.add_paths([str(photo)])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[0].skipped, timeout=TIMEOUT)
    os.utime(photo, ns=(1_000_000_000, 1_000_000_000))
    assert window.runner.restore_again([str(photo)]) == [] and window.queue[0].photo_stamp[1] == 1_000_000_000


def test_a_photo_still_being_copied_when_the_watch_begins_arrives_once_whole(make_window, qtbot, tmp_path,
                                                                             monkeypatch):
    """A card still being copied into the folder: the photo half-written at the first look is taken once
    whole, as the photos copied after it are; the photos already whole are left."""
    monkeypatch.setenv("HOURGLASS_WATCH_INTERVAL_S", "0.5")  # (the copy goes on well before the second look)
    tether = tmp_path / "tether"
    make_photo(tether / "old.jpg")
    whole = make_photo(tmp_path / "whole.jpg", size=(64, 48)).read_bytes()
    copying = tether / "IMG_0009.jpg"
    copying.write_bytes(whole[:100])
    window = make_window()
    window.watching.watch_folder(str(tether))
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(f"Watching {tether}"), timeout=TIMEOUT)
    copying.write_bytes(whole[:1000])  # (before the second look)
    qtbot.wait(30)
    copying.write_bytes(whole)
    qtbot.waitUntil(lambda: [i.name for i in window.queue] == ["IMG_0009.jpg"] and
                    window.queue[0].state is ItemState.DONE, timeout=TIMEOUT)
    qtbot.wait(300)
    assert [i.name for i in window.queue] == ["IMG_0009.jpg"]  # not old.jpg
