"""Put a restored photo's result into the photo's own file, for editors that hand a photo to another app and
read the same file back: Lightroom Classic's *Edit In* (an `-Edit.tif` copy), Capture One's *Edit With*,
Photo Mechanic, digiKam. Results normally go beside the photo (`restored/`); those editors only see the file
they sent. The photo as it was is copied to `Originals/` in the data folder first, and *Put back* returns it.

Only a result of the photo's own kind is put in (a TIFF for a TIFF: format "same as the photo"), and only
while the photo is the file it was restored from: an edit made since would be lost.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from app.paths import data_dir, replace_atomically
from app.queue_model import BatchQueue, QueueItem, file_stamp, photo_changed, restored_file
from engine.filetypes import default_output_extension, numbered_name

SAME_KIND = {".jpeg": ".jpg", ".tiff": ".tif", ".heif": ".heic"}


def _kind(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    return SAME_KIND.get(suffix, suffix)


def originals_dir() -> Path:
    return data_dir() / "Originals"


def originals_held(folder: Path | None = None) -> tuple[int, int]:
    """(how many photos, how many bytes) `Originals/` holds from earlier replacements: nothing there is ever
    deleted by Hourglass but *Put back*, so a long run of Edit In photos (100 MB TIFFs) would fill a disk
    unseen; the question before each replacement says it."""
    count = size = 0
    try:
        with os.scandir(folder or originals_dir()) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    count, size = count + 1, size + entry.stat(follow_symlinks=False).st_size
    except OSError:  # (none yet, or unreadable: nothing to say)
        pass
    return count, size


def why_not_replace(item: QueueItem) -> str:
    """'' when `item`'s result can be put into its photo's file, else why not (for the menu's tooltip)."""
    result = restored_file(item)
    if result is None:
        return "It has no restored file."
    if item.replaced_from:
        return "The photo already holds its result."
    if not Path(item.path).is_file():
        return "The photo is no longer where it was added."
    if _kind(result) != _kind(item.path):
        kind = Path(item.path).suffix.lstrip(".").upper()
        if _kind("x" + default_output_extension(Path(item.path))) != _kind(item.path):  # (HEIC, camera RAW)
            return f"Hourglass cannot write {kind} files: the editor should send a TIFF."
        return (f"Its result is a {Path(result).suffix.lstrip('.').upper()} file and the photo a {kind}: "
                "restore it with Format “same as the photo”.")
    if photo_changed(item):
        return "The photo has changed since it was restored: its edits would be lost. Retry first."
    if not os.stat(item.path).st_mode & 0o222:  # marked read-only (renaming over it would work: it was
        return "The photo is read-only."          # protected on purpose; also Windows' read-only attribute)
    return ""


def _copy_into(source: Path, target: Path) -> None:
    """Copy `source` over `target` through a temporary file renamed over it (`replace_atomically`), with
    `target`'s permissions and its bytes on the disk before the rename."""
    def fill(tmp: str) -> None:
        shutil.copyfile(source, tmp)
        try:
            shutil.copymode(target, tmp)
        except OSError:
            pass
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())

    replace_atomically(target, fill)


def replace_photo(queue: BatchQueue, item: QueueItem, keep_in: Path | None = None) -> str:
    """Copy the photo to `keep_in` (`Originals/`), then its result over the photo. Returns what to tell the
    user; raises OSError (with the photo untouched) when either copy fails."""
    why = why_not_replace(item)
    if why:
        raise ValueError(f"{item.name}: {why}")
    photo, result = Path(item.path), Path(item.output_path or "")
    keep_in = keep_in or originals_dir()
    keep_in.mkdir(parents=True, exist_ok=True)
    kept = numbered_name(keep_in / photo.name, Path.exists)
    try:
        shutil.copy2(photo, kept)
        _copy_into(result, photo)
    except OSError:
        kept.unlink(missing_ok=True)  # (a part of the photo's copy, when the disk filled while it was made)
        raise
    queue.update(item, replaced_from=str(kept), photo_stamp=file_stamp(photo), photo_changed=False)
    return f"{photo.name} now holds its restored version; the photo as it was is kept at {kept}"


def put_back(queue: BatchQueue, item: QueueItem) -> str:
    """Return the kept photo into the photo's file (the result in `restored/` stays). Raises OSError when it
    cannot; ValueError when there is nothing to put back."""
    kept = Path(item.replaced_from or "")
    if not item.replaced_from or not kept.is_file():
        raise ValueError(f"{item.name}: the photo as it was is not at {kept} any more" if item.replaced_from
                         else f"{item.name} holds no result to take out")
    photo = Path(item.path)
    if not photo.parent.is_dir():
        raise ValueError(f"{item.name}: its folder is no longer there")
    _copy_into(kept, photo)  # (with a new modification time: the editor that sent it reads it again)
    kept.unlink()
    queue.update(item, replaced_from=None, photo_stamp=file_stamp(photo), photo_changed=False)
    return f"{photo.name} is the photo as it was again; its result is still at {item.output_path}"
