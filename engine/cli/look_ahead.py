"""What `hourglass restore` learns about the photos ahead of restoring them, for the time left."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.batch_time import BatchClock


class LookAhead:
    """On a thread of its own, ahead of the restores: each photo's size from its header and, on auto, the
    degradation of each JPEG and RAW, so the time left weighs each photo by its size and the path its
    degradation takes (`BatchClock`). The restore takes the detection made here instead of making it again
    (the same answer: `detect_file` sees the photo as the restore does), so nothing is done twice; the
    first photo detects its own, as it starts at once. Other formats are detected by their restore, from the
    pixels it decodes anyway (`imaging.reads_small_itself`): detected ahead, they were decoded twice, and
    a batch of 6-12 MP PNGs on the fast path took 6% longer; they count as the mean photo until restored."""

    def __init__(self, photos: list[Path], clock: BatchClock, detect: bool, restore_clean: bool) -> None:
        self.photos, self.clock, self.restore_clean = photos, clock, restore_clean
        self._detections: list = [None] * len(photos)
        self._ready = [threading.Event() for _ in photos]
        self._detect = detect
        threading.Thread(target=self._run, name="look-ahead", daemon=True).start()

    def detection(self, k: int, cancel) -> Any:
        """Photo `k`'s detection, None where it was not made (the first photo, no detector, a photo the
        detector could not read: the restore detects itself and says why). It waits for the thread to have
        looked at the photo, which it has long done unless detecting is slower than restoring."""
        while not self._ready[k].wait(0.25):
            cancel.check()
        return self._detections[k]

    def detected(self, k: int | None) -> Callable[[Any], None] | None:
        """For the restore of photo `k` to report the detection it makes itself (the first photo, other
        formats than JPEG and RAW): the time left then knows that photo's path too."""
        return None if k is None else lambda d: self._learn(k, d)

    def _learn(self, k: int, d: Any) -> None:
        from engine.batch_time import SKIPPED

        self.clock.tasks[k] = SKIPPED if d.task == "none" and not self.restore_clean else d.task

    def _run(self) -> None:
        from engine.imaging import photo_size, reads_small_itself

        detector = self._detector() if self._detect else None
        for k, path in enumerate(self.photos):
            try:
                self.clock.sizes[k] = photo_size(path)
                if detector is not None and k > 0 and reads_small_itself(path):
                    self._detections[k] = detector.detect_file(path)
                    self._learn(k, self._detections[k])
            except Exception:  # (the photo's own restore detects again and says what is wrong)
                logging.getLogger("hourglass.cli").debug("no detection ahead for %s", path, exc_info=True)
            finally:
                self._ready[k].set()

    @staticmethod
    def _detector() -> Any:
        try:
            from engine.detection import default_detector

            return default_detector()
        except Exception:  # noqa: BLE001 - (no detector: each restore says so itself)
            return None
