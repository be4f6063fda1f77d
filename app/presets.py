"""Named sets of settings, as Lightroom's export presets: how photos are restored and how their results are
saved ("For the web": JPEG at 85, sRGB, no location, a `_web` suffix; "Archive": 16-bit TIFF, best quality),
chosen in Settings in one step. The device, the look of the window and the screen's profile belong to this
computer, not to a way of working, so they are not part of a preset. Kept in `presets.json` in the data
folder; a damaged file is kept aside, as the settings file is."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

from app.paths import data_dir, keep_aside, write_atomic
from app.settings import Settings

log = logging.getLogger("app.presets")

FIELDS = ("quality", "fullres", "restore_clean", "raw_jpeg", "output_dir", "name_suffix", "format", "jpeg_quality",
          "srgb", "remove_location", "record")  # (strength is the view's slider, where it is seen)
MAX_NAME = 60


def default_path() -> Path:
    return data_dir() / "presets.json"


def values_of(settings: Settings) -> dict[str, Any]:
    """What a preset made from `settings` holds."""
    return {name: getattr(settings, name) for name in FIELDS}


def applied(settings: Settings, preset: dict[str, Any]) -> Settings:
    """A copy of `settings` with `preset`'s values (validated: a hand-edited preset cannot set a bad one)."""
    out = dataclasses.replace(settings, extra=dict(settings.extra))
    for name, value in preset.items():
        if name in FIELDS:
            setattr(out, name, value)
    out.validate()
    return out


def clean_name(name: str) -> str:
    """A preset's name as shown: one line, no surrounding spaces, at most MAX_NAME characters."""
    return " ".join(str(name).split())[:MAX_NAME]


def load(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """The presets by name (empty when there are none). Values of the wrong kind take the defaults, value by
    value, as in the settings; an unreadable file is kept aside as `presets.json.unreadable`."""
    path = path or default_path()
    try:
        raw = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raw, why = None, str(exc)
    else:
        why = "holds no presets"
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        kept = keep_aside(path) if path.exists() else path
        log.warning("presets file %s unreadable (%s); kept as %s", path, why, kept)
        return {}
    presets = {}
    for name, values in raw.items():
        if clean_name(name):
            presets[clean_name(name)] = values_of(applied(Settings(), values))
    return presets


def save(presets: dict[str, dict[str, Any]], path: Path | None = None) -> str:
    """Write the presets; '' when saved, else why not (the caller says so)."""
    target = path or default_path()
    try:
        write_atomic(target, json.dumps(presets, indent=2, ensure_ascii=False).encode("utf-8"))
    except OSError as exc:
        log.warning("could not save the presets to %s: %s", target, exc)
        return f"The presets could not be saved in {target.parent} ({exc.strerror or exc})."
    return ""


def matching(presets: dict[str, dict[str, Any]], settings: Settings) -> str | None:
    """The name of the preset `settings` are set as, if any."""
    values = values_of(settings)
    return next((name for name, preset in presets.items() if preset == values), None)
