"""Pure parts: file scanning, output naming, settings persistence, queue transitions and persistence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gui_helpers import make_photo

from app import files
from app.queue_model import (
    BatchQueue,
    IllegalTransition,
    ItemState,
    QueueItem,
    as_current,
    default_queue_path,
)
from app.settings import Settings, free_name


def test_scan_is_recursive_filters_images_and_skips_duplicates_and_outputs(tmp_path):
    root = tmp_path / "shoot"
    a = make_photo(root / "a.JPG")
    make_photo(root / "sub" / "b.png")
    make_photo(root / "restored" / "a.JPG")  # our own output folder is not an input
    make_photo(root / ".hidden" / "c.png")
    (root / "sub" / "readme.txt").write_text("x")
    found = files.scan([a, root, root / "sub" / "readme.txt"])
    assert [f.path.relative_to(root).as_posix() for f in found.photos] == ["a.JPG", "sub/b.png"]
    assert found.photos[0].root is None and found.photos[1].root == root
    # a.JPG was named and found in the folder; the text file was dropped by name, so it is mentioned
    assert found.remark() == "1 already in the queue; passed over 1 file Hourglass cannot open (1 TXT)"
    again = files.scan([root], known=[str(a), str(root / "sub" / "b.png")])
    assert again.photos == [] and again.remark() == "2 already in the queue"
    (root / "takeout.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # a photo download, still zipped
    zipped = files.scan([root / "takeout.zip"])
    assert zipped.remark() == "passed over 1 file Hourglass cannot open (1 ZIP; extract the photos of an archive first)"
    make_photo(root / "out" / "x.png")  # a chosen output folder inside the dropped one: not an input either
    assert [f.path.name for f in files.scan([root], exclude=root / "out").photos] == ["a.JPG", "b.png"]
    assert "x.png" in [f.path.name for f in files.scan([root]).photos]
    make_photo(root / "a_restored.JPG")  # a result saved beside its photo with a name suffix
    assert [f.path.name for f in files.scan([root], result_suffix="_restored", exclude=root / "out").photos] == [
        "a.JPG", "b.png"]
    assert files.scan([root / "a_restored.JPG"], result_suffix="_restored").photos  # named directly: taken


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes and these links are POSIX")
def test_a_folder_scan_takes_regular_files_only(tmp_path):
    """A link to a missing file and a pipe named like photos are not queued (the CLI's scan already passed
    over them); had one been, the window's reader does not open it: it waited for a writer forever, holding
    the GIL, so it is checked in a child process that can be timed out."""
    root = tmp_path / "card"
    make_photo(root / "a.jpg")
    (root / "gone.jpg").symlink_to(tmp_path / "unmounted" / "gone.jpg")
    os.mkfifo(root / "pipe.jpg")
    os.mkfifo(root / "pipe.gif")
    found = files.scan([root])
    assert [f.path.name for f in found.photos] == ["a.jpg"] and found.cannot_open == []
    assert found.remark() == "passed over 1 link to a missing file, 2 pipes or devices named as photos"
    code = ("import sys; from PySide6.QtGui import QGuiApplication; app = QGuiApplication([]); "
            "from app import images; "
            "sys.exit(0 if all(images.read_image(p, 48).isNull() for p in sys.argv[1:]) else 1)")
    done = subprocess.run([sys.executable, "-c", code, str(root / "pipe.jpg"), str(root / "gone.jpg")],
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, timeout=60, check=False)
    assert done.returncode == 0


def test_a_folder_is_queued_in_the_order_a_file_manager_shows_it(tmp_path):
    """Exports numbered without zeros (Photo 2, Photo 10) and days as folders: natural order, case ignored,
    as file managers sort them (plain sorting put 10 before 2 and every capital before small letters), and a
    name before the longer ones that begin with it (b.jpg, b2.jpg; a copy "Photo 2 (2).jpg" after its original)."""
    root = tmp_path / "trip"
    for rel in ("Day 10/photo 1.jpg", "Day 2/Photo 10.jpg", "Day 2/photo 9.jpg", "Day 2/Photo 2.jpg", "b.jpg",
                "A.jpg", "b2.jpg", "Day 2/Photo 2 (2).jpg"):
        make_photo(root / rel)
    assert [f.path.relative_to(root).as_posix() for f in files.scan([root]).photos] == [
        "A.jpg", "b.jpg", "b2.jpg", "Day 2/Photo 2.jpg", "Day 2/Photo 2 (2).jpg", "Day 2/photo 9.jpg",
        "Day 2/Photo 10.jpg", "Day 10/photo 1.jpg"]


@pytest.mark.parametrize(("pairs", "taken"), [
    ("raw", ["DSCF1.RAF", "DSCF2.JPG", "IMG_3.CR3", "IMG_3.png"]),
    ("jpeg", ["DSCF1.jpg", "DSCF2.JPG", "IMG_3.HEIC", "IMG_3.png"]),
    ("both", ["DSCF1.jpg", "DSCF1.RAF", "DSCF2.JPG", "IMG_3.CR3", "IMG_3.HEIC", "IMG_3.png"]),
])
def test_a_raw_jpeg_shot_is_queued_once(tmp_path, pairs, taken):
    """A camera set to RAW+JPEG (or RAW+HEIF) writes each shot twice under one name: one of the two is queued
    (Settings), the other counted in the status bar; in a folder and among files added together alike. A
    PNG named as a RAW is an export, not the camera's companion; a JPEG in another folder is another photo."""
    card = tmp_path / "card"
    for name in ("DSCF1.jpg", "DSCF1.RAF", "DSCF2.JPG", "IMG_3.CR3", "IMG_3.HEIC", "IMG_3.png", "sub/IMG_3.jpg"):
        (card / name).parent.mkdir(parents=True, exist_ok=True)
        (card / name).write_bytes(b"x")
    found = files.scan([card], pairs=pairs)
    assert [f.path.relative_to(card).as_posix() for f in found.photos] == taken + ["sub/IMG_3.jpg"]
    passed = {"raw": "2 JPEG/HEIF files that have a RAW", "jpeg": "2 RAW files that have a JPEG/HEIF"}
    if pairs == "both":
        assert found.remark() == ""
    else:
        assert found.remark() == f"passed over {passed[pairs]} of the same name (Settings → RAW+JPEG shots)"
    named = files.scan([card / "DSCF1.jpg", card / "DSCF1.RAF", card / "sub" / "IMG_3.jpg", card / "IMG_3.CR3"])
    assert [f.path.name for f in named.photos] == ["DSCF1.RAF", "IMG_3.jpg", "IMG_3.CR3"]
    assert named.paired == [card / "DSCF1.jpg"]


def test_the_raw_jpeg_setting_is_kept_and_checked(tmp_path):
    path = tmp_path / "settings.json"
    s = Settings(raw_jpeg="jpeg")
    s.save(path)
    assert Settings.load(path).raw_jpeg == "jpeg"
    path.write_text(json.dumps({"raw_jpeg": "nef"}))
    assert Settings.load(path).raw_jpeg == "raw"


def test_scan_names_the_images_it_cannot_open_but_not_sidecars(tmp_path):
    """A folder of GIFs or Photoshop files must not just come back as "Added 0 photos"; the XMP sidecars
    and videos beside the photos are not worth a word. Camera RAW from every LibRaw brand is a photo."""
    root = tmp_path / "card"
    for name in ("IMGP0001.PEF", "SAM_0002.SRW", "DSCN0003.NRW", "L1000004.RWL", "B0000005.3FR", "web.jfif"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    for name in ("anim.gif", "edit.psd", "edit2.PSD", "scan.jxl", "IMGP0001.xmp", "clip.mp4", "notes.txt"):
        (root / name).write_bytes(b"x")
    found = files.scan([root])
    assert sorted(f.path.name for f in found.photos) == sorted(
        ["IMGP0001.PEF", "SAM_0002.SRW", "DSCN0003.NRW", "L1000004.RWL", "B0000005.3FR", "web.jfif"])
    assert found.remark() == "passed over 4 files Hourglass cannot open (2 PSD, 1 GIF, 1 JXL)"
    assert files.scan([root / "IMGP0001.PEF"]).remark() == ""


@pytest.mark.parametrize("text", ['[1, 2]', "null", '"text"', '{"quality": "fast", '])
def test_a_settings_file_that_holds_no_settings_gives_the_defaults_and_is_kept(tmp_path, text):
    """A damaged or foreign settings file: the defaults apply, and the file is kept beside (numbered when one
    is there already), since the next save writes the defaults over the file."""
    path = tmp_path / "settings.json"
    path.write_text(text)
    assert Settings.load(path) == Settings()
    assert (tmp_path / "settings.json.unreadable").read_text() == text and not path.exists()
    path.write_text(text)
    assert Settings.load(path) == Settings()
    assert (tmp_path / "settings.json (1).unreadable").read_text() == text


def test_hand_edited_settings_of_the_wrong_kind_take_the_defaults(tmp_path):
    """A list where a choice goes crashed the start (unhashable); a strength of "nan" became 0 (the result
    saved as the untouched original); True passed as JPEG quality 1; any thread count was sent on."""
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({
        "device": 3, "quality": {}, "format": 1, "theme": [1], "fullres": None, "raw_jpeg": None, "model": 3,
        "output_dir": 7, "name_suffix": 5, "jpeg_quality": True, "strength": "nan", "restore_clean": "yes",
        "threads": "many", "srgb": "yes", "remove_location": 1, "record": None}))
    assert Settings.load(path) == Settings()
    for threads, kept in ((4, 4), (0, None), (-4, None), (10**9, None), (True, None), (2.5, None)):
        path.write_text(json.dumps({"threads": threads, "strength": 0.25}))
        loaded = Settings.load(path)
        assert (loaded.threads, loaded.strength) == (kept, 0.25)


def test_a_name_suffix_cannot_send_results_into_another_folder(tmp_path):
    photo = make_photo(tmp_path / "shoot" / "img.jpg")
    s = Settings(name_suffix="/../../elsewhere")
    s.validate()
    assert s.name_suffix == "....elsewhere"
    assert s.output_path(photo, None).parent == tmp_path / "shoot" / "restored"
    for only_dots in ("..", "/.."):
        s = Settings(name_suffix=only_dots)
        s.validate()
        assert s.name_suffix == ""
    s = Settings(name_suffix='_v2:final?*<"|>\t')  # what Windows refuses in a name
    s.validate()
    assert s.name_suffix == "_v2final"


def test_a_typed_output_folder_is_anchored_in_the_home_folder(monkeypatch, tmp_path):
    """"~/Restored" was taken literally (a folder named "~") and "out" was relative to wherever the app
    was started from."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for typed, expected in (("~/Restored", tmp_path / "Restored"), ("out/x", tmp_path / "out" / "x"),
                            (str(tmp_path / "abs"), tmp_path / "abs"), ("   ", None)):
        s = Settings(output_dir=typed)
        s.validate()
        assert s.output_dir == (str(expected) if expected else "")


def test_output_naming_default_mirrored_and_never_overwrite(tmp_path):
    photo = make_photo(tmp_path / "shoot" / "day1" / "img.jpg")
    s = Settings()
    assert s.output_path(photo) == tmp_path / "shoot" / "day1" / "restored" / "img.jpg"
    s = Settings(output_dir=str(tmp_path / "out"), format="tiff16", name_suffix="_r")
    assert s.output_path(photo, tmp_path / "shoot") == tmp_path / "out" / "shoot" / "day1" / "img_r.tif"
    assert s.output_path(photo) == tmp_path / "out" / "img_r.tif"
    assert s.job_format() == ("TIFF", 16)
    assert Settings(format="same").output_extension(Path("x.NEF")) == ".tif"
    assert Settings(format="avif").output_path(photo).name == "img.avif"
    assert (Settings(format="webp").job_format(), Settings(format="avif").job_format()) == (("WEBP", 8), ("AVIF", 8))
    target = make_photo(tmp_path / "o" / "x.png")
    make_photo(tmp_path / "o" / "x (1).png")
    assert free_name(target) == tmp_path / "o" / "x (2).png"


def test_settings_persist_and_bad_values_fall_back(data_dir):
    s = Settings(device="cpu", quality="best", output_dir="/tmp/o", format="jpeg", jpeg_quality=80, strength=0.4,
                 model="mine")
    s.save()
    loaded = Settings.load()
    assert loaded == s
    raw = json.loads((data_dir / "settings.json").read_text())
    raw.update(device="tpu", quality="ultra", strength=7, future_option=1)
    (data_dir / "settings.json").write_text(json.dumps(raw))
    loaded = Settings.load()
    assert (loaded.device, loaded.quality, loaded.strength) == ("auto", "balanced", 1.0)
    loaded.save()
    assert json.loads((data_dir / "settings.json").read_text())["future_option"] == 1


def test_settings_that_cannot_be_saved_still_apply_and_the_user_is_told(qtbot, data_dir):
    """A full disk or a read-only data folder raised out of the dialog's OK (nothing closed, nothing said)."""
    from app.widgets.settings_dialog import SettingsDialog

    (data_dir / "settings.json").mkdir(parents=True)  # in the way of the file, whatever the permissions
    s = Settings()
    assert "could not be saved" in s.save() and "until Hourglass is closed" in s.save()
    dialog = SettingsDialog(s)
    qtbot.addWidget(dialog)
    dialog.quality.setCurrentIndex(dialog.quality.findData("fast"))
    dialog.accept()
    assert s.quality == "fast" and dialog.result() == dialog.DialogCode.Accepted
    assert dialog.problem_box is not None and "could not be saved" in dialog.problem_box.text()
    dialog.problem_box.close()


def test_settings_dialog_edits_and_saves(qtbot, data_dir, tmp_path):
    from app.widgets.settings_dialog import SettingsDialog

    s = Settings()
    dialog = SettingsDialog(s)
    qtbot.addWidget(dialog)
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.quality.setCurrentIndex(dialog.quality.findData("fast"))
    dialog.format.setCurrentIndex(dialog.format.findData("tiff16"))
    dialog.chosen.setChecked(True)
    dialog.folder.setText(str(tmp_path))
    dialog.suffix.setText("_fixed")
    dialog.raw_jpeg.setCurrentIndex(dialog.raw_jpeg.findData("both"))
    dialog.srgb.setChecked(True)
    assert not dialog.remove_location.isChecked() and dialog.record.isChecked()  # the defaults
    dialog.remove_location.setChecked(True)
    dialog.record.setChecked(False)
    dialog.accept()
    again = Settings.load()
    assert (again.device, again.quality, again.format, again.output_dir, again.name_suffix, again.raw_jpeg) == (
        "cpu", "fast", "tiff16", str(tmp_path), "_fixed", "both")
    assert (again.srgb, again.remove_location, again.record) == (True, True, False)
    dialog2 = SettingsDialog(again)
    qtbot.addWidget(dialog2)
    assert dialog2.chosen.isChecked() and dialog2.folder.text() == str(tmp_path)
    assert dialog2.raw_jpeg.currentData() == "both" and dialog2.srgb.isChecked()
    assert dialog2.remove_location.isChecked() and not dialog2.record.isChecked()


def test_queue_transitions_and_events():
    q = BatchQueue(None)
    events = []
    q.subscribe(lambda e, items: events.append((e, [i.name for i in items])))
    a, b = q.add([("/p/a.jpg", None), ("/p/b.jpg", "/p"), ("/p/a.jpg", None)])
    assert len(q) == 2 and events[0] == ("added", ["a.jpg", "b.jpg"])
    for state in (ItemState.QUEUED, ItemState.RUNNING, ItemState.DONE, ItemState.PENDING):
        q.set_state(a, state)
    with pytest.raises(IllegalTransition):
        q.set_state(a, ItemState.DONE)
    q.set_state(b, ItemState.DETECTING)
    with pytest.raises(IllegalTransition):
        q.set_state(b, ItemState.RUNNING)
    q.set_state(b, ItemState.PENDING)
    q.set_state(b, ItemState.QUEUED)
    q.set_state(b, ItemState.RUNNING)
    q.set_state(b, ItemState.FAILED, error_message="boom")
    assert b.error_message == "boom"
    q.set_state(b, ItemState.QUEUED)  # retry clears the error
    assert b.error_message == "" and q.next_queued() is b
    q.set_state(b, ItemState.RUNNING)
    q.set_state(b, ItemState.DONE)
    assert [i.name for i in q.clear_finished()] == ["b.jpg"]


def test_many_photos_change_in_one_event(data_dir):
    """`set_states`, `set_task`, `revert` and `together()` say a change to many photos once (each event
    refreshes the window, which looks at every photo); `set_states` is all or none."""
    q = BatchQueue(default_queue_path())
    a, b, c = q.add([(f"/p/{n}.jpg", None) for n in "abc"])
    events = []
    q.subscribe(lambda e, items: events.append((e, [i.name for i in items])))
    assert q.set_states([a, b], ItemState.QUEUED, each=lambda i: {"note": i.name}) == [a, b]
    assert events == [("changed", ["a.jpg", "b.jpg"])] and a.note == "a.jpg" and b.note == "b.jpg"
    with pytest.raises(IllegalTransition):  # c may not go pending → done: none of them changes
        q.set_states([a, c], ItemState.DONE)
    assert a.state is ItemState.QUEUED and c.state is ItemState.PENDING and len(events) == 1
    before = [(i, i.to_json()) for i in (a, b, c)]
    q.set_task([a, b, c], "rain")
    q.revert(before)
    assert events[1:] == [("changed", ["a.jpg", "b.jpg", "c.jpg"])] * 2 and {i.task for i in q} == {"auto"}
    events.clear()
    with q.together():
        q.update(a, note="1")
        with q.together():  # (nested: said by the outer one)
            q.update(b, note="2")
            q.update(a, note="3")
        assert events == []
        q.add([("/p/d.jpg", None)])  # an add says the changes held so far first
        q.update(c, note="4")
    assert events == [("changed", ["a.jpg", "b.jpg"]), ("added", ["d.jpg"]), ("changed", ["c.jpg"])]
    saved = BatchQueue(default_queue_path())
    saved.load()
    assert [i.note for i in saved] == ["3", "2", "4", ""]  # (saved as any change)


def test_put_back_returns_removed_photos_in_place_with_their_results(data_dir):
    q = BatchQueue(default_queue_path())
    _a, b, _c, d, e = q.add([(f"/p/{n}.jpg", None) for n in "abcde"])
    for state in (ItemState.QUEUED, ItemState.RUNNING, ItemState.DONE):
        q.set_state(b, state)
    q.update(b, output_path="/p/restored/b.jpg", detected_task="haze", confidence=0.9)
    q.set_state(d, ItemState.QUEUED)
    q.set_state(d, ItemState.RUNNING)
    assert q.last_removal == []
    assert [i.name for i in q.remove([d.id, b.id])] == ["d.jpg", "b.jpg"]
    removal = q.last_removal
    assert [(pos, i.name) for pos, i in removal] == [(1, "b.jpg"), (3, "d.jpg")]
    q.add([("/p/d.jpg", None)])  # added again meanwhile: not doubled by the undo
    back = q.put_back(removal)
    assert [i.name for i in q] == ["a.jpg", "b.jpg", "c.jpg", "e.jpg", "d.jpg"] and [i.name for i in back] == ["b.jpg"]
    assert back[0].state is ItemState.DONE and back[0].output_path == "/p/restored/b.jpg"
    assert back[0].detected_task == "haze" and back[0].progress == 1.0 and back[0].id == b.id  # (undo finds it)
    assert q.put_back(removal) == []  # (all of it is there again)
    for state in (ItemState.QUEUED, ItemState.RUNNING):
        q.set_state(e, state)
    q.remove([e.id])  # removed while restoring: it comes back pending, under a new id
    assert [(i.name, i.state) for i in q.put_back(q.last_removal)] == [("e.jpg", ItemState.PENDING)] and q[3].id != e.id
    saved = BatchQueue(default_queue_path())  # the undo is saved like any change
    saved.load()
    assert [i.name for i in saved] == [i.name for i in q]


def test_queue_persists_atomically_and_restores_unfinished_as_pending(data_dir):
    q = BatchQueue(default_queue_path())
    a, b, c, d = q.add([(f"/p/{n}.jpg", None) for n in "abcd"])
    q.set_state(a, ItemState.QUEUED)
    q.set_state(a, ItemState.RUNNING)
    q.update(a, persist=False, progress=0.5)
    q.set_state(b, ItemState.QUEUED)
    q.set_state(c, ItemState.QUEUED)
    q.set_state(c, ItemState.RUNNING)
    q.set_state(c, ItemState.FAILED, error_message="bad file")
    q.update(d, task="snow")
    assert not list(data_dir.glob(".*.tmp"))  # temp files are renamed into place
    restored = BatchQueue(default_queue_path())
    restored.load()
    assert [(i.name, i.state) for i in restored] == [
        ("a.jpg", ItemState.PENDING), ("b.jpg", ItemState.PENDING), ("c.jpg", ItemState.FAILED),
        ("d.jpg", ItemState.PENDING)]
    assert restored[0].progress == 0.0 and restored[2].error_message == "bad file" and restored[3].task == "snow"
    default_queue_path().write_text("{not json")
    broken = BatchQueue(default_queue_path())
    broken.load()
    assert len(broken) == 0
    # kept beside, so the next save does not destroy what may still be mended by hand
    assert (data_dir / "queue.json.unreadable").read_text() == "{not json" and not default_queue_path().exists()
    assert broken.load_problem.startswith("The saved queue could not be read (")
    assert broken.load_problem.endswith(f"The file is kept as {data_dir / 'queue.json.unreadable'}.")
    default_queue_path().write_text("{again")  # a second one does not replace the first one kept
    broken.load()
    assert (data_dir / "queue.json.unreadable").read_text() == "{not json"
    assert (data_dir / "queue.json (1).unreadable").read_text() == "{again"


def test_a_saved_queue_that_fails_to_read_once_is_read_again(data_dir, monkeypatch):
    """A home folder on the network or a waking disk can fail one read: trying again a moment later keeps
    the queue instead of moving it aside and starting empty."""
    from pathlib import Path

    q = BatchQueue(default_queue_path())
    q.add([("/p/a.jpg", None)])
    real_read, failures = Path.read_text, []

    def flaky(self, *args, **kwargs):
        if self == default_queue_path() and not failures:
            failures.append(self)
            raise OSError(5, "Input/output error")
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", flaky)
    again = BatchQueue(default_queue_path())
    again.load()
    assert failures and [i.name for i in again] == ["a.jpg"] and again.load_problem == ""
    assert not (data_dir / "queue.json.unreadable").exists()


def test_a_saved_queue_with_some_bad_items_keeps_the_good_ones(data_dir):
    """A queue file from another version or edited by hand: an item without a path is left out, not the
    whole queue; a value that does not fit its field takes the default; one row per photo."""
    data_dir.mkdir(parents=True)
    good = {"path": "/p/a.jpg", "state": "done", "task": "haze", "confidence": 0.8, "output_path": "/o/a.jpg",
            "saved_strength": 0.5, "a_field_from_a_newer_version": [1, 2], "width": 6000, "height": 4000,
            "previous": [["/o/a (1).jpg", 1.0, "a note"]]}
    odd = {"path": "/p/b.jpg", "id": "twice", "state": "exploded", "task": "sparkle", "confidence": "high",
           "log_tail": "not a list", "skipped": "yes", "saved_strength": 7, "elapsed_s": float("nan"),
           "width": -3, "height": 4000.5, "previous": [["/o/b.jpg", 0.5]]}
    default_queue_path().write_text(json.dumps({"version": 1, "items": [
        good, {"path": 5}, {"nopath": 1}, "junk", odd, {"path": "/p/c.jpg", "id": "twice"}, {"path": "/p/a.jpg"}]}))
    q = BatchQueue(default_queue_path())
    q.load()
    a, b, c = q
    assert q.load_problem == "4 photos of the saved queue could not be read and were left out; the others are back."
    assert (a.name, a.state, a.task, a.confidence, a.output_path, a.saved_strength, a.width, a.height) == (
        "a.jpg", ItemState.DONE, "haze", 0.8, "/o/a.jpg", 0.5, 6000, 4000)
    assert (b.name, b.state, b.task, b.confidence, b.log_tail, b.skipped, b.saved_strength, b.elapsed_s) == (
        "b.jpg", ItemState.PENDING, "auto", None, [], False, 1.0, None)
    assert (b.width, b.height) == (None, None)
    assert (a.previous, b.previous) == ([["/o/a (1).jpg", 1.0, "a note"]], [])
    assert c.name == "c.jpg" and c.id != b.id == "twice"
    from app.queue_model import _CHECKS, _PERSISTED

    assert set(_CHECKS) == set(_PERSISTED) - {"state"}  # every field saved is checked when loaded
    for top in ("[1, 2]", '{"items": 3}', "null"):  # JSON, but not a queue
        default_queue_path().write_text(top)
        q = BatchQueue(default_queue_path())
        q.load()
        assert len(q) == 0 and top in [p.read_text() for p in data_dir.glob("queue.json*.unreadable")]


def test_a_data_folder_that_cannot_be_made_does_not_stop_the_app_and_an_unsaved_queue_is_said_once(
        tmp_path, monkeypatch):
    """A file where the data folder should be (or a read-only, full home): the app still opens; the queue
    says once that it cannot be saved, and again only after a save worked in between."""
    from app.paths import data_dir

    blocked = tmp_path / "Hourglass"
    blocked.write_text("a file in the way")
    monkeypatch.setenv("HOURGLASS_DATA_DIR", str(blocked))
    assert data_dir() == blocked  # no exception
    assert Settings.load() == Settings()  # the defaults
    q = BatchQueue(default_queue_path())
    events = []
    q.subscribe(lambda event, _items: events.append(event))
    a, = q.add([("/p/a.jpg", None)])
    q.update(a, task="snow")
    assert events.count("saving") == 1 and q.save_problem.startswith(f"The queue cannot be saved in {blocked} (")
    assert "it will not come back after a restart" in q.save_problem
    blocked.unlink()
    blocked.mkdir()
    q.update(a, task="rain")
    assert q.save_problem == "" and json.loads((blocked / "queue.json").read_text())["items"][0]["task"] == "rain"
    assert events.count("saving") == 2  # the window takes its mark off


def test_sorting_orders_names_as_people_count_and_puts_unsure_detections_first(data_dir):
    """The queue's sort keys: natural name order (IMG_2 before IMG_10), degradations grouped with the
    detector's least sure answers first (the ones to check), problems first by state; the order is saved."""
    from app.qt_queue import COL_PHOTO, COL_STATE, COL_TASK, sort_key
    from engine.filetypes import natural_key

    assert sorted(["IMG_10.jpg", "img_2.jpg", "IMG_1.jpg", "a.jpg"], key=natural_key) == [
        "a.jpg", "IMG_1.jpg", "img_2.jpg", "IMG_10.jpg"]
    # ties in natural order keep one order, whichever the disk listed first
    assert sorted(["img.jpg", "IMG.jpg"], key=natural_key) == sorted(["IMG.jpg", "img.jpg"], key=natural_key)
    assert sorted(["1.jpg", "01.jpg", "a"], key=natural_key) == sorted(["01.jpg", "1.jpg", "a"], key=natural_key)
    q = BatchQueue(default_queue_path())
    events = []
    q.subscribe(lambda e, items: events.append(e))
    items = q.add([(f"/p/IMG_{n}.jpg", None) for n in (10, 2, 33, 4, 5)])
    for item, (task, conf) in zip(items, [("haze", 0.9), ("rain", 0.8), ("haze", 0.4), ("none", 0.6),
                                          ("haze", 0.7)], strict=True):
        q.update(item, detected_task=task, confidence=conf)
    q.update(items[1], task="haze")  # chosen by the user: after the detected hazy ones
    q.reorder(sort_key(COL_TASK))
    assert [i.name for i in q] == ["IMG_33.jpg", "IMG_5.jpg", "IMG_10.jpg", "IMG_2.jpg", "IMG_4.jpg"]
    assert events[-1] == "reordered"
    q.reorder(sort_key(COL_PHOTO), reverse=True)
    assert [i.name for i in q] == ["IMG_33.jpg", "IMG_10.jpg", "IMG_5.jpg", "IMG_4.jpg", "IMG_2.jpg"]
    q.set_state(items[3], ItemState.QUEUED)
    q.set_state(items[3], ItemState.RUNNING)
    q.set_state(items[3], ItemState.FAILED, error_message="bad")
    q.reorder(sort_key(COL_STATE))
    assert q[0] is items[3]
    saved = BatchQueue(default_queue_path())
    saved.load()
    assert [i.name for i in saved] == [i.name for i in q]


def test_saved_items_are_copies_and_round_trip(data_dir):
    q = BatchQueue(default_queue_path())
    (a,) = q.add([("/p/a.jpg", "/p")])
    for state in (ItemState.QUEUED, ItemState.RUNNING, ItemState.FAILED):
        q.set_state(a, state, error_message="bad", log_tail=["line 1", "line 2"])
    d = a.to_json()
    assert "progress" not in d and "eta_s" not in d and "stage" not in d and d["state"] == "failed"
    d["log_tail"].append("changed")  # the saved form does not alias the live item
    assert a.log_tail == ["line 1", "line 2"]
    back = BatchQueue(default_queue_path())
    back.load()
    assert back[0].to_json() == a.to_json()


def test_with_a_scheduler_saves_are_coalesced_and_flush_writes_the_rest(data_dir, monkeypatch):
    import app.queue_model as qm

    clock = [100.0]
    monkeypatch.setattr(qm.time, "monotonic", lambda: clock[0])
    later: list = []
    q = BatchQueue(default_queue_path(), schedule=lambda delay, fn: later.append((delay, fn)))

    def saved_states() -> list[str]:
        return [d["state"] for d in json.loads(default_queue_path().read_text())["items"]]

    (a,) = q.add([("/p/a.jpg", None)])  # the first change is written at once
    assert saved_states() == ["pending"] and later == []
    q.set_state(a, ItemState.DETECTING)
    q.set_state(a, ItemState.PENDING, detected_task="rain")
    assert saved_states() == ["pending"] and len(later) == 1 and later[0][0] == pytest.approx(qm.SAVE_INTERVAL)
    assert json.loads(default_queue_path().read_text())["items"][0]["detected_task"] is None
    clock[0] += qm.SAVE_INTERVAL
    later.pop()[1]()  # the timer fires: one save for both changes
    assert json.loads(default_queue_path().read_text())["items"][0]["detected_task"] == "rain"
    q.set_state(a, ItemState.QUEUED)  # within the interval again: pending until flushed
    assert saved_states() == ["pending"] and len(later) == 1
    q.flush()
    assert saved_states() == ["queued"]
    clock[0] += 5
    later.pop()[1]()  # the timer set before the flush fires: nothing left to write
    q.set_state(a, ItemState.PENDING)  # long after the last save, no timer pending: written at once
    assert saved_states() == ["pending"] and later == []


def test_with_several_gpus_the_settings_offer_each_and_keep_the_choice(qtbot, data_dir):
    from app.widgets.settings_dialog import SettingsDialog
    from engine import protocol as P

    devices = (P.DeviceInfo("cpu", "x86_64", "cpu"), P.DeviceInfo("cuda:0", "RTX A", "cuda", 8 * 2**30),
               P.DeviceInfo("cuda:1", "RTX B", "cuda", 24 * 2**30))
    s = Settings()
    dialog = SettingsDialog(s, devices=devices)
    qtbot.addWidget(dialog)
    labels = [dialog.device.itemText(i) for i in range(dialog.device.count())]
    assert labels[-2:] == ["GPU 0: RTX A, 8 GiB", "GPU 1: RTX B, 24 GiB"]
    dialog.device.setCurrentIndex(dialog.device.findData("cuda:1"))
    dialog.accept()
    again = Settings.load()
    assert again.device == "cuda:1"
    alone = SettingsDialog(again, devices=devices[:2])  # one GPU: no list; the saved choice is still shown
    qtbot.addWidget(alone)
    assert alone.device.currentData() == "cuda:1" and alone.device.currentText() == "GPU 1 (not found now)"
    assert alone.device.findData("cuda:0") < 0
    for bad in ("cuda:x", "tpu", 3):
        s = Settings(device=bad)
        s.validate()
        assert s.device == "auto"


def test_the_appearance_setting_switches_the_palette_and_back(qtbot, qapp, data_dir):
    from app import theme
    from app.widgets.settings_dialog import SettingsDialog

    start = qapp.palette().window().color()
    s = Settings()
    dialog = SettingsDialog(s)
    qtbot.addWidget(dialog)
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.accept()
    assert Settings.load().theme == "dark"
    try:
        theme.apply("dark")
        assert qapp.palette().window().color().lightness() < 80 and qapp.style().name() == "fusion"
        assert qapp.palette().text().color().lightness() > 180  # light text on it
        theme.apply("light")
        assert qapp.palette().window().color().lightness() > 180
    finally:
        theme.apply("system")
    assert qapp.palette().window().color() == start
    odd = Settings(theme="purple")
    odd.validate()
    assert odd.theme == "system"


def test_the_system_appearance_sets_no_palette_of_its_own(qapp):
    """Left on "As the system", the app keeps following the desktop's theme (no palette is pinned)."""
    from app import theme

    calls = []
    real = qapp.setPalette
    qapp.setPalette = lambda *a: calls.append(a) or real(*a)
    try:
        theme.apply("system")
        assert calls == []
    finally:
        del qapp.setPalette


def test_a_photo_stamp_that_does_not_fit_is_left_out_and_a_photo_without_one_is_never_flagged(data_dir, tmp_path):
    """Queues saved before photos were stamped, or edited by hand, load; a restored item without a stamp is
    never said to have changed (there is nothing to compare)."""
    photo = tmp_path / "p.png"
    photo.write_bytes(b"x")
    good = {"path": str(photo), "state": "done", "output_path": str(tmp_path / "r.png"), "photo_stamp": [1, 5]}
    assert QueueItem.from_json(good).photo_stamp == [1, 5]
    for bad in ([1], [1, "2"], [True, 3], [-1, 3], "1,2", 7):
        assert QueueItem.from_json({**good, "photo_stamp": bad}).photo_stamp is None
    old_entry = ["r0.png", 1.0, "a note"]  # a queue saved before earlier results carried their photo's stamp
    item = QueueItem.from_json({**good, "previous": [old_entry, [*old_entry, [3, 4]]]})
    assert item.previous == [old_entry, [*old_entry, [3, 4]]]
    assert as_current(item.previous[0])["photo_stamp"] is None and as_current(item.previous[1])["photo_stamp"] == [3, 4]
    assert QueueItem.from_json({**good, "previous": [[*old_entry, [3]]]}).previous == []  # a stamp that does not fit
    queue = BatchQueue(autosave=False)
    queue._items = [QueueItem.from_json(good), QueueItem.from_json({**good, "photo_stamp": None, "id": "other"})]
    queue._by_id = {i.id: i for i in queue._items}
    assert [i.name for i in queue.check_photos()] == ["p.png"]  # size 1, but not that mtime
    assert [i.photo_changed for i in queue] == [True, False]
    queue[0].photo_stamp = [photo.stat().st_size, photo.stat().st_mtime_ns]
    assert queue.check_photos() == [queue[0]] and not queue[0].photo_changed
    assert queue.check_photos([queue[0]], [([9, 9], False)]) == [queue[0]] and queue[0].photo_changed  # stamps taken elsewhere
    removed = queue.remove([queue[0].id])[0]
    removed.photo_stamp = [9, 9]
    assert queue.check_photos([removed], [([1, 1], False)]) == []  # removed while its file was looked at: left alone


@pytest.mark.parametrize("selected", [False, True])
def test_the_progress_figure_is_readable_where_it_crosses_the_end_of_the_bar(qtbot, selected):
    """At 52% the "%" stood past the blue part, white on the pale rest of the bar: unreadable."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QColor, QImage, QPainter, QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QTableView

    from app.qt_queue import BAR_DONE, BAR_RUNNING, ProgressDelegate, ProgressRole

    view = QTableView()
    qtbot.addWidget(view)
    model = QStandardItemModel(1, 1)
    cell = QStandardItem("52%")
    cell.setData(0.52, ProgressRole)
    model.setItem(0, 0, cell)
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = QRect(0, 0, 100, 40)
    if selected:
        option.state |= QStyle.StateFlag.State_Selected
    image = QImage(100, 40, QImage.Format.Format_RGB32)
    image.fill(view.palette().base().color())
    painter = QPainter(image)
    ProgressDelegate().paint(painter, option, model.index(0, 0))
    painter.end()
    fill_end = 6 + round(88 * 0.52)
    background = QColor(image.pixel(fill_end + 30, 13)).lightness()  # the bar's rest, no text there
    rest = [QColor(image.pixel(x, y)).lightness() for x in range(fill_end + 2, fill_end + 20) for y in range(14, 27)]
    filled = [QColor(image.pixel(x, y)).lightness() for x in range(fill_end - 20, fill_end - 2) for y in range(14, 27)]
    assert max(abs(v - background) for v in rest) > 60  # glyphs that stand out from the bar's rest
    assert max(filled) > 200  # and white over the filled part, which is dark enough for it (it was 3.7:1)
    assert min(_contrast(QColor("white"), QColor(fill)) for fill in (BAR_RUNNING, BAR_DONE)) >= 4.5


def _contrast(a, b) -> float:
    """WCAG's contrast ratio of two QColors."""
    def luminance(c):
        return sum(w * ((v / 255) / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4)
                   for w, v in zip((0.2126, 0.7152, 0.0722), (c.red(), c.green(), c.blue()), strict=True))
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_dimmed_text_stays_readable_in_every_appearance(qtbot, qapp, data_dir):
    """The result's path under the comparison, the Settings notes and the drop area's line were drawn in
    "palette(mid)": 1.7:1 against the light window, where WCAG asks 4.5:1 of text."""
    from PySide6.QtWidgets import QLabel

    from app import theme
    from app.widgets.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(), screen="sRGB")
    qtbot.addWidget(dialog)
    notes = [label for label in dialog.findChildren(QLabel) if label.text().startswith(("Device changes", "Now:"))]
    assert len(notes) == 2

    def contrasts() -> list[float]:
        window = qapp.palette().window().color()
        return [_contrast(label.palette().color(label.foregroundRole()), window) for label in notes]  # (as drawn)

    dialog.show()
    qtbot.waitExposed(dialog)
    try:
        for look in ("system", "dark", "light", "dark"):
            theme.apply(look)
            qtbot.waitUntil(lambda: min(contrasts()) >= 4.5, timeout=2000)
        dialog.hide()
        theme.apply("light")  # changed while the dialog was hidden: right when it is shown again
        dialog.show()
        qtbot.waitExposed(dialog)
        qtbot.waitUntil(lambda: min(contrasts()) >= 4.5, timeout=2000)
    finally:
        theme.apply("system")


def test_every_state_colour_is_readable_on_the_rows_of_either_appearance(qapp, tmp_path):
    """One set of colours for both: "Done" in green read 2.9:1 on the dark appearance's rows, the orange of
    a photo changed since it was restored 2.9:1 on the light one's (WCAG asks 4.5:1 of text); the Models
    dialog's red error 2.6:1 on the dark window."""
    from dataclasses import replace

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor

    from app import theme
    from app.qt_queue import COL_STATE, QueueTableModel, state_colour

    queue = BatchQueue(tmp_path / "queue.json")
    item = queue.add([(str(tmp_path / "a.jpg"), None)])[0]
    kinds = [replace(item, state=state) for state in ItemState]
    kinds += [replace(item, state=ItemState.DONE, skipped=True), replace(item, state=ItemState.DONE, photo_changed=True)]
    try:
        for look in ("light", "dark"):
            theme.apply(look)
            palette = qapp.palette()
            assert _contrast(QColor(theme.error_text()), palette.window().color()) >= 4.5  # (Models' errors)
            for rows in (palette.base().color(), palette.alternateBase().color()):
                for kind in kinds:
                    colour = state_colour(kind, rows)
                    assert colour is None or _contrast(colour, rows) >= 4.5, (look, kind.state, kind.skipped)
            item.state = ItemState.FAILED
            shown = QueueTableModel(queue, set_task=lambda ids, task: None).index(0, COL_STATE).data(
                Qt.ItemDataRole.ForegroundRole)
            assert _contrast(shown, palette.base().color()) >= 4.5, look  # what the list is given to draw
    finally:
        theme.apply("system")


def test_the_dark_and_light_appearances_text_is_readable_on_what_it_is_drawn_on(qapp):
    """Dark: links were 3.5:1 on the window, white on the selection 4.0:1, placeholders 4.2:1. Light
    (Fusion's own): white on the selection 3.7:1, placeholders 3.9:1."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QStyleFactory

    from app.theme import dark_palette, light_palette

    r = QPalette.ColorRole
    for look, p in (("dark", dark_palette()), ("light", light_palette(QStyleFactory.create("Fusion").standardPalette()))):
        for text, ground in ((r.WindowText, r.Window), (r.Text, r.Base), (r.Text, r.AlternateBase),
                             (r.ButtonText, r.Button), (r.Link, r.Window), (r.Link, r.Base),
                             (r.HighlightedText, r.Highlight), (r.PlaceholderText, r.Base), (r.ToolTipText, r.ToolTipBase)):
            assert _contrast(p.color(text), p.color(ground)) >= 4.5, (look, text, ground)
