"""Turning dropped or opened paths into photos: recursive folder scan, image filter, de-duplication.

Pure Python (no Qt); runs in a thread executor because folders can be large.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Mirror of engine.imaging.SUPPORTED_EXTENSIONS (the GUI may not import engine.imaging).
RAW_EXTENSIONS = frozenset({".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf", ".rw2"})
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".heic", ".heif", ".avif"} | RAW_EXTENSIONS
)


RESTORED_DIR = "restored"  # the default output folder beside each photo


@dataclass(frozen=True)
class FoundPhoto:
    path: Path  # absolute
    root: Path | None  # the dropped folder it was found in (its sub-folders are mirrored), None for a file


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def scan(paths: Iterable[str | os.PathLike[str]], known: Iterable[str] = (),
         exclude: str | os.PathLike[str] | None = None, result_suffix: str = "") -> list[FoundPhoto]:
    """Expand folders recursively (sorted), keep image files only, drop duplicates and `known` paths.

    Hidden entries, our `restored` folders, `exclude` (a chosen output folder) and, in folders, files whose
    name ends with `result_suffix` (results saved beside their photos) are not taken.
    """
    seen = {os.path.normcase(os.path.abspath(p)) for p in known}
    skip = os.path.normcase(os.path.abspath(exclude)) if exclude else None
    found: list[FoundPhoto] = []

    def add(p: Path, root: Path | None) -> None:
        key = os.path.normcase(str(p))
        if key not in seen:
            seen.add(key)
            found.append(FoundPhoto(p, root))

    for raw in paths:
        p = Path(os.path.abspath(raw))
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p):
                # hidden folders and our own default output folders are not inputs
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != RESTORED_DIR
                                     and os.path.normcase(os.path.join(dirpath, d)) != skip)
                for name in sorted(filenames):
                    f = Path(dirpath) / name
                    if not name.startswith(".") and is_image(f) and not (
                            result_suffix and f.stem.endswith(result_suffix)):
                        add(f, p)
        elif p.is_file() and is_image(p):
            add(p, None)
    return found
