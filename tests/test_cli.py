"""The `hourglass` command: exit codes, outputs, refusals and a clean stop on Ctrl+C."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main


def _photo(path, size=(40, 32), seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture()
def photos(tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    _photo(src / "a.png")
    _photo(src / "sub" / "b.jpg", seed=1)
    (src / "notes.txt").write_text("not a photo")
    return src


def _tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_restore_folder(photos, tmp_path, tiny_model_path, capsys):
    out = tmp_path / "out"
    code = main(["restore", str(photos), "-o", str(out), "--model", str(tiny_model_path), "--quality", "fast"])
    assert code == 0
    assert _tree(out) == ["a.png", "sub/b.jpg"]  # the folder's tree is mirrored
    assert Image.open(out / "a.png").size == (40, 32)
    assert "Restored 2 of 2" in capsys.readouterr().err


def test_a_raw_jpeg_shot_is_restored_once(tmp_path, tiny_model_path, capsys):
    """A camera set to RAW+JPEG writes each shot twice: the RAW is restored (a 16-bit TIFF), its JPEG passed
    over with a note saying how to take it too; a JPEG without a RAW, or a PNG named as one, is a photo."""
    from test_imaging import fake_linear_dng

    card = tmp_path / "card"
    card.mkdir()
    fake_linear_dng(card / "IMG_1.DNG", np.full((32, 40, 3), 20000, np.uint16), bayer=True)
    _photo(card / "IMG_1.JPG")
    _photo(card / "IMG_2.JPG", seed=2)
    _photo(card / "IMG_1.png", seed=3)  # an export, not the camera's companion
    out = tmp_path / "out"
    assert main(["restore", str(card), "-o", str(out), "--model", str(tiny_model_path), "--steps", "1"]) == 0
    assert _tree(out) == ["IMG_1.png", "IMG_1.tif", "IMG_2.JPG"]
    err = capsys.readouterr().err
    assert "passed over 1 JPEG/HEIF file that has a RAW of the same name (--pairs both takes them too)" in err
    both = tmp_path / "both"
    assert main(["restore", str(card / "IMG_1.DNG"), str(card / "IMG_1.JPG"), "-o", str(both), "--model",
                 str(tiny_model_path), "--steps", "1", "--pairs", "jpeg"]) == 0  # named files are paired too
    assert _tree(both) == ["IMG_1.JPG"]
    assert "passed over 1 RAW file that has a JPEG/HEIF of the same name" in capsys.readouterr().err
    (card / "IMG_2.NEF").write_bytes(b"not a raw file")  # a camera newer than LibRaw, say: its JPEG is the way
    assert main(["restore", str(card), "-o", str(tmp_path / "again"), "--model", str(tiny_model_path),
                 "--steps", "1"]) == 1
    assert "(its camera JPEG IMG_2.JPG was passed over: --pairs jpeg restores that one)" in capsys.readouterr().err


def test_a_canon_or_sony_heif_card_is_restored(tmp_path, tiny_model_path, capsys):
    """Canon's and Sony's cameras name their HEIF photos .HIF: a card of them was passed over without a word
    ("nothing to restore"), and in RAW+HEIF the .HIF beside each RAW was not taken for its companion."""
    import pillow_heif
    from test_imaging import fake_linear_dng

    pillow_heif.register_heif_opener()
    card = tmp_path / "DCIM"
    card.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 40, 3), dtype=np.uint8)).save(
        card / "IMG_0001.HIF", format="HEIF")
    fake_linear_dng(card / "IMG_0002.CR3", np.full((32, 40, 3), 20000, np.uint16), bayer=True)  # (a DNG inside)
    Image.fromarray(np.full((32, 40, 3), 90, np.uint8)).save(card / "IMG_0002.HIF", format="HEIF")
    out = tmp_path / "out"
    assert main(["restore", str(card), "-o", str(out), "--model", str(tiny_model_path), "--steps", "1",
                 "--task", "haze"]) == 0
    assert _tree(out) == ["IMG_0001.jpg", "IMG_0002.tif"]
    assert "passed over 1 JPEG/HEIF file that has a RAW of the same name" in capsys.readouterr().err


def test_a_panorama_too_wide_for_the_chosen_format_fails_before_it_is_restored(tmp_path, tiny_model_path,
                                                                                 capsys, monkeypatch):
    """WebP holds 16,383 pixels a side: a wider panorama failed only when its result was encoded, after the
    whole restoration, with the encoder's words ("encoding error 5"), as an internal error. Found by a
    damaged TIFF that claimed 65,539 rows, as an AVIF."""
    import engine.api

    def never(*_a, **_k):
        raise AssertionError("restored before the format was checked")

    monkeypatch.setattr(engine.api, "restore_array", never)
    Image.fromarray(np.zeros((8, 16_400, 3), np.uint8)).save(tmp_path / "pano.png")
    out = tmp_path / "out"
    assert main(["restore", str(tmp_path / "pano.png"), "-o", str(out), "--model", str(tiny_model_path),
                 "--format", "webp", "--task", "haze", "--json"]) == 1
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert line["code"] == "image_too_large" and "16,400 × 8 pixels is too large for WebP" in line["error"]
    assert not out.exists() or not any(out.iterdir())


def test_one_corrupt_photo_fails_alone(photos, tmp_path, tiny_model_path, capsys):
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    out = tmp_path / "out"
    code = main(["restore", str(photos), "-o", str(out), "--model", str(tiny_model_path), "--steps", "1"])
    assert code == 1
    assert _tree(out) == ["a.png", "sub/b.jpg"]
    err = capsys.readouterr().err
    assert "FAILED" in err and "broken.jpg" in err and "1 failed" in err


def test_an_unexpected_error_with_one_photo_does_not_end_the_batch(photos, tmp_path, tiny_model_path, capsys,
                                                                   monkeypatch):
    import engine.api

    real = engine.api.restore_file

    def flaky(path, *args, **kwargs):
        if Path(path).name == "a.png":
            raise RuntimeError("boom")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(engine.api, "restore_file", flaky)
    out = tmp_path / "out"
    code = main(["restore", str(photos), "-o", str(out), "--model", str(tiny_model_path), "--steps", "1"])
    assert code == 1
    assert _tree(out) == ["sub/b.jpg"]
    err = capsys.readouterr().err
    assert "FAILED" in err and "unexpected error (RuntimeError: boom)" in err and "Restored 1 of 2" in err


def test_restoring_into_the_input_folder_says_the_originals_are_kept(photos, tiny_model_path, capsys):
    before = {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()}
    for extra in ([], ["--overwrite"]):
        code = main(["restore", str(photos / "a.png"), "-o", str(photos), "--model", str(tiny_model_path),
                     "--steps", "1", *extra])
        assert code == 1
        err = capsys.readouterr().err
        assert 'never saves over the original photo "a.png"' in err and "--suffix" in err
    assert {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()} == before


def test_a_suffix_saves_results_beside_the_originals(photos, tiny_model_path, capsys):
    before = {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()}
    code = main(["restore", str(photos), "-o", str(photos), "--suffix", "_restored", "--model",
                 str(tiny_model_path), "--steps", "1", "--task", "haze"])
    assert code == 0 and "Restored 2 of 2" in capsys.readouterr().err
    assert (photos / "a_restored.png").is_file() and (photos / "sub" / "b_restored.jpg").is_file()
    assert all(p.read_bytes() == data for p, data in before.items())
    assert main(["restore", str(photos), "-o", str(photos), "--suffix", "_restored", "--model",
                 str(tiny_model_path), "--steps", "1", "--task", "haze", "--overwrite"]) == 0
    assert "Restored 2 of 2" in capsys.readouterr().err  # the results are not inputs of the next run
    assert not list(photos.rglob("*_restored_restored*"))
    for bad in ("../x", "a/b", "..", "_v2?", "a:b", "x\tz"):
        assert main(["restore", str(photos), "-o", str(photos), "--suffix", bad]) == 2
        assert "--suffix" in capsys.readouterr().err


def test_existing_output_is_kept_so_an_interrupted_batch_resumes(photos, tmp_path, tiny_model_path, capsys):
    """Run again after Ctrl+C (or a crash), a batch restores only what has no result yet: an existing file
    is never replaced without --overwrite, and keeping it is not a failure."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"keep me")
    args = ["restore", str(photos / "a.png"), str(photos / "sub" / "b.jpg"), "-o", str(out), "--model",
            str(tiny_model_path), "--steps", "1", "--task", "haze"]
    assert main(args) == 0 and (out / "a.png").read_bytes() == b"keep me" and (out / "b.jpg").is_file()
    err = capsys.readouterr().err
    assert f"kept   {photos / 'a.png'}: {out / 'a.png'} already exists" in err
    assert "Restored 1 of 2 photos" in err and "1 kept from an earlier run (--overwrite restores them again)" in err
    assert main(args + ["--overwrite"]) == 0 and (out / "a.png").read_bytes() != b"keep me"


def test_a_batch_says_how_long_the_rest_will_take(tmp_path, tiny_model_path, capsys):
    """From the second photo on, each photo's line says the time left, from this run's photos so far; a
    photo kept from an earlier run takes none and is not counted."""
    src = tmp_path / "in"
    src.mkdir()
    names = [_photo(src / f"p{i}.png", seed=i) for i in range(4)]
    out = tmp_path / "out"
    out.mkdir()
    (out / "p1.png").write_bytes(b"done before")
    assert main(["restore", *map(str, names), "-o", str(out), "--model", str(tiny_model_path), "--steps", "1",
                 "--task", "haze"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[")]
    assert lines[0] == f"[1/4] {names[0].name}"
    assert all(line.endswith("(less than a minute left)") for line in lines[1:]), lines


def test_batch_stops_when_results_cannot_be_saved_in_the_folder_the_next_ones_go_to(tmp_path, tiny_model_path,
                                                                                    capsys):
    """A full disk or a folder that cannot be written would fail every photo after the first (a full disk only
    after restoring each): the batch stops, says how many photos were not attempted, and how to go on."""
    src = tmp_path / "in"
    src.mkdir()
    names = [_photo(src / f"p{i}.png", seed=i) for i in range(3)]
    blocker = tmp_path / "drive.txt"
    blocker.write_text("")
    out = blocker / "restored"
    code = main(["restore", *map(str, names), "-o", str(out), "--model", str(tiny_model_path), "--steps", "1",
                 "--task", "haze"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("FAILED") == 1 and "[2/3]" not in err
    assert f"Stopped: the next photos would be saved in {out} too" in err
    assert "Restored 0 of 3 photos" in err and "1 failed; 2 not attempted" in err


def test_json_prints_one_object_per_photo_on_stdout_for_scripts(photos, tmp_path, tiny_model_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"earlier result")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really")
    code = main(["restore", str(photos / "a.png"), str(photos / "sub" / "b.jpg"), str(broken), "-o", str(out),
                 "--model", str(tiny_model_path), "--steps", "1", "--task", "haze", "--json"])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 1 and [(r["path"], r["status"]) for r in lines] == [
        (str(photos / "a.png"), "kept"), (str(photos / "sub" / "b.jpg"), "restored"), (str(broken), "failed")]
    assert lines[0]["output"] == str(out / "a.png")
    assert lines[1]["output"] == str(out / "b.jpg") and lines[1]["task"] == "haze" and lines[1]["seconds"] > 0
    assert "confidence" not in lines[1]  # the task was given, not detected
    assert lines[2]["code"] == "input_unreadable" and "broken.jpg" in lines[2]["error"]
    assert "ok     " in captured.err and "{" not in captured.err  # the lines for people stay on stderr


def test_usage_errors(tmp_path, tiny_model_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["restore", str(empty), "-o", str(tmp_path / "o"), "--model", str(tiny_model_path)]) == 2
    _photo(tmp_path / "x.png")
    assert main(["restore", str(tmp_path / "x.png"), "-o", str(tmp_path / "o"), "--model", "no-such-model"]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "x.png"), "-o", str(tmp_path / "o"), "--model", str(tiny_model_path),
                 "--steps", "0"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["restore", "-o", str(tmp_path / "o")])  # no photo named
    assert exc.value.code == 2


def test_missing_input_counts_as_failure(tmp_path, tiny_model_path, capsys):
    code = main(["restore", str(tmp_path / "nope.jpg"), "-o", str(tmp_path / "o"), "--model", str(tiny_model_path)])
    assert code == 1 and "nope.jpg" in capsys.readouterr().err


def test_models_import_list_and_info(golden, tmp_path, capsys):
    assert main(["models", "import", str(golden / "T_trainer_checkpoint.pt"), "--name", "t-official"]) == 0
    assert "Imported DiffUIR-T as 't-official'" in capsys.readouterr().out
    assert main(["models", "--json", "import", str(golden / "T_trainer_checkpoint.pt"), "--name", "t-json"]) == 0
    imported = json.loads(capsys.readouterr().out)  # (what the GUI's Models dialog reads)
    assert (imported["name"], imported["variant"], imported["origin"]) == ("t-json", "T", "user")
    import zipfile

    with zipfile.ZipFile(tmp_path / "shared.zip", "w") as archive:  # (which file of a zip: said)
        archive.write(golden / "T_trainer_checkpoint.pt", "DiffUIR-T/model-130.pt")
    assert main(["models", "import", str(tmp_path / "shared.zip")]) == 0
    assert capsys.readouterr().out.rstrip().endswith(".safetensors, model-130.pt from the archive)")
    assert main(["models", "remove", "t-json"]) == 0 and capsys.readouterr().out.startswith("Removed 't-json' (")
    assert main(["models", "remove", "t-json"]) == 1 and "No imported model is named 't-json'" in capsys.readouterr().err
    assert main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert any(m["name"] == "t-official" and m["variant"] == "T" and m["notes"] == {} for m in listed)
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    for m in listed:  # each model's task notes (the bundled one's: it does not sharpen) under its line
        assert all(f"    {task}: {note}" in text for task, note in m["notes"].items())
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"junk")
    assert main(["models", "import", str(bad)]) == 1
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["devices"][0]["id"] == "cpu" and info["torch"].startswith("2.")
    assert main(["convert", str(golden / "T_random_weights.pt"), str(tmp_path / "t.safetensors")]) == 0


def test_a_model_folder_that_cannot_be_written_gets_a_message_not_a_traceback(golden, tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "data"
    blocked.write_text("a file where the data folder should be")
    monkeypatch.setenv("HOURGLASS_MODELS_DIR", str(blocked / "models"))
    assert main(["models", "import", str(golden / "T_random_weights.pt"), "--name", "t"]) == 1
    err = capsys.readouterr().err
    assert f"The model could not be saved in {blocked / 'models'}: Not a directory." in err and "Traceback" not in err
    assert main(["convert", str(golden / "T_random_weights.pt"), str(blocked / "t.safetensors")]) == 1
    assert f"The model could not be saved in {blocked}" in capsys.readouterr().err


def test_ctrl_c_sets_the_cancel_token_even_when_the_interrupt_is_swallowed():
    """A KeyboardInterrupt can be lost (raised in a finaliser or callback); the token still stops the job."""
    from engine.cli.restore import _cancel_on_sigint
    from engine.sampler import CancelToken

    token = CancelToken()
    before = signal.getsignal(signal.SIGINT)
    with _cancel_on_sigint(token):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)  # the handler runs between bytecodes; give it the chance
        except KeyboardInterrupt:
            pass  # swallowed, as a finaliser would
        assert token.cancelled
    assert signal.getsignal(signal.SIGINT) is before


def test_ctrl_c_stops_cleanly_and_leaves_no_file(tmp_path, tiny_model_path):
    _photo(tmp_path / "big.png", size=(96, 96))
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "restore", str(tmp_path / "big.png"), "-o", str(out), "--model",
         str(tiny_model_path), "--steps", "300", "--tile", "48"],
        stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    for line in proc.stderr:  # wait until the restore has started
        lines.append(line)
        if line.startswith("[1/1]"):
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, "".join(lines) + rest
    assert "Interrupted" in rest
    assert not out.exists() or not any(out.iterdir())


def test_device_takes_one_gpu_of_several_and_refuses_what_is_not_a_device(tmp_path, capsys):
    import torch

    from engine.cli import EXIT_USAGE

    photo = tmp_path / "p.png"
    Image.fromarray(np.full((16, 16, 3), 80, np.uint8)).save(photo)
    with pytest.raises(SystemExit) as exit_:
        main(["restore", str(photo), "-o", str(tmp_path / "out"), "--device", "tpu"])
    assert exit_.value.code == EXIT_USAGE and "'tpu' is not a device" in capsys.readouterr().err
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    code = main(["restore", str(photo), "-o", str(tmp_path / "out"), "--device", "cuda:1"])
    assert code == EXIT_USAGE and "No CUDA GPU is available" in capsys.readouterr().err


def test_version_and_the_help_says_how_to_open_the_window(capsys):
    from engine import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"hourglass {__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "opens the window" in capsys.readouterr().out


def test_an_output_that_is_a_file_and_a_model_that_is_a_folder_are_refused_at_once(tmp_path, capsys):
    from engine.cli import EXIT_USAGE

    photo = tmp_path / "p.png"
    Image.fromarray(np.full((16, 16, 3), 80, np.uint8)).save(photo)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    assert main(["restore", str(photo), "-o", str(blocker)]) == EXIT_USAGE
    assert "is a file; give a folder" in capsys.readouterr().err and blocker.read_text() == "x"
    assert main(["models", "import", str(tmp_path)]) == 1
    assert "is a folder; give the checkpoint file inside it" in capsys.readouterr().err
    if os.path.exists(os.devnull) and os.name == "posix":  # a device is not a missing file (it said "does not exist")
        assert main(["models", "import", os.devnull]) == 1
        assert f"'{os.devnull}' is not a file (a pipe or a device)" in capsys.readouterr().err


def test_two_camera_folders_with_the_same_file_names_do_not_collide(tmp_path, tiny_model_path, capsys):
    card = tmp_path / "DCIM"
    for folder, seed in (("100CANON", 0), ("101CANON", 1)):
        (card / folder).mkdir(parents=True)
        _photo(card / folder / "IMG_0001.JPG", seed=seed)
    single = _photo(tmp_path / "IMG_0001.png", seed=2)  # a photo named directly goes to the top
    out = tmp_path / "out"
    code = main(["restore", str(card), str(single), "-o", str(out), "--model", str(tiny_model_path), "--steps", "1"])
    assert code == 0 and "Restored 3 of 3" in capsys.readouterr().err
    assert _tree(out) == ["100CANON/IMG_0001.JPG", "101CANON/IMG_0001.JPG", "IMG_0001.png"]


def test_strength_keeps_part_of_the_original(tmp_path, tiny_model_path, capsys):
    """--strength 0 gives the original back, 50 the mean of original and restoration, 16 bits kept."""
    rng = np.random.default_rng(3)
    src = tmp_path / "in.png"
    pixels = rng.integers(0, 65536, (24, 32, 3), dtype=np.uint16)
    import cv2

    cv2.imwrite(str(src), pixels)
    outs = {}
    for strength in ("100", "50%", "0"):
        out = tmp_path / strength.rstrip("%")
        assert main(["restore", str(src), "-o", str(out), "--model", str(tiny_model_path), "--steps", "1",
                     "--task", "haze", "--strength", strength]) == 0
        outs[strength] = cv2.imread(str(out / "in.png"), cv2.IMREAD_UNCHANGED).astype(np.int64)
    assert (outs["0"] == pixels).all()
    assert capsys.readouterr().err.count("Strength 0%: the original was saved as it is; nothing was restored") == 1
    assert not (outs["100"] == pixels).all()
    assert np.abs(outs["50%"] - (outs["100"] + pixels) / 2).max() <= 1
    for bad in ("150", "half"):
        with pytest.raises(SystemExit):
            main(["restore", str(src), "-o", str(tmp_path / "x"), "--strength", bad])
    assert "between 0 and 100" in capsys.readouterr().err


def test_without_an_output_folder_results_go_beside_each_photo_as_in_the_app(photos, tmp_path, tiny_model_path,
                                                                              capsys):
    """`restored/` beside each photo, a sub-folder's photos in the sub-folder's own; a second run, with or
    without -o, finds them kept or passes over the `restored` folders rather than restoring the results."""
    single = _photo(tmp_path / "single.png", seed=4)
    args = ["restore", str(photos), str(single), "--model", str(tiny_model_path), "--steps", "1", "--task", "haze"]
    assert main(args) == 0
    assert _tree(photos) == ["a.png", "notes.txt", "restored/a.png", "sub/b.jpg", "sub/restored/b.jpg"]
    assert (tmp_path / "restored" / "single.png").is_file()
    assert "Restored 3 of 3" in capsys.readouterr().err
    assert main(args) == 0
    assert "3 kept from an earlier run" in capsys.readouterr().err
    out = tmp_path / "elsewhere"
    assert main(["restore", str(photos), "-o", str(out), "--model", str(tiny_model_path), "--steps", "1",
                 "--task", "haze"]) == 0
    assert _tree(out) == ["a.png", "sub/b.jpg"]  # the first run's results are not inputs


def test_a_second_run_does_not_restore_the_first_runs_results(tmp_path, tiny_model_path, capsys):
    """The output folder inside the input folder, and macOS's hidden `._` companions, are not inputs."""
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    _photo(shoot / "a.png")
    (shoot / "._a.png").write_bytes(b"\x00\x05\x16\x07AppleDouble")  # not a photo: it would fail
    (shoot / ".cache").mkdir()
    _photo(shoot / ".cache" / "thumb.png")
    args = ["restore", str(shoot), "-o", str(shoot / "out"), "--model", str(tiny_model_path), "--steps", "1",
            "--task", "haze"]
    assert main(args) == 0
    assert main(args + ["--overwrite"]) == 0
    assert _tree(shoot / "out") == ["a.png"]
    err = capsys.readouterr().err
    assert err.count("Restored 1 of 1") == 2 and "._a.png" not in err
    assert main(["restore", str(shoot / "._a.png"), "-o", str(tmp_path / "o"), "--model", str(tiny_model_path)]) == 1


def test_images_it_cannot_open_in_a_folder_are_named_and_do_not_fail_the_run(tmp_path, tiny_model_path, capsys):
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    _photo(shoot / "a.png")
    for name in ("loop.gif", "edit.psd", "edit.PSD.xmp", "clip.mp4"):  # sidecars and videos: not a word
        (shoot / name).write_bytes(b"x")
    assert main(["restore", str(shoot), "-o", str(tmp_path / "out"), "--model", str(tiny_model_path),
                 "--steps", "1", "--task", "haze"]) == 0
    err = capsys.readouterr().err
    assert f"note: {shoot}: passed over 2 files Hourglass cannot open (1 GIF, 1 PSD)" in err
    assert "Restored 1 of 1" in err and "xmp" not in err.lower()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes and these links are POSIX")
def test_a_folder_of_links_to_a_missing_drive_says_so(tmp_path, tiny_model_path, capsys):
    """Links into an unmounted drive (and a pipe named like a photo) are not photos to restore, but a folder
    of them must not come back as only "no supported photos": the note says what was there."""
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    for name in ("IMG_1.jpg", "IMG_2.CR3"):
        (shoot / name).symlink_to(tmp_path / "unmounted" / name)
    os.mkfifo(shoot / "pipe.png")
    assert main(["restore", str(shoot), "-o", str(tmp_path / "out"), "--model", str(tiny_model_path)]) == 2
    err = capsys.readouterr().err
    assert f"note: {shoot}: passed over 2 links to missing files, 1 pipe or device named as photos" in err
    assert f"{shoot}: no supported photos in this folder" in err
    assert not (tmp_path / "out").exists() or _tree(tmp_path / "out") == []


def test_photos_that_differ_only_by_extension_get_their_own_results(tmp_path, tiny_model_path, capsys):
    """IMG_1.jpg and IMG_1.png with --format png both make IMG_1.png: the second is saved as
    IMG_1 (1).png, not refused as existing nor, with --overwrite, written over the first's result."""
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    _photo(shoot / "IMG_1.jpg", seed=1)
    _photo(shoot / "IMG_1.png", seed=2)
    args = ["restore", str(shoot), "-o", str(tmp_path / "out"), "--model", str(tiny_model_path), "--steps", "1",
            "--task", "haze", "--format", "png"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert _tree(tmp_path / "out") == ["IMG_1 (1).png", "IMG_1.png"]
    assert "IMG_1.jpg makes IMG_1.png in this run, so this one is saved as IMG_1 (1).png" in err
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert main(args + ["--overwrite"]) == 0  # a rerun replaces the same two files
    assert _tree(tmp_path / "out") == ["IMG_1 (1).png", "IMG_1.png"]
    assert before["IMG_1.png"] != before["IMG_1 (1).png"]  # two photos, two results


def test_a_restored_photo_says_which_program_made_it_and_keeps_the_camera_tags(tmp_path, tiny_model_path):
    from engine import __version__

    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Hourglass Camera Co.", "HG-1", "Firmware 1.10"
    Image.fromarray(np.full((32, 40, 3), 90, np.uint8)).save(tmp_path / "shot.jpg", exif=exif.tobytes())
    Image.fromarray(np.full((32, 40, 3), 90, np.uint8)).save(tmp_path / "plain.png")  # no EXIF at all
    assert main(["restore", str(tmp_path / "shot.jpg"), str(tmp_path / "plain.png"), "-o", str(tmp_path / "out"),
                 "--model", str(tiny_model_path), "--steps", "1", "--task", "haze"]) == 0
    with Image.open(tmp_path / "out" / "shot.jpg") as im:
        tags = im.getexif()
        assert (tags[0x010F], tags[0x0110], tags[0x0131]) == ("Hourglass Camera Co.", "HG-1", f"Hourglass {__version__}")
    with Image.open(tmp_path / "out" / "plain.png") as im:
        assert im.getexif()[0x0131] == f"Hourglass {__version__}"


def test_jpeg_quality(tmp_path, tiny_model_path, capsys):
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path / "noisy.jpg", quality=98)
    sizes = {}
    for q in (60, 100):
        out = tmp_path / f"q{q}"
        assert main(["restore", str(tmp_path / "noisy.jpg"), "-o", str(out), "--model", str(tiny_model_path),
                     "--steps", "1", "--task", "haze", "--jpeg-quality", str(q)]) == 0
        sizes[q] = (out / "noisy.jpg").stat().st_size
    assert sizes[60] < sizes[100] * 0.7
    for bad in ("0", "101", "high"):
        with pytest.raises(SystemExit):
            main(["restore", str(tmp_path / "noisy.jpg"), "-o", str(tmp_path / "x"), "--jpeg-quality", bad])
    assert "--jpeg-quality" in capsys.readouterr().err


def test_a_long_batch_lists_its_failures_again_at_the_end(tmp_path, tiny_model_path, capsys):
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    for i in range(10):
        _photo(shoot / f"p{i:02d}.png", size=(24, 20), seed=i)
    (shoot / "broken1.jpg").write_bytes(b"\xff\xd8\xff" + bytes(40))
    (shoot / "broken2.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    assert main(["restore", str(shoot), "-o", str(tmp_path / "out"), "--model", str(tiny_model_path), "--steps", "1",
                 "--task", "haze"]) == 1
    tail = capsys.readouterr().err.split("Failed:\n", 1)[1].splitlines()
    assert tail[0].startswith(f"  {shoot / 'broken1.jpg'}: ") and tail[1].startswith(f"  {shoot / 'broken2.png'}: ")
    assert tail[2] == "Restored 10 of 12 photos in " + tail[2].split(" in ")[1] and tail[2].endswith("; 2 failed")


def test_an_unsure_detection_names_the_next_guess():
    """Skipped as fine at 45% with rain at 40%: the log says so, and how to restore it as rain."""
    from types import SimpleNamespace

    from engine.cli.restore import detected_text, next_guess

    unsure = SimpleNamespace(task="none", confidence=0.45, scores={"none": 0.45, "rain": 0.4, "snow": 0.15})
    sure = SimpleNamespace(task="none", confidence=0.93, scores={"none": 0.93, "haze": 0.07})
    assert detected_text(unsure) == "detected none 45%, unsure; next: rain 40%" and next_guess(unsure) == "rain"
    assert detected_text(sure) == "detected none 93%" and next_guess(sure) is None
    assert detected_text(SimpleNamespace(task="haze", confidence=None, scores={})) == ""  # the user's choice


def test_a_result_name_too_long_for_the_disk_fails_at_once_and_clearly(tmp_path, tiny_model_path, capsys):
    """A 245-character photo name plus a suffix makes a name no disk takes: it failed after restoring the
    photo with "File name too long", and a second run crashed with a traceback (checking whether it existed)."""
    photo = _photo(tmp_path / ("a" * 245 + ".png"))
    out = tmp_path / "out"
    out.mkdir()
    args = ["restore", str(photo), "-o", str(out), "--model", str(tiny_model_path), "--steps", "1", "--task", "haze",
            "--suffix", "_restored_v2"]
    for _run in range(2):
        assert main(args) == 1
        err = capsys.readouterr().err
        assert "is too long to save (261 bytes; disks allow 255)" in err and "Traceback" not in err
    assert list(out.iterdir()) == []


def test_a_transparent_photo_saved_as_jpeg_is_flattened_onto_white_and_says_so(tmp_path, tiny_model_path, capsys):
    rgba = np.zeros((24, 24, 4), np.uint8)
    rgba[..., 1] = 200
    rgba[:, :12, 3] = 255  # the right half transparent (black under it)
    Image.fromarray(rgba).save(tmp_path / "cut-out.png")
    assert main(["restore", str(tmp_path / "cut-out.png"), "-o", str(tmp_path / "out"), "--model",
                 str(tiny_model_path), "--steps", "1", "--task", "haze", "--format", "jpeg"]) == 0
    assert '"cut-out.png" has transparent parts; JPEG cannot hold them, so they are white' in capsys.readouterr().err
    with Image.open(tmp_path / "out" / "cut-out.jpg") as im:
        assert min(im.getpixel((20, 12))) >= 250


def test_an_unwritable_output_fails_before_restoring(tmp_path, tiny_model_path, capsys, monkeypatch):
    """A read-only card or a file in the way is reported at once, not after the photo was restored."""
    import engine.api

    def never(*args, **kwargs):
        raise AssertionError("restored although the result could not be saved")

    monkeypatch.setattr(engine.api, "restore_array", never)
    _photo(tmp_path / "a.png")
    (tmp_path / "blocker").write_text("x")
    code = main(["restore", str(tmp_path / "a.png"), "-o", str(tmp_path / "blocker" / "out"), "--model",
                 str(tiny_model_path), "--task", "haze"])
    assert code == 1 and "is a file, not a folder" in capsys.readouterr().err


def test_no_location_and_no_record_make_results_for_sharing_also_when_saved_again(tmp_path, tiny_model_path,
                                                                                   capsys):
    """--no-location, --no-record, and `info` saying where a result was taken, to check it before sharing."""
    from engine.imaging import read_provenance
    from tests.test_imaging import make_exif

    exif = make_exif()
    exif.get_ifd(0x8825).update({3: "W", 4: (2.0, 17.0, 24.0)})  # 48°51'30" N, 2°17'24" W
    Image.new("RGB", (48, 40), (90, 120, 60)).save(tmp_path / "phone.jpg", exif=exif)
    restore = ["restore", str(tmp_path / "phone.jpg"), "--model", str(tiny_model_path), "--steps", "1", "--task",
               "haze"]
    for flags, folder in (([], "kept"), (["--no-location", "--no-record"], "shared")):
        assert main([*restore, "-o", str(tmp_path / folder), *flags]) == 0
    assert main([*restore, "-o", str(tmp_path / "kept"), "--again", "--strength", "50", "--no-location"]) == 0
    for result, place, recorded in (("kept/phone.jpg", True, True), ("shared/phone.jpg", False, False),
                                    ("kept/phone (1).jpg", False, True)):
        with Image.open(tmp_path / result) as img:
            assert bool(img.getexif().get_ifd(0x8825)) is place and img.getexif()[0x0110] == "HG-1", result
        assert bool(read_provenance(tmp_path / result)) is recorded, result
    capsys.readouterr()
    assert main(["info", str(tmp_path / "kept/phone.jpg"), str(tmp_path / "phone.jpg")]) == 1  # the photo: no record
    out = capsys.readouterr().out
    assert out.count("  Location        48.85833° N, 2.29000° W (GPS in its EXIF; --no-location leaves them out)") == 2
    assert main(["info", str(tmp_path / "shared/phone.jpg"), "--json"]) == 1  # records nothing, by request
    line = json.loads(capsys.readouterr().out)
    assert line["location"] is None and line["recorded"] == {}
    assert main(["info", str(tmp_path / "kept/phone (1).jpg")]) == 0
    assert "  Location        none (no GPS coordinates)" in capsys.readouterr().out
    assert main(["info", str(tmp_path / "kept"), "--json"]) == 0  # a folder of results: each of them
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(Path(x["path"]).name for x in lines) == ["phone (1).jpg", "phone.jpg"]
    assert main(["info", str(tmp_path / "nothing here")]) == 1



def test_info_opens_each_result_once(tmp_path, tiny_model_path, monkeypatch, capsys):
    """`hourglass info` opened a result three times (its record, its History, its location); a folder of
    large TIFFs on a network drive paid it three times over. One opening gives the same three answers."""
    from PIL import Image as PILImage

    from engine.imaging import read_history, read_location, read_provenance, read_result_notes
    from tests.test_imaging import make_exif

    exif = make_exif()
    exif.get_ifd(0x8825).update({3: "W", 4: (2.0, 17.0, 24.0)})
    Image.new("RGB", (48, 40), (90, 120, 60)).save(tmp_path / "phone.jpg", exif=exif)
    assert main(["restore", str(tmp_path / "phone.jpg"), "--model", str(tiny_model_path), "--steps", "1", "--task",
                 "haze", "-o", str(tmp_path / "out")]) == 0
    result = tmp_path / "out" / "phone.jpg"
    record, history, location = read_result_notes(result)
    assert record and history and location  # (all three there, so each reader has something to find)
    assert (record, history, location) == (read_provenance(result), read_history(result), read_location(result))
    opened, real = [], PILImage.open
    monkeypatch.setattr(PILImage, "open", lambda fp, *a, **k: opened.append(Path(fp).name) or real(fp, *a, **k))
    capsys.readouterr()
    assert main(["info", str(result)]) == 0
    assert opened == ["phone.jpg"]
    assert "Task" in capsys.readouterr().out


def test_srgb_saves_a_wide_gamut_photo_in_srgb(tmp_path, tiny_model_path):
    from PIL import ImageCms

    from engine.icc_profiles import adobe_rgb_profile

    Image.new("RGB", (48, 40), (90, 120, 60)).save(tmp_path / "dslr.jpg", icc_profile=adobe_rgb_profile())
    for flags, expected in (([], "Adobe RGB"), (["--srgb"], "sRGB")):
        out = tmp_path / ("web" if flags else "same")
        assert main(["restore", str(tmp_path / "dslr.jpg"), "-o", str(out), "--model", str(tiny_model_path),
                     "--steps", "1", "--task", "haze", *flags]) == 0
        with Image.open(out / "dslr.jpg") as result:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(result.info["icc_profile"]))
            assert ImageCms.getProfileDescription(profile).startswith(expected)



def test_again_saves_each_result_again_at_a_lower_strength_from_the_strength_it_records(photos, tiny_model_path,
                                                                                        capsys):
    """--again: the app's Save at N% from the command line, with no model loaded; a second run keeps what
    the first made; results that cannot be toned down are named, the others saved."""
    restore = ["restore", str(photos), "--model", str(tiny_model_path), "--steps", "1", "--task", "haze"]
    assert main([*restore, "--strength", "80"]) == 0
    capsys.readouterr()
    assert main(["restore", str(photos), "--strength", "50", "--again", "--json"]) == 0
    out, err = capsys.readouterr()
    assert _tree(photos) == ["a.png", "notes.txt", "restored/a (1).png", "restored/a.png",
                             "sub/b.jpg", "sub/restored/b (1).jpg", "sub/restored/b.jpg"]
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(x["status"], x["strength"], x["from_strength"]) for x in lines] == [("saved_again", 0.5, 0.8)] * 2
    assert "Saved 2 of 2 results again at 50% strength" in err
    from engine.imaging import read_provenance
    assert read_provenance(photos / "restored" / "a (1).png")["Strength"] == "0.5"
    original = np.asarray(Image.open(photos / "a.png"), np.float64)
    first = np.asarray(Image.open(photos / "restored" / "a.png"), np.float64)
    again = np.asarray(Image.open(photos / "restored" / "a (1).png"), np.float64)
    assert np.abs(again - (original + (0.5 / 0.8) * (first - original))).max() <= 1  # rounding only

    assert main(["restore", str(photos), "--strength", "50", "--again"]) == 0  # nothing made twice
    assert "kept   " in capsys.readouterr().err and len(_tree(photos)) == 7
    assert main(["restore", str(photos), "--strength", "90", "--again"]) == 1
    assert "saved at 80% strength and holds too little" in capsys.readouterr().err
    (photos / "restored" / "a.png").unlink()
    Image.open(photos / "sub" / "b.jpg").save(photos / "sub" / "restored" / "b.jpg")  # not saved by Hourglass
    assert main(["restore", str(photos), "--strength", "30", "--again"]) == 1
    err = capsys.readouterr().err
    assert "no result at" in err and "does not record the strength" in err and len(_tree(photos)) == 6


@pytest.mark.parametrize("extra, said", [(["--strength", "60", "--overwrite"], "drop --overwrite"),
                                         ([], "give --strength")])
def test_again_is_refused_without_a_lower_strength_or_with_overwrite(photos, capsys, extra, said):
    assert main(["restore", str(photos), "--again", *extra]) == 2
    assert said in capsys.readouterr().err


def test_a_kept_result_of_a_photo_changed_since_says_so(photos, tiny_model_path, capsys):
    """Edited after its batch (exported over from an editor): the rerun keeps the result, as it keeps any,
    but says it was made from another version of the photo and how to restore it again."""
    restore = ["restore", str(photos), "--model", str(tiny_model_path), "--steps", "1", "--task", "haze", "--json"]
    assert main(restore) == 0
    capsys.readouterr()
    Image.open(photos / "a.png").rotate(180).save(photos / "a.png")
    assert main(restore) == 0
    out, err = capsys.readouterr()
    assert "note: a.png was made from another version of a.png (changed since); --overwrite restores" in err
    lines = {Path(x["path"]).name: x for x in map(json.loads, out.splitlines())}
    assert lines["a.png"]["status"] == "kept" and "another version" in lines["a.png"]["notes"][0]
    assert "notes" not in lines["b.jpg"]  # unchanged: kept without a word


def test_info_tells_how_each_result_was_made_and_which_files_record_nothing(photos, tiny_model_path, capsys):
    assert main(["restore", str(photos / "a.png"), "--model", str(tiny_model_path), "--steps", "1", "--task", "rain",
                 "--strength", "70", "--seed", "3"]) == 0
    assert main(["restore", str(photos / "a.png"), "--again", "--strength", "35"]) == 0
    capsys.readouterr()
    again = photos / "restored" / "a (1).png"
    assert main(["info", str(again)]) == 0
    out = capsys.readouterr().out
    assert "  Task            rain" in out and "  Strength        0.35" in out and "  Seed            3" in out
    assert "restored a.png as rain (chosen)" in out
    assert "saved a.png again at strength 35% from a.png (saved at 70%)" in out
    assert main(["info", str(photos / "a.png"), str(photos / "gone.png"), "--json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [x["recorded"] for x in lines] == [{}, {}]
    assert main(["info", str(again), "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["recorded"]["Photo"] == "a.png" and len(line["history"]) == 2


def test_copy_makes_results_in_another_form_from_the_results_and_finds_their_photos_by_the_record(
        tmp_path, tiny_model_path, capsys):
    """`hourglass copy restored/ --format jpeg --suffix _web --no-location --no-record`: web copies of TIFF
    results, each blended over the photo its record names (found above `restored/`), no model loaded."""
    import shutil

    from engine.imaging import read_location, read_provenance
    from tests.test_imaging import make_exif

    shoot = tmp_path / "shoot"
    shoot.mkdir()
    Image.new("RGB", (48, 40), (90, 120, 60)).save(shoot / "p.jpg", exif=make_exif())
    Image.new("RGB", (40, 32), (150, 90, 40)).save(shoot / "q.jpg")
    assert main(["restore", str(shoot), "--model", str(tiny_model_path), "--steps", "1", "--task", "haze",
                 "--format", "tiff", "--strength", "80"]) == 0
    restored = shoot / "restored"
    web = ["copy", str(restored), "--format", "jpeg", "--suffix", "_web", "--no-location", "--no-record", "--json"]
    capsys.readouterr()
    assert main(web) == 0
    lines = {Path(x["path"]).name: x for x in map(json.loads, capsys.readouterr().out.splitlines())}
    assert {k: v["status"] for k, v in lines.items()} == {"p.tif": "copied", "q.tif": "copied"}
    assert lines["p.tif"]["photo"] == str(shoot / "p.jpg") and lines["p.tif"]["strength"] == 0.8
    copy = restored / "p_web.jpg"
    assert Image.open(copy).format == "JPEG" and read_provenance(copy) == {} and read_location(copy) is None
    assert read_location(restored / "p.tif") is not None  # the result itself is untouched
    assert main(web) == 0  # a rerun keeps what the first made
    assert {x["status"] for x in map(json.loads, capsys.readouterr().out.splitlines())} == {"kept"}

    assert main(["copy", str(restored), "--format", "png"]) == 0  # no suffix, recorded: p.png, q.png beside them
    capsys.readouterr()
    assert main(["copy", str(restored), "--format", "png", "--json"]) == 0  # p.png is a copy: not copied again
    out = capsys.readouterr()
    assert {x["status"] for x in map(json.loads, out.out.splitlines())} == {"kept"}
    assert "passed over 2 that record nothing and 2 copies in the folders" in out.err
    assert main(["copy", str(restored / "p.tif"), "--strength", "90"]) == 1  # more than the result holds
    assert main(["copy", str(restored / "p.tif"), "--format", "tiff"]) == 1  # the result itself
    assert main(["copy", str(copy)]) == 1  # a copy made with --no-record records nothing
    err = capsys.readouterr().err
    assert "holds too little of the restoration for 90%" in err and "would be p.tif itself" in err
    assert "records nothing of how it was made" in err

    elsewhere = tmp_path / "archive"
    shutil.move(restored, elsewhere)  # the results moved away from their photos
    assert main(["copy", str(elsewhere / "q.tif"), "--suffix", "_2"]) == 1
    assert "--photos DIR says where it is" in capsys.readouterr().err
    assert main(["copy", str(elsewhere / "q.tif"), "--suffix", "_2", "--photos", str(shoot)]) == 0
    assert (elsewhere / "q_2.jpg").exists()  # (as the photo: a JPEG)
    (shoot / "q.jpg").write_bytes((shoot / "p.jpg").read_bytes())  # another photo under its name
    assert main(["copy", str(elsewhere / "q.tif"), "--suffix", "_3", "--photos", str(shoot)]) == 1


def _watching(tmp_path, model, interval: float):
    """`hourglass restore tether --watch -o out` started on a folder holding first.png, looking every
    `interval` seconds; its stderr is piped."""
    tether = tmp_path / "tether"
    tether.mkdir()
    _photo(tether / "first.png")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONUNBUFFERED="1", HOURGLASS_WATCH_INTERVAL_S=str(interval))
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "restore", str(tether), "--watch", "-o", str(out), "--model",
         str(model), "--quality", "fast"], stderr=subprocess.PIPE, text=True, env=env)
    return tether, out, proc


def _lines_until_watching(proc) -> list[str]:
    """The lines of stderr up to the one that says the folder is now watched."""
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("Watching"):
            break
    return lines


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_command_that_crashes_says_where(tmp_path, tiny_model_path):
    """A segfault in torch or a library ended a command with no word on where it happened."""
    _tether, _out, proc = _watching(tmp_path, tiny_model_path, 0.3)
    _lines_until_watching(proc)
    proc.send_signal(signal.SIGSEGV)
    rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == -signal.SIGSEGV
    assert "Fatal Python error: Segmentation fault" in rest and 'engine/cli/watch.py", line' in rest, rest


def test_restore_watch_restores_what_is_there_then_what_arrives_once_whole(tmp_path, tiny_model_path):
    """`hourglass restore FOLDER --watch`: the folder's photos first (an empty folder is no problem: the
    photos will arrive), then each photo that arrives, once its size and time are unchanged between two
    looks (not while it is written); Ctrl+C while it waits ends the run normally, with the summary."""
    tether, out, proc = _watching(tmp_path, tiny_model_path, 0.3)
    lines = _lines_until_watching(proc)
    assert (out / "first.png").is_file(), "".join(lines)
    arriving = tether / "sub" / "second.png"
    arriving.parent.mkdir()
    with arriving.open("wb") as fh:  # written in pieces, faster than the looks
        for _ in range(12):
            fh.write(b"\x89PNG" * 8)
            fh.flush()
            time.sleep(0.1)
            assert not (out / "sub" / "second.png").exists()
    _photo(arriving, seed=4)  # now whole
    deadline = time.time() + 60
    while not (out / "sub" / "second.png").is_file() and time.time() < deadline:
        time.sleep(0.1)
    assert (out / "sub" / "second.png").is_file()  # the folder's tree mirrored, as for the first run
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == 0, "".join(lines) + rest
    assert "Stopped watching" in rest and "Restored 2 of 2 photos" in rest
    assert "FAILED" not in rest and not (out / "sub" / "second (1).png").exists()  # taken once


def test_restore_watch_takes_a_photo_again_when_it_is_written_again(tmp_path, tiny_model_path):
    """--watch: a copy read half-way (its writer stalled longer than two looks) fails, and is restored once
    it is finished, which then counts as restored; a photo exported again under its name is kept with a
    note that its result is of the earlier version (nothing is overwritten without --overwrite)."""
    tether, _out, proc = _watching(tmp_path, tiny_model_path, 0.2)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()
    looked = 0

    def wait_for(text: str) -> None:
        """Until a line after the ones looked at says `text` (a minute at most)."""
        nonlocal looked
        deadline = time.time() + 60
        while time.time() < deadline:
            hit = next((k for k in range(looked, len(lines)) if text in lines[k]), None)
            if hit is not None:
                looked = hit + 1
                return
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never came:\n" + "".join(lines))

    try:
        wait_for("Watching")
        whole = _photo(tmp_path / "whole.png", seed=5).read_bytes()
        late = tether / "late.png"
        late.write_bytes(whole[: len(whole) // 2])  # ... and the writer stalls
        wait_for("FAILED")
        late.write_bytes(whole)  # finished
        wait_for(f"ok     {late}")
        _photo(tether / "first.png", seed=9)  # exported again
        wait_for(f"kept   {tether / 'first.png'}")
        wait_for("made from another version of first.png")
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        reader.join(timeout=10)
    rest = "".join(lines)
    assert proc.returncode == 0, rest  # the failure was mended
    # (each photo counted once, by its last outcome)
    assert "Restored 1 of 2 photos" in rest and "1 kept from an earlier run" in rest and "failed" not in rest


def test_restore_skips_a_result_hourglass_saved_unless_a_task_is_chosen(tmp_path, tiny_model_path, capsys):
    """A result added again (or a photo that holds its result) would be restored twice: skipped, saying how
    it was made, and counted apart from photos that look fine; --task restores it again."""
    photo = _photo(tmp_path / "p.png")
    assert main(["restore", str(photo), "-o", str(tmp_path / "out"), "--model", str(tiny_model_path), "--steps",
                 "1", "--task", "haze"]) == 0
    result = tmp_path / "out" / "p.png"
    capsys.readouterr()
    assert main(["restore", str(result), "-o", str(tmp_path / "again"), "--model", str(tiny_model_path),
                 "--steps", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert f"skip   {result}: a result Hourglass saved, not restored again (--task TASK or --restore-clean " \
           "restores it): restored p.png as haze (chosen) with tiny-t, 1 evaluation" in captured.err
    assert "Restored 0 of 1 photo" in captured.err and "1 already restored by Hourglass (not restored again)" \
        in captured.err and "already fine" not in captured.err
    line = json.loads(captured.out)
    assert line["status"] == "skipped" and line["already_restored"].startswith("restored p.png as haze")
    assert not (tmp_path / "again").exists()  # (no folder made for nothing)
    assert main(["restore", str(result), "-o", str(tmp_path / "again"), "--model", str(tiny_model_path),
                 "--steps", "1", "--task", "rain"]) == 0
    assert (tmp_path / "again" / "p.png").is_file()


def test_restore_watch_needs_a_folder(tmp_path, capsys):
    from engine.cli import EXIT_USAGE

    photo = _photo(tmp_path / "p.png")
    assert main(["restore", str(photo), "--watch"]) == EXIT_USAGE
    assert "--watch watches folders" in capsys.readouterr().err
