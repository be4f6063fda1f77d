"""Model manager: bundled and imported models (variant, size, source), import a checkpoint, pick the active one."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.models_service import ModelRow, ModelService


def format_size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


class ModelDialog(QDialog):
    model_selected = Signal(str)  # a model name, or "default"

    def __init__(self, service: ModelService, active: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(720, 360)
        self.service = service
        self.active = active
        self.rows: list[ModelRow] = []
        self._imported = ""  # the model just imported: selected once it is listed
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Name", "Variant", "Size", "Source", "File"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setAccessibleName("Models")
        self.status = QLabel("Loading the model list…")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name for the imported model (optional)")
        self.name.setAccessibleName("Name for the imported model")
        self.import_button = QPushButton("Import checkpoint…")
        self.import_button.setToolTip("An official DiffUIR checkpoint (.pt/.pth/.safetensors, or the zip its shared "
                                      "folder downloads as); it is validated first")
        self.use_button = QPushButton("Use selected")
        self.default_button = QPushButton("Use bundled default")
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setToolTip("Delete the selected imported model's file (the bundled model stays)")
        self.remove_button.setEnabled(False)
        close = QPushButton("Close")
        self.import_button.clicked.connect(self._choose_file)
        self.use_button.clicked.connect(self._use_selected)
        self.default_button.clicked.connect(lambda: self._select("default"))
        self.remove_button.clicked.connect(self._remove_selected)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addWidget(self.name, 1)
        row.addWidget(self.import_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.default_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        self.active_label = QLabel()
        layout.addWidget(self.active_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        service.models_listed.connect(self.set_rows)
        service.list_failed.connect(self.status.setText)
        service.import_finished.connect(self._on_imported)
        service.model_imported.connect(self._on_model_imported)
        service.remove_finished.connect(self._on_removed)
        service.busy_changed.connect(lambda busy: self.import_button.setEnabled(not busy))
        self._show_active()

    def set_rows(self, rows: list[ModelRow]) -> None:
        self.rows = list(rows)
        self.table.setRowCount(len(rows))
        for r, m in enumerate(rows):
            mark = " ✓" if m.is_active(self.active) else ""
            values = [m.name + mark, f"DiffUIR-{m.variant}" if m.variant else "unverified",
                      format_size(m.size_bytes), m.source, m.path]
            tip = "\n".join(f"{task}: {note}" for task, note in m.notes)  # its measured limits, if any
            for c, v in enumerate(values):
                item = QTableWidgetItem(v + (" ⚠" if tip and c == 0 else ""))
                item.setToolTip(tip)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        names = [m.name for m in rows]
        if self._imported in names:  # ready to use: one click on "Use selected"
            self.table.selectRow(names.index(self._imported))
            self.status.setText(f"{self.status.text()} Click “Use selected” to restore with it.")
            self._imported = ""
        if not rows:
            self.status.setText("No models yet: import an official DiffUIR checkpoint.")
        elif self.status.text().startswith("Loading"):
            self.status.setText("")

    def import_path(self, path: str) -> None:
        self.status.setText(f"Checking {Path(path).name}…")
        self.service.import_file(path, self.name.text().strip() or None)

    def _choose_file(self) -> None:
        dialog = QFileDialog(self, "Import a DiffUIR checkpoint")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["Checkpoints (*.pt *.pth *.ckpt *.safetensors *.bin *.zip)", "All files (*)"])
        dialog.fileSelected.connect(self.import_path)
        dialog.open()

    def _on_imported(self, ok: bool, message: str, details: str) -> None:
        self.status.setText(message if ok else f"Import failed: {message}")
        self.status.setStyleSheet("" if ok else f"color: {theme.error_text()};")

    def _on_model_imported(self, name: str) -> None:
        self._imported = name

    def _selected_row(self) -> ModelRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows and rows[0].row() < len(self.rows) else None

    def _selection_changed(self) -> None:
        row = self._selected_row()
        self.remove_button.setEnabled(row is not None and row.origin == "user")

    def _remove_selected(self) -> None:
        row = self._selected_row()
        if row is None or row.origin != "user":
            return
        answer = QMessageBox.question(
            self, "Remove model", f"Remove the model '{row.name}'? Its file ({format_size(row.size_bytes)}) is "
            f"deleted from {Path(row.path).parent}; import the checkpoint again to get it back.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self.status.setText(f"Removing {row.name}…")
            self.service.remove(row.name)

    def _on_removed(self, ok: bool, message: str, name: str) -> None:
        self.status.setText(message if ok else f"Not removed: {message}")
        self.status.setStyleSheet("" if ok else f"color: {theme.error_text()};")
        if ok and self.active == name:  # (the model in use is gone: the bundled one takes over)
            self._select("default")

    def _use_selected(self) -> None:
        row = self._selected_row()
        if row is not None:
            self._select(row.name)

    def _select(self, name: str) -> None:
        self.active = name
        self._show_active()
        self.set_rows(self.rows)
        self.model_selected.emit(name)

    def _show_active(self) -> None:
        self.active_label.setText(f"Active model: <b>{'bundled default' if self.active == 'default' else self.active}</b>")
