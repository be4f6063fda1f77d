"""Realistic, randomised, seeded degradation generators (numpy + cv2 only, no torch).

Each generator takes a clean float32 H×W×3 sRGB image in [0, 1] and a seed (an ``int`` or a
``numpy.random.Generator``) and returns a new float32 H×W×3 image in [0, 1]; the input is never
modified. Every random choice is drawn from that generator, so the same seed gives a bit-identical
result. Parameters are sampled per call and span mild to strong degradations; the ranges are in each
generator's docstring.

The physics is modelled where it matters: exposure, sensor noise, haze and motion blur act on *linear*
light (sRGB decoded), because that is where a camera integrates photons; rain streaks and snow flakes
are composited in sRGB over a scene that is first veiled in linear light. Outputs are quantised to
8 bits and sometimes JPEG-compressed, as real photos are.

They feed a training loop on a small CPU, so everything is vectorised: no per-pixel Python, per-channel
scaling via ``cv2.transform`` and per-pixel maps as contiguous 3-channel arrays (numpy broadcasting over
a trailing axis of 3 is ~10× slower), large convolutions through the DFT. A 256×256 crop takes a few
milliseconds per task on one core.

Rain streak and snow flake sizes scale with s = ``sqrt(H·W) / 256`` clipped to [0.5, 3] and their
counts with ``H·W / s²`` (densities below are per pixel of a 256×256 crop), so a 256 px crop and a
512 px sample photo look alike; blur kernel sizes do not scale (they are meant in pixels of the crop,
like the blur in the photos the model will see). A caller that degrades a small window of a larger
photo (a 96 px training crop, whose own size would give s = 0.5) passes ``scale=`` to `rain` and `snow`
to draw the streaks and flakes at the size they have on the whole photo.

    >>> degraded = degrade(clean, "rain", 1234)   # or rain(clean, np.random.default_rng(1234))
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import sys
from collections.abc import Callable

import cv2
import numpy as np

__all__ = [
    "TASKS",
    "blur",
    "convolve",
    "degrade",
    "haze",
    "linear_motion_kernel",
    "linear_to_srgb",
    "low_light",
    "rain",
    "shake_kernel",
    "snow",
    "srgb_to_linear",
    "tune_malloc",
]

TASKS = ("low-light", "haze", "rain", "snow", "blur")
RAIN_MAX_DENSITY = 3.0  # the default top of rain's global density range (drizzle 0.3 … downpour 3)

_LUMA = np.array([[0.2126, 0.7152, 0.0722]], np.float32)  # Rec.709 luminance weights (sRGB primaries)
_DIRECT_CONV_MAX = 11  # kernels up to this size: cv2.filter2D is faster than the DFT

# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _as_rng(rng: np.random.Generator | int) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator or an int seed, not {type(rng).__name__}")


def _as_image(clean: np.ndarray) -> np.ndarray:
    """Validate; return a private float32, C-contiguous copy clipped to [0, 1] (values must be finite)."""
    a = np.asarray(clean)
    if a.ndim != 3 or a.shape[2] != 3 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"expected an H×W×3 RGB image, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"expected a float image in [0, 1], got dtype {a.dtype}")
    return np.ascontiguousarray(np.clip(a.astype(np.float32, copy=False), 0.0, 1.0))  # a new array


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _logu(rng: np.random.Generator, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def _scale(h: int, w: int, scale: float | None = None) -> float:
    """The size of rain and snow features relative to a 256 px crop: from the image size, or `scale`."""
    if scale is None:
        return min(max(math.sqrt(h * w) / 256.0, 0.5), 3.0)
    if not (math.isfinite(scale) and 0.1 <= scale <= 10.0):
        raise ValueError(f"scale must be a number in [0.1, 10], got {scale!r}")
    return float(scale)


def _f32(v: float) -> np.float32:
    return np.float32(v)


def _rgb(m: np.ndarray) -> np.ndarray:
    """H×W map -> contiguous H×W×3 (so that elementwise ops with an image take numpy's fast path)."""
    return cv2.merge([m, m, m])


def _affine(x: np.ndarray, gain, offset=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Per-channel ``x * gain + offset`` for an H×W×3 image (one SIMD pass via cv2.transform)."""
    m = np.zeros((3, 4), np.float32)
    m[[0, 1, 2], [0, 1, 2]] = np.broadcast_to(np.asarray(gain, np.float32), 3)
    m[:, 3] = np.broadcast_to(np.asarray(offset, np.float32), 3)
    return cv2.transform(x, m)


def _mask_le(x: np.ndarray, thr: float) -> np.ndarray:
    """Float mask, 1 where x <= thr else 0 (cv2.threshold: faster than a bool mask + np.where)."""
    return cv2.threshold(x, thr, 1.0, cv2.THRESH_BINARY_INV)[1]


def _pow(x: np.ndarray, p: float) -> np.ndarray:
    """x**p for float32 x > 0 as exp(p·log x): cv2's SIMD exp/log are 2× faster than cv2.pow.

    Callers keep x away from exact zeros (cv2.log takes a slow scalar path on them, 8× slower).
    """
    if x.ndim < 2:  # cv2 would turn a vector into a column
        return np.power(x, _f32(p))
    return cv2.exp(cv2.log(x) * _f32(p))


def _decode(x: np.ndarray) -> np.ndarray:
    """sRGB -> linear (IEC 61966-2-1) for float32 x already in [0, 1]."""
    hi = _pow(x * _f32(1.0 / 1.055) + _f32(0.055 / 1.055), 2.4)  # base >= 0.052, never 0
    if x.ndim < 2:
        return np.where(x <= 0.04045, x * _f32(1.0 / 12.92), hi)
    lo = x * _f32(1.0 / 12.92)
    lo -= hi
    lo *= _mask_le(x, 0.04045)
    lo += hi
    return lo


def _encode(x: np.ndarray) -> np.ndarray:
    """linear -> sRGB (IEC 61966-2-1) for any float32 x; clipped to [0, 1] first."""
    x = np.clip(x, 1e-12, 1.0)  # 1e-12 instead of 0 keeps cv2.log on its fast path; encodes to ~1e-11
    hi = _pow(x, 1.0 / 2.4) * _f32(1.055) - _f32(0.055)
    if x.ndim < 2:
        return np.where(x <= 0.0031308, x * _f32(12.92), hi)
    lo = x * _f32(12.92)
    lo -= hi
    lo *= _mask_le(x, 0.0031308)
    lo += hi
    return lo


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 sRGB decoding; input clipped to [0, 1], float32 out."""
    return _decode(np.clip(np.asarray(x, dtype=np.float32), 0.0, 1.0))


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 sRGB encoding; input clipped to [0, 1], float32 out."""
    return _encode(np.asarray(x, dtype=np.float32))


def _luma(x: np.ndarray) -> np.ndarray:
    return cv2.transform(x, _LUMA)


def _normal_quantiles(n: int = 65536) -> np.ndarray:
    """The n equiprobable quantiles (midpoints) of N(0, 1), by Acklam's inverse-CDF (rel. error ~1e-9)."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    p = (np.arange(n) + 0.5) / n
    tail = np.minimum(p, 1.0 - p)
    q = np.sqrt(-2.0 * np.log(tail))
    x_tail = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
        (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0
    )
    x_tail = np.where(p < 0.5, x_tail, -x_tail)
    q = p - 0.5
    r = q * q
    x_mid = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (
        ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0
    )
    x = np.where(tail < 0.02425, x_tail, x_mid)
    return (x / x.std()).astype(np.float32)


_NORMAL = _normal_quantiles()  # 256 KB, built once at import (~2 ms)


def _randn(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal float32 noise: 16 random bits per value index a table of 65536 normal quantiles.

    3× faster than Generator.standard_normal; the values are N(0, 1) quantised to 2^16 levels, up to
    ±4.3σ, which is all sensor noise needs.
    """
    n = math.prod(shape)
    idx = rng.bit_generator.random_raw((n + 3) // 4).view(np.uint16)[:n]
    return np.take(_NORMAL, idx).reshape(shape)


def _smooth_field(rng: np.random.Generator, h: int, w: int, cells: float, octaves: int = 2) -> np.ndarray:
    """Low-frequency random field in [0, 1]: coarse Gaussian grids upsampled, summed over octaves.

    `cells` is the number of grid cells along the longer side of the coarsest octave. Bicubic up to
    at most 64 px, then bilinear to full size (bicubic straight to 256 px is 10× slower and no
    smoother at these frequencies).
    """
    f = min(1.0, 64.0 / max(h, w))
    mh, mw = max(2, round(h * f)), max(2, round(w * f))
    field = np.zeros((mh, mw), np.float32)
    amp = 1.0
    for _ in range(octaves):
        gh = max(2, round(cells * h / max(h, w)) + 1)
        gw = max(2, round(cells * w / max(h, w)) + 1)
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        field += _f32(amp) * cv2.resize(grid, (mw, mh), interpolation=cv2.INTER_CUBIC)
        cells *= 2.0
        amp *= 0.5
    lo, hi = float(field.min()), float(field.max())  # bilinear upsampling stays within [lo, hi]
    field = (field - _f32(lo)) * _f32(1.0 / max(hi - lo, 1e-6))
    return cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)


def _quantize8(x: np.ndarray) -> np.ndarray:
    u8 = (np.clip(x, 0.0, 1.0) * _f32(255.0) + _f32(0.5)).astype(np.uint8)
    return u8.astype(np.float32) * _f32(1.0 / 255.0)


def _jpeg(x: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip through an 8-bit JPEG at `quality` (cv2 codecs are BGR, so convert for correct chroma)."""
    u8 = (np.clip(x, 0.0, 1.0) * _f32(255.0) + _f32(0.5)).astype(np.uint8)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR), params)
    if not ok:  # pragma: no cover - cv2 always has a JPEG codec
        return u8.astype(np.float32) * _f32(1.0 / 255.0)
    dec = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return dec.astype(np.float32) * _f32(1.0 / 255.0)


def _maybe_jpeg(rng: np.random.Generator, x: np.ndarray, p: float, qlo: int, qhi: int) -> np.ndarray:
    """With probability p, JPEG at a quality uniform in [qlo, qhi]; otherwise 8-bit quantisation."""
    use = rng.random() < p
    q = int(rng.integers(qlo, qhi + 1))
    return _jpeg(x, q) if use else _quantize8(x)


def _finish(img: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.clip(img, 0.0, 1.0), dtype=np.float32)


def _splat(h: int, w: int, xs: np.ndarray, ys: np.ndarray, wts: np.ndarray) -> np.ndarray:
    """Bilinearly splat weighted points onto an h×w float32 canvas (vectorised, via bincount)."""
    x0 = np.floor(xs)
    y0 = np.floor(ys)
    fx = xs - x0
    fy = ys - y0
    x0 = x0.astype(np.int64)
    y0 = y0.astype(np.int64)
    idx, val = [], []
    corners = ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy))
    for dx, dy, wt in corners:
        xi, yi = x0 + dx, y0 + dy
        ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        idx.append((yi * w + xi)[ok])
        val.append((wts * wt)[ok])
    acc = np.bincount(np.concatenate(idx), np.concatenate(val), minlength=h * w)
    return acc.reshape(h, w).astype(np.float32)


def _seeds(rng: np.random.Generator, h: int, w: int, count: int, vmin: float, vmax: float) -> np.ndarray:
    """h×w float32 canvas with `count` random single-pixel impulses of value in [vmin, vmax]."""
    idx = rng.integers(0, h * w, count)
    vals = rng.uniform(vmin, vmax, count)
    return np.bincount(idx, vals, minlength=h * w).reshape(h, w).astype(np.float32)


def convolve(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """True 2-D convolution of a 1- or 3-channel float32 image, reflect borders (cv2.BORDER_REFLECT).

    Kernels up to 11 px use ``cv2.filter2D`` (on the flipped kernel, since filter2D correlates); larger
    ones go through cv2's real DFT on the reflect-padded image, which is 2× faster there and equal to
    filter2D to ~1e-6.
    """
    img = np.ascontiguousarray(img, dtype=np.float32)
    kernel = np.ascontiguousarray(kernel, dtype=np.float32)
    kh, kw = kernel.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"kernel sides must be odd, got {kernel.shape}")
    if max(kh, kw) <= _DIRECT_CONV_MAX:
        return cv2.filter2D(img, -1, cv2.flip(kernel, -1), borderType=cv2.BORDER_REFLECT)
    h, w = img.shape[:2]
    ph, pw = kh // 2, kw // 2
    fh = cv2.getOptimalDFTSize(h + 2 * ph)
    fw = cv2.getOptimalDFTSize(w + 2 * pw)
    padded = cv2.copyMakeBorder(img, ph, fh - h - ph, pw, fw - w - pw, cv2.BORDER_REFLECT)
    kpad = np.zeros((fh, fw), np.float32)
    kpad[:kh, :kw] = kernel
    spec_k = cv2.dft(kpad)
    chans = [padded] if padded.ndim == 2 else cv2.split(padded)
    out = []
    for c in chans:  # circular convolution; the kernel's wrap-around lands in the discarded padding
        y = cv2.idft(cv2.mulSpectrums(cv2.dft(c), spec_k, 0), flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
        out.append(y[2 * ph : 2 * ph + h, 2 * pw : 2 * pw + w])
    return np.ascontiguousarray(out[0]) if img.ndim == 2 else cv2.merge(out)


def _odd(n: float) -> int:
    n = math.ceil(n)
    return n + 1 - n % 2


def _line_kernel(length: float, angle: float, width: float = 0.0) -> np.ndarray:
    """Linear-motion PSF (sum 1): `length` px at `angle` radians from vertical, Gaussian cross-section
    of std `width`, uniform exposure along the line."""
    length = max(float(length), 1.0)
    half = length / 2.0
    size = _odd(2 * (half + 3 * width + 1.5))
    c = size // 2
    n = max(2, int(length * 4) + 1)
    t = np.linspace(-half, half, n)
    k = _splat(size, size, c + t * math.sin(angle), c + t * math.cos(angle), np.ones(n))
    if width > 0.05:
        k = cv2.GaussianBlur(k, (0, 0), width)
    return k * _f32(1.0 / max(float(k.sum()), 1e-12))


def _fit_kernel(k: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop or zero-pad an odd square kernel to size×size and renormalise it to sum 1."""
    s = k.shape[0]
    if s > size:
        o = (s - size) // 2
        k = k[o : o + size, o : o + size]
    elif s < size:
        o = (size - s) // 2
        k = cv2.copyMakeBorder(k, o, o, o, o, cv2.BORDER_CONSTANT, value=0)
    k = np.ascontiguousarray(k, dtype=np.float32)
    return k * _f32(1.0 / max(float(k.sum()), 1e-12))


def _kernel_size(rng: np.random.Generator) -> int:
    return 2 * int(rng.integers(3, 16)) + 1  # odd, 7..31


def linear_motion_kernel(rng: np.random.Generator | int, size: int | None = None) -> np.ndarray:
    """Uniform linear motion blur PSF (sum 1): length 45–100 % of `size` (odd, 7–31 px), any direction."""
    rng = _as_rng(rng)
    size = _kernel_size(rng) if size is None else int(size)
    length = _u(rng, 0.45, 1.0) * (size - 2)
    angle = _u(rng, 0.0, math.pi)
    return _fit_kernel(_line_kernel(length, angle, width=_u(rng, 0.0, 0.5)), size)


def shake_kernel(rng: np.random.Generator | int, size: int | None = None) -> np.ndarray:
    """Camera-shake PSF (sum 1): a random-walk trajectory rasterised with equal exposure per time step.

    The camera velocity is an initial drift (0–2.5× the random part: nearly straight to curly) plus
    integrated random accelerations with rare large jerks (4 % of steps, ×3–8), as in Boracchi & Foi
    (2012). The path fills 60–100 % of a `size`×`size` kernel (odd, 7–31 px by default), is sampled
    uniformly in *time* (slow parts of the path collect more light, as on a real sensor) and smoothed
    by σ 0.3–0.6 px (lens PSF).
    """
    rng = _as_rng(rng)
    size = _kernel_size(rng) if size is None else int(size)
    steps = 64
    acc = rng.standard_normal((steps, 2))
    jerks = rng.random(steps) < 0.04
    acc[jerks] *= rng.uniform(3.0, 8.0, size=(int(jerks.sum()), 1))
    drift = _u(rng, 0.0, 2.5) * math.sqrt(steps)
    phi = _u(rng, 0.0, 2.0 * math.pi)
    vel = np.cumsum(acc, axis=0) + drift * np.array([math.cos(phi), math.sin(phi)])
    pos = np.cumsum(vel, axis=0)
    extent = float(np.ptp(pos, axis=0).max())
    target = (size - 3) * _u(rng, 0.6, 1.0)
    pos = (pos - (pos.max(0) + pos.min(0)) / 2) * (target / max(extent, 1e-9)) + size // 2
    n = max(steps, 6 * size) * 4
    ts = np.linspace(0, steps - 1, n)
    xs = np.interp(ts, np.arange(steps), pos[:, 0])
    ys = np.interp(ts, np.arange(steps), pos[:, 1])
    k = cv2.GaussianBlur(_splat(size, size, xs, ys, np.ones(n)), (0, 0), _u(rng, 0.3, 0.6))
    return k * _f32(1.0 / max(float(k.sum()), 1e-12))


def _guided_coeffs(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """He et al. guided filter with box filters: returns mean(a), mean(b); the output is a·guide + b.

    Computed on a downscaled guide and upsampled, this is the "fast guided filter": `src` smoothed
    while following the edges of the full-resolution guide.
    """
    ks = (2 * r + 1, 2 * r + 1)

    def mean(a):
        return cv2.boxFilter(a, -1, ks, borderType=cv2.BORDER_REFLECT)

    mi, mp = mean(guide), mean(src)
    var_i = mean(guide * guide) - mi * mi
    cov = mean(guide * src) - mi * mp
    a = cov / (var_i + _f32(eps))
    b = mp - a * mi
    return mean(a), mean(b)


def _vertical(h: int) -> np.ndarray:
    """h×1 column going 1 (top row) -> 0 (bottom row)."""
    return np.linspace(1.0, 0.0, h, dtype=np.float32)[:, None] if h > 1 else np.ones((1, 1), np.float32)


def _veil(lin: np.ndarray, rng: np.random.Generator, vmax: float, air: np.ndarray) -> np.ndarray:
    """Scattering veil in linear light: lin + v·(air − lin), v = U(0, vmax) × (0.4 + 0.6·height)."""
    h, w = lin.shape[:2]
    v = _f32(_u(rng, 0.0, vmax)) * (_f32(0.4) + _f32(0.6) * _vertical(h))
    diff = _affine(lin, -1.0, air)
    diff *= _rgb(np.ascontiguousarray(np.broadcast_to(v, (h, w))))
    diff += lin
    return diff


# --------------------------------------------------------------------------------------------------
# low light
# --------------------------------------------------------------------------------------------------


def low_light(clean: np.ndarray, rng: np.random.Generator | int) -> np.ndarray:
    """Under-exposed, noisy night/indoor shot.

    Linear light: exposure × 0.03–0.3 (log-uniform, 1.7–5 stops under); uneven illumination, since
    night scenes are lit by local sources: vignetting 0–50 % at the corners and a smooth light field
    within e^±(0–0.45); a white-balance cast from tungsten/sodium (warm) to LED/moonlight (cool):
    red/blue gains 1 ± 0.3·temp with temp in [−0.6, 1], plus ±5 % per-channel jitter. Then
    Poisson-Gaussian sensor noise, variance = a·signal + σr², shot gain a 1e-4–4e-3, read noise
    σr 5e-4–3e-3 (log-uniform; a mid-tone's SNR from ~15 down to ~2); 0–80 % of it shared by the
    three channels (luminance noise left by the camera's chroma denoising), and spatially correlated
    by demosaicing (Gaussian σ 0.4–0.8 px) half of the time. Back in sRGB: tone-curve gamma 0.85–1.2,
    black-level crush 0–3 %, 8-bit, and JPEG q 35–90 with probability 0.6 (phones compress night
    shots hard).
    """
    x = _as_image(clean)
    rng = _as_rng(rng)
    h, w = x.shape[:2]

    exposure = _logu(rng, 0.03, 0.3)
    half_diag2 = max(((w - 1) / 2) ** 2 + ((h - 1) / 2) ** 2, 1.0)
    dy2 = (np.arange(h, dtype=np.float32)[:, None] - _f32((h - 1) / 2)) ** 2 * _f32(1.0 / half_diag2)
    dx2 = (np.arange(w, dtype=np.float32)[None, :] - _f32((w - 1) / 2)) ** 2 * _f32(1.0 / half_diag2)
    illum = _f32(1.0) - _f32(_u(rng, 0.0, 0.5)) * (dy2 + dx2)
    uneven = _u(rng, 0.0, 0.45)
    field = _smooth_field(rng, h, w, cells=_u(rng, 1.5, 4.0))
    illum *= cv2.exp(field * _f32(2.0 * uneven) - _f32(uneven))
    temp = _u(rng, -0.6, 1.0)
    gains = np.array([1.0 + 0.3 * temp, 1.0, 1.0 - 0.3 * temp]) * np.exp(rng.normal(0.0, 0.05, 3))
    gains *= exposure / gains.mean()
    sig = _affine(_decode(x), gains)
    sig *= _rgb(illum)

    shot = _logu(rng, 1e-4, 4e-3)
    read = _logu(rng, 5e-4, 3e-3)
    rho = _u(rng, 0.0, 0.8)
    noise = cv2.addWeighted(
        _randn(rng, (h, w, 3)), math.sqrt(1.0 - rho), _rgb(_randn(rng, (h, w))), math.sqrt(rho), 0.0
    )
    if rng.random() < 0.5:
        g = cv2.getGaussianKernel(5, _u(rng, 0.4, 0.8))
        noise = cv2.sepFilter2D(noise, -1, g, g, borderType=cv2.BORDER_REFLECT)
        noise *= _f32(1.0 / float((g**2).sum()))  # back to unit variance
    std = cv2.sqrt(sig * _f32(shot) + _f32(read * read))
    noise *= std
    sig += noise

    out = _encode(sig)
    gamma = _u(rng, 0.85, 1.2)
    black = _u(rng, 0.0, 0.03)
    out = _pow(np.clip((out - _f32(black)) * _f32(1.0 / (1.0 - black)), 1e-12, 1.0), gamma)
    return _finish(_maybe_jpeg(rng, out, 0.6, 35, 90))


# --------------------------------------------------------------------------------------------------
# haze
# --------------------------------------------------------------------------------------------------


def _haze_depth(lum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Depth proxy in [0, 1] (1 = far) from the luminance: vertical gradient + random relief + sky.

    Built at <= 64 px (it is smooth) and brought back to full size with a fast guided filter, so that
    depth steps land on the full-resolution image edges.
    """
    h, w = lum.shape
    f = min(1.0, 64.0 / max(h, w))
    lh, lw = max(2, round(h * f)), max(2, round(w * f))
    small = cv2.resize(lum, (lw, lh), interpolation=cv2.INTER_AREA)
    top = _vertical(lh)  # 1 at the top
    xs = np.linspace(-0.5, 0.5, lw, dtype=np.float32)[None, :]
    tilt = _u(rng, -0.3, 0.3)
    vert = np.clip(top * _f32(_u(rng, 0.8, 1.2)) + _f32(tilt) * xs, 0.0, 1.0)
    vert = vert ** _f32(_u(rng, 0.6, 1.8))
    relief = _smooth_field(rng, lh, lw, cells=_u(rng, 1.5, 5.0))
    wn = _f32(_u(rng, 0.15, 0.5))
    depth = (_f32(1.0) - wn) * vert + wn * relief

    # sky: bright, low-texture, towards the top -> as far as it gets
    m = cv2.boxFilter(small, -1, (3, 3), borderType=cv2.BORDER_REFLECT)
    m2 = cv2.boxFilter(small * small, -1, (3, 3), borderType=cv2.BORDER_REFLECT)
    sd = cv2.sqrt(np.maximum(m2 - m * m, 0))
    sky = np.clip((m - 0.45) * 3.3, 0, 1) * np.clip(1.0 - sd * 20.0, 0, 1) * np.clip((top - 0.3) * 2.5, 0, 1)
    depth = np.maximum(depth, cv2.GaussianBlur(sky, (0, 0), 1.0)).astype(np.float32)

    # follow object boundaries: depth changes at image edges, not in smooth blobs
    a, b = _guided_coeffs(small, depth, max(1, round(min(lh, lw) / 16)), 1e-3)
    a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(a * lum + b, 0.0, 1.0)


def haze(clean: np.ndarray, rng: np.random.Generator | int) -> np.ndarray:
    """Atmospheric scattering I = J·t + A·(1 − t), t = exp(−β·d), computed in linear light.

    Depth d: a vertical gradient (farther towards the top; exponent 0.6–1.8, ±0.3 left-right tilt)
    mixed with 15–50 % smooth random relief, bright low-texture regions near the top pushed to the far
    plane (sky), refined with a guided filter so depth steps follow object edges; then mapped to
    [d_near, 1] with d_near 0.05–0.35 (nothing is at zero distance). Density β 0.25–2.5
    (log-uniform): far-plane transmission from ~0.8 (light mist) to ~0.08 (dense fog). Airlight A:
    brightness 0.65–1.0, grey (50 %), bluish (25 %) or yellowish/smoggy (25 %), ±3 % per channel.
    8-bit, JPEG q 70–95 with probability 0.3.
    """
    x = _as_image(clean)
    rng = _as_rng(rng)
    depth = _haze_depth(_luma(x), rng)
    d_near = _u(rng, 0.05, 0.35)
    beta = _logu(rng, 0.25, 2.5)
    t = cv2.exp(depth * _f32(-beta * (1.0 - d_near)) + _f32(-beta * d_near))  # exp(-β(d_near + (1-d_near)d))

    kind = rng.random()
    if kind < 0.5:
        tint = np.array([1.0, 1.0, 1.0])
    elif kind < 0.75:
        tint = np.array([0.84, 0.92, 1.0])
    else:
        tint = np.array([1.0, 0.96, 0.86])
    air = np.clip(tint * _u(rng, 0.65, 1.0) + rng.uniform(-0.03, 0.03, 3), 0.0, 1.0).astype(np.float32)
    air_lin = _decode(air)

    out = _affine(_decode(x), 1.0, -air_lin)  # J - A
    out *= _rgb(t)
    out = _encode(_affine(out, 1.0, air_lin))  # A + t(J - A)
    return _finish(_maybe_jpeg(rng, out, 0.3, 70, 95))


# --------------------------------------------------------------------------------------------------
# rain
# --------------------------------------------------------------------------------------------------


def _streak_layer(
    rng: np.random.Generator,
    h: int,
    w: int,
    angle: float,
    length: float,
    width: float,
    density: float,
    amp: float,
) -> np.ndarray:
    """One layer of rain streaks (peak values in [0.4, 1]·amp), `angle` radians from vertical.

    Drawn in a frame rotated so that the streaks are vertical there: random impulses, then a
    trapezoid motion blur along the columns (two box filters, O(1) per pixel whatever the length:
    a flat body with fading ends) and a Gaussian cross-section of std `width` along the rows, then
    warped back onto the image. `density` is streaks per canvas pixel.
    """
    ca, sa = math.cos(angle), math.sin(angle)
    pad = math.ceil(3 * width) + 2
    half_len = math.ceil(length / 2) + pad
    cw = math.ceil(abs(w * ca) + abs(h * sa)) + 2 * pad
    ch = math.ceil(abs(w * sa) + abs(h * ca)) + 2 * half_len  # streaks may start off-image
    canvas = _seeds(rng, ch, cw, int(rng.poisson(density * ch * cw)), 0.4 * amp, amp)
    ramp = max(1, round(0.25 * length))
    body = max(1, round(length) - ramp + 1)
    canvas = cv2.boxFilter(canvas, -1, (1, body), normalize=False, borderType=cv2.BORDER_CONSTANT)
    canvas = cv2.boxFilter(canvas, -1, (1, ramp), normalize=False, borderType=cv2.BORDER_CONSTANT)
    g = cv2.getGaussianKernel(_odd(6 * width + 1), max(width, 0.3), cv2.CV_32F)
    gx = g * _f32(1.0 / (float(g.max()) * min(body, ramp)))  # peak of a streak = its impulse value
    canvas = cv2.sepFilter2D(canvas, -1, gx, np.ones((1, 1), np.float32), borderType=cv2.BORDER_CONSTANT)
    # output pixel (x, y) samples the canvas at R·((x, y) − image centre) + canvas centre
    cx, cy, ccx, ccy = (w - 1) / 2, (h - 1) / 2, (cw - 1) / 2, (ch - 1) / 2
    m = np.array(
        [[ca, -sa, ccx - ca * cx + sa * cy], [sa, ca, ccy - sa * cx - ca * cy]], np.float64
    )
    return cv2.warpAffine(
        canvas, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT
    )


def rain(clean: np.ndarray, rng: np.random.Generator | int, *, scale: float | None = None,
         max_density: float = RAIN_MAX_DENSITY) -> np.ndarray:
    """Rain streaks over a dimmed, veiled scene.

    Atmosphere (linear light): overcast dimming × 0.65–1.0 and a grey-blue veil of 0–35 % (falling rain
    scatters light: contrast loss, stronger towards the far top). Streaks: 2–4 depth layers, from far
    (short ~8 px, thin σ ≈ 0.4 px, dense ~1 % of pixels) to near (long ~60 px, wide σ ≈ 1.6 px,
    sparse ~0.05 %: near drops are brighter but defocused, so every layer peaks at ~0.5), lengths
    ±30 %, sizes scaled with the image (or `scale`). Global density × 0.3–`max_density` (3 by default,
    log-uniform) and brightness × 0.5–1.1 span drizzle to downpour. The layers share a wind angle
    N(0, 12°) clipped to ±35° from vertical (±2° per layer); each streak is a motion-blurred drop with fading ends and brightness 0.4–1,
    modulated by a smooth gust field (45–100 %). Streaks are screen-blended (rain only adds light)
    with a near-white colour tinted 10 % by the scene's mean colour. 8-bit, JPEG q 70–95 with
    probability 0.3.
    """
    x = _as_image(clean)
    rng = _as_rng(rng)
    h, w = x.shape[:2]
    s = _scale(h, w, scale)
    if not (math.isfinite(max_density) and 0.3 < max_density <= 50.0):
        raise ValueError(f"max_density must be in (0.3, 50], got {max_density!r}")

    dim = _u(rng, 0.65, 1.0)
    air = _decode(np.array([0.95, 0.98, 1.0], np.float32) * _f32(_u(rng, 0.45, 0.8)))
    bg = _encode(_veil(_decode(x) * _f32(dim), rng, 0.35, air))

    theta = float(np.clip(rng.normal(0.0, math.radians(12)), -math.radians(35), math.radians(35)))
    dens_g = _logu(rng, 0.3, max_density)
    amp_g = _u(rng, 0.5, 1.1)
    n_layers = int(rng.integers(2, 5))
    streaks = np.zeros((h, w), np.float32)
    for i in range(n_layers):
        z = (i + _u(rng, 0.0, 1.0)) / n_layers  # 0 = far, 1 = near
        length = (8.0 + 52.0 * z) * _u(rng, 0.7, 1.3) * s
        width = (0.4 + 1.2 * z) * _u(rng, 0.8, 1.2) * s
        density = 10.0 ** (-2.0 - 1.3 * z) * _u(rng, 0.5, 1.5) * dens_g
        amp = (0.5 + 0.3 * z) * amp_g / (1.0 + 0.6 * z * z)  # near drops: brighter but defocused
        angle = theta + float(rng.normal(0.0, math.radians(2)))
        streaks += _streak_layer(rng, h, w, angle, length, width, density / (s * s), amp)
    gust = _smooth_field(rng, h, w, cells=_u(rng, 1.5, 4.0))
    streaks *= gust * _f32(0.55) + _f32(0.45)
    np.clip(streaks, 0.0, 1.0, out=streaks)

    mean = np.array(cv2.mean(x)[:3])  # (numpy's axis-0 mean over 3 columns is 20× slower)
    colour = (0.9 + 0.1 * mean / max(float(mean.max()), 1e-3)) * _u(rng, 0.85, 1.0)
    rain_rgb = _affine(_rgb(streaks), colour)
    out = bg + rain_rgb  # screen: 1 - (1 - bg)(1 - r) = bg + r - bg·r
    out -= bg * rain_rgb
    return _finish(_maybe_jpeg(rng, out, 0.3, 70, 95))


# --------------------------------------------------------------------------------------------------
# snow
# --------------------------------------------------------------------------------------------------


def _gauss_blobs(
    rng: np.random.Generator, h: int, w: int, count: int, sigma: float, vmin: float, vmax: float
) -> np.ndarray:
    """`count` Gaussian blobs of std `sigma` with peak values in [vmin, vmax] (impulses + blur)."""
    seeds = _seeds(rng, h, w, count, vmin, vmax)
    g = cv2.getGaussianKernel(_odd(6 * sigma + 1), sigma)
    out = cv2.sepFilter2D(seeds, -1, g, g, borderType=cv2.BORDER_REFLECT)
    out *= _f32(1.0 / float(g.max()) ** 2)
    return out


def _big_flakes(rng: np.random.Generator, h: int, w: int, count: int, rmin: float, rmax: float) -> np.ndarray:
    """Large irregular (elliptic) flakes, anti-aliased, per-flake opacity 0.5–1."""
    canvas = np.zeros((h, w), np.uint8)
    cx = rng.uniform(0, w, count)
    cy = rng.uniform(0, h, count)
    ra = rng.uniform(rmin, rmax, count)
    rb = ra * rng.uniform(0.6, 1.0, count)
    ang = rng.uniform(0, 180, count)
    val = rng.uniform(0.5, 1.0, count)
    for i in range(count):  # a handful of flakes (not pixels); cv2 fixed point with 3 fractional bits
        centre = (int(cx[i] * 8), int(cy[i] * 8))
        axes = (max(1, int(ra[i] * 8)), max(1, int(rb[i] * 8)))
        cv2.ellipse(canvas, centre, axes, float(ang[i]), 0, 360, int(255 * val[i]), -1, cv2.LINE_AA, 3)
    return canvas.astype(np.float32) * _f32(1.0 / 255.0)


def snow(clean: np.ndarray, rng: np.random.Generator | int, *, scale: float | None = None) -> np.ndarray:
    """Falling snow: three flake scales with partial transparency, optional motion blur, and a veil.

    Veil (linear light): 0–30 % towards a bright, slightly bluish grey 0.7–0.95, stronger at the top.
    Flakes, alpha-composited far to near, sizes scaled with the image: fine and dense (0.2–1.2 % of
    pixels, Gaussian σ 0.5–0.9 px, opacity 0.3–0.9); medium (0.03–0.2 %, σ 1–2 px, opacity 0.5–1
    boosted ×1.3–1.8 and saturated: flat-topped soft discs); large out-of-focus flakes near the lens
    (0–1.5 per 10⁴ px, elliptic, radius 3–10 px, blurred by 20–50 % of the radius, translucent
    0.25–0.7; none 30 % of the time). Global amount × 0.4–2.5 (log-uniform). With probability 0.6
    the flakes move: motion-blurred along a common fall direction N(0, 20°) by up to 4/8/12 px
    (fine/medium/large; brightness partly compensated so streaked flakes stay visible). Sizes and
    lengths scale with the image (or `scale`). Flake colour
    near-white 0.85–1.0; a smooth field (50–100 %) makes the snowfall patchy. 8-bit, JPEG q 70–95
    with probability 0.3.
    """
    x = _as_image(clean)
    rng = _as_rng(rng)
    h, w = x.shape[:2]
    s = _scale(h, w, scale)
    area = h * w / (s * s)  # in pixels of a 256 px crop: same look at any resolution

    air = _decode(np.array([0.96, 0.98, 1.0], np.float32) * _f32(_u(rng, 0.7, 0.95)))
    out = _encode(_veil(_decode(x), rng, 0.3, air))

    amount = _logu(rng, 0.4, 2.5)
    moving = rng.random() < 0.6
    fall = math.radians(float(np.clip(rng.normal(0.0, 20.0), -50, 50)))
    patch = _smooth_field(rng, h, w, cells=_u(rng, 1.5, 4.0)) * _f32(0.5) + _f32(0.5)

    n_fine = int(rng.poisson(_logu(rng, 2e-3, 1.2e-2) * area * amount))
    fine = _gauss_blobs(rng, h, w, n_fine, _u(rng, 0.5, 0.9) * s, 0.3, 0.9)
    n_med = int(rng.poisson(_logu(rng, 3e-4, 2e-3) * area * amount))
    med = _gauss_blobs(rng, h, w, n_med, _u(rng, 1.0, 2.0) * s, 0.5, 1.0)
    med = np.minimum(med * _f32(_u(rng, 1.3, 1.8)), 1.0)  # flat-topped soft discs
    layers = [fine, med]
    if rng.random() < 0.7:
        n_big = int(rng.poisson(_u(rng, 0.0, 1.5e-4) * area * min(amount, 1.5)))
        rmin, rmax = 3.0 * s, 10.0 * s
        big = _big_flakes(rng, h, w, n_big, rmin, rmax)
        big = cv2.GaussianBlur(big, (0, 0), _u(rng, 0.2, 0.5) * (rmin + rmax) / 2)
        big *= _f32(_u(rng, 0.25, 0.7))
        layers.append(big)

    tint = np.array([0.97, 0.985, 1.0]) * _u(rng, 0.85, 1.0)
    for layer, max_len in zip(layers, (4.0, 8.0, 12.0)[: len(layers)], strict=True):
        if moving:
            length = _u(rng, 0.0, max_len) * s
            if length > 1.5:
                k = _line_kernel(length, fall + float(rng.normal(0.0, 0.05)))
                layer = convolve(layer, k) * _f32(min(math.sqrt(length), 3.0))
        alpha = np.clip(layer * patch, 0.0, 1.0)
        diff = _affine(out, -1.0, tint)  # out + α(tint − out)
        diff *= _rgb(alpha)
        out += diff
    return _finish(_maybe_jpeg(rng, out, 0.3, 70, 95))


# --------------------------------------------------------------------------------------------------
# blur
# --------------------------------------------------------------------------------------------------


def blur(clean: np.ndarray, rng: np.random.Generator | int) -> np.ndarray:
    """Motion blur in linear light, then mild sensor noise.

    Kernel: camera shake (65 %, random-walk trajectory, see `shake_kernel`) or linear motion (35 %,
    length 45–100 % of the kernel, any direction); kernel size odd, uniform in 7–31 px (mild to
    strong). Convolution with reflect borders (`convolve`). Noise: Poisson-Gaussian in linear light,
    shot gain 2e-5–4e-4, read σ 2e-4–1e-3 (log-uniform; a normally exposed shot: σ ≲ 0.013 in sRGB
    even in the shadows). 8-bit, JPEG q 70–95 with probability 0.3.
    """
    x = _as_image(clean)
    rng = _as_rng(rng)
    size = _kernel_size(rng)
    kernel = shake_kernel(rng, size) if rng.random() < 0.65 else linear_motion_kernel(rng, size)
    lin = np.clip(convolve(_decode(x), kernel), 0.0, 1.0)
    shot = _logu(rng, 2e-5, 4e-4)
    read = _logu(rng, 2e-4, 1e-3)
    noise = _randn(rng, lin.shape)
    noise *= cv2.sqrt(lin * _f32(shot) + _f32(read * read))
    lin += noise
    return _finish(_maybe_jpeg(rng, _encode(lin), 0.3, 70, 95))


# --------------------------------------------------------------------------------------------------
# dispatch
# --------------------------------------------------------------------------------------------------


def tune_malloc(threshold: int = 64 << 20) -> bool:
    """Opt-in, process-wide: stop glibc from returning freed image-sized buffers to the OS at once.

    Each generator allocates a few dozen 0.1–1 MB temporaries. By default glibc serves those with
    mmap or trims them off the heap when freed, so every call page-faults its memory in again: that
    is ~40 % of the run time on a 256×256 crop. Raising M_MMAP_THRESHOLD and M_TRIM_THRESHOLD to
    `threshold` (the same as exporting MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_) keeps them
    in the heap; the price is that the process keeps up to `threshold` of freed memory. Call it once
    in a training process; the library never calls it itself. Returns False where it does not apply
    (not Linux/glibc).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's <malloc.h>
    return bool(mallopt(m_mmap_threshold, int(threshold))) and bool(mallopt(m_trim_threshold, int(threshold)))


_GENERATORS: dict[str, Callable[..., np.ndarray]] = {
    "low-light": low_light,
    "haze": haze,
    "rain": rain,
    "snow": snow,
    "blur": blur,
}


def degrade(clean: np.ndarray, task: str, rng: np.random.Generator | int, **options) -> np.ndarray:
    """Degrade `clean` (float32 H×W×3 sRGB in [0, 1]) for `task`, one of `TASKS`.

    `rng` is an int seed or a Generator (which is advanced). Returns a new float32 H×W×3 array in
    [0, 1]; the input is never modified. The same seed gives a bit-identical output. `options` go to
    the task's generator (`scale=` for rain and snow, `max_density=` for rain).
    """
    fn = _GENERATORS.get(task) if isinstance(task, str) else None
    if fn is None:
        raise ValueError(f"unknown degradation task {task!r}; expected one of {TASKS}")
    return fn(clean, rng, **options)
