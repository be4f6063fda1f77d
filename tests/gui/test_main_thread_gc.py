"""The app's garbage collection on the GUI thread (`app.main_thread_gc`)."""

from __future__ import annotations

import gc
import threading

from app.main_thread_gc import MainThreadGC


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_automatic_collection_is_off_and_the_gui_thread_collects_past_the_thresholds(qapp):
    """With it installed, a worker thread allocating never starts a collection (which could free Qt objects
    there); the GUI thread's check collects what the counts call for, and `stop` gives collection back."""
    assert gc.isenabled()
    keeper = MainThreadGC(interval_ms=60_000)
    try:
        assert not gc.isenabled()
        before = gc.get_count()[0]

        def allocate() -> None:  # (a thread making many cycles: no collection starts there)
            for _ in range(5 * keeper.threshold[0]):
                Cycle()

        worker = threading.Thread(target=allocate)
        worker.start()
        worker.join()
        assert gc.get_count()[0] >= before + 4 * keeper.threshold[0]  # nothing was collected meanwhile
        assert keeper.check() >= 4 * keeper.threshold[0]  # the GUI thread finds them
        assert gc.get_count()[0] < keeper.threshold[0]
        assert keeper.check() == 0  # below every threshold: nothing to do
    finally:
        keeper.stop()
    assert gc.isenabled()
