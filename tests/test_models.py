"""Model folders, names, the default model and importing official checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from engine import models
from engine.errors import ModelInvalidError, ModelNotFoundError


def test_import_lists_and_loads(golden, tmp_path):
    info = models.import_model(golden / "T_trainer_checkpoint.pt", name="official-t")
    assert info.path.parent == models.user_models_dir() and info.variant == "T"
    listed = {m.name: m for m in models.find_models()}
    assert listed["official-t"].origin == "user" and listed["official-t"].variant == "T"
    loaded = models.load_model("official-t")
    assert loaded.variant == "T" and loaded.device == "cpu" and loaded.parameters == 886_435
    assert loaded.sampler["presets"]["fast"] == [999]
    with pytest.raises(ModelInvalidError, match="already imported"):
        models.import_model(golden / "T_trainer_checkpoint.pt", name="official-t")


def test_import_refuses_a_wrong_file(tmp_path):
    bad = tmp_path / "notes.pt"
    bad.write_text("not a model")
    with pytest.raises(ModelInvalidError):
        models.import_model(bad)
    assert not any(models.user_models_dir().glob("*.safetensors"))


def test_unknown_model_name_lists_the_models_there_are(monkeypatch, tmp_path):
    with pytest.raises(ModelNotFoundError, match="nope") as err:
        models.resolve_model("nope")
    assert "The models here are: hourglass-diffuir-t. Choose one of them" in str(err.value)
    assert "No model found" not in str(err.value)  # it said so beside the list of models found
    monkeypatch.setattr(models, "bundled_models_dir", lambda: tmp_path / "empty")
    with pytest.raises(ModelNotFoundError, match="No model found"):
        models.resolve_model("nope")


def test_imported_models_follow_a_portable_data_folder(monkeypatch, tmp_path):
    """`hourglass --data-dir D` (a portable install on a stick) keeps the queue and settings in D: the models
    imported there are kept in D/models too, not in the home folder of whichever machine it runs on."""
    monkeypatch.setenv("HOURGLASS_MODELS_DIR", str(tmp_path / "chosen"))
    monkeypatch.setenv("HOURGLASS_DATA_DIR", str(tmp_path / "stick"))
    assert models.user_models_dir() == tmp_path / "chosen"  # the explicit folder first
    monkeypatch.delenv("HOURGLASS_MODELS_DIR")
    assert models.user_models_dir() == tmp_path / "stick" / "models"
    monkeypatch.delenv("HOURGLASS_DATA_DIR")
    assert models.user_models_dir().name == "models" and "Hourglass" in str(models.user_models_dir())


def test_default_model_missing_says_where_to_put_one(monkeypatch, tmp_path):
    monkeypatch.setattr(models, "bundled_models_dir", lambda: tmp_path / "empty")
    with pytest.raises(ModelNotFoundError) as err:
        models.resolve_model("default")
    assert "No model found" in str(err.value) and str(tmp_path / "empty") in str(err.value)


def test_cuda_request_without_gpu_is_clear():
    import torch

    from engine.device import resolve_device
    from engine.errors import DeviceUnavailableError

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert resolve_device("auto") == "cpu"
    with pytest.raises(DeviceUnavailableError, match="CUDA"):
        resolve_device("cuda")


def _model_file(path, **extra):
    from engine.checkpoints import Checkpoint, save_safetensors
    from engine.network import VARIANTS
    from tests.model_helpers import random_state_dict

    save_safetensors(Checkpoint(random_state_dict("T"), "T", VARIANTS["T"], "state_dict"), path, extra=extra)
    return path


def test_the_low_light_condition_follows_the_model_file(tmp_path):
    """Official checkpoints (no key) get equalised low-light conditions; a model that says "as-is" gets the
    photo itself, so task=low-light then conditions it exactly like task=none; the key survives an import."""
    import numpy as np

    import engine

    plain = models.load_model(_model_file(tmp_path / "plain.safetensors"))
    raw = models.load_model(_model_file(tmp_path / "raw.safetensors", low_light_condition="as-is"))
    assert plain.equalizes_low_light and not raw.equalizes_low_light
    rng = np.random.default_rng(0)
    dark = (rng.random((40, 48, 3)) * 0.15).astype(np.float32)
    run = {m.name: {task: engine.restore_image(dark, m, steps=1, task=task, fullres="tiled")
                    for task in ("low-light", "none")} for m in (plain, raw)}
    assert np.array_equal(run["raw"]["low-light"], run["raw"]["none"])
    assert not np.allclose(run["plain"]["low-light"], run["plain"]["none"])
    imported = models.import_model(tmp_path / "raw.safetensors", name="raw-imported")
    assert imported.metadata["low_light_condition"] == "as-is"
    assert not models.load_model("raw-imported").equalizes_low_light


def test_an_unknown_low_light_condition_is_refused(tmp_path):
    with pytest.raises(ModelInvalidError, match="low_light_condition"):
        models.load_model(_model_file(tmp_path / "odd.safetensors", low_light_condition="gamma"))


BLUR_NOTE = "This model does not sharpen blurred photos (measured: −0.25 dB against the input)."


def test_task_notes_warn_with_the_photos_of_that_task_and_survive_an_import(tmp_path):
    import json

    import numpy as np
    from PIL import Image

    import engine

    path = _model_file(tmp_path / "noted.safetensors", task_notes=json.dumps({"blur": BLUR_NOTE}))
    model = models.load_model(path)
    assert model.task_notes == {"blur": BLUR_NOTE}
    photo = tmp_path / "p.png"
    Image.fromarray(np.full((24, 32, 3), 90, np.uint8)).save(photo)
    for task, expected in (("blur", [BLUR_NOTE]), ("haze", [])):
        opts = engine.RestoreOptions(task=task, steps=1, fullres="tiled")
        result = engine.restore_file(photo, tmp_path / f"{task}.png", model, opts)
        assert result.warnings == expected
    seen = []
    engine.restore_image(np.zeros((24, 32, 3), np.float32), model, steps=1, task="blur", on_warning=seen.append)
    assert seen == [BLUR_NOTE]
    assert models.import_model(path, name="noted-imported").metadata["task_notes"] == json.dumps({"blur": BLUR_NOTE})


@pytest.mark.parametrize("notes", ["not json", '["blur"]', '{"fog": "x"}', '{"blur": ""}', '{"blur": 3}'])
def test_malformed_task_notes_are_refused(tmp_path, notes):
    with pytest.raises(ModelInvalidError, match="task_notes"):
        models.load_model(_model_file(tmp_path / "odd.safetensors", task_notes=notes))


def test_the_task_notes_tool_sets_and_clears_a_note_keeping_the_tensors(tmp_path, capsys):
    from safetensors.numpy import load_file

    from engine.checkpoints import read_metadata
    from tests.model_helpers import load_tool

    tool = load_tool("task_notes")
    path = _model_file(tmp_path / "m.safetensors", low_light_condition="as-is")
    before = load_file(str(path))
    assert tool.main([str(path), "--task", "blur", "--note", BLUR_NOTE]) == 0
    assert capsys.readouterr().out == f"blur: {BLUR_NOTE}\n"
    after = load_file(str(path))
    assert before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)
    assert read_metadata(path)["low_light_condition"] == "as-is"  # the rest of the metadata is kept
    assert models.load_model(path).task_notes == {"blur": BLUR_NOTE}
    assert tool.main([str(path), "--task", "blur", "--clear"]) == 0
    assert "task_notes" not in read_metadata(path)
    with pytest.raises(SystemExit):
        tool.main([str(path), "--note", "no task"])


def test_a_gpu_index_is_checked_against_the_gpus_there_are(monkeypatch):
    import torch

    from engine import device as D
    from engine.errors import DeviceUnavailableError

    monkeypatch.setattr(D, "cuda_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: f"GPU-{i}")
    assert D.resolve_device("cuda:1") == "cuda:1" and D.resolve_device("CUDA") == "cuda"
    with pytest.raises(DeviceUnavailableError, match=r"no GPU 'cuda:2' here; this computer has 2: cuda:0 \(GPU-0\)"):
        D.resolve_device("cuda:2")
    with pytest.raises(DeviceUnavailableError, match="no GPU 'cuda:one'"):
        D.resolve_device("cuda:one")
    with pytest.raises(DeviceUnavailableError, match="cuda:N"):
        D.resolve_device("tpu")


def test_the_same_weights_in_two_files_restore_bit_identically(tmp_path):
    """Weights are copied out of the file's memory map: their alignment there depends on the header's length,
    and unaligned weights took other kernel paths (the bundled model and its converted copy differed)."""
    import engine

    rng = np.random.default_rng(3)
    photo = rng.random((48, 64, 3)).astype(np.float32)
    outs = []
    for pad in range(1, 8):  # headers of seven lengths put the tensors at seven alignments
        model = models.load_model(_model_file(tmp_path / f"m{pad}.safetensors", pad="x" * pad))
        outs.append(engine.restore_image(photo, model, steps=1, task="haze", fullres="tiled"))
    assert all(np.array_equal(outs[0], o) for o in outs[1:])


def test_a_zipped_folder_imports_under_the_folders_name(golden, tmp_path):
    """Google Drive zips a shared folder as `<folder>-<time stamp>-001.zip`, OneDrive as `OneDrive_1_<date>.zip`:
    the model is named after the folder in the archive, else after the archive without Drive's stamp."""
    import zipfile

    drive = tmp_path / "DiffUIR-T-20240101T000000Z-001.zip"
    with zipfile.ZipFile(drive, "w") as archive:
        archive.write(golden / "T_trainer_checkpoint.pt", "DiffUIR-T/model-300.pt")
    info = models.import_model(drive)
    assert info.name == "diffuir-DiffUIR-T" and info.variant == "T"
    assert (info.metadata["converted_from"], info.metadata["archive_member"]) == (drive.name, "DiffUIR-T/model-300.pt")
    assert models.load_model("diffuir-DiffUIR-T").parameters == 886_435
    onedrive = tmp_path / "OneDrive_1_12-7-2026.zip"  # (OneDrive's name says nothing: the folder's does)
    with zipfile.ZipFile(onedrive, "w") as archive:
        archive.write(golden / "T_trainer_checkpoint.pt", "DiffUIR-S/model-300.pt")
    assert models.import_model(onedrive).name == "diffuir-DiffUIR-S"
    loose = tmp_path / "weights-20240101T000000Z-001.zip"  # (a model at the top of the archive)
    with zipfile.ZipFile(loose, "w") as archive:
        archive.write(golden / "T_trainer_checkpoint.pt", "model-300.pt")
    assert models.import_model(loose).name == "diffuir-weights"


def test_an_imported_model_can_be_removed_the_bundled_one_cannot(golden):
    info = models.import_model(golden / "T_trainer_checkpoint.pt", name="to-go")
    assert models.remove_model("to-go").path == info.path and not info.path.exists()
    assert "to-go" not in {m.name for m in models.find_models()}
    with pytest.raises(ModelNotFoundError, match=r"No imported model is named 'to-go' \(imported: none\)"):
        models.remove_model("to-go")
    bundled = next(m for m in models.find_models() if m.origin == "bundled")
    with pytest.raises(ModelInvalidError, match="comes with Hourglass and cannot be removed"):
        models.remove_model(bundled.name)
    assert bundled.path.is_file()
