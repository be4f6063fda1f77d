"""The app's log file: what the window and the engine said, kept for a bug report.

A double-clicked app has no terminal, so its log lines (and the engine's, which the client reads from
the engine's stderr) would be lost. `install_file_log` adds a rotating file in the user data folder
(`logs/hourglass.log`, 1 MiB × 4 at most) at INFO; the console keeps the `--log-level` the user chose.
The error dialog opens the folder.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_NAME = "hourglass.log"
MAX_BYTES = 1 << 20
BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_dir() -> Path:
    from app.paths import data_dir

    return data_dir() / "logs"


def install_file_log(console_level: int = logging.WARNING) -> Path | None:
    """Log INFO and above to the file, `console_level` and above to stderr; returns the file (None when it
    cannot be opened: a read-only data folder must not stop the app)."""
    root = logging.getLogger()
    root.setLevel(min(logging.INFO, console_level))
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            handler.setLevel(console_level)
    path = log_dir() / LOG_NAME
    if any(isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path for h in root.handlers):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                       encoding="utf-8")
    except OSError as exc:
        logging.getLogger("app").warning("no log file (%s): %s", path, exc)
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    return path
