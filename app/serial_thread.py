"""Calls that may block (a desktop service over D-Bus, which waits up to 25 s for each reply) run here, one
after another on one thread kept for the app's life, so the window never waits for them."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)


class SerialThread:
    """Runs submitted calls in order on one daemon thread, started with the first call."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._changed = threading.Condition()
        self._calls: deque[Callable[[], object]] = deque()
        self._submitted = self._done = 0
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def submit(self, call: Callable[[], object]) -> None:
        """Returns at once; `call` runs after every call submitted before it. Its errors are logged."""
        with self._changed:
            self._calls.append(call)
            self._submitted += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every call submitted so far has run; False if `timeout` ran out first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._done == self._submitted, timeout)

    def _serve(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._calls))
                call = self._calls.popleft()
            try:
                call()
            except Exception:  # (the callers handle their own errors: this would be a bug)
                log.exception("%s: a call failed", self.name)
            with self._changed:
                self._done += 1
                self._changed.notify_all()
