"""Where the app keeps its files: user data (queue, settings), resources, preview scratch space.

`HOURGLASS_DATA_DIR` overrides the user data folder (tests, portable installs).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

APP_NAME = "Hourglass"


def data_dir() -> Path:
    override = os.environ.get("HOURGLASS_DATA_DIR")
    if override:
        path = Path(override)
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir(APP_NAME, appauthor=False))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, a read-only or full home: the app still opens (its writers
        _warn_once(f"the user data folder {path} cannot be created ({exc.strerror or exc}); the queue, "
                   "settings and log are not kept this time")  # say so when they fail to save)
    return path


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        logging.getLogger("app.paths").warning(message)


def resources_dir() -> Path:
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def icon_path() -> Path:
    return resources_dir() / "icons" / "hourglass.png"


def sample_photos() -> Path:
    """A writable copy of the bundled sample photos (`<data folder>/Samples`), so that their results can be
    saved beside them: the installed resources are read-only. Photos already there are left as they are."""
    folder = data_dir() / "Samples"
    folder.mkdir(parents=True, exist_ok=True)
    for src in sorted((resources_dir() / "samples").glob("*")):
        if src.suffix.lower() in (".jpg", ".jpeg", ".png") and not (folder / src.name).exists():
            shutil.copy2(src, folder / src.name)
    return folder


def preview_dir() -> Path:
    """A per-process scratch folder for preview crops, removed when the process exits."""
    path = Path(tempfile.gettempdir()) / f"hourglass-preview-{os.getpid()}"
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def keep_aside(path: Path) -> Path:
    """Move a file the app cannot read (its saved queue or settings) to `<name>.unreadable`, numbered when
    one is there already, so the next save does not write over what may still be mended by hand; returns
    where it is now (`path` itself when it cannot be moved)."""
    from engine.filetypes import numbered_name

    kept = numbered_name(path.with_name(path.name + ".unreadable"), Path.exists)
    try:
        path.replace(kept)
    except OSError:
        return path
    return kept


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, lambda tmp: Path(tmp).write_bytes(data))


def replace_atomically(path: Path, fill: Callable[[str], None]) -> None:
    """`fill` writes a temporary file beside `path`, which is then renamed over `path` in one step: a full
    disk or a crash leaves `path` as it was, never half written, and no temporary file behind."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        fill(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
