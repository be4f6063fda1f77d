"""Damaged photos for the decoder tests: valid files of every kind Hourglass reads (JPEG plain, progressive,
CMYK with a profile and turned by EXIF; PNG 8- and 16-bit, gray+alpha, palette; TIFF LZW, JPEG-compressed,
16-bit, float, CMYK, multi-page; WebP, HEIC, AVIF, BMP; DNG with a colour filter, linear or monochrome),
each spoiled in seeded random ways: bytes flipped anywhere, bytes flipped in the header, cut short, or
extreme numbers written into the header. Decoders are C libraries running in the app's own process: a
damaged file must give a clear error, never a crash or an internal error."""

from __future__ import annotations

import io
import random
import tempfile
from pathlib import Path

import cv2
import numpy as np
from cmyk_profile import cmyk_profile
from PIL import Image


def originals() -> dict[str, bytes]:
    """name → bytes of one valid small file of each kind."""
    import pillow_heif
    from test_imaging import fake_linear_dng

    pillow_heif.register_heif_opener()
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:60, 0:90]
    rgb = np.stack([x * 2, y * 3, (x + y) % 256], -1).astype(np.uint8)
    photo = Image.fromarray(rgb)

    def saved(img: Image.Image, **kw) -> bytes:
        buf = io.BytesIO()
        img.save(buf, **kw)
        return buf.getvalue()

    turned = Image.Exif()
    turned[0x0112] = 6
    pages = [Image.fromarray(np.roll(rgb, 7 * k, 1)) for k in range(3)]
    files = {
        "plain.jpg": saved(photo, format="JPEG", quality=90),
        "progressive.jpg": saved(photo, format="JPEG", progressive=True),
        "cmyk.jpg": saved(photo.convert("CMYK"), format="JPEG", icc_profile=cmyk_profile()),
        "turned.jpg": saved(photo, format="JPEG", exif=turned.tobytes()),
        "plain.png": saved(photo, format="PNG"),
        "deep.png": cv2.imencode(".png", (rgb.astype(np.uint16) * 257)[..., ::-1])[1].tobytes(),
        "gray_alpha.png": saved(photo.convert("LA"), format="PNG"),
        "palette.png": saved(photo.convert("P"), format="PNG", transparency=3),
        "lzw.tif": saved(photo, format="TIFF", compression="tiff_lzw"),
        "jpeg.tif": saved(photo, format="TIFF", compression="jpeg"),
        "deep.tif": cv2.imencode(".tif", (rgb.astype(np.uint16) * 257)[..., ::-1])[1].tobytes(),
        "float.tif": cv2.imencode(".tif", (rgb.astype(np.float32) / 255)[..., ::-1])[1].tobytes(),
        "cmyk.tif": saved(photo.convert("CMYK"), format="TIFF"),
        "pages.tif": saved(pages[0], format="TIFF", save_all=True, append_images=pages[1:]),
        "plain.webp": saved(photo, format="WEBP"),
        "plain.heic": saved(photo, format="HEIF"),
        "plain.avif": saved(photo, format="AVIF"),
        "plain.bmp": saved(photo, format="BMP"),
    }
    sensor = rng.integers(0, 60000, (60, 90, 3)).astype(np.uint16)
    with tempfile.TemporaryDirectory() as scratch:
        for kind in ("bayer", "linear", "mono"):
            path = Path(scratch) / f"{kind}.dng"
            fake_linear_dng(path, sensor, bayer=kind == "bayer", mono=kind == "mono")
            files[f"{kind}.dng"] = path.read_bytes()
    return files


def spoil(data: bytes, how: int, rnd: random.Random) -> bytes:
    """One of four ways to damage a file (see the module's docstring)."""
    d = bytearray(data)
    if how == 0:
        for _ in range(rnd.randint(1, 30)):
            d[rnd.randrange(len(d))] = rnd.randrange(256)
    elif how == 1:
        d = d[:rnd.randrange(8, len(d))]
    elif how == 2:
        for _ in range(4):
            d[rnd.randrange(min(400, len(d)))] = rnd.randrange(256)
    else:
        for _ in range(2):
            at = rnd.randrange(min(300, len(d) - 4))
            d[at:at + 4] = rnd.choice([b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\0\0\0\0", b"\0\1\0\0"])
    return bytes(d)


def write_damaged(folder: Path, per_kind: int, seed: int = 0) -> list[Path]:
    """`per_kind` damaged copies of each original in `folder`; the same files for the same seed."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in originals().items():
        stem, ext = name.rsplit(".", 1)
        for k in range(per_kind):
            path = folder / f"{stem}_{k:03d}.{ext}"
            path.write_bytes(spoil(data, k % 4, rnd))
            written.append(path)
    return written
