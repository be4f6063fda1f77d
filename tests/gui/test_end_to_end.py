"""The real window with the real engine subprocess and a tiny random-weight model: three photos and a
corrupt file are dropped, Start restores the photos and the corrupt file fails alone."""

from __future__ import annotations

import asyncio

import pytest
from gui_helpers import make_photo
from PIL import Image
from test_main_window import drop

from app.queue_model import ItemState

pytestmark = pytest.mark.integration


def test_drop_three_photos_and_a_corrupt_file_then_start(qtbot, aloop, tmp_path, tiny_model_path):
    from app.client import ClientConfig, EngineClient
    from app.queue_model import BatchQueue, default_queue_path
    from app.runner import BatchRunner
    from app.settings import Settings
    from app.widgets.main_window import MainWindow

    folder = tmp_path / "shoot"
    photos = [make_photo(folder / f"p{i}.png", size=(48, 48), colour=(30 * i, 60, 90)) for i in range(3)]
    corrupt = folder / "broken.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")

    settings = Settings(model=str(tiny_model_path), quality="fast", threads=1)
    queue = BatchQueue(default_queue_path())
    runner = BatchRunner(queue, settings, EngineClient(ClientConfig()))
    window = MainWindow(runner)
    qtbot.addWidget(window)
    window.show()
    runner.start_engine()
    try:
        drop(window, [*photos, corrupt])
        qtbot.waitUntil(lambda: len(queue) == 4, timeout=10_000)
        qtbot.waitUntil(window.start_action.isEnabled, timeout=5_000)
        window.start_action.trigger()
        qtbot.waitUntil(lambda: all(i.state in (ItemState.DONE, ItemState.FAILED) for i in queue)
                        and not runner.running, timeout=60_000)
        by_name = {i.name: i for i in queue}
        assert by_name["broken.jpg"].state is ItemState.FAILED
        assert by_name["broken.jpg"].error_code == "input_unreadable", by_name["broken.jpg"].error_message
        assert by_name["broken.jpg"].error_message
        for photo in photos:
            item = by_name[photo.name]
            assert item.state is ItemState.DONE, item.error_message
            assert item.output_path == str(folder / "restored" / photo.name)
            with Image.open(item.output_path) as out:
                out.load()
                assert out.size == (48, 48)
        assert "3 restored" in window.status_label.text() and "1 failed" in window.status_label.text()
    finally:
        done = asyncio.ensure_future(runner.shutdown())
        qtbot.waitUntil(done.done, timeout=15_000)
        assert runner.engine.state.value == "stopped"
