"""HEIF, AVIF and PNG photos whose colour is given by CICP codes rather than an ICC profile (engine.cicp):
finding the codes, decoding a 10- or 12-bit HEIF at its full depth, and turning the pixels into what the
rest of the engine expects (standard range, with a profile that says which colours they are)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engine.cicp import Cicp, find_nclx_in, find_png_cicp, to_standard_range
from engine.imaging.data import _shrunk, _split_channels


def photo_cicp(img: Image.Image, fmt: str, path: Path, icc: bytes | None) -> Cicp | None:
    """The colour codes of a HEIF (pillow-heif reads them), AVIF or PNG (Pillow does not: from the file);
    None for other formats, and where there are none. Beside an ICC profile, a HEIF's or AVIF's codes are
    ignored (viewers use the profile) and a PNG's win (PNG's third edition ranks cICP above iCCP)."""
    if fmt == "HEIF" and icc is None:
        return Cicp.from_nclx(img.info.get("nclx_profile"))
    if fmt == "AVIF" and icc is None:
        with open(path, "rb") as f:
            return find_nclx_in(f)
    if fmt == "PNG":
        with open(path, "rb") as f:
            return find_png_cicp(f)
    return None


def is_deep_heif(img: Image.Image, fmt: str) -> bool:
    """A HEIF with more than 8 bits per sample, which pillow-heif's Pillow plugin would cut to 8."""
    return fmt == "HEIF" and int(img.info.get("bit_depth") or 8) > 8


def deep_heif_pixels(path: Path, at_least: int | None):
    """A 10- or 12-bit HEIF's primary image at its full depth, as read_image's (rgb, alpha, depth)."""
    import pillow_heif

    heif = pillow_heif.open_heif(path, convert_hdr_to_8bit=False)
    bits = int(heif.info.get("bit_depth") or 16)
    arr = _shrunk(np.asarray(heif), at_least)
    scale = float(((1 << bits) - 1) << (16 - bits))  # pillow-heif scales samples up to 16 bits by a shift
    arr = arr.astype(np.float32)
    arr /= scale
    np.clip(arr, 0, 1, out=arr)
    return (*_split_channels(arr, bgr=False), 16)


def apply_cicp(rgb: np.ndarray, cicp: Cicp, gray: bool) -> bytes | None:
    """Tone-map an HDR photo to standard range (a gamma-coded one to the sRGB curve) in place; the ICC
    profile that now describes the pixels (None where plain sRGB does, or for a gray photo, which a colour
    profile cannot describe)."""
    if cicp.recodes:
        to_standard_range(rgb, cicp)
    return None if gray or cicp.srgb_primaries else cicp.icc_profile()
