"""Where models live, and turning a model name or path into a network on a device.

Two folders are searched, in this order: the user's model folder (platformdirs, or `$HOURGLASS_MODELS_DIR`)
and the bundled `resources/models`. `"default"` is the bundled Hourglass model. Nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from engine.checkpoints import Checkpoint, convert_checkpoint, read_checkpoint, read_metadata
from engine.errors import HourglassError, ModelInvalidError, ModelNotFoundError, OutputNotWritableError
from engine.filetypes import is_model_file
from engine.preprocess import TASKS, equalizes_low_light

DEFAULT_MODEL_FILE = "hourglass-diffuir-t.safetensors"


def resources_dir() -> Path:
    """The bundled resources: beside the frozen executable, or at the repository root from source."""
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def bundled_models_dir() -> Path:
    return resources_dir() / "models"


def user_models_dir() -> Path:
    """Imported models: `$HOURGLASS_MODELS_DIR`, else `models/` in the user data folder, which the app's
    `--data-dir` (`$HOURGLASS_DATA_DIR`, a portable install) moves along with the queue and settings."""
    override = os.environ.get("HOURGLASS_MODELS_DIR")
    if override:
        return Path(override)
    data = os.environ.get("HOURGLASS_DATA_DIR")
    if data:
        return Path(data) / "models"
    import platformdirs

    return Path(platformdirs.user_data_dir("Hourglass", appauthor=False)) / "models"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    origin: str  # "user", "bundled" or "path"
    size_bytes: int
    variant: str | None = None
    metadata: dict = field(default_factory=dict, hash=False, compare=False)

    def to_json(self) -> dict:
        return {"name": self.name, "path": str(self.path), "origin": self.origin, "size_bytes": self.size_bytes,
                "variant": self.variant, "default": self.path.name == DEFAULT_MODEL_FILE, "notes": self.notes}

    @property
    def notes(self) -> dict[str, str]:
        """The file's task notes for listings ({} if it has none or they are malformed: loading says so)."""
        try:
            return task_notes(self.metadata)
        except ValueError:
            return {}


def _info(path: Path, origin: str) -> ModelInfo:
    meta = read_metadata(path)
    return ModelInfo(path.stem, path, origin, path.stat().st_size, meta.get("variant"), meta)


def find_models() -> list[ModelInfo]:
    """Model files in the user folder, then the bundled folder (not validated: that happens on load)."""
    found = []
    for folder, origin in ((user_models_dir(), "user"), (bundled_models_dir(), "bundled")):
        if folder.is_dir():
            found += [_info(p, origin) for p in sorted(folder.iterdir())
                      if is_model_file(p) and p.is_file()]
    # the degradation detector's weights sit beside the bundled model but are not a restoration model
    return [m for m in found if not m.metadata.get("format", "").startswith("hourglass-detector")]


def no_model_message() -> str:
    return (f"No model found. Import an official DiffUIR checkpoint (Models in the app, 'hourglass models import "
            f"FILE' on the command line; it is kept in {user_models_dir()}), or put the default model back at "
            f"{bundled_models_dir() / DEFAULT_MODEL_FILE}.")


def resolve_model(name_or_path: str | os.PathLike | None) -> ModelInfo:
    """'default'/None → the bundled model; a name → a file in the model folders; else a path."""
    if name_or_path is None or str(name_or_path) == "default":
        path = bundled_models_dir() / DEFAULT_MODEL_FILE
        if path.is_file():
            return _info(path, "bundled")
        raise ModelNotFoundError(no_model_message())
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return _info(path, "path")
    models = find_models()
    for info in models:
        if str(name_or_path) in (info.name, info.path.name):
            return info
    names = ", ".join(i.name for i in models)
    if not names:
        raise ModelNotFoundError(f"Model '{name_or_path}' not found. {no_model_message()}")
    raise ModelNotFoundError(f"Model '{name_or_path}' not found. The models here are: {names}. Choose one of them, "
                             "or import the checkpoint again (Models in the app, 'hourglass models import FILE' on "
                             f"the command line; it is kept in {user_models_dir()}).")


# what Google Drive appends to a folder it zips for download: "DiffUIR-T-20240101T000000Z-001.zip"
_DOWNLOAD_STAMP = re.compile(r"-\d{8}T\d{6}Z-\d{3}$")


def _default_name(src: Path) -> str:
    """A zip of a shared folder: the folder's name (`DiffUIR-L/model-300.pt` in it), else the archive's
    without Drive's stamp; any other file: its own name."""
    from engine.checkpoints import archived_model

    try:
        member = archived_model(src)
    except HourglassError:
        member = None  # (importing says what is wrong with it)
    folder = Path(member).parent.name if member else ""
    return folder or _DOWNLOAD_STAMP.sub("", src.stem)


def import_model(src: str | os.PathLike, *, use_ema: bool = True, name: str | None = None) -> ModelInfo:
    """Validate an official checkpoint and store it in the user folder as safetensors."""
    src = Path(src)
    folder = user_models_dir()
    stem = name or f"diffuir-{_default_name(src)}"
    dst = folder / f"{stem}.safetensors"
    if dst.exists():
        raise ModelInvalidError(f"A model named '{stem}' is already imported ({dst}); pick another name, or "
                                f"remove it first (Models → Remove… in the app, 'hourglass models remove {stem}').")
    ckpt = convert_checkpoint(src, dst, use_ema=use_ema)
    return ModelInfo(stem, dst, "user", dst.stat().st_size, ckpt.variant, read_metadata(dst))


def remove_model(name: str) -> ModelInfo:
    """Delete an imported model's file; the bundled models ship with the app and stay."""
    for info in find_models():
        if info.name != name:
            continue
        if info.origin != "user":
            raise ModelInvalidError(f"'{name}' comes with Hourglass and cannot be removed.")
        try:
            info.path.unlink()
        except FileNotFoundError:
            raise ModelNotFoundError(f"'{name}' is already gone from {info.path.parent}.") from None
        except OSError as exc:
            raise OutputNotWritableError(f"'{name}' could not be removed from {info.path.parent}: "
                                         f"{exc.strerror or exc}.") from None
        return info
    imported = ", ".join(i.name for i in find_models() if i.origin == "user") or "none"
    raise ModelNotFoundError(f"No imported model is named '{name}' (imported: {imported}).")


@dataclass
class LoadedModel:
    """A network ready for inference on `device`, with where it came from."""

    net: object  # engine.network.UnetRes
    variant: str
    info: ModelInfo
    device: str
    checkpoint_source: str
    parameters: int

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def equalizes_low_light(self) -> bool:
        """Whether low-light photos are equalised before they condition this model (file metadata)."""
        return equalizes_low_light(self.info.metadata)

    @property
    def task_notes(self) -> dict[str, str]:
        """What users are told when this model restores a task (file metadata; see `task_notes`)."""
        return task_notes(self.info.metadata)

    @property
    def sampler(self) -> dict:
        try:
            return json.loads(self.info.metadata.get("sampler", "{}"))
        except ValueError:
            return {}


def build_network(ckpt: Checkpoint, device: str = "cpu"):
    import torch

    from engine.network import UnetRes

    with torch.device("meta"):
        net = UnetRes(ckpt.config)
    net.load_state_dict(ckpt.state_dict, strict=True, assign=True)
    net = net.to(device).eval().requires_grad_(False)
    net.freeze_weights()
    return net


def task_notes(metadata: dict) -> dict[str, str]:
    """The `task_notes` of a model file's metadata: a JSON object from task to a sentence telling the user
    a measured limit of these weights on that task (the bundled preview model does not sharpen blur, for
    one); shown as a warning with every photo restored for that task. Checked: ValueError if malformed."""
    raw = metadata.get("task_notes")
    if not raw:
        return {}
    try:
        notes = json.loads(raw)
    except ValueError:
        raise ValueError("task_notes in the model's metadata is not JSON") from None
    if not isinstance(notes, dict) or not all(isinstance(k, str) and k in TASKS and isinstance(v, str) and v
                                              for k, v in notes.items()):
        raise ValueError("task_notes in the model's metadata must map tasks to sentences")
    return notes


def load_model(name_or_path: str | os.PathLike | None = "default", device: str = "cpu", *,
               use_ema: bool = True) -> LoadedModel:
    """Load a model by name ('default', an imported name) or path onto `device` ('cpu', 'cuda', 'auto')."""
    from engine.device import resolve_device

    info = resolve_model(name_or_path)
    try:
        equalizes_low_light(info.metadata)
        task_notes(info.metadata)
    except ValueError as exc:
        raise ModelInvalidError(f"'{info.path.name}': {exc}") from None
    dev = resolve_device(device)
    ckpt = read_checkpoint(info.path, use_ema=use_ema)
    net = build_network(ckpt, dev)
    return LoadedModel(net, ckpt.variant, info, dev, ckpt.source, ckpt.parameters)
