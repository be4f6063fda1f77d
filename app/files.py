"""Turning dropped or opened paths into photos: recursive folder scan, image filter, de-duplication.

Pure Python (no Qt); runs in a thread executor because folders can be large. What counts as a photo is
the engine's own list (engine.filetypes, standard library only).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.filetypes import (
    RESTORED_DIR,
    describe_paired,
    describe_passed_over,
    describe_unreadable,
    folder_photos,
    is_photo,
    named_companions,
)


@dataclass(frozen=True)
class FoundPhoto:
    path: Path  # absolute
    root: Path | None  # the dropped folder it was found in (its sub-folders are mirrored), None for a file


@dataclass
class ScanResult:
    photos: list[FoundPhoto] = field(default_factory=list)
    already_queued: int = 0  # photos found again (already in the queue, or dropped twice)
    cannot_open: list[Path] = field(default_factory=list)  # dropped non-photos, and other images in folders
    paired: list[Path] = field(default_factory=list)  # the other file of RAW+JPEG shots (Settings: which is taken)
    unreadable: list[Path] = field(default_factory=list)  # in folders: links to missing files, pipes
    pairs: str = "raw"

    def remark(self) -> str:
        """What was not added and why, for the status bar ('' when everything was)."""
        parts = []
        if self.already_queued:
            parts.append(f"{self.already_queued} already in the queue")
        if self.cannot_open:
            parts.append("passed over " + describe_passed_over(self.cannot_open))
        if self.paired:
            parts.append(f"passed over {describe_paired(self.paired, self.pairs)} (Settings → RAW+JPEG shots)")
        if self.unreadable:
            parts.append(f"passed over {describe_unreadable(self.unreadable)}")
        return "; ".join(parts)


def scan(paths: Iterable[str | os.PathLike[str]], known: Iterable[str] = (),
         exclude: str | os.PathLike[str] | None = None, result_suffix: str = "", pairs: str = "raw") -> ScanResult:
    """Expand folders recursively (sorted), keep photos only, drop duplicates and `known` paths.

    Hidden entries, our `restored` folders, `exclude` (a chosen output folder) and, in folders, files whose
    name ends with `result_suffix` (results saved beside their photos) are not taken. Images Hourglass
    cannot open (a GIF, a Photoshop file) are counted, so the user hears about them; sidecars and other
    files in a photo folder are not. Of a camera's RAW+JPEG shot only one file is taken (`pairs`, see
    `engine.filetypes.PAIR_CHOICES`), and the other is counted.
    """
    seen = {os.path.normcase(os.path.abspath(p)) for p in known}
    skip = os.path.normcase(os.path.abspath(exclude)) if exclude else None
    result = ScanResult(pairs=pairs)

    def add(p: Path, root: Path | None) -> None:
        key = os.path.normcase(str(p))
        if key in seen:
            result.already_queued += 1
        else:
            seen.add(key)
            result.photos.append(FoundPhoto(p, root))

    paths = [Path(os.path.abspath(raw)) for raw in paths]
    named_pairs = named_companions(paths, pairs)
    for p in paths:
        if p.is_dir():  # our own default output folders and a chosen one inside it are not inputs
            found = folder_photos(
                p, lambda d: d.name == RESTORED_DIR or os.path.normcase(str(d)) == skip, result_suffix, pairs)
            for f in found.photos:
                add(f, p)
            result.cannot_open += found.others
            result.paired += found.paired
            result.unreadable += found.unreadable
        elif p in named_pairs:
            result.paired.append(p)
        elif p.is_file() and is_photo(p):
            add(p, None)
        elif p.is_file():
            result.cannot_open.append(p)
    return result
