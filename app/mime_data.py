"""What a drop or the clipboard (Ctrl+V) carries: local files and folders (by URL, or as lines of text), and
images that have no file (copied in another app, dragged from a browser), kept as PNGs to be queued like any
photo."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QImage

from engine.filetypes import numbered_name


def mime_local_paths(mime) -> list[str]:
    """The local files and folders named by URL mime data (a drop, or a file manager's copy)."""
    if mime is None or not mime.hasUrls():
        return []
    return [p for p in (_local_path(u) for u in mime.urls() if u.isLocalFile()) if p]


def _local_path(url: QUrl) -> str:
    """The URL's file path; a POSIX name that is not UTF-8 (Qt decodes it with U+FFFD, naming no file) is
    taken from the URL's percent-encoded bytes instead."""
    path = url.toLocalFile()
    if "\ufffd" in path and os.name == "posix":
        path = os.fsdecode(urllib.parse.unquote_to_bytes(url.path(QUrl.ComponentFormattingOption.FullyEncoded)))
    return path


def clipboard_paths(mime) -> list[str]:
    """Local files or folders from clipboard data: URLs (a file manager's copy) or lines of text that name
    existing paths; anything else (an image, other text) gives nothing."""
    if mime is None:
        return []
    if mime.hasUrls():
        return mime_local_paths(mime)
    if mime.hasText():
        lines = [line.strip().strip('"') for line in mime.text().splitlines() if line.strip()]
        return [line for line in lines if os.path.exists(line)]
    return []


def save_pasted_image(image: QImage, prefix: str = "pasted") -> Path | None:
    """Keep a pasted (or dropped) image as a lossless PNG in `<data folder>/Pasted/` (a new name each time),
    so it can be queued like any photo; None for an empty image, OSError when it cannot be written there."""
    if image.isNull():
        return None
    from datetime import datetime

    from app.paths import data_dir

    folder = data_dir() / "Pasted"
    folder.mkdir(parents=True, exist_ok=True)
    path = numbered_name(folder / f"{prefix}-{datetime.now():%Y%m%d-%H%M%S}.png", Path.exists)  # as results are
    if not image.save(str(path), "PNG"):
        raise OSError(f"{path.name} could not be written in {folder}")
    return path


def files_for_clipboard(paths: list[str]) -> QMimeData:
    """Files to paste in a file manager (URLs, which Windows' Explorer and the Finder take; GNOME's Files also
    wants its own list, marked as a copy) or in a text field (their paths, a line each)."""
    mime = QMimeData()
    urls = [QUrl.fromLocalFile(p) for p in paths]
    mime.setUrls(urls)
    mime.setData("x-special/gnome-copied-files", b"\n".join([b"copy", *(bytes(u.toEncoded()) for u in urls)]))
    mime.setText("\n".join(paths))
    return mime
