"""Photos in linear light, as their ICC profile says: darktable's and RawTherapee's "linear Rec2020" exports,
Photoshop's 32-bit TIFFs, a scanner's raw scans. The networks were trained on sRGB-like values; in linear
light a photo looks dark and flat to them (a rainy one was detected as blur). So such a photo's pixels are
re-encoded with the sRGB curve when read (light above white in a float file rolled off, not clipped) and it
gets a profile with the same primaries and the sRGB curve: the same colours, as colour-managed apps show
them, in the values the networks know."""

from __future__ import annotations

import io
import logging

import numpy as np

from engine.cicp import encode_linear
from engine.icc_profiles import matrix_trc_profile
from engine.imaging.matrix_profiles import read_matrix_profile

log = logging.getLogger(__name__)

LINEAR_AT_HALF = 0.4  # a tone curve giving more than this at 0.5 is near-linear (gamma below ~1.3; sRGB: 0.21)


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
    profile = read_matrix_profile(icc)
    if profile is None:
        return None
    half = np.full(1, 0.5, np.float32)
    if not all(float(c.linear(half.copy())[0]) > LINEAR_AT_HALF for c in profile.curves):
        return None
    return [c.linear for c in profile.curves], profile.colorants.tolist()


def _description(icc: bytes) -> str:
    try:
        from PIL import ImageCms
    except ImportError:  # (Pillow without LittleCMS)
        return "Linear RGB"
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip() or "Linear RGB"
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError):  # (a damaged description)
        return "Linear RGB"
