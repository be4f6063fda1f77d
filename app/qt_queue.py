"""Qt adapter over `BatchQueue`: a table model (thumbnail, name, degradation, state, progress, ETA)
and the delegates that paint progress bars and edit the degradation. Restored rows can be dragged out:
the drag carries their output files, so they drop into a file manager, an editor or a mail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QUrl,
)
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from app.queue_model import BatchQueue, ItemState, QueueItem, restored_file
from app.settings import TASK_LABELS
from engine.filetypes import natural_key

COL_PHOTO, COL_TASK, COL_STATE, COL_PROGRESS, COL_ETA = range(5)
HEADERS = ("Photo", "Degradation", "State", "Progress", "Time left")
ItemIdRole = Qt.ItemDataRole.UserRole + 1
ProgressRole = Qt.ItemDataRole.UserRole + 2
THUMB = 48

STATE_LABELS = {
    ItemState.PENDING: "Pending", ItemState.DETECTING: "Detecting…", ItemState.QUEUED: "Queued",
    ItemState.RUNNING: "Restoring…", ItemState.DONE: "Done", ItemState.FAILED: "Failed",
    ItemState.CANCELLED: "Cancelled",
}
PHOTO_CHANGED = ("The photo has changed since it was restored (edited or replaced): its result was made from the "
                 "earlier version. Retry restores it again; the result is kept.")
LEFT_CHANGED = ("has changed since Hourglass left it as it was (edited or replaced): Retry looks at it again, and "
                "restores it if it needs it now.")  # (after "The photo" in the tooltip, its name in the caption)
# The state column's colours as (on a light list, on a dark one), each at least 4.5:1 against its list's
# rows (WCAG's contrast for text). One set for both read 2.6–3.6:1 on the dark appearance's rows, and the
# orange of "changed since" 2.9:1 on the light one's.
STATE_COLOURS = {ItemState.DONE: ("#2e7d32", "#81c784"), ItemState.FAILED: ("#c62828", "#ef9a9a"),
                 ItemState.CANCELLED: ("#795548", "#bcaaa4"), ItemState.RUNNING: ("#1565c0", "#64b5f6")}
BAR_RUNNING, BAR_DONE = "#1976d2", "#2e7d32"  # the progress bar's fill, under white figures (4.6:1, 5.1:1)
SKIPPED_COLOURS = ("#546e7a", "#90a4ae")  # looked fine, or already restored: not restored
CHANGED_COLOURS = ("#b34700", "#ffb74d")  # restored, but the photo was edited since


def state_colour(item: QueueItem, base: QColor) -> QColor | None:
    """The colour of a photo's state in a list whose rows are `base`."""
    if item.state is ItemState.DONE and item.photo_changed:
        pair = CHANGED_COLOURS
    elif item.state is ItemState.DONE and item.skipped:
        pair = SKIPPED_COLOURS
    else:
        pair = STATE_COLOURS.get(item.state)
    return None if pair is None else QColor(pair[base.lightness() < 128])


def state_text(item: QueueItem) -> str:
    if item.state is ItemState.DONE and item.photo_changed and not item.replaced_from:
        return "Photo changed"
    if item.state is ItemState.DONE and item.skipped:
        return "Not needed"
    if item.restored and item.replaced_from:
        return "Photo replaced"
    return STATE_LABELS[item.state]


def task_text(item: QueueItem) -> str:
    if item.task != "auto":
        return f"{TASK_LABELS.get(item.task, item.task)} (chosen)"
    if item.left_as_result:
        return "Restored already"
    if item.detected_task:
        conf = f" {item.confidence:.0%}" if item.confidence is not None else ""
        unsure = "?" if item.unsure else ""
        label = "Looks fine" if item.detected_task == "none" else TASK_LABELS.get(item.detected_task, item.detected_task)
        return f"{label}{unsure}{conf}"
    if item.unreadable:  # (the tooltip says why)
        return "— (failed)"
    if item.detect_message:
        return "— (not available)"
    return "Auto"


# the order of the State column when sorted: what needs a look first, finished photos last
_STATE_ORDER = (ItemState.FAILED, ItemState.CANCELLED, ItemState.RUNNING, ItemState.QUEUED, ItemState.DETECTING,
                ItemState.PENDING, ItemState.DONE)
_TASK_ORDER = ("low-light", "haze", "rain", "snow", "blur", "none", "auto")


def sort_key(column: int) -> Callable[[QueueItem], Any]:
    """How a click on `column`'s header orders the queue. The degradation groups the photos by task and puts
    the detector's least sure answers first in each group (the ones to check), chosen ones after them."""
    if column == COL_TASK:
        def by_task(item: QueueItem) -> tuple:
            task = item.effective_task
            sure = item.confidence if item.task == "auto" and item.confidence is not None else 2.0
            return (_TASK_ORDER.index(task) if task in _TASK_ORDER else len(_TASK_ORDER), sure, natural_key(item.name))
        return by_task
    if column == COL_STATE:
        return lambda item: (_STATE_ORDER.index(item.state), item.skipped, natural_key(item.name))
    return lambda item: natural_key(item.name)


SORTABLE = (COL_PHOTO, COL_TASK, COL_STATE)  # progress and time left change by the second: no order to keep


def format_estimate(seconds: float | None) -> str:
    """A waiting photo's expected time, as rough as it is: "≈ 40 s", "≈ 12 min", "≈ 1 h 05 min"."""
    if not seconds:
        return ""
    if seconds < 55:
        return f"≈ {max(10, round(seconds / 10) * 10)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"≈ {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"≈ {hours} h {minutes:02d} min"


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class QueueTableModel(QAbstractTableModel):
    """Rows are queue items, in queue order; listens to the queue and re-emits fine-grained changes."""

    def __init__(self, queue: BatchQueue, parent: QObject | None = None,
                 estimate: Callable[[QueueItem], float | None] | None = None, *,
                 set_task: Callable[[list[str], str], Any]) -> None:
        super().__init__(parent)
        self.queue = queue
        # the degradation chosen in the column's editor (`BatchRunner.set_task`, which the undo history hears)
        self.set_task = set_task
        # seconds a waiting photo is expected to take (`BatchRunner.photo_time`), None when nothing tells yet
        self.estimate = estimate
        self._thumbs: dict[str, QIcon] = {}
        queue.subscribe(self._on_queue_event)

    def refresh_estimates(self) -> None:
        """The waiting photos' estimates changed (a photo was restored and timed): repaint that column."""
        if len(self.queue):
            self.dataChanged.emit(self.index(0, COL_ETA), self.index(len(self.queue) - 1, COL_ETA),
                                  [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole])

    # -------------------------------------------------------------- the Qt model

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.queue)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if not index.isValid():
            return flags
        item = self.queue[index.row()]
        if index.column() == COL_TASK and item.state not in (ItemState.RUNNING,):
            flags |= Qt.ItemFlag.ItemIsEditable
        if restored_file(item):
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes) -> QMimeData:
        """The restored files of the dragged rows (each once, in queue order); rows without one add nothing."""
        rows = sorted({i.row() for i in indexes if i.isValid()})
        files = [f for f in (restored_file(self.queue[r]) for r in rows) if f]
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(f) for f in files])
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.queue):
            return None
        item = self.queue[index.row()]
        col = index.column()
        if role == ItemIdRole:
            return item.id
        if role == ProgressRole:
            return item.progress
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_PHOTO:
                return item.name
            if col == COL_TASK:
                return task_text(item)
            if col == COL_STATE:
                return state_text(item)
            if col == COL_PROGRESS:
                return f"{item.progress:.0%}"
            if col == COL_ETA:
                if item.state is ItemState.RUNNING:
                    return format_eta(item.eta_s)
                return format_estimate(self._waiting_estimate(item))
        if role == Qt.ItemDataRole.EditRole and col == COL_TASK:
            return item.task
        if role == Qt.ItemDataRole.DecorationRole and col == COL_PHOTO:
            return self._thumbs.get(item.id)
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_STATE:
            return state_colour(item, QApplication.palette().base().color())
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_ETA and self._waiting_estimate(item):
                return ("How long this photo should take, from how long photos took here (this run's, or "
                        "before the first has ended, earlier runs' with the same model, quality and device) "
                        "and this photo's size")
            if item.state is ItemState.FAILED and item.error_message:
                return item.error_message
            if col == COL_TASK and item.detect_message:
                return item.detect_message
            if col == COL_TASK and item.left_as_result:
                return (f"A result Hourglass saved ({item.already_restored}): not restored again, which would "
                        "restore it twice. Double-click to choose a degradation to restore it anyway.")
            if col == COL_TASK and item.task == "auto" and item.detected_task:
                unsure = f", unsure ({item.confidence:.0%}{item.second_guess})" if item.unsure else ""
                return f"Detected automatically{unsure}; double-click to choose another degradation."
            if col == COL_STATE and item.state is ItemState.DONE and item.skipped and item.photo_changed:
                return f"The photo {LEFT_CHANGED}"
            if item.skipped and item.note:
                return item.note
            if col == COL_STATE and item.restored and item.replaced_from:
                return f"The photo's file holds its result; the photo as it was is kept at {item.replaced_from}."
            if col == COL_STATE and item.restored and item.photo_changed:
                return PHOTO_CHANGED
            return item.path + photo_size_text(item)
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value, role: int = Qt.ItemDataRole.EditRole):
        if index.column() != COL_TASK or role != Qt.ItemDataRole.EditRole or value not in TASK_LABELS:
            return False
        self.set_task([self.queue[index.row()].id], value)
        return True

    # -------------------------------------------------------------- helpers

    def item_at(self, row: int) -> QueueItem:
        return self.queue[row]

    def set_thumbnail(self, item_id: str, image: QImage) -> None:
        row = self.queue.index_of(item_id)
        if row < 0 or image.isNull():
            return
        self._thumbs[item_id] = QIcon(QPixmap.fromImage(square(image)))  # drawn at the view's iconSize
        idx = self.index(row, COL_PHOTO)
        self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    def has_thumbnail(self, item_id: str) -> bool:
        return item_id in self._thumbs

    def _waiting_estimate(self, item: QueueItem) -> float | None:
        if self.estimate is None or item.state not in (ItemState.PENDING, ItemState.QUEUED):
            return None
        return self.estimate(item)

    def _on_queue_event(self, event: str, items: list[QueueItem]) -> None:
        if event == "reordered":  # the same items in another order: thumbnails stay
            self.beginResetModel()
            self.endResetModel()
            return
        if event in ("added", "removed", "reset"):
            # Adds and removes are rare and can touch any rows: a reset keeps the adapter simple and correct.
            self.beginResetModel()
            if event == "removed":
                for i in items:
                    self._thumbs.pop(i.id, None)
            elif event == "reset":
                self._thumbs.clear()
            self.endResetModel()
            return
        rows = self.queue.rows_of(item.id for item in items)  # (Start on every photo: one signal for all)
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(HEADERS) - 1))


class ProgressDelegate(QStyledItemDelegate):
    """Paints the progress column as a slim bar with the percentage (the same on every platform style)."""

    def paint(self, painter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        fraction = min(1.0, max(0.0, float(index.data(ProgressRole) or 0.0)))
        r = option.rect.adjusted(6, 0, -6, 0)
        bar = QRect(r.x(), r.center().y() - 8, r.width(), 16)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor(0, 0, 0, 40))
        painter.setBrush(QColor(0, 0, 0, 18))
        painter.drawRoundedRect(bar, 4, 4)
        fill = QRect(bar.x(), bar.y(), max(8, round(bar.width() * fraction)) if fraction > 0 else 0, bar.height())
        if fraction > 0:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(BAR_DONE if fraction >= 1.0 else BAR_RUNNING))
            painter.drawRoundedRect(fill, 4, 4)
        # white over the filled part, the row's text colour over the rest: at 52% the "%" straddled both,
        # white on the pale rest of the bar, and could not be read
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        selected = option.state & QStyle.StateFlag.State_Selected
        rest = option.palette.highlightedText() if selected else option.palette.text()
        for colour, clip in ((QColor("white"), fill), (rest.color(), bar.adjusted(fill.width(), 0, 0, 0))):
            painter.setClipRect(clip)
            painter.setPen(colour)
            painter.drawText(bar, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(100, THUMB + 8)


class TaskDelegate(QStyledItemDelegate):
    """Edits the degradation with a combo box (Auto, Low light, Haze, Rain, Snow, Blur, Leave as is)."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex) -> QWidget:
        combo = QComboBox(parent)
        for key, label in TASK_LABELS.items():
            combo.addItem(label, key)
        combo.activated.connect(lambda _i, c=combo: self.commitData.emit(c))
        return combo

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        assert isinstance(editor, QComboBox)
        editor.setCurrentIndex(max(0, editor.findData(index.data(Qt.ItemDataRole.EditRole))))

    def setModelData(self, editor: QWidget, model, index: QModelIndex) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


def photo_size_text(item: QueueItem) -> str:
    """ "\n4000 × 3000 pixels (12.0 MP)" once the analysis has told the photo's size, else ""."""
    if not item.width or not item.height:
        return ""
    megapixels = item.width * item.height / 1e6
    return f"\n{item.width} × {item.height} pixels" + (f" ({megapixels:.1f} MP)" if megapixels >= 0.1 else "")


def square(image: QImage) -> QImage:
    """The thumbnail centred on a transparent square: a portrait photo's takes a landscape one's width, so
    the names beside them line up (Qt draws an icon at its own aspect, and the text starts after it)."""
    w, h = image.width(), image.height()
    if w == h:
        return image
    side = max(w, h)
    out = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(Qt.GlobalColor.transparent)
    painter = QPainter(out)
    painter.drawImage((side - w) // 2, (side - h) // 2, image)
    painter.end()
    return out
