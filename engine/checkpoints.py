"""Read, validate and convert DiffUIR weight files, safely.

Accepted (spec §3.4): official training checkpoints (`step, model, opt0, ema, scaler`: EMA weights by
default, raw on request), bare state dicts with or without the `unet0.` prefix, the diffusion wrapper's
state dict (`model.unet0.*` plus schedule buffers) and safetensors files. Torch files are only ever opened
with `weights_only=True`; the variant comes from tensor shapes, never from the file name.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine.errors import ModelInvalidError, ModelNotFoundError, OutputExistsError, OutputNotWritableError
from engine.filetypes import archived_models
from engine.network import VARIANTS, NetConfig, expected_shapes
from engine.schedule import DELTA_END, PRESETS, SUM_SCALE, TIMESTEPS
from engine.wording import count

PREFIX = "unet0."
FORMAT_TAG = "hourglass-diffuir"
TRAINER_KEYS = {"step", "model", "opt0", "ema", "scaler"}
# Buffers the official diffusion wrapper registers; we recompute the schedule, so they are dropped.
SCHEDULE_BUFFERS = {
    "alphas", "alphas_cumsum", "delta", "delta_cumsum", "one_minus_alphas_cumsum", "betas2", "betas",
    "betas2_cumsum", "betas_cumsum", "posterior_mean_coef1", "posterior_mean_coef2", "posterior_mean_coef3",
    "posterior_variance", "posterior_log_variance_clipped",
}


@dataclass
class Checkpoint:
    """Validated network weights: `state_dict` has exactly the 276 `unet0.*` keys of `variant`."""

    state_dict: dict[str, torch.Tensor]
    variant: str
    config: NetConfig
    source: str  # "ema", "raw", "state_dict" or "safetensors"
    metadata: dict[str, str] = field(default_factory=dict)
    archive_member: str = ""  # read from this file of a zip archive (a shared folder, downloaded)

    @property
    def parameters(self) -> int:
        return sum(t.numel() for t in self.state_dict.values())


def _describe(path: Path) -> str:
    return f"'{path.name}'"


def _load_torch(path: Path) -> object:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols of hostile files
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelInvalidError(
            f"{_describe(path)} was refused: it contains Python objects other than plain tensors and would "
            "need to run code to load, which Hourglass never does. Use an official DiffUIR checkpoint or a "
            ".safetensors file.",
            detail=str(exc),
        ) from exc
    except (EOFError, zipfile.BadZipFile) as exc:
        raise ModelInvalidError(f"{_describe(path)} is truncated or damaged (the file ends too early).",
                                detail=str(exc)) from exc
    except Exception as exc:  # torch.load raises many types on garbage input; all mean "not a checkpoint"
        text = f"{type(exc).__name__}: {exc}"
        hint = "truncated or damaged" if ("zip" in text.lower() or "archive" in text.lower()) else "not readable"
        raise ModelInvalidError(f"{_describe(path)} is {hint} as a PyTorch checkpoint.", detail=text) from exc


def _load_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = dict(f.metadata() or {})
            # copied out of the file's memory map: mapped tensors sit wherever the header's length puts them,
            # and oneDNN's kernels round differently on unaligned weights (the same weights in two files gave
            # results 1/255 apart); a copy also leaves no mapping that keeps the file open (Windows locks it)
            return {k: f.get_tensor(k).clone() for k in f.keys()}, metadata  # noqa: SIM118 (no __iter__)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelInvalidError(f"{_describe(path)} is not a valid safetensors file (truncated or damaged).",
                                detail=str(exc)) from exc


# What a file that is not a checkpoint most often is, by its first bytes (PyTorch files start with a zip
# header or, in the legacy format, a pickle protocol opcode, 0x80).
_OTHER_KINDS = ((b"\xff\xd8\xff", "a JPEG image"), (b"\x89PNG", "a PNG image"), (b"GIF8", "a GIF image"),
                (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"), (b"%PDF", "a PDF document"),
                (b"\x1f\x8b", "a gzip archive"), (b"7z\xbc\xaf", "a 7-Zip archive"), (b"Rar!", "a RAR archive"))


def _not_torch_reason(path: Path) -> str | None:
    """Why `path` cannot be a PyTorch checkpoint, judged by its first bytes; None when it may be one."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith(b"PK") or head[:1] == b"\x80":
        return None
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")) or b"<html" in text[:200]:
        return ("is a web page, not a checkpoint: the download saved the site's page (often a sign-in or "
                "'cannot scan for viruses' confirmation) instead of the file. Open the link in a browser and "
                "download the file itself")
    for magic, kind in _OTHER_KINDS:
        if head.startswith(magic):
            return f"is {kind}, not a model file"
    return "is not a model file: it holds neither PyTorch nor safetensors data"


def _is_safetensors(path: Path) -> bool:
    """safetensors starts with an 8-byte little-endian header length and a JSON header ('{')."""
    with open(path, "rb") as f:
        head = f.read(9)
    return len(head) == 9 and head[8:9] == b"{" and not head.startswith(b"PK")


def _unwrap(obj: object, path: Path, use_ema: bool) -> tuple[dict, str]:
    """Find the network tensors inside whatever layout the file has; returns (raw dict, source)."""
    if not isinstance(obj, dict):
        raise ModelInvalidError(f"{_describe(path)} holds a {type(obj).__name__}, not a dictionary of weights.")
    if TRAINER_KEYS <= set(obj) or ("ema" in obj and "model" in obj):
        if use_ema:
            ema = obj.get("ema")
            if not isinstance(ema, dict):
                raise ModelInvalidError(f"{_describe(path)} is a training checkpoint without EMA weights.")
            prefix = "ema_model.model."
            sd = {k[len(prefix):]: v for k, v in ema.items() if k.startswith(prefix)}
            if not sd:
                raise ModelInvalidError(f"{_describe(path)}: the 'ema' entry has no 'ema_model.model.*' weights.")
            return sd, "ema"
        model = obj.get("model")
        if not isinstance(model, dict):
            raise ModelInvalidError(f"{_describe(path)} has no raw 'model' weights.")
        return _strip_wrapper(model), "raw"
    return _strip_wrapper(obj), "state_dict"


def _strip_wrapper(sd: dict) -> dict:
    """`model.unet0.*` (the diffusion wrapper) or `unet0.*` or bare `init_conv.*` → `unet0.*` form later."""
    if any(isinstance(k, str) and k.startswith("model." + PREFIX) for k in sd):
        sd = {k[len("model."):]: v for k, v in sd.items() if isinstance(k, str) and k.startswith("model.")}
    return {k: v for k, v in sd.items() if k not in SCHEDULE_BUFFERS}


def _canonical_keys(sd: dict, path: Path) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in sd.items():
        if not isinstance(k, str) or not isinstance(v, torch.Tensor):
            raise ModelInvalidError(f"{_describe(path)} is not a plain weight dictionary (entry {k!r} is a "
                                    f"{type(v).__name__}).")
        out[k if k.startswith(PREFIX) else PREFIX + k] = v
    return out


def detect_variant(sd: dict[str, torch.Tensor], name: str = "the file") -> tuple[str, NetConfig]:
    """Infer (variant, config) from tensor shapes alone."""
    init = sd.get(PREFIX + "init_conv.weight")
    if init is None or init.ndim != 4 or tuple(init.shape[1:]) != (6, 7, 7):
        sample = ", ".join(list(sd)[:4]) or "none"
        raise ModelInvalidError(
            f"{name} is not a DiffUIR network: it lacks the 6-channel 7×7 'init_conv' layer that every DiffUIR "
            f"variant starts with (first keys: {sample}).")
    dim = int(init.shape[0])
    mults = []
    for i in range(4):
        w = sd.get(f"{PREFIX}downs.{i}.3.weight")
        if w is None or w.ndim != 4:
            raise ModelInvalidError(f"{name} looks like DiffUIR but has no 'downs.{i}.3' layer; the file is "
                                    "incomplete or from another architecture.")
        mults.append(int(w.shape[0]) // dim)
    config = NetConfig(dim, tuple(mults))
    for variant, known in VARIANTS.items():
        if known == config:
            return variant, config
    raise ModelInvalidError(
        f"{name} is a U-Net of width {dim} with multipliers {tuple(mults)}, which is none of the released "
        "DiffUIR variants (T: 32/1,1,1,1; S: 32/1,2,2,4; B: 64/1,2,2,4; L: 64/1,2,4,8).")


def validate(sd: dict[str, torch.Tensor], config: NetConfig, name: str) -> None:
    expected = expected_shapes(config)
    missing = [k for k in expected if k not in sd]
    extra = [k for k in sd if k not in expected]
    wrong = [f"{k} is {list(sd[k].shape)}, expected {list(s)}" for k, s in expected.items()
             if k in sd and tuple(sd[k].shape) != s]
    problems = []
    if missing:
        problems.append(f"{count(len(missing), 'missing key')}, e.g. {', '.join(missing[:3])}")
    if extra:
        problems.append(f"{count(len(extra), 'unexpected key')}, e.g. {', '.join(extra[:3])}")
    if wrong:
        problems.append(f"{count(len(wrong), 'wrong shape')}: {'; '.join(wrong[:3])}")
    if problems:
        raise ModelInvalidError(f"{name} does not match DiffUIR: " + "; ".join(problems) + ".")
    bad = [k for k, v in sd.items() if not v.is_floating_point()]
    if bad:
        raise ModelInvalidError(f"{name}: weight {bad[0]} is not floating point.")
    broken = [k for k, v in sd.items() if not bool(torch.isfinite(v).all())]
    if broken:  # a damaged download or disk: every photo would come out black or as noise
        raise ModelInvalidError(f"{name} is damaged: {count(len(broken), 'weight tensor')} "
                                f"{'holds' if len(broken) == 1 else 'hold'} values that are not "
                                f"numbers (NaN or infinite), e.g. {broken[0]}. Download or copy it again.")


UNIVERSAL_NAME = "model-300.pt"  # the official all-in-one model (DiffUIR's README), taken from an archive
MAX_ARCHIVED_BYTES = 8 << 30  # an L training checkpoint with its optimiser state is well under 1 GB


def archived_model(path: Path) -> str | None:
    """The name of the model file to read inside a zip archive (`filetypes.archived_models`: a shared folder
    downloaded as a zip): its only one or, of several, the official universal model. None for any other
    file; an archive with no model file, or several others, is refused with what it holds."""
    models = archived_models(path)
    if models is None:
        return None
    universal = [n for n in models if Path(n).name == UNIVERSAL_NAME]
    if len(models) == 1 or len(universal) == 1:  # (DiffUIR's folders may also hold model-130.pt, for UDC)
        return universal[0] if universal else models[0]
    if not models:
        raise ModelInvalidError(f"{_describe(path)} is a zip archive with no model file in it (.pt, .pth or "
                                ".safetensors). DiffUIR checkpoints are .pth or .safetensors files (README, Models).")
    names = ", ".join(Path(n).name for n in models[:5]) + (", ..." if len(models) > 5 else "")
    raise ModelInvalidError(f"{_describe(path)} is a zip archive holding {len(models)} model files ({names}). "
                            "Extract the one you want and import that file.")


def _read_archived(path: Path, member: str, use_ema: bool) -> Checkpoint:
    """Read the model file `member` of the zip archive `path`, unpacked to a temporary folder (torch and
    safetensors read files) that is removed afterwards."""
    import shutil
    import tempfile

    name = Path(member).name
    with tempfile.TemporaryDirectory(prefix="hourglass-import-") as tmp:
        inner = Path(tmp) / name
        try:
            with zipfile.ZipFile(path) as archive:
                size = archive.getinfo(member).file_size
                if size > MAX_ARCHIVED_BYTES:
                    raise ModelInvalidError(f"{_describe(path)} holds {name} of {size / 2**30:.1f} GB, too large "
                                            "for a DiffUIR model.")
                with archive.open(member) as src, open(inner, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        except NotImplementedError as exc:  # (a compression method Python's zipfile lacks, e.g. Deflate64)
            raise ModelInvalidError(f"{name} in {_describe(path)} is packed in a way Hourglass cannot unpack: "
                                    "extract it with an archive tool, then import the file.", detail=str(exc)) from exc
        except RuntimeError as exc:  # (zipfile's word for a member that needs a password; after its subclass)
            raise ModelInvalidError(f"{name} in {_describe(path)} is password-protected: extract it with its "
                                    "password, then import the file.", detail=str(exc)) from exc
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
            raise ModelInvalidError(f"{name} could not be unpacked from {_describe(path)}: {exc}",
                                    detail=str(exc)) from exc
        ckpt = read_checkpoint(inner, use_ema=use_ema, archived=False)
    ckpt.archive_member = member
    return ckpt


def read_checkpoint(path: str | os.PathLike, *, use_ema: bool = True, archived: bool = True) -> Checkpoint:
    """Load and validate any accepted DiffUIR weight file, or the one in a zip archive (`archived`: look
    inside one). Raises ModelNotFoundError/ModelInvalidError."""
    path = Path(path)
    if path.is_dir():
        raise ModelNotFoundError(f"'{path}' is a folder; give the checkpoint file inside it (.pt, .pth or "
                                 ".safetensors).")
    if path.exists() and not path.is_file():  # a pipe or a device: reading it could wait forever
        raise ModelInvalidError(f"'{path}' is not a file (a pipe or a device); give the checkpoint file.")
    if not path.is_file():
        raise ModelNotFoundError(f"Model file '{path}' does not exist.")
    if path.stat().st_size == 0:
        raise ModelInvalidError(f"{_describe(path)} is empty.")
    member = archived_model(path) if archived else None
    if member is not None:
        return _read_archived(path, member, use_ema)
    metadata: dict[str, str] = {}
    if _is_safetensors(path):
        raw, metadata = _load_safetensors(path)
        source = "safetensors"
    else:
        reason = _not_torch_reason(path)
        if reason is not None:
            raise ModelInvalidError(f"{_describe(path)} {reason}. DiffUIR checkpoints are .pth or .safetensors "
                                    "files (README, Models).")
        raw, source = _unwrap(_load_torch(path), path, use_ema)
    sd = _canonical_keys(raw, path)
    variant, config = detect_variant(sd, _describe(path))
    validate(sd, config, _describe(path))
    sd = {k: v.float().contiguous() for k, v in sd.items()}
    return Checkpoint(sd, variant, config, source, metadata)


def sampler_metadata() -> dict:
    return {
        "timesteps": TIMESTEPS, "delta_end": DELTA_END, "sum_scale": SUM_SCALE, "objective": "pred_res",
        "eta": 0.0, "presets": {k: list(v) for k, v in PRESETS.items()}, "default": "best",
    }


def save_safetensors(ckpt: Checkpoint, dst: str | os.PathLike, *, extra: dict[str, str] | None = None,
                     overwrite: bool = False) -> Path:
    """Write the weights as a slim safetensors file whose metadata records the variant and sampler."""
    dst = Path(dst)
    if dst.exists() and not overwrite:
        raise OutputExistsError(f"'{dst}' already exists; not replacing it.")
    meta = {k: v for k, v in ckpt.metadata.items() if k not in ("format", "variant", "sampler", "parameters")}
    meta.update({
        "format": FORMAT_TAG,
        "variant": ckpt.variant,
        "dim": str(ckpt.config.dim),
        "dim_mults": ",".join(map(str, ckpt.config.dim_mults)),
        "parameters": str(ckpt.parameters),
        "weights": meta.get("weights", ckpt.source),
        "sampler": json.dumps(sampler_metadata()),
    })
    meta.update(extra or {})
    from safetensors import SafetensorError

    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(ckpt.state_dict, dst, meta, overwrite=overwrite)
    except (OSError, SafetensorError) as exc:  # (safetensors reports the same I/O failures in its own error)
        if not isinstance(exc, OSError) and "I/O error" not in str(exc):
            raise
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise OutputNotWritableError(f"The model could not be saved in {dst.parent}: {reason}. Free some space, "
                                     "or check that the folder can be written.", detail=str(exc)) from None
    return dst


def _write_atomic(tensors: dict, dst: Path, meta: dict[str, str], *, overwrite: bool) -> None:
    """Write a safetensors file beside `dst`, then rename it over `dst` (checked again just before, unless
    `overwrite`): a crash or a full disk never leaves half a model file."""
    from safetensors.torch import save_file

    tmp = dst.with_name(f".{dst.name}.tmp{os.getpid()}")
    try:
        save_file(tensors, str(tmp), metadata=meta)
        os.chmod(tmp, 0o644)  # a model file is shared data, not a secret
        if dst.exists() and not overwrite:
            raise OutputExistsError(f"'{dst}' already exists; not replacing it.")
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def convert_checkpoint(src: str | os.PathLike, dst: str | os.PathLike, *, use_ema: bool = True,
                       overwrite: bool = False) -> Checkpoint:
    """Validate any accepted file and write it as safetensors with metadata; returns the checkpoint."""
    ckpt = read_checkpoint(src, use_ema=use_ema)
    # what changes the results (the low-light condition the model expects) and what users are told about
    # these weights (their measured limits per task) survive a conversion
    kept = {k: v for k, v in read_metadata(src).items() if k in ("low_light_condition", "task_notes")}
    origin = {"converted_from": Path(src).name}
    if ckpt.archive_member:  # (which file of a zip it was)
        origin["archive_member"] = ckpt.archive_member
    save_safetensors(ckpt, dst, extra={**origin, **kept}, overwrite=overwrite)
    return ckpt


def update_metadata(path: str | os.PathLike, changes: dict[str, str | None]) -> dict[str, str]:
    """Rewrite a safetensors file's metadata (a None value removes that key), keeping its tensors byte for
    byte (any dtype, bfloat16 included); atomic. Returns the new metadata."""
    from safetensors.torch import load_file

    path = Path(path)
    if not _is_safetensors(path):
        raise ModelInvalidError(f"'{path.name}' is not a safetensors file; its metadata cannot be changed.")
    meta = read_metadata(path)
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    _write_atomic(load_file(str(path)), path, meta, overwrite=True)
    return meta


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """Metadata of a safetensors file without loading its tensors ({} for torch files)."""
    path = Path(path)
    if not _is_safetensors(path):
        return {}
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        if n > 100_000_000:
            return {}
        try:
            header = json.loads(f.read(n))
        except ValueError:
            return {}
    return dict(header.get("__metadata__") or {})
