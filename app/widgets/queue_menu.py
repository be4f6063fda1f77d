"""The queue's right-click menu and what only it does: open a result or its folder, go back to an earlier
result, save copies with other settings or a preset, and put a result into its photo's file for an editor
that reads it back (and out again). The window's own commands (Retry, Remove, Detect…) are only listed here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMenu, QMessageBox

from app import presets, replace
from app.history import Step
from app.queue_model import FINISHED, ItemState, QueueItem, restored_file
from app.resave import after_trash, back_to_earlier, can_copy, can_resave, can_trash
from app.settings import TASK_LABELS, Settings
from app.trash import move_to_trash, trashed

if TYPE_CHECKING:
    from app.widgets.main_window import MainWindow


class QueueMenu(QObject):
    """Built anew on each right-click (`popup`), for the selected photos."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.replace_box: QMessageBox | None = None  # the question before a photo is replaced (for tests)

    def back_to_earlier(self, items: list[QueueItem]) -> None:
        """Each photo's last earlier result (before a Retry or a Save at N%) becomes its result again."""
        before = [(item, item.to_json()) for item in items]
        with self.window.queue.together():  # (one refresh of the window for all of them)
            said = [back_to_earlier(self.window.queue, item) for item in items]
        back = sum(ok for ok, _ in said)
        if back:  # Ctrl+Z shows the newer results again (the row forgets them otherwise)
            went = [b for b, (ok, _) in zip(before, said, strict=True) if ok]
            self.window.undo_steps.rows_changed(
                went, "go back to the earlier result" if back == 1 else f"go back to {back} earlier results",
                lambda ids: self.back_to_earlier(self.window.queue.items_of(ids)))
        lines = [text for ok, text in said if not ok]
        if len(said) > 1 and back:
            lines.insert(0, f"{back} photos show their earlier results again; the newer ones are kept")
        self.window.statusBar().showMessage(said[0][1] if len(said) == 1 else ". ".join(lines))

    def popup(self, pos: QPoint) -> None:
        items = self.window.selected_items()
        if not items:
            return
        menu = QMenu(self.window)
        first = items[0]
        menu.addAction(self.window.paste_action)
        menu.addSeparator()
        menu.addAction("Open output", lambda: self.open_output(first)).setEnabled(bool(restored_file(first)))
        menu.addAction("Show in folder", lambda: self.show_in_folder(first))
        menu.addAction(self.window.copy_files_action)
        menu.addSeparator()
        tasks = menu.addMenu("Degradation")
        for task in TASK_LABELS:
            tasks.addAction(self.window.task_actions[task])
        menu.addAction("Detect degradation", self.window.detect_selected)
        menu.addAction(self.window.preview_action)
        compare = menu.addMenu("Compare with")
        compare.setEnabled(self.window.panel.compare_button.isEnabled())
        self.window.panel.fill_compare_menu(compare)
        strength = self.window.panel.strength.value()
        again = [i for i in items if can_resave(i, strength / 100)]
        menu.addAction(f"Save again at {strength}%", lambda: self.window.panel.save_again(again)).setEnabled(bool(again))
        backs = [i for i in items if i.state is ItemState.DONE and i.previous]
        label = "Back to the earlier results" if len(backs) > 1 else "Back to the earlier result"
        if len(backs) == 1:
            label = f"Back to {Path(backs[0].previous[-1][0]).name} ({backs[0].previous[-1][1]:.0%})"
        menu.addAction(label, lambda: self.back_to_earlier(backs)).setEnabled(bool(backs))
        self._fill_copy_menu(menu.addMenu("Save a copy with"), [i for i in items if can_copy(i)])
        self._add_replace_actions(menu, items)
        menu.addAction(self.window.trash_action)
        menu.addSeparator()
        menu.addAction("Restore next", lambda: self.window.restore_next()).setEnabled(
            any(i.state not in FINISHED for i in items))
        menu.addAction(self.window.retry_action)
        menu.addAction("Cancel", lambda: self.window.runner.cancel_items(self.window.selected_ids()))
        menu.addAction(self.window.remove_action)
        menu.addAction(self.window.undo_action)
        menu.addAction(self.window.redo_action)
        if first.state is ItemState.FAILED:
            menu.addAction("Error details…", lambda: self.window.show_item_error(first))
        menu.popup(self.window.table.viewport().mapToGlobal(pos))

    def _add_replace_actions(self, menu: QMenu, items: list[QueueItem]) -> None:
        """For editors that read back the file they sent (Lightroom's Edit In): the result into the photo's
        file, and back out (app.replace)."""
        why = {i.id: replace.why_not_replace(i) for i in items}
        can = [i for i in items if not why[i.id]]
        into = menu.addAction("Replace the photo with its result…" if len(items) == 1 else
                              "Replace the photos with their results…", lambda: self.ask_replace(can))
        into.setEnabled(bool(can))
        into.setToolTip(why[items[0].id] if not can else
                        "For an editor that reads back the file it sent (Lightroom's Edit In, Capture One's Edit "
                        "With): the photo's file gets its result; the photo as it was is kept.")
        held = [i for i in items if i.replaced_from]
        menu.addAction("Put back the photo as it was" if len(items) == 1 else "Put back the photos as they were",
                       lambda: self.put_back(held)).setEnabled(bool(held))
        menu.setToolTipsVisible(True)

    def ask_replace(self, items: list[QueueItem]) -> None:
        one = len(items) == 1
        held, size = replace.originals_held()
        amount = f"{size / 1e9:,.1f} GB" if size >= 1e9 else f"{size / 1e6:,.0f} MB"
        there = (f" It holds {held} photo{'' if held == 1 else 's'} ({amount}) from earlier "
                 "replacements: delete there those you will not put back." if held else "")
        box = QMessageBox(QMessageBox.Icon.Question, "Replace the photo?" if one else "Replace the photos?",
                          (f"Replace {items[0].name} with its restored version?" if one else
                           f"Replace {len(items)} photos with their restored versions?") +
                          " This is for an editor that sent the photo and reads the same file back (Lightroom's "
                          f"Edit In, Capture One's Edit With). The photo{'' if one else 's'} as "
                          f"{'it was' if one else 'they were'} will be kept in {replace.originals_dir()}; "
                          "right-click Put back returns it." + there,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self.window)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.buttonClicked.connect(
            lambda b: self.replace_photos(items) if box.standardButton(b) == QMessageBox.StandardButton.Yes
            else None)
        self.window._keep(box)
        self.replace_box = box
        box.open()

    def replace_photos(self, items: list[QueueItem], what: str = "") -> None:
        """Each photo's file gets its result (the photo kept in Originals/); failures are said, not raised.
        Ctrl+Z puts them back (`what`: the step's words, when this is an undo or a redo)."""
        said = self._each(items, replace.replace_photo, "was not replaced", "\n\nThe photo is as it was.")
        if said:
            self.window.statusBar().showMessage(said[0] if len(said) == 1 else
                                                f"{len(said)} photos now hold their restored versions; the photos "
                                                f"as they were are kept in {replace.originals_dir()}", 15000)
            done = [i for i in items if i.replaced_from]
            what = what or ("replace " + (done[0].name if len(done) == 1 else f"{len(done)} photos")
                            + " with the result" + ("" if len(done) == 1 else "s"))
            self._undone_by(self.put_back, done, what)

    def put_back(self, items: list[QueueItem], what: str = "") -> None:
        said = self._each(items, replace.put_back, "was not put back")
        if said:
            self.window.statusBar().showMessage(said[0] if len(said) == 1 else
                                                f"{len(said)} photos are as they were again; their results are "
                                                "kept", 15000)
            done = [i for i in items if not i.replaced_from]
            what = what or "put back " + (done[0].name if len(done) == 1 else f"{len(done)} photos")
            self._undone_by(self.replace_photos, done, what)

    def _undone_by(self, reverse, items: list[QueueItem], what: str) -> None:
        """Ctrl+Z runs `reverse` on these photos (those still in the list), under the same words."""
        ids = [i.id for i in items]
        self.window.undo_steps.history.push(Step(what, lambda: reverse(self.window.queue.items_of(ids), what)))

    def _each(self, items: list[QueueItem], action, failed: str, after: str = "") -> list[str]:
        """`action(queue, item)` for each item: what each said, and an error dialog for each that failed;
        then the thumbnails, which show each photo's file as it is now."""
        said = []
        with self.window.queue.together():  # (one refresh of the window for all of them)
            for item in items:
                try:
                    said.append(action(self.window.queue, item))
                except (OSError, ValueError) as exc:
                    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                    self.window.show_error(f"{item.name} {failed}", why + after)
        self.window.images.request_thumbnails(items)
        return said

    def move_to_trash(self, items: list[QueueItem], what: str = "") -> bool:
        """Reviewing a batch: a result worse than its photo goes to the system's trash (from where Ctrl+Z, or
        the file manager, takes it back); the photo shows its earlier result again, or is not restored any
        more. Photos with no result that may go (`can_trash`) are passed over; False when none had one."""
        said, failed, gone = [], [], []
        with self.window.queue.together():  # (one refresh of the window for all of them)
            for item in items:
                if not can_trash(item):
                    continue
                result = item.output_path or ""  # (there: `can_trash` found it)
                before = item.to_json()
                in_trash = move_to_trash(result)
                if not in_trash:  # (no trash on that disk: a network share, a card)
                    failed.append(Path(result).name)
                    continue
                said.append(after_trash(self.window.queue, item, result))
                gone.append(trashed(item, before, result, in_trash))
        if gone:
            self.window.trashed(gone, what)
        if failed:
            self.window.show_error("Not moved to the trash", f"{', '.join(failed)} could not be moved to the trash "
                                   "(its disk has none, or it cannot be written); nothing was deleted. Delete "
                                   "it in the file manager if it should go.")
        if said:  # (as the undo of a Save at N%, the step that takes it back is on the redo side)
            key = "Redo" if self.window.undo_steps.history.running == "undo" else "Ctrl+Z"
            self.window.statusBar().showMessage((said[0] if len(said) == 1 else
                                                 f"{len(said)} results moved to the trash") + f" ({key} takes "
                                                + ("it" if len(said) == 1 else "them") + " back)", 10000)
        return bool(said or failed)

    def _fill_copy_menu(self, menu: QMenu, items: list[QueueItem]) -> None:
        """"Save a copy with" the current settings or a preset (app.presets): another form of the results."""
        menu.setEnabled(bool(items))
        menu.setToolTip("A copy of each selected photo's result, saved as these settings save results (folder, "
                        "name, format, colour, metadata), from the saved result: seconds, no restoring.")
        menu.setToolTipsVisible(True)
        menu.addAction("Current settings", lambda: self.save_copies(items, self.window.settings, "current settings"))
        saved = presets.load()
        if saved:
            menu.addSeparator()
        for name in sorted(saved, key=str.casefold):
            menu.addAction(name, lambda n=name: self.save_copies(items, presets.applied(self.window.settings, saved[n]),
                                                                   f"preset {n}"))

    def save_copies(self, items: list[QueueItem], settings: Settings, label: str) -> None:
        """A copy of each of `items`' results as `settings` save results (ResaveService.request_copy)."""
        for item in items:
            self.window.panel.resave.request_copy(item, settings, label)
        if items and self.window.runner.running:
            self.window.statusBar().showMessage(f"The copies are saved after the photo being restored ({label}).", 10000)

    def open_output(self, item: QueueItem) -> None:
        result = restored_file(item)
        if result:
            QDesktopServices.openUrl(QUrl.fromLocalFile(result))
        elif item.output_path:  # moved to a library or deleted since it was restored
            self.window.statusBar().showMessage(f"{item.name}: its restored file is no longer at {item.output_path} "
                                         "(moved or deleted).", 8000)

    def show_in_folder(self, item: QueueItem) -> None:
        target = next((p for p in (item.output_path, item.path) if p and os.path.exists(p)), None)
        if target is None and not Path(item.path).parent.is_dir():
            self.window.statusBar().showMessage(f"{item.name}: neither the photo nor its folder is where it was added "
                                         "(moved or deleted).", 8000)
            return
        target = target or item.path
        if sys.platform == "win32":
            subprocess.Popen(["explorer", "/select,", os.path.normpath(target)])
        elif sys.platform == "darwin":
            subprocess.Popen(["open", "-R", target])
        else:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(target).parent)))
