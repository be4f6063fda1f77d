"""Presets (app.presets): named sets of the restoring and saving settings, chosen in Settings in one step."""

from __future__ import annotations

import json

import pytest

from app import presets
from app.settings import Settings
from app.widgets.settings_dialog import SettingsDialog


@pytest.fixture
def dialog(qtbot, data_dir):
    def make(settings: Settings | None = None) -> SettingsDialog:
        d = SettingsDialog(settings or Settings())
        qtbot.addWidget(d)
        return d
    return make


def test_a_saved_preset_fills_the_fields_again_and_ok_applies_it(dialog, data_dir, tmp_path):
    d = dialog()
    d.format.setCurrentIndex(d.format.findData("jpeg"))
    d.jpeg_quality.setValue(85)
    d.srgb.setChecked(True)
    d.remove_location.setChecked(True)
    d.suffix.setText("_web")
    d.save_preset("  For   the web ")  # (one line, single spaces)
    assert d.preset.currentText() == "For the web" and d.delete_preset_button.isEnabled()
    saved = json.loads((data_dir / "presets.json").read_text("utf-8"))
    assert list(saved) == ["For the web"] and set(saved["For the web"]) == set(presets.FIELDS)
    assert "device" not in saved["For the web"] and "theme" not in saved["For the web"]

    d.format.setCurrentIndex(d.format.findData("tiff16"))  # edited: no longer the preset
    d.suffix.setText("")
    d.device.setCurrentIndex(d.device.findData("cpu"))
    assert d.preset.currentData() is None and not d.delete_preset_button.isEnabled()
    d.choose_preset("For the web")
    assert (d.format.currentData(), d.jpeg_quality.value(), d.suffix.text()) == ("jpeg", 85, "_web")
    assert d.srgb.isChecked() and d.remove_location.isChecked()
    assert d.device.currentData() == "cpu"  # this computer's, not the preset's
    assert d.preset.currentText() == "For the web"
    d.accept()
    again = Settings.load()
    assert (again.format, again.jpeg_quality, again.name_suffix, again.srgb, again.remove_location, again.device) == (
        "jpeg", 85, "_web", True, True, "cpu")
    reopened = dialog(again)
    assert reopened.preset.currentText() == "For the web"  # the fields match it when opened


def test_the_preset_list_is_named_for_screen_readers_and_alt_p(dialog):
    from PySide6.QtWidgets import QLabel

    d = dialog()
    assert d.preset.accessibleName() == "Preset"
    assert any(label.buddy() is d.preset and label.text() == "&Preset" for label in d.findChildren(QLabel))


def test_cancel_after_choosing_a_preset_changes_nothing(dialog):
    d = dialog()
    d.format.setCurrentIndex(d.format.findData("png"))
    d.save_preset("PNG")
    s = Settings()
    d2 = dialog(s)
    d2.choose_preset("PNG")
    assert d2.format.currentData() == "png"
    d2.reject()
    assert s.format == "same"


def test_deleting_a_preset_keeps_the_fields(dialog, data_dir):
    d = dialog()
    d.quality.setCurrentIndex(d.quality.findData("best"))
    d.save_preset("Best")
    d.delete_preset("Best")
    assert json.loads((data_dir / "presets.json").read_text("utf-8")) == {}
    assert d.quality.currentData() == "best" and d.preset.currentText().startswith("Custom")


def test_hand_edited_presets_take_the_defaults_value_by_value_and_a_damaged_file_is_kept_aside(data_dir):
    data_dir.mkdir(parents=True)
    path = data_dir / "presets.json"
    path.write_text(json.dumps({"Odd": {"format": "gif", "jpeg_quality": 85, "device": "cuda", "srgb": "yes"},
                                "  ": {"format": "png"}}))
    loaded = presets.load()
    assert list(loaded) == ["Odd"]  # (a blank name is no name)
    assert (loaded["Odd"]["format"], loaded["Odd"]["jpeg_quality"], loaded["Odd"]["srgb"]) == ("same", 85, False)
    assert "device" not in loaded["Odd"]
    path.write_text("{not json")
    assert presets.load() == {}
    assert (data_dir / "presets.json.unreadable").read_text() == "{not json" and not path.exists()


def test_a_preset_that_cannot_be_saved_is_said_so(dialog, monkeypatch):
    monkeypatch.setattr(presets, "save", lambda found, path=None: "The presets could not be saved in /x (full).")
    d = dialog()
    d.save_preset("Kept for now")
    assert d.problem_box is not None and "could not be saved" in d.problem_box.text()
    assert d.preset.currentText() == "Kept for now"  # it still serves this dialog


def test_save_as_asks_for_the_name_offering_the_current_one(dialog):
    d = dialog()
    d.save_preset("Mine")
    d.srgb.setChecked(True)
    d.choose_preset("Mine")
    d._ask_preset_name()
    assert d.name_dialog.textValue() == "Mine"  # (replacing it is one click)
    d.name_dialog.setTextValue("Mine, sRGB")
    d.srgb.setChecked(True)
    d.name_dialog.accept()
    assert d.presets["Mine, sRGB"]["srgb"] is True and d.presets["Mine"]["srgb"] is False
    assert d.preset.currentText() == "Mine, sRGB"


def test_a_preset_is_the_engines_options_in_the_command_line(data_dir):
    """`hourglass restore --preset NAME`: the preset's options first, so the ones given beside it win;
    copy takes only what a copy can do; a name that is not saved exits naming the saved ones."""
    from app.cli_presets import expand, preset_options

    web = presets.values_of(Settings(format="jpeg", jpeg_quality=85, name_suffix="_web", srgb=True,
                                     remove_location=True, record=False, quality="fast"))
    archive = presets.values_of(Settings(format="tiff16", quality="best", fullres="tiled", restore_clean=True,
                                         raw_jpeg="both", output_dir=str(data_dir / "archive")))
    assert presets.save({"For the web": web, "Archive": archive}) == ""
    assert preset_options("restore", web) == [
        "--quality", "fast", "--fullres", "auto", "--pairs", "raw", "--suffix", "_web", "--format", "jpeg",
        "--jpeg-quality", "85", "--srgb", "--no-location", "--no-record"]
    assert preset_options("copy", archive) == ["-o", str(data_dir / "archive"), "--format", "tiff16",
                                               "--jpeg-quality", "95"]
    assert "--restore-clean" in preset_options("restore", archive)
    assert expand(["restore", "a.jpg", "--preset", "for the WEB", "--jpeg-quality", "70"]) == [
        "restore", *preset_options("restore", web), "a.jpg", "--jpeg-quality", "70"]
    assert expand(["copy", "--preset=Archive", "r.tif"]) == ["copy", *preset_options("copy", archive), "r.tif"]
    assert expand(["restore", "a.jpg"]) == ["restore", "a.jpg"]
    assert expand(["detect", "--preset", "x"]) == ["detect", "--preset", "x"]
    assert expand(["restore", "--", "--preset"]) == ["restore", "--", "--preset"]
    with pytest.raises(SystemExit, match="no preset named 'Print'; the saved presets: 'Archive', 'For the web'"):
        expand(["restore", "--preset", "Print", "a.jpg"])
    with pytest.raises(SystemExit, match="needs the name"):
        expand(["restore", "a.jpg", "--preset"])


def test_hourglass_restore_and_copy_with_a_preset(data_dir, tmp_path, tiny_model_path, capsys):
    """End to end through the launcher: a "For the web" preset saved in the app restores a PNG to a JPEG with
    its suffix and no record, an "Archive" one to a 16-bit TIFF, which is then copied with the web preset and
    a suffix given beside it. The engine's own command line refuses --preset with a message."""
    from PIL import Image

    from app import launcher
    from engine.cli import EXIT_USAGE
    from engine.cli import main as engine_main
    from engine.imaging import read_provenance

    photo = tmp_path / "p.png"
    Image.new("RGB", (40, 32), (90, 60, 30)).save(photo)
    web = presets.values_of(Settings(format="jpeg", jpeg_quality=85, name_suffix="_web", record=False))
    archive = presets.values_of(Settings(format="tiff16"))
    presets.save({"For the web": web, "Archive": archive})
    model = ["--model", str(tiny_model_path), "--quality", "fast"]
    assert launcher.main(["restore", "--preset", "For the web", str(photo), *model]) == 0
    result = tmp_path / "restored" / "p_web.jpg"
    assert Image.open(result).format == "JPEG" and read_provenance(result) == {}
    assert launcher.main(["restore", "--preset", "Archive", str(photo), *model]) == 0
    tif = tmp_path / "restored" / "p.tif"
    with Image.open(tif) as im:
        assert im.format == "TIFF" and im.tag_v2[258] == (16, 16, 16)  # 16 bits from an 8-bit photo
    assert read_provenance(tif)
    assert launcher.main(["copy", str(tif), "--preset", "For the web", "--suffix", "_small"]) == 0  # (beside wins)
    assert Image.open(tmp_path / "restored" / "p_small.jpg").format == "JPEG"
    capsys.readouterr()
    assert engine_main(["restore", "--preset", "Archive", str(photo)]) == EXIT_USAGE
    assert "--preset is read by the hourglass command" in capsys.readouterr().err
