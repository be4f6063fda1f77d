"""A panel that accepts dropped files and folders (URL mime data) and shows a hint while the queue is empty."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtWidgets import QLabel, QPushButton, QStackedLayout, QVBoxLayout, QWidget

from app import theme
from app.mime_data import mime_local_paths


def _takes(mime) -> bool:
    """A drag worth accepting: local files or folders, image data (an image dragged out of an editor or a
    browser), or links to elsewhere, which the drop answers with what to do instead."""
    return mime is not None and (bool(mime_local_paths(mime)) or mime.hasImage() or mime.hasUrls())


WEB_LINK_HINT = ("Only photos on this computer can be added: save the image from the browser first, or copy it "
                 "there and paste it here (Ctrl+V).")


class DropZone(QWidget):
    paths_dropped = Signal(object)  # list[str]; a `list` signal would mangle non-UTF-8 names
    image_dropped = Signal(object)  # QImage: image data without a file (kept like a pasted image)
    refused = Signal(str)  # why nothing was added (links to the web)
    add_requested = Signal()
    samples_requested = Signal()  # "Try the sample photos": the app's own degraded samples

    def __init__(self, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self._hint = QWidget()
        hint_layout = QVBoxLayout(self._hint)
        hint_layout.addStretch(1)
        title = QLabel("Drop photos or folders here")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setStyleSheet("font-size: 18px; font-weight: 600;")
        sub = QLabel("Low light, haze, rain, snow and blur. Folders are searched recursively.")
        sub.setAlignment(Qt.AlignmentFlag.AlignCenter)
        sub.setWordWrap(True)
        theme.dim(sub)
        button = QPushButton("Add photos…")
        button.clicked.connect(self.add_requested)
        hint_layout.addWidget(title)
        hint_layout.addWidget(sub)
        hint_layout.addWidget(button, 0, Qt.AlignmentFlag.AlignCenter)
        self.samples_button = QPushButton("Try the sample photos")
        self.samples_button.setFlat(True)
        self.samples_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.samples_button.setStyleSheet("QPushButton { color: palette(link); text-decoration: underline; "
                                          "border: none; }")
        self.samples_button.setToolTip("Five photos that come with Hourglass, one for each kind of degradation")
        self.samples_button.clicked.connect(self.samples_requested)
        hint_layout.addWidget(self.samples_button, 0, Qt.AlignmentFlag.AlignCenter)
        hint_layout.addStretch(1)
        self._hint.setObjectName("dropHint")
        self._hint.setStyleSheet("#dropHint { border: 2px dashed palette(mid); border-radius: 10px; }")
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self._hint)
        self._stack.addWidget(content)

    def set_empty(self, empty: bool) -> None:
        self._stack.setCurrentIndex(0 if empty else 1)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _takes(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if _takes(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        if not _takes(mime):
            return
        event.acceptProposedAction()
        paths = mime_local_paths(mime)
        if paths:
            self.paths_dropped.emit(paths)
        elif mime.hasImage():
            self.image_dropped.emit(QImage(mime.imageData()))
        else:
            self.refused.emit(WEB_LINK_HINT)
