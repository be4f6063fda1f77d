"""The GUI's queue with a large batch. The queue is saved on every state change (added, detecting,
detected, queued, running, done), on the GUI thread, so a slow save stalls the window.

    .venv/bin/python bench/bench_queue.py [--photos 2000] [--saves 200] [--window 1000]

1. Times `BatchQueue.save` with items that carry a detection result, against the way it was written before
   2026-12-06 (`dataclasses.asdict` per item, indented JSON), in the same run: milliseconds per save.
2. `--window N` (offscreen Qt): the real main window detects N tiny photos through the scripted test
   engine (whose detection is instant, so what is left is the GUI's own cost), with every change saved
   at once and with saves coalesced as the app does (`BatchQueue(schedule=...)`).
3. `--bulk N` (offscreen Qt): in the real main window with N photos all selected, the changes that touch
   every photo at once, one change a photo (as before 2026-12-07: each refreshed the window) against one
   change for all (`BatchQueue.set_states`, `set_task`, one selection, `together()`): Start, a
   degradation set on all (Ctrl+3), selecting them all again (what the undo of a removal does) and moving
   every result to the trash.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.paths import write_atomic
from app.queue_model import BatchQueue


def old_save(queue: BatchQueue, path: Path) -> None:
    """The save as it was: a deep copy of every item, indented JSON."""
    items = []
    for item in queue:
        d = asdict(item)
        d["state"] = item.state.value
        for transient in ("progress", "eta_s", "stage"):
            d.pop(transient)
        items.append(d)
    write_atomic(path, json.dumps({"version": 1, "items": items}, indent=1).encode("utf-8"))


def per_save_ms(save, saves: int) -> float:
    t0 = time.perf_counter()
    for _ in range(saves):
        save()
    return (time.perf_counter() - t0) / saves * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--window", type=int, default=0, help="also detect this many photos in the window")
    parser.add_argument("--bulk", type=int, default=0, help="also change this many photos at once in the window")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "queue.json"
        queue = BatchQueue(path, autosave=False)
        for item in queue.add([(f"/photos/trip/IMG_{i:05d}.jpg", "/photos") for i in range(args.photos)]):
            item.detected_task, item.confidence = "haze", 0.93
        old = per_save_ms(lambda: old_save(queue, path), args.saves)
        new = per_save_ms(queue.save, args.saves)
        size = path.stat().st_size
    print(f"queue of {args.photos} photos, {args.saves} saves each: before {old:.1f} ms per save, "
          f"now {new:.1f} ms ({old / new:.1f}x faster); file {size / 1e6:.2f} MB")
    if args.window:
        immediate, coalesced, estimated = window_detection(args.window)
        print(f"window, detecting {args.window} photos (instant detector): every change saved at once "
              f"{immediate:.2f} s, coalesced saves {coalesced:.2f} s ({immediate / coalesced:.1f}x faster); "
              f"coalesced, with earlier runs' times to estimate from {estimated:.2f} s "
              f"({estimated / coalesced:.2f}x the time without)")
    if args.bulk:
        for what, (before, now) in window_bulk(args.bulk).items():
            print(f"window, {what} on {args.bulk} photos: one change a photo {before * 1000:.0f} ms, one for all "
                  f"{now * 1000:.0f} ms ({before / now:.0f}x faster)")
    return 0


def window_detection(photos: int) -> tuple[float, float, float]:
    """Seconds for the main window to fill the degradation column of `photos` photos, without and with
    coalesced saves, and coalesced with earlier runs' photo times (the pending photos then have estimates,
    which the status bar sums up); a fresh queue and data folder each time."""
    import asyncio
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT / "tests" / "gui"))
    import qasync
    from fake_engine_service import FakeEngine
    from PIL import Image
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app import qt_compat

    qt_compat.install()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)

    async def one(scheduled: bool, tmp: Path, remembered: bool = False) -> float:
        from app.runner import BatchRunner
        from app.settings import Settings
        from app.widgets.main_window import MainWindow

        os.environ["HOURGLASS_DATA_DIR"] = str(tmp / "data")
        folder = tmp / "photos"
        folder.mkdir()
        for i in range(photos):
            Image.new("RGB", (8, 8), (i % 255, 0, 0)).save(folder / f"IMG_{i:05d}.png")
        schedule = (lambda delay, fn: QTimer.singleShot(round(delay * 1000), fn)) if scheduled else None
        queue = BatchQueue(tmp / "data" / "queue.json", schedule=schedule)
        times = None
        if remembered:  # earlier runs' times: the window says before Start how long the photos should take
            from app.photo_times import PhotoTimes, way
            from engine.batch_time import Restored

            times = PhotoTimes(tmp / "data" / "photo_times.json")
            for k in range(40):
                times.add(way(Settings()), Restored("rain", 10.0 + k % 7, (1.0 + k % 5, 1.0 + k % 5)))
        runner = BatchRunner(queue, Settings(), FakeEngine(step_s=0.0, analysis_available=True), times=times)
        window = MainWindow(runner)
        window.show()
        runner.add_paths([str(folder)])
        while len(queue) < photos:
            await asyncio.sleep(0.01)
        t0 = time.perf_counter()
        runner.detect()
        while not all(i.detected_task for i in queue):
            await asyncio.sleep(0.01)
        seconds = time.perf_counter() - t0
        await runner.shutdown()
        window.close()
        return seconds

    async def both() -> tuple[float, float, float]:
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b, \
                tempfile.TemporaryDirectory() as c:
            return await one(False, Path(a)), await one(True, Path(b)), await one(True, Path(c), remembered=True)

    return qasync.run(both())


def window_bulk(photos: int) -> dict[str, tuple[float, float]]:
    """Seconds for changes to every one of `photos` selected photos in the main window: one change a photo
    (what Start, Ctrl+3 and the reselection after an undo did before) and one change for all (now)."""
    import contextlib
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT / "tests" / "gui"))
    import qasync
    from fake_engine_service import FakeEngine
    from PySide6.QtCore import QItemSelectionModel
    from PySide6.QtWidgets import QApplication

    from app import qt_compat
    from app.queue_model import ItemState

    qt_compat.install()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    async def run(tmp: Path) -> dict[str, tuple[float, float]]:
        from app.runner import BatchRunner
        from app.settings import Settings
        from app.widgets.main_window import MainWindow

        os.environ["HOURGLASS_DATA_DIR"] = str(tmp / "data")
        queue = BatchQueue(tmp / "data" / "queue.json", autosave=False)
        queue.add([(f"/photos/trip/IMG_{i:05d}.jpg", "/photos") for i in range(photos)])
        runner = BatchRunner(queue, Settings(), FakeEngine(step_s=0.0, analysis_available=False))
        window = MainWindow(runner)
        window.show()
        window.table.selectAll()
        items, ids = list(queue), [i.id for i in queue]
        out = {}
        old = timed(lambda: [queue.set_state(i, ItemState.QUEUED) for i in items])
        queue.set_states(items, ItemState.PENDING)
        out["Start (every photo queued)"] = (old, timed(lambda: queue.set_states(items, ItemState.QUEUED)))
        queue.set_states(items, ItemState.PENDING)
        old = timed(lambda: [queue.set_task([i], "haze") for i in items])
        queue.set_task(items, "auto")
        out["a degradation set (Ctrl+3)"] = (old, timed(lambda: window.set_task_for_selection("haze")))
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        window.table.clearSelection()
        old = timed(lambda: [window.table.selectionModel().select(window.model.index(r, 0), flags)
                             for r in range(photos)])
        window.table.clearSelection()
        out["selecting them again"] = (old, timed(lambda: window.reselect(ids)))
        os.environ["XDG_DATA_HOME"] = str(tmp / "xdg")  # (a trash of its own)
        (tmp / "xdg").mkdir(mode=0o700)

        def restored() -> None:  # every photo done, with a result on disk
            queue.set_states([i for i in items if i.state is not ItemState.PENDING], ItemState.PENDING)
            for item in items:
                result = tmp / "restored" / Path(item.path).name
                result.parent.mkdir(exist_ok=True)
                result.write_bytes(b"result")
            queue.set_states(items, ItemState.QUEUED)
            queue.set_states(items, ItemState.RUNNING)
            queue.set_states(items, ItemState.DONE, each=lambda i: {
                "output_path": str(tmp / "restored" / Path(i.path).name)})

        restored()
        queue.together = contextlib.nullcontext  # (as before: each photo's change said on its own)
        old = timed(lambda: window.queue_menu.move_to_trash(items))
        del queue.together
        restored()
        out["moving every result to the trash"] = (old, timed(lambda: window.queue_menu.move_to_trash(items)))
        await runner.shutdown()
        window.close()
        return out

    async def once() -> dict[str, tuple[float, float]]:
        with tempfile.TemporaryDirectory() as tmp:
            return await run(Path(tmp))

    return qasync.run(once())


if __name__ == "__main__":
    sys.exit(main())
