"""Photos opened with Hourglass on macOS: the Finder's Open With, a drop on the Dock icon and another app's
hand-over (Lightroom's Edit In) arrive as `QFileOpenEvent`s on the application object, not on the command
line, both when they start the app and while it runs (macOS starts one instance). `OpenedFiles` keeps them
until the window can take them and hands them over in one batch (several files come as several events)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

BATCH_MS = 100  # the events of one Open With of several files come together; one batch for them


class OpenedFiles(QObject):
    files = Signal(list)  # paths opened, once `deliver` was called

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: list[str] = []
        self._ready = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(BATCH_MS)
        self._timer.timeout.connect(self._flush)

    def take(self, event: QEvent) -> bool:
        """Keep the file of a `QFileOpenEvent` (True: the event is handled); other events are not ours."""
        if event.type() != QEvent.Type.FileOpen or not isinstance(event, QFileOpenEvent):
            return False
        path = event.file() or event.url().toLocalFile()
        if path:
            self._pending.append(path)
            self._timer.start()
        return True

    def deliver(self) -> None:
        """From now on the files go out through `files` (those opened before too)."""
        self._ready = True
        self._flush()

    def _flush(self) -> None:
        if self._ready and self._pending:
            paths, self._pending = self._pending, []
            self.files.emit(paths)


class HourglassApplication(QApplication):
    """The app's QApplication: it takes the files macOS opens with it (only events sent to the application
    object come here, so nothing else is slowed down)."""

    def __init__(self, argv: list[str]) -> None:
        super().__init__(argv)
        self.opened = OpenedFiles(self)

    def event(self, event: QEvent) -> bool:
        opened = getattr(self, "opened", None)  # (events come while it is made: a child added, …)
        if opened is not None and opened.take(event):
            return True
        return super().event(event)
