"""Labelled training photos for the detector: clean photos, degraded the way real photos are.

`sample(clean, label, rng)` returns a working copy (see `features.prepare`) of one synthetic photo of class
`label` (one of `CLASSES`). It uses the restoration model's generators (`engine.training.degradations`)
and widens them where real photos differ from those generators' defaults:

- the photo is degraded at a random "native" size (long side 200–1100 px, never above the photo's own
  resolution: an upscaled photo is softer than any camera's) and then downscaled, as a camera photo is
  before detection, so streak widths, blur extents and noise vary like they do in reality (web photos of
  a few hundred pixels included);
- low-light: besides the generator's under-exposed noisy shots (very dark, 40 %), mildly dark dusk scenes
  (30 %: a tone curve in linear light, sometimes with lamps) and back-lit shots (30 %: an sRGB power curve
  that crushes the foreground while the sky stays bright; most real low-light sets hold many of those);
- haze: haze growing with distance from a clear foreground (35 %), an even veil (smog, aerial views, 15 %),
  the generator's haze blended back towards the photo (mild haze, 15 %), the generator's own (35 %);
  the airlight of the first two is white, bluish or warm, and one time in five the yellow to orange of
  dust, sand storms and smog;
- rain: a rainy day as photographed (40 %: overcast and desaturated, a rain veil in front of everything
  and growing with distance, soft, many thin streaks, then the camera's auto levels bring the blacks
  back), the generator's streaks (30 %), or fine rain (30 %): many thin, faint, short streaks in 2–4
  layers over a misty veil of 10–50 %, as rain looks in most real photos once downscaled;
- snow: the generator's snowfall (50 %), or light snow (50 %): sparse small flakes, a few out-of-focus ones,
  little or no veil; half of the scenes softened first, and 60 % go through the camera's auto levels
  (real snowy photos keep their blacks: the veil of the generators lifts them);
- blur: camera shake mostly happens in dim light with long exposures, so 40 % of the blurred samples are
  also a little under-exposed (×0.35–0.9), without the heavy noise of a low-light shot;
- every class, the clean one included, gets the same photographic jitter (exposure, contrast, saturation,
  in-camera sharpening, sensor noise or grain, JPEG at quality 50–95, flips), so that none of it tells the
  classes apart.

Deterministic: the same (photo, label, seed) gives the same working copy.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from engine.detection.detector import CLASSES
from engine.detection.features import WORK_SIDE, prepare
from engine.training import degradations as D

__all__ = ["CLASSES", "NATIVE_SIDE", "auto_levels", "backlit", "degrade", "dusk", "even_haze", "fine_rain",
           "jitter", "landscape_haze", "light_snow", "rainy_day", "sample"]

NATIVE_SIDE = (200, 1100)  # range of the long side a photo is degraded at (log-uniform), in pixels


def _logu(rng: np.random.Generator, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def _resize(x: np.ndarray, long_side: int) -> np.ndarray:
    h, w = x.shape[:2]
    f = long_side / max(h, w)
    size = (max(8, round(w * f)), max(8, round(h * f)))
    return cv2.resize(x, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)


def _crop(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random crop keeping 70–100 % of each side (so aspect ratios vary too), flipped half of the time."""
    h, w = x.shape[:2]
    ch, cw = max(16, round(h * rng.uniform(0.7, 1.0))), max(16, round(w * rng.uniform(0.7, 1.0)))
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    out = x[y0:y0 + ch, x0:x0 + cw]
    return out[:, ::-1] if rng.random() < 0.5 else out


def dusk(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mildly dark, back-lit or dusk scene: shadows and mid-tones crushed, highlights kept, few lamps."""
    lin = D.srgb_to_linear(clean)
    exposure = _logu(rng, 0.12, 0.55)
    gamma = rng.uniform(1.2, 2.2)  # on linear light: darkens the mid-tones more than the highlights
    lum = np.clip(D._luma(lin), 1e-6, 1.0)  # h×w
    scale = exposure * lum ** (gamma - 1.0)
    out = lin * scale[..., None]
    temp = rng.uniform(-0.4, 0.8)  # warm street lights to cool blue hour
    out *= np.array([1 + 0.2 * temp, 1.0, 1 - 0.2 * temp], np.float32)
    h, w = out.shape[:2]
    if rng.random() < 0.3:  # a few lamps with a glow
        lamps = np.zeros((h, w), np.float32)
        for _ in range(int(rng.integers(1, 6))):
            cx, cy = rng.uniform(0, w), rng.uniform(0, h * 0.8)
            r = rng.uniform(0.005, 0.03) * max(h, w)
            cv2.circle(lamps, (int(cx), int(cy)), max(1, int(r)), 1.0, -1, cv2.LINE_AA)
        glow = cv2.GaussianBlur(lamps, (0, 0), max(h, w) * 0.02) * 0.6
        colour = np.array([1.0, rng.uniform(0.7, 0.95), rng.uniform(0.4, 0.8)], np.float32)
        out += (lamps + glow)[..., None] * colour
    read = _logu(rng, 3e-4, 2e-3)
    out = out + rng.standard_normal(out.shape).astype(np.float32) * np.sqrt(np.clip(out, 0, 1) * read * 0.5 + read**2)
    return np.clip(D.linear_to_srgb(np.clip(out, 0.0, 1.0)), 0.0, 1.0).astype(np.float32)


def backlit(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Under-exposed foreground under a bright sky: sRGB x^g, g 1.6–3.2 (0.5 → 0.33–0.11, 0.9 → 0.84–0.71),
    shadow noise, a slight colour cast."""
    g = rng.uniform(1.6, 3.2)
    out = np.power(np.clip(clean, 0, 1), np.float32(g))
    temp = rng.uniform(-0.3, 0.5)
    out = out * np.array([1 + 0.1 * temp, 1.0, 1 - 0.1 * temp], np.float32)
    sigma = _logu(rng, 0.003, 0.02)
    out = out + rng.standard_normal(out.shape).astype(np.float32) * np.float32(sigma) * np.sqrt(1 - out + 0.05)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def fine_rain(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Many thin, faint, short streaks in 2–4 layers (peak 0.06–0.4) over a misty veil (5–45 %, stronger at the
    top), as rain looks in most photos: grey, washed out, finely striped."""
    h = clean.shape[0]
    lin = D.srgb_to_linear(clean) * np.float32(rng.uniform(0.6, 1.0))
    air = D.srgb_to_linear(np.array([0.93, 0.96, 1.0], np.float32) * np.float32(rng.uniform(0.5, 0.85)))
    v = np.float32(rng.uniform(0.05, 0.45)) * (0.5 + 0.5 * np.linspace(1, 0, h, dtype=np.float32)[:, None, None])
    bg = D.linear_to_srgb(lin + v * (air - lin))
    theta = float(np.clip(rng.normal(0.0, math.radians(10)), -math.radians(30), math.radians(30)))
    return _thin_streaks(bg, rng, theta, amp=(0.06, 0.4), length=(6.0, 36.0), width=(0.3, 0.9), log_density=-1.8)


def _soften(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Half of the time, `x` a little soft (Gaussian σ 0.3–1 px at 256 px, scaled with the size), as rain
    and falling snow leave a scene; otherwise `x` itself."""
    if rng.random() < 0.5:
        return cv2.GaussianBlur(x, (0, 0), rng.uniform(0.3, 1.0) * D._scale(*x.shape[:2]))
    return x


def _thin_streaks(bg: np.ndarray, rng: np.random.Generator, theta: float, *, amp: tuple[float, float],
                  length: tuple[float, float], width: tuple[float, float], log_density: float) -> np.ndarray:
    """`bg` under 2–4 layers of thin streaks at `theta` (± 2°), screen-blended: from far (short, thin, dense:
    length[0], width[0], 10^log_density per pixel) to near (length[1], width[1], ten times sparser), global
    density × 0.3–3 and peak brightness in `amp` (log-uniform)."""
    h, w = bg.shape[:2]
    s = D._scale(h, w)
    dens_g = _logu(rng, 0.3, 3.0)
    amp_g = _logu(rng, *amp)
    streaks = np.zeros((h, w), np.float32)
    n_layers = int(rng.integers(2, 5))
    for i in range(n_layers):
        z = (i + rng.uniform()) / n_layers  # 0 = far, 1 = near
        l_px = (length[0] + (length[1] - length[0]) * z) * rng.uniform(0.7, 1.3) * s
        w_px = (width[0] + (width[1] - width[0]) * z) * rng.uniform(0.8, 1.2) * s
        density = 10.0 ** (log_density - 1.0 * z) * rng.uniform(0.5, 1.5) * dens_g
        angle = theta + float(rng.normal(0.0, math.radians(2)))
        streaks += D._streak_layer(rng, h, w, angle, l_px, w_px, density / (s * s), amp_g * (0.6 + 0.4 * z))
    np.clip(streaks, 0.0, 1.0, out=streaks)
    r = cv2.merge([streaks, streaks, streaks])
    return np.clip(bg + r - bg * r, 0.0, 1.0).astype(np.float32)  # screen


def auto_levels(x: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """What a camera or phone does to a flat scene: stretch the 0.5–99.5 % luminance range towards the full
    range (to 0–0.04 and 0.93–1), by `strength` (0 = untouched, 1 = fully)."""
    y = D._luma(x)
    lo, hi = np.percentile(y, (0.5, 99.5))
    lo_t, hi_t = rng.uniform(0.0, 0.04), rng.uniform(0.93, 1.0)
    if hi - lo < 0.05:  # a flat image: nothing sensible to stretch
        return x
    stretched = (x - np.float32(lo)) * np.float32((hi_t - lo_t) / (hi - lo)) + np.float32(lo_t)
    return np.clip(x + np.float32(strength) * (stretched - x), 0.0, 1.0).astype(np.float32)


def rainy_day(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A rainy day as photographed: overcast (soft, desaturated to 5–70 %), a rain veil that is partly even
    (the curtain of rain in front of everything) and partly grows with distance (so near objects keep
    their blacks), many thin streaks (peak 0.08–0.3), then the camera's auto levels (40–100 %).

    Its parameters were chosen by comparing the detector's statistics of synthetic and real rainy photos
    (real ones are greyer, softer, keep their blacks and show fainter streaks than the generator's)."""
    x = _soften(clean, rng)
    grey = D._luma(x)
    x = np.clip(grey[..., None] + (x - grey[..., None]) * np.float32(rng.uniform(0.05, 0.7)), 0, 1).astype(np.float32)
    depth = D._haze_depth(grey.astype(np.float32), rng)
    even = np.float32(rng.uniform(0.0, 0.3))
    depth = (1 - even) * depth + even
    t = np.exp(-_logu(rng, 0.1, 1.2) * np.power(depth, rng.uniform(0.8, 2.0))).astype(np.float32)[..., None]
    air = D.srgb_to_linear(np.array([0.93, 0.96, 1.0], np.float32) * np.float32(rng.uniform(0.7, 0.97)))
    bg = D.linear_to_srgb(D.srgb_to_linear(x) * t + air * (1 - t))
    theta = float(np.clip(rng.normal(0.0, math.radians(8)), -math.radians(25), math.radians(25)))
    out = _thin_streaks(bg, rng, theta, amp=(0.08, 0.3), length=(10.0, 40.0), width=(0.25, 0.5), log_density=-1.7)
    return auto_levels(out, rng, rng.uniform(0.4, 1.0))


def light_snow(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sparse small flakes (and sometimes a few big out-of-focus ones) with little or no veil."""
    h, w = clean.shape[:2]
    s = D._scale(h, w)
    area = h * w / (s * s)
    lin = D.srgb_to_linear(clean)
    veil = np.float32(rng.uniform(0.0, 0.15))
    out = D.linear_to_srgb(lin + veil * (np.float32(0.8) - lin))
    fine = D._gauss_blobs(rng, h, w, int(rng.poisson(_logu(rng, 5e-4, 5e-3) * area)), rng.uniform(0.5, 1.0) * s,
                          0.4, 1.0)
    med = D._gauss_blobs(rng, h, w, int(rng.poisson(_logu(rng, 1e-4, 1e-3) * area)), rng.uniform(1.0, 2.5) * s,
                         0.5, 1.0)
    layers = [fine, np.minimum(med * np.float32(rng.uniform(1.2, 1.8)), 1.0)]
    if rng.random() < 0.4:
        big = D._big_flakes(rng, h, w, int(rng.poisson(rng.uniform(1e-5, 1e-4) * area)), 3 * s, 10 * s)
        layers.append(cv2.GaussianBlur(big, (0, 0), rng.uniform(1.0, 4.0) * s) * np.float32(rng.uniform(0.3, 0.7)))
    tint = np.array([0.97, 0.985, 1.0], np.float32) * np.float32(rng.uniform(0.85, 1.0))
    for layer in layers:
        a = cv2.merge([layer, layer, layer])
        out = out + a * (tint - out)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _airlight(rng: np.random.Generator) -> np.ndarray:
    """The colour of the veil (sRGB, brightest channel 1): white, bluish or warm; one time in five the
    yellow to orange of dust, sand storms and smog."""
    if rng.random() < 0.2:
        return np.array([1.0, rng.uniform(0.7, 0.9), rng.uniform(0.35, 0.65)])
    return (np.array([1.0, 1.0, 1.0]), np.array([0.86, 0.93, 1.0]), np.array([1.0, 0.94, 0.8]))[int(rng.integers(3))]


def landscape_haze(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Haze that grows with distance from a clear foreground: the generator's depth map (far at the top,
    sky farthest), t = exp(−β·d^γ) with β 0.7–3.5 and γ 1–2.5, so the near field keeps its blacks."""
    lin = D.srgb_to_linear(clean)
    depth = D._haze_depth(D._luma(clean), rng)
    t = np.exp(-_logu(rng, 0.7, 3.5) * np.power(depth, rng.uniform(1.0, 2.5))).astype(np.float32)[..., None]
    air = D.srgb_to_linear(np.clip(_airlight(rng) * rng.uniform(0.65, 1.0), 0, 1).astype(np.float32))
    return np.clip(D.linear_to_srgb(lin * t + air * (1 - t)), 0.0, 1.0).astype(np.float32)


def even_haze(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A nearly uniform veil (smog, mist, aerial views): I = J·t + A·(1 − t) with t in 0.3–0.85."""
    lin = D.srgb_to_linear(clean)
    h = lin.shape[0]
    t0 = rng.uniform(0.3, 0.85)
    grad = rng.uniform(0.0, 0.25)
    t = np.clip(t0 - grad * np.linspace(0.5, -0.5, h, dtype=np.float32)[:, None], 0.05, 1.0)[..., None]
    air = D.srgb_to_linear(np.clip(_airlight(rng) * rng.uniform(0.6, 0.95), 0, 1).astype(np.float32))
    out = lin * t + air * (1 - t)
    return np.clip(D.linear_to_srgb(out), 0.0, 1.0).astype(np.float32)


def degrade(clean: np.ndarray, label: str, rng: np.random.Generator) -> np.ndarray:
    """`clean` (float32 RGB in [0, 1]) degraded as class `label`."""
    if label == "none":
        return clean
    u = rng.random()
    if label == "low-light" and u < 0.6:
        return dusk(clean, rng) if u < 0.3 else backlit(clean, rng)
    if label == "haze" and u < 0.65:
        if u < 0.35:
            return landscape_haze(clean, rng)
        if u < 0.5:
            return even_haze(clean, rng)
        mild = D.degrade(clean, "haze", rng)
        return np.clip(clean + np.float32(rng.uniform(0.35, 0.8)) * (mild - clean), 0, 1).astype(np.float32)
    if label == "rain" and u < 0.7:
        return rainy_day(clean, rng) if u < 0.4 else fine_rain(clean, rng)
    if label == "snow":
        clean = _soften(clean, rng)  # falling snow softens the scene
        out = light_snow(clean, rng) if u < 0.5 else D.degrade(clean, "snow", rng)
        return auto_levels(out, rng, rng.uniform(0.4, 1.0)) if rng.random() < 0.6 else out
    if label == "blur" and u < 0.4:
        dim = D.linear_to_srgb(D.srgb_to_linear(clean) * np.float32(rng.uniform(0.35, 0.9)))
        return D.degrade(np.clip(dim, 0, 1).astype(np.float32), "blur", rng)
    return D.degrade(clean, label, rng)


def jitter(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same mild photographic variation for every class: exposure, contrast, saturation, in-camera
    sharpening, sensor noise or film grain, JPEG."""
    x = x * np.float32(_logu(rng, 0.85, 1.18))
    c = rng.uniform(0.9, 1.1)
    x = (x - 0.5) * np.float32(c) + np.float32(0.5)
    grey = x.mean(axis=2, keepdims=True)
    x = grey + (x - grey) * np.float32(rng.uniform(0.8, 1.2))
    if rng.random() < 0.5:  # unsharp masking, as cameras and phones do
        soft = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.6, 1.5))
        x = x + np.float32(rng.uniform(0.2, 1.2)) * (x - soft)
    if rng.random() < 0.5:
        x = x + rng.standard_normal(x.shape).astype(np.float32) * np.float32(_logu(rng, 0.002, 0.02))
    x = np.clip(x, 0.0, 1.0)
    if rng.random() < 0.5:
        u8 = np.round(x * 255).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", u8[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 96))])
        if ok:
            x = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255
    return np.ascontiguousarray(x, dtype=np.float32)


def sample(photo: np.ndarray, label: str, rng: np.random.Generator, gray: bool = False) -> np.ndarray:
    """One synthetic photo of class `label` from a uint8 RGB `photo`, as `features.prepare` returns it;
    `gray`: as a black-and-white file holds it (the luminance in three equal channels), made gray last, as
    a black-and-white camera, film or conversion sees the degraded scene."""
    if label not in CLASSES:
        raise ValueError(f"unknown class {label!r}; expected one of {CLASSES}")
    x = _crop(photo, rng)
    # never above the crop's own resolution: an upscaled photo is softer than any camera's
    native = min(round(_logu(rng, *NATIVE_SIDE)), max(x.shape[:2]))
    x = _resize(np.ascontiguousarray(x), native).astype(np.float32) * np.float32(1 / 255)
    x = np.clip(x, 0.0, 1.0)
    x = degrade(np.ascontiguousarray(x), label, rng)
    x = jitter(x, rng) if label != "none" or rng.random() < 0.9 else x
    if gray:
        from engine.imaging import gray_copy

        x = gray_copy(x)
    return prepare(x, WORK_SIDE)
