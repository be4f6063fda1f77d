"""Cheap image statistics that separate the degradations (numpy + cv2 only, no torch).

Why hand-made features: the detector is trained on synthetic degradations of a few hundred clean photos
and must work on real ones. Statistics with a physical meaning transfer better across that gap than what
a network learns from pixels alone, and they cost a few tens of milliseconds:

- tone: luminance percentiles and histogram (low-light is dark, haze lifts the blacks);
- colour: saturation and colourfulness (haze and rain wash colours out);
- haze: the dark channel (He et al.), its top/bottom contrast, local contrast;
- sharpness: gradient and Laplacian energy across three scales of a pyramid, their ratios (blur removes
  the fine scales first), gradient anisotropy (camera shake and motion blur are directional), a noise
  estimate (Immerkær);
- rain and snow: a white top-hat keeps thin bright structures; the orientation histogram of its gradients
  is peaked for streaks (rain) and flat for flakes (snow); the count of its bright local maxima.

Everything is computed on `prepare`'s downscaled copy (long side `WORK_SIDE`), so the cost does not depend
on the photo's size. `extract` returns a float32 vector in the order of `FEATURE_NAMES`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

WORK_SIDE = 384  # long side of the working copy, in pixels
NET_SIDE = 128  # side of the small square copy the network part of the model sees

_LUMA = np.array([[0.2126, 0.7152, 0.0722]], np.float32)
_PCTS = (1, 5, 10, 25, 50, 75, 90, 95, 99)
_HIST_EDGES = np.linspace(0.0, 1.0, 13, dtype=np.float32) ** 1.5  # finer bins in the shadows
_ORIENT_BINS = 12


def _names() -> tuple[str, ...]:
    names = ["y_mean", "y_std", "y_logmean"]
    names += [f"y_p{p}" for p in _PCTS]
    names += [f"y_hist{i}" for i in range(len(_HIST_EDGES) - 1)]
    names += ["y_below05", "y_below15", "y_above95"]
    names += ["sat_mean", "sat_p50", "sat_p90", "colourfulness", "cast_rg", "cast_bg"]
    names += ["dark_mean", "dark_p10", "dark_p50", "dark_p90", "dark_top", "dark_bottom", "dark_ratio"]
    names += ["lc_mean", "lc_p50", "lc_p90"]
    for lvl in range(3):
        names += [f"grad{lvl}_mean", f"grad{lvl}_p90", f"grad{lvl}_p99"]
    names += ["lap_ratio01", "lap_ratio12", "lap0_norm", "coh0", "coh1", "coh_fine", "fine_peak", "fine_vert",
              "fine_consistency", "y_above80"]
    names += ["spec_slope", "spec_aniso", "noise", "noise_dark"]
    for lvl in range(2):
        names += [f"th{lvl}_mean", f"th{lvl}_p99", f"th{lvl}_frac05", f"th{lvl}_frac10",
                  f"th{lvl}_peak", f"th{lvl}_vert", f"th{lvl}_coh"]
    names += ["blobs06", "blobs12", "blob_white"]
    return tuple(names)


FEATURE_NAMES = _names()
N_FEATURES = len(FEATURE_NAMES)


def as_float_rgb(rgb: np.ndarray) -> np.ndarray:
    """float32 H×W×3 in [0, 1] from uint8/uint16/float input (alpha and extra channels dropped)."""
    a = np.asarray(rgb)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] < 3 or a.shape[0] < 2 or a.shape[1] < 2:
        raise ValueError(f"expected an H×W×3 RGB image, got shape {a.shape}")
    a = a[..., :3]
    if a.dtype == np.uint8:
        return a.astype(np.float32) * np.float32(1 / 255)
    if a.dtype == np.uint16:
        return a.astype(np.float32) * np.float32(1 / 65535)
    return np.clip(np.nan_to_num(a.astype(np.float32, copy=False)), 0.0, 1.0)


def prepare(rgb: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """The working copy: float32 RGB with its long side at most `side` (area interpolation, never upscaled)."""
    x = as_float_rgb(rgb)
    h, w = x.shape[:2]
    f = side / max(h, w)
    if f < 1.0:
        x = cv2.resize(x, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(x, dtype=np.float32)


def net_input(work: np.ndarray, side: int = NET_SIDE) -> np.ndarray:
    """The network's view: the working copy squeezed to side×side (aspect not kept), float32 3×side×side."""
    small = cv2.resize(work, (side, side), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small.transpose(2, 0, 1), dtype=np.float32)


def _pcts(x: np.ndarray, ps) -> list[float]:
    return [float(v) for v in np.percentile(x, ps)]


def _orientation_stats(gx: np.ndarray, gy: np.ndarray) -> tuple[float, float, float]:
    """(peakiness, vertical-structure share, coherence) of the gradient field, magnitude-weighted.

    Peakiness: the largest of 12 orientation bins over their mean (1 = isotropic). Vertical share: the
    fraction of gradient energy pointing within ±30° of horizontal, i.e. edges within ±30° of vertical
    (falling rain). Coherence: |Σ(gx+i·gy)²| / Σ|g|², 1 for one direction, 0 for none.
    """
    mag2 = gx * gx + gy * gy
    total = float(mag2.sum()) + 1e-12
    ang = cv2.phase(gx, gy)  # [0, 2π); an edge and its reverse are the same orientation
    folded = np.mod(ang, np.float32(math.pi))  # [0, π)
    bins = np.minimum((folded * np.float32(_ORIENT_BINS / math.pi)).astype(np.int32), _ORIENT_BINS - 1)
    hist = np.bincount(bins.ravel(), weights=mag2.ravel(), minlength=_ORIENT_BINS)
    peak = float(hist.max() / (hist.mean() + 1e-12))
    horizontal = (folded < np.float32(math.pi / 6)) | (folded > np.float32(5 * math.pi / 6))
    vert = float(mag2[horizontal].sum() / total)
    c = float(np.hypot((gx * gx - gy * gy).sum(), 2 * (gx * gy).sum()) / total)
    return peak, vert, c


def _consistency(gx: np.ndarray, gy: np.ndarray, grid: int = 4) -> float:
    """How much the dominant gradient orientation agrees across a grid×grid of windows (0..1): high for
    rain streaks falling the same way everywhere, low for scene edges going every which way."""
    h, w = gx.shape
    c2, s2 = gx * gx - gy * gy, 2 * gx * gy
    vecs = []
    for i in range(grid):
        for j in range(grid):
            win = (slice(i * h // grid, (i + 1) * h // grid), slice(j * w // grid, (j + 1) * w // grid))
            v = complex(float(c2[win].sum()), float(s2[win].sum()))
            e = float((gx[win] ** 2 + gy[win] ** 2).sum()) + 1e-12
            vecs.append(v / e)  # the window's coherence, with its orientation (doubled angle)
    return float(abs(sum(vecs)) / len(vecs))


def _tophat_stats(y: np.ndarray, size: int) -> tuple[list[float], np.ndarray]:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    th = cv2.morphologyEx(y, cv2.MORPH_TOPHAT, kernel)
    gx = cv2.Sobel(th, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(th, cv2.CV_32F, 0, 1, ksize=3)
    peak, vert, coh = _orientation_stats(gx, gy)
    stats = [float(th.mean()), float(np.percentile(th, 99)), float((th > 0.05).mean()), float((th > 0.10).mean()),
             peak, vert, coh]
    return stats, th


def _spectrum(y: np.ndarray) -> tuple[float, float]:
    """Slope of the radially averaged log power spectrum in the upper band, and its angular anisotropy."""
    n = 128
    h, w = y.shape
    c = y[(h - min(h, n)) // 2:(h - min(h, n)) // 2 + min(h, n), (w - min(w, n)) // 2:(w - min(w, n)) // 2 + min(w, n)]
    if c.shape != (n, n):
        c = cv2.resize(c, (n, n), interpolation=cv2.INTER_AREA)
    win = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)
    f = np.fft.fftshift(np.abs(np.fft.fft2((c - c.mean()) * win)) ** 2)
    yy, xx = np.mgrid[-n // 2:n // 2, -n // 2:n // 2]
    r = np.hypot(xx, yy) / n  # cycles per pixel
    band = (r > 0.08) & (r < 0.45)
    logr = np.log(r[band])
    logp = np.log(f[band] + 1e-12)
    slope = float(np.polyfit(logr, logp, 1)[0])
    theta = np.mod(np.arctan2(yy, xx), math.pi)[band]
    sectors = np.minimum((theta / math.pi * 8).astype(np.int32), 7)
    energy = np.bincount(sectors, weights=f[band], minlength=8)
    aniso = float(np.log((energy.max() + 1e-12) / (energy.min() + 1e-12)))
    return slope, aniso


def _noise(y: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Immerkær's fast noise σ estimate (on the whole image, or on `mask` pixels)."""
    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    r = np.abs(cv2.filter2D(y, -1, k, borderType=cv2.BORDER_REFLECT))[1:-1, 1:-1]
    if mask is not None:
        m = mask[1:-1, 1:-1]
        if m.sum() < 64:
            return 0.0
        r = r[m]
    return float(math.sqrt(math.pi / 2) / 6 * r.mean()) if r.size else 0.0


def extract(work: np.ndarray) -> np.ndarray:
    """The feature vector (float32, `N_FEATURES`) of a working copy from `prepare`."""
    x = as_float_rgb(work)
    y = cv2.transform(x, _LUMA)
    y = np.ascontiguousarray(y[..., 0] if y.ndim == 3 else y, dtype=np.float32)
    h, w = y.shape
    f: list[float] = []

    # tone
    f += [float(y.mean()), float(y.std()), float(np.log(y + 1e-3).mean())]
    f += _pcts(y, _PCTS)
    hist = np.histogram(y, bins=_HIST_EDGES)[0].astype(np.float64) / y.size
    f += hist.tolist()
    f += [float((y < 0.05).mean()), float((y < 0.15).mean()), float((y > 0.95).mean())]

    # colour
    mx, mn = x.max(axis=2), x.min(axis=2)
    sat = (mx - mn) / (mx + 1e-3)
    f += [float(sat.mean())] + _pcts(sat, (50, 90))
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    f.append(float(math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean())))
    means = np.array(cv2.mean(x)[:3]) + 1e-3
    f += [float(np.log(means[0] / means[1])), float(np.log(means[2] / means[1]))]

    # haze: dark channel, local contrast
    patch = max(3, round(min(h, w) / 40) | 1)
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (patch, patch))
    dark = cv2.erode(mn, k)
    bright = cv2.dilate(mx, k)
    f += [float(dark.mean())] + _pcts(dark, (10, 50, 90))
    third = max(1, h // 3)
    f += [float(dark[:third].mean()), float(dark[-third:].mean()), float((dark / (bright + 1e-3)).mean())]
    m = cv2.blur(y, (9, 9))
    m2 = cv2.blur(y * y, (9, 9))
    lc = np.sqrt(np.maximum(m2 - m * m, 0)) / (m + 0.05)
    f += [float(lc.mean())] + _pcts(lc, (50, 90))

    # sharpness across scales (normalised by the global contrast, so exposure does not dominate)
    ystd = float(y.std()) + 1e-3
    levels = [y, cv2.pyrDown(y)]
    levels.append(cv2.pyrDown(levels[1]))
    laps = []
    for lvl in levels:
        gx = cv2.Sobel(lvl, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(lvl, cv2.CV_32F, 0, 1, ksize=3)
        mag = np.sqrt(gx * gx + gy * gy) / ystd
        f += [float(mag.mean())] + _pcts(mag, (90, 99))
        laps.append(float(np.abs(cv2.Laplacian(lvl, cv2.CV_32F)).mean()) + 1e-6)
    f += [float(np.log(laps[0] / laps[1])), float(np.log(laps[1] / laps[2])), float(laps[0] / ystd)]
    cohs = []
    for lvl in levels[:2]:
        gx = cv2.Sobel(lvl, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(lvl, cv2.CV_32F, 0, 1, ksize=3)
        cohs.append(_orientation_stats(gx, gy)[2])
    fine = y - cv2.GaussianBlur(y, (0, 0), 1.0)
    gx = cv2.Sobel(fine, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(fine, cv2.CV_32F, 0, 1, ksize=3)
    fine_peak, fine_vert, fine_coh = _orientation_stats(gx, gy)
    f += [*cohs, fine_coh, fine_peak, fine_vert, _consistency(gx, gy), float((y > 0.8).mean())]
    f += list(_spectrum(y))
    f += [_noise(y), _noise(y, y < 0.2)]

    # rain and snow: thin bright structures
    th_small, th0 = _tophat_stats(y, 5)
    th_large, _ = _tophat_stats(levels[1], 7)
    f += th_small + th_large
    peaks = (th0 == cv2.dilate(th0, np.ones((5, 5), np.uint8)))
    area = h * w / 1e4
    p6 = peaks & (th0 > 0.06)
    f += [float(p6.sum() / area), float((peaks & (th0 > 0.12)).sum() / area)]
    f.append(float(1.0 - sat[p6].mean()) if p6.any() else 0.0)

    out = np.asarray(f, np.float32)
    if out.shape != (N_FEATURES,):  # pragma: no cover - a programming error
        raise AssertionError(f"{out.shape[0]} features computed, {N_FEATURES} named")
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
