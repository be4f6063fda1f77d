"""Damaged photos for the decoder tests: valid files of every kind Hourglass reads (JPEG plain, progressive,
CMYK with a profile, turned by EXIF and marked Adobe RGB by it; PNG 8- and 16-bit, HDR (HLG), gray+alpha,
palette; TIFF LZW, JPEG-compressed, 16-bit, float, linear-light, CMYK, multi-page; WebP, HEIC (8-bit; 10-bit
HDR), AVIF, BMP; DNG with a colour filter, linear or monochrome), each spoiled in seeded random ways: bytes
flipped anywhere, bytes flipped in the header, cut short, or extreme numbers written into the header.
Decoders are C libraries running in the app's own process: a damaged file must give a clear error, never a
crash or an internal error. Also intact JPEGs whose EXIF is made of random entries (any type, any count,
sub-directories pointing back at the first: loops), which the engine must read and write back."""

from __future__ import annotations

import io
import random
import struct
import tempfile
from pathlib import Path

import cv2
import numpy as np
from cmyk_profile import cmyk_profile
from PIL import Image


def _png_info(**chunks: bytes):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for kind, body in chunks.items():
        info.add(kind.encode(), body)
    return info


def originals() -> dict[str, bytes]:
    """name → bytes of one valid small file of each kind."""
    import pillow_heif
    from test_cicp import adobe_exif, png_with_codes

    from engine.icc_profiles import gamma_curve_tag, gray_trc_profile, matrix_trc_profile, rgb_to_d50_xyz

    linear_profile = matrix_trc_profile([[0.4361, 0.3851, 0.1431], [0.2225, 0.7169, 0.0606],
                                         [0.0139, 0.0971, 0.7141]], "linear sRGB", b"curv" + bytes(8))
    prophoto = matrix_trc_profile(rgb_to_d50_xyz((0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001),
                                                 (0.3457, 0.3585)), "ProPhoto-like", gamma_curve_tag(1.8))
    gray_gamma = gray_trc_profile(gamma_curve_tag(2.2), "Gray Gamma 2.2")
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
        "hdr.png": png_with_codes(cv2.imencode(".png", (rgb.astype(np.uint16) * 257)[..., ::-1])[1].tobytes(), 9, 18),
        "gray_alpha.png": saved(photo.convert("LA"), format="PNG"),
        "gamma.png": saved(photo, format="PNG", pnginfo=_png_info(  # (gAMA 1/1.8 and Adobe RGB's cHRM)
            gAMA=(55556).to_bytes(4, "big"),
            cHRM=b"".join(round(v * 1e5).to_bytes(4, "big") for v in (.3127, .329, .64, .33, .21, .71, .15, .06)))),
        "palette.png": saved(photo.convert("P"), format="PNG", transparency=3),
        "lzw.tif": saved(photo, format="TIFF", compression="tiff_lzw"),
        "jpeg.tif": saved(photo, format="TIFF", compression="jpeg"),
        "deep.tif": cv2.imencode(".tif", (rgb.astype(np.uint16) * 257)[..., ::-1])[1].tobytes(),
        "linear.tif": saved(photo, format="TIFF", icc_profile=linear_profile),  # re-encoded when read
        "adobe.jpg": saved(photo, format="JPEG", exif=adobe_exif(0xFFFF)),  # Adobe RGB, said in its EXIF
        "prophoto.tif": saved(photo, format="TIFF", icc_profile=prophoto),  # restored in sRGB numbers
        "graygamma.jpg": saved(photo.convert("L"), format="JPEG", icc_profile=gray_gamma),  # so is this one
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
        import pillow_heif

        hdr = pillow_heif.from_bytes(mode="RGB;16", size=photo.size, data=(rgb.astype(np.uint16) << 8).tobytes())
        hdr.save(Path(scratch) / "hdr.heic", color_primaries=9, transfer_characteristics=16, matrix_coefficients=9)
        files["hdr.heic"] = (Path(scratch) / "hdr.heic").read_bytes()  # 10 bits, BT.2020 and PQ: the codes read
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


_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_SOME_TAGS = [0x010E, 0x010F, 0x0110, 0x0112, 0x011A, 0x0128, 0x0131, 0x0132, 0x013B, 0x8298, 0x9003, 0x920A,
              0xA434, 0x9286, 0x927C, 0x0213, 0x9C9B, 0xEA1C, 0x0000, 0xFFFF, 0x02BC, 0x83BB]


def tiff_directory(entries: list[tuple[int, int, int, bytes]], at: int) -> bytes:
    """A little-endian TIFF directory placed at offset `at`, its values after it: (tag, type, count, value
    bytes) entries, written in tag order as given, whatever their type says."""
    data_at, head, data = at + 2 + 12 * len(entries) + 4, struct.pack("<H", len(entries)), b""
    for tag, kind, count, payload in sorted(entries):
        if len(payload) <= 4:
            head += struct.pack("<HHI", tag, kind, count) + payload.ljust(4, b"\0")
        else:
            head += struct.pack("<HHII", tag, kind, count, data_at + len(data))
            data += payload + b"\0" * (len(payload) % 2)
    return head + b"\0\0\0\0" + data


def _random_entry(rnd: random.Random, tag: int | None = None) -> tuple[int, int, int, bytes]:
    kind = rnd.choice(list(_TYPE_SIZES))
    count = rnd.choice([0, 1, 2, 3, 7, 40, 70000, 2**31])
    payload = bytes(rnd.randrange(256) for _ in range(_TYPE_SIZES[kind] * min(count, 64)))
    return (tag or rnd.choice(_SOME_TAGS), kind, count, payload)


def write_odd_exif(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """`count` intact JPEGs whose EXIF is random entries (see the module's docstring)."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    photo = Image.fromarray(np.full((24, 32, 3), 120, np.uint8))
    written = []
    for k in range(count):
        entries = [_random_entry(rnd) for _ in range(rnd.randrange(1, 8))]
        sub_at = 2200
        mode = rnd.randrange(4)  # no sub-directory; Exif and GPS pointing at the first (a loop), at nothing, at one
        if mode:
            entries += [(tag, 4, 1, struct.pack("<I", {1: 8, 2: 0xFFFFFF, 3: sub_at}[mode])) for tag in (0x8769, 0x8825)]
        block = (b"II*\0" + struct.pack("<I", 8) + tiff_directory(entries, 8)).ljust(sub_at, b"\0")
        if mode == 3:
            sub = [_random_entry(rnd, rnd.choice([0x9003, 0x927C, 0x9286, 0xA434])) for _ in range(3)]
            block += tiff_directory([*sub, (0xA005, 4, 1, struct.pack("<I", 8))], sub_at)  # Interop back at the first
        path = folder / f"exif_{k:03d}.jpg"
        photo.save(path, exif=b"Exif\0\0" + block, quality=90)
        written.append(path)
    return written
