"""Reading an RGB matrix/TRC ICC profile, the kind cameras, phones and editors embed in photos (sRGB, Adobe
RGB, Display P3, ProPhoto, "linear Rec2020"): its three primaries as D50 XYZ and its three tone curves, each
as numpy functions both ways (device value → linear light and back). LUT profiles (an A2B0 tag, which
colour-managed apps use before the matrix) and curves that cannot be inverted are not read: None. A gray
profile's one tone curve (Photoshop's Gray Gamma 2.2, a linear gray) is read as the three curves of sRGB's
primaries, so gray stays gray."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.cicp import srgb_decode
from engine.icc_profiles import SRGB_PRIMARIES, rgb_to_d50_xyz

_PARA_COUNTS = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}  # parametricCurveType: parameters per function type
_SRGB_COLORANTS = np.array(rgb_to_d50_xyz(*SRGB_PRIMARIES))
_SAME = 2e-3  # colorants and curve values this close to sRGB's are sRGB (profiles round them differently)

Curve = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ToneCurve:
    """One channel's curve: `linear(device value)` and its inverse `encoded(linear light)`, for values in
    [0, 1] (float32 arrays)."""

    linear: Curve
    encoded: Curve


@dataclass(frozen=True)
class MatrixProfile:
    """What a matrix/TRC profile says: linear RGB = the curves of the numbers; XYZ = colorants · linear RGB."""

    curves: tuple[ToneCurve, ToneCurve, ToneCurve]
    colorants: np.ndarray  # 3×3, float64; columns: the red, green and blue primaries' D50 XYZ

    def is_srgb(self) -> bool:
        """sRGB's primaries and curve, as the many sRGB profiles in the wild round them."""
        if np.abs(self.colorants - _SRGB_COLORANTS).max() > _SAME:
            return False
        x = np.linspace(0, 1, 65, dtype=np.float32)
        srgb = srgb_decode(x)
        return all(np.abs(c.linear(x.copy()) - srgb).max() <= _SAME for c in self.curves)


def srgb_colorants() -> np.ndarray:
    return _SRGB_COLORANTS.copy()


def read_matrix_profile(icc: bytes | None) -> MatrixProfile | None:
    """The primaries and tone curves of an RGB matrix/TRC profile, or a gray profile's curve; None for any
    other profile, or one that cannot be read."""
    try:
        if not icc or icc[16:20] not in (b"RGB ", b"GRAY") or icc[20:24] != b"XYZ ":
            return None
        tags = _tags(icc)
        if icc[16:20] == b"GRAY":
            gray = _curve(tags[b"kTRC"]) if b"kTRC" in tags and b"A2B0" not in tags else None
            return MatrixProfile((gray, gray, gray), srgb_colorants()) if gray and _sound(gray) else None
        if b"A2B0" in tags or not all(t in tags for t in (b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC")):
            return None
        curves = tuple(_curve(tags[t]) for t in (b"rTRC", b"gTRC", b"bTRC"))
        if any(c is None for c in curves):
            return None
        colorants = np.array([_xyz(tags[t]) for t in (b"rXYZ", b"gXYZ", b"bXYZ")], np.float64).T
        if abs(np.linalg.det(colorants)) < 1e-6 or not all(_sound(c) for c in curves):
            return None
        return MatrixProfile(curves, colorants)  # type: ignore[arg-type]
    except (struct.error, IndexError, ValueError, ZeroDivisionError, OverflowError):
        return None


def _sound(curve: ToneCurve) -> bool:
    """Rising from about 0 to about 1 and finite both ways, as a real tone curve is (not a damaged one)."""
    with np.errstate(all="ignore"):
        x = np.linspace(0, 1, 257, dtype=np.float32)
        y = curve.linear(x.copy())
        back = curve.encoded(np.clip(y, 0.0, 1.0))
    return bool(np.isfinite(y).all() and np.isfinite(back).all() and (np.diff(y) >= -1e-6).all()
                and -0.01 <= y[0] <= 0.1 and 0.9 <= y[-1] <= 1.1)


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


def _power(g: float) -> Curve:
    return lambda x: np.power(np.maximum(x, 0.0), g)


def _curve(tag: bytes) -> ToneCurve | None:
    """An ICC tone curve ('curv' or 'para'); None for what it cannot read or invert."""
    if tag[:4] == b"curv":
        n = struct.unpack(">I", tag[8:12])[0]
        if n == 0:
            return ToneCurve(lambda x: x, lambda y: y)
        if n == 1:
            gamma = struct.unpack(">H", tag[12:14])[0] / 256
            return ToneCurve(_power(gamma), _power(1 / gamma)) if gamma > 0 else None
        table = np.array(struct.unpack(f">{n}H", tag[12:12 + 2 * n]), np.float32) / 65535
        if (np.diff(table) < 0).any() or table[-1] <= table[0]:
            return None  # (not monotonic: no inverse)
        grid = np.linspace(0, 1, n, dtype=np.float32)
        return ToneCurve(lambda x: np.interp(x, grid, table).astype(np.float32),
                         lambda y: np.interp(y, table, grid).astype(np.float32))
    if tag[:4] == b"para":
        kind = struct.unpack(">H", tag[8:10])[0]
        if kind not in _PARA_COUNTS:
            return None
        n = _PARA_COUNTS[kind]
        g, a, b, c, d, e, f = [v / 65536 for v in struct.unpack(f">{n}i", tag[12:12 + 4 * n])] + [0.0] * (7 - n)
        if g <= 0 or (kind > 0 and a <= 0):
            return None
        if kind == 0:
            return ToneCurve(_power(g), _power(1 / g))
        if kind in (1, 2):  # (aX + b)^g (+ c) above -b/a, else 0 (or c)
            d, e = -b / a, (c if kind == 2 else 0.0)
            return ToneCurve(lambda x: np.where(x >= d, np.power(np.maximum(a * x + b, 0.0), g) + e, e),
                             lambda y: (np.power(np.maximum(y - e, 0.0), 1 / g) - b) / a)
        if kind == 3:
            e = f = 0.0
        knee = (a * d + b) ** g + e if a * d + b > 0 else e  # the curve's value where its two pieces meet
        return ToneCurve(
            lambda x: np.where(x >= d, np.power(np.maximum(a * x + b, 0.0), g) + e, c * x + f),
            lambda y: np.where(y >= knee, (np.power(np.maximum(y - e, 0.0), 1 / g) - b) / a,
                               (y - f) / c if c > 0 else np.full_like(y, d)))
    return None
