"""Python's cyclic garbage collector runs in whichever thread is allocating when a generation passes its
threshold. The app has several (folder scans, photo looks, image loading, the asyncio executor); a window
piece, a dialog or a timer caught in a reference cycle (a signal connected to a lambda that holds its
owner) may then be destroyed outside the GUI thread. Its timers stay registered with the GUI thread's
event dispatcher, and the next timer event reaches a dead object: a segmentation fault, as CI met in
`QTimerInfoList::activateTimers`. So while the window runs, automatic collection is off and the GUI
thread collects itself on a timer, generation by generation when the counts pass the usual thresholds (the
pattern of pyqtgraph, Spyder and qutebrowser). Reference counting, which frees most objects, is untouched.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_MS = 500


class MainThreadGC(QObject):
    """Collect on the thread that made this object (the GUI thread), every `CHECK_MS`; `stop` gives the
    collection back to Python."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_MS) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def check(self) -> int:
        """Collect the generations whose counts passed their thresholds (the youngest first, as Python
        does); the number of objects found unreachable."""
        counts, found = gc.get_count(), 0
        for generation in (2, 1, 0):
            if counts[generation] > self.threshold[generation]:
                found = gc.collect(generation)
                break  # (collecting a generation collects the younger ones too)
        return found

    def stop(self) -> None:
        self._timer.stop()
        gc.collect()  # (what is left, here, before the threads may collect again)
        if self.was_enabled:
            gc.enable()
