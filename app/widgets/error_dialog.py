"""An error dialog: a readable message, with expandable details (code, traceback, engine log tail)."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def open_log_folder() -> None:
    from app.logs import log_dir

    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


class ErrorDialog(QDialog):
    def __init__(self, title: str, message: str, details: str = "", log_tail: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(560, 200)
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>{title}</b>")
        self.message = QLabel(message)
        self.message.setWordWrap(True)
        layout.addWidget(heading)
        layout.addWidget(self.message)
        text = details.strip()
        if log_tail.strip():
            text = f"{text}\n\n--- engine log (last lines) ---\n{log_tail.strip()}".strip()
        self.details = QPlainTextEdit(text)
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setVisible(False)
        layout.addWidget(self.details, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.toggle = QPushButton("Show details")
        self.toggle.setEnabled(bool(text))
        self.toggle.clicked.connect(self._toggle)
        copy = QPushButton("Copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(f"{title}\n{message}\n\n{text}"))
        self.open_logs = QPushButton("Open log folder")
        self.open_logs.setToolTip("The app's and the engine's log files, to attach to a bug report")
        self.open_logs.clicked.connect(open_log_folder)
        buttons.addButton(self.toggle, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.open_logs, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _toggle(self) -> None:
        show = not self.details.isVisible()
        self.details.setVisible(show)
        self.toggle.setText("Hide details" if show else "Show details")
        if show:
            self.resize(max(self.width(), 700), max(self.height(), 460))
