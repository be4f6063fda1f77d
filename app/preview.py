"""Preview before committing: restore only the visible region (at most ~512×512 around its centre) of
the selected photo with the current settings, and show it in the compare view; or restore it twice, with
the current settings and with one alternative (`app.comparisons`), to compare the two side by side.

A new preview cancels the running one; the batch cancels any preview before it starts.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, QRect, Signal
from PySide6.QtGui import QImage

from app.client.events import EngineError
from app.comparisons import Alternative
from app.images import in_srgb, on_screen, read_image
from app.paths import preview_dir
from app.queue_model import QueueItem
from app.runner import BatchRunner
from app.tasks import TaskSet
from engine import protocol as P

log = logging.getLogger("app.preview")

MAX_SIDE = 512


def clamp_region(region: tuple[int, int, int, int], image_size: tuple[int, int],
                 max_side: int = MAX_SIDE) -> tuple[int, int, int, int]:
    """At most `max_side`² of `region`, centred on it, inside the image."""
    x, y, w, h = region
    iw, ih = image_size
    if w <= 0 or h <= 0:
        x, y, w, h = 0, 0, iw, ih
    cx, cy = x + w / 2, y + h / 2
    w, h = min(w, max_side, iw), min(h, max_side, ih)
    left = int(min(max(0, cx - w / 2), iw - w))
    top = int(min(max(0, cy - h / 2), ih - h))
    return left, top, int(w), int(h)


def crop_to_png(src: str, region: tuple[int, int, int, int], dst: str) -> tuple[int, int, int, int]:
    """Crop (after EXIF orientation, like the view) and save as PNG; returns the region actually used.

    Qt decodes it, as for the view: the crop keeps 16 bits, gray, alpha and float TIFFs as they are
    (Pillow's conversion clipped 16-bit gray to white and float TIFFs to black).
    """
    image = read_image(src)
    if image.isNull():
        raise OSError(f"cannot decode {Path(src).name}")
    if image.format() == QImage.Format.Format_CMYK8888:  # a PNG holds no CMYK: to sRGB through its profile,
        image = in_srgb(image)  # as the engine reads the whole photo (Qt's PNG writer would drop the profile)
    x, y, w, h = clamp_region(region, (image.width(), image.height()))
    if not image.copy(x, y, w, h).save(dst, "PNG"):
        raise OSError(f"cannot write {dst}")
    return x, y, w, h


class PreviewService(QObject):
    started = Signal()
    progress = Signal(float)
    finished = Signal(str, QImage, QRect)  # item id, restored crop, where it sits in the photo
    compared = Signal(str, QImage, QImage, QRect, object)  # item id, current, alternative, where, Alternative
    failed = Signal(str, str)  # message, details
    cancelled = Signal()

    def __init__(self, runner: BatchRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.tasks = TaskSet("preview")
        self._task: asyncio.Task[None] | None = None
        self._job_id: str | None = None
        self._seq = 0
        self._part = (0, 1)  # which of how many restorations of this preview runs (for the progress)
        runner.preview_cancel = self.cancel_and_wait
        runner.job_progress.connect(self._on_progress)

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def request(self, item: QueueItem, region: QRect, alternative: Alternative | None = None) -> None:
        """Preview `region` (image pixels) of `item`, also with `alternative`'s changes if given (then
        `compared` answers instead of `finished`); a preview already running is cancelled first."""
        if self.runner.running:
            self.failed.emit("Pause or finish the batch to preview: the engine is restoring photos.", "")
            return
        previous = self._task
        self._seq += 1  # this preview's number: the previous one, if a comparison, stops before its second half
        self._task = self.tasks.spawn(self._run(item, (region.x(), region.y(), region.width(), region.height()),
                                                previous, alternative, self._seq))

    def cancel(self) -> None:
        if self.busy:
            self.tasks.spawn(self.cancel_and_wait())

    async def cancel_and_wait(self) -> None:
        task = self._task
        if task is None or task.done():
            return
        self._seq += 1  # a comparison does not go on to its second restoration
        if self._job_id is not None:
            try:
                await self.runner.engine.cancel(self._job_id)
            except EngineError:
                pass
        try:
            await asyncio.wait_for(asyncio.shield(task), 15)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            task.cancel()

    def _on_progress(self, job_id: str, fraction: float) -> None:
        if job_id == self._job_id:
            index, count = self._part
            self.progress.emit((index + fraction) / count)

    async def _run(self, item: QueueItem, region: tuple[int, int, int, int],
                   previous: asyncio.Task[None] | None, alternative: Alternative | None, seq: int) -> None:
        if previous is not None and not previous.done():
            if self._job_id is not None:
                try:
                    await self.runner.engine.cancel(self._job_id)
                except EngineError:
                    pass
            await asyncio.gather(previous, return_exceptions=True)
        folder = preview_dir()
        src = folder / f"crop-{seq}.png"
        loop = asyncio.get_running_loop()
        self.started.emit()
        try:
            used = await loop.run_in_executor(None, crop_to_png, item.path, region, str(src))
        except (OSError, ValueError) as exc:
            self.failed.emit("This photo cannot be previewed (the app could not decode it).", str(exc))
            return
        base = {**_fields(self.runner.job_options(item)), "format": "PNG", "bit_depth": None,
                "overwrite": True, "restore_clean": True,  # a preview is always wanted
                "strength": 1.0}  # the view blends the strength itself, live with its slider
        variants = [base] if alternative is None else [base, {**base, **alternative.changes}]
        images: list[QImage] = []
        try:
            async with self.runner.engine_lock:  # both sides of a comparison, with no batch in between
                for index, fields in enumerate(variants):
                    if seq != self._seq:  # cancelled or replaced between the two restorations
                        self.cancelled.emit()
                        return
                    self._part = (index, len(variants))
                    image = await self._restore(src, folder / f"preview-{seq}-{index}.png",
                                                P.JobOptions(**fields), f"{seq}-{index}")
                    if image is None:
                        return
                    images.append(image)
        finally:
            _unlink(src)
        if alternative is None:
            self.finished.emit(item.id, images[0], QRect(*used))
        else:
            self.compared.emit(item.id, images[0], images[1], QRect(*used), alternative)

    async def _restore(self, src: Path, out: Path, options: P.JobOptions, tag: str) -> QImage | None:
        """One restoration of the crop; None (after `failed` or `cancelled`) when it gives no image."""
        job_id = f"preview-{os.getpid()}-{tag}"
        self._job_id = job_id
        try:
            await self.runner.engine.start()
            await self.runner.engine.submit(str(src), str(out), options, job_id=job_id)
            terminal = await self.runner.engine.wait_job(job_id)
        except EngineError as exc:
            self.failed.emit(str(exc), "\n".join(self.runner.engine.log_tail()))
            return None
        finally:
            self._job_id = None
        if isinstance(terminal, P.Result) and terminal.skipped:  # not with restore_clean; an older engine
            self.failed.emit("The engine found this area already fine and did not restore it.", "")
        elif isinstance(terminal, P.Result):
            image = await asyncio.get_running_loop().run_in_executor(None, _read_result, terminal.output_path)
            _unlink(out)
            return image
        elif isinstance(terminal, P.Failed):
            self.failed.emit(terminal.error.message, terminal.error.detail or "")
        else:
            self.cancelled.emit()
        return None


def _fields(options: P.JobOptions) -> dict:
    return {name: getattr(options, name) for name in options.__dataclass_fields__}


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _read_result(path: str) -> QImage:
    """The restored crop as the view shows the photo: its profile (the crop's, which the engine kept)
    converted to sRGB, then to the screen's colours."""
    return on_screen(in_srgb(read_image(path)))
