"""The window as the user left it: its geometry (size, position, maximised), the split between the queue
and the comparison, and the queue's column widths, in `<data folder>/window.json`.

UI state, not settings: losing it costs nothing, so a missing or damaged file (or one from another Qt) is
ignored and the window opens at its default layout.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray

from app.paths import data_dir, write_atomic

log = logging.getLogger("app.window_state")

VERSION = 1


def default_path() -> Path:
    return data_dir() / "window.json"


def _parts(window) -> dict:
    """Name → (save, restore) of each piece of state: Qt's own opaque blobs."""
    header = window.table.horizontalHeader()
    return {"geometry": (window.saveGeometry, window.restoreGeometry),
            "split": (window.split.saveState, window.split.restoreState),
            "columns": (header.saveState, header.restoreState)}


def save(window, path: Path | None = None) -> None:
    data = {"version": VERSION}
    for name, (get, _set) in _parts(window).items():
        data[name] = base64.b64encode(bytes(get().data())).decode("ascii")
    try:
        write_atomic(path or default_path(), json.dumps(data).encode("utf-8"))
    except OSError as exc:
        log.warning("could not keep the window layout: %s", exc)


def restore(window, path: Path | None = None) -> bool:
    """Apply the saved layout to `window` (before it is shown); False if there was none to apply."""
    try:
        data = json.loads((path or default_path()).read_text("utf-8"))
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return False
    except (OSError, ValueError):
        return False
    applied = False
    for name, (_get, put) in _parts(window).items():
        try:
            blob = base64.b64decode(data[name], validate=True)
        except (KeyError, TypeError, ValueError):
            continue
        applied = bool(put(QByteArray(blob))) or applied
    return applied
