"""A result put into its photo's file for an editor that reads the file back (Lightroom's Edit In), and put
back out: the photo as it was is kept first, nothing is half written, and what cannot be done is said."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from gui_helpers import make_photo
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QMenu, QMessageBox

from app import replace
from app.qt_queue import COL_STATE
from app.queue_model import BatchQueue, ItemState, QueueItem, file_stamp

TIMEOUT = 5000


def restored_edit(make_window, qtbot, fake_engine, photo: Path):
    """A window whose queue holds `photo` restored by the scripted engine, whose "restoration" turns it
    green (so result and photo differ)."""
    fake_engine.write_output = lambda _inp, out: make_photo(out, colour=(20, 200, 60))
    window = make_window()
    window.add_paths([str(photo)])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: window.queue[0].state is ItemState.DONE, timeout=TIMEOUT)
    window.select_row(0)
    return window, window.queue[0]


def thumbnail_green(window) -> bool:
    from PySide6.QtCore import Qt

    from app.qt_queue import COL_PHOTO

    icon = window.model.data(window.model.index(0, COL_PHOTO), Qt.ItemDataRole.DecorationRole)
    colour = icon.pixmap(16, 16).toImage().pixelColor(8, 8)
    return colour.green() > 150 and colour.red() < 80


def menu_action(window, menus, start: str):
    window.queue_menu.popup(QPoint(5, 5))
    return next(a for a in menus[-1].actions() if a.text().startswith(start))


def test_a_photo_sent_by_an_editor_gets_its_result_and_can_be_put_back(make_window, qtbot, fake_engine, tmp_path,
                                                                       data_dir, monkeypatch):
    menus = []
    monkeypatch.setattr(QMenu, "popup", lambda self, *_a: menus.append(self))
    photo = make_photo(tmp_path / "lr" / "IMG_0001-Edit.tif")
    original = photo.read_bytes()
    window, item = restored_edit(make_window, qtbot, fake_engine, photo)
    result = Path(item.output_path)
    assert result.parent.name == "restored" and result.read_bytes() != original

    action = menu_action(window, menus, "Replace the photo with its result")
    assert action.isEnabled()
    action.trigger()
    box = window.queue_menu.replace_box
    assert str(data_dir / "Originals") in box.text() and "Lightroom's Edit In" in box.text()
    assert "earlier replacements" not in box.text()  # (none kept yet)
    box.button(QMessageBox.StandardButton.No).click()
    assert photo.read_bytes() == original  # asked first; No leaves it
    (data_dir / "Originals").mkdir()
    (data_dir / "Originals" / "IMG_0000-Edit.tif").write_bytes(bytes(2_600_000))  # an earlier one, kept
    action = menu_action(window, menus, "Replace the photo with its result")
    action.trigger()
    assert window.queue_menu.replace_box.text().endswith(  # the folder fills unseen otherwise: said each time
        "It holds 1 photo (3 MB) from earlier replacements: delete there those you will not put back.")
    window.queue_menu.replace_box.button(QMessageBox.StandardButton.Yes).click()

    kept = data_dir / "Originals" / photo.name
    assert photo.read_bytes() == result.read_bytes() and kept.read_bytes() == original
    assert item.replaced_from == str(kept) and not item.photo_changed
    assert window.statusBar().currentMessage() == (f"{photo.name} now holds its restored version; the photo as it "
                                                   f"was is kept at {kept}")
    assert window.model.data(window.model.index(0, COL_STATE)) == "Photo replaced"
    assert window.panel.caption.text().startswith(f"{photo.name} holds its restored version")
    assert window.panel._pair_paths == (str(kept), str(result))  # before: the photo as it was
    assert [p.name for p in photo.parent.iterdir() if p.is_file()] == [photo.name]  # no temporary file left
    assert window.queue.check_photos() == []  # the new file is not "changed since it was restored"
    qtbot.waitUntil(lambda: thumbnail_green(window), timeout=TIMEOUT)  # the queue shows the file as it is now

    # what would restore or blend the result instead of the photo is refused, and says why
    assert not menu_action(window, menus, "Replace the photo").isEnabled()
    assert not next(a for a in menus[-1].actions() if a.text() == "Save a copy with").isEnabled()
    assert not next(a for a in menus[-1].actions() if a.text().endswith("to the trash")).isEnabled()
    window.retry_action.trigger()
    assert item.state is ItemState.DONE and "holds its result" in window.statusBar().currentMessage()

    window.queue.flush()
    second = make_window()
    assert second.queue[0].replaced_from == str(kept)  # remembered across a restart
    second.select_row(0)
    second.remove_selected()  # the photo as it was stays, and the status bar says where
    assert kept.is_file() and second.statusBar().currentMessage().endswith(
        f"1 of them held its result; the photos as they were stay in {kept.parent}.")

    menu_action(window, menus, "Put back the photo as it was").trigger()
    assert photo.read_bytes() == original and not kept.exists() and item.replaced_from is None
    assert item.photo_stamp == file_stamp(photo) and result.is_file()
    assert window.statusBar().currentMessage() == (f"{photo.name} is the photo as it was again; its result is still "
                                                   f"at {result}")
    assert window.model.data(window.model.index(0, COL_STATE)) == "Done"
    assert not menu_action(window, menus, "Put back").isEnabled()
    qtbot.waitUntil(lambda: not thumbnail_green(window), timeout=TIMEOUT)

    # Ctrl+Z puts a replaced photo back (and puts back a put-back one's result); Redo does it again
    assert window.undo_action.text() == "Undo put back IMG_0001-Edit.tif"
    window.undo_action.trigger()
    assert photo.read_bytes() == result.read_bytes() and kept.read_bytes() == original and item.replaced_from
    assert window.undo_action.text() == "Undo replace IMG_0001-Edit.tif with the result"
    window.undo_action.trigger()
    assert photo.read_bytes() == original and not kept.exists() and item.replaced_from is None
    assert window.redo_action.text() == "Redo replace IMG_0001-Edit.tif with the result"
    window.redo_action.trigger()  # as the user's own Yes, without asking again
    assert photo.read_bytes() == result.read_bytes() and kept.read_bytes() == original
    assert window.undo_action.text() == "Undo replace IMG_0001-Edit.tif with the result"


def test_a_result_of_another_kind_or_a_photo_edited_since_is_not_put_in(make_window, qtbot, fake_engine, tmp_path,
                                                                        data_dir, monkeypatch):
    menus = []
    monkeypatch.setattr(QMenu, "popup", lambda self, *_a: menus.append(self))
    photo = make_photo(tmp_path / "p.jpeg")
    window, item = restored_edit(make_window, qtbot, fake_engine, photo)
    assert replace.why_not_replace(item) == ""  # .jpeg → .jpeg result
    item.output_path = str(make_photo(Path(item.output_path).with_suffix(".png")))
    action = menu_action(window, menus, "Replace the photo")
    assert not action.isEnabled()
    assert action.toolTip() == ("Its result is a PNG file and the photo a JPEG: restore it with Format “same as "
                                "the photo”.")
    heic = QueueItem(str(tmp_path / "IMG_1.HEIC"), state=ItemState.DONE, output_path=item.output_path)
    Path(heic.path).write_bytes(b"x")
    assert replace.why_not_replace(heic) == "Hourglass cannot write HEIC files: the editor should send a TIFF."
    item.output_path = str(make_photo(Path(item.output_path).with_suffix(".jpg")))  # .jpg and .jpeg: one kind
    assert replace.why_not_replace(item) == ""
    photo.chmod(0o444)  # protected on purpose
    assert replace.why_not_replace(item) == "The photo is read-only."
    photo.chmod(0o644)
    os.utime(photo, ns=(item.photo_stamp[1] + 10**9,) * 2)  # edited in the editor since
    assert "changed since it was restored" in menu_action(window, menus, "Replace the photo").toolTip()
    with pytest.raises(ValueError, match="changed since"):
        replace.replace_photo(window.queue, item)


def test_a_failed_copy_leaves_the_photo_as_it_was_and_keeps_nothing(tmp_path, monkeypatch):
    """A full disk while the photo is kept, or while the result is written over it: the photo is untouched
    (the result went to a temporary file first), no temporary file is left, and no part of the photo's copy
    stays in Originals."""
    photo = make_photo(tmp_path / "p.tif", colour=(1, 2, 3))
    result = make_photo(tmp_path / "restored" / "p.tif", colour=(200, 100, 50))
    queue = BatchQueue(autosave=False)
    item = QueueItem(str(photo), state=ItemState.DONE, output_path=str(result), photo_stamp=file_stamp(photo))
    queue._items, queue._by_id = [item], {item.id: item}
    original, real_copy = photo.read_bytes(), replace.shutil.copyfile
    keep = tmp_path / "Originals"
    full_at = {"target": None}

    def full_disk(src, dst, *a, **k):
        real_copy(src, dst, *a, **k)
        if Path(dst).parent == full_at["target"]:  # written in part, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(replace.shutil, "copyfile", full_disk)
    for full_at["target"] in (keep, photo.parent):  # while the photo is kept; while the result is written
        with pytest.raises(OSError, match="No space"):
            replace.replace_photo(queue, item, keep_in=keep)
        assert photo.read_bytes() == original and item.replaced_from is None
        assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["p.tif"] and list(keep.iterdir()) == []
    monkeypatch.setattr(replace.shutil, "copyfile", real_copy)
    said = replace.replace_photo(queue, item, keep_in=keep)
    assert photo.read_bytes() == result.read_bytes() and (keep / "p.tif").read_bytes() == original
    assert said.endswith(str(keep / "p.tif"))
    other = QueueItem(str(make_photo(tmp_path / "q" / "p.tif")), state=ItemState.DONE,
                      output_path=str(result))  # a second photo of that name is kept beside the first
    queue._items.append(other)
    replace.replace_photo(queue, other, keep_in=keep)
    assert other.replaced_from == str(keep / "p (1).tif")
    (keep / "p.tif").unlink()  # the kept photo deleted by hand: said, nothing done
    with pytest.raises(ValueError, match="not at"):
        replace.put_back(queue, item)
    assert photo.read_bytes() == result.read_bytes()


def test_a_result_worse_than_its_photo_goes_to_the_trash(make_window, qtbot, fake_engine, tmp_path, data_dir,
                                                         monkeypatch):
    """Reviewing a batch: the newest result goes to the desktop's trash (restorable there, as the file
    manager's), the earlier one is the photo's result again; the last one leaves the photo not restored. Where
    there is no trash nothing is deleted, and it is said. The photo itself is never offered."""
    from app.widgets import queue_menu

    trash = tmp_path / "xdg"
    trash.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_DATA_HOME", str(trash))
    menus = []
    monkeypatch.setattr(QMenu, "popup", lambda self, *_a: menus.append(self))
    photo = make_photo(tmp_path / "night.jpg")
    window, item = restored_edit(make_window, qtbot, fake_engine, photo)
    first = item.output_path
    window.retry_action.trigger()
    qtbot.waitUntil(lambda: item.state is ItemState.DONE and item.output_path != first, timeout=TIMEOUT)
    second = item.output_path

    real_trash = queue_menu.move_to_trash
    monkeypatch.setattr(queue_menu, "move_to_trash", lambda _path: None)  # a disk without a trash
    menu_action(window, menus, "Move the result to the trash").trigger()
    assert Path(second).is_file() and item.output_path == second
    assert any("nothing was deleted" in d.message.text() for d in window._dialogs if hasattr(d, "message"))
    monkeypatch.setattr(queue_menu, "move_to_trash", real_trash)  # the real trash, in this test's XDG_DATA_HOME

    menu_action(window, menus, "Move the result to the trash").trigger()
    assert not Path(second).exists() and (trash / "Trash" / "files" / Path(second).name).is_file()
    assert item.output_path == first and item.state is ItemState.DONE and item.previous == []
    assert window.statusBar().currentMessage() == (f"{Path(second).name} moved to the trash; night.jpg shows "
                                                   f"{Path(first).name} (100%) again (Ctrl+Z takes it back)")
    menu_action(window, menus, "Move the result to the trash").trigger()
    assert not Path(first).exists() and item.state is ItemState.PENDING and item.output_path is None
    assert photo.is_file() and window.statusBar().currentMessage().endswith("night.jpg is not restored now (Ctrl+Z takes it back)")
    assert not menu_action(window, menus, "Move the result to the trash").isEnabled()


def test_ctrl_z_takes_results_back_out_of_the_trash(make_window, qtbot, fake_engine, tmp_path, data_dir,
                                                   monkeypatch):
    """Reviewing from the keyboard, Ctrl+Backspace sends the result on view to the trash; a slip of the hand
    was only undone in the file manager, and the photo's row stayed without it. Ctrl+Z now puts the file
    back where it was (the trash no longer lists it) and the row as it was, one change at a time, newest
    first, and Redo sends it again. A file made at the result's name meanwhile is never written over."""
    trash = tmp_path / "xdg"
    trash.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_DATA_HOME", str(trash))
    files, info = trash / "Trash" / "files", trash / "Trash" / "info"
    photo = make_photo(tmp_path / "night.jpg")
    window, item = restored_edit(make_window, qtbot, fake_engine, photo)
    first = item.output_path
    window.retry_action.trigger()
    qtbot.waitUntil(lambda: item.state is ItemState.DONE and item.output_path != first, timeout=TIMEOUT)
    second, before = item.output_path, item.to_json()
    assert window.trash_action.shortcut().toString() == "Ctrl+Backspace" and window.trash_action.isEnabled()

    window.trash_action.trigger()  # the newest result: the photo shows the first again
    assert not Path(second).exists() and item.output_path == first and len(list(files.iterdir())) == 1
    assert window.undo_action.text() == "Undo move a result to the trash" and window.undo_action.isEnabled()
    window.undo_action.trigger()
    assert Path(second).is_file() and not list(files.iterdir()) and not list(info.iterdir())
    assert item.to_json() == before and item.output_path == second and item.state is ItemState.DONE
    assert window.statusBar().currentMessage() == f"{Path(second).name} is back from the trash and is night.jpg's result again"
    assert window.redo_action.text() == "Redo move a result to the trash" and not window.undo_action.isEnabled()
    window.redo_action.trigger()  # sent again, and Ctrl+Z takes it back again
    assert not Path(second).exists() and item.output_path == first and len(list(files.iterdir())) == 1
    assert window.undo_action.isEnabled() and not window.redo_action.isEnabled()
    window.undo_action.trigger()
    assert item.to_json() == before and not list(files.iterdir())

    other = make_photo(tmp_path / "other.jpg")
    window.add_paths([str(other)])
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    window.select_row(1)
    window.remove_selected()  # a removal, then two trashes: Ctrl+Z undoes them newest first
    window.select_row(0)
    window.trash_action.trigger()
    window.trash_action.trigger()  # both results: the photo is not restored now
    assert item.state is ItemState.PENDING and not Path(first).exists() and not window.trash_action.isEnabled()
    assert window.undo_action.text() == "Undo move a result to the trash"
    window.undo_action.trigger()  # the last trash: the first result
    assert Path(first).is_file() and item.output_path == first and item.state is ItemState.DONE
    assert not Path(second).exists() and window.undo_action.text() == "Undo move a result to the trash"
    window.undo_action.trigger()  # the one before: the second, shown again
    assert item.to_json() == before and Path(second).is_file()
    assert window.undo_action.text() == "Undo remove other.jpg"  # then the removal of other.jpg
    window.undo_action.trigger()
    assert [i.name for i in window.queue] == ["night.jpg", "other.jpg"] and not window.undo_action.isEnabled()
    for _ in range(3):  # and all three again, oldest first
        window.redo_action.trigger()
    assert [i.name for i in window.queue] == ["night.jpg"] and item.state is ItemState.PENDING
    assert not Path(first).exists() and not Path(second).exists() and not window.redo_action.isEnabled()
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert item.to_json() == before and Path(second).is_file()

    window.select_row(0)
    window.trash_action.trigger()
    window.trash_action.trigger()
    Path(first).write_bytes(b"made meanwhile")  # another file at that name: not written over
    window.undo_action.trigger()
    assert Path(first).read_bytes() == b"made meanwhile" and (files / Path(first).name).is_file()  # still there
    assert any("is in its folder again" in d.message.text() for d in window._dialogs if hasattr(d, "message"))
    assert item.state is ItemState.PENDING


def test_ctrl_z_after_save_at_a_lower_strength_sends_the_new_file_to_the_trash(make_window, qtbot, fake_engine,
                                                                            tmp_path, data_dir, monkeypatch):
    """Save at 40% by mistake (the slider left low): Ctrl+Z used to do nothing for it; the way back was *Back
    to*, which left the 40% file behind. Ctrl+Z now undoes the save: the new file goes to the trash and the
    row shows the result it was made from; Redo takes the file back out, and the row shows it again."""
    trash = tmp_path / "xdg"
    trash.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_DATA_HOME", str(trash))
    window, item = restored_edit(make_window, qtbot, fake_engine, make_photo(tmp_path / "night.jpg"))
    def row() -> tuple:
        return item.state, item.output_path, item.saved_strength, [entry[:2] for entry in item.previous]

    full, before = item.output_path, row()
    window.select_row(0)
    window.panel.strength.setValue(40)
    window.panel.save_again()
    qtbot.waitUntil(lambda: item.saved_strength == 0.4, timeout=TIMEOUT)
    saved, after = item.output_path, row()
    assert saved != full and window.undo_action.text() == "Undo save night.jpg again at 40%"
    window.undo_action.trigger()
    assert not Path(saved).exists() and (trash / "Trash" / "files" / Path(saved).name).is_file()
    assert row() == before and Path(full).is_file()
    assert window.statusBar().currentMessage().endswith("(Redo takes it back)")  # (not Ctrl+Z: the next undo)
    assert window.redo_action.text() == "Redo save night.jpg again at 40%"
    window.redo_action.trigger()
    assert Path(saved).is_file() and row() == after and not any((trash / "Trash" / "files").iterdir())
    assert window.undo_action.text() == "Undo save night.jpg again at 40%"


def test_taking_back_from_the_recycle_bin_drops_its_record_too(tmp_path):
    """Windows keeps a trashed file as `$R…` beside its record `$I…`; freedesktop.org as `files/NAME` with
    `info/NAME.trashinfo`. Taken back, the record goes too (else the trash lists a file it no longer holds)."""
    from app.trash import take_back

    bin_ = tmp_path / "$Recycle.Bin"
    bin_.mkdir()
    (bin_ / "$RAB12CD.jpg").write_bytes(b"result")
    (bin_ / "$IAB12CD.jpg").write_bytes(b"where it was")
    original = tmp_path / "restored" / "night.jpg"
    original.parent.mkdir()
    assert take_back(str(bin_ / "$RAB12CD.jpg"), str(original)) == ""
    assert original.read_bytes() == b"result" and not list(bin_.iterdir())
    assert "no longer in the trash" in take_back(str(bin_ / "$RAB12CD.jpg"), str(tmp_path / "x.jpg"))


def test_a_result_stays_in_the_trash_while_its_photo_is_restored_again(tmp_path):
    """Trashed, then Start: the photo's new result may be saved under the trashed one's name, so Ctrl+Z
    leaves that one in the trash and says why; once the photo is done, the name is taken and nothing is
    written over."""
    from app.trash import take_back_results, trashed

    result = tmp_path / "restored" / "p.jpg"
    in_trash = tmp_path / "Trash" / "files" / "p.jpg"
    in_trash.parent.mkdir(parents=True)
    in_trash.write_bytes(b"old result")
    queue = BatchQueue(autosave=False)
    (item,) = queue.add([(str(tmp_path / "p.jpg"), None)])
    entry = trashed(item, item.to_json(), str(result), str(in_trash))
    queue.set_state(item, ItemState.QUEUED)
    said, failed = take_back_results(queue, [entry])
    assert said == [] and in_trash.is_file()
    assert failed == ["p.jpg is being restored again, so p.jpg stays in the trash (the file manager restores it)"]
    queue.set_state(item, ItemState.RUNNING)
    result.parent.mkdir()
    result.write_bytes(b"new result")
    queue.set_state(item, ItemState.DONE, output_path=str(result))
    said, failed = take_back_results(queue, [entry])
    assert failed == ["a file named p.jpg is in its folder again"] and result.read_bytes() == b"new result"


def test_several_results_go_to_the_trash_and_come_back_together(make_window, qtbot, fake_engine, tmp_path, data_dir,
                                                                 monkeypatch):
    """A selection of three photos, one of them holding its result (Replace: never offered to the trash):
    the two others' results go, in one step, and come back in one Ctrl+Z."""
    trash = tmp_path / "xdg"
    trash.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_DATA_HOME", str(trash))
    fake_engine.write_output = lambda _inp, out: make_photo(out, colour=(20, 200, 60))
    photos = [make_photo(tmp_path / name) for name in ("a.jpg", "b.jpg", "c.tif")]
    window = make_window()
    window.add_paths([str(p) for p in photos])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=TIMEOUT)
    window.runner.start()
    qtbot.waitUntil(lambda: all(i.state is ItemState.DONE for i in window.queue), timeout=TIMEOUT)
    a, b, c = sorted(window.queue, key=lambda i: i.name)
    replace.replace_photo(window.queue, c, keep_in=tmp_path / "kept")
    results = [a.output_path, b.output_path]
    window.table.selectAll()
    assert window.trash_action.text() == "Move the results to the trash"
    events = []
    window.queue.subscribe(lambda event, items: events.append((event, sorted(i.name for i in items))))
    window.trash_action.trigger()
    assert not any(Path(r).exists() for r in results) and Path(c.output_path).is_file()
    assert a.state is b.state is ItemState.PENDING and c.state is ItemState.DONE
    assert window.statusBar().currentMessage() == "2 results moved to the trash (Ctrl+Z takes them back)"
    assert events == [("changed", ["a.jpg", "b.jpg"])]  # one change for both: the window refreshes once
    window.undo_action.trigger()
    assert events[1:] == [("changed", ["a.jpg", "b.jpg"])]
    assert all(Path(r).is_file() for r in results) and [a.output_path, b.output_path] == results
    assert a.state is b.state is ItemState.DONE and window.statusBar().currentMessage() == (
        "2 results are back from the trash")
