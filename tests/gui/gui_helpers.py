"""Small helpers shared by the GUI tests."""

from __future__ import annotations


def make_photo(path, size=(16, 12), colour=(120, 80, 40)):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path
