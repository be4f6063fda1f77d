"""What a decoded photo is (`ImageData`), the formats Hourglass reads and writes, and conversions between
sample formats. The size limit and codec set-up live here too, since reading and writing both rely on them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from engine.errors import ImageTooLargeError
from engine.imaging.working_space import OwnSpace

# OpenCV prints its decoders' warnings about odd but readable files ("TIFF_Warning ... ExtraSamples") and
# errors about files Pillow then reads (a 16-bit CMYK TIFF) on stderr, between the CLI's progress lines;
# what neither can read still fails with our own message.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

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

_heif_registered = False


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
    hdr: str | None = None  # "PQ" or "HLG": an HDR photo, tone-mapped to standard range when read
    own_space: OwnSpace | None = None  # stored in another RGB space: `rgb` holds sRGB numbers (working_space)


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


def _gray(rgb: np.ndarray, keep_rgb: bool) -> np.ndarray:
    """The luminance of `rgb`: H×W, or H×W×3 with three equal channels where the format needs RGB."""
    y = np.empty(rgb.shape[:2], np.float32)
    for r0 in range(0, len(y), 512):  # in strips: no float64 or H×W×3 temporary for a huge photo
        y[r0:r0 + 512] = np.asarray(rgb[r0:r0 + 512], np.float32) @ LUMA
    return np.repeat(y[..., None], 3, axis=2) if keep_rgb else y


def gray_copy(rgb: np.ndarray) -> np.ndarray:
    """`rgb` (float) as a black-and-white file of it is read back: its luminance in three equal channels."""
    return _gray(rgb, keep_rgb=True)


def _split_channels(arr: np.ndarray, bgr: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(RGB, alpha or None) of decoded samples, H×W or H×W×C with 1 to 4 channels: gray repeated into three
    channels, the last one the alpha where there are 2 or 4 (`bgr`: in OpenCV's order, blue first)."""
    if arr.ndim == 2:
        arr = arr[..., None]
    channels = arr.shape[2]
    if channels < 3:
        rgb = np.repeat(arr[..., :1], 3, axis=2)
    else:
        rgb = np.ascontiguousarray(arr[..., 2::-1] if bgr else arr[..., :3])
    alpha = np.ascontiguousarray(arr[..., channels - 1]) if channels in (2, 4) else None
    return rgb, alpha


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
