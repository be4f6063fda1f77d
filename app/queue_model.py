"""The batch queue: photos with their state, detection, progress and outcome. Pure Python, no Qt.

Every change is announced to listeners (the Qt adapter, the window) and, when it is worth keeping, saved
atomically to `queue.json` in the data folder; on the next start unfinished photos come back as pending.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.paths import data_dir, keep_aside, write_atomic
from engine import protocol as P
from engine.filetypes import (  # (file_stamp re-exported: the queue's stamps of photos)
    file_stamp,
    photo_digest,
)
from engine.protocol import UNSURE, runner_up
from engine.wording import count

log = logging.getLogger("app.queue")


DETECTION_FAILED = "Detection failed: "  # how a detect_message begins when the engine could not read the photo


class ItemState(str, enum.Enum):
    PENDING = "pending"
    DETECTING = "detecting"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


S = ItemState
TRANSITIONS: dict[ItemState, frozenset[ItemState]] = {
    S.PENDING: frozenset({S.DETECTING, S.QUEUED}),
    S.DETECTING: frozenset({S.PENDING, S.QUEUED, S.DONE}),  # → queued: Start was pressed while it was detected;
    # → done: the analysis found its result from an earlier run
    S.QUEUED: frozenset({S.RUNNING, S.PENDING, S.CANCELLED}),
    S.RUNNING: frozenset({S.DONE, S.FAILED, S.CANCELLED, S.QUEUED}),  # → queued: the engine restarted
    S.DONE: frozenset({S.PENDING, S.QUEUED}),  # → queued: Retry restores it again
    S.FAILED: frozenset({S.PENDING, S.QUEUED}),
    S.CANCELLED: frozenset({S.PENDING, S.QUEUED}),
}
FINISHED = frozenset({S.DONE, S.FAILED, S.CANCELLED})
ACTIVE = frozenset({S.DETECTING, S.RUNNING})


class IllegalTransition(ValueError):
    pass


@dataclass
class QueueItem:
    path: str
    root: str | None = None  # the dropped folder this photo came from
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: ItemState = ItemState.PENDING
    task: str = "auto"  # the user's choice: auto or a degradation
    detected_task: str | None = None
    confidence: float | None = None
    second_task: str | None = None  # the detector's next guess, shown when it was unsure of the first
    second_confidence: float | None = None
    detect_message: str = ""  # "not available", or DETECTION_FAILED and the engine's reason
    progress: float = 0.0
    eta_s: float | None = None
    stage: str = ""
    output_path: str | None = None
    error_code: str | None = None
    error_message: str = ""
    error_detail: str = ""
    log_tail: list[str] = field(default_factory=list)
    elapsed_s: float | None = None
    note: str = ""  # something to know about a finished photo (a warning from the engine, …)
    skipped: bool = False  # done without restoring: it already looked fine (detected "none")
    saved_strength: float = 1.0  # the strength the restored file was saved with (the view must not blend twice)
    # the photo's earlier results, [path, strength, note, photo_stamp], oldest first (a Retry's or a Save at
    # N%'s predecessor, kept on disk): "Back to …" makes the last one the photo's result again (`earlier`,
    # `as_current`; queues saved before the stamp have three-item entries)
    previous: list[list] = field(default_factory=list)
    width: int | None = None  # the photo's upright size, from the engine's analysis (for the batch's time left)
    height: int | None = None
    # the photo's file as it was when restored ([size, mtime in ns], `file_stamp`): a photo edited since (in
    # another app) no longer matches its result, which the queue then says (`BatchQueue.check_photos`)
    photo_stamp: list[int] | None = None
    photo_changed: bool = False
    replaced_from: str | None = None  # the photo's file holds its result (`app.replace`); the photo as it was
    already_restored: str = ""  # the photo is a result Hourglass saved (its XMP): how it was made; task auto skips it
    photo_sha256: str = ""  # the photo's bytes when restored (the engine's digest): a new time alone is not an edit

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def restored(self) -> bool:
        """Finished with a restored file (not skipped as already fine): Retry would restore it again."""
        return self.state is ItemState.DONE and not self.skipped

    @property
    def effective_task(self) -> str:
        """The task sent to the engine: the user's override, else the detected one, else auto. A result
        Hourglass saved goes as auto: the engine skips it (or, asked to restore photos that look fine, detects
        it again and restores it)."""
        if self.task != "auto":
            return self.task
        if self.left_as_result:
            return "auto"
        return self.detected_task or "auto"

    @property
    def left_as_result(self) -> bool:
        """A result Hourglass saved, with no degradation chosen for it: the batch leaves it as it is (restoring
        it again would restore it twice)."""
        return bool(self.already_restored) and self.task == "auto"

    @property
    def unreadable(self) -> str:
        """Why the engine could not read the photo when analysing it ("" when it could, or was not asked):
        its restore will fail too."""
        return self.detect_message.removeprefix(DETECTION_FAILED) if self.detect_message.startswith(
            DETECTION_FAILED) else ""

    @property
    def unsure(self) -> bool:
        """The detector's answer scored below `UNSURE`: the column shows it as a question."""
        return self.confidence is not None and self.confidence < UNSURE

    @property
    def second_guess(self) -> str:
        """ "; next: snow 40%" when the detector was unsure of its answer, else ""."""
        if not self.unsure or not self.second_task or self.second_confidence is None:
            return ""
        return f"; next: {self.second_task} {self.second_confidence:.0%}"

    def to_json(self) -> dict[str, Any]:
        # a flat copy, not dataclasses.asdict: its deep copy made saving a 2,000-photo queue take ~80 ms,
        # and the queue is saved on every state change (every field here is a plain value or a list of str,
        # but `previous`, a short list of [path, strength, note])
        d = {f: getattr(self, f) for f in _PERSISTED}
        d["state"] = self.state.value
        d["log_tail"] = list(self.log_tail)
        d["previous"] = [[*x[:3], list(x[3]) if len(x) > 3 and x[3] else None] for x in self.previous]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> QueueItem:
        """An item from the saved queue. Each value is checked against its field (the file may be from another
        version, or edited by hand): one that does not fit takes the field's default; without a path (a
        string) there is no item (ValueError)."""
        if not isinstance(d, dict) or not isinstance(d.get("path"), str) or not d["path"]:
            raise ValueError("an item without a path")
        kwargs = {k: v for k, v in d.items() if k in _CHECKS and _CHECKS[k](v)}
        if "saved_strength" in kwargs:
            kwargs["saved_strength"] = min(1.0, max(0.0, float(kwargs["saved_strength"])))
        item = cls(**kwargs)
        try:
            item.state = ItemState(d.get("state", "pending"))
        except ValueError:
            item.state = ItemState.PENDING
        if item.state not in FINISHED:  # interrupted work comes back as pending
            item.state = ItemState.PENDING
        if item.state is ItemState.DONE:
            item.progress = 1.0
        return item


def restored_file(item: QueueItem) -> str | None:
    """The item's restored photo when it exists on disk (not for skipped, failed or unfinished photos)."""
    if item.restored and item.output_path and Path(item.output_path).is_file():
        return item.output_path
    return None


def earlier(item: QueueItem) -> list:
    """`item`'s result as an entry of `previous`, with the stamp of the photo it was made from."""
    return [item.output_path, item.saved_strength, item.note, item.photo_stamp]


def as_current(entry: list) -> dict[str, Any]:
    """The fields that make an entry of `previous` the photo's result again."""
    return {"output_path": entry[0], "saved_strength": entry[1], "note": entry[2],
            "photo_stamp": entry[3] if len(entry) > 3 else None, "photo_sha256": ""}  # (its stamp alone judges it)


def _stamp(v: Any) -> bool:
    return v is None or (isinstance(v, list) and len(v) == 2 and all(
        isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v))


def photo_look(item: QueueItem) -> tuple[list[int] | None, bool]:
    """The photo's stamp now, and whether, though the stamp moved, its bytes are those its result was made
    from (`photo_sha256`: the file was touched, synced or copied over with the same bytes): then it is not an
    edit. Reads the whole file only then; off the GUI thread where photos may be on a network share."""
    now = file_stamp(item.path)
    if now is None or not item.photo_stamp or now == item.photo_stamp or not item.photo_sha256:
        return now, False
    try:
        return now, photo_digest(item.path) == item.photo_sha256
    except OSError:
        return now, False


def photo_changed(item: QueueItem, now: list[int] | None = None) -> bool:
    """Whether a finished item's photo is no longer the file it was restored (or left as it was) from: edited,
    replaced. From its stamp `now` (taken when not given). A photo that is gone is not "changed": the panel
    says it is gone. A photo left as it was counts too: found fine then, it may need restoring now."""
    if item.state is not ItemState.DONE or not item.photo_stamp:
        return False
    now = now if now is not None else file_stamp(item.path)
    return now is not None and now != item.photo_stamp


def detection_fields(task: str | None, confidence: float | None, scores: dict[str, float]) -> dict[str, Any]:
    """A queue item's fields for a detection: the answer, its score and the detector's next guess."""
    second_task, second_confidence = runner_up(task, scores) or (None, None)
    return {"detected_task": task, "confidence": confidence, "second_task": second_task,
            "second_confidence": second_confidence, "detect_message": ""}


_PERSISTED = tuple(f for f in QueueItem.__dataclass_fields__ if f not in ("progress", "eta_s", "stage"))


def _text(v: Any) -> bool:
    return isinstance(v, str)


def _text_or_none(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _number_or_none(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v))


def _size_or_none(v: Any) -> bool:
    return v is None or (isinstance(v, int) and not isinstance(v, bool) and v > 0)


def _task_or_none(v: Any) -> bool:
    return v is None or v in P.TASKS


# What a saved value must be for each persisted field (`QueueItem.from_json`); "state" is checked on its own.
_CHECKS: dict[str, Callable[[Any], bool]] = {
    "path": _text, "root": _text_or_none, "id": lambda v: isinstance(v, str) and bool(v),
    "task": lambda v: v in P.TASKS, "detected_task": _task_or_none, "confidence": _number_or_none,
    "second_task": _task_or_none, "second_confidence": _number_or_none, "detect_message": _text,
    "output_path": _text_or_none, "error_code": _text_or_none, "error_message": _text, "error_detail": _text,
    "log_tail": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "elapsed_s": _number_or_none, "note": _text, "skipped": lambda v: isinstance(v, bool),
    "saved_strength": lambda v: _number_or_none(v) and v is not None,
    "previous": lambda v: isinstance(v, list) and all(
        isinstance(x, list) and len(x) in (3, 4) and _text(x[0]) and _number_or_none(x[1]) and x[1] is not None
        and _text(x[2]) and (len(x) == 3 or _stamp(x[3])) for x in v),
    "width": _size_or_none, "height": _size_or_none,
    "photo_stamp": _stamp,
    "photo_changed": lambda v: isinstance(v, bool), "replaced_from": _text_or_none, "already_restored": _text,
    "photo_sha256": _text,
}

# (event, items): added | removed | changed | reset | reordered | saving (the save problem changed)
Listener = Callable[[str, list[QueueItem]], None]


SAVE_INTERVAL = 1.0  # seconds: with a scheduler, the queue is saved at most this often (and on `flush`)
Scheduler = Callable[[float, Callable[[], None]], object]  # (delay in s, callback): run it later, once


class BatchQueue:
    """An ordered collection of `QueueItem`s with explicit state transitions and persistence.

    Every change is saved (`autosave`). Without `schedule` each change is written at once. With one (the
    app passes a Qt single-shot timer), changes are coalesced into one save per `SAVE_INTERVAL`: detecting a
    dropped folder of 2,000 photos changes each photo twice, and a save of such a queue costs ~12 ms on the
    GUI thread. A crash then loses at most the last second of state; `flush` writes what is pending.
    """

    def __init__(self, path: Path | None = None, *, autosave: bool = True, schedule: Scheduler | None = None) -> None:
        self.path = path
        self.autosave = autosave
        self._schedule = schedule
        self._dirty = False
        self.save_problem = ""  # why the last save failed ('' when it worked): the window says it once
        self.load_problem = ""  # what of the saved queue could not be read ('' when all of it was)
        self._save_pending = False
        self._last_save = float("-inf")
        self._items: list[QueueItem] = []
        self._by_id: dict[str, QueueItem] = {}
        self._listeners: list[Listener] = []
        self._held: dict[str, QueueItem] | None = None  # "changed" items kept back while `together()` runs
        self._held_persist = False
        self.last_removal: list[tuple[int, QueueItem]] = []  # (position, item) of the last removal: for undo

    # -------------------------------------------------------------- access

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items))

    def __getitem__(self, index: int) -> QueueItem:
        return self._items[index]

    def get(self, item_id: str) -> QueueItem | None:
        return self._by_id.get(item_id)

    def items_of(self, ids: Iterable[str]) -> list[QueueItem]:
        """The items of these ids that are still in the queue (an undo step's, a selection's)."""
        return [i for i in map(self._by_id.get, ids) if i is not None]

    def rows_of(self, ids: Iterable[str]) -> list[int]:
        """The rows of these ids still in the queue, in the queue's order: one pass over it, where `index_of`
        for each of many photos would be one pass each."""
        wanted = set(ids)
        return [row for row, item in enumerate(self._items) if item.id in wanted]

    def index_of(self, item_id: str) -> int:
        item = self._by_id.get(item_id)
        return self._items.index(item) if item is not None else -1

    def paths(self) -> list[str]:
        return [i.path for i in self._items]

    def ids(self) -> list[str]:
        """The photos' ids in the queue's order (an order an undo step can put back: `put_in_order`)."""
        return [i.id for i in self._items]

    def result_paths(self) -> list[str]:
        """Every result the queue knows of (each photo's, and its earlier ones)."""
        return [p for i in self._items for p in (i.output_path, *(e[0] for e in i.previous)) if p]

    def in_state(self, *states: ItemState) -> list[QueueItem]:
        return [i for i in self._items if i.state in states]

    def next_queued(self) -> QueueItem | None:
        return next((i for i in self._items if i.state is ItemState.QUEUED), None)

    def counts(self) -> dict[ItemState, int]:
        out = {s: 0 for s in ItemState}
        for i in self._items:
            out[i.state] += 1
        return out

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # -------------------------------------------------------------- changes

    def add(self, paths: Iterable[tuple[str, str | None]]) -> list[QueueItem]:
        known = set(self.paths())
        new = []
        for path, root in paths:
            if path in known:
                continue
            known.add(path)
            item = QueueItem(path, root)
            new.append(item)
        if new:
            self._items.extend(new)
            self._by_id.update((i.id, i) for i in new)
            self._emit("added", new)
        return new

    def remove(self, ids: Iterable[str]) -> list[QueueItem]:
        position = {item.id: k for k, item in enumerate(self._items)}
        gone = [self._by_id.pop(i) for i in ids if i in self._by_id]
        if gone:
            gone_ids = {i.id for i in gone}
            self._items = [i for i in self._items if i.id not in gone_ids]
            self.last_removal = sorted(((position[i.id], i) for i in gone), key=lambda e: e[0])
            self._emit("removed", gone)
        return gone

    def put_back(self, entries: list[tuple[int, QueueItem]]) -> list[QueueItem]:
        """Put the photos of a removal (its `last_removal`) back where they were, with their results and
        degradation, except those added again since. Photos the engine was working on come back pending,
        under new ids (it may still report on the old ones, which must not touch them); the others keep
        theirs, so the undo steps made before the removal still find them."""
        known = set(self.paths())
        back = []
        for pos, old in entries:  # ascending positions: each insert lands where it was
            if old.path in known:
                continue
            d = old.to_json()
            if old.state in (ItemState.QUEUED, ItemState.RUNNING, ItemState.DETECTING):
                d.pop("id")
            item = QueueItem.from_json(d)
            self._items.insert(min(pos, len(self._items)), item)
            self._by_id[item.id] = item
            back.append(item)
        if back:
            self._emit("added", back)
        return back

    def reorder(self, key: Callable[[QueueItem], Any], *, reverse: bool = False) -> None:
        """Sort the queue (stably) by `key`: the batch then runs in the new order."""
        self._items.sort(key=key, reverse=reverse)
        self._emit("reordered", list(self._items))

    def put_in_order(self, ids: Iterable[str]) -> bool:
        """Put the queue back in an order it had (its ids then, as an undo step keeps them): photos added
        since follow, in their own order, and photos removed since are left out. False if nothing moved."""
        rank = {item_id: k for k, item_id in enumerate(ids)}
        order = sorted(self._items, key=lambda i: rank.get(i.id, len(rank)))  # (stable: those added keep theirs)
        if order == self._items:
            return False
        self._items = order
        self._emit("reordered", list(self._items))
        return True

    def move_to_front(self, ids: Iterable[str]) -> list[QueueItem]:
        """Put these unfinished photos first among those waiting (after the one being restored; their order
        kept): they are restored next. Finished photos stay where they are."""
        wanted = set(ids)
        moved = [i for i in self._items if i.id in wanted and i.state not in FINISHED]
        if moved:
            moving = {i.id for i in moved}
            rest = [i for i in self._items if i.id not in moving]
            at = next((k for k, i in enumerate(rest) if i.state not in FINISHED and i.state is not S.RUNNING),
                      len(rest))
            self._items = rest[:at] + moved + rest[at:]
            self._emit("reordered", list(self._items))
        return moved

    def clear_finished(self) -> list[QueueItem]:
        return self.remove([i.id for i in self._items if i.state is ItemState.DONE])

    def set_state(self, item: QueueItem, state: ItemState, **changes: Any) -> None:
        self.set_states([item], state, **changes)

    def set_states(self, items: Iterable[QueueItem], state: ItemState,
                   each: Callable[[QueueItem], dict[str, Any]] | None = None, **changes: Any) -> list[QueueItem]:
        """`set_state` for many photos at once (all or none), said in one "changed" event: Start on 406
        pending photos, one event each, froze the window for 1.9 s (each event refreshes it, and a refresh
        looks at every photo). `each`: changes of each photo's own, worked out before any is made."""
        items = list(items)
        for item in items:
            if state is not item.state and state not in TRANSITIONS[item.state]:
                raise IllegalTransition(f"{item.name}: {item.state.value} → {state.value}")
        keep_error = changes.pop("keep_error", False)
        own = [each(item) if each is not None else {} for item in items]
        for item, mine in zip(items, own):
            item.state = state
            if state in (ItemState.PENDING, ItemState.QUEUED):
                item.progress, item.eta_s, item.stage, item.photo_changed = 0.0, None, "", False
                if not keep_error:
                    item.error_code, item.error_message, item.error_detail, item.log_tail = None, "", "", []
            for key, value in {**changes, **mine}.items():
                setattr(item, key, value)
        if items:
            self._emit("changed", items)
        return items

    def set_task(self, items: Iterable[QueueItem], task: str) -> None:
        """The user's choice of degradation, for these photos at once. A photo skipped as already fine goes
        back to pending, so that Start restores it with the chosen task."""
        items = list(items)
        back = [i for i in items if i.state is ItemState.DONE and i.skipped and task not in ("auto", "none")]
        self.set_states(back, ItemState.PENDING, task=task, skipped=False, output_path=None, note="",
                        elapsed_s=None)
        going = {i.id for i in back}
        rest = [i for i in items if i.id not in going]
        for item in rest:
            item.task = task
        if rest:
            self._emit("changed", rest)

    def check_photos(self, items: Iterable[QueueItem] | None = None,
                     looks: list[tuple[list[int] | None, bool]] | None = None) -> list[QueueItem]:
        """Look again whether restored photos were edited since: `photo_look` each (one `stat`, and the
        file's digest when only its time moved), or `looks` taken off the GUI thread (in order: a folder on
        a network share answers slowly). A photo whose bytes did not change takes its new stamp. The window
        asks when it is activated, as the user comes back from the editor, and when it shows a photo.
        Returns the items whose flag changed, which are announced."""
        items = list(self._items if items is None else items)
        flipped = []
        for k, item in enumerate(items):
            if self._by_id.get(item.id) is not item:  # removed meanwhile
                continue
            now, same = looks[k] if looks is not None else photo_look(item)
            if same:
                item.photo_stamp = now
            changed = photo_changed(item, now) if not same else False
            if changed != item.photo_changed or same:
                item.photo_changed = changed
                flipped.append(item)
        if flipped:
            self._emit("changed", flipped)
        return flipped

    def revert(self, rows: list[tuple[QueueItem, dict[str, Any]]]) -> None:
        """Put each item back as it was when its dict was its `to_json()`, in one event: an undo, which may
        lead where the batch's transitions do not (a photo left not restored when its only result went to
        the trash is restored again when that result comes back)."""
        for item, before in rows:
            was = QueueItem.from_json({**before, "id": item.id, "path": item.path})
            for name in _PERSISTED:
                setattr(item, name, getattr(was, name))
            item.progress = was.progress
        if rows:
            self._emit("changed", [item for item, _before in rows])

    def update(self, item: QueueItem, *, persist: bool = True, **changes: Any) -> None:
        """Change fields other than the state (`persist=False` for progress ticks)."""
        for key, value in changes.items():
            setattr(item, key, value)
        self._emit("changed", [item], persist=persist)

    # -------------------------------------------------------------- persistence

    def save(self) -> None:
        self._dirty = False
        self._last_save = time.monotonic()
        if self.path is None:
            return
        data = {"version": 1, "items": [i.to_json() for i in self._items]}
        try:  # compact: an indented dump took twice as long, on the GUI thread
            write_atomic(self.path, json.dumps(data, separators=(",", ":")).encode("utf-8"))
        except OSError as exc:
            log.warning("could not save the queue to %s: %s", self.path, exc)
            problem = (f"The queue cannot be saved in {self.path.parent} ({exc.strerror or exc}): it will not come "
                       "back after a restart; the photos and their results are not affected.")
            if problem != self.save_problem:  # once, not at every change
                self.save_problem = problem
                self._emit("saving", [], persist=False)
            return
        if self.save_problem:  # it works again
            self.save_problem = ""
            self._emit("saving", [], persist=False)

    def flush(self) -> None:
        """Write the changes a scheduled save has not written yet (closing, shutting down)."""
        if self._dirty:
            self.save()

    def _request_save(self) -> None:
        if self._schedule is None:
            self.save()
            return
        self._dirty = True
        if self._save_pending:
            return
        wait = self._last_save + SAVE_INTERVAL - time.monotonic()
        if wait <= 0:
            self.save()
        else:
            self._save_pending = True
            self._schedule(wait, self._scheduled_save)

    def _scheduled_save(self) -> None:
        self._save_pending = False
        self.flush()

    def load(self) -> None:
        """Replace the items with the saved queue (unfinished photos as pending). An item that cannot be
        read is left out, not the whole queue; a file that cannot be read at all is kept beside as
        `queue.json.unreadable` (numbered when one is there already; the next save would replace it) and the
        queue starts empty. `load_problem` says either, for the window to tell the user."""
        self.load_problem = ""
        if self.path is None or not self.path.exists():
            return
        try:
            data = json.loads(self._read_saved())
            if not isinstance(data, dict) or not isinstance(data.get("items", []), list):
                raise TypeError("not a saved queue")
        except (OSError, ValueError, TypeError) as exc:
            kept = keep_aside(self.path)
            log.warning("the saved queue is unreadable (%s); starting empty (the file is kept as %s)", exc, kept)
            self.load_problem = (f"The saved queue could not be read ({exc}), so the queue starts empty. The file "
                                 f"is kept as {kept}.")
            return
        items, seen_ids, seen_paths, dropped = [], set(), set(), 0
        for d in data.get("items", []):
            try:
                item = QueueItem.from_json(d)
            except (ValueError, TypeError):
                dropped += 1
                continue
            if item.path in seen_paths:  # one row per photo
                dropped += 1
                continue
            if item.id in seen_ids:
                item.id = uuid.uuid4().hex[:12]
            seen_ids.add(item.id)
            seen_paths.add(item.path)
            items.append(item)
        if dropped:
            log.warning("the saved queue %s had %d item(s) that could not be read; they were left out",
                        self.path, dropped)
            self.load_problem = (f"{count(dropped, 'photo')} of the saved queue could not be read and were "
                                 "left out; the others are back.")
        self._items = items
        self._by_id = {i.id: i for i in items}
        self._emit("reset", list(items), persist=False)

    def _read_saved(self, tries: int = 3, wait_s: float = 0.2) -> str:
        """The saved queue's text. A read error is tried again twice, a moment apart: a network home folder
        or a waking disk can fail once, and giving up moves the user's queue aside."""
        assert self.path is not None
        for _ in range(tries - 1):
            try:
                return self.path.read_text("utf-8")
            except FileNotFoundError:
                raise
            except OSError:
                time.sleep(wait_s)
        return self.path.read_text("utf-8")

    @contextlib.contextmanager
    def together(self) -> Iterator[None]:
        """Changes made inside are said as one "changed" event at the end (other events, after those held
        so far): a command that changes many photos one by one (trashing their results) refreshes the
        window once, not once a photo (each refresh looks at every photo). For photos that all go to one
        state, `set_states` does it in one step and checks every transition first."""
        if self._held is not None:  # (nested: the outer one says them)
            yield
            return
        self._held, self._held_persist = {}, False
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        held, persist = self._held, self._held_persist
        self._held = None
        if held:
            self._emit("changed", list(held.values()), persist)

    def _emit(self, event: str, items: list[QueueItem], persist: bool = True) -> None:
        if self._held is not None:
            if event == "changed":
                self._held.update((item.id, item) for item in items)
                self._held_persist |= persist
                return
            self._release()  # (what changed before an add or a removal is said before it)
            self._held, self._held_persist = {}, False
        if persist and self.autosave:
            self._request_save()
        for listener in list(self._listeners):
            listener(event, items)


def default_queue_path() -> Path:
    return data_dir() / "queue.json"
