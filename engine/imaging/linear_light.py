"""Photos in linear light, as their ICC profile says: darktable's and RawTherapee's "linear Rec2020" exports,
Photoshop's 32-bit TIFFs, a scanner's raw scans. The networks were trained on sRGB-like values; in linear
light a photo looks dark and flat to them (a rainy one was detected as blur). So such a photo's pixels are
re-encoded with the sRGB curve when read (light above white in a float file rolled off, not clipped) and it
gets a profile with the same primaries and the sRGB curve: the same colours, as colour-managed apps show
them, in the values the networks know."""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Callable

import numpy as np

from engine.cicp import encode_linear
from engine.icc_profiles import matrix_trc_profile

log = logging.getLogger(__name__)

LINEAR_AT_HALF = 0.4  # a tone curve giving more than this at 0.5 is near-linear (gamma below ~1.3; sRGB: 0.21)
_PARA_COUNTS = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}  # parametricCurveType: parameters per function type


def recode_linear(rgb: np.ndarray, icc: bytes | None) -> bytes | None:
    """If `icc` is an RGB matrix/TRC profile with near-linear tone curves, re-encode `rgb` (float, in place;
    values above 1 allowed) with the sRGB curve and return the profile that now describes it; else None,
    `rgb` untouched (values above 1 are then the caller's to clip)."""
    found = _linear_matrix_trc(icc) if icc else None
    if found is None:
        return None
    curves, colorants = found
    for y in range(0, rgb.shape[0], 256):
        part = rgb[y:y + 256]
        for c, curve in enumerate(curves):
            part[..., c] = curve(part[..., c])
    encode_linear(rgb)
    return matrix_trc_profile(colorants, f"{_description(icc)}, sRGB curve (Hourglass)")


def _linear_matrix_trc(icc: bytes):
    """(three tone curves as functions, the colorants as columns) of a near-linear RGB matrix/TRC profile."""
    try:
        if icc[16:20] != b"RGB " or icc[20:24] != b"XYZ ":
            return None
        tags = _tags(icc)
        if b"A2B0" in tags or not all(t in tags for t in (b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC")):
            return None  # (a LUT profile, which colour-managed apps use before the matrix)
        curves = [_curve(tags[t]) for t in (b"rTRC", b"gTRC", b"bTRC")]
        if any(c is None for c in curves):
            return None
        half = np.full(1, 0.5, np.float32)
        if not all(float(c(half.copy())[0]) > LINEAR_AT_HALF for c in curves):
            return None
        xyz = [_xyz(tags[t]) for t in (b"rXYZ", b"gXYZ", b"bXYZ")]
        return curves, [[xyz[j][i] for j in range(3)] for i in range(3)]
    except (struct.error, IndexError, ValueError, ZeroDivisionError):
        return None


def _tags(icc: bytes) -> dict[bytes, bytes]:
    count = struct.unpack(">I", icc[128:132])[0]
    tags = {}
    for k in range(min(count, 200)):
        sig, at, size = struct.unpack(">4sII", icc[132 + 12 * k:144 + 12 * k])
        tags[sig] = icc[at:at + size]
    return tags


def _xyz(tag: bytes) -> tuple[float, float, float]:
    if tag[:4] != b"XYZ ":
        raise ValueError("not an XYZ tag")
    return tuple(v / 65536 for v in struct.unpack(">3i", tag[8:20]))


def _curve(tag: bytes) -> Callable[[np.ndarray], np.ndarray] | None:
    """An ICC tone curve (device value → linear) as a numpy function; None for what it cannot read."""
    if tag[:4] == b"curv":
        n = struct.unpack(">I", tag[8:12])[0]
        if n == 0:
            return lambda x: x
        if n == 1:
            gamma = struct.unpack(">H", tag[12:14])[0] / 256
            return lambda x: np.power(np.maximum(x, 0.0), gamma)
        table = np.array(struct.unpack(f">{n}H", tag[12:12 + 2 * n]), np.float32) / 65535
        grid = np.linspace(0, 1, n, dtype=np.float32)
        return lambda x: np.interp(x, grid, table).astype(np.float32)
    if tag[:4] == b"para":
        kind = struct.unpack(">H", tag[8:10])[0]
        if kind not in _PARA_COUNTS:
            return None
        n = _PARA_COUNTS[kind]
        g, a, b, c, d, e, f = [v / 65536 for v in struct.unpack(f">{n}i", tag[12:12 + 4 * n])] + [0.0] * (7 - n)
        if kind == 0:
            return lambda x: np.power(np.maximum(x, 0.0), g)
        if kind in (1, 2):  # (aX + b)^g (+ c) above -b/a, else 0 (or c)
            d, offset = -b / a, (c if kind == 2 else 0.0)
            return lambda x: np.where(x >= d, np.power(np.maximum(a * x + b, 0.0), g) + offset, offset)
        if kind == 3:
            return lambda x: np.where(x >= d, np.power(np.maximum(a * x + b, 0.0), g), c * x)
        return lambda x: np.where(x >= d, np.power(np.maximum(a * x + b, 0.0), g) + e, c * x + f)
    return None


def _description(icc: bytes) -> str:
    try:
        from PIL import ImageCms
    except ImportError:  # (Pillow without LittleCMS)
        return "Linear RGB"
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip() or "Linear RGB"
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError):  # (a damaged description)
        return "Linear RGB"
