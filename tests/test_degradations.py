"""Tests for engine.training.degradations: contract (shape, dtype, range, determinism, purity) and that
each generator degrades in the physically expected direction."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from engine.training import degradations as D
from engine.training.degradations import TASKS, degrade

FUNCS = {"low-light": D.low_light, "haze": D.haze, "rain": D.rain, "snow": D.snow, "blur": D.blur}
SEEDS = range(8)


def scene(h: int = 96, w: int = 128, seed: int = 0) -> np.ndarray:
    """A deterministic synthetic 'photo': bright smooth sky on top, textured mid-tone ground, objects."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), np.float32)
    yy = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    img[:] = 0.85 - 0.15 * yy  # sky gradient
    ground = slice(h // 3, h)
    tex = cv2.resize(rng.random((h // 4 + 1, w // 4 + 1, 3)).astype(np.float32), (w, h - h // 3))
    fine = rng.random((h - h // 3, w, 3)).astype(np.float32)
    img[ground] = 0.15 + 0.45 * tex + 0.15 * fine
    for _ in range(6):
        x0, y0 = int(rng.integers(0, w - 8)), int(rng.integers(h // 4, h - 8))
        colour = tuple(float(c) for c in rng.uniform(0.05, 0.9, 3))
        x1, y1 = x0 + int(rng.integers(4, 30)), y0 + int(rng.integers(4, 30))
        cv2.rectangle(img, (x0, y0), (x1, y1), colour, -1)
    cv2.circle(img, (w // 2, h // 2), max(3, h // 8), (0.9, 0.2, 0.1), -1)
    return np.clip(img, 0.0, 1.0)


def flat(h: int = 96, w: int = 128, v: float = 0.35) -> np.ndarray:
    return np.full((h, w, 3), v, np.float32)


def luma(img: np.ndarray) -> np.ndarray:
    return img @ np.array([0.2126, 0.7152, 0.0722], np.float32)


def grad_energy(img: np.ndarray) -> float:
    y = luma(img)
    gx = cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(y, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.mean(gx * gx + gy * gy))


def dark_channel(img: np.ndarray, r: int = 3) -> np.ndarray:
    return cv2.erode(img.min(axis=2), np.ones((2 * r + 1, 2 * r + 1), np.uint8))


# --------------------------------------------------------------------------------------------------
# contract
# --------------------------------------------------------------------------------------------------


def test_tasks():
    assert TASKS == ("low-light", "haze", "rain", "snow", "blur")


@pytest.mark.parametrize("task", TASKS)
def test_shape_dtype_range(task):
    img = scene()
    for seed in SEEDS:
        out = degrade(img, task, seed)
        assert out.shape == img.shape
        assert out.dtype == np.float32
        assert out.flags.c_contiguous
        assert np.isfinite(out).all()
        assert out.min() >= 0.0 and out.max() <= 1.0
        assert not np.shares_memory(out, img)


@pytest.mark.parametrize("task", TASKS)
def test_deterministic(task):
    img = scene()
    a = degrade(img, task, 1234)
    assert np.array_equal(a, degrade(img, task, 1234))
    assert np.array_equal(a, degrade(img, task, np.random.default_rng(1234)))
    assert np.array_equal(a, FUNCS[task](img, 1234))
    assert np.array_equal(a, degrade(img, task, np.int64(1234)))


@pytest.mark.parametrize("task", TASKS)
def test_different_seeds_differ(task):
    img = scene()
    outs = [degrade(img, task, s) for s in range(4)]
    for i in range(len(outs)):
        for j in range(i + 1, len(outs)):
            assert not np.array_equal(outs[i], outs[j])


@pytest.mark.parametrize("task", TASKS)
def test_generator_is_advanced(task):
    img = scene()
    g = np.random.default_rng(7)
    assert not np.array_equal(degrade(img, task, g), degrade(img, task, g))


@pytest.mark.parametrize("task", TASKS)
def test_input_not_modified(task):
    img = scene()
    ref = img.copy()
    degrade(img, task, 3)
    assert np.array_equal(img, ref)
    img.setflags(write=False)  # read-only input works too
    degrade(img, task, 3)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("shape", [(37, 53), (53, 37), (3, 5), (1, 1), (300, 17)])
def test_odd_sizes(task, shape):
    if min(shape) >= 16:
        img = scene(*shape)
    else:
        img = np.random.default_rng(0).random((*shape, 3)).astype(np.float32)
    for seed in range(3):
        out = degrade(img, task, seed)
        assert out.shape == img.shape and out.dtype == np.float32
        assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("task", TASKS)
def test_other_float_layouts(task):
    img = scene()
    ref = degrade(img, task, 5)
    # float64 input and a non-contiguous view of the same values give the same result
    assert np.array_equal(degrade(img.astype(np.float64), task, 5), ref)
    wide = np.zeros((img.shape[0], img.shape[1] * 2, 3), np.float32)
    wide[:, ::2] = img
    assert np.array_equal(degrade(wide[:, ::2], task, 5), ref)
    # out-of-range input is clipped, not propagated
    out = degrade(img * 1.5 - 0.2, task, 5)
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_bad_inputs():
    img = scene()
    with pytest.raises(ValueError):
        degrade(img, "fog", 0)
    with pytest.raises(ValueError):
        degrade(img, None, 0)
    with pytest.raises(ValueError):
        degrade(img[..., 0], "haze", 0)
    with pytest.raises(ValueError):
        degrade(np.zeros((8, 8, 4), np.float32), "haze", 0)
    with pytest.raises(TypeError):
        degrade((img * 255).astype(np.uint8), "haze", 0)
    with pytest.raises(TypeError):
        degrade(img, "haze", 0.5)
    with pytest.raises(TypeError):
        degrade(img, "haze", None)


def test_tune_malloc_keeps_results():
    code = (
        "import sys, numpy as np\n"
        "from engine.training import degradations as D\n"
        "x = np.linspace(0, 1, 64 * 64 * 3, dtype=np.float32).reshape(64, 64, 3)\n"
        "before = [D.degrade(x, t, 1) for t in D.TASKS]\n"
        "ok = D.tune_malloc()\n"
        "same = all(np.array_equal(b, D.degrade(x, t, 1)) for b, t in zip(before, D.TASKS))\n"
        "sys.exit(0 if same and ok in (True, False) else 1)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_no_torch_import():
    code = "import sys, engine.training.degradations; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --------------------------------------------------------------------------------------------------
# each generator degrades the way the real thing does
# --------------------------------------------------------------------------------------------------


def test_low_light_darkens_and_adds_noise():
    img = scene()
    ratios = []
    for seed in range(20):
        out = D.low_light(img, seed)
        ratios.append(out.mean() / img.mean())
    assert max(ratios) < 0.85
    assert min(ratios) < 0.25  # strong cases are really dark
    assert max(ratios) - min(ratios) > 0.2  # and the range spans mild to strong
    # on a flat patch the output is noisy (camera noise), not just dimmed
    patch = D.low_light(flat(v=0.5), 4)
    assert patch.std() > 0.005


def test_haze_lowers_contrast_and_raises_dark_channel():
    img = scene()
    dc_clean = dark_channel(img)
    for seed in SEEDS:
        out = D.haze(img, seed)
        assert luma(out).std() < luma(img).std()
        assert dark_channel(out).mean() > dc_clean.mean() + 0.02


def test_haze_is_denser_far_away():
    # uniform texture everywhere: the far (top) third loses more contrast than the near bottom third
    rng = np.random.default_rng(1)
    img = cv2.resize(rng.random((24, 32, 3)).astype(np.float32), (128, 96), interpolation=cv2.INTER_NEAREST)
    y0 = luma(img)
    top, bottom = [], []
    for seed in range(12):
        y = luma(D.haze(img, seed))
        top.append(y[:32].std() / y0[:32].std())
        bottom.append(y[-32:].std() / y0[-32:].std())
    assert np.mean(top) < np.mean(bottom)


def test_haze_depth_follows_vertical_prior():
    img = flat(64, 64, 0.3)
    depth = np.mean([D._haze_depth(luma(img), np.random.default_rng(s)) for s in range(10)], axis=0)
    assert depth.shape == (64, 64)
    assert depth[:16].mean() > depth[-16:].mean() + 0.2


def test_rain_adds_near_vertical_bright_streaks():
    base = flat()
    for seed in SEEDS:
        out = D.rain(base, seed)
        y = luma(out)
        y = y - np.median(y, axis=1, keepdims=True)  # drop the veil's smooth top-to-bottom gradient
        bright = y > 0.06
        assert bright.mean() > 0.003, seed
        gx = cv2.Sobel(y, cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(y, cv2.CV_32F, 0, 1)
        assert np.abs(gx).sum() > 1.15 * np.abs(gy).sum(), seed  # streaks are elongated vertically


def test_rain_veils_the_scene():
    img = scene()
    out = np.mean([D.rain(img, s) for s in SEEDS], axis=0)
    assert dark_channel(out).mean() > dark_channel(img).mean()


def test_snow_adds_bright_flakes():
    base = flat()
    for seed in SEEDS:
        out = D.snow(base, seed)
        y = luma(out)
        assert (y > np.median(y) + 0.1).mean() > 0.001, seed
        assert out.mean() > base.mean()
        # flakes are blobs, not streaks or pixel noise: comparable gradient energy in x and y
        gx = np.abs(cv2.Sobel(y, cv2.CV_32F, 1, 0)).sum()
        gy = np.abs(cv2.Sobel(y, cv2.CV_32F, 0, 1)).sum()
        assert 0.2 < gx / gy < 5.0, seed


def test_blur_lowers_gradient_energy():
    img = scene()
    e0 = grad_energy(img)
    for seed in SEEDS:
        assert grad_energy(D.blur(img, seed)) < 0.8 * e0, seed
    # the mean colour is preserved (a PSF sums to 1; the noise is zero-mean)
    out = np.mean([D.blur(img, s) for s in SEEDS], axis=0)
    assert abs(out.mean() - img.mean()) < 0.02


# --------------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [D.shake_kernel, D.linear_motion_kernel])
def test_kernels(make):
    sizes = set()
    for seed in range(30):
        k = make(seed)
        assert k.dtype == np.float32 and k.ndim == 2 and k.shape[0] == k.shape[1]
        assert k.shape[0] % 2 == 1 and 7 <= k.shape[0] <= 31
        assert k.min() >= 0.0 and abs(float(k.sum()) - 1.0) < 1e-4
        assert (k > k.max() * 0.05).sum() >= 3  # a trajectory, not a dot
        sizes.add(k.shape[0])
    assert len(sizes) > 5
    assert make(np.random.default_rng(3), 15).shape == (15, 15)
    assert np.array_equal(make(9), make(9))


def test_convolve_matches_filter2d_and_is_a_convolution():
    rng = np.random.default_rng(0)
    img = rng.random((40, 57, 3)).astype(np.float32)
    for ks in (5, 11, 13, 31):
        k = rng.random((ks, ks)).astype(np.float32)
        k /= k.sum()
        ref = cv2.filter2D(img, -1, cv2.flip(k, -1), borderType=cv2.BORDER_REFLECT)
        assert np.abs(D.convolve(img, k) - ref).max() < 1e-5
        assert np.abs(D.convolve(img[..., 0], k) - ref[..., 0]).max() < 1e-5
    # an impulse reproduces the (unflipped) kernel
    delta = np.zeros((41, 41), np.float32)
    delta[20, 20] = 1.0
    k = np.zeros((15, 15), np.float32)
    k[0, 0], k[7, 7] = 0.25, 0.75
    out = D.convolve(delta, k)
    assert out[13, 13] == pytest.approx(0.25, abs=1e-5) and out[20, 20] == pytest.approx(0.75, abs=1e-5)
    with pytest.raises(ValueError):
        D.convolve(img, np.ones((4, 4), np.float32))


def test_srgb_round_trip():
    x = np.linspace(0.0, 1.0, 4097, dtype=np.float32).reshape(17, 241, 1).repeat(3, axis=2)
    lin = D.srgb_to_linear(x)
    ref = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    assert np.abs(lin - ref).max() < 1e-6
    assert np.abs(D.linear_to_srgb(lin) - x).max() < 1e-5
    clipped = D.linear_to_srgb(np.array([[[-1.0, 0.0, 2.0]]], np.float32))
    assert np.abs(clipped - np.array([0.0, 0.0, 1.0])).max() < 1e-6


def test_training_crop_size_runs():
    """Not a timing assertion: just exercise the training-size path (256×256) a few times per task."""
    img = cv2.resize(scene(), (256, 256))
    for task in TASKS:
        for seed in range(3):
            out = degrade(img, task, seed)
            assert out.shape == (256, 256, 3)


def _streak_length(img: np.ndarray, base: np.ndarray) -> float:
    """How far down the rain layer stays correlated with itself: the mean vertical run of bright pixels."""
    y = luma(img) - luma(base)
    y = y - np.median(y, axis=1, keepdims=True)
    bright = y > 0.04
    runs = [len(r) for col in bright.T for r in "".join("1" if v else "0" for v in col).split("0") if r]
    return float(np.mean(runs)) if runs else 0.0


def test_scale_option_sizes_rain_and_snow_like_a_larger_photo():
    base = flat(96, 96)
    # the default derives the size from the image: 96 px gives the floor 0.5, the same as passing it
    for fn in (D.rain, D.snow):
        assert np.array_equal(fn(base, 5), fn(base, 5, scale=0.5))
        assert np.array_equal(degrade(base, "rain" if fn is D.rain else "snow", 5, scale=2.0), fn(base, 5, scale=2.0))
    # at scale 2 the streaks are longer than at the crop's own scale, as on a 512 px photo
    short = np.mean([_streak_length(D.rain(base, s), base) for s in SEEDS])
    long = np.mean([_streak_length(D.rain(base, s, scale=2.0), base) for s in SEEDS])
    assert long > 1.5 * short
    with pytest.raises(ValueError, match="scale"):
        D.rain(base, 0, scale=0.0)
    with pytest.raises(ValueError, match="scale"):
        D.snow(base, 0, scale=float("nan"))
    with pytest.raises(TypeError):
        degrade(base, "haze", 0, scale=1.0)  # haze has no size-dependent features


def test_rain_max_density_makes_heavier_rain():
    img = scene(128, 128)
    assert np.array_equal(D.rain(img, 3), D.rain(img, 3, max_density=D.RAIN_MAX_DENSITY))
    light = np.mean([np.abs(D.rain(img, s) - img).mean() for s in SEEDS])
    heavy = np.mean([np.abs(D.rain(img, s, max_density=20.0) - img).mean() for s in SEEDS])
    assert heavy > 1.2 * light
    with pytest.raises(ValueError, match="max_density"):
        D.rain(img, 0, max_density=0.2)
