"""What a screen reader says: every control of the window and its dialogs that takes focus or acts has a name
(Qt's accessible name, which AT-SPI, UI Automation and VoiceOver read), and a name that says what it is."""
from __future__ import annotations

from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QScrollBar,
    QWidget,
)

from app.widgets.model_dialog import ModelDialog
from app.widgets.settings_dialog import SettingsDialog

ACTING = (QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QProgressBar)


def accessible_name(widget: QWidget) -> str:
    face = QAccessible.queryAccessibleInterface(widget)
    return face.text(QAccessible.Text.Name) if face is not None else ""


def unnamed(top: QWidget) -> list[str]:
    """The visible controls under `top` a screen reader would announce without a name."""
    found = []
    for w in [top, *top.findChildren(QWidget)]:
        if not w.isVisibleTo(top) or isinstance(w, (QLabel, QScrollBar, QHeaderView)):
            continue  # a label is read for its text; a view's scroll bars and headers are its own
        if isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox)):
            continue  # the editor inside a spin box or a combo box: the box is named
        if isinstance(w, ACTING) and not accessible_name(w).strip():
            found.append(f"{type(w).__name__} {w.objectName()!r}")
    return found


def test_the_window_and_its_dialogs_name_every_control(make_window, qtbot, photos):
    window = make_window()
    window.add_paths([str(p) for p in photos[1]])
    qtbot.waitUntil(lambda: len(window.queue) == 3, timeout=10000)
    window.select_row(0)
    assert unnamed(window) == []
    assert accessible_name(window.status_line.overall) == "Batch progress"
    more = window.toolbar.findChild(QAbstractButton, "qt_toolbar_ext_button")
    assert accessible_name(more) == "More commands"  # the » a narrow window shows
    window.open_settings()
    window.open_models()
    window.open_about()
    dialogs = window._dialogs
    assert len(dialogs) == 3
    for dialog in dialogs:
        qtbot.waitUntil(dialog.isVisible)
        assert unnamed(dialog) == [], type(dialog).__name__
    settings = next(d for d in dialogs if isinstance(d, SettingsDialog))
    assert accessible_name(settings.folder) == "Output folder"  # not its group's title, "Saving results"
    models = next(d for d in dialogs if isinstance(d, ModelDialog))
    assert accessible_name(models.table) == "Models"
    assert accessible_name(models.name) == "Name for the imported model"
    qtbot.waitUntil(lambda: len(window.models.tasks) == 0, timeout=60000)  # (the model listing, before teardown)
