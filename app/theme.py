"""The app's look: as the system draws it (default), or Qt's Fusion style with a dark or a light palette.

Photographers often judge photos in a dim room with a dark interface (every peer app has one, peers.md
row 41). Qt's colour-scheme hint is not honoured by every platform (not under X11 without a desktop, nor
offscreen), so the dark look is an explicit palette rather than a hint.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

_system: tuple[str, QPalette] | None = None  # the style and palette the app started with
_changed = False  # the app's look is ours (dark or light); while False, Qt follows the system by itself
SECONDARY = 0.62  # dimmed text: this much of the text colour over the window's (6.6:1 light, 5.3:1 dark)
SELECTION = QColor(31, 111, 192)  # white on it 5.1:1 (Fusion's light blue 3.7:1, the dark look's 4.0:1)


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor(45, 45, 48), QColor(30, 30, 32), QColor(222, 222, 222)
    # each colour of text at least 4.5:1 on what it is drawn on (WCAG): links on the window were 3.5:1 in
    # the highlight's blue, white on the highlight 4.0:1, placeholders 4.2:1 (disabled text may be dimmer)
    highlight, dim, link = SELECTION, QColor(128, 128, 128), QColor(100, 181, 246)
    for role, colour in ((QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
                         (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, QColor(40, 40, 43)),
                         (QPalette.ColorRole.ToolTipBase, window), (QPalette.ColorRole.ToolTipText, text),
                         (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, QColor(55, 55, 58)),
                         (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.BrightText, QColor(255, 90, 90)),
                         (QPalette.ColorRole.Link, link), (QPalette.ColorRole.LinkVisited, link),
                         (QPalette.ColorRole.Highlight, highlight),
                         (QPalette.ColorRole.HighlightedText, QColor("white")),
                         (QPalette.ColorRole.PlaceholderText, QColor(140, 140, 140)),
                         (QPalette.ColorRole.Light, QColor(75, 75, 78)), (QPalette.ColorRole.Midlight, QColor(62, 62, 65)),
                         (QPalette.ColorRole.Mid, QColor(150, 150, 150)),  # (the drop area's dashed border)
                         (QPalette.ColorRole.Dark, QColor(25, 25, 27)), (QPalette.ColorRole.Shadow, QColor(0, 0, 0))):
        p.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, dim)
    return p


def light_palette(style_palette: QPalette) -> QPalette:
    """Fusion's light palette with text readable on what it is drawn on (WCAG's 4.5:1): white on its
    selection blue was 3.7:1 and its placeholders 3.9:1."""
    p = QPalette(style_palette)
    p.setColor(QPalette.ColorRole.Highlight, SELECTION)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(110, 110, 110))
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
        app.setPalette(light_palette(app.style().standardPalette()))
    elif _changed:  # back from dark or light: the look the app started with
        app.setStyle(_system[0])
        app.setPalette(_system[1])
    _changed = theme in ("dark", "light")


def error_text() -> str:
    """The colour of an error's words on the window: the light appearance's red read 2.6:1 on the dark one."""
    return "#c62828" if QApplication.palette().window().color().lightness() >= 128 else "#ef9a9a"


def secondary_text(palette: QPalette) -> QColor:
    """The colour of dimmed text (a caption, a note): the window text blended over the window."""
    fg, bg = palette.color(QPalette.ColorRole.WindowText), palette.color(QPalette.ColorRole.Window)
    return QColor(*(round(a * SECONDARY + b * (1 - SECONDARY))
                    for a, b in zip(fg.getRgb()[:3], bg.getRgb()[:3], strict=True)))


class _Dimmed(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Settings → Appearance, or the system's: a window hears of it as an application palette change,
        # the widgets in it as their own palette changing (before the application's has changed: so the
        # colour is worked out once the change is over), and a hidden one not until it is shown
        if event.type() in (QEvent.Type.ApplicationPaletteChange, QEvent.Type.PaletteChange, QEvent.Type.Show):
            QTimer.singleShot(0, watched, partial(_colour, watched))
        return False


_dimmed: _Dimmed | None = None


def dim(widget: QWidget) -> None:
    """Show a label's text dimmed yet readable, in any theme. "palette(mid)", a button bevel's shade, was
    1.7:1 against the light window (WCAG asks 4.5:1 of text): the result's path under the comparison was
    barely legible."""
    global _dimmed
    if _dimmed is None:
        _dimmed = _Dimmed()
    widget.installEventFilter(_dimmed)
    _colour(widget)


def _colour(widget: QObject) -> None:
    sheet = f"color: {secondary_text(QApplication.palette()).name()};"
    if widget.styleSheet() != sheet:  # (setting it changes the palette: once, not over and over)
        widget.setStyleSheet(sheet)
