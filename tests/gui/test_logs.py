"""The app's log file (app.logs) and the error dialog's way to it."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import pytest


@pytest.fixture
def clean_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for h in root.handlers[:]:
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def test_the_log_file_keeps_info_lines_in_one_rotating_file(tmp_path, monkeypatch, clean_root_logger):
    from app import logs

    monkeypatch.setenv("HOURGLASS_DATA_DIR", str(tmp_path))
    path = logs.install_file_log(logging.WARNING)
    assert path == tmp_path / "logs" / "hourglass.log"
    assert logs.install_file_log(logging.WARNING) == path  # a second call adds no second handler
    files = [h for h in clean_root_logger.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]
    assert len(files) == 1 and files[0].maxBytes == logs.MAX_BYTES and files[0].backupCount == logs.BACKUPS
    logging.getLogger("app.client.engine").info("[42] engine says hello")
    logging.getLogger("app").debug("too chatty for the file")
    files[0].flush()
    text = path.read_text("utf-8")
    assert "INFO app.client.engine: [42] engine says hello" in text and "too chatty" not in text


def test_an_unwritable_data_folder_means_no_log_file_not_a_crash(tmp_path, monkeypatch, clean_root_logger):
    from app import logs

    blocker = tmp_path / "data"
    blocker.mkdir()
    (blocker / "logs").write_text("a file where the folder should be")
    monkeypatch.setenv("HOURGLASS_DATA_DIR", str(blocker))
    assert logs.install_file_log() is None


def test_the_error_dialog_opens_the_log_folder(qtbot, tmp_path, monkeypatch):
    from app.widgets.error_dialog import ErrorDialog

    monkeypatch.setenv("HOURGLASS_DATA_DIR", str(tmp_path))
    opened = []
    monkeypatch.setattr("app.widgets.error_dialog.QDesktopServices.openUrl", lambda url: opened.append(url))
    dialog = ErrorDialog("The engine stopped", "It exited.", "details")
    qtbot.addWidget(dialog)
    dialog.open_logs.click()
    assert [Path(u.toLocalFile()) for u in opened] == [tmp_path / "logs"] and (tmp_path / "logs").is_dir()
