"""Help → About: the version, what runs (devices, active model and its measured limits), the licences, and
every keyboard shortcut, read from the window's actions so the list cannot go stale."""

from __future__ import annotations

import html
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.paths import resources_dir
from engine import __version__

VIEW_KEYS = [("Space or B", "Show the original alone"), ("F", "Fit the photo in the view"),
             ("1", "100 % (one photo pixel to one screen pixel)"), ("Z", "100 %, or fit again"),
             ("+ / −, wheel", "Zoom"),
             ("Drag", "Pan, or move the divider"), ("← / → (Shift: finely)", "Move the divider"),
             ("S", "Side by side, or split by the divider"),
             ("↓ / ↑, Page Down / Page Up", "Next / previous photo of the queue"),
             ("Double-click", "100 % there, or fit again"),
             ("Navigator (bottom right, zoomed in)", "Click or drag: show that part")]


def licence_folder() -> Path:
    """Where the licence texts are: the bundle's `licenses/` (with THIRD-PARTY-NOTICES.txt) when frozen,
    else the source tree (our LICENSE at its root, Qt's LGPL texts in packaging/licenses)."""
    if getattr(sys, "frozen", False):
        return resources_dir().parent / "licenses"
    return Path(__file__).resolve().parents[2]


def shortcuts(actions: list[QAction]) -> list[tuple[str, str]]:
    """(keys, what) of every action with a shortcut, then the comparison view's own keys."""
    rows = []
    for action in actions:
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:  # (an action named in its own menu's terms, "Low light", carries its full name as its data)
            what = action.data() if isinstance(action.data(), str) and action.data() else action.text()
            rows.append((keys, what.replace("&", "").rstrip("…")))
    return sorted(set(rows), key=lambda r: r[1].lower()) + VIEW_KEYS


def about_html(devices: str, model: str, notes: dict[str, str], keys: list[tuple[str, str]], screen: str = "") -> str:
    e = html.escape
    limits = "".join(f"<li><b>{e(task)}</b>: {e(note)}</li>" for task, note in notes.items())
    table = "".join(f"<tr><td><b>{e(k)}</b></td><td>{e(what)}</td></tr>" for k, what in keys)
    return (f"<h2>Hourglass {e(__version__)}</h2>"
            "<p>Restores low-light, hazy, rainy, snowy and blurred photos with DiffUIR (Zheng et al., CVPR 2024, "
            "“selective hourglass mapping”), on this computer: nothing is uploaded.</p>"
            f"<p><b>Devices:</b> {e(devices)}<br><b>Model:</b> {e(model)}"
            + (f"<br><b>Screen colour profile:</b> {e(screen)}" if screen else "") + "</p>"
            + (f"<p>Measured limits of this model:</p><ul>{limits}</ul>" if limits else "")
            + "<p>Hourglass is free software under the MIT licence. It includes Qt and PySide6 under the GNU LGPL "
            "3.0, PyTorch, NumPy, Pillow, OpenCV and others under their own licences (the licence folder holds "
            "every text and the third-party notices).</p>"
            f"<h3>Keyboard</h3><table cellspacing='4'>{table}</table>")


class AboutDialog(QDialog):
    def __init__(self, devices: str, model: str, notes: dict[str, str], actions: list[QAction],
                 parent: QWidget | None = None, *, screen: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("About Hourglass")
        self._screen = screen
        self.resize(560, 620)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self._devices, self._keys = devices, shortcuts(actions)
        self.set_model(model, notes)
        folder = licence_folder()
        where = QLabel(f"Licences: {folder}")
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        where.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_licences = QPushButton("Open licence folder")
        self.open_licences.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))
        buttons.addButton(self.open_licences, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(where)
        layout.addWidget(buttons)

    def set_model(self, model: str, notes: dict[str, str]) -> None:
        """Show `model` and its measured limits (they arrive with the model listing)."""
        self.model, self.notes = model, notes
        self.text.setHtml(about_html(self._devices, model, notes, self._keys, self._screen))
