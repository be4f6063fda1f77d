"""Save a restored photo again at the strength now on the slider, from its saved result (`engine.reblend`):
seconds, no network, instead of Retry's minutes of restoring on a CPU. The earlier result is kept; the new
one is saved beside it (`name (1).jpg`) and becomes the photo's result. Only a lower strength than the
result was saved with can be made this way (the view cannot show more either).

Or save a copy of the result as other settings save results (a preset "For the web" after restoring with
"Archive"), the same way: the copy is an extra file, and the photo's result stays what it is.

During a batch the job waits for the photo being restored, then goes before the next one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.client.events import EngineError
from app.queue_model import BatchQueue, ItemState, QueueItem, as_current, restored_file
from app.queue_model import earlier as earlier_entry
from app.runner import BatchRunner
from app.settings import Settings, free_name
from app.tasks import TaskSet
from engine import protocol as P

AGAIN = "made from "  # the note's start for a result saved again
STEP = 0.005  # strengths closer than this (the slider's half percent) are the same


def can_copy(item: QueueItem | None) -> bool:
    """Whether `item` has a result a copy can be made of (`ResaveService.request_copy`)."""
    return item is not None and restored_file(item) is not None and not item.replaced_from


def can_resave(item: QueueItem | None, strength: float) -> bool:
    """Whether `item` has a result that can be saved again at `strength`: restored (not skipped), with a
    result file, saved at a higher strength than `strength`."""
    return (item is not None and strength < item.saved_strength - STEP and restored_file(item) is not None
            and not item.replaced_from)  # (its photo holds the result: nothing to blend it over)


class ResaveService(QObject):
    started = Signal(str)  # item id
    finished = Signal(str, str)  # item id, what was done (a line for the status bar and the caption)
    failed = Signal(str, str)  # item id, why
    saved_again = Signal(str)  # item id: its row now shows the result saved again (Ctrl+Z: app.widgets.undo_steps)

    def __init__(self, runner: BatchRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.tasks = TaskSet("resave")
        self._busy: set[str] = set()  # item ids being saved again

    def busy(self, item_id: str) -> bool:
        return item_id in self._busy

    def request(self, item: QueueItem, strength: float) -> None:
        if can_resave(item, strength):
            strength = round(strength, 2)
            self._start(item, lambda: self._resave(item, strength))

    def request_copy(self, item: QueueItem, settings: Settings, label: str) -> None:
        """Save a copy of `item`'s result as `settings` save results (a preset's folder, name, format, colour
        and metadata: a web JPEG of an archive TIFF), at the strength it was saved with; the photo's result
        stays what it is. Seconds, from the saved result (`engine.reblend`), no network."""
        if can_copy(item):
            self._start(item, lambda: self._copy(item, settings, label))

    def _start(self, item: QueueItem, job: Callable[[], Awaitable[tuple[bool, str]]]) -> None:
        """Run `job` for `item` unless one runs for it already; say when it starts and how it ended."""
        if item.id in self._busy:
            return
        self._busy.add(item.id)
        self.started.emit(item.id)
        self.tasks.spawn(self._run(item, job))

    async def _run(self, item: QueueItem, job: Callable[[], Awaitable[tuple[bool, str]]]) -> None:
        try:
            done, said = await job()
        finally:
            self._busy.discard(item.id)
        (self.finished if done else self.failed).emit(item.id, said)

    async def _copy(self, item: QueueItem, settings: Settings, label: str) -> tuple[bool, str]:
        earlier, saved = Path(item.output_path or ""), item.saved_strength
        options = replace(self.runner.job_options(item, settings), strength=saved, from_result=str(earlier),
                          from_strength=saved, as_copy=True)
        root = Path(item.root) if item.root else None
        terminal, why = await self._from_result(item, options, lambda: settings.output_path(Path(item.path), root),
                                                f"No copy of {item.name}'s result was saved")
        if terminal is None:
            return False, why
        return True, (f"Saved a copy of {earlier.name} as {terminal.output_path} ({label}); {item.name}'s result "
                      f"is still {earlier.name}")

    async def _from_result(self, item: QueueItem, options: P.JobOptions, where: Callable[[], Path],
                           failed: str) -> tuple[P.Result | None, str]:
        """Run a job made from `item`'s result, after the photo the batch is restoring and before the next
        one, saving where `where()` says then (the batch may have saved beside it meanwhile): (its result,
        '') or (None, why not, `failed` opening it)."""
        runner = self.runner
        job_id = runner.next_job_id(item.id)
        try:
            async with runner.engine_lock:
                out = where()
                await runner.engine.start()
                await runner.engine.submit(item.path, str(out), options, job_id=job_id)
                terminal = await runner.engine.wait_job(job_id)
        except (EngineError, OSError, asyncio.TimeoutError) as exc:
            return None, f"{failed}: {exc}"
        if isinstance(terminal, P.Failed):
            return None, terminal.error.message
        if not isinstance(terminal, P.Result):
            return None, f"{failed} (cancelled)."
        return terminal, ""

    async def _resave(self, item: QueueItem, strength: float) -> tuple[bool, str]:
        """(whether it was saved, what to tell)."""
        runner = self.runner
        earlier, saved = Path(item.output_path or ""), item.saved_strength
        options = replace(runner.job_options(item), strength=strength, from_result=str(earlier), from_strength=saved)
        # numbered after the photo's own result name (p (2).jpg after p (1).jpg, not p (1) (1).jpg)
        name = f"{Path(item.path).stem}{runner.settings.name_suffix}{earlier.suffix}"
        terminal, why = await self._from_result(item, options, lambda: free_name(earlier.with_name(name)),
                                                f"{item.name} was not saved again")
        if terminal is None:
            return False, why
        new = Path(terminal.output_path)
        said = f"{item.name} saved again at {strength:.0%} strength as {new.name}; {earlier.name} ({saved:.0%}) is kept"
        current = runner.queue.get(item.id)
        if current is not None and current.state is ItemState.DONE and current.output_path == str(earlier):
            kept = [x for x in current.note.split("; ") if x and not x.startswith(AGAIN)]  # the restore's notes
            note = "; ".join([f"{AGAIN}{earlier.name} ({saved:.0%}, kept)", *kept])
            runner.queue.update(current, output_path=str(new), saved_strength=strength, note=note,
                                previous=[*current.previous, earlier_entry(current)])
            self.saved_again.emit(current.id)
        return True, said


def back_to_earlier(queue: BatchQueue, item: QueueItem) -> tuple[bool, str]:
    """Make the photo's last earlier result its result again, with its note (the newer file stays on disk):
    (whether it did, what to tell)."""
    if item.state is not ItemState.DONE or not item.previous:
        return False, f"{item.name} has no earlier result to go back to"
    if item.replaced_from:
        return False, f"{item.name} holds its result: Put back the photo as it was first"
    path, strength = item.previous[-1][:2]
    if not Path(path).is_file():
        return False, f"{item.name}: its earlier result {Path(path).name} is gone (moved or deleted)"
    newer = Path(item.output_path or "").name
    _back_to_last(queue, item, item.previous)
    return True, f"{item.name} shows {Path(path).name} ({strength:.0%}) again; {newer} is kept"


def _back_to_last(queue: BatchQueue, item: QueueItem, earlier: list[list]) -> None:
    """The last of `earlier` (entries of `previous`) is the photo's result again, the others its earlier ones;
    and whether it was made from the photo before an edit is looked at again."""
    queue.update(item, **as_current(earlier[-1]), previous=earlier[:-1])
    queue.check_photos([item])


def can_trash(item: QueueItem) -> bool:
    """Whether `item`'s result may go to the trash: a result file of its own (never the photo, and not while
    the photo's file holds it: Put back first)."""
    result = restored_file(item)
    return result is not None and not item.replaced_from and Path(result).resolve() != Path(item.path).resolve()


def after_trash(queue: BatchQueue, item: QueueItem, result: str) -> str:
    """The queue after `item`'s result went to the trash: its last earlier result that is still there is
    its result again; else it is not restored (pending). Returns what to tell."""
    kept = [entry for entry in item.previous if Path(entry[0]).is_file()]
    if kept:
        path, strength = kept[-1][:2]
        _back_to_last(queue, item, kept)
        return f"{Path(result).name} moved to the trash; {item.name} shows {Path(path).name} ({strength:.0%}) again"
    queue.set_state(item, ItemState.PENDING, output_path=None, note="", skipped=False, elapsed_s=None,
                    photo_stamp=None, previous=[])
    return f"{Path(result).name} moved to the trash; {item.name} is not restored now"
