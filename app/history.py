"""The window's undo history: Ctrl+Z takes back the user's changes to the list one at a time, newest first,
and Redo does them again (which changes: app.widgets.undo_steps).

A step is what to run and the words for it. Running a step does its change through the app's ordinary
paths, and those push the step that reverses it: while undoing, that step goes on the redo side; while
redoing, back on the undo side. So each change is written once, in the place that makes it, and a redo is
the same change as the user's own. Nothing here knows Qt or the queue."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

LIMIT = 100  # steps kept on each side; the oldest go first


@dataclass(frozen=True)
class Step:
    what: str  # the change in words, after "Undo " or "Redo ": "remove 3 photos"
    run: Callable[[], None]  # makes the change (pushing, through the app, the step that reverses it)


class History:
    def __init__(self, changed: Callable[[], None] | None = None) -> None:
        self._undo: list[Step] = []
        self._redo: list[Step] = []
        self._running: str = ""  # "undo" or "redo" while a step runs
        self._changed = changed or (lambda: None)

    def push(self, step: Step) -> None:
        """Record a change just made. A new change of the user's own drops what could be redone."""
        side = self._redo if self._running == "undo" else self._undo
        if not self._running:
            self._redo.clear()
        side.append(step)
        del side[:-LIMIT]
        self._changed()

    def undo(self) -> bool:
        return self._run(self._undo, "undo")

    def redo(self) -> bool:
        return self._run(self._redo, "redo")

    def _run(self, side: list[Step], direction: str) -> bool:
        if not side or self._running:
            return False
        step = side.pop()
        self._running = direction
        try:
            step.run()
        finally:
            self._running = ""
            self._changed()
        return True

    @property
    def running(self) -> str:
        """"undo" or "redo" while a step runs ('' otherwise): a message may then name the other key."""
        return self._running

    @property
    def undo_what(self) -> str:
        """What Ctrl+Z would take back ('' when nothing)."""
        return self._undo[-1].what if self._undo else ""

    @property
    def redo_what(self) -> str:
        return self._redo[-1].what if self._redo else ""
