"""Edge-aware upsampling of a correction: a per-pixel affine colour transform fitted at low resolution.

The fast full-resolution path (`engine.fastpath`) restores a downscaled copy of a photo and must carry
the correction back to the full-size photo without losing its detail. The correction is modelled, around
every low-resolution pixel, as an affine colour transform `out = A·in + b` (A 3×3, b 3), fitted by least
squares over a (2r+1)² window — the colour guided filter of He et al. (2013), used for upsampling as in
the "fast guided filter" (He & Sun, 2015). The coefficient fields are smooth, so they are upsampled
bilinearly and applied to the full-resolution input: edges and fine detail come from the original photo,
colours and contrast from the restoration.

Unlike the plain guided filter, the regulariser pulls A towards the global least-squares transform (not
towards 0), so flat regions keep the photo's detail with the global gain, and a global affine colour change
is reproduced exactly (up to float rounding) at any resolution.

numpy + OpenCV only (box filters, resize); the full-resolution pass works in strips of rows, so its extra
memory is a few MB per strip whatever the photo's size. 8- and 16-bit inputs are read as [0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np

DEFAULT_RADIUS = 1  # in low-resolution pixels: the window is (2r+1)²
DEFAULT_EPS = 1e-4  # regularisation towards the global transform, in (intensity in [0, 1])² units
STRIP_ROWS = 256

__all__ = ["apply_affine", "fit_affine", "guided_upsample"]


def _as_unit_float(image: np.ndarray) -> np.ndarray:
    """Pixels as float32 in [0, 1]: integer images are scaled by their type's maximum."""
    if np.issubdtype(image.dtype, np.integer):
        return image.astype(np.float32) / np.iinfo(image.dtype).max
    return image.astype(np.float32, copy=False)


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    k = 2 * radius + 1
    return cv2.boxFilter(x, -1, (k, k), normalize=True, borderType=cv2.BORDER_REFLECT)


def _global_transform(guide: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The least-squares A (3×3, in→out as out = inᵀ·A) over the whole image, lightly regularised."""
    g = guide.reshape(-1, 3).astype(np.float64)
    t = target.reshape(-1, 3).astype(np.float64)
    gc, tc = g - g.mean(0), t - t.mean(0)
    cov = gc.T @ gc / len(g)
    return np.linalg.solve(cov + 1e-6 * np.eye(3), gc.T @ tc / len(g))


def fit_affine(guide: np.ndarray, target: np.ndarray, radius: int = DEFAULT_RADIUS,
               eps: float = DEFAULT_EPS) -> np.ndarray:
    """Per-pixel affine colour transforms mapping `guide` to `target` (both h×w×3, [0, 1]).

    Returns float32 coefficients of shape (h, w, 4, 3): rows 0..2 are A (out_c = Σ_k A[k, c]·in_k + b_c),
    row 3 is b. Each pixel's transform minimises, over its window ω,
        mean_ω |A·in + b − out|² + eps·|A − A_global|²,
    and the transforms of all windows covering a pixel are averaged (guided-filter style).
    """
    if guide.shape != target.shape or guide.ndim != 3 or guide.shape[2] != 3:
        raise ValueError(f"guide and target must both be h×w×3, got {guide.shape} and {target.shape}")
    g = _as_unit_float(guide).astype(np.float64)
    t = _as_unit_float(target).astype(np.float64)
    h, w = g.shape[:2]
    radius = int(max(1, min(radius, (min(h, w) - 1) // 2))) if min(h, w) > 2 else 0
    a_global = _global_transform(g, t)  # (3 in, 3 out)
    if radius == 0:
        b = t.reshape(-1, 3).mean(0) - g.reshape(-1, 3).mean(0) @ a_global
        out = np.empty((h, w, 4, 3), np.float32)
        out[:, :, :3, :] = a_global
        out[:, :, 3, :] = b
        return out
    mean_g = _box(g, radius)  # (h, w, 3)
    mean_t = _box(t, radius)
    gg = _box(np.einsum("hwk,hwl->hwkl", g, g).reshape(h, w, 9), radius).reshape(h, w, 3, 3)
    gt = _box(np.einsum("hwk,hwc->hwkc", g, t).reshape(h, w, 9), radius).reshape(h, w, 3, 3)
    cov_gg = gg - mean_g[..., :, None] * mean_g[..., None, :]
    cov_gt = gt - mean_g[..., :, None] * mean_t[..., None, :]
    eye = np.eye(3)
    a = np.linalg.solve(cov_gg + eps * eye, cov_gt + eps * a_global)  # (h, w, 3 in, 3 out)
    b = mean_t - np.einsum("hwk,hwkc->hwc", mean_g, a)
    coeffs = np.concatenate([a.reshape(h, w, 9), b], axis=2)
    coeffs = _box(coeffs, radius)
    return coeffs.reshape(h, w, 4, 3).astype(np.float32)


def _axis(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear sample positions (pixel centres aligned, as cv2.resize/INTER_AREA): i0, i1, weight of i1."""
    pos = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    pos = np.clip(pos, 0, n_in - 1)
    i0 = np.floor(pos).astype(np.intp)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (pos - i0).astype(np.float32)


def apply_affine(coeffs: np.ndarray, image: np.ndarray, *, out: np.ndarray | None = None,
                 strip_rows: int = STRIP_ROWS) -> np.ndarray:
    """Apply `coeffs` (h×w×4×3, from `fit_affine`), bilinearly upsampled, to `image` (H×W×3).

    `image` may be float in [0, 1], uint8 or uint16. The result is float32 in [0, 1] (clipped), written to
    `out` when given (float32 H×W×3; it may be `image` itself, to work in place). Rows are processed in
    strips of `strip_rows`, so the upsampled coefficients never exist at full size.
    """
    H, W = image.shape[:2]
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 image, got shape {image.shape}")
    h, w = coeffs.shape[:2]
    flat = np.ascontiguousarray(coeffs, dtype=np.float32).reshape(h, w, 12)
    if out is None:
        out = np.empty((H, W, 3), np.float32)
    elif out.shape != (H, W, 3) or out.dtype != np.float32:
        raise ValueError(f"out must be float32 {H}×{W}×3")
    y0, y1, fy = _axis(H, h)
    for r0 in range(0, H, strip_rows):
        r1 = min(H, r0 + strip_rows)
        wy = fy[r0:r1, None, None]
        rows = flat[y0[r0:r1]] * (1 - wy) + flat[y1[r0:r1]] * wy  # (rows, w, 12): vertical first
        c = cv2.resize(rows, (W, r1 - r0), interpolation=cv2.INTER_LINEAR) if w != W else rows
        c = c.reshape(r1 - r0, W, 4, 3)
        src = _as_unit_float(image[r0:r1])
        res = c[:, :, 3, :].copy()
        for k in range(3):
            res += c[:, :, k, :] * src[:, :, k:k + 1]
        np.clip(res, 0, 1, out=out[r0:r1])
    return out


def guided_upsample(lo_input: np.ndarray, lo_output: np.ndarray, image: np.ndarray, *,
                    radius: int = DEFAULT_RADIUS, eps: float = DEFAULT_EPS, out: np.ndarray | None = None,
                    strip_rows: int = STRIP_ROWS) -> np.ndarray:
    """Carry the change `lo_input → lo_output` (low resolution) to `image` (full resolution of lo_input)."""
    return apply_affine(fit_affine(lo_input, lo_output, radius, eps), image, out=out, strip_rows=strip_rows)
