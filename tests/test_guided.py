"""Edge-aware upsampling of a correction (`engine.guided`)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.guided import apply_affine, fit_affine, guided_upsample


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth colour gradients plus fine texture, in [0.1, 0.9]."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([0.3 + 0.3 * x / w, 0.5 + 0.2 * np.sin(y / 17), 0.4 + 0.2 * np.cos((x + y) / 23)], -1)
    return np.clip(base + rng.normal(0, 0.05, (h, w, 3)), 0.1, 0.9).astype(np.float32)


def _down(img: np.ndarray, h: int, w: int) -> np.ndarray:
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


def test_global_colour_change_is_reproduced_exactly():
    full = _photo(240, 320)
    m = np.array([[1.2, 0.1, -0.05], [0.05, 0.9, 0.1], [-0.1, 0.05, 1.1]], np.float32)
    c = np.array([0.02, -0.03, 0.05], np.float32)
    change = lambda img: img @ m + c
    lo = _down(full, 60, 80)
    out = guided_upsample(lo, change(lo), full)
    assert out.shape == full.shape and out.dtype == np.float32
    assert np.abs(out - np.clip(change(full), 0, 1)).max() < 1e-4


def test_edges_come_from_the_full_resolution_photo():
    """A correction that differs on both sides of a sharp edge (not on the low-res grid) keeps the edge."""
    h, w = 96, 128
    full = np.full((h, w, 3), 0.25, np.float32)
    full[:, 61:] = 0.7  # a vertical edge at x = 61 (between low-res pixels at 4× downscaling)
    full += _photo(h, w, 1) * 0.1 - 0.05
    truth = np.where(np.arange(w)[None, :, None] < 61, full * 1.6, full * 0.6 + 0.2).astype(np.float32)
    lo_in, lo_out = _down(full, h // 4, w // 4), _down(truth, h // 4, w // 4)
    guided = guided_upsample(lo_in, lo_out, full, radius=1, eps=1e-4)
    naive = cv2.resize(lo_out, (w, h), interpolation=cv2.INTER_LINEAR)
    err_guided = np.mean((guided - truth) ** 2)
    err_naive = np.mean((naive - truth) ** 2)
    assert err_guided < err_naive / 10
    # Across the edge the result steps within one pixel, like the truth.
    profile = guided[h // 2, 58:65, 0]
    assert abs((profile[3] - profile[2]) - (truth[h // 2, 61, 0] - truth[h // 2, 60, 0])) < 0.1


def test_coefficient_shapes_and_constant_image():
    lo = np.full((20, 30, 3), 0.5, np.float32)  # zero variance: the regulariser keeps the solve finite
    coeffs = fit_affine(lo, lo * 0.5 + 0.1)
    assert coeffs.shape == (20, 30, 4, 3) and coeffs.dtype == np.float32 and np.isfinite(coeffs).all()
    out = apply_affine(coeffs, np.full((40, 60, 3), 0.5, np.float32))
    assert out.shape == (40, 60, 3) and np.allclose(out, 0.35, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_integer_inputs_read_as_unit_range(dtype):
    full = _photo(64, 96)
    scale = np.iinfo(dtype).max
    ints = np.round(full * scale).astype(dtype)
    lo = _down(full, 16, 24)
    coeffs = fit_affine(lo, np.clip(lo * 1.3 - 0.05, 0, 1))
    from_ints = apply_affine(coeffs, ints)
    from_floats = apply_affine(coeffs, ints.astype(np.float32) / scale)
    assert from_ints.dtype == np.float32 and np.abs(from_ints - from_floats).max() < 1e-6


def test_strips_and_in_place_give_the_same_result():
    full = _photo(100, 70)
    lo = _down(full, 25, 18)
    coeffs = fit_affine(lo, lo ** 0.7)
    whole = apply_affine(coeffs, full, strip_rows=1000)
    strips = apply_affine(coeffs, full, strip_rows=7)
    in_place = full.copy()
    apply_affine(coeffs, in_place, out=in_place, strip_rows=13)
    assert np.array_equal(whole, strips) and np.array_equal(whole, in_place)


def test_tiny_images_and_bad_shapes():
    tiny = _photo(2, 3)
    assert fit_affine(tiny, tiny).shape == (2, 3, 4, 3)
    with pytest.raises(ValueError):
        fit_affine(tiny, _photo(3, 3))
    with pytest.raises(ValueError):
        apply_affine(fit_affine(tiny, tiny), np.zeros((4, 4)))
