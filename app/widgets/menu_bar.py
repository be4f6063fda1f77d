"""The window's menu bar: every command where a desktop app keeps it (File, Edit, Batch, View, Help), with its
key beside it. The toolbar holds the frequent ones; the menus are where a photographer looks for the rest
and learns the keys, and on a Mac the only place commands are looked for (Qt moves Settings, About and Quit
into the application menu there). The actions are the window's own: one action, wherever it is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence

from app.widgets.error_dialog import open_log_folder

if TYPE_CHECKING:
    from app.widgets.main_window import MainWindow


def build_menu_bar(window: MainWindow) -> None:
    bar = window.menuBar()
    window.quit_action = quit_action = QAction("Quit", window)
    quit_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) or [QKeySequence("Ctrl+Q")])
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    quit_action.triggered.connect(window.close)  # (asks first while a batch runs, as closing the window does)
    window.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
    window.about_action.setMenuRole(QAction.MenuRole.AboutRole)

    file = bar.addMenu("&File")
    file.addActions([window.add_action, window.add_folder_action, window.watch_action])
    file.addAction("Try the sample photos", window.add_samples)
    file.addSeparator()
    file.addActions([window.save_again_action, window.save_view_action])
    file.addSeparator()
    file.addAction(quit_action)

    edit = bar.addMenu("&Edit")
    edit.addActions([window.undo_action, window.redo_action])
    edit.addSeparator()
    edit.addActions([window.copy_files_action, window.paste_action, window.copy_view_action, window.remove_action,
                     window.clear_action, window.trash_action])
    edit.addSeparator()
    edit.addActions([window.settings_action, window.models_action])

    batch = bar.addMenu("&Batch")
    batch.addActions([window.start_action, window.pause_action, window.cancel_action, window.retry_action])
    batch.addAction("Restore next", lambda: window.restore_next())
    batch.addSeparator()
    batch.addAction(window.detect_action)
    batch.addAction("Detect degradation of the selected photos", window.detect_selected)
    degradation = batch.addMenu("Degradation of the selected photos")
    degradation.addActions(list(window.task_actions.values()))

    view = bar.addMenu("&View")
    view.addAction(window.preview_action)
    window.side_by_side_action = side = view.addAction("Side by side (S)")
    side.setCheckable(True)
    side.setChecked(window.panel.view.side_by_side)
    side.toggled.connect(window.panel.view.set_side_by_side)
    window.panel.view.side_by_side_changed.connect(side.setChecked)
    window.original_action = original = view.addAction("The original alone (Space)")
    original.setCheckable(True)
    original.triggered.connect(lambda on: window.panel.view.toggle_before() if on != window.panel.view.show_before
                               else None)
    window.panel.view.toggled.connect(original.setChecked)
    view.addAction("Fit (F)", window.panel.view.fit)
    view.addAction("100% (1)", window.panel.view.actual_size)
    view.addSeparator()  # (the view's own keys are named, not bound here: they stay the view's, and letters
    view.addAction("Next photo (↓)", lambda: window.step_photo(1))  # typed in the queue still find names)
    view.addAction("Previous photo (↑)", lambda: window.step_photo(-1))
    view.addSeparator()
    view.addAction(window.full_screen_action)

    help_menu = bar.addMenu("&Help")
    help_menu.addAction(window.about_action)
    help_menu.addAction("Open log folder", open_log_folder).setStatusTip(
        "The app's and the engine's log files, to attach to a bug report")
    window.menu_bar = bar
