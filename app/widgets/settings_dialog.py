"""Settings, in three groups: restoring (device, quality...), saving results (folder, naming, format, colour,
metadata) and display. Edits `Settings`; no engine here."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import presets, theme
from app.settings import DEVICES, FORMATS, FULLRES, QUALITIES, RAW_JPEG, THEMES, Settings, gpu_choices
from engine.protocol import is_gpu_id


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None, devices=(), screen: str = "") -> None:
        """`devices`: the engine's (its handshake's `P.DeviceInfo`s); with several GPUs, each is offered.
        `screen`: what the screen's colour profile setting does now (MainWindow.screen_profile)."""
        super().__init__(parent)
        self.problem_box: QMessageBox | None = None  # the "not saved" message, while it is shown
        self.setWindowTitle("Settings")
        self.settings = settings
        restoring, saving, display = QFormLayout(), QFormLayout(), QFormLayout()

        self.device = QComboBox()
        for key, label in DEVICES.items():
            self.device.addItem(label, key)
        for label, key in gpu_choices(devices):
            self.device.addItem(label, key)
        if is_gpu_id(settings.device) and self.device.findData(settings.device) < 0:  # chosen on another computer,
            self.device.addItem(f"GPU {settings.device[5:]} (not found now)", settings.device)  # or engine not up
        self.quality = QComboBox()
        for key, label in QUALITIES.items():
            self.quality.addItem(label, key)
        restoring.addRow("Device", self.device)
        restoring.addRow("Quality", self.quality)

        self.beside = QRadioButton("A “restored” folder beside each photo")
        self.chosen = QRadioButton("This folder (dropped folders are mirrored inside):")
        group = QButtonGroup(self)
        group.addButton(self.beside)
        group.addButton(self.chosen)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("Choose a folder…")
        self.folder.setAccessibleName("Output folder")  # (else the group's title, "Saving results")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        out = QVBoxLayout()
        out.addWidget(self.beside)
        out.addWidget(self.chosen)
        out.addLayout(row)
        saving.addRow("Save to", out)

        self.suffix = QLineEdit()
        self.suffix.setPlaceholderText("e.g. _restored (empty: same name)")
        saving.addRow("Name suffix", self.suffix)
        self.format = QComboBox()
        for key, label in FORMATS.items():
            self.format.addItem(label, key)
        self.jpeg_quality = QSpinBox()
        self.jpeg_quality.setRange(1, 100)
        saving.addRow("Format", self.format)
        saving.addRow("File quality (JPEG, WebP, AVIF)", self.jpeg_quality)
        never = QCheckBox("Never overwrite (existing files get “name (1).ext”)")
        never.setChecked(True)
        never.setEnabled(False)
        saving.addRow("", never)
        self.srgb = _option(saving, "Colour", "Save in sRGB (for the web)",
                            "A photo in another colour space (Adobe RGB from a camera, Display P3 from a phone) "
                            "is saved converted to sRGB, which every browser and viewer shows alike; colours "
                            "beyond sRGB are brought within it. Off: results keep the photo's colour space.")
        self.screen_profile = _option(
            display, "Screen colours", "Show photos through the screen's colour profile",
            "On a wide-gamut or calibrated monitor, photos are converted to its colour profile, as colour-managed "
            "viewers show them. X11 desktops only (see About for the profile in use).")
        self.remove_location = _option(saving, "Metadata", "Remove location (GPS) from results",
                                       "For results you share: the GPS coordinates the camera or phone recorded "
                                       "are left out (EXIF and XMP). Place names you typed as captions (city, "
                                       "country) are kept, as are the date, camera and keywords.")
        self.record = _option(saving, "", "Record how each result was made",
                              "Each result's XMP says what it was restored as, with which model and at what "
                              "strength, with the photo's file name and fingerprint (SHA-256). Hourglass uses it "
                              "to find a photo's earlier results when it is added again. Off: results record "
                              "none of it, and are not found again.")
        self.restore_clean = _option(restoring, "Detection", "Restore photos that look fine",
                                     "Automatic detection leaves photos it finds already fine untouched "
                                     "(“Not needed”). Turn this on to restore them anyway.")
        self.fullres = QComboBox()
        for key, label in FULLRES.items():
            self.fullres.addItem(label, key)
        self.fullres.setToolTip("Low light and haze change a photo smoothly: the fast path restores a ~1 MP copy "
                                "and carries the correction to every pixel, about 10× faster on a large photo. "
                                "Rain, snow and blur always use full resolution in Automatic.")
        restoring.addRow("Large photos", self.fullres)
        self.raw_jpeg = QComboBox()
        for key, label in RAW_JPEG.items():
            self.raw_jpeg.addItem(label, key)
        self.raw_jpeg.setToolTip("A camera set to RAW+JPEG writes every shot twice (IMG_0001.CR3 and IMG_0001.JPG). "
                                 "Which of the two is queued when both are added; a RAW is saved as a 16-bit TIFF.")
        restoring.addRow("RAW+JPEG shots", self.raw_jpeg)
        self.theme = QComboBox()
        for key, label in THEMES.items():
            self.theme.addItem(label, key)
        display.addRow("Appearance", self.theme)
        note = QLabel("Device changes load the model again before the next photo.")
        note.setWordWrap(True)
        theme.dim(note)
        restoring.addRow(note)
        if screen:  # which profile, or why none: the setting means little without it
            now = QLabel(f"Now: {screen}.")
            now.setWordWrap(True)
            theme.dim(now)
            display.insertRow(1, "", now)  # (under the setting)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        _align_labels(restoring, saving, display)
        layout = QVBoxLayout(self)
        layout.addLayout(self._preset_row())
        for title, rows in (("Restoring", restoring), ("Saving results", saving), ("Display", display)):
            box = QGroupBox(title)
            box.setLayout(rows)
            layout.addWidget(box)
        layout.addWidget(buttons)
        self.format.currentIndexChanged.connect(self._update_enabled)
        self.beside.toggled.connect(self._update_enabled)
        self.load(settings)
        for widget in self.findChildren(QWidget):  # any change: say which preset (if any) the fields match
            for signal in ("currentIndexChanged", "toggled", "textChanged", "valueChanged"):
                if widget is not self.preset and hasattr(widget, signal):
                    getattr(widget, signal).connect(self._show_preset)
        self._show_preset()

    # -------------------------------------------------------------- presets (app.presets)

    def _preset_row(self) -> QHBoxLayout:
        self.presets = presets.load()
        self.preset = QComboBox()
        self.preset.setToolTip("Named sets of these settings (how photos are restored and saved; not the device, "
                               "screen or appearance), as export presets: choose one to fill the fields below.")
        self.preset.activated.connect(lambda _: self.choose_preset(self.preset.currentData()))
        save = QPushButton("Save as…")
        save.setToolTip("Keep the settings below as a preset, under a name (a preset of that name is replaced).")
        save.clicked.connect(self._ask_preset_name)
        self.delete_preset_button = QPushButton("Delete")
        self.delete_preset_button.clicked.connect(lambda: self.delete_preset(self.preset.currentData()))
        label = QLabel("&Preset")
        label.setBuddy(self.preset)  # (Alt+P, and screen readers name the list by it)
        self.preset.setAccessibleName("Preset")
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.preset, 1)
        row.addWidget(save)
        row.addWidget(self.delete_preset_button)
        return row

    def _fields(self) -> Settings:
        """The settings as the fields say now, not yet applied."""
        current = dataclasses.replace(self.settings, extra=dict(self.settings.extra))
        self.apply(current)
        return current

    def _show_preset(self, *_) -> None:
        """The preset list, showing the preset the fields match, or "Custom"."""
        name = presets.matching(self.presets, self._fields())
        self.preset.blockSignals(True)
        self.preset.clear()
        self.preset.addItem("Custom" if self.presets else "Custom (no presets saved yet)", None)
        for key in sorted(self.presets, key=str.casefold):
            self.preset.addItem(key, key)
        self.preset.setCurrentIndex(max(0, self.preset.findData(name)) if name is not None else 0)
        self.preset.blockSignals(False)
        self.delete_preset_button.setEnabled(name is not None)

    def choose_preset(self, name: str | None) -> None:
        """Fill the fields with preset `name`'s settings (applied with OK, as any change here)."""
        if name in self.presets:
            self.load(presets.applied(self._fields(), self.presets[name]))
        self._show_preset()

    def save_preset(self, name: str) -> None:
        name = presets.clean_name(name)
        if not name:
            return
        self.presets[name] = presets.values_of(self._fields())
        self._presets_saved()

    def delete_preset(self, name: str | None) -> None:
        """Forget preset `name`; the fields keep its settings (Save as… brings it back)."""
        if self.presets.pop(name or "", None) is not None:
            self._presets_saved()

    def _presets_saved(self) -> None:
        problem = presets.save(self.presets)
        if problem:  # they still serve this dialog: say so, not modally
            self.problem_box = QMessageBox(QMessageBox.Icon.Warning, "Presets not saved", problem, parent=self)
            self.problem_box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.problem_box.open()
        self._show_preset()

    def _ask_preset_name(self) -> None:
        ask = QInputDialog(self)
        ask.setWindowTitle("Save as preset")
        ask.setLabelText("Name of the preset (the settings below, as they are set now):")
        ask.setTextValue(self.preset.currentData() or "")
        ask.textValueSelected.connect(self.save_preset)
        self.name_dialog = ask  # referenced while open
        ask.open()

    def load(self, s: Settings) -> None:
        self.device.setCurrentIndex(max(0, self.device.findData(s.device)))
        self.quality.setCurrentIndex(max(0, self.quality.findData(s.quality)))
        self.format.setCurrentIndex(max(0, self.format.findData(s.format)))
        self.beside.setChecked(not s.output_dir)
        self.chosen.setChecked(bool(s.output_dir))
        self.folder.setText(s.output_dir)
        self.suffix.setText(s.name_suffix)
        self.jpeg_quality.setValue(s.jpeg_quality)
        self.restore_clean.setChecked(s.restore_clean)
        self.srgb.setChecked(s.srgb)
        self.screen_profile.setChecked(s.screen_profile)
        self.remove_location.setChecked(s.remove_location)
        self.record.setChecked(s.record)
        self.fullres.setCurrentIndex(max(0, self.fullres.findData(s.fullres)))
        self.raw_jpeg.setCurrentIndex(max(0, self.raw_jpeg.findData(s.raw_jpeg)))
        self.theme.setCurrentIndex(max(0, self.theme.findData(s.theme)))
        self._update_enabled()

    def apply(self, s: Settings) -> None:
        """Write the dialog's values into `s` (the caller saves)."""
        s.device = self.device.currentData()
        s.quality = self.quality.currentData()
        s.format = self.format.currentData()
        s.output_dir = self.folder.text().strip() if self.chosen.isChecked() else ""
        s.name_suffix = self.suffix.text().strip()
        s.jpeg_quality = self.jpeg_quality.value()
        s.restore_clean = self.restore_clean.isChecked()
        s.srgb = self.srgb.isChecked()
        s.screen_profile = self.screen_profile.isChecked()
        s.remove_location = self.remove_location.isChecked()
        s.record = self.record.isChecked()
        s.fullres = self.fullres.currentData()
        s.raw_jpeg = self.raw_jpeg.currentData()
        s.theme = self.theme.currentData()
        s.validate()

    def accept(self) -> None:
        self.apply(self.settings)
        problem = self.settings.save()
        if problem:  # they still apply: say so (not modally, over the window), and close as asked
            self.problem_box = QMessageBox(QMessageBox.Icon.Warning, "Settings not saved", problem,
                                           parent=self.parentWidget() or self)
            self.problem_box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.problem_box.open()
        super().accept()

    def _update_enabled(self) -> None:
        self.folder.setEnabled(self.chosen.isChecked())
        self.jpeg_quality.setEnabled(self.format.currentData() in ("jpeg", "same", "webp", "avif"))

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Output folder", self.folder.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self._chose)
        dialog.open()

    def _chose(self, path: str) -> None:
        self.folder.setText(path)
        self.chosen.setChecked(True)


def _align_labels(*forms: QFormLayout) -> None:
    """One label column for the groups' forms, so their fields line up as in one form."""
    role = QFormLayout.ItemRole.LabelRole
    labels = [item.widget() for form in forms for row in range(form.rowCount())
              if (item := form.itemAt(row, role)) is not None and item.widget() is not None]
    width = max((label.sizeHint().width() for label in labels), default=0)
    for label in labels:
        label.setMinimumWidth(width)


def _option(form: QFormLayout, label: str, text: str, tip: str) -> QCheckBox:
    """A checkbox with its explanation as tooltip, added as `form`'s row `label`."""
    box = QCheckBox(text)
    box.setToolTip(tip)
    form.addRow(label, box)
    return box
