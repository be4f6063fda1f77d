"""The GUI's queue: how long one save takes for a large batch. The queue is saved on every state change
(added, detecting, detected, queued, running, done), on the GUI thread, so a slow save stalls the window.

    .venv/bin/python bench/bench_queue.py [--photos 2000] [--saves 200]

Times `BatchQueue.save` with items that carry a detection result, against the way it was written before
2026-12-06 (`dataclasses.asdict` per item, indented JSON), in the same run. Prints milliseconds per save.
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
