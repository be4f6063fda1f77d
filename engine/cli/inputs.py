"""Which photos a command takes (folders searched, results and companions passed over) and where each
one's result goes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from engine.filetypes import RESTORED_DIR

EMPTY_FOLDER = "no supported photos in this folder"


def collect_inputs(paths: list[str], exclude: str | os.PathLike | None = None,
                   result_suffix: str = "", pairs: str = "both") -> tuple[list[Path], list[str], list[str]]:
    """Expand folders recursively into photos; returns (files, problems, notes).

    In folders, hidden files and folders (macOS's `._IMG_0001.JPG` companions, `.thumbnails`), our
    `restored` folders, the `exclude` folder (the output, when it lies inside an input folder) and files
    whose name ends with `result_suffix` (results saved beside their photos) are passed over: a second run
    must not restore the first run's results. Images found in a folder that Hourglass cannot open (GIF,
    PSD ...) are named in a note. A file named directly is taken (reading it says what is wrong with it),
    unless it is the other file of a camera's RAW+JPEG shot named with it: `pairs` says which file of such
    a shot is taken, in folders and among the files named (`engine.filetypes.PAIR_CHOICES`).
    """
    from engine.filetypes import describe_paired, describe_passed_over, describe_unreadable, named_companions

    skip = Path(exclude).resolve() if exclude is not None else None
    files, problems, notes, seen = [], [], [], set()
    named_pairs = named_companions(map(Path, paths), pairs)
    hint = " (--pairs both takes them too)"
    if named_pairs:
        notes.append(f"passed over {describe_paired(sorted(named_pairs), pairs)}{hint}")
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            scan = _folder_photos(p, skip, result_suffix, pairs)
            if scan.others:
                notes.append(f"{p}: passed over {describe_passed_over(scan.others)}")
            if scan.paired:
                notes.append(f"{p}: passed over {describe_paired(scan.paired, pairs)}{hint}")
            if scan.unreadable:
                notes.append(f"{p}: passed over {describe_unreadable(scan.unreadable)}")
            if not scan.photos:
                problems.append(f"{p}: {EMPTY_FOLDER}")
            candidates = scan.photos
        elif p in named_pairs:
            continue
        else:
            candidates = [p]
        for f in candidates:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                files.append(f)
    return files, problems, notes


def _folder_photos(folder: Path, skip: Path | None, result_suffix: str, pairs: str):
    """`engine.filetypes.folder_photos` of `folder`, passing over our `restored` folders and the output
    folder `skip`."""
    from engine.filetypes import folder_photos

    return folder_photos(folder, lambda d: d.name == RESTORED_DIR or d.resolve() == skip, result_suffix, pairs)


def inputs_or_complain(inputs: list[str], when_empty: str, exclude: str | None = None,
                        result_suffix: str = "", pairs: str = "both",
                        empty_ok: bool = False) -> tuple[list[Path], list[str]]:
    """`collect_inputs`, with each note and problem, and `when_empty` if no photo was found, printed on
    stderr. Notes (images Hourglass cannot open, passed over in a folder) do not fail the run; with
    `empty_ok`, neither do empty folders nor finding no photo."""
    files, problems, notes = collect_inputs(inputs, exclude, result_suffix, pairs)
    if empty_ok:
        problems = [p for p in problems if not p.endswith(EMPTY_FOLDER)]
    for note in notes:
        print(f"hourglass: note: {note}", file=sys.stderr)
    for problem in problems:
        print(f"hourglass: {problem}", file=sys.stderr)
    if not files and not empty_ok:
        print(f"hourglass: {when_empty}", file=sys.stderr)
    return files, problems


def plan_outputs(files: list[Path], inputs: list[str], out_dir: Path | None, fmt: str | None,
                 suffix: str) -> list[tuple[Path, str]]:
    """Each photo's output path, with a note when an earlier photo of this run took its plain name.

    In `out_dir`, mirroring the input folders' trees; without one, in a `restored` folder beside each photo.

    Photos of one folder that differ only by extension (RAW + JPEG pairs; IMG_1.jpg and IMG_1.png with
    --format png) would make the same file: the later ones get `name (1).ext`, `name (2).ext` ..., so
    neither is refused as existing nor, with --overwrite, lost under the other's result. The names depend
    on this run only, so running it again with --overwrite replaces the same files.
    """
    from engine.api import output_path_for
    from engine.filetypes import numbered_name

    planned: dict[str, Path] = {}
    out = []
    for path in files:
        folder = path.parent / RESTORED_DIR if out_dir is None else out_dir / output_subfolder(path, inputs)
        target = output_path_for(path, folder, fmt, suffix)
        note = ""
        first = planned.get(os.path.normcase(target))
        if first is not None:  # taken by this run, not the disk: a rerun gives the same names
            candidate = numbered_name(target, lambda p: os.path.normcase(p) in planned)
            note = f"{first.name} makes {target.name} in this run, so this one is saved as {candidate.name}"
            target = candidate
        planned[os.path.normcase(target)] = path
        out.append((target, note))
    return out


def output_subfolder(photo: Path, inputs: list[str]) -> Path:
    """The photo's folder relative to the input folder it was found in (empty for a photo named directly):
    the output mirrors a folder's tree, so the IMG_0001.JPG of two camera folders do not collide."""
    for raw in inputs:
        root = Path(raw)
        if root.is_dir():
            try:
                return photo.parent.relative_to(root)
            except ValueError:
                continue
    return Path()


def exists(path: Path) -> bool:
    """Whether a file is there; False where the name itself is refused (too long), which restoring says."""
    try:
        return path.exists()
    except OSError:
        return False
