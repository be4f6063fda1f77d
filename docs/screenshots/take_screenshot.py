"""Screenshot of the real main window for the docs (run under a display, e.g. `xvfb-run`).

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python docs/screenshots/take_screenshot.py

The sample photos are copied to a temporary folder and queued. Without `--real-engine` the scripted
test engine stands in for the model and the detector (its "after" is only Pillow's autocontrast); with
`--real-engine` the real engine detects and restores them with the bundled detector and active model.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "gui")]


def stand_in_restore(inp: Path, out: Path) -> None:
    from PIL import Image, ImageOps

    with Image.open(inp) as im:
        ImageOps.autocontrast(im.convert("RGB"), cutoff=1).save(out, quality=95)


async def shoot(args) -> None:
    from app.queue_model import BatchQueue, ItemState, default_queue_path
    from app.runner import BatchRunner
    from app.settings import Settings
    from app.widgets.main_window import MainWindow

    work = Path(tempfile.mkdtemp(prefix="hourglass-shot-"))
    os.environ["HOURGLASS_DATA_DIR"] = str(work / "data")
    folder = work / "Samples"
    shutil.copytree(ROOT / "resources" / "samples", folder, ignore=shutil.ignore_patterns("*.md"))
    if args.real_engine:
        from app.client import ClientConfig, EngineClient

        engine = EngineClient(ClientConfig())
    else:
        from fake_engine_service import FakeEngine

        engine = FakeEngine(step_s=0.15, steps=6, write_output=stand_in_restore, slow_names=("coffee_blur",))
    queue = BatchQueue(default_queue_path())
    runner = BatchRunner(queue, Settings(quality="balanced"), engine)
    window = MainWindow(runner)
    window.resize(1360, 820)
    window.show()
    if args.settings:
        await shoot_settings(window)
        window.close()
        shutil.rmtree(work, ignore_errors=True)
        return
    runner.start_engine()
    runner.add_paths([str(folder)])
    while len(queue) < 5:
        await asyncio.sleep(0.05)
    runner.detect()
    while any(i.state is ItemState.DETECTING or not (i.detected_task or i.detect_message) for i in queue):
        await asyncio.sleep(0.05)
    by_name = {i.name: i for i in queue}
    if not args.real_engine:  # the scripted engine detects nothing: choose two tasks by hand
        runner.set_task([by_name["astronaut_low-light.jpg"].id], "low-light")
        runner.set_task([by_name["coffee_haze.jpg"].id], "haze")
    runner.start()
    target = by_name["coffee_blur.jpg"]
    while not (target.state is ItemState.RUNNING and target.progress >= 0.4) and runner.running:
        await asyncio.sleep(0.05)
    runner.pause()
    row = queue.index_of(by_name["astronaut_low-light.jpg"].id)
    window.table.selectRow(row)
    while window.compare.after is None:
        await asyncio.sleep(0.05)
    window.compare.set_divider(0.5)
    await asyncio.sleep(0.3)
    out = ROOT / "docs" / "screenshots" / "main-window.png"
    window.grab().save(str(out))
    print(out)
    while runner.running:
        await asyncio.sleep(0.05)
    if args.save_again:
        await shoot_save_again(window, by_name["astronaut_low-light.jpg"])
    if args.side_by_side:
        await shoot_side_by_side(window, by_name["chelsea_rain.jpg"])
    if args.comparison:
        await shoot_comparison(window, by_name["coffee_haze.jpg"])
    await runner.shutdown()
    window.close()
    shutil.rmtree(work, ignore_errors=True)


async def shoot_save_again(window, item) -> None:
    """`save-again.png`: a restored photo with the strength slider moved down to 60%, and the button that
    saves it again at that strength from its result."""
    window.table.selectRow(window.queue.index_of(item.id))
    while window.compare.after is None or window.panel.shown_item != item.id:
        await asyncio.sleep(0.05)
    window.panel.strength.setValue(60)
    window.compare.set_divider(0.5)
    await asyncio.sleep(0.3)
    out = ROOT / "docs" / "screenshots" / "save-again.png"
    window.grab().save(str(out))
    print(out)
    window.panel.strength.setValue(100)


async def shoot_side_by_side(window, item) -> None:
    """`side-by-side.png`: the rainy sample restored, before and after in two panes."""
    window.table.selectRow(window.queue.index_of(item.id))
    while window.panel.shown_item != item.id:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # (its pair decoded)
    window.panel.side_button.click()
    await asyncio.sleep(0.3)
    out = ROOT / "docs" / "screenshots" / "side-by-side.png"
    window.grab().save(str(out))
    print(out)
    window.panel.side_button.click()


async def shoot_settings(window) -> None:
    """`settings.png`: the Settings dialog with two presets saved and "For the web" chosen."""
    from app.widgets.settings_dialog import SettingsDialog

    window.open_settings()
    await asyncio.sleep(0.3)
    dialog = next(d for d in window._dialogs if isinstance(d, SettingsDialog))
    dialog.format.setCurrentIndex(dialog.format.findData("tiff16"))
    dialog.quality.setCurrentIndex(dialog.quality.findData("best"))
    dialog.save_preset("Archive")
    dialog.format.setCurrentIndex(dialog.format.findData("jpeg"))
    dialog.quality.setCurrentIndex(dialog.quality.findData("balanced"))
    dialog.jpeg_quality.setValue(85)
    dialog.suffix.setText("_web")
    dialog.srgb.setChecked(True)
    dialog.remove_location.setChecked(True)
    dialog.save_preset("For the web")
    await asyncio.sleep(0.3)
    out = ROOT / "docs" / "screenshots" / "settings.png"
    dialog.grab().save(str(out))
    print(out)
    dialog.reject()


async def shoot_comparison(window, item) -> None:
    """`comparison.png`: the hazy sample's visible area restored as haze (left) and as low light (right)."""
    from app.comparisons import alternatives

    window.table.selectRow(window.queue.index_of(item.id))
    while window.compare.before is None or window.panel.shown_item != item.id:
        await asyncio.sleep(0.05)
    window.compare.actual_size()
    choice = next(a for a in alternatives((), window.settings.model, window.settings.quality, item.effective_task)
                  if a.changes.get("task") == "low-light")
    done = asyncio.Event()
    window.preview.compared.connect(lambda *_: done.set())
    window.preview.failed.connect(lambda *_: done.set())
    window.panel.compare_with(choice)
    await done.wait()
    window.compare.set_divider(0.5)
    await asyncio.sleep(0.3)
    out = ROOT / "docs" / "screenshots" / "comparison.png"
    window.grab().save(str(out))
    print(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--real-engine", action="store_true")
    parser.add_argument("--comparison", action="store_true",
                        help="also comparison.png: the hazy sample restored as haze and as low light")
    parser.add_argument("--save-again", action="store_true",
                        help="also save-again.png: a restored photo with the slider at 60%% and Save at 60%%")
    parser.add_argument("--side-by-side", action="store_true",
                        help="also side-by-side.png: the rainy sample restored, before and after in two panes")
    parser.add_argument("--settings", action="store_true",
                        help="only settings.png: the Settings dialog with two presets (no restoring, no main-window.png)")
    args = parser.parse_args()
    import qasync
    from PySide6.QtWidgets import QApplication

    from app import qt_compat

    qt_compat.install()
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    qasync.run(shoot(args))


if __name__ == "__main__":
    main()
