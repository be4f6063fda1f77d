"""The main window: composition and wiring only (queue on the left, comparison on the right)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QIcon, QImage, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHeaderView,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableView,
    QToolBar,
    QToolButton,
    QWidget,
)

from app import theme, window_state
from app.images import ImageLoader
from app.mime_data import clipboard_paths, files_for_clipboard, save_pasted_image
from app.models_service import ModelService
from app.paths import icon_path, sample_photos
from app.qt_queue import (
    COL_ETA,
    COL_PHOTO,
    COL_PROGRESS,
    COL_STATE,
    COL_TASK,
    SORTABLE,
    ItemIdRole,
    ProgressDelegate,
    QueueTableModel,
    TaskDelegate,
    format_eta,
    sort_key,
)
from app.queue_model import FINISHED, ItemState, QueueItem, photo_look, restored_file
from app.resave import can_resave
from app.runner import RESTORE_AGAIN_HINT, BatchRunner
from app.settings import TASK_LABELS
from app.tasks import TaskSet
from app.trash import Trashed
from app.watch_folder import FolderWatch
from app.widgets.about_dialog import AboutDialog
from app.widgets.compare_panel import ComparePanel
from app.widgets.drop_zone import DropZone
from app.widgets.error_dialog import ErrorDialog
from app.widgets.menu_bar import build_menu_bar
from app.widgets.model_dialog import ModelDialog
from app.widgets.queue_menu import QueueMenu
from app.widgets.screen_colours import ScreenColours
from app.widgets.settings_dialog import SettingsDialog
from app.widgets.status_line import TITLE, StatusLine
from app.widgets.undo_steps import UndoSteps, name_or_count
from app.widgets.watch_control import WatchControl
from engine.filetypes import PHOTO_EXTENSIONS, archived_models, is_model_file
from engine.wording import count

FILE_FILTER = f"Photos ({' '.join('*' + ext for ext in sorted(PHOTO_EXTENSIONS))})"  # Qt matches any case


class MainWindow(QMainWindow):
    close_confirmed = Signal()  # the window may go: the app shuts the engine down, then quits
    batch_progress = Signal(object)  # the running batch's fraction done, None when none runs (app.desktop_status)
    batch_ended_unseen = Signal(str, str)  # a batch ended while the user was elsewhere: (summary, details)

    def __init__(self, runner: BatchRunner, models: ModelService | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.queue = runner.queue
        self.settings = runner.settings
        self.models = models or ModelService(self)
        self.images = ImageLoader(parent=self)
        self.screen_colours = ScreenColours(self)  # photos shown through the screen's profile
        self._closing = False
        self._dialogs: list[QWidget] = []
        self._maximized = False  # the window's state before full screen
        self._photo_tasks = TaskSet("photo check")
        self._checking_photos = False
        self._to_show: list[str] = []  # photos opened with Hourglass, to show once queued (`open_paths`)
        self._selected: list[str] = []  # the selected photos' ids, kept across resets of the table
        self.setWindowTitle(TITLE)
        if icon_path().exists():
            self.setWindowIcon(QIcon(str(icon_path())))
        self.resize(1280, 780)
        self.watch = FolderWatch(self.queue.paths, self.settings, parent=self, results=self.queue.result_paths)
        self.watching = WatchControl(self)  # Watch folder…: its dialog, status and arrivals
        self.status_line = StatusLine(self)  # the status bar's counts, progress and engine state; the title
        self._build_actions()
        self._build_ui()
        self.queue_menu = QueueMenu(self)
        self.undo_steps = UndoSteps(self)  # Ctrl+Z and Redo
        window_state.restore(self)  # the size, split and columns the user left
        self._wire()
        self.watching.resume()
        if len(self.queue):  # the queue saved at the last close: thumbnails and a photo on view, as for an add
            self._on_queue_event("reset", list(self.queue))
            self.check_photos()  # edited while Hourglass was closed
        if self.queue.load_problem:  # said once the window is up: the user expected the queue they left
            QTimer.singleShot(0, lambda: self.show_error("The saved queue could not be read in full",
                                                         self.queue.load_problem))
        self._refresh()

    # -------------------------------------------------------------- construction

    def _action(self, text: str, slot, shortcut: str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({keys})" if keys else tip)  # (the toolbar's hover names the key)
            action.setStatusTip(tip)
        return action

    def _build_actions(self) -> None:
        self.add_action = self._action("Add photos…", self.open_add_dialog, "Ctrl+O", "Add photos to the queue")
        self.add_folder_action = self._action("Add folder…", self.open_folder_dialog, "Ctrl+Shift+O",
                                              "Add every photo in a folder and its sub-folders")
        self.watch_action = self._action("Watch folder…", lambda on: self.watching.toggle(on), None,
                                         "Restore the photos that arrive in a folder while it is watched (a "
                                         "tethered camera's shots, a scanner's pages); those already there are "
                                         "left as they are")
        self.watch_action.setCheckable(True)
        self.start_action = self._action("Start", self.runner.start, "Ctrl+Return", "Restore the pending photos")
        self.pause_action = self._action("Pause", self.runner.pause, None, "Stop after the current photo")
        self.cancel_action = self._action("Cancel", self.runner.cancel, None,
                                          "Stop now: the current photo is cancelled, the rest stay pending")
        self.retry_action = self._action("Retry", self.retry_selected, "Ctrl+R",
                                         "Restore the selected photos again (a restored photo's earlier result is "
                                         "kept; the new one is saved beside it)")
        self.remove_action = self._action("Remove", self.remove_selected, "Del", "Remove the selected photos")
        self.clear_action = self._action("Clear finished", self.clear_finished, None,
                                         "Remove the restored photos from the list")
        self.undo_action = self._action("Undo", lambda: self.undo_steps.history.undo(), "Ctrl+Z",
                                        "Take back the last change to the list (photos removed, results moved to "
                                        "the trash, a degradation set, Back to, Save at N%, Replace), one at a time")
        self.undo_action.setData("Undo")  # (the About dialog's name for it; its text names the change)
        self.redo_action = self._action("Redo", lambda: self.undo_steps.history.redo(), None,
                                        "Make again the change just taken back")
        self.redo_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Redo))  # Ctrl+Shift+Z, Ctrl+Y
        self.redo_action.setData("Redo")
        self.addActions([self.undo_action, self.redo_action])
        self.trash_action = self._action("Move the result to the trash", self.trash_selected, "Ctrl+Backspace",
                                         "Send the selected photos' results to the desktop's trash (Ctrl+Z takes "
                                         "them back); a photo then shows its earlier result again, if it has one")
        self.addAction(self.trash_action)  # a key for reviewing a batch; also in the queue's right-click menu
        self.detect_action = self._action("Detect only", lambda: self.runner.detect(), None,
                                          "Fill in the degradation column of the pending photos, without "
                                          "restoring")
        self.preview_action = self._action("Preview", lambda: self.panel.preview_visible(), "Ctrl+P",
                                           "Restore only the visible part of the selected photo, in seconds")
        self.paste_action = self._action("Paste photos", self.paste, "Ctrl+V",
                                         "Add the photos or folders copied in a file manager")
        self.addAction(self.paste_action)  # a shortcut of the window; also in the queue's context menu
        self.copy_files_action = self._action("Copy restored files", self.copy_restored_files, "Ctrl+C",
                                              "The selected photos' restored files, to paste in a file manager "
                                              "(the keyboard's way of dragging them out)")
        self.addAction(self.copy_files_action)
        self.full_screen_action = self._action("Full screen", self.set_full_screen, "F11",
                                               "Only the comparison, on the whole screen (F11 or Esc returns)")
        self.full_screen_action.setCheckable(True)
        self.addAction(self.full_screen_action)  # F11 works with the toolbar hidden too
        self.leave_full_screen_action = self._action("Leave full screen", lambda: self.set_full_screen(False), "Esc")
        self.leave_full_screen_action.setEnabled(False)  # Esc stays the editors' and dialogs' key otherwise
        self.addAction(self.leave_full_screen_action)
        self.save_view_action = self._action("Save image as shown…", lambda: self.panel.save_view(), "Ctrl+Shift+S",
                                             "The before/after (or comparison) as the view shows it, at full size")
        self.addAction(self.save_view_action)  # also in the compare view's right-click menu
        self.copy_view_action = self._action("Copy image as shown", lambda: self.panel.copy_view(), "Ctrl+Shift+C",
                                             "The before/after (or comparison) as the view shows it, at full size, "
                                             "to paste into a mail, a chat or an editor")
        self.addAction(self.copy_view_action)
        self.save_again_action = self._action(
            "Save again at the slider's strength", self.save_again_selected, "Ctrl+S",
            "Save the selected restored photos again at the lower strength on the slider, from their results")
        self.addAction(self.save_again_action)  # the queue's menu and the button beside the caption do it too
        self.settings_action = self._action("Settings…", self.open_settings, "Ctrl+,")
        self.models_action = self._action("Models…", self.open_models)
        self.about_action = self._action("About", self.open_about, "F1", "Version, licences and keyboard shortcuts")
        self.task_actions: dict[str, QAction] = {}  # the degradation of the selected photos: Ctrl+0 … Ctrl+6,
        for n, (task, label) in enumerate(TASK_LABELS.items()):  # to correct the detector from the keyboard
            action = self._action(label, lambda _=False, t=task: self.set_task_for_selection(t), f"Ctrl+{n}")
            action.setData(f"Degradation: {label}")  # (the About dialog's name for it)
            self.addAction(action)
            self.task_actions[task] = action

    def _build_ui(self) -> None:
        bar = QToolBar("Main")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for a in (self.add_action, self.add_folder_action, self.watch_action, None, self.start_action,
                  self.pause_action, self.cancel_action, None, self.retry_action, self.remove_action,
                  self.clear_action, None, self.detect_action, self.preview_action, self.full_screen_action, None,
                  self.settings_action, self.models_action, self.about_action):
            bar.addSeparator() if a is None else bar.addAction(a)
        self.addToolBar(bar)
        self.toolbar = bar
        for more in bar.findChildren(QToolButton, "qt_toolbar_ext_button"):  # shown when the window is narrow
            more.setAccessibleName("More commands")  # (screen readers said an unnamed check box)

        self.model = QueueTableModel(self.queue, self, estimate=self.runner.photo_time, set_task=self.runner.set_task)
        self._estimated_from = 0  # the runner's restored_count the estimates shown were made with
        self.table = QTableView()
        self.table.setAccessibleName("Photo queue")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.SelectedClicked)
        self.table.setIconSize(_thumb_size())
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(_thumb_size().height() + 8)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.setDragEnabled(True)  # restored rows drag out as their files (QueueTableModel.mimeData)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)  # drops go to the drop zone
        self.table.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.table.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self.table))
        self.table.setItemDelegateForColumn(COL_TASK, TaskDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionsClickable(True)  # a click sorts the queue itself (the batch runs in that order)
        header.setToolTip("Click the photo, degradation or state title to sort the queue by it (the batch "
                          "runs in this order); click again to reverse")
        self._sorted: tuple[int, Qt.SortOrder] | None = None
        header.setSectionResizeMode(COL_PHOTO, QHeaderView.ResizeMode.Stretch)
        for col, width in ((COL_TASK, 125), (COL_STATE, 104), (COL_PROGRESS, 100), (COL_ETA, 64)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, width)
        self.drop_zone = DropZone(self.table)

        self.panel = ComparePanel(self.runner, self.images, self.current_item)
        self.compare = self.panel.view  # the compare view and the previews, often needed from the window
        self.preview = self.panel.preview

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.drop_zone)
        split.addWidget(self.panel)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([640, 720])
        self.split = split
        self.setCentralWidget(split)
        self.setAcceptDrops(False)

        self.status_line.install(self.watching.label)
        build_menu_bar(self)
        self.addAction(self.quit_action)  # (its key works in full screen too, with the menu bar hidden)

    def _wire(self) -> None:
        self.queue.subscribe(self._on_queue_event)
        self.drop_zone.paths_dropped.connect(self.add_paths)
        self.drop_zone.image_dropped.connect(lambda image: self.add_image(image, "dropped"))
        self.drop_zone.refused.connect(lambda why: self.statusBar().showMessage(why, 10000))
        self.drop_zone.add_requested.connect(self.open_add_dialog)
        self.drop_zone.samples_requested.connect(self.add_samples)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.customContextMenuRequested.connect(self.queue_menu.popup)
        self.table.doubleClicked.connect(self._on_double_click)
        self.table.horizontalHeader().sectionClicked.connect(self.sort_queue)
        self.images.thumbnail_ready.connect(self.model.set_thumbnail)
        self.panel.message.connect(self.statusBar().showMessage)
        self.compare.step.connect(self.step_photo)
        self.watching.connect()
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.applicationStateChanged.connect(self._on_app_state)
        self.runner.running_changed.connect(lambda _r: self._refresh())
        self.runner.running_changed.connect(self._say_strength)
        self.runner.notice.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.runner.error.connect(self.show_error)
        self.runner.engine_status.connect(self.status_line.engine_status)
        self.runner.engine_ready.connect(self.status_line.engine_ready)
        self.runner.photos_added.connect(self._on_photos_added)
        self.runner.batch_finished.connect(self._on_batch_finished)

    # -------------------------------------------------------------- selection helpers

    def selected_ids(self) -> list[str]:
        """The selected photos' ids, in the queue's order. Read from the selection's ranges: asking Qt for
        every selected row's index and data took 28 ms with 1,000 photos selected, on every refresh."""
        rows: set[int] = set()
        for span in self.table.selectionModel().selection():
            rows.update(range(span.top(), span.bottom() + 1))
        return [self.queue[row].id for row in sorted(rows) if row < len(self.queue)]

    def selected_items(self) -> list[QueueItem]:
        return self.queue.items_of(self.selected_ids())

    def current_item(self) -> QueueItem | None:
        items = self.selected_items()
        return items[0] if items else None

    def step_photo(self, delta: int) -> None:
        """The previous or next photo in the queue's order on view (Up/Down in the comparison, also in full
        screen); the view keeps the keyboard, the queue scrolls along."""
        item = self.current_item()
        row = (self.queue.index_of(item.id) + delta) if item is not None else 0
        if 0 <= row < len(self.queue):
            self.step_to(self.queue[row])
        elif len(self.queue):
            self.statusBar().showMessage("The last photo of the queue" if delta > 0 else
                                         "The first photo of the queue", 3000)

    def step_to(self, item: QueueItem) -> None:
        """`item` alone selected and on view, its row scrolled into sight."""
        index = self.model.index(self.queue.index_of(item.id), 0)
        self.table.setCurrentIndex(index)  # (selects the row: the table's mode)
        self.table.scrollTo(index)

    def select_row(self, row: int) -> None:
        self.table.selectionModel().select(
            self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)

    # -------------------------------------------------------------- commands

    def add_paths(self, paths: list[str]) -> None:
        """Queue the photos in these files and folders. A model file among them (a checkpoint just
        downloaded, dropped on the window) is imported in the Models dialog instead."""
        models = [p for p in paths if Path(p).is_file() and (is_model_file(p) or (
            Path(p).suffix.lower() == ".zip" and archived_models(p)))]  # (a shared folder downloaded as a zip)
        if models:
            dialog = self.open_models()
            for path in models:
                dialog.import_path(path)
        photos = [p for p in paths if p not in models]
        if photos or not models:
            self.runner.add_paths(photos)

    def add_samples(self) -> None:
        """Queue the bundled sample photos (copied to the data folder first: the install is read-only)."""
        try:
            folder = sample_photos()
        except OSError as exc:
            self.statusBar().showMessage(f"The sample photos could not be copied: {exc}", 8000)
            return
        self.add_paths([str(folder)])

    def open_add_dialog(self) -> None:
        dialog = QFileDialog(self, "Add photos")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters([FILE_FILTER, "All files (*)"])
        dialog.filesSelected.connect(self.add_paths)
        dialog.open()

    def paste(self) -> None:
        """Add the files or folders on the clipboard (copied in a file manager, or pasted as paths), or an
        image copied in another app, saved first as a PNG in the data folder's `Pasted/`."""
        mime = QGuiApplication.clipboard().mimeData()
        paths = clipboard_paths(mime)
        if paths:
            self.add_paths(paths)
        elif mime is None or not mime.hasImage() or not self.add_image(QImage(mime.imageData()), "pasted"):
            self.statusBar().showMessage("The clipboard holds no photo, file or folder: copy one first.", 6000)

    def copy_restored_files(self) -> None:
        """Put the selected photos' restored files on the clipboard, as dragging the rows out carries them."""
        files = [f for f in (restored_file(i) for i in self.selected_items()) if f]
        if not files:
            self.statusBar().showMessage("None of the selected photos has a restored file to copy.", 6000)
            return
        QGuiApplication.clipboard().setMimeData(files_for_clipboard(files))
        self.statusBar().showMessage(f"Copied {count(len(files), 'restored file')}: paste them in a file manager.",
                                     6000)

    def add_image(self, image: QImage, how: str) -> bool:
        """Queue an image that has no file (pasted, or dropped from a browser or an editor), kept first as a
        PNG in the data folder's `Pasted/`: its row's tooltip and "Show in folder" tell where it went. False
        for no image; a failure to save it is said in the status bar."""
        try:
            saved = save_pasted_image(image, prefix=how)
        except OSError as exc:
            self.statusBar().showMessage(f"The {how} image could not be saved: {exc}", 10000)
            return True
        if saved is not None:
            self.add_paths([str(saved)])
        return saved is not None

    def open_folder_dialog(self) -> None:
        dialog = QFileDialog(self, "Add a folder")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda p: self.add_paths([p]))
        dialog.open()

    def retry_selected(self) -> None:
        ids = self.selected_ids() or [i.id for i in self.queue.in_state(ItemState.FAILED, ItemState.CANCELLED)]
        self.runner.retry(ids)

    def remove_selected(self) -> None:
        self.remove_photos(self.selected_ids())

    def remove_photos(self, ids: list[str]) -> None:
        self._removed(self.runner.remove(ids))

    def clear_finished(self) -> None:
        self._removed(self.queue.clear_finished())

    def _removed(self, gone: list) -> None:
        if gone:
            self.undo_steps.removed(gone)
            held = [i for i in gone if i.replaced_from]  # (their photo as it was is only findable from here)
            kept = (f" {len(held)} of them held {'its result' if len(held) == 1 else 'their results'}; the "
                    f"photos as they were stay in {Path(held[0].replaced_from).parent}.") if held else ""
            self.statusBar().showMessage(f"Removed {count(len(gone), 'photo')} from the list (the files stay); "
                                         f"Ctrl+Z puts them back.{kept}", 15000 if held else 8000)

    def trash_selected(self) -> None:
        if not self.queue_menu.move_to_trash(self.selected_items()):
            self.statusBar().showMessage("No result of the selected photos is there to move to the trash.", 6000)

    def trashed(self, entries: list[Trashed], what: str = "") -> None:
        """Results just moved to the trash (QueueMenu.move_to_trash): Ctrl+Z takes them back."""
        self.undo_steps.trashed(entries, what)

    def detect_selected(self) -> None:
        ids = self.selected_ids()
        self.runner.detect(ids or None)

    def set_task_for_selection(self, task: str) -> None:
        if self.runner.set_task(self.selected_ids(), task):
            self.statusBar().showMessage(RESTORE_AGAIN_HINT, 8000)

    def set_full_screen(self, on: bool) -> None:
        """The comparison alone on the whole screen, to judge a result at 100 % (peers.md, request 13)."""
        if on == self.isFullScreen():
            self.full_screen_action.setChecked(on)
            return
        for widget in (self.drop_zone, self.menu_bar, self.toolbar, self.statusBar()):
            widget.setVisible(not on)
        if on:
            self._maximized = self.isMaximized()
            self.showFullScreen()
        elif self._maximized:
            self.showMaximized()
        else:
            self.showNormal()
        self.full_screen_action.setChecked(on)
        self.leave_full_screen_action.setEnabled(on)
        self.compare.setFocus()

    def open_settings(self) -> None:
        ready = self.runner.engine.ready
        dialog = SettingsDialog(self.settings, self, ready.devices if ready is not None else (), self.screen_profile)
        shown_through = self.settings.screen_profile
        dialog.accepted.connect(self._refresh)
        dialog.accepted.connect(self.model.refresh_estimates)  # (another model or quality: other times)
        dialog.accepted.connect(lambda: self.screen_colours.setting_changed(shown_through))
        dialog.accepted.connect(lambda: theme.apply(self.settings.theme))
        self._keep(dialog)
        dialog.open()

    @property
    def screen_profile(self) -> str:
        """What the screen's colour profile setting does now, in words (for Settings and About)."""
        return self.screen_colours.described

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.screen_colours.follow()

    def open_models(self) -> ModelDialog:
        """The Models dialog: the one already open (raised), else a new one."""
        for open_dialog in self._dialogs:
            if isinstance(open_dialog, ModelDialog) and open_dialog.isVisible():
                open_dialog.raise_()
                open_dialog.activateWindow()
                return open_dialog
        dialog = ModelDialog(self.models, self.settings.model, self)
        dialog.model_selected.connect(self._on_model_selected)
        if self.runner.engine.ready is not None:
            from app.models_service import ModelRow

            dialog.set_rows([ModelRow(m.name, m.path, m.origin, m.size_bytes, m.variant, m.default)
                             for m in self.runner.engine.ready.models])
        self.models.refresh()
        self._keep(dialog)
        dialog.open()
        return dialog

    def open_about(self) -> AboutDialog:
        ready = self.runner.engine.ready
        devices = ", ".join(d.name for d in ready.devices) if ready is not None and ready.devices else "not known yet"
        active = self.settings.model
        dialog = AboutDialog(devices, "bundled default" if active == "default" else active, {},
                             self.actions() + self.toolbar.actions(), self, screen=self.screen_profile)

        def listed(rows: list) -> None:  # the model listing holds the notes
            for m in rows:
                if m.is_active(active):
                    dialog.set_model(m.name, dict(m.notes))

        self.models.models_listed.connect(listed)
        dialog.finished.connect(lambda _r: self.models.models_listed.disconnect(listed))
        self.models.refresh()
        self._keep(dialog)
        dialog.open()
        return dialog

    def show_error(self, title: str, message: str, details: str = "", log_tail: str = "", *,
                   once: bool = True) -> ErrorDialog:
        """Open an error dialog, unless (`once`) one still open says the same: one cause (an engine that
        cannot start) reaches the window by several ways (its start, the batch's, the engine's state), and a
        stack of identical dialogs only buries the window. A photo's own error, asked for, always opens."""
        same = next((d for d in self._dialogs if once and isinstance(d, ErrorDialog) and d.isVisible()
                     and d.message.text() == message), None)
        if same is not None:
            same.raise_()
            return same
        dialog = ErrorDialog(title, message, details, log_tail, self)
        self._keep(dialog)
        dialog.open()
        return dialog

    def show_item_error(self, item: QueueItem) -> None:
        self.show_error(f"{item.name} could not be restored", item.error_message,
                        f"code: {item.error_code}\n\n{item.error_detail}".strip(), "\n".join(item.log_tail),
                        once=False)  # two photos can fail with the same words (an engine crash) and other logs

    def _keep(self, dialog: QWidget) -> None:
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda _r, d=dialog: self._dialogs.remove(d) if d in self._dialogs else None)

    # -------------------------------------------------------------- reactions

    def _on_queue_event(self, event: str, items: list[QueueItem]) -> None:
        if event == "saving":  # the queue file could not be written, or can again
            self.status_line.saving(self.queue.save_problem)
            return
        if event in ("added", "reset"):
            self._forget_sort()  # new photos go at the end: the queue is no longer in that order
            self.images.request_thumbnails(items)
            if self.model.rowCount() and not self.table.selectionModel().hasSelection():
                # the table was reset: the photos selected before stay selected (the one on view stays on
                # view while more are dropped); the first photo only when none was
                kept = [i for i in self._selected if self.queue.get(i) is not None]
                if kept:
                    self.reselect(kept)
                else:
                    self.select_row(0)
        if event == "changed" and self.panel.shown_item is not None:
            for item in items:
                if self.panel.is_stale(item):  # it finished, failed or was queued again: say so
                    self.panel.show_item(item)
        self._refresh()

    def check_photos(self) -> None:
        """Whether finished photos (restored, or left as they were) were edited since (on coming back to the
        window from an editor, and at start): their rows and caption say so, and their thumbnails are made
        again. The files are looked at off the GUI thread (photos on a network share), one look at a time."""
        items = [i for i in self.queue if i.state is ItemState.DONE and i.photo_stamp]
        if items and not self._checking_photos:
            self._checking_photos = True
            self._photo_tasks.spawn(self._check_photos(items))

    async def close_tasks(self) -> None:
        """At the app's end: the look at the photos' files still on its way is dropped."""
        await self._photo_tasks.cancel_all()
        await self.watch.close()

    async def _check_photos(self, items: list[QueueItem]) -> None:
        try:
            looks = await asyncio.get_running_loop().run_in_executor(None, lambda: [photo_look(i) for i in items])
        finally:
            self._checking_photos = False
        changed = [i for i in self.queue.check_photos(items, looks) if i.photo_changed]
        if not changed:
            return
        self.images.request_thumbnails(changed)
        self.statusBar().showMessage(changed_text(changed), 10000)

    def _on_app_state(self, state: Qt.ApplicationState) -> None:
        if state == Qt.ApplicationState.ApplicationActive:
            self.check_photos()

    def open_paths(self, paths: list[str]) -> None:
        """Photos opened with Hourglass (its command line, a file manager's Open With, an editor's Edit In):
        queued as a drop is, and the first of them shown, as a viewer opens a file, even when it was queued
        already."""
        self._to_show = [os.path.normcase(os.path.abspath(p)) for p in paths]
        self.add_paths(paths)

    def _on_photos_added(self, new: list, remark: str) -> None:
        text = self.watching.take_note() or f"Added {count(len(new), 'photo')}"
        self.statusBar().showMessage(f"{text}; {remark}" if remark else text, 10000 if remark else 6000)
        wanted, self._to_show = self._to_show, []
        if wanted:
            by_path = {os.path.normcase(os.path.abspath(i.path)): i for i in self.queue}
            target = next((by_path[p] for p in wanted if p in by_path), new[0] if new else None)
            if target is not None:
                self.step_to(target)

    def _on_selection(self, *_args) -> None:
        self._selected = self.selected_ids()  # (a reset of the table clears its selection without a word)
        item = self.current_item()
        if item is not None and item.id != self.panel.shown_item:
            self.queue.check_photos([item])  # (edited since it was restored? the caption says so)
            self.panel.show_item(item)
        self._refresh()

    def _on_model_selected(self, name: str) -> None:
        self.settings.model = name
        problem = self.settings.save()
        self.statusBar().showMessage(problem or f"Model: {name}", 10000 if problem else 6000)

    def _on_batch_finished(self, done: int, failed: int) -> None:
        if done or failed:
            waiting = self.queue.in_state(ItemState.PENDING, ItemState.QUEUED)
            summary = f"Batch {'stopped' if waiting else 'finished'}"
            details = (f"{done} done" + (f", {failed} failed" if failed else "")
                       + (f", {len(waiting)} waiting" if waiting else ""))
            self.statusBar().showMessage(f"{summary}: {details}", 10000)
            arrivals = self.watching.only_arrivals(self.runner.batch_items)
            if not self.isActiveWindow() and not (arrivals and not failed):
                # the user is elsewhere: flash the taskbar entry until they look (not for each shot of a
                # tethered session restored well from a watched folder: only when one fails)
                QApplication.alert(self)
                started = self.runner.batch_started
                took = f" in {format_eta(time.monotonic() - started)}" if started is not None else ""
                self.batch_ended_unseen.emit(summary, details + took)  # (a notification: "2 done in 3 min 05 s")
        if self._closing:
            self.close()

    def sort_queue(self, column: int, order: Qt.SortOrder | None = None) -> None:
        """Order the queue by `column` (ascending, or reversed on a second click), keeping the selection.
        Ctrl+Z puts back the order it had: a click on a column's title cannot lose an order chosen by hand."""
        if column not in SORTABLE:
            return
        ascending = Qt.SortOrder.AscendingOrder
        if order is None:
            order = Qt.SortOrder.DescendingOrder if self._sorted == (column, ascending) else ascending
        selected, before, mark = self.selected_ids(), self.queue.ids(), self._sorted
        self.queue.reorder(sort_key(column), reverse=order is Qt.SortOrder.DescendingOrder)
        self.show_sort_mark((column, order))
        self.reselect(selected)
        if self.queue.ids() != before:
            title = self.model.headerData(column, Qt.Orientation.Horizontal)
            self.undo_steps.reordered(before, mark, f"sort by {title}", lambda: self.sort_queue(column, order))

    def show_sort_mark(self, mark: tuple[int, Qt.SortOrder] | None) -> None:
        """The header's mark of the column the queue is ordered by (none: it is in no column's order)."""
        self._sorted = mark
        header = self.table.horizontalHeader()
        header.setSortIndicatorShown(mark is not None)
        if mark is not None:
            header.setSortIndicator(*mark)

    def _forget_sort(self) -> None:
        """The queue has left the order of the last column clicked: take its mark off the header."""
        self.show_sort_mark(None)

    def restore_next(self, ids: list[str] | None = None) -> None:
        """Move the selected unfinished photos (or these) up, to be restored right after the current one
        (queued at once while a batch runs; first on Start otherwise). Ctrl+Z puts them back where they were,
        and out of the batch again."""
        selected = self.selected_ids() if ids is None else list(ids)
        before, mark = self.queue.ids(), self._sorted
        moved = self.queue.move_to_front(selected)
        if not moved:
            self.statusBar().showMessage("Select photos that are not restored yet.", 6000)
            return
        joined = ([i.id for i in moved if i.state in (ItemState.PENDING, ItemState.DETECTING)]
                  if self.runner.running else [])
        self._forget_sort()  # the queue is no longer in the clicked column's order
        self.runner.join_batch(moved)
        self.reselect(selected)
        when = "next" if self.runner.running else "first when you press Start"
        self.statusBar().showMessage(f"{count(len(moved), 'photo')} will be restored {when}.", 6000)
        if self.queue.ids() != before or joined:
            ids = [i.id for i in moved]
            what = f"restore {name_or_count(moved, moved[0].name)} next"
            self.undo_steps.reordered(before, mark, what, lambda: self.restore_next(ids), joined)

    def reselect(self, ids: list[str]) -> None:
        """Select these photos again after the rows moved (a reorder resets the table's selection)."""
        selection = QItemSelection()  # one selection change, not one a photo (each refreshes the window)
        for row in self.queue.rows_of(ids):
            selection.select(self.model.index(row, 0), self.model.index(row, 0))
        self.table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.Select
                                           | QItemSelectionModel.SelectionFlag.Rows)
        first = self.queue.index_of(ids[0]) if ids else -1
        if first >= 0:
            self.table.scrollTo(self.model.index(first, 0))

    def _on_double_click(self, index: QModelIndex) -> None:
        item = self.queue.get(index.data(ItemIdRole)) if index.isValid() else None
        if item is not None and index.column() != COL_TASK:
            if item.state is ItemState.FAILED:
                self.show_item_error(item)
            elif item.state is ItemState.DONE:
                self.queue_menu.open_output(item)

    def _refresh(self) -> None:
        counts = self.queue.counts()
        total = len(self.queue)
        running = self.runner.running
        self.drop_zone.set_empty(total == 0)
        selected = self.selected_items()
        # while a batch runs, Start takes photos added since into it (they wait as pending otherwise)
        self.start_action.setEnabled(counts[ItemState.PENDING] > 0 if running and not self.runner.pausing
                                     else counts[ItemState.PENDING] + counts[ItemState.QUEUED] > 0)
        self.pause_action.setEnabled(running and not self.runner.pausing)
        self.cancel_action.setEnabled(running)
        self.retry_action.setEnabled(any(i.state in FINISHED for i in selected) if selected else
                                     any(i.state in (ItemState.FAILED, ItemState.CANCELLED) for i in self.queue))
        self.remove_action.setEnabled(bool(selected))
        self.clear_action.setEnabled(counts[ItemState.DONE] > 0)
        self.trash_action.setEnabled(any(i.state is ItemState.DONE and i.output_path and not i.replaced_from
                                         for i in selected))  # (checked in full on use: the file is there)
        self.trash_action.setText("Move the results to the trash" if len(selected) > 1 else
                                  "Move the result to the trash")
        self.detect_action.setEnabled(counts[ItemState.PENDING] > 0)
        self.preview_action.setEnabled(bool(selected) and not running)
        self.panel.set_enabled(bool(selected), running)
        # the waiting photos' estimates move when a photo has been timed, and with the first photo's progress
        # until then (its first guess)
        if self.runner.restored_count != self._estimated_from or (running and not self.runner.restored_count):
            self._estimated_from = self.runner.restored_count
            self.model.refresh_estimates()
        self.batch_progress.emit(self.status_line.update(counts))

    def _say_strength(self, running: bool) -> None:
        """A batch saved below 100% is worth saying as it starts: the slider may have been moved to tone one
        photo down (Save at N%) and left there."""
        strength = self.panel.strength.value()
        if running and strength < 100:
            self.statusBar().showMessage(f"This batch saves its results at {strength}% strength (the Strength "
                                         "slider below the view).", 10000)

    def save_again_selected(self) -> None:
        items, strength = self.selected_items(), self.panel.strength.value()
        if any(can_resave(i, strength / 100) for i in items):
            self.panel.save_again(items)
        else:
            self.statusBar().showMessage(f"Nothing to save again at {strength}%: move the strength slider below the "
                                         "strength a restored photo was saved with first.", 8000)

    # -------------------------------------------------------------- closing

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.runner.running and not self._closing:
            event.ignore()
            box = QMessageBox(QMessageBox.Icon.Question, "Stop restoring?",
                              "Photos are being restored. Stop and close? The current photo is cancelled; "
                              "the others stay in the queue for next time.",
                              QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
            box.setDefaultButton(QMessageBox.StandardButton.No)
            box.buttonClicked.connect(
                lambda b: self.confirm_close() if box.standardButton(b) == QMessageBox.StandardButton.Yes else None)
            self._keep(box)
            self._close_box = box
            box.open()
            return
        if self.runner.running:  # closing: wait until the cancelled batch has stopped
            event.ignore()
            return
        self.watch.halt()  # (resumed at the next start)
        self.queue.flush()
        self.settings.save()  # closing: a settings file that cannot be written is only logged
        self.set_full_screen(False)  # the layout to come back to is the windowed one
        window_state.save(self)
        event.accept()
        self.close_confirmed.emit()

    def confirm_close(self) -> None:
        self._closing = True
        self.runner.cancel()
        self.statusBar().showMessage("Stopping…")


def changed_text(changed: list[QueueItem]) -> str:
    """What the status bar says of photos edited since they were finished: restored ones are restored again by
    Retry, ones left as they were (found fine) are looked at again."""
    one, left, restored = len(changed) == 1, all(i.skipped for i in changed), not any(i.skipped for i in changed)
    what, was, them = (f"{changed[0].name} has", "it was", "it") if one else \
        (f"{len(changed)} photos have", "they were", "them")
    since = f"{was} left as {was}" if left else f"{was} restored" if restored else f"{was} finished"
    retry = f"Retry restores {them} again" if restored else f"Retry looks at {them} again"
    return f"{what} changed since {since}: {retry}"


def _thumb_size() -> QSize:
    return QSize(48, 48)
