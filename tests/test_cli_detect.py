"""`hourglass detect` and `task=auto` in `hourglass restore`, with stand-in detectors (exact answers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import _photo

from engine.cli import main


@pytest.fixture
def folder(tmp_path) -> Path:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    _photo(src / "a.png")
    _photo(src / "sub" / "b.jpg", seed=1)
    (src / "notes.txt").write_text("not a photo")
    return src


def snapshot(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def test_detect_json_prints_one_object_per_photo_and_writes_nothing(stub, folder, capsys):
    stub("haze")
    before = snapshot(folder)
    assert main(["detect", "--json", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    objs = [json.loads(line) for line in lines]
    assert [Path(o["path"]).name for o in objs] == ["a.png", "b.jpg"]  # the folder expands like restore's
    for o in objs:
        assert o["task"] == "haze" and o["confidence"] == pytest.approx(0.9)
        assert set(o["scores"]) == {"low-light", "haze", "rain", "snow", "blur", "none"}
    assert snapshot(folder) == before


def test_detect_says_which_photos_are_results_hourglass_saved(stub, tmp_path, tiny_model_path, capsys):
    """`restore` leaves them (they would be restored twice): `detect` says so, for scripts too."""
    stub("haze")
    photo = _photo(tmp_path / "p.png")
    assert main(["restore", str(photo), "-o", str(tmp_path / "out"), "--model", str(tiny_model_path), "--steps",
                 "1", "--task", "haze"]) == 0
    capsys.readouterr()
    result = tmp_path / "out" / "p.png"
    assert main(["detect", "--json", str(photo), str(result)]) == 0
    plain, made = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert "already_restored" not in plain and made["already_restored"].startswith("restored p.png as haze")
    assert main(["detect", str(result)]) == 0
    assert "(a result Hourglass saved: restored p.png as haze (chosen) with tiny-t" in capsys.readouterr().out


def test_a_folder_is_taken_in_natural_order(stub, tmp_path, capsys):
    """As the app queues it and file managers show it: IMG_2 before IMG_10."""
    stub("haze")
    (tmp_path / "card").mkdir()
    for n in (10, 2, 1):
        _photo(tmp_path / "card" / f"IMG_{n}.jpg")
    assert main(["detect", "--json", str(tmp_path / "card")]) == 0
    names = [Path(json.loads(line)["path"]).name for line in capsys.readouterr().out.splitlines()]
    assert names == ["IMG_1.jpg", "IMG_2.jpg", "IMG_10.jpg"]


def test_detect_text_lists_the_task_confidence_and_runners_up(stub, folder, capsys):
    stub("low-light")
    assert main(["detect", str(folder / "a.png")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("low-light") and "90%" in out and "a.png" in out


def test_detect_says_when_the_black_and_white_classifier_answered(tmp_path, monkeypatch, folder, capsys):
    from detector_helpers import stub_weights
    from PIL import Image

    from engine.detection.model import with_gray

    path = tmp_path / "pair.safetensors"
    with_gray(stub_weights("rain"), stub_weights("none")).save(path)
    monkeypatch.setenv("HOURGLASS_DETECTOR", str(path))
    Image.open(folder / "a.png").convert("L").save(folder / "bw.png")
    assert main(["detect", str(folder / "a.png"), str(folder / "bw.png")]) == 0
    colour, bw = capsys.readouterr().out.splitlines()
    assert colour.startswith("rain") and "black and white" not in colour
    assert bw.startswith("none") and bw.endswith("; black and white)")
    assert main(["detect", "--json", str(folder / "bw.png")]) == 0
    assert json.loads(capsys.readouterr().out)["black_and_white"] is True


def test_detect_reports_unreadable_photos_and_goes_on(stub, folder, capsys):
    stub("rain")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    assert main(["detect", "--json", str(folder)]) == 1
    captured = capsys.readouterr()
    objs = [json.loads(line) for line in captured.out.splitlines()]  # a script sees the failed photo too
    assert [Path(o["path"]).name for o in objs] == ["a.png", "broken.jpg", "b.jpg"] and "broken.jpg" in captured.err
    assert objs[1]["code"] == "input_unreadable" and "damaged" in objs[1]["error"] and "task" not in objs[1]


def test_detect_reports_a_photo_too_small_to_judge_and_goes_on(stub, folder, capsys):
    from PIL import Image

    stub("snow")
    Image.new("RGB", (40, 5)).save(folder / "strip.png")
    assert main(["detect", "--json", str(folder)]) == 1
    captured = capsys.readouterr()
    objs = [json.loads(line) for line in captured.out.splitlines()]
    assert [(Path(o["path"]).name, o.get("task")) for o in objs] == [("a.png", "snow"), ("strip.png", None),
                                                                      ("b.jpg", "snow")]
    assert "40×5 pixels, too small" in objs[1]["error"] and objs[1]["code"] == "unsupported_input"
    assert "strip.png" in captured.err and "40×5 pixels, too small" in captured.err


def test_restore_auto_notes_why_a_photo_got_no_detection(stub, tmp_path, tiny_model_path, capsys):
    from PIL import Image

    stub("haze")
    Image.new("RGB", (9, 9), (20, 30, 40)).save(tmp_path / "icon.png")
    out = tmp_path / "out"
    assert main(["restore", str(tmp_path / "icon.png"), "-o", str(out), "--model", str(tiny_model_path),
                 "--steps", "1"]) == 0
    err = capsys.readouterr().err
    assert (out / "icon.png").is_file()
    assert "note: Automatic detection is not available for this photo: The photo is 9×9 pixels" in err


def test_detect_without_a_detector_or_photos_is_a_usage_error(folder, tmp_path, capsys):
    assert main(["detect", str(folder)]) == 2  # conftest points HOURGLASS_DETECTOR nowhere
    assert "detector is missing" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["detect", str(empty)]) == 2


def test_restore_auto_skips_photos_that_look_fine_unless_asked(stub, folder, tmp_path, tiny_model_path, capsys):
    stub("none")
    out = tmp_path / "out"
    args = ["restore", str(folder / "a.png"), "-o", str(out), "--model", str(tiny_model_path), "--steps", "1"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "skip" in err and "already fine (detected none 90%)" in err and "1 already fine" in err
    assert not out.exists() or not any(out.iterdir())
    assert main([*args, "--restore-clean"]) == 0
    assert (out / "a.png").is_file()


def test_restore_auto_reports_the_detected_task(stub, folder, tmp_path, tiny_model_path, capsys):
    stub("blur")
    out = tmp_path / "out"
    assert main(["restore", str(folder / "a.png"), "-o", str(out), "--model", str(tiny_model_path),
                 "--steps", "1"]) == 0
    assert "detected blur 90%" in capsys.readouterr().err and (out / "a.png").is_file()


def test_the_launcher_sends_detect_to_the_command_line():
    from app.launcher import wants_gui

    assert not wants_gui(["detect", "photo.jpg"])
    assert not wants_gui(["copy", "restored/"])


def recorded_clocks(monkeypatch) -> list:
    from engine import batch_time
    from engine.cli import restore as cli

    clocks = []

    class Recorded(batch_time.BatchClock):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            clocks.append(self)

    monkeypatch.setattr(cli, "BatchClock", Recorded)
    return clocks


def test_the_time_left_learns_each_photos_size_and_degradation_ahead(stub, tmp_path, tiny_model_path,
                                                                     monkeypatch, capsys):
    """`hourglass restore` reads the photos' sizes and, on auto, detects its JPEGs and RAWs ahead of the
    restores, on a thread: the time left weighs each photo by its size and path (`BatchClock`), and each
    restore takes the detection made ahead, so every photo is detected once. A PNG is left to its restore,
    which detects it from the pixels it decodes anyway; a photo kept from an earlier run is not among the
    photos to go."""
    from engine.batch_time import SKIPPED, Restored
    from engine.detection.detector import Detector

    calls = []
    real_detect = Detector.detect
    monkeypatch.setattr(Detector, "detect", lambda self, rgb: calls.append(rgb.shape) or real_detect(self, rgb))
    clocks = recorded_clocks(monkeypatch)
    src = tmp_path / "in"
    src.mkdir()
    for name, size, seed in (("a.jpg", (48, 32), 0), ("b.jpg", (64, 40), 1), ("c.png", (40, 32), 2),
                             ("d.jpg", (24, 16), 3), ("e.jpg", (32, 32), 4)):
        _photo(src / name, size, seed)
    out = tmp_path / "out"
    out.mkdir()
    _photo(out / "e.jpg")  # (from an earlier run: kept)
    stub("haze")
    assert main(["restore", str(src), "-o", str(out), "--model", str(tiny_model_path), "--steps", "1"]) == 0
    (clock,) = clocks
    assert clock.sizes == [(48, 32), (64, 40), (40, 32), (24, 16)]
    assert clock.tasks == ["haze"] * 4  # (ahead, or reported by the photo's own restore)
    assert [(r.task, r.work) for r in clock._done] == [("haze", (w * h / 1e6,) * 2) for w, h in clock.sizes]
    assert len(calls) == 4 and "detected haze 90%" in capsys.readouterr().err  # once each
    stub("none")
    assert main(["restore", str(src / "a.jpg"), str(src / "b.jpg"), "-o", str(tmp_path / "o2"), "--model",
                 str(tiny_model_path), "--steps", "1"]) == 0
    assert clocks[1].tasks == [SKIPPED, SKIPPED]  # skipped as fine: no time counted before one is seen
    assert [r.task for r in clocks[1]._done] == [SKIPPED, SKIPPED]
    assert main(["restore", str(src / "a.jpg"), "-o", str(tmp_path / "o3"), "--model", str(tiny_model_path),
                 "--steps", "1", "--task", "rain"]) == 0
    assert clocks[2].tasks == ["rain"] and clocks[2]._done == [Restored("rain", clocks[2]._done[0].seconds,
                                                                         (48 * 32 / 1e6,) * 2)]


def test_a_photo_detected_by_its_own_restore_tells_the_time_left_its_path(stub, tmp_path, tiny_model_path,
                                                                          monkeypatch):
    """The first photo, and photos of other formats than JPEG and RAW, are detected by their restore: it
    reports the answer as soon as it is made, so the time left knows their path before they end."""
    clocks = recorded_clocks(monkeypatch)
    src = tmp_path / "in"
    src.mkdir()
    _photo(src / "a.png", (48, 32))
    _photo(src / "b.png", (40, 32), seed=1)
    seen = []
    from engine.cli import look_ahead as cli

    real = cli.LookAhead._learn
    monkeypatch.setattr(cli.LookAhead, "_learn", lambda self, k, d: seen.append((k, d.task)) or real(self, k, d))
    stub("rain")
    assert main(["restore", str(src), "-o", str(tmp_path / "out"), "--model", str(tiny_model_path), "--steps", "1"]) == 0
    assert sorted(seen) == [(0, "rain"), (1, "rain")] and clocks[0].tasks == ["rain", "rain"]
