"""A watched folder ("hot folder"): photos that arrive in it while it is watched (a tethered camera's
shots, a scanner's pages, an editor's exports) are queued and restored as they come. Photos already there
when the watch begins are left as they are: they can be added as any folder is.

The folder is looked at every `interval_ms`, off the GUI thread (the scan of `app.files`, which passes over
results, hidden files and photos already queued). A photo is taken once its size and modification time
have not changed between two looks, so a file still being written is not read half-way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app import files
from app.settings import Settings
from app.tasks import TaskSet
from engine.filetypes import file_stamp, settled

INTERVAL_MS = 2000


class FolderWatch(QObject):
    arrived = Signal(list)  # paths of photos that arrived and are whole
    started = Signal(str, int)  # the folder, how many photos were there already (left as they are)

    def __init__(self, known: Callable[[], list[str]], settings: Settings, interval_ms: int = INTERVAL_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.known, self.settings = known, settings
        self.folder: Path | None = None
        self.tasks = TaskSet("folder watch")
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._there: set[str] = set()  # the photos there when the watch began
        self._growing: dict[str, list[int] | None] = {}  # new photos not whole yet: their stamp at the last look
        self._looking = False
        self._first = True

    @property
    def watching(self) -> bool:
        return self.folder is not None

    def start(self, folder: str | Path) -> None:
        self.stop()
        self.folder = Path(folder)
        self._there, self._growing, self._first = set(), {}, True
        self._timer.start()
        self._tick()

    def stop(self) -> None:
        self._timer.stop()
        self.folder = None

    async def close(self) -> None:
        self.stop()
        await self.tasks.cancel_all()

    def _tick(self) -> None:
        if self.folder is not None and not self._looking:
            self._looking = True
            self.tasks.spawn(self._look(self.folder))

    async def _look(self, folder: Path) -> None:
        known = self.known()  # (read here, on the GUI thread)
        try:
            found = await asyncio.get_running_loop().run_in_executor(None, self._scan, folder, known)
        finally:
            self._looking = False
        if folder != self.folder:  # stopped, or another folder, meanwhile
            return
        if self._first:
            self._first = False
            self._there = set(found)
            self.started.emit(str(folder), len(found))
            return
        whole, self._growing = settled({p: s for p, s in found.items() if p not in self._there}, self._growing)
        if whole:
            self.arrived.emit(whole)

    def _scan(self, folder: Path, known: list[str]) -> dict[str, list[int] | None]:
        """The photos in `folder` not queued yet, with their stamps (a thread)."""
        s = self.settings
        found = files.scan([folder], known, s.output_dir or None, s.name_suffix, s.raw_jpeg)
        return {str(f.path): file_stamp(f.path) for f in found.photos}
