"""The app's look: as the system draws it (default), or Qt's Fusion style with a dark or a light palette.

Photographers often judge photos in a dim room with a dark interface (every peer app has one, peers.md
row 41). Qt's colour-scheme hint is not honoured by every platform (not under X11 without a desktop, nor
offscreen), so the dark look is an explicit palette rather than a hint.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

_system: tuple[str, QPalette] | None = None  # the style and palette the app started with
_changed = False  # the app's look is ours (dark or light); while False, Qt follows the system by itself


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor(45, 45, 48), QColor(30, 30, 32), QColor(222, 222, 222)
    highlight, dim = QColor(42, 130, 218), QColor(128, 128, 128)
    for role, colour in ((QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
                         (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, QColor(40, 40, 43)),
                         (QPalette.ColorRole.ToolTipBase, window), (QPalette.ColorRole.ToolTipText, text),
                         (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, QColor(55, 55, 58)),
                         (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.BrightText, QColor(255, 90, 90)),
                         (QPalette.ColorRole.Link, highlight), (QPalette.ColorRole.Highlight, highlight),
                         (QPalette.ColorRole.HighlightedText, QColor("white")),
                         (QPalette.ColorRole.PlaceholderText, dim),
                         (QPalette.ColorRole.Light, QColor(75, 75, 78)), (QPalette.ColorRole.Midlight, QColor(62, 62, 65)),
                         (QPalette.ColorRole.Mid, QColor(150, 150, 150)),  # secondary text ("palette(mid)")
                         (QPalette.ColorRole.Dark, QColor(25, 25, 27)), (QPalette.ColorRole.Shadow, QColor(0, 0, 0))):
        p.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, dim)
    return p


def apply(theme: str, app: QApplication | None = None) -> None:
    """Switch the running app to `theme` (one of `app.settings.THEMES`; anything else is the system's)."""
    global _system, _changed
    app = app or QApplication.instance()
    if app is None:
        return
    if _system is None:
        _system = (app.style().name(), QPalette(app.palette()))
    if theme == "dark":
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    elif theme == "light":
        app.setStyle("Fusion")
        app.setPalette(app.style().standardPalette())
    elif _changed:  # back from dark or light: the look the app started with
        app.setStyle(_system[0])
        app.setPalette(_system[1])
    _changed = theme in ("dark", "light")
