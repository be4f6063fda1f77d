"""User settings (a dataclass persisted as JSON in the data folder) and the output naming policy."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.paths import data_dir, keep_aside, write_atomic
from engine.filetypes import RESTORED_DIR, clean_suffix, default_output_extension, numbered_name
from engine.protocol import is_gpu_id

log = logging.getLogger("app.settings")

DEVICES = {"auto": "Automatic", "cpu": "CPU", "cuda": "GPU (CUDA)"}
QUALITIES = {"fast": "Fast (1 step)", "balanced": "Balanced (2 steps)", "best": "Best (3 steps)"}
FORMATS = {"same": "Same as the photo", "png": "PNG", "jpeg": "JPEG", "tiff16": "16-bit TIFF", "webp": "WebP",
           "avif": "AVIF"}
FULLRES = {"auto": "Automatic (fast for low light and haze)", "fast": "Fast: restore ~1 MP, keep the photo's detail",
           "tiled": "Full resolution (slowest)"}
THEMES = {"system": "As the system", "dark": "Dark", "light": "Light"}
RAW_JPEG = {"raw": "Restore the RAW (more in the shadows)", "jpeg": "Restore the camera's JPEG",
            "both": "Restore both"}  # engine.filetypes.PAIR_CHOICES
TASK_LABELS = {"auto": "Auto", "low-light": "Low light", "haze": "Haze", "rain": "Rain", "snow": "Snow",
               "blur": "Blur", "none": "Leave as is"}  # none: already fine, not restored
_EXT = {"png": ".png", "jpeg": ".jpg", "tiff16": ".tif", "webp": ".webp", "avif": ".avif"}


MAX_THREADS = 256  # a hand-edited thread count beyond this is a typo


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def gpu_choices(devices) -> list[tuple[str, str]]:
    """(label, id) of each GPU to offer besides "GPU (CUDA)" (the first one): only when there are several."""
    gpus = [d for d in devices if getattr(d, "kind", "") == "cuda"]
    if len(gpus) < 2:
        return []
    out = []
    for d in gpus:
        memory = f", {d.memory_total / 2**30:.0f} GiB" if d.memory_total else ""
        out.append((f"GPU {d.id[5:]}: {d.name}{memory}", d.id))
    return out


@dataclass
class Settings:
    device: str = "auto"  # auto | cpu | cuda
    quality: str = "balanced"  # fast | balanced | best
    output_dir: str = ""  # "" → a `restored` folder beside each photo
    name_suffix: str = ""  # appended to the file name: "photo{suffix}.jpg"
    format: str = "same"  # same | png | jpeg | tiff16
    jpeg_quality: int = 95
    srgb: bool = False  # results in sRGB (for the web) instead of the photo's own colour space
    remove_location: bool = False  # GPS coordinates left out of the results (for sharing)
    record: bool = True  # results record how they were made (found again when their photo is added)
    strength: float = 1.0  # 0..1: blend of the restored photo over the original, applied when saving
    model: str = "default"  # a model name, a path, or "default" (the bundled model)
    threads: int | None = None  # engine CPU threads (None: the engine decides)
    restore_clean: bool = False  # restore photos the detector finds already fine (default: skip them)
    fullres: str = "auto"  # large photos: auto | fast | tiled (the engine's fast full-resolution path)
    raw_jpeg: str = "raw"  # a camera's RAW+JPEG shot: which file is queued (raw | jpeg | both)
    theme: str = "system"  # system | dark | light (app.theme)
    screen_profile: bool = True  # photos shown through the screen's colour profile, where the system has one
    side_by_side: bool = False  # the comparison in two panes instead of one split by the divider
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys from a newer version, kept as-is

    # --------------------------------------------------------------- persistence

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or default_path()
        try:
            raw = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            log.warning("settings file %s unreadable (%s); using defaults", path, exc)
            return cls()
        except ValueError as exc:
            raw, why = None, f"damaged ({exc})"
        else:
            why = "holds no settings"
        if not isinstance(raw, dict):  # kept beside: the next save would write the defaults over it
            kept = keep_aside(path)
            log.warning("settings file %s %s; using defaults (the file is kept as %s)", path, why, kept)
            return cls()
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in raw.items() if k in names}
        obj = cls(**known, extra={k: v for k, v in raw.items() if k not in names})
        obj.validate()
        return obj

    def save(self, path: Path | None = None) -> str:
        """Write the settings file; '' when saved, else why not (a full disk, a read-only data folder):
        the settings still apply until the app closes, so the caller tells the user and carries on."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        target = path or default_path()
        try:
            write_atomic(target, json.dumps({**self.extra, **data}, indent=2).encode("utf-8"))
        except OSError as exc:
            log.warning("could not save the settings to %s: %s", target, exc)
            return f"The settings could not be saved in {target.parent} ({exc.strerror or exc}); they apply until " \
                   "Hourglass is closed."
        return ""

    def validate(self) -> None:
        """Replace out-of-range values (from a hand-edited file) with defaults."""
        d = Settings()
        if not isinstance(self.device, str) or self.device not in DEVICES and not is_gpu_id(self.device):
            self.device = d.device
        for name, choices in (("theme", THEMES), ("quality", QUALITIES), ("format", FORMATS), ("fullres", FULLRES),
                              ("raw_jpeg", RAW_JPEG)):
            if not isinstance(getattr(self, name), str) or getattr(self, name) not in choices:
                setattr(self, name, getattr(d, name))
        if not _whole(self.jpeg_quality) or not 1 <= self.jpeg_quality <= 100:
            self.jpeg_quality = d.jpeg_quality
        if self.threads is not None and (not _whole(self.threads) or not 1 <= self.threads <= MAX_THREADS):
            self.threads = d.threads
        try:
            strength = float(self.strength)
            if not math.isfinite(strength) or isinstance(self.strength, bool):
                raise ValueError(self.strength)
            self.strength = min(1.0, max(0.0, strength))
        except (TypeError, ValueError):
            self.strength = d.strength
        if not isinstance(self.model, str) or not self.model:
            self.model = "default"
        if not isinstance(self.restore_clean, bool):
            self.restore_clean = d.restore_clean
        for name in ("srgb", "remove_location", "record", "screen_profile", "side_by_side"):
            if not isinstance(getattr(self, name), bool):
                setattr(self, name, getattr(d, name))
        # a typed folder: "~/Restored" is in the home folder, and so is a relative one (the app's working
        # folder is wherever it was started from, often "/")
        if not isinstance(self.output_dir, str):
            self.output_dir = d.output_dir
        elif self.output_dir.strip():
            folder = Path(os.path.expanduser(self.output_dir.strip()))
            self.output_dir = str(folder if folder.is_absolute() else Path.home() / folder)
        else:
            self.output_dir = ""
        self.name_suffix = clean_suffix(self.name_suffix if isinstance(self.name_suffix, str) else "")

    # --------------------------------------------------------------- output naming

    def output_extension(self, photo: Path) -> str:
        return _EXT.get(self.format) or default_output_extension(photo)

    def output_folder(self, photo: Path, root: Path | None) -> Path:
        """`<photo folder>/restored`, or the chosen folder, mirroring a dropped folder's sub-folders."""
        if not self.output_dir:
            return photo.parent / RESTORED_DIR
        base = Path(self.output_dir)
        if root is not None:
            try:
                return base / root.name / photo.parent.relative_to(root)
            except ValueError:
                pass
        return base

    def output_path(self, photo: Path, root: Path | None = None) -> Path:
        """Where the restored photo goes: never an existing file (`name (1).ext`, `name (2).ext`, …)."""
        return free_name(self.planned_output(photo, root))

    def planned_output(self, photo: Path, root: Path | None = None) -> Path:
        """The result's name before numbering: where (and beside which) earlier runs saved theirs."""
        return self.output_folder(photo, root) / f"{photo.stem}{self.name_suffix}{self.output_extension(photo)}"

    def job_format(self) -> tuple[str | None, int | None]:
        """(format, bit_depth) for the engine's job options."""
        return {"same": (None, None), "png": ("PNG", None), "jpeg": ("JPEG", 8), "tiff16": ("TIFF", 16),
                "webp": ("WEBP", 8), "avif": ("AVIF", 8)}[self.format]


def free_name(path: Path) -> Path:
    """`path` if nothing is there, else the first free `stem (n).ext`."""
    return numbered_name(path, os.path.lexists)


def default_path() -> Path:
    return data_dir() / "settings.json"
