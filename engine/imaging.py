"""Image I/O: decode photos to float RGB in [0, 1] and write results back without losing metadata.

Everything a photographer cares about travels with the pixels: EXIF (orientation applied once, then reset
to 1), ICC profile, DPI and XMP. Pillow decodes 8-bit formats and reads all metadata; OpenCV decodes and
encodes 16-bit data (Pillow cannot hold 16-bit RGB) and encodes PNG/TIFF, whose metadata we then add
ourselves (PNG chunks, a rewritten TIFF directory). Writes are atomic and never replace an existing file
or the original photo unless asked. No torch here: the worker imports this module before any model.
"""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import struct
import warnings
import zlib
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, TiffImagePlugin, TiffTags, UnidentifiedImageError

from .errors import (
    HourglassError,
    ImageTooLargeError,
    InputNotFoundError,
    InputUnreadableError,
    OutputExistsError,
    OutputNotWritableError,
    UnsupportedInputError,
)
from .filetypes import AVIF_BRANDS, RAW_EXTENSIONS, is_photo, iso_media_brand

log = logging.getLogger(__name__)
# OpenCV prints its decoders' warnings about odd but readable files ("TIFF_Warning ... ExtraSamples") on
# stderr, between the CLI's progress lines; what it cannot read still fails with our own message.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

MAX_PIXELS: int = 200_000_000
# Pillow warns above this and refuses above twice this; read_image turns both into ImageTooLargeError.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_PIL_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "TIFF": "TIFF", "WEBP": "WEBP", "BMP": "BMP",
                "HEIF": "HEIF", "AVIF": "AVIF"}
_FORMAT_ALIASES = {"JPG": "JPEG", "JPEG": "JPEG", "JPE": "JPEG", "JFIF": "JPEG", "PNG": "PNG", "TIF": "TIFF",
                   "TIFF": "TIFF", "WEBP": "WEBP", "BMP": "BMP", "HEIC": "HEIF", "HEIF": "HEIF", "AVIF": "AVIF"}
_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp", "BMP": ".bmp", "HEIF": ".heic",
               "AVIF": ".avif"}
_SIXTEEN_BIT_FORMATS = frozenset({"PNG", "TIFF"})
_ALPHA_FORMATS = frozenset({"PNG", "TIFF", "WEBP", "HEIF", "AVIF"})
_GRAY_FORMATS = frozenset({"JPEG", "PNG", "TIFF", "BMP"})  # those that store one gray channel (here, without alpha)
LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601, as Pillow's "L" conversion
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_ORIENTATION = 0x0112
# TIFF tags that describe a file's layout (or carry ICC/XMP/IPTC we handle separately): never copied as EXIF.
_LAYOUT_TAGS = frozenset({254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 284,
                          317, 320, 322, 323, 324, 325, 330, 338, 339, 340, 341, 347, 513, 514, 530, 531,
                          532, 700, 33723, 34377, 34675})
# Descriptive IFD0 tags of the EXIF standard, plus the Exif and GPS sub-directories.
_TIFF_EXIF_TAGS = frozenset({270, 271, 272, 274, 282, 283, 296, 305, 306, 315, 33432, 0x8769, 0x8825})
_heif_registered = False
_JPEG_SEGMENT = 65533  # the most one JPEG marker segment holds, less its length field


@dataclass
class ImageData:
    """A decoded photo: upright float pixels plus the metadata to carry into the restored file."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    bit_depth: int
    format: str
    exif: bytes | None
    icc_profile: bytes | None
    dpi: tuple[float, float] | None
    xmp: bytes | None
    path: Path | None
    frames: int = 1  # frames or pages in the file (animated WebP, multi-page TIFF); only the first is read
    grayscale: bool = False  # a gray (black-and-white) file: `rgb` holds three equal channels, written back gray
    iptc: bytes | None = None  # IPTC-IIM records (caption, keywords, credit), kept in JPEG and TIFF results
    text: dict[str, str] | None = None  # a PNG's text chunks (Title, Author, Copyright ...), kept in PNG results


def to_uint8(rgb) -> np.ndarray:
    """floor(clip(x, 0, 1) * 255 + 0.5); NaN becomes 0."""
    return _quantize(rgb, 255, np.uint8)


def to_uint16(rgb) -> np.ndarray:
    """floor(clip(x, 0, 1) * 65535 + 0.5); NaN becomes 0."""
    return _quantize(rgb, 65535, np.uint16)


def _quantize(x, scale: int, dtype) -> np.ndarray:
    """Exact float64 rounding, done in slices so a 200 MP image never needs a float64 copy."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"expected float pixels in [0, 1], got {x.dtype}")
    flat = x.reshape(1, -1) if x.ndim == 0 else x
    out = np.empty(flat.shape, dtype)
    step = max(1, (1 << 22) // max(1, flat[0].size))
    for i in range(0, len(flat), step):
        part = np.clip(flat[i:i + step].astype(np.float64), 0.0, 1.0)
        np.nan_to_num(part, copy=False)
        part *= scale
        part += 0.5
        out[i:i + step] = np.floor(part, out=part)
    return out.reshape(x.shape)


# ----------------------------------------------------------------------------------------------- reading

def read_image(path, at_least: int | None = None) -> ImageData:
    """Decode any supported photo to upright float RGB with its metadata, or raise a user-facing error.

    `at_least`: for looking at a photo small, never for restoring it: the decoded pixels are shrunk by a whole
    factor (box average) while still integers, keeping at least that many pixels a side, so a 100 MP photo
    never needs its full float copy. (RAW files have their own half-size path: `read_small`.)"""
    path = Path(path)
    head = _read_head(path)
    if path.suffix.lower() in RAW_EXTENSIONS:
        return _read_raw(path)
    brand = iso_media_brand(head)
    if brand is not None and brand not in AVIF_BRANDS or path.suffix.lower() in (".heic", ".heif"):
        _register_heif()  # (Pillow reads AVIF itself)
    with _decode_errors(path), warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            fmt = _PIL_FORMATS.get(img.format or "")
            if fmt is None:
                raise UnsupportedInputError(
                    f'"{path.name}" is an image in {img.format} format, which Hourglass cannot open. '
                    "Convert it to JPEG, PNG or TIFF first.")
            _check_size(path, *img.size)
            pixels = _cv2_pixels(path, at_least) if _is_high_bit_depth(img, head) else None
            if pixels is None:
                img.load()  # decode now, so damaged data fails here and not in the middle of a job
                pixels = _pillow_pixels(_reduced(img, at_least) if at_least else img)
            exif, orientation = _read_exif(img)
            gray = _is_gray(img)
            icc, dpi, xmp, iptc = _read_icc(img, gray), _read_dpi(img), _read_xmp(img), _read_iptc(img, path)
            text = _read_png_text(img)
            # MPO JPEGs carry camera previews and HEIF auxiliary images as extra frames: not the user's content
            frames = int(getattr(img, "n_frames", 1) or 1) if fmt in ("PNG", "TIFF", "WEBP", "AVIF") else 1
    rgb, alpha, depth = pixels
    if orientation != 1:
        rgb, alpha = _orient(rgb, orientation), _orient(alpha, orientation)
        xmp = _reset_xmp_orientation(xmp)
    return ImageData(rgb, alpha, depth, fmt, exif, icc, dpi, xmp, path, frames, gray, iptc, text)


def read_small(path, at_least: int, decoded: np.ndarray | None = None) -> np.ndarray:
    """Upright float RGB of a photo for looking at it small (the detector's ≤384 px working copy): a JPEG is
    decoded at a reduced scale by the decoder itself (DCT scaling: 1/2 to 1/8 of the side, never below
    `at_least` pixels on either side), which for a 24 MP photo costs a tenth of a full decode, and a camera
    RAW is developed at half size when that keeps `at_least` pixels a side; any other photo is decoded in
    full and shrunk by a whole factor before its float copy is made (`read_image(at_least=)`), or, when its
    pixels are at hand already (`decoded`), those are shrunk the same way: restoring with auto-detection
    sees what `hourglass detect` and the app's analysis see."""
    path = Path(path)
    if path.suffix.lower() in RAW_EXTENSIONS:
        return _develop_raw(path, at_least, full=decoded)
    if _read_head(path).startswith(b"\xff\xd8\xff"):  # a JPEG, whatever its name says
        with _decode_errors(path), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.format in ("JPEG", "MPO") and img.mode in ("RGB", "L"):  # (CMYK: through its profile)
                    _check_size(path, *img.size)
                    img.draft(img.mode, (at_least, at_least))
                    rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
                    _exif, orientation = _read_exif(img)
                    return _orient(rgb, orientation) if orientation != 1 else rgb
    return _shrunk(decoded, at_least) if decoded is not None else read_image(path, at_least).rgb


def _shrink_factor(width: int, height: int, at_least: int) -> int:
    """The largest whole factor that keeps both sides at least `at_least` pixels (1: leave as is)."""
    return max(1, min(width, height) // max(1, at_least))


def _shrunk(arr: np.ndarray, at_least: int | None) -> np.ndarray:
    """`arr` (H×W or H×W×C) box-averaged by `_shrink_factor`, partial blocks kept (as Pillow's `reduce`)."""
    factor = _shrink_factor(arr.shape[1], arr.shape[0], at_least) if at_least else 1
    if factor == 1:
        return arr
    size = (-(-arr.shape[1] // factor), -(-arr.shape[0] // factor))
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA)


_REDUCIBLE_MODES = frozenset({"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "I", "F"})  # (not palettes: indices)


def _reduced(img: Image.Image, at_least: int) -> Image.Image:
    factor = _shrink_factor(*img.size, at_least)
    return img.reduce(factor) if factor > 1 and img.mode in _REDUCIBLE_MODES else img


_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})


def _is_gray(img: Image.Image) -> bool:
    """A black-and-white file (gray pixels, or a palette of grays): its result is written gray too."""
    if img.mode in _GRAY_MODES:
        return True
    if img.mode in ("P", "PA"):
        palette = np.array(img.getpalette("RGB") or [], np.int64).reshape(-1, 3)
        return bool(len(palette)) and bool((palette == palette[:, :1]).all())
    return False


def _read_head(path: Path) -> bytes:
    """Turn 'missing / folder / no permission / empty' into clear errors before any decoder runs."""
    try:
        with open(path, "rb") as f:
            head = f.read(32)
    except FileNotFoundError:
        raise InputNotFoundError(f'The file "{path.name}" does not exist in {path.parent} '
                                 "(was it moved, renamed or deleted?).") from None
    except (IsADirectoryError, PermissionError) as e:
        if path.is_dir():
            raise InputUnreadableError(f'"{path.name}" is a folder, not an image file.') from None
        raise InputUnreadableError(f'Hourglass is not allowed to read "{path.name}"; check the '
                                   "file's permissions.", detail=str(e)) from None
    except OSError as e:
        raise InputUnreadableError(f'"{path.name}" could not be read: {e.strerror or e}.') from None
    if not head:
        raise InputUnreadableError(f'"{path.name}" is empty (0 bytes); it may not have been copied '
                                   "completely.")
    return head


@contextmanager
def _decode_errors(path: Path):
    """Map the many ways decoders fail onto the engine's error classes."""
    name = f'"{path.name}"'
    try:
        yield
    except HourglassError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageTooLargeError(f"{name} has too many pixels; Hourglass opens images up to "
                                 f"{MAX_PIXELS // 1_000_000} megapixels.", detail=str(e)) from None
    except UnidentifiedImageError as e:
        if is_photo(path):
            raise InputUnreadableError(f"{name} is damaged or is not really a {path.suffix[1:].upper()} "
                                       "image.", detail=str(e)) from None
        raise UnsupportedInputError(f"{name} is not an image Hourglass can open. Supported: JPEG, PNG, "
                                    "TIFF, WebP, BMP, HEIC, AVIF and camera RAW files.", detail=str(e)) from None
    except PermissionError as e:
        raise InputUnreadableError(f"Hourglass is not allowed to read {name}.", detail=str(e)) from None
    except FileNotFoundError:
        raise InputNotFoundError(f"The file {name} disappeared while it was being read.") from None
    except MemoryError:
        raise ImageTooLargeError(f"There is not enough memory to open {name}.") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error) as e:
        raise InputUnreadableError(f"{name} is damaged or incomplete and could not be decoded.",
                                   detail=str(e)) from None


def _check_size(path: Path, width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageTooLargeError(
            f'"{path.name}" is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels); Hourglass '
            f"opens images up to {MAX_PIXELS // 1_000_000} megapixels.")


def _register_heif() -> None:
    """pillow-heif is slow to import, so its Pillow plugin is registered only when a HEIF shows up."""
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def _is_high_bit_depth(img: Image.Image, head: bytes) -> bool:
    if img.format == "PNG":
        return head[24] == 16  # IHDR bit depth
    if img.format == "TIFF":
        bits = img.tag_v2.get(258, 8)
        return max(bits if isinstance(bits, tuple) else (bits,)) > 8
    return False


def _cv2_pixels(path: Path, at_least: int | None = None):
    """16-bit PNG/TIFF through OpenCV (Pillow would truncate them to 8 bits); None if it cannot.
    `at_least`: shrunk as `_reduced` does, before the float copy."""
    data = np.fromfile(path, dtype=np.uint8)  # imdecode, unlike imread, copes with any path on Windows
    if data[:2].tobytes() in (b"II", b"MM"):
        _clear_tiff_orientation(data)
    arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if arr is None or arr.ndim not in (2, 3) or arr.dtype not in (np.uint8, np.uint16, np.float32):
        return None
    arr = _shrunk(arr, at_least)
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(arr.dtype, 1.0)
    arr = arr.astype(np.float32)
    arr /= scale
    if arr.ndim == 2:
        arr = arr[..., None]
    channels = arr.shape[2]
    rgb = np.repeat(arr[..., :1], 3, axis=2) if channels < 3 else np.ascontiguousarray(arr[..., 2::-1])
    alpha = np.ascontiguousarray(arr[..., channels - 1]) if channels in (2, 4) else None
    if scale == 1.0:
        np.clip(rgb, 0, 1, out=rgb)
    return rgb, alpha, 16


def _clear_tiff_orientation(data: np.ndarray) -> None:
    """OpenCV's TIFF decoder applies the Orientation tag itself (a PNG's eXIf it ignores): set the tag
    to 1 in our copy of the bytes, so every path is rotated exactly once, by _orient."""
    found = _tiff_ifd0(lambda at, n: data[at:at + n].tobytes())
    if found is not None:
        e, entries = found
        for tag, kind, _count, at in entries:
            if (tag, kind) == (274, 3):
                struct.pack_into(e + "H", data, at + 8, 1)


def _tiff_ifd0(read) -> tuple[str, list[tuple[int, int, int, int]]] | None:
    """A classic TIFF's byte order and first directory, as (tag, type, count, offset of the 12-byte entry);
    `read(offset, size)` gives the file's bytes. None for anything else (BigTIFF, damaged)."""
    try:
        head = read(0, 8)
        e = {b"II": "<", b"MM": ">"}.get(head[:2])
        if e is None or struct.unpack_from(e + "H", head, 2)[0] != 42:
            return None
        (ifd,) = struct.unpack_from(e + "I", head, 4)
        (count,) = struct.unpack(e + "H", read(ifd, 2))
        raw = read(ifd + 2, 12 * count)
        return e, [(*struct.unpack_from(e + "HHI", raw, 12 * i), ifd + 2 + 12 * i) for i in range(count)]
    except struct.error:
        return None


def _pillow_pixels(img: Image.Image):
    if img.mode == "CMYK":
        img = _cmyk_to_rgb(img)
    if img.mode.startswith("I") or img.mode == "F":  # 16/32-bit grayscale
        gray = np.asarray(img).astype(np.float32)
        gray /= 1.0 if img.mode == "F" else 65535.0
        np.clip(gray, 0, 1, out=gray)
        return np.repeat(gray[..., None], 3, axis=2), None, 16
    has_alpha = img.mode in _ALPHA_MODES or "transparency" in img.info
    arr = np.asarray(img.convert("RGBA" if has_alpha else "RGB"))
    rgb = arr[..., :3].astype(np.float32)
    rgb /= 255.0
    alpha = arr[..., 3].astype(np.float32) / 255.0 if has_alpha else None
    return rgb, alpha, 8


def _cmyk_to_rgb(img: Image.Image) -> Image.Image:
    """Use the embedded CMYK profile when there is one; Pillow's plain conversion is only a fallback."""
    icc = img.info.get("icc_profile")
    if icc:
        try:
            from PIL import ImageCms

            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(img, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError) as e:  # a broken profile must not lose the photo
            log.warning("CMYK profile ignored: %s", e)
    return img.convert("RGB")


def _read_exif(img: Image.Image) -> tuple[bytes | None, int]:
    """EXIF bytes with Orientation reset to 1, and the orientation to apply to the pixels."""
    try:
        return _clean_exif(img.getexif(), tiff_file=img.format == "TIFF")
    except (OSError, ValueError, TypeError, KeyError, IndexError, SyntaxError, struct.error) as e:
        log.warning("EXIF ignored: %s", e)  # damaged EXIF loses the metadata, not the photo
        return None, 1


def _clean_exif(exif: Image.Exif, tiff_file: bool) -> tuple[bytes | None, int]:
    """A TIFF's (or TIFF-based RAW's) EXIF is its own first directory, full of layout and private tags
    that would corrupt another file: keep only the standard descriptive ones there."""
    orientation = exif.get(_ORIENTATION, 1)
    orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1
    for tag in set(exif) - _TIFF_EXIF_TAGS if tiff_file else _LAYOUT_TAGS.intersection(exif):
        del exif[tag]
    if _ORIENTATION in exif:
        exif[_ORIENTATION] = 1
    return (exif.tobytes() if len(exif) else None), orientation


def _read_icc(img: Image.Image, gray: bool) -> bytes | None:
    """The profile that still describes the pixels we write: RGB for colour photos, GRAY for gray ones
    (a CMYK profile was used up converting to RGB)."""
    icc = img.info.get("icc_profile")
    return icc if isinstance(icc, bytes) and icc[16:20] == (b"GRAY" if gray else b"RGB ") else None


def _read_dpi(img: Image.Image) -> tuple[float, float] | None:
    try:
        x, y = (float(v) for v in img.info["dpi"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (x > 0 and y > 0 and np.isfinite([x, y]).all()):
        return None
    # PNG stores pixels per metre: the 300 dpi the photographer set comes back as 299.9994
    return tuple(float(round(v)) if abs(v - round(v)) < 0.02 else round(v, 2) for v in (x, y))


def _read_xmp(img: Image.Image) -> bytes | None:
    xmp = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    return xmp if isinstance(xmp, bytes) and xmp else None


_IPTC_RESOURCE = 0x0404  # the IPTC-NAA record in a Photoshop image resource block
_IPTC_TAG, _PHOTOSHOP_TAG = 33723, 34377  # TIFF tags


def _read_iptc(img: Image.Image, path: Path) -> bytes | None:
    """IPTC-IIM (the captions, keywords and credits photo agencies and Lightroom write) from a JPEG's
    Photoshop APP13 block or a TIFF's IPTC tag (or the IPTC record of its Photoshop tag)."""
    data = None
    if img.format in ("JPEG", "MPO"):
        data = (img.info.get("photoshop") or {}).get(_IPTC_RESOURCE)
    elif img.format == "TIFF":
        # read from the file: Pillow keeps only the first number of a LONG-typed IPTC tag (as Photoshop
        # writes it), and gives the Photoshop block as a tuple
        tags = img.tag_v2
        data = _tiff_entry_bytes(path, _IPTC_TAG) if _IPTC_TAG in tags else None
        if not data and _PHOTOSHOP_TAG in tags:
            data = _photoshop_resources(_tiff_entry_bytes(path, _PHOTOSHOP_TAG) or b"").get(_IPTC_RESOURCE)
    if not isinstance(data, bytes) or not data.startswith(b"\x1c"):  # every IIM record starts with 0x1C
        return None
    return data


def _read_png_text(img: Image.Image) -> dict[str, str] | None:
    """A PNG's tEXt/zTXt/iTXt entries, but XMP (kept as such) and ImageMagick's "Raw profile type …"
    copies of EXIF or IPTC (Pillow reads the EXIF one; a stale copy must not travel)."""
    if img.format != "PNG":
        return None
    text = {str(k): str(v) for k, v in (getattr(img, "text", None) or {}).items()
            if k != "XML:com.adobe.xmp" and not str(k).startswith("Raw profile type")}
    return text or None


def _png_text_chunk(key: str, value: str) -> bytes | None:
    """tEXt for Latin-1 text (zTXt when long), iTXt for any other; None for a key PNG does not allow."""
    try:
        keyword = key.encode("latin-1")
    except UnicodeEncodeError:
        return None
    if not 1 <= len(keyword) <= 79:
        return None
    try:
        latin = value.encode("latin-1")
    except UnicodeEncodeError:
        return _png_chunk(b"iTXt", keyword + b"\0\0\0\0\0" + value.encode("utf-8"))
    if len(latin) > 1024:
        return _png_chunk(b"zTXt", keyword + b"\0\0" + zlib.compress(latin))
    return _png_chunk(b"tEXt", keyword + b"\0" + latin)


_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 6: 1, 7: 1, 8: 2, 9: 4}


def _tiff_entry_bytes(path: Path, tag: int) -> bytes | None:
    """The raw bytes of a tag of a classic TIFF's first directory, whatever its declared type."""
    try:
        with open(path, "rb") as fp:
            def read(at: int, size: int) -> bytes:
                fp.seek(at)
                return fp.read(size)

            found = _tiff_ifd0(read)
            if found is None:
                return None
            e, entries = found
            for entry_tag, kind, count, at in entries:
                if entry_tag == tag and kind in _TIFF_TYPE_SIZES:
                    size = count * _TIFF_TYPE_SIZES[kind]
                    if size <= 4:
                        return read(at + 8, size)
                    return read(struct.unpack(e + "I", read(at + 8, 4))[0], size)
    except (OSError, struct.error):
        pass
    return None


def _photoshop_resources(block: bytes) -> dict[int, bytes]:
    """Photoshop image resources ('8BIM', id, padded Pascal name, size, padded data) by id."""
    out, at = {}, 0
    with suppress(struct.error):
        while block[at:at + 4] == b"8BIM":
            (rid,) = struct.unpack_from(">H", block, at + 4)
            name_len = block[at + 6]
            at += 6 + name_len + 1 + (name_len + 1) % 2
            (size,) = struct.unpack_from(">I", block, at)
            out[rid] = block[at + 4:at + 4 + size]
            at += 4 + size + size % 2
    return out


def _jpeg_app13(iptc: bytes) -> bytes:
    """An APP13 segment holding `iptc` as a Photoshop resource, as Photoshop and Lightroom write it."""
    resource = b"8BIM" + struct.pack(">H", _IPTC_RESOURCE) + b"\0\0" + struct.pack(">I", len(iptc)) + iptc
    body = b"Photoshop 3.0\0" + resource + b"\0" * (len(iptc) % 2)
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def with_software(exif: bytes | None, software: str) -> bytes | None:
    """EXIF with its Software tag set to `software`, as editors mark the files they write (the camera's
    firmware version it replaces is in its maker notes too); a new EXIF block when there was none."""
    tags = Image.Exif()
    try:
        if exif:
            tags.load(exif)
        tags[0x0131] = software
        return tags.tobytes()
    except (ValueError, TypeError, SyntaxError, OSError, struct.error) as e:  # keep the EXIF as read
        log.warning("EXIF Software tag not set: %s", e)
        return exif or None


def _reset_xmp_orientation(xmp: bytes | None) -> bytes | None:
    """Like Pillow's exif_transpose: once pixels are upright, XMP must not ask viewers to rotate again."""
    if xmp is None:
        return None
    xmp = re.sub(rb'(tiff:Orientation\s*=\s*["\'])\d', rb"\g<1>1", xmp)
    return re.sub(rb"(<tiff:Orientation>\s*)\d", rb"\g<1>1", xmp)


def _orient(a: np.ndarray | None, orientation: int) -> np.ndarray | None:
    """Apply an EXIF orientation (2-8) to an H×W(×C) array, exactly as PIL.ImageOps.exif_transpose."""
    if a is None:
        return None
    ops = {2: lambda x: x[:, ::-1], 3: lambda x: x[::-1, ::-1], 4: lambda x: x[::-1],
           5: lambda x: x.swapaxes(0, 1), 6: lambda x: np.rot90(x, -1),
           7: lambda x: x[::-1, ::-1].swapaxes(0, 1), 8: lambda x: np.rot90(x, 1)}
    return np.ascontiguousarray(ops[orientation](a)) if orientation in ops else a


def _read_raw(path: Path) -> ImageData:
    """Camera RAW via LibRaw: camera white balance, sRGB, 16 bits.

    No auto-brightening: it would clip highlights and change the exposure the photographer chose; the
    low-light models brighten dark photos themselves.
    """
    rgb = _develop_raw(path)
    return ImageData(rgb, None, 16, "RAW", _raw_exif(path), _srgb_profile(), None, None, path)


def _develop_raw(path: Path, at_least: int | None = None, full: np.ndarray | None = None) -> np.ndarray:
    """LibRaw's development of a RAW file as upright float RGB; with `at_least`, at half size (LibRaw's
    quick mode: each 2×2 block of sensor sites is one pixel, no demosaicing) when that keeps `at_least`
    pixels on either side; the same settings otherwise, so the picture is the same, only smaller. `full`:
    the full development already at hand, returned instead of developing again when half size is too small."""
    import rawpy

    name = f'"{path.name}"'
    try:
        with open(path, "rb") as f, rawpy.imread(f) as raw:
            _check_size(path, raw.sizes.width, raw.sizes.height)
            half = at_least is not None and min(raw.sizes.width, raw.sizes.height) // 2 >= at_least
            if not half and full is not None:
                return full
            rgb16 = raw.postprocess(use_camera_wb=True, no_auto_bright=True, output_bps=16,
                                    gamma=(2.4, 12.92), half_size=half)
    except rawpy.LibRawTooBigError:
        raise ImageTooLargeError(f"{name} is too large for the RAW decoder.") from None
    except rawpy.LibRawFileUnsupportedError as e:
        raise UnsupportedInputError(
            f"{name} is not a camera RAW file Hourglass can decode: it may be damaged, or the camera is "
            "too new for the RAW decoder. Export it as a 16-bit TIFF from your RAW editor.",
            detail=str(e)) from None
    except (rawpy.LibRawError, OSError, ValueError) as e:
        raise InputUnreadableError(f"{name} is damaged or incomplete and could not be decoded.",
                                   detail=str(e)) from None
    rgb = rgb16.astype(np.float32)
    rgb /= 65535.0
    return rgb


def _raw_exif(path: Path) -> bytes | None:
    """The camera's EXIF (capture time, exposure, lens, GPS) of a RAW file, wherever its format keeps it:
    TIFF-based RAWs (DNG, NEF, ARW, CR2, PEF; ORF and RW2 behind their own magic numbers), Canon CR3's
    CMT boxes, or the EXIF of the JPEG preview embedded in the file (Fujifilm RAF). None if not found.

    The maker note is dropped: it is large (JPEG allows 64 KB of EXIF) and breaks when moved.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return None
    found = None
    for reader in (_tiff_raw_exif, _cr3_exif, _embedded_jpeg_exif):
        with suppress(OSError, ValueError, TypeError, KeyError, IndexError, SyntaxError, struct.error):
            exif = reader(data)
            if exif is not None and len(exif):
                found = found or exif
                if 0x8769 in exif:  # with the Exif sub-directory: the capture details are there
                    found = exif
                    break
    if found is None:
        return None
    found.get_ifd(0x8769).pop(0x927C, None)
    return _clean_exif(found, tiff_file=True)[0]


# TIFF-like RAW headers: standard TIFF, Olympus ORF ("IIRO", "IIRS", "MMOR") and Panasonic RW2 ("IIU\0")
_RAW_TIFF_MAGIC = {b"II*\0": b"II*\0", b"MM\0*": b"MM\0*", b"IIRO": b"II*\0", b"IIRS": b"II*\0",
                   b"MMOR": b"MM\0*", b"IIU\0": b"II*\0"}


def _tiff_raw_exif(data: bytes) -> Image.Exif | None:
    magic = _RAW_TIFF_MAGIC.get(data[:4])
    if magic is None:
        return None
    exif = Image.Exif()
    exif.load(magic + data[4:])
    return exif


def _cr3_exif(data: bytes) -> Image.Exif | None:
    """Canon CR3 (ISO BMFF, brand "crx "): TIFF blocks in boxes CMT1 (IFD0), CMT2 (Exif), CMT4 (GPS)."""
    if data[4:12] != b"ftypcrx ":
        return None
    blocks = {}
    for name in (b"CMT1", b"CMT2", b"CMT4"):
        at = data.find(name, 0, 1 << 22)  # in the moov box, at the start of the file
        if at >= 4:
            (size,) = struct.unpack_from(">I", data, at - 4)
            body = data[at + 4:at - 4 + size]
            if body[:4] in (b"II*\0", b"MM\0*"):
                blocks[name] = body
    if b"CMT1" not in blocks:
        return None
    exif = Image.Exif()
    exif.load(blocks[b"CMT1"])
    for name, tag in ((b"CMT2", 0x8769), (b"CMT4", 0x8825)):
        if name in blocks:
            sub = Image.Exif()
            sub.load(blocks[name])
            exif[tag] = {k: sub[k] for k in sub}
    return exif


def _embedded_jpeg_exif(data: bytes) -> Image.Exif | None:
    """The EXIF segment (APP1 "Exif") of the first JPEG preview that holds one, within the file's first
    64 MB (RAF keeps its JPEG preview, with the camera's EXIF, near the start)."""
    at = data.find(b"Exif\0\0", 0, 1 << 26)
    while at >= 4:
        if data[at - 4:at - 2] == b"\xff\xe1":
            (size,) = struct.unpack_from(">H", data, at - 2)
            exif = Image.Exif()
            exif.load(data[at:at - 2 + size])
            return exif
        at = data.find(b"Exif\0\0", at + 6, 1 << 26)
    return None


def _srgb_profile() -> bytes | None:
    try:
        from PIL import ImageCms

        return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    except (ImportError, OSError):  # Pillow without LittleCMS: the file is still sRGB, just untagged
        return None


# ----------------------------------------------------------------------------------------------- writing

def output_format_for(source: ImageData, requested: str | None = None) -> tuple[str, int]:
    """(format, bit depth) to write for `source`: its own format and depth where the format allows.

    RAW becomes a 16-bit TIFF (no RAW writer exists, and TIFF keeps all 16 bits). HEIF becomes JPEG:
    every viewer and editor opens it, HEIF encoding is slow and many Windows apps still cannot read it.
    """
    if requested:
        fmt = _FORMAT_ALIASES.get(str(requested).lstrip(".").upper())
        if fmt is None:
            raise OutputNotWritableError(f"Hourglass cannot save {requested} files; choose JPEG, PNG, "
                                         "TIFF, WebP, BMP, HEIC or AVIF.")
    else:
        fmt = {"RAW": "TIFF", "HEIF": "JPEG"}.get(source.format, source.format)
    return fmt, 16 if source.bit_depth == 16 and fmt in _SIXTEEN_BIT_FORMATS else 8


def extension_for(fmt: str) -> str:
    """The usual file extension for an output format ('JPEG' → '.jpg')."""
    return _EXTENSIONS[_FORMAT_ALIASES[fmt.upper()]]


def write_image(path, rgb: np.ndarray, source: ImageData | None = None, *, format: str | None = None,
                quality: int = 95, bit_depth: int | None = None, alpha: np.ndarray | None = None,
                overwrite: bool = False) -> Path:
    """Write float RGB to `path` atomically, keeping the source's metadata, alpha, bit depth and grayness.

    The format comes from `format`, else the extension of `path`, else the source. Refuses to replace an
    existing file unless `overwrite`, and never replaces the source photo.
    """
    path = Path(path)
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 RGB array, got shape {rgb.shape}")
    fmt, depth = _resolve_output(path, source, format, bit_depth)
    _check_target(path, source, overwrite)
    if alpha is None and source is not None:
        alpha = source.alpha
    if alpha is not None:
        alpha = np.asarray(alpha, dtype=np.float32)
        if alpha.shape != rgb.shape[:2]:
            alpha = cv2.resize(alpha, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
        if fmt not in _ALPHA_FORMATS:  # JPEG, BMP: flatten onto white, as editors export; the colours
            rgb = _over_white(rgb, alpha)  # under transparent pixels (often black) would show otherwise
            alpha = None
    meta = source if source is not None else ImageData(rgb, None, 8, fmt, None, None, None, None, None)
    if meta.grayscale:  # a black-and-white photo stays black and white, without the network's faint tints
        rgb = _gray(rgb, keep_rgb=alpha is not None or fmt not in _GRAY_FORMATS)
        if rgb.ndim == 3 and meta.icc_profile:  # a GRAY profile cannot describe RGB pixels
            meta = replace(meta, icc_profile=None)
    if fmt in ("PNG", "TIFF"):
        parts = _encode_with_cv2(fmt, depth, rgb, alpha, meta)
    else:
        parts = [_encode_with_pillow(fmt, rgb, alpha, meta, quality)]
    _atomic_write(path, parts, overwrite)
    return path


def format_without_transparency(path, source: ImageData | None, format: str | None = None) -> str | None:
    """The format `write_image(path, …, source, format=format)` writes, when it has no alpha channel (JPEG,
    BMP: a transparent photo is flattened onto white there); None when it keeps transparency."""
    fmt = _resolve_output(Path(path), source, format, None)[0]
    return None if fmt in _ALPHA_FORMATS else fmt


def _over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = np.clip(alpha, 0.0, 1.0)[..., None]
    return rgb * a + (1.0 - a)


def _gray(rgb: np.ndarray, keep_rgb: bool) -> np.ndarray:
    """The luminance of `rgb`: H×W, or H×W×3 with three equal channels where the format needs RGB."""
    y = np.empty(rgb.shape[:2], np.float32)
    for r0 in range(0, len(y), 512):  # in strips: no float64 or H×W×3 temporary for a huge photo
        y[r0:r0 + 512] = np.asarray(rgb[r0:r0 + 512], np.float32) @ LUMA
    return np.repeat(y[..., None], 3, axis=2) if keep_rgb else y


def gray_copy(rgb: np.ndarray) -> np.ndarray:
    """`rgb` (float) as a black-and-white file of it is read back: its luminance in three equal channels."""
    return _gray(rgb, keep_rgb=True)


def _resolve_output(path: Path, source: ImageData | None, fmt: str | None, bit_depth: int | None):
    if bit_depth not in (None, 8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, not {bit_depth}")
    requested = fmt or path.suffix
    if not requested and source is None:
        raise OutputNotWritableError(f'"{path.name}" has no file extension; add .jpg, .png or .tif.')
    stand_in = source or ImageData(np.empty((0, 0, 3)), None, 8, "PNG", None, None, None, None, None)
    fmt, depth = output_format_for(stand_in, requested or None)
    if bit_depth is not None:
        depth = bit_depth if fmt in _SIXTEEN_BIT_FORMATS else 8
    return fmt, depth


def check_output_folder(folder: str | os.PathLike) -> None:
    """Refuse, before any work, a folder the result could not be saved in (it, or the nearest folder above
    it that exists, must be a writable folder); creating it is left to the write."""
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputNotWritableError(f"Results cannot be saved in {folder}: {existing} is a file, not a folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        reason = "is on a read-only disk" if _read_only_disk(existing) else "is not writable for you"
        raise OutputNotWritableError(f"Results cannot be saved in {folder}: {existing} {reason}. Choose another "
                                     "output folder.")


def _read_only_disk(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # no statvfs on Windows
        return False


def check_not_original(path: Path, original: Path) -> None:
    """Refuse an output path that is the input photo itself (any spelling of it, links included)."""
    if same_file(path, original):
        raise OutputExistsError(f'Hourglass never saves over the original photo "{Path(path).name}"; choose '
                                "another folder, or a name suffix (--suffix in the command line).")


NAME_MAX = 255  # bytes in one file name on ext4, APFS and NTFS (255 UTF-16 units there)


def check_output_name(path: str | os.PathLike) -> None:
    """Refuse, before any work, a result name no disk takes (a long photo name plus a name suffix)."""
    name = Path(path).name
    size = len(os.fsencode(name))
    if size > NAME_MAX:
        raise OutputNotWritableError(f'The result\'s name "{name[:40]}…" is too long to save ({size} bytes; '
                                     f"disks allow {NAME_MAX}). Shorten the photo's name or the name suffix.")


def _check_target(path: Path, source: ImageData | None, overwrite: bool) -> None:
    check_output_name(path)
    if source is not None and source.path is not None:
        check_not_original(path, source.path)
    if not overwrite and os.path.lexists(path):
        raise OutputExistsError(f'"{path.name}" already exists in {path.parent}; choose another name or '
                                "allow overwriting.")


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file (links and other spellings included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _encode_with_pillow(fmt: str, rgb: np.ndarray, alpha, meta: ImageData, quality: int) -> bytes:
    """JPEG, WebP, BMP, HEIF and AVIF through Pillow, with the metadata each of them can hold."""
    arr = to_uint8(rgb)
    if alpha is not None:
        arr = np.dstack([arr, to_uint8(alpha)])
    img = Image.fromarray(arr)
    opts: dict = {"exif": meta.exif, "icc_profile": meta.icc_profile, "xmp": meta.xmp}
    if fmt == "JPEG":  # full-resolution colour at high quality, as Photoshop and Lightroom save (Pillow: 4:2:0)
        opts.update(quality=quality, dpi=meta.dpi, subsampling=0 if quality >= 90 else -1)
        # each goes in one JPEG segment; better a photo without them than none (XMP from a TIFF or PNG,
        # such as Photoshop's document history, can be megabytes)
        if meta.exif and len(meta.exif) > _JPEG_SEGMENT:
            log.warning("EXIF too large for JPEG (%d bytes), not written", len(meta.exif))
            opts["exif"] = None
        if meta.xmp and len(meta.xmp) > _JPEG_SEGMENT - 29:  # less "http://ns.adobe.com/xap/1.0/\0"
            log.warning("XMP too large for JPEG (%d bytes), not written", len(meta.xmp))
            opts["xmp"] = None
        if meta.iptc and len(meta.iptc) <= _JPEG_SEGMENT - 28:  # less the Photoshop header and resource
            opts["extra"] = _jpeg_app13(meta.iptc)
        elif meta.iptc:
            log.warning("IPTC too large for JPEG (%d bytes), not written", len(meta.iptc))
    elif fmt == "WEBP" and quality >= 100:  # lossless, keeping even the colour of transparent pixels
        opts.update(lossless=True, exact=True)
    elif fmt == "WEBP":
        opts.update(quality=quality)
    elif fmt == "BMP":
        opts = {"dpi": meta.dpi}
    elif fmt == "HEIF":
        _register_heif()
        opts.update(quality=quality)
    elif fmt == "AVIF":  # 12 MP at quality 95: 1.8 s on 2 cores, small beside the restoration itself
        opts.update(quality=quality)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **{k: v for k, v in opts.items() if v is not None})
    return buf.getvalue()


def _encode_with_cv2(fmt: str, depth: int, rgb: np.ndarray, alpha, meta: ImageData) -> list:
    """PNG and TIFF through OpenCV (the only encoder here for 16-bit RGB), then add the metadata.

    Returns the file as consecutive pieces, so a 1 GB encoding is never copied just to prepend a header.
    """
    quantize = to_uint16 if depth == 16 else to_uint8
    arr = quantize(rgb) if rgb.ndim == 2 else quantize(rgb)[..., ::-1]
    if alpha is not None:
        arr = np.dstack([arr, quantize(alpha)])
    params = [cv2.IMWRITE_PNG_COMPRESSION, 6] if fmt == "PNG" else []  # TIFF: LZW with predictor
    ok, buf = cv2.imencode(".png" if fmt == "PNG" else ".tif", np.ascontiguousarray(arr), params)
    if not ok:
        raise OutputNotWritableError(f"The image could not be encoded as {fmt}.")
    encoded = memoryview(buf).cast("B")
    if fmt == "PNG":
        return _add_png_metadata(encoded, meta)
    return _retag_tiff(encoded, meta, alpha is not None)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _add_png_metadata(png: memoryview, meta: ImageData) -> list:
    """Insert iCCP, eXIf, pHYs, XMP (iTXt) and text chunks right after IHDR (where the PNG spec wants the
    first three; text may go anywhere)."""
    chunks = []
    if meta.icc_profile:
        chunks.append(_png_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(meta.icc_profile)))
    if meta.exif:
        exif = meta.exif[6:] if meta.exif.startswith(b"Exif\0\0") else meta.exif
        chunks.append(_png_chunk(b"eXIf", exif))
    if meta.dpi:
        ppm = (round(d / 0.0254) for d in meta.dpi)
        chunks.append(_png_chunk(b"pHYs", struct.pack(">IIB", *ppm, 1)))
    if meta.xmp:
        chunks.append(_png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + meta.xmp))
    for key, value in (meta.text or {}).items():
        chunk = _png_text_chunk(key, value)
        if chunk is not None:
            chunks.append(chunk)
    end_of_ihdr = 8 + 8 + 13 + 4
    assert png[12:16] == b"IHDR"
    return [png[:end_of_ihdr], *chunks, png[end_of_ihdr:]]


def _retag_tiff(tiff: memoryview, meta: ImageData, has_alpha: bool) -> list:
    """Rebuild OpenCV's TIFF with a directory that also holds EXIF, ICC, DPI and XMP.

    New layout: header, new directory, then OpenCV's bytes after its header (pixel strips and the old,
    now unused, directory). Pillow's serializer adds the directory's end to StripOffsets, so we give it
    the strips' positions relative to that point.
    """
    if tiff[:4] not in (b"II*\0", b"MM\0*"):  # BigTIFF: keep the pixels, lose the metadata
        log.warning("TIFF metadata not written: unexpected TIFF header %r", bytes(tiff[:4]))
        return [tiff]
    ifd = TiffImagePlugin.ImageFileDirectory_v2(ifh=bytes(tiff[:8]))
    fp = io.BytesIO(tiff)
    fp.seek(ifd.next)
    ifd.load(fp)
    for tag in list(ifd):  # load() keeps raw bytes that tobytes() would skip; decode every tag
        ifd[tag] = ifd[tag]
    strips = ifd[273] if isinstance(ifd[273], tuple) else (ifd[273],)
    ifd[273] = tuple(offset - 8 for offset in strips)
    ifd.tagtype[273] = TiffTags.LONG
    if meta.exif:
        exif = Image.Exif()
        exif.load(meta.exif)
        for tag in set(exif) - _LAYOUT_TAGS:  # as Pillow's own TIFF writer does
            ifd[tag] = exif.get_ifd(tag) if tag in TiffTags.TAGS_V2_GROUPS else exif[tag]
    if has_alpha:
        ifd[338] = (2,)  # ExtraSamples: unassociated alpha
    if meta.dpi:
        ifd[296], ifd[282], ifd[283] = 2, meta.dpi[0], meta.dpi[1]
    if meta.icc_profile:
        ifd[34675] = meta.icc_profile
    if meta.xmp:
        ifd[700] = meta.xmp
    if meta.iptc:
        ifd[_IPTC_TAG] = meta.iptc
        ifd.tagtype[_IPTC_TAG] = TiffTags.UNDEFINED
    header = bytes(tiff[:4]) + struct.pack("<L" if tiff[:2] == b"II" else ">L", 8)
    return [header + ifd.tobytes(offset=8), tiff[8:]]


def _atomic_write(path: Path, parts: list, overwrite: bool) -> None:
    """Temp file in the same folder, fsync, then rename: a crash never leaves half a photo behind."""
    folder = path.parent
    name = f'"{path.name}"'
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputNotWritableError(f"The folder {folder} cannot be created: {e.strerror or e}.") from None
    short = path.name  # cut to 150 bytes, so that a name near NAME_MAX still fits with the suffixes
    while len(os.fsencode(short)) > 150:  # (by characters: a name may hold any bytes, which it keeps)
        short = short[:-1]
    tmp = folder / f".{short}.{secrets.token_hex(4)}.hourglass-tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        _publish(tmp, path, overwrite)
        _fsync_folder(folder)
    except HourglassError:
        raise
    except OSError as e:
        raise OutputNotWritableError(_write_error_message(e, name, folder), detail=str(e)) from None
    finally:
        with suppress(OSError):
            os.unlink(tmp)


def _publish(tmp: Path, path: Path, overwrite: bool) -> None:
    """Move the finished file into place; without `overwrite`, a hard link refuses atomically if the
    name was taken meanwhile (falls back to a check + rename on file systems without hard links)."""
    if not overwrite:
        try:
            os.link(tmp, path)
            return
        except FileExistsError:
            raise OutputExistsError(f'"{path.name}" already exists in {path.parent}; choose another name '
                                    "or allow overwriting.") from None
        except OSError:
            if os.path.lexists(path):
                raise OutputExistsError(f'"{path.name}" already exists in {path.parent}.') from None
    os.replace(tmp, path)


def _fsync_folder(folder: Path) -> None:
    if os.name == "posix":
        with suppress(OSError):
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _write_error_message(e: OSError, name: str, folder: Path) -> str:
    import errno

    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"There is not enough free disk space to save {name} in {folder}."
    if e.errno == errno.EROFS:
        return f"The folder {folder} is on a read-only disk; {name} cannot be saved there."
    if isinstance(e, PermissionError):
        return f"Hourglass is not allowed to save files in {folder}; choose another folder."
    return f"{name} could not be saved in {folder}: {e.strerror or e}."
