"""A watched folder ("hot folder"): photos that arrive in it while it is watched (a tethered camera's
shots, a scanner's pages, an editor's exports) are queued and restored as they come. Photos already there
when the watch begins are left as they are: they can be added as any folder is.

The folder is looked at every `interval_ms`, off the GUI thread (the scan of `app.files`, which passes over
results and hidden files). A photo is taken once its size and modification time have not changed between
two looks, so a file still being written is not read half-way.

The watch remembers every photo it has seen there (`_seen`: those there at the start, those it took, those
queued from that folder otherwise), with its stamp:
- a photo it took and the user removed from the queue is not taken again;
- a photo it has seen that is written again (an editor's re-export under the same name, or a copy that a
  stalled writer finished after the first look took it half-way) is reported as `rewritten` once whole;
- the folder and what it has seen are kept in `watch.json` in the data folder until the watch is stopped,
  so a watch still on when the app closed is resumed at the next start, and the photos that arrived
  meanwhile are taken (by name, not by date: a copy keeps the file's old modification time)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app import files
from app.paths import data_dir, write_atomic
from app.settings import Settings
from app.tasks import TaskSet
from engine.filetypes import file_stamp, settled

log = logging.getLogger("app.watch_folder")

INTERVAL_MS = 2000

Stamp = list[int] | None


def look_interval_ms() -> int:
    """The look interval: `HOURGLASS_WATCH_INTERVAL_S` (as for `hourglass restore --watch`), else 2 s."""
    try:
        seconds = float(os.environ.get("HOURGLASS_WATCH_INTERVAL_S", ""))
    except ValueError:
        return INTERVAL_MS
    return max(10, round(seconds * 1000)) if seconds > 0 else INTERVAL_MS


def state_path() -> Path:
    return data_dir() / "watch.json"


class FolderWatch(QObject):
    arrived = Signal(list)  # paths of photos that arrived and are whole
    rewritten = Signal(list)  # paths of photos seen before whose file was written again, and is whole
    started = Signal(str, int)  # the folder, how many photos were there already (left as they are)
    resumed = Signal(str)  # the folder, watched again as when the app was last closed

    def __init__(self, known: Callable[[], list[str]], settings: Settings, interval_ms: int | None = None,
                 parent: QObject | None = None, state: Path | None = None,
                 results: Callable[[], list[str]] = list) -> None:
        super().__init__(parent)
        self.known, self.settings, self.results = known, settings, results
        self.state = state or state_path()
        self.folder: Path | None = None
        self.tasks = TaskSet("folder watch")
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms or look_interval_ms())
        self._timer.timeout.connect(self._tick)
        self._seen: dict[str, Stamp] = {}  # the photos the watch knows, with their stamps when last taken
        self._growing: dict[str, Stamp] = {}  # photos not whole yet: their stamp at the last look
        self._looking = False
        self._first = True
        self._starting: set[str] = set()  # the photos there at the first look, until the second

    @property
    def watching(self) -> bool:
        return self.folder is not None

    def start(self, folder: str | Path) -> None:
        """Watch `folder`: what is there now is left, what arrives from the next look on is taken."""
        self._watch(Path(folder), {}, first=True)

    def resume(self) -> str:
        """Watch the folder watched when the app was last closed, taking what arrived meanwhile. Returns the
        folder ('' when none was watched); a folder no longer there is not watched (and forgotten)."""
        saved = self._load()
        if saved is None:
            return ""
        folder, seen = saved
        if not folder.is_dir():
            log.info("the watched folder %s is not there any more: not watched", folder)
            self._forget()
            return str(folder)
        self._watch(folder, seen, first=False)
        self.resumed.emit(str(folder))
        return str(folder)

    def _watch(self, folder: Path, seen: dict[str, Stamp], first: bool) -> None:
        self._timer.stop()
        self.folder = folder
        self._seen, self._growing, self._first, self._starting = seen, {}, first, set()
        if not first:
            self._save()
        self._timer.start()
        self._tick()

    def stop(self) -> None:
        """Stop watching; the next start does not resume it."""
        self.halt()
        self._forget()

    def halt(self) -> None:
        """The window closes: no more looks (what arrives now is taken at the next start, which resumes)."""
        self._timer.stop()
        self.folder = None

    async def close(self) -> None:
        self.halt()
        await self.tasks.cancel_all()

    def _tick(self) -> None:
        if self.folder is not None and not self._looking:
            self._looking = True
            self.tasks.spawn(self._look(self.folder))

    async def _look(self, folder: Path) -> None:
        queued = {os.path.normcase(p) for p in self.known()}  # (read here, on the GUI thread)
        # results saved into the watched folder itself (it is the output folder): never arrivals, which would be
        # restored again, and their results too, without end
        queued.update(os.path.normcase(p) for p in self.results())
        try:
            found = await asyncio.get_running_loop().run_in_executor(None, self._scan, folder)
        finally:
            self._looking = False
        if folder != self.folder or found is None:  # stopped, or another folder, meanwhile; or not there now
            return
        if self._first:
            self._first = False
            self._seen = dict(found)
            self._starting = {p for p in found if os.path.normcase(p) not in queued}
            self._save()
            self.started.emit(str(folder), len(self._starting))
            return
        # a photo there at the first look that changed by the second was being written when the watch began (a
        # card still being copied): it arrives, as the ones copied after it do
        growing_at_start = {p for p in self._starting if p in found and found[p] != self._seen.get(p)}
        self._starting = set()
        seen = {p: self._seen[p] for p in found if p in self._seen and p not in growing_at_start}  # (gone: forgotten)
        seen.update({p: s for p, s in found.items() if p not in seen and os.path.normcase(p) in queued})
        candidates = {p: s for p, s in found.items() if p not in seen or (s is not None and s != seen[p])}
        whole, self._growing = settled(candidates, self._growing)
        arrived = [p for p in whole if p not in seen]
        rewritten = [p for p in whole if p in seen]
        seen.update({p: found[p] for p in whole})
        if seen != self._seen:
            self._seen = seen
            self._save()
        if arrived:
            self.arrived.emit(arrived)
        if rewritten:
            self.rewritten.emit(rewritten)

    def _scan(self, folder: Path) -> dict[str, Stamp] | None:
        """The photos in `folder`, with their stamps (a thread); None when the folder is not there (a drive
        unplugged for a moment must not make its photos new arrivals when it is back)."""
        if not folder.is_dir():
            return None
        s = self.settings
        found = files.scan([folder], (), s.output_dir or None, s.name_suffix, s.raw_jpeg)
        return {str(f.path): file_stamp(f.path) for f in found.photos}

    # ------------------------------------------------------------------ the state kept across starts

    def _save(self) -> None:
        if self.folder is None:
            return
        data = {"folder": str(self.folder), "seen": self._seen}
        try:
            write_atomic(self.state, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        except OSError as exc:  # (the watch goes on; it is only not resumed after a restart)
            log.warning("could not keep the watched folder in %s: %s", self.state, exc)

    def _load(self) -> tuple[Path, dict[str, Stamp]] | None:
        try:
            data = json.loads(self.state.read_text("utf-8"))
            folder, seen = Path(data["folder"]), data["seen"]
            if not isinstance(data["folder"], str) or not data["folder"] or not isinstance(seen, dict):
                raise ValueError("not a watch")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("the watched folder's state %s is unreadable (%s): not resumed", self.state, exc)
            self._forget()
            return None
        return folder, {str(p): s if isinstance(s, list) else None for p, s in seen.items()}

    def _forget(self) -> None:
        try:
            self.state.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove %s: %s", self.state, exc)
