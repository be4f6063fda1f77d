"""Results the user throws away go to the desktop's trash, as a file manager's do, and Ctrl+Z takes them back
out: a result trashed by a slip of the hand while a batch is reviewed from the keyboard comes back to its
folder and to its photo's row."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFile

from app.queue_model import BatchQueue, ItemState, QueueItem


def move_to_trash(path: str) -> str | None:
    """Move `path` to the desktop's trash (freedesktop.org trash on Linux, the Recycle Bin, the macOS Trash):
    where it went, or None where that disk has none (nothing is deleted then)."""
    file = QFile(path)
    return file.fileName() if file.moveToTrash() else None


def take_back(in_trash: str, original: str) -> str:
    """Move a file `move_to_trash` put at `in_trash` back to `original`, and drop the trash's own record of it
    (freedesktop's `.trashinfo`, the Recycle Bin's `$I` file), so the trash does not list it any more.
    '' when done, else why not; a file at `original` is never written over."""
    name = Path(original).name
    if os.path.lexists(original):
        return f"a file named {name} is in its folder again"
    if not os.path.lexists(in_trash):
        return f"{name} is no longer in the trash (emptied, or put back from there)"
    try:
        shutil.move(in_trash, original)
    except OSError as exc:
        return f"{name} could not be moved back out of the trash: {exc.strerror or exc}"
    for record in _trash_records(Path(in_trash)):
        try:
            record.unlink()
        except OSError:  # (the file is back; a stale record only lists it in the trash, it deletes nothing)
            pass
    return ""


def _trash_records(in_trash: Path) -> list[Path]:
    """The trash's own notes on a file it holds: freedesktop.org's `info/NAME.trashinfo` beside `files/`
    (which also holds the original path), Windows' `$I…` beside the `$R…` file; macOS keeps none."""
    records = []
    if in_trash.parent.name == "files":
        records.append(in_trash.parent.parent / "info" / f"{in_trash.name}.trashinfo")
    if in_trash.name.startswith("$R"):
        records.append(in_trash.with_name("$I" + in_trash.name[2:]))
    return [r for r in records if r.is_file()]


@dataclass
class Trashed:
    """A result moved to the trash with its photo's row before and after: what Ctrl+Z needs to undo it."""

    item_id: str
    photo: str
    result: str
    in_trash: str
    before: dict[str, Any]
    after: tuple  # `row_of(item)` right after: the row is put back only if nothing has changed it since


def trashed(item: QueueItem, before: dict[str, Any], result: str, in_trash: str) -> Trashed:
    """The record of `item`'s `result`, just trashed (`before`: the row's `to_json()` before the trash)."""
    return Trashed(item.id, item.path, result, in_trash, before, row_of(item))


def row_of(item: QueueItem) -> tuple:
    """What a trash (and its undo) changes in a photo's row: its state and results."""
    return item.state, item.output_path, item.saved_strength, [list(x) for x in item.previous]


def item_of(queue: BatchQueue, entry: Trashed) -> QueueItem | None:
    """The row of a trashed result's photo: by its id, else by its path (removed and added again since)."""
    return queue.get(entry.item_id) or next((i for i in queue if i.path == entry.photo), None)


def take_back_results(queue: BatchQueue, entries: list[Trashed]) -> tuple[list[str], list[str]]:
    """Each result back in its folder and its photo's row as it was before, where the row is still as the
    trash left it (restored again since, or removed, it is left as it is). A photo being restored again
    keeps its result in the trash: the new result may be saved under that very name. (what to tell, what
    could not be done)."""
    said, failed, rows = [], [], []
    for entry in entries:
        name = Path(entry.result).name
        item = item_of(queue, entry)
        if item is not None and item.state in (ItemState.QUEUED, ItemState.RUNNING):
            failed.append(f"{item.name} is being restored again, so {name} stays in the trash (the file manager "
                          "restores it)")
            continue
        why = take_back(entry.in_trash, entry.result)
        if why:
            failed.append(why)
            continue
        if item is not None and row_of(item) == entry.after:
            rows.append((item, entry.before))
            said.append(f"{name} is back from the trash and is {item.name}'s result again")
        else:
            said.append(f"{name} is back from the trash, in its folder (its photo's row has changed since, so "
                        "it is left as it is)")
    queue.revert(rows)  # (one change for all: the window refreshes once)
    return said, failed
