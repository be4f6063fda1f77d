"""The window's right side: the selected photo before and after (or a preview, or a comparison of two
settings) in the compare view, with its caption and controls (strength, zoom, original, preview, compare).

It owns what is shown and the previews; the window tells it which photo is selected (`show_item`) and
whether a batch runs (`set_enabled`), and shows its `message`s in the status bar.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.compare_view import CompareView
from app.comparisons import GROUPS, Alternative, alternatives
from app.images import ImageLoader
from app.preview import PreviewService
from app.qt_queue import LEFT_CHANGED
from app.queue_model import FINISHED, ItemState, QueueItem
from app.resave import STEP, ResaveService, can_resave
from app.runner import RESTORE_AGAIN_HINT, BatchRunner
from engine.wording import count

ZERO_STRENGTH = "Strength 0%: the results are saved as the originals (nothing of the restoration is kept)."


class ComparePanel(QWidget):
    message = Signal(str, int)  # text for the status bar, milliseconds

    def __init__(self, runner: BatchRunner, images: ImageLoader, current_item: Callable[[], QueueItem | None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.settings = runner.settings
        self.images = images
        self.current_item = current_item
        self.preview = PreviewService(runner, self)
        self.resave = ResaveService(runner, self)
        self.shown_item: str | None = None
        self._shown_as: tuple | None = None
        self._pair_token = 0
        self._pair_strength = 1.0  # the strength the shown result was saved with
        self._pair_paths: tuple[str, str | None] = ("", None)  # the photo and result being shown
        self._pair_reason = ""  # what the engine said of the photo, should it not be shown
        self._alternative: tuple[str, Alternative] | None = None  # the comparison on show: item id, right side
        self._above_saved = False  # the slider above the strength the shown result was saved with
        self._build()
        self._wire()

    def _build(self) -> None:
        self.view = CompareView()
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(round(self.settings.strength * 100))
        self.strength.setToolTip("Blend of the restored photo over the original; applied when saving. A photo "
                                 "already restored can be saved again at a lower strength (Save at …%)")
        self.strength.setMinimumWidth(90)
        self.strength.setAccessibleName("Strength")
        self.strength_label = QLabel()
        fit = QPushButton("Fit")
        fit.clicked.connect(self.view.fit)
        full = QPushButton("100%")
        full.clicked.connect(self.view.actual_size)
        for button in (fit, full):  # narrow: the row fits the panel of a window on a 1024-pixel-wide screen
            button.setMaximumWidth(button.fontMetrics().horizontalAdvance(button.text()) + 28)
        self.side_button = QPushButton("Side by side")
        self.side_button.setToolTip("Before and after in two panes instead of one split by the divider (S)")
        self.side_button.setCheckable(True)
        self.side_button.setChecked(self.settings.side_by_side)
        self.view.set_side_by_side(self.settings.side_by_side)
        self.side_button.clicked.connect(self.view.set_side_by_side)
        self.toggle_button = QPushButton("Original")  # short labels: the window fits a 1024-pixel-wide screen
        self.toggle_button.setToolTip("Show the original alone (Space)")
        self.toggle_button.setCheckable(True)
        self.toggle_button.clicked.connect(self.view.toggle_before)
        self.preview_button = QPushButton("Preview area")
        self.preview_button.setToolTip("Restore only the visible part of the photo, in seconds (Ctrl+P)")
        self.preview_button.clicked.connect(self.preview_visible)
        self.compare_button = QPushButton("Compare with")
        self.compare_button.setToolTip("Restore the visible area twice, with the current settings (left) and "
                                       "with another model, quality or degradation (right)")
        self.compare_menu = QMenu(self.compare_button)
        self.compare_menu.aboutToShow.connect(lambda: self.fill_compare_menu())
        self.compare_button.setMenu(self.compare_menu)
        self.use_button = QPushButton()
        self.use_button.setToolTip("Take the right-hand side's setting")
        self.use_button.clicked.connect(self.use_alternative)
        self.use_button.hide()
        self.resave_button = QPushButton()  # "Save at 60%": shown when the slider is below the saved strength
        self.resave_button.setToolTip("Save this photo's result again at the strength on the slider, from the "
                                      "saved result (seconds, nothing restored again); the earlier file is kept")
        self.resave_button.clicked.connect(lambda: self.save_again())
        self.resave_button.hide()
        self.caption = QLabel("")
        theme.dim(self.caption)
        self.caption.setWordWrap(True)  # a long path or note wraps instead of widening the window

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Strength"))
        controls.addWidget(self.strength, 1)
        controls.addWidget(self.strength_label)
        controls.addSpacing(12)
        for w in (fit, full, self.side_button, self.toggle_button, self.preview_button, self.compare_button):
            controls.addWidget(w)
        caption_row = QHBoxLayout()
        caption_row.addWidget(self.caption, 1)
        caption_row.addWidget(self.use_button)  # shown while a comparison is on show
        caption_row.addWidget(self.resave_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(caption_row)
        layout.addLayout(controls)
        self._update_strength_label()

    def _wire(self) -> None:
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._view_menu)
        self.strength.valueChanged.connect(self._on_strength)
        self.strength.sliderReleased.connect(self._save_settings)
        self.strength.sliderReleased.connect(self._say_batch_strength)
        self.view.toggled.connect(self.toggle_button.setChecked)
        self.view.side_by_side_changed.connect(self._on_side_by_side)
        self.images.pair_ready.connect(self._on_pair)
        self.preview.started.connect(lambda: self.caption.setText("Previewing the visible area…"))
        self.preview.progress.connect(lambda f: self.caption.setText(f"Previewing the visible area… {f:.0%}"))
        self.preview.finished.connect(self._on_preview)
        self.preview.compared.connect(self._on_compared)
        self.preview.failed.connect(self._on_preview_failed)
        self.preview.cancelled.connect(lambda: self.caption.setText("Preview cancelled."))
        self.resave.started.connect(lambda _id: self._update_resave())
        self.resave.finished.connect(self._on_resaved)
        self.resave.failed.connect(self._on_resave_failed)

    def _on_side_by_side(self, on: bool) -> None:
        self.side_button.setChecked(on)
        self.settings.side_by_side = on  # (kept: the way this photographer likes to compare)
        self._save_settings()

    def _save_settings(self) -> None:
        problem = self.settings.save()
        if problem:
            self.message.emit(problem, 10000)

    def set_enabled(self, selected: bool, running: bool) -> None:
        """Previews need a selected photo and an engine that is not restoring a batch."""
        self.preview_button.setEnabled(selected and not running)
        self.compare_button.setEnabled(selected and not running)

    # -------------------------------------------------------------- what is shown

    def is_stale(self, item: QueueItem) -> bool:
        """Whether `item` is the photo shown and has since finished, failed, or been queued again: what the
        panel loaded and says about it no longer holds (progress alone changes nothing here)."""
        return item.id == self.shown_item and _shown_as(item) != self._shown_as

    def show_item(self, item: QueueItem) -> None:
        """Load `item`'s photo (and its restored file, when there is one) and say what it is."""
        self.shown_item = item.id
        self._shown_as = _shown_as(item)
        self._end_comparison()
        after = item.output_path if item.state is ItemState.DONE and item.output_path else None
        result_gone = bool(after) and not item.skipped and not os.path.exists(after)
        if result_gone:
            after = None
        before = item.replaced_from if item.replaced_from and os.path.exists(item.replaced_from) else item.path
        self._pair_paths = (before, after)  # (a photo that holds its result: its kept self is the "before")
        self._pair_reason = _engine_reason(item)
        self._pair_token = self.images.load_pair(before, after)
        self._pair_strength = item.saved_strength if after else 1.0
        if item.state is ItemState.FAILED:  # the engine's messages mostly name the photo already
            message = item.error_message or "failed"
            self.caption.setText(message if item.name in message else f"{item.name}: {message}")
        elif item.state is ItemState.DONE and item.skipped and item.photo_changed:
            self.caption.setText(f"{item.name} {LEFT_CHANGED}")
        elif item.state is ItemState.DONE and item.skipped:
            self.caption.setText(f"{item.name}: {item.note or 'not restored: it already looks fine.'}")
        elif result_gone:  # moved to a library or deleted since: say so, not "not restored yet"
            self.caption.setText(f"{item.name}: its restored file is no longer at {item.output_path} (moved or "
                                 "deleted); Retry restores the photo again.")
        elif after and item.replaced_from:
            self.caption.setText(f"{item.name} holds its restored version, for the editor that sent it; the photo "
                                 f"as it was is kept at {item.replaced_from} (right-click: Put back).")
        elif after and item.photo_changed:
            self.caption.setText(f"{item.name} has changed since it was restored (edited or replaced): {after} was "
                                 "made from the earlier version. Retry restores it again (the result is kept).")
        elif after:
            saved = f"saved at {item.saved_strength:.0%} strength" if item.saved_strength < 0.995 else ""
            notes = "; ".join(x for x in (saved, item.note) if x)
            self.caption.setText(f"{item.name} → {after}" + (f"  ({notes})" if notes else ""))
        elif item.left_as_result:
            self.caption.setText(f"{item.name} is a result Hourglass saved ({item.already_restored}): the batch "
                                 "leaves it, as restoring it again would restore it twice. Choose a degradation for "
                                 "it to restore it anyway.")
        else:
            self.caption.setText(f"{item.name}: not restored yet — Preview shows the visible area restored.")
        self._update_resave()

    def _on_pair(self, token: int, before: QImage | None, after: QImage | None) -> None:
        if token == self._pair_token:
            self.view.set_images(before, after, after_strength=self._pair_strength)
            if before is None:
                self.view.placeholder = _not_shown(*self._pair_paths, self._pair_reason)

    def _on_strength(self, value: int) -> None:
        self.settings.strength = value / 100
        self.view.set_strength(value / 100)
        self._update_strength_label()
        self._update_resave()
        if value == 0:  # say it before a whole batch runs
            self.message.emit(ZERO_STRENGTH, 10000)
        elif not self.strength.isSliderDown():  # (a key or a click on the groove; a drag says it when released)
            self._say_batch_strength()

    def _say_batch_strength(self) -> None:
        """The slider is also the strength of the photos still to restore: moved during a batch (to tone a
        finished photo down, say), it changes theirs too, which is worth saying."""
        waiting = len(self.runner.queue.in_state(ItemState.QUEUED))
        if self.runner.running and waiting and self.strength.value() > 0:
            self.message.emit(f"The {count(waiting, 'photo')} still to restore in this batch will be saved at "
                              f"{self.strength.value()}% strength.", 10000)

    def _shown(self) -> QueueItem | None:
        return self.runner.queue.get(self.shown_item) if self.shown_item else None

    def _update_resave(self) -> None:
        """Offer "Save at N%" while the slider is below the strength the shown result was saved with."""
        item, strength = self._shown(), self.strength.value() / 100
        busy = item is not None and self.resave.busy(item.id)
        self.resave_button.setVisible(busy or can_resave(item, strength))
        self.resave_button.setEnabled(not busy)
        self.resave_button.setText("Saving…" if busy else f"Save at {self.strength.value()}%")
        above = item is not None and item.restored and bool(item.output_path) and strength > item.saved_strength + STEP
        if above and not self._above_saved:  # once as it crosses, not on every step of the slider
            back = ""
            if item.previous and item.previous[-1][1] > item.saved_strength + STEP:
                path, saved = item.previous[-1][:2]
                back = f", or right-click → Back to {Path(path).name} ({saved:.0%}) shows the earlier result"
            self.message.emit(f"{item.name} was saved at {item.saved_strength:.0%} strength: the view cannot show "
                              f"more of it. Retry restores it again at the slider's strength{back}.", 10000)
        self._above_saved = above

    def save_again(self, items: list[QueueItem] | None = None) -> None:
        """Save `items` (default: the photo shown) again at the slider's strength, those that can be."""
        strength = self.strength.value() / 100
        shown = self._shown()
        chosen = [i for i in (items if items is not None else [shown] if shown else []) if can_resave(i, strength)]
        for item in chosen:
            self.resave.request(item, strength)
        if chosen and self.runner.running:
            what = chosen[0].name if len(chosen) == 1 else f"{len(chosen)} photos"
            self.message.emit(f"{what}: saved again after the photo being restored.", 10000)

    def _on_resaved(self, item_id: str, said: str) -> None:
        self.message.emit(said, 10000)
        self._update_resave()

    def _on_resave_failed(self, item_id: str, why: str) -> None:
        self.message.emit(why, 15000)
        if item_id == self.shown_item:
            self.caption.setText(why)
        self._update_resave()

    def _update_strength_label(self) -> None:
        self.strength_label.setText(f"{self.strength.value()}%")
        self.strength_label.setToolTip(ZERO_STRENGTH if self.strength.value() == 0 else "")

    def _view_menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addAction("Save image as shown…", self.save_view).setEnabled(self.view.before is not None)
        menu.addAction("Copy image as shown", self.copy_view).setEnabled(self.view.before is not None)
        menu.addSeparator()
        menu.addAction("Fit", self.view.fit)
        menu.addAction("100%", self.view.actual_size)
        side = menu.addAction("Side by side (S)")
        side.setCheckable(True)
        side.setChecked(self.view.side_by_side)
        side.toggled.connect(self.view.set_side_by_side)
        menu.popup(self.view.mapToGlobal(pos))

    def save_view(self) -> None:
        """Save what the compare view shows (divider, preview or comparison included) at the photo's full
        resolution, as an image to share; asks where, beside the photo by default."""
        image = self.view.render_image()
        item = self.current_item()
        if image is None or item is None:
            self.caption.setText("Select a photo to save what the view shows.")
            return
        source = Path(item.path)
        dialog = QFileDialog(self, "Save the image as shown")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(["JPEG (*.jpg *.jpeg)", "PNG (*.png)"])
        dialog.setDefaultSuffix("jpg")
        dialog.selectFile(str(source.with_name(f"{source.stem}-comparison.jpg")))
        dialog.fileSelected.connect(lambda path: self.write_view(image, path, item))
        self.save_dialog = dialog  # referenced while open
        dialog.open()

    def copy_view(self) -> None:
        """Put what the compare view shows, at the photo's full resolution, on the clipboard: a before/after
        pasted straight into a mail, a chat or an editor, no file in between."""
        image = self.view.render_image()
        if image is None:
            self.caption.setText("Select a photo to copy what the view shows.")
            return
        QApplication.clipboard().setImage(image)
        self.message.emit(f"Copied the image as shown ({image.width()} × {image.height()} pixels).", 6000)

    def write_view(self, image: QImage, path: str, item: QueueItem) -> bool:
        """Write `image` to `path`, never over the photo or its restored file."""
        target = Path(path)
        protected = [Path(p) for p in (item.path, item.output_path) if p]
        if any(target.exists() and p.exists() and os.path.samefile(target, p) for p in protected):
            self.message.emit(f"Not saved: {target.name} is the photo or its restored file; choose another name.",
                              8000)
            return False
        ok = image.save(str(target), None, 92)
        self.message.emit(f"Saved {target}" if ok else f"Could not save {target} (check the folder and the "
                          "name's extension: .jpg or .png).", 8000)
        return ok

    # -------------------------------------------------------------- previews and comparisons

    def preview_visible(self) -> None:
        item = self._previewable()
        if item is not None:
            self.preview.request(item, self.view.visible_image_rect())

    def _previewable(self) -> QueueItem | None:
        """The selected photo if the view shows it (a preview restores part of what is visible), else None
        with a caption saying why."""
        item = self.current_item()
        if item is None:
            self.caption.setText("Select a photo first.")
        elif self.view.before is None and not os.path.exists(item.path):
            self.caption.setText(f"{item.name} is no longer at {item.path} (moved or deleted), so it cannot be "
                                 "previewed.")
        elif self.view.before is None:
            self.caption.setText(f"{item.name} is not shown (still loading, or it could not be decoded), so it "
                                 "cannot be previewed yet.")
        else:
            return item
        return None

    def fill_compare_menu(self, menu: QMenu | None = None) -> None:
        """The alternatives to the current settings for the selected photo (the button's menu by default)."""
        menu = menu or self.compare_menu
        menu.clear()
        item = self.current_item()
        ready = self.runner.engine.ready
        choices = alternatives(ready.models if ready is not None else (), self.settings.model,
                               self.settings.quality, item.effective_task if item is not None else "auto")
        for group in GROUPS:
            section = [a for a in choices if a.group == group]
            if section:
                menu.addSection(group)
            for alt in section:
                menu.addAction(alt.label, lambda a=alt: self.compare_with(a))

    def compare_with(self, alternative: Alternative) -> None:
        """Restore the visible area with the current settings and with `alternative`, side by side."""
        item = self._previewable()
        if item is not None:
            self.preview.request(item, self.view.visible_image_rect(), alternative)

    def use_alternative(self) -> None:
        """Take the setting shown on the right of a comparison: the degradation for this photo, the model
        or quality for every photo."""
        if self._alternative is None:
            return
        item_id, alt = self._alternative
        kind, value = alt.setting
        item = self.runner.queue.get(item_id)
        restored = item is not None and item.restored
        if kind == "task":
            self.runner.set_task([item_id], value)
            text = f"Degradation of this photo set to {alt.label}."
        else:
            if kind == "model":
                self.settings.model = value
            else:
                self.settings.quality = value
            problem = self.settings.save()
            text = f"{alt.group} set to {alt.label} for every photo." + (f" {problem}" if problem else "")
        if restored:
            text += " " + RESTORE_AGAIN_HINT
        self._end_comparison()
        self.message.emit(text, 8000)

    def _end_comparison(self) -> None:
        self._alternative = None
        self.use_button.hide()

    def _on_preview(self, item_id: str, image: QImage, region: QRect) -> None:
        if item_id == self.shown_item and not image.isNull():
            self._end_comparison()
            self.view.set_after(image, region)
            self.caption.setText(f"Preview of {region.width()}×{region.height()} px at “{self.settings.quality}” "
                                 "quality. Start restores the whole photo.")

    def _on_compared(self, item_id: str, left: QImage, right: QImage, region: QRect, alt: Alternative) -> None:
        if item_id != self.shown_item or left.isNull() or right.isNull():
            return
        self.view.set_pair(left, right, region, (alt.current, alt.label))
        self._alternative = (item_id, alt)
        self.use_button.setText(f"Use {alt.label}")
        self.use_button.show()
        self.caption.setText(f"{alt.group}: {alt.current} (now, left) against {alt.label} (right), "
                             f"{region.width()}×{region.height()} px; drag the divider to compare.")

    def _on_preview_failed(self, message: str, details: str) -> None:
        self.caption.setText(f"Preview failed: {message}")
        if details:
            self.message.emit("Preview failed; see the caption.", 6000)


def _shown_as(item: QueueItem) -> tuple:
    """What the panel shows of an item: the same for every unfinished state (but for what the engine said
    of it, should it not be shown, and whether it is a result the batch will leave), else its outcome."""
    if item.state not in FINISHED:
        return ("unfinished", _engine_reason(item), item.left_as_result)
    return (item.state, item.output_path, item.skipped, item.note, item.error_message, item.saved_strength,
            item.photo_changed, item.replaced_from)


def _engine_reason(item: QueueItem) -> str:
    """What the engine said when it failed to restore or analyse the photo ("" when it did not)."""
    if item.state is ItemState.FAILED and item.error_message:
        return item.error_message
    return item.unreadable


def _not_shown(photo: str, result: str | None, reason: str = "") -> str:
    """Why the photo could not be shown: gone from where it was queued, or not decodable (with what the
    engine said of it, which names the cause: a damaged file, or a kind it cannot read)."""
    if not os.path.exists(photo):
        also = f"\nIts restored file is still at {result}." if result and os.path.exists(result) else ""
        return f"The photo is no longer at {photo} (moved or deleted).{also}"
    if reason:
        return f"This photo cannot be shown: it could not be decoded.\n{reason}"
    return "This photo cannot be shown: it could not be decoded (damaged?)."
