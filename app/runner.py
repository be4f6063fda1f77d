"""The batch runner: feeds queued photos to the engine one at a time and maps its events onto the queue.

It owns the engine client (anything with `EngineClient`'s async interface: tests pass a fake), exposes
synchronous commands for the window (start, pause, cancel, retry, remove, detect) and reports through
Qt signals. An engine crash fails the photo it was restoring with a readable message; the client restarts
the engine and the batch goes on with the next photo.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from app import files
from app.batch_eta import Estimator, batch_time_left, first_guess
from app.client.events import (
    EngineError,
    EngineState,
    EngineStatus,
    EngineUnavailableError,
    EventStream,
    RequestError,
)
from app.photo_times import PhotoTimes, way
from app.queue_model import (
    DETECTION_FAILED,
    FINISHED,
    BatchQueue,
    ItemState,
    QueueItem,
    detection_fields,
    earlier,
    file_stamp,
    restored_file,
)
from app.settings import Settings
from app.tasks import TaskSet
from engine import protocol as P
from engine.batch_time import Restored, photo_work
from engine.filetypes import passed_over_companion
from engine.wording import count

# the engine's answers to an analysis that mean the photo itself cannot be read (its restore will fail too)
UNREADABLE_CODES = frozenset({P.ErrorCode.INPUT_NOT_FOUND, P.ErrorCode.INPUT_UNREADABLE, P.ErrorCode.UNSUPPORTED_INPUT,
                              P.ErrorCode.IMAGE_TOO_LARGE})

log = logging.getLogger("app.runner")


class Engine(Protocol):
    """What the runner needs from the engine client (`app.client.EngineClient` implements it)."""

    ready: P.Ready | None

    @property
    def state(self) -> EngineState: ...
    async def start(self) -> P.Ready: ...
    async def configure(self, **fields: Any) -> P.Configured: ...
    async def analyze(self, input_path: str, result_path: str = "") -> P.Analysis: ...
    async def submit(self, input_path: str, output_path: str, options: P.JobOptions | None = None, *,
                     job_id: str | None = None) -> str: ...
    async def wait_job(self, job_id: str, timeout: float | None = None) -> P.Message: ...
    async def cancel(self, job_id: str) -> None: ...
    def events(self) -> EventStream: ...
    def log_tail(self) -> list[str]: ...
    async def close(self) -> None: ...


# errors of a setting, not of the photo: every later photo would fail the same way (what, where to change it)
SETTING_ERRORS = {P.ErrorCode.MODEL_NOT_FOUND: ("model", "Models"), P.ErrorCode.MODEL_INVALID: ("model", "Models"),
                  P.ErrorCode.DEVICE_UNAVAILABLE: ("device", "Settings")}
RESTORE_AGAIN_HINT = "Already restored: Retry restores it again with this setting (the earlier result is kept)."


class BatchRunner(QObject):
    running_changed = Signal(bool)
    engine_status = Signal(str, str)  # state, message
    engine_ready = Signal(object)  # P.Ready
    notice = Signal(str)  # a line for the status bar
    error = Signal(str, str, str)  # title, message, details (the error dialog)
    batch_finished = Signal(int, int)  # done, failed (in this run)
    job_progress = Signal(str, float)  # job id, fraction: jobs that are not queue items (previews)
    photos_added = Signal(list, str)  # new items, what was not added and why ('' when everything was)
    task_set = Signal(list, str)  # [(item, its to_json() before)], the task: the user's choice (undo history)

    def __init__(self, queue: BatchQueue, settings: Settings, engine: Engine,
                 parent: QObject | None = None, times: PhotoTimes | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self.settings = settings
        self.engine = engine
        self.times = times or PhotoTimes()  # how long photos took in earlier runs: estimates before Start
        self.engine_lock = asyncio.Lock()  # one job at a time: the batch and the preview share the engine
        self.tasks = TaskSet("runner")
        self._batch: asyncio.Task[None] | None = None
        self._batch_active = False  # from Start until the batch's last photo has settled
        self._listener: asyncio.Task[None] | None = None
        self._pause = False
        self._current: tuple[str, str] | None = None  # (item id, job id)
        self._current_since = 0.0  # when the current photo was sent (time.monotonic)
        self._jobs: dict[str, str] = {}  # job id → item id
        self._job_seq = 0
        self._configured: dict[str, Any] = {}
        self._queue_after_detect: set[str] = set()  # Start was pressed while these were being detected
        self._again_once_done: set[str] = set()  # written again while they were restored (`restore_again`)
        self.batch_items: list[str] = []  # the ids of the photos the current (or last) batch ran
        self._restored: list[Restored] = []  # the photos restored in this run: their times and sizes
        self._run_way = ""  # `photo_times.way` of the settings this run's photos were restored with
        self._estimator: Estimator | None = None  # fitted on them, for each waiting photo's own estimate
        self._estimator_tag: tuple = ()  # what it was fitted on
        self.batch_started: float | None = None  # time.monotonic() when this run's batch started
        self._closing = False
        self.preview_cancel = None  # set by the preview service: an async callable stopping a preview

    # -------------------------------------------------------------- state

    @property
    def running(self) -> bool:
        return self._batch_active

    @property
    def pausing(self) -> bool:
        return self.running and self._pause

    @property
    def current_item_id(self) -> str | None:
        return self._current[0] if self._current else None

    @property
    def restored_count(self) -> int:
        """Photos restored (and timed) in this run: the estimates change when it does."""
        return len(self._restored)

    def _way(self) -> str:
        """`photo_times.way` of the settings now, "auto" read as the device the engine would take."""
        ready = self.engine.ready
        return way(self.settings, ready.cuda_available if ready is not None else None)

    def _basis(self, way_now: str) -> tuple[str, list[Restored]]:
        """What estimates rest on, best first: this run's restored photos (when the settings are still those
        they were restored with, `way_now`); before one has ended, the first photo's progress (`first_guess`);
        before that, the photos restored with these settings in earlier runs (`app.photo_times`)."""
        if self._restored and (self.running or self._run_way == way_now):
            return "run", self._restored
        current = self.queue.get(self._current[0]) if self._current else None
        running_for = time.monotonic() - self._current_since if self._current else None
        guess = first_guess(current, running_for, self.settings.fullres)
        return ("guess", guess) if guess else ("earlier", self.times.of_way(way_now))

    def _estimator_now(self) -> Estimator | None:
        """The estimator fitted on `_basis` (None while nothing tells yet), fitted again only when the basis
        or the settings it reads change; made anew while it rests on the first photo's progress."""
        way_now = self._way()
        source, basis = self._basis(way_now)
        if not basis:
            return None
        if source == "guess":  # (changes as the first photo runs)
            return Estimator(basis, self.settings.restore_clean, self.settings.fullres)
        tag = (source, way_now, len(basis), self.settings.restore_clean, self.settings.fullres)
        if self._estimator is None or self._estimator_tag != tag:
            self._estimator = Estimator(basis, self.settings.restore_clean, self.settings.fullres)
            self._estimator_tag = tag
        return self._estimator

    def photo_time(self, item: QueueItem) -> float | None:
        """Seconds `item` is expected to take (`app.batch_eta`, from `_basis`); None while nothing tells
        yet (0: it will be skipped as fine)."""
        estimator = self._estimator_now()
        return estimator.photo(item) if estimator is not None else None

    def pending_estimate(self) -> tuple[int, float] | None:
        """(photos to restore, seconds they should take) of the pending photos, said before Start (those to
        be skipped as fine count nothing); None while a batch runs, while photos are being analysed (their
        size and degradation decide) or when nothing tells."""
        pending = self.queue.in_state(ItemState.PENDING)
        if self.running or not pending or self.queue.in_state(ItemState.DETECTING):
            return None
        estimator = self._estimator_now()  # (once for all of them)
        counted = [t for t in map(estimator.photo, pending) if t] if estimator is not None else []
        return (len(counted), sum(counted)) if counted else None

    def time_left(self) -> float | None:
        """Seconds until the running batch ends, from how long this run's photos took (`app.batch_eta`); None
        when not running, when pausing, or before the first photo has an estimate."""
        if not self.running or self._pause:
            return None
        current = self.queue.get(self._current[0]) if self._current else None
        waiting = self.queue.in_state(ItemState.QUEUED)
        waiting += [i for i in self.queue.in_state(ItemState.DETECTING) if i.id in self._queue_after_detect]
        running_for = time.monotonic() - self._current_since if self._current else None
        return batch_time_left(current, waiting, self._basis(self._way())[1], self.settings.restore_clean,
                               running_for, self.settings.fullres)

    # -------------------------------------------------------------- commands (synchronous, for widgets)

    def start_engine(self) -> None:
        """Start the engine in the background (the window calls this once it is shown)."""
        self._ensure_listener()
        self.tasks.spawn(self._start_engine())

    def add_paths(self, paths: Iterable[str], *, restore: bool = False) -> None:
        """Scan files and folders (recursively, in a thread) and add the new photos to the queue; with
        `restore`, restore them as well (`restore_now`: a watched folder's arrivals)."""
        self.tasks.spawn(self._add_paths([str(p) for p in paths], restore))

    def restore_now(self, items: list[QueueItem]) -> None:
        """Restore these photos: into the running batch, or in a batch of their own. A batch paused with
        photos queued is left paused (its photos, and these, wait for Start)."""
        if not self.running and self.queue.in_state(ItemState.QUEUED):
            return
        self._take(items)
        self._pause = False
        self._ensure_batch()

    async def _add_paths(self, paths: list[str], restore: bool = False) -> None:
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, files.scan, paths, self.queue.paths(),
                                           self.settings.output_dir or None, self.settings.name_suffix,
                                           self.settings.raw_jpeg)
        new = self.queue.add((str(f.path), str(f.root) if f.root else None) for f in found.photos)
        found.already_queued += len(found.photos) - len(new)  # queued by another drop while this one was scanned
        self.photos_added.emit(new, found.remark())
        if new and self.can_detect:
            self.detect([i.id for i in new])
        if new and restore:
            self.restore_now(new)

    def start(self) -> None:
        """Queue every pending photo and run the batch (resumes after a pause)."""
        self.queue.set_states(self.queue.in_state(ItemState.PENDING), ItemState.QUEUED)
        self._queue_after_detect.update(i.id for i in self.queue.in_state(ItemState.DETECTING))
        self._pause = False
        self._ensure_batch()

    def join_batch(self, items: Iterable[QueueItem]) -> None:
        """While a batch runs, take these photos into it: pending ones are queued now, ones being detected
        once their detection is in (as Start does for every photo)."""
        if self.running:
            self._take(items)

    def _take(self, items: Iterable[QueueItem]) -> None:
        """Pending photos are queued now, ones being detected once their detection is in."""
        items = list(items)
        self.queue.set_states([i for i in items if i.state is ItemState.PENDING], ItemState.QUEUED)
        self._queue_after_detect.update(i.id for i in items if i.state is ItemState.DETECTING)

    def pause(self) -> None:
        """Stop after the current photo; queued photos stay queued until Start."""
        if self.running:
            self._pause = True
            self.notice.emit("Pausing after the current photo…")
            self.running_changed.emit(True)

    def cancel(self) -> None:
        """Stop the batch now: the running photo is cancelled, queued ones go back to pending."""
        self._pause = True
        self._queue_after_detect.clear()
        self.queue.set_states(self.queue.in_state(ItemState.QUEUED), ItemState.PENDING)
        if self._current is not None:
            self.tasks.spawn(self.engine.cancel(self._current[1]))

    def cancel_items(self, ids: Iterable[str]) -> None:
        """These photos leave the batch: queued ones go back to pending, ones being detected are no longer
        queued once their detection is in, and the one being restored is cancelled."""
        items = self.queue.items_of(ids)
        self._queue_after_detect.difference_update(i.id for i in items)
        self.queue.set_states([i for i in items if i.state is ItemState.QUEUED], ItemState.PENDING)
        if self._current is not None and any(i.id == self._current[0] for i in items):
            self.tasks.spawn(self.engine.cancel(self._current[1]))

    def retry(self, ids: Iterable[str]) -> None:
        """Failed, cancelled and finished photos are restored again (the batch starts if it is not running).
        A finished photo's earlier result is kept: the new one gets a free name beside it. A photo no longer
        where it was added stays as it is (it would only fail, and a finished one would lose its result's
        link), and so does one whose file holds its result (`app.replace`: it would restore the result); the
        status bar says so."""
        again: list[QueueItem] = []
        gone: list[str] = []
        holding: list[str] = []
        for item_id in ids:
            item = self.queue.get(item_id)
            if item is not None and item.state in FINISHED:
                if not Path(item.path).exists():
                    gone.append(item.name)
                    continue
                if item.replaced_from:
                    holding.append(item.name)
                    continue
                again.append(item)
        self.queue.set_states(again, ItemState.QUEUED, each=_again)
        if gone:
            self.notice.emit(f"Not restored again: {_names(gone)} " + (
                "is no longer where it was added (moved or deleted); add it again from where it is now."
                if len(gone) == 1 else
                "are no longer where they were added (moved or deleted); add them again from where they are now."))
        if holding:
            self.notice.emit(f"Not restored again: {_names(holding)} " + (
                "holds its result" if len(holding) == 1 else "hold their results") +
                " (Replace the photo with its result); Put back the photo as it was first.")
        if again:
            self._pause = False
            self._ensure_batch()

    def restore_again(self, paths: Iterable[str]) -> list[QueueItem]:
        """A watched folder's photos written again after the watch took them (an editor's re-export under the
        same name, or a copy a stalled writer finished after it was read half-way): restored again, as Retry
        would (the earlier result kept), and detected again, where that is what they need: a failed photo,
        and a finished one whose file is no longer the one it was restored (or found fine) from. A photo whose
        file holds its result (`app.replace`), a cancelled one and one not finished yet are left (one being
        restored is looked at again once it is done). Returns the photos taken again."""
        wanted = {os.path.normcase(p) for p in paths}
        self._again_once_done.update(  # (the engine may have read it before it was written again)
            item.id for item in self.queue if item.state is ItemState.RUNNING and os.path.normcase(item.path) in wanted)
        again = [item for item in self.queue if os.path.normcase(item.path) in wanted and not item.replaced_from
                 and (item.state is ItemState.FAILED or item.state is ItemState.DONE and self._edited(item))]
        self.queue.set_states(again, ItemState.PENDING, each=_again, **detection_fields(None, None, {}),
                              already_restored="")  # (its new file says that again, if so)
        if again:
            self.restore_now(again)
        return again

    def _edited(self, item: QueueItem) -> bool:
        """Whether a finished photo's file is no longer the one it was finished from, as the window's look at
        edited photos judges it (`BatchQueue.check_photos`: a new time alone, with the same bytes, is not an
        edit; the item then takes the new stamp)."""
        self.queue.check_photos([item])
        return item.photo_changed

    def remove(self, ids: Iterable[str]) -> list[QueueItem]:
        ids = list(ids)
        if self._current is not None and self._current[0] in ids:
            self.tasks.spawn(self.engine.cancel(self._current[1]))
        return self.queue.remove(ids)

    def set_task(self, ids: Iterable[str], task: str) -> int:
        """Set the degradation; returns how many of them were already restored (Retry restores those again
        with it)."""
        changed = [(item, item.to_json()) for item in self.queue.items_of(ids)
                   if item.state is not ItemState.RUNNING and item.task != task]
        restored = sum(item.restored for item, _before in changed)
        self.queue.set_task([item for item, _before in changed], task)
        if changed:
            self.task_set.emit(changed, task)
        return restored

    @property
    def can_detect(self) -> bool:
        """The running engine has a degradation detector (its handshake says `analyze`)."""
        ready = self.engine.ready
        return bool(ready is not None and ready.capabilities.get("analyze"))

    def detect(self, ids: Iterable[str] | None = None) -> None:
        """Fill in the degradation column (no restoring) for pending photos; new photos are detected as
        they are added when the engine can."""
        items = [self.queue.get(i) for i in ids] if ids is not None else self.queue.in_state(ItemState.PENDING)
        targets = [i for i in items if i is not None and i.state is ItemState.PENDING]
        if targets:
            self._ensure_listener()
            self.tasks.spawn(self._detect([i.id for i in targets]))

    async def shutdown(self) -> None:
        """Cancel the running photo, stop every task and close the engine (window closing)."""
        self._closing = True
        self._pause = True
        if self._current is not None:
            try:
                await asyncio.wait_for(self.engine.cancel(self._current[1]), 5)
            except (EngineError, asyncio.TimeoutError):
                pass
        if self._batch is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._batch), 10)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._batch.cancel()
        await self.tasks.cancel_all()
        self.queue.flush()  # the cancelled photo's last state, if a coalesced save had not written it yet
        try:
            await self.engine.close()
        except EngineError as exc:
            log.warning("closing the engine: %s", exc)

    # -------------------------------------------------------------- background work

    def _ensure_batch(self) -> None:
        if not self.running and not self._closing:
            self._ensure_listener()
            self._batch_active = True
            self.batch_started = time.monotonic()
            self._restored, self._estimator, self._run_way = [], None, self._way()
            self.batch_items = []
            self._batch = self.tasks.spawn(self._run_batch())
            self.running_changed.emit(True)

    def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = self.tasks.spawn(self._listen(self.engine.events()))

    async def _start_engine(self) -> P.Ready | None:
        try:
            ready = await self.engine.start()
        except EngineError as exc:
            self.error.emit("The engine could not be started", str(exc), "\n".join(self.engine.log_tail()))
            return None
        self.engine_ready.emit(ready)
        if self.can_detect:  # photos added before the engine was up (or from the saved queue)
            self.detect([i.id for i in self.queue.in_state(ItemState.PENDING)
                         if i.task == "auto" and not i.detected_task and not i.detect_message])
        return ready

    async def _configure(self) -> None:
        """Send the settings that are not per job (device, threads) when they changed."""
        wanted: dict[str, Any] = {}
        if self.settings.threads:
            wanted["threads"] = self.settings.threads
        if self.settings.device != "auto" or self._configured.get("device", "auto") != "auto":
            wanted["device"] = self.settings.device
            wanted["model"] = self.settings.model  # a device change loads the model now
        changed = {k: v for k, v in wanted.items() if self._configured.get(k) != v}
        if changed:
            await self.engine.configure(**changed)
            self._configured.update(changed)

    def job_options(self, item: QueueItem | None = None, settings: Settings | None = None) -> P.JobOptions:
        """The engine's options for `item`, from the settings (or `settings`: a preset applied to them)."""
        s = settings or self.settings
        fmt, depth = s.job_format()
        task = item.effective_task if item is not None else "auto"
        detected = item.confidence if item is not None and item.task == "auto" and task == item.detected_task \
            and task in P.TASKS and task not in ("auto", "none") else None
        return P.JobOptions(model=None if s.model == "default" else s.model, quality=s.quality,  # type: ignore[arg-type]
                            task=task if task in P.TASKS else "auto", format=fmt,  # type: ignore[arg-type]
                            jpeg_quality=s.jpeg_quality, bit_depth=depth, overwrite=False,
                            restore_clean=s.restore_clean, fullres=s.fullres,  # type: ignore[arg-type]
                            strength=s.strength, srgb=s.srgb, remove_location=s.remove_location, record=s.record,
                            detected=detected)

    def next_job_id(self, item_id: str) -> str:
        self._job_seq += 1
        return f"{item_id}-{self._job_seq}"

    async def _run_batch(self) -> None:
        done = failed = 0
        try:
            if self.preview_cancel is not None:
                await self.preview_cancel()
            try:
                await self.engine.start()
                await self._configure()
            except EngineError as exc:
                self.queue.set_states(self.queue.in_state(ItemState.QUEUED), ItemState.PENDING)
                self.error.emit("The batch could not start", str(exc), "\n".join(self.engine.log_tail()))
                return
            while not self._pause and not self._closing:
                item = self.queue.next_queued()
                if item is None:
                    break
                self.batch_items.append(item.id)
                outcome = await self._run_item(item)
                done += outcome in ("done", "skipped")
                failed += outcome == "failed"
                if outcome == "failed" and item.error_code == P.ErrorCode.OUTPUT_NOT_WRITABLE:
                    self._pause_if_next_cannot_be_saved(item)
                elif outcome == "failed" and item.error_code in SETTING_ERRORS:
                    self._pause_for_setting(item)
        finally:
            self._pause = False
            self._current = None
            self._batch_active = False
            self.running_changed.emit(False)
            self.batch_finished.emit(done, failed)

    def _pause_if_next_cannot_be_saved(self, failed: QueueItem) -> None:
        """A full disk, a read-only or vanished folder fails every photo saved there after this one too: pause
        when the next photo goes to the same folder (or the one output folder of the settings), so the user
        fixes it once instead of finding the whole batch failed; the others stay queued for Start."""
        following = self.queue.next_queued()
        if following is None or not failed.output_path:
            return
        here = Path(failed.output_path).parent
        there = self.settings.output_folder(Path(following.path), Path(following.root) if following.root else None)
        if there != here and not self.settings.output_dir:
            return
        self._pause_after(failed, "results cannot be saved",
                          "Free some space or choose another output folder (Settings)")

    def _pause_for_setting(self, failed: QueueItem) -> None:
        """A model that is gone or damaged, or a device that is not there, fails every photo after this one:
        pause, so the user fixes the setting once instead of finding the whole batch failed."""
        if self.queue.next_queued() is None:
            return
        what, where = SETTING_ERRORS[failed.error_code]
        self._pause_after(failed, f"the {what} cannot be used", f"Choose another {what} ({where})")

    def _pause_after(self, failed: QueueItem, why: str, fix: str) -> None:
        """Pause the batch after `failed`, saying why and what to fix; the photos still queued wait for Start."""
        self._pause = True
        waiting = len(self.queue.in_state(ItemState.QUEUED))
        self.error.emit(f"The batch is paused: {why}",
                        f"{failed.error_message}\n\nThe other {count(waiting, 'photo')} "
                        f"{'waits' if waiting == 1 else 'wait'} in the queue. {fix}, then press Start; Retry restores "
                        "this one.", failed.error_detail)

    async def _run_item(self, item: QueueItem) -> str:
        photo = Path(item.path)
        out = self.settings.output_path(photo, Path(item.root) if item.root else None)
        job_id = self.next_job_id(item.id)
        options = self.job_options(item)
        restored_way = self._way()  # (the settings may change before it ends)
        self.queue.set_state(item, ItemState.RUNNING, output_path=str(out), note="")
        stamp = file_stamp(photo)  # before the engine reads it: an edit while it runs makes the result stale
        self._current, self._current_since = (item.id, job_id), time.monotonic()
        since = self._current_since
        self._jobs[job_id] = item.id
        try:
            async with self.engine_lock:  # the engine checks the output folder first and creates it
                await self.engine.submit(str(photo), str(out), options, job_id=job_id)
                terminal = await self.engine.wait_job(job_id)
        except EngineUnavailableError as exc:
            self._pause = True  # the engine is gone for good: stop the batch
            terminal = P.Failed(job_id, P.ErrorInfo.make(P.ErrorCode.ENGINE_CRASHED, str(exc)))
            self.error.emit("The engine stopped", str(exc), "\n".join(self.engine.log_tail()))
        except (EngineError, OSError) as exc:
            terminal = P.Failed(job_id, P.ErrorInfo.make(P.ErrorCode.INTERNAL, str(exc)))
        finally:
            self._current = None
            self._jobs.pop(job_id, None)
        if self.queue.get(item.id) is None:  # removed while it ran
            return "removed"
        outcome = await self._apply_terminal(item, terminal, options.strength, stamp)
        if item.id in self._again_once_done:  # written again while it was restored
            self._again_once_done.discard(item.id)
            self.restore_again([item.path])
        if outcome == "done" and isinstance(terminal, P.Result):  # (for the time left: `app.batch_eta`)
            self._restored.append(Restored(item.effective_task, time.monotonic() - since, photo_work(
                terminal.width, terminal.height, item.effective_task, options.fullres, terminal.fullres)))
            self.times.add(restored_way, self._restored[-1])  # (remembered for the next run's estimates)
        return outcome

    async def _apply_terminal(self, item: QueueItem, terminal: P.Message, strength: float,
                              stamp: list[int] | None = None) -> str:
        if isinstance(terminal, P.Result):
            found: dict[str, Any] = {}
            if terminal.confidence is not None:  # the engine detected the task: show it in the column
                found = detection_fields(terminal.task, terminal.confidence, terminal.scores)
            if terminal.skipped:
                self.queue.set_state(item, ItemState.DONE, progress=1.0, eta_s=None, output_path=None, skipped=True,
                                     elapsed_s=terminal.timings.get("total"), photo_stamp=stamp,
                                     photo_sha256=terminal.photo_sha256, already_restored=terminal.already_restored,
                                     **found)
                self.queue.update(item, note=skipped_note(item))
                return "skipped"
            note = "; ".join(terminal.warnings)
            self.queue.set_state(item, ItemState.DONE, progress=1.0, eta_s=None, output_path=terminal.output_path,
                                 elapsed_s=terminal.timings.get("total"), note=note, skipped=False,
                                 saved_strength=strength, photo_stamp=stamp, photo_changed=False,
                                 photo_sha256=terminal.photo_sha256,
                                 width=terminal.width or item.width,
                                 height=terminal.height or item.height, **found)
            return "done"
        if isinstance(terminal, P.Failed):
            err = terminal.error
            detail = "\n\n".join(x for x in (err.detail, err.traceback) if x)
            tail = self.engine.log_tail() if err.code in (P.ErrorCode.ENGINE_CRASHED, P.ErrorCode.INTERNAL) else []
            message = err.message + self._companion_hint(item, err.code)
            self.queue.set_state(item, ItemState.FAILED, error_code=err.code, error_message=message,
                                 error_detail=detail or "", log_tail=tail[-60:], eta_s=None)
            return "failed"
        self.queue.set_state(item, ItemState.CANCELLED, eta_s=None)
        return "cancelled"

    def _companion_hint(self, item: QueueItem, code: str) -> str:
        """A RAW that cannot be read (LibRaw lags behind the newest cameras) whose camera JPEG the RAW+JPEG
        setting passed over: say where that JPEG is and how to restore it instead."""
        jpeg = passed_over_companion(Path(item.path), self.settings.raw_jpeg, code)
        if jpeg is None:
            return ""
        return (f" Its camera JPEG, {jpeg.name}, is beside it: add it by name to restore it instead, or choose the "
                "JPEG in Settings → RAW+JPEG shots.")

    async def _detect(self, ids: list[str]) -> None:
        found = []
        for item_id in ids:
            item = self.queue.get(item_id)
            if item is None or item.state is not ItemState.PENDING:
                continue
            self.queue.set_state(item, ItemState.DETECTING)
            changes: dict[str, Any]
            found_before: dict[str, Any] = {}
            planned = self.settings.planned_output(Path(item.path), Path(item.root) if item.root else None)
            stamp = file_stamp(item.path)
            try:
                analysis = await self.engine.analyze(item.path, str(planned))
            except EngineError as exc:  # the photo could not be read, or the engine did not answer
                unreadable = isinstance(exc, RequestError) and exc.code in UNREADABLE_CODES
                changes = {"detect_message": f"{DETECTION_FAILED if unreadable else 'Detection did not run: '}{exc}"}
            else:
                if analysis.available and analysis.task:
                    changes = detection_fields(analysis.task, analysis.confidence, analysis.scores)
                else:
                    changes = {**detection_fields(None, None, {}),
                               "detect_message": analysis.message or "Automatic detection is not available yet."}
                if analysis.width and analysis.height:
                    changes.update(width=analysis.width, height=analysis.height)
                if analysis.earlier_path:
                    found_before = restored_before(analysis, changes.get("detected_task"), stamp)
                changes["already_restored"] = analysis.already_restored
            if self.queue.get(item_id) is not None and item.state is ItemState.DETECTING:
                if found_before:  # restored by an earlier run (a cleared queue, the CLI): shown, not restored again
                    self._queue_after_detect.discard(item_id)
                    self.queue.set_state(item, ItemState.DONE, **changes, **found_before)
                    found.append(item)
                elif item_id in self._queue_after_detect:
                    self._queue_after_detect.discard(item_id)
                    self.queue.set_state(item, ItemState.QUEUED, keep_error=True, **changes)
                    self._ensure_batch()
                else:
                    self.queue.set_state(item, ItemState.PENDING, keep_error=True, **changes)
        if found:
            self.notice.emit(f"{found[0].name} was restored before: its result is shown, not made again (Retry "
                             "restores it again)" if len(found) == 1 else
                             f"{len(found)} photos were restored before: their results are shown, not made "
                             "again (Retry restores them again)")

    async def _listen(self, stream: EventStream) -> None:
        async for event in stream:
            if isinstance(event, P.Progress):
                item_id = self._jobs.get(event.job_id)
                item = self.queue.get(item_id) if item_id else None
                if item is not None and item.state is ItemState.RUNNING:
                    self.queue.update(item, persist=False, progress=event.fraction, eta_s=event.eta_s,
                                      stage=event.stage)
                elif item_id is None:
                    self.job_progress.emit(event.job_id, event.fraction)
            elif isinstance(event, EngineStatus):
                self.engine_status.emit(event.state.value, event.message)
                if event.state is EngineState.FATAL and not self._closing:
                    never_ran = self.engine.ready is None  # (its handshake, kept from the last start that worked)
                    title = "The engine could not be started" if never_ran else "The engine stopped"
                    self.error.emit(title, event.message, "\n".join(self.engine.log_tail()))
            elif isinstance(event, P.JobWarning):
                self.notice.emit(event.message)


def _again(item: QueueItem) -> dict[str, Any]:
    """The fields of a finished photo restored again (Retry, a watched photo written again): its result, if
    it has one on disk, becomes an earlier result (kept; the new one gets a free name beside it)."""
    previous = [*item.previous, earlier(item)] if restored_file(item) else item.previous
    return {"output_path": None, "skipped": False, "note": "", "elapsed_s": None, "previous": previous}


def _names(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def restored_before(analysis: P.Analysis, detected: str | None, stamp: list[int] | None) -> dict[str, Any]:
    """The queue fields of a photo whose result an earlier run saved, from what that result records (each of
    them this very photo: `stamp`, its file as it was analysed)."""
    record = analysis.earlier
    try:
        strength = min(1.0, max(0.0, float(record.get("Strength", "1"))))
    except ValueError:
        strength = 1.0
    task = record.get("Task", "")
    how = ", ".join(x for x in (f"as {task}" if task else "", record.get("Model", ""), f"{strength:.0%} strength") if x)
    fields: dict[str, Any] = {
        "output_path": analysis.earlier_path, "saved_strength": strength, "progress": 1.0, "eta_s": None,
        "skipped": False, "elapsed_s": None, "photo_stamp": stamp, "photo_sha256": record.get("PhotoSHA256", ""),
        "previous": [[path, min(1.0, max(0.0, s)), "", stamp] for path, s in analysis.earlier_older.items()],
        "note": f"Restored before ({how}): {Path(analysis.earlier_path).name} was found where its results are "
                "saved. Retry restores it again with the current settings."}
    if task in P.TASKS and task not in ("auto", "none") and task != detected:  # restored as chosen then
        fields["task"] = task
    return fields


def skipped_note(item: QueueItem) -> str:
    """Why a photo was not restored, for the caption and the tooltip."""
    if item.left_as_result:
        return (f"Not restored: it is a result Hourglass saved ({item.already_restored}), and would be restored "
                "twice. Choose a degradation for it to restore it again anyway, or turn on “Restore photos that "
                "look fine” in Settings.")
    if item.task == "none":
        how = "“Leave as is” was chosen"
    elif item.unsure:
        how = f"detected as already fine, but unsure ({item.confidence:.0%}{item.second_guess})"
    else:
        how = "detected as already fine" + (f" ({item.confidence:.0%})" if item.confidence is not None else "")
    return (f"Not restored: {how}. Choose a degradation for it to restore it anyway, or turn on “Restore photos "
            "that look fine” in Settings.")
