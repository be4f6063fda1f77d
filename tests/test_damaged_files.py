"""Damaged photos of every kind (tests/damaged_files.py) through every decoder: the engine's (restore and
detection reads) must answer each with one of its own errors, and the app's (view, thumbnail, preview crop)
must not crash; they run in the window's process. HOURGLASS_FUZZ_PER_KIND sets how many of each kind
(default 12: 252 files; the fuzz runs that found the bugs these guard against used up to 60)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from damaged_files import write_damaged, write_odd_exif

from engine.errors import HourglassError
from engine.imaging import photo_size, read_image, read_location, read_provenance, write_image

PER_KIND = int(os.environ.get("HOURGLASS_FUZZ_PER_KIND", "12"))


@pytest.fixture(scope="module")
def damaged(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("damaged")
    return write_damaged(folder, PER_KIND, seed=2026) + write_odd_exif(folder / "exif", 4 * PER_KIND, seed=2026)


def test_the_engine_answers_every_damaged_file_with_its_own_error(damaged, tmp_path):
    """A file that can be read is also written back with its metadata, as a TIFF (its EXIF directories
    rewritten) and an AVIF (Pillow reads the EXIF again). Nor do Pillow's notes on the damaged metadata it
    skips ("Corrupt EXIF data") reach the terminal, between the command line's progress lines. Reading the
    size the analysis tells from the header (for the batch's time left) survives each file too; a damaged
    header may tell another size than the pixels have (a HEIC's, once in 3,720 files of other seeds), which
    only moves an estimate."""
    internal, read = [], 0
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        for path in damaged:
            read_location(path)  # (`hourglass info`, and the search for earlier results: any damage reads as
            read_provenance(path)  # no location or record, or as one, without a word on the terminal)
            size = photo_size(path)
            if size is not None and not (len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
                internal.append(f"{path.name}: photo_size gave {size!r}")
            for at_least in (None, 256):  # a restore's read, and the detector's smaller one
                try:
                    img = read_image(path, at_least)
                    read += 1
                    if at_least is None:
                        for ext in (".tif", ".avif"):
                            write_image(tmp_path / f"{path.stem}{ext}", img.rgb, img, overwrite=True)
                        shared = write_image(tmp_path / f"{path.stem}.jpg", img.rgb, img, overwrite=True,
                                             location=False)  # its damaged GPS directory left out
                        if read_location(shared) is not None:
                            internal.append(f"{path.name}: a location left in {shared.name}")
                except HourglassError:
                    pass
                except Exception as exc:  # noqa: BLE001 - what this test looks for
                    internal.append(f"{path.name}: {type(exc).__name__}: {exc}")
    assert not internal, "\n".join(internal)
    assert 0 < read < 2 * len(damaged)  # (some damage leaves a file readable; most does not)
    assert not [str(w.message) for w in warned if issubclass(w.category, UserWarning)]


def test_the_windows_decoders_survive_every_damaged_file(damaged, tmp_path):
    code = ("import sys\n"
            "from PySide6.QtWidgets import QApplication\n"
            "app = QApplication([])\n"
            "from app.images import read_image, for_display, _read_thumbnail\n"
            "from app.preview import crop_to_png\n"
            "shown = 0\n"
            "for path in sys.argv[1:]:\n"
            "    image = for_display(read_image(path))\n"
            "    _read_thumbnail(path, 64)\n"
            "    if not image.isNull():\n"
            "        shown += 1\n"
            "        try:\n"
            f"            crop_to_png(path, (0, 0, 40, 30), {str(tmp_path / 'crop.png')!r})\n"
            "        except OSError:\n"
            "            pass\n"
            "print(shown)\n")
    r = subprocess.run([sys.executable, "-c", code, *map(str, damaged)], capture_output=True, text=True,
                       timeout=280, check=False, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, f"the window's decoders died ({r.returncode}): {r.stderr[-800:]}"
    assert 0 < int(r.stdout.split()[-1]) < len(damaged)
