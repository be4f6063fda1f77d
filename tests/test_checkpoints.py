"""Every accepted weight layout loads; everything else is refused with a message that says why."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from model_helpers import random_state_dict

from engine.checkpoints import FORMAT_TAG, convert_checkpoint, detect_variant, read_checkpoint, read_metadata
from engine.errors import ModelInvalidError, ModelNotFoundError, OutputExistsError
from engine.network import VARIANTS, expected_shapes


def _save(obj, path):
    torch.save(obj, path)
    return path


@pytest.fixture(scope="module")
def sd_t():
    return random_state_dict("T", seed=3)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_detected_from_shapes(variant):
    sd = {k: torch.zeros(s) for k, s in expected_shapes(VARIANTS[variant]).items()}
    assert detect_variant(sd)[0] == variant


def test_bare_state_dict_with_and_without_prefix(tmp_path, sd_t):
    a = read_checkpoint(_save(sd_t, tmp_path / "weird-name-L.pth"))
    assert a.variant == "T" and a.source == "state_dict" and _same(a.state_dict, sd_t)
    bare = {k.removeprefix("unet0."): v for k, v in sd_t.items()}
    b = read_checkpoint(_save(bare, tmp_path / "bare.pt"))
    assert _same(b.state_dict, sd_t)


def test_official_trainer_checkpoint_ema_and_raw(golden):
    ema = read_checkpoint(golden / "T_trainer_checkpoint.pt")
    raw = read_checkpoint(golden / "T_trainer_checkpoint.pt", use_ema=False)
    assert (ema.source, raw.source) == ("ema", "raw")
    assert ema.parameters == raw.parameters == 886_435
    assert not _same(ema.state_dict, raw.state_dict)


def test_diffusion_wrapper_state_dict(tmp_path, sd_t):
    wrapped = {"alphas_cumsum": torch.zeros(1000), "delta": torch.zeros(1000)}
    wrapped.update({"model." + k: v for k, v in sd_t.items()})
    ck = read_checkpoint(_save(wrapped, tmp_path / "wrapper.pt"))
    assert _same(ck.state_dict, sd_t)


def test_other_variant_file_round_trip(tmp_path):
    sd = random_state_dict("S", seed=1)
    path = _save(sd, tmp_path / "model-300.pt")
    dst = tmp_path / "s.safetensors"
    ck = convert_checkpoint(path, dst)
    assert ck.variant == "S" and ck.parameters == 3_268_643
    assert _same(read_checkpoint(dst).state_dict, sd)


def test_converter_writes_metadata_and_never_overwrites(tmp_path, golden):
    dst = tmp_path / "t.safetensors"
    convert_checkpoint(golden / "T_trainer_checkpoint.pt", dst)
    meta = read_metadata(dst)
    assert meta["format"] == FORMAT_TAG and meta["variant"] == "T" and meta["weights"] == "ema"
    sampler = json.loads(meta["sampler"])
    assert sampler["presets"]["best"] == [999, 665, 332] and sampler["delta_end"] == 1.8e-3
    assert dst.stat().st_size < 4_000_000  # slim: no optimiser state, no online copy
    ck = read_checkpoint(dst)
    assert ck.source == "safetensors" and _same(ck.state_dict, read_checkpoint(golden / "T_trainer_checkpoint.pt").state_dict)
    with pytest.raises(OutputExistsError):
        convert_checkpoint(golden / "T_trainer_checkpoint.pt", dst)


def test_plain_safetensors_without_metadata(tmp_path, sd_t):
    from safetensors.torch import save_file

    save_file(sd_t, str(tmp_path / "plain.safetensors"))
    assert read_checkpoint(tmp_path / "plain.safetensors").variant == "T"


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /tmp/hourglass-pwned",))


def test_pickle_that_runs_code_is_refused(tmp_path, sd_t):
    path = _save({"model": sd_t, "ema": {}, "hook": _Evil()}, tmp_path / "evil.pt")
    with pytest.raises(ModelInvalidError, match="run code"):
        read_checkpoint(path)
    raw_pickle = tmp_path / "evil.pkl"
    raw_pickle.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(ModelInvalidError):
        read_checkpoint(raw_pickle)


@pytest.mark.parametrize("mutate,message", [
    (lambda sd: sd.pop("unet0.final_conv.bias"), "missing"),
    (lambda sd: sd.__setitem__("unet0.extra.weight", torch.zeros(3)), "unexpected"),
    (lambda sd: sd.__setitem__("unet0.final_conv.weight", torch.zeros(3, 32, 3, 3)), "wrong shape"),
    (lambda sd: sd.__setitem__("unet0.init_conv.weight", torch.zeros(48, 6, 7, 7)), "none of the released"),
    (lambda sd: sd.pop("unet0.init_conv.weight"), "not a DiffUIR network"),
    (lambda sd: sd.__setitem__("unet0.final_conv.bias", torch.zeros(3, dtype=torch.int64)), "floating"),
    # a damaged download: every photo would have come out black (NaN becomes 0 when saved)
    (lambda sd: sd.__setitem__("unet0.final_conv.bias", torch.tensor([0.0, float("nan"), 0.0])), "damaged.*NaN"),
])
def test_wrong_contents_are_refused(tmp_path, sd_t, mutate, message):
    sd = dict(sd_t)
    mutate(sd)
    with pytest.raises(ModelInvalidError, match=message):
        read_checkpoint(_save(sd, tmp_path / "bad.pt"))


def test_another_architecture_is_refused(tmp_path):
    other = {"conv_first.weight": torch.zeros(64, 3, 3, 3), "body.0.weight": torch.zeros(64, 64, 3, 3)}
    with pytest.raises(ModelInvalidError, match="not a DiffUIR network"):
        read_checkpoint(_save(other, tmp_path / "esrgan.pth"))
    with pytest.raises(ModelInvalidError, match="not a dictionary"):
        read_checkpoint(_save([torch.zeros(1)], tmp_path / "list.pt"))


def test_truncated_and_empty_files_are_refused(tmp_path, sd_t):
    full = _save(sd_t, tmp_path / "full.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(full[: len(full) // 2])
    with pytest.raises(ModelInvalidError, match="truncated|damaged|not readable"):
        read_checkpoint(tmp_path / "cut.pt")
    from safetensors.torch import save_file

    save_file(sd_t, str(tmp_path / "s.safetensors"))
    data = (tmp_path / "s.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) - 1000])
    with pytest.raises(ModelInvalidError, match="truncated|damaged"):
        read_checkpoint(tmp_path / "cut.safetensors")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ModelInvalidError, match="empty"):
        read_checkpoint(tmp_path / "empty.pt")
    (tmp_path / "text.pt").write_text("hello, I am not a model")
    with pytest.raises(ModelInvalidError, match="neither PyTorch nor safetensors"):
        read_checkpoint(tmp_path / "text.pt")
    with pytest.raises(ModelNotFoundError):
        read_checkpoint(tmp_path / "missing.pt")


def test_training_checkpoint_without_ema_weights(tmp_path, sd_t):
    ck = {"step": 1, "model": {"model." + k: v for k, v in sd_t.items()}, "opt0": {}, "ema": {}, "scaler": None}
    with pytest.raises(ModelInvalidError, match="ema"):
        read_checkpoint(_save(ck, tmp_path / "noema.pt"))
    assert read_checkpoint(tmp_path / "noema.pt", use_ema=False).source == "raw"


@pytest.mark.parametrize("content, message", [
    (b"<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title>", "web page"),
    (b"\n  <html lang='en'><body>Sign in</body></html>", "web page"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\x1f\x8b\x08\x00", "gzip archive"),
])
def test_files_that_are_not_checkpoints_say_what_they_are(tmp_path, content, message):
    """A failed download (the host's confirmation page saved as .pth) or a wrong file picked in the dialog
    is named for what it is, instead of 'contains Python objects'."""
    (tmp_path / "DiffUIR_L.pth").write_bytes(content + b"\0" * 600)
    with pytest.raises(ModelInvalidError, match=message):
        read_checkpoint(tmp_path / "DiffUIR_L.pth")


def _zip(path, members: dict):
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_the_zip_a_shared_folder_downloads_as_is_read_inside(tmp_path, golden, monkeypatch):
    """The official checkpoints are shared as Google Drive / OneDrive folders, which download as a zip
    (`DiffUIR-T-20240101T000000Z-001.zip`): it used to be "not readable as a PyTorch checkpoint". The one
    model file inside is read (unpacked to a temporary folder, removed after), or of several the official
    universal model-300.pt; an archive without one, or with several others, says what it holds."""
    import tempfile

    official = (golden / "T_trainer_checkpoint.pt").read_bytes()
    drive = _zip(tmp_path / "DiffUIR-T-20240101T000000Z-001.zip",
                 {"DiffUIR-T/model-300.pt": official, "DiffUIR-T/README.txt": b"notes",
                  "__MACOSX/DiffUIR-T/._model-300.pt": b"\0\5\26\7"})
    before = set(Path(tempfile.gettempdir()).glob("hourglass-import-*"))
    ck, direct = read_checkpoint(drive), read_checkpoint(golden / "T_trainer_checkpoint.pt")
    assert ck.variant == "T" and ck.source == "ema" and _same(ck.state_dict, direct.state_dict)
    assert _same(read_checkpoint(drive, use_ema=False).state_dict,
                 read_checkpoint(golden / "T_trainer_checkpoint.pt", use_ema=False).state_dict)
    assert set(Path(tempfile.gettempdir()).glob("hourglass-import-*")) == before
    with pytest.raises(ModelInvalidError, match=r"zip archive with no model file"):
        read_checkpoint(_zip(tmp_path / "notes.zip", {"DiffUIR-T/README.txt": b"notes"}))
    with pytest.raises(ModelInvalidError, match=r"2 model files \(model-130.pt, model-200.pt\)\. Extract"):
        read_checkpoint(_zip(tmp_path / "two.zip", {"a/model-130.pt": official, "a/model-200.pt": official}))
    both = _zip(tmp_path / "both.zip", {"a/model-130.pt": b"the UDC model", "a/model-300.pt": official})
    assert _same(read_checkpoint(both).state_dict, direct.state_dict)  # the universal model of the two
    with pytest.raises(ModelInvalidError, match=r"'model-300.pt' is not readable as a PyTorch checkpoint"):
        read_checkpoint(_zip(tmp_path / "cut.zip", {"model-300.pt": official[:5000]}))
    from engine import checkpoints

    monkeypatch.setattr(checkpoints, "MAX_ARCHIVED_BYTES", 1000)  # (a zip bomb is not unpacked)
    with pytest.raises(ModelInvalidError, match=r"holds model-300.pt of 0.0 GB, too large"):
        read_checkpoint(drive)
    monkeypatch.undo()
    for field, value, message in ((6, 1, "is password-protected: extract it with its password"),
                                  (8, 9, "is packed in a way Hourglass cannot unpack")):
        packed = bytearray(_zip(tmp_path / "packed.zip", {"model-300.pt": official}).read_bytes())
        for header, at in ((b"PK\x03\x04", field), (b"PK\x01\x02", field + 2)):  # local and central headers
            start = packed.find(header)
            packed[start + at:start + at + 2] = value.to_bytes(2, "little")  # (encrypted flag; Deflate64)
        (tmp_path / "packed.zip").write_bytes(bytes(packed))
        with pytest.raises(ModelInvalidError, match=message):
            read_checkpoint(tmp_path / "packed.zip")
    future = bytearray(drive.read_bytes())  # a damaged central directory asking for zip version 9.9
    at = future.find(b"PK\x01\x02") + 6
    future[at:at + 2] = (99).to_bytes(2, "little")
    (tmp_path / "future.zip").write_bytes(bytes(future))
    with pytest.raises(ModelInvalidError):  # (it crashed the import: zipfile raises NotImplementedError)
        read_checkpoint(tmp_path / "future.zip")
    damaged = bytearray(drive.read_bytes())
    at = damaged.find(b"DiffUIR-T/model-300.pt") + 200  # (inside its compressed data: the CRC check fails)
    damaged[at:at + 64] = bytes(64)
    (tmp_path / "damaged.zip").write_bytes(bytes(damaged))
    with pytest.raises(ModelInvalidError, match="could not be unpacked from"):
        read_checkpoint(tmp_path / "damaged.zip")
