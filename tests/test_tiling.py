"""Tiles cover the image, blending is exact for one tile and seamless for many; OOM re-splits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.errors import Cancelled, OutOfMemoryError
from engine.pipeline import choose_tile, restore_array, tile_bytes
from engine.sampler import CancelToken
from engine.schedule import stock_times
from engine.tiling import plan_tiles, tile_weights


@pytest.mark.parametrize("h,w,tile,overlap", [(100, 100, 48, 16), (64, 200, 64, 8), (30, 30, 64, 16),
                                              (129, 77, 32, 0)])
def test_tiles_cover_image_with_equal_sizes(h, w, tile, overlap):
    tiles = plan_tiles(h, w, tile, overlap)
    cover = np.zeros((h, w), int)
    for t in tiles:
        cover[t.slices] += 1
        assert (t.y1 - t.y0, t.x1 - t.x0) == (min(tile, h), min(tile, w))
    assert cover.min() >= 1


def test_weights_are_one_on_image_border_and_ramp_inside():
    tiles = plan_tiles(100, 100, 60, 20)
    first = tile_weights(tiles[0], tiles)
    assert first[0, 0] == 1 and first[:40, :40].min() == 1  # image corner, no neighbour
    assert first[0, -1] < 0.1 and first[-1, 0] < 0.1  # ramps down towards neighbours
    single = plan_tiles(40, 50, 64, 16)
    assert len(single) == 1 and np.all(tile_weights(single[0], single) == 1)


def _smooth_image(h, w):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([0.2 + 0.6 * x / w, 0.3 + 0.4 * y / h, 0.5 + 0.2 * np.sin(x / 9) * np.cos(y / 11)], -1)


def test_one_tile_is_bit_exact_with_whole_image(tiny_model):
    img = _smooth_image(48, 80)
    whole = restore_array(tiny_model.net, img, stock_times(3), seed=3, tile=1024)
    tiled = restore_array(tiny_model.net, img, stock_times(3), seed=3, tile=96)  # one tile covers it
    assert np.array_equal(whole, tiled)


def _seam_jump(out, tiles, width):
    """Step of the column-mean profile at tile edges, relative to its typical (median) step elsewhere.

    Averaging each column over rows and channels removes the per-pixel texture of a random network, so
    what remains at a tile edge is the offset between the tiles' predictions: a seam.
    """
    d = np.abs(np.diff(out.mean(axis=(0, 2))))
    edges = sorted({t.x0 - 1 for t in tiles if t.x0 > 0} | {t.x1 - 1 for t in tiles if t.x1 < width})
    return d[edges].max() / np.median(np.delete(d, edges))


def test_multi_tile_has_no_seams(tiny_model):
    img = _smooth_image(64, 160)
    soft = restore_array(tiny_model.net, img, stock_times(3), seed=1, tile=64, overlap=32)
    hard = restore_array(tiny_model.net, img, stock_times(3), seed=1, tile=64, overlap=0)
    tiles_soft, tiles_hard = plan_tiles(64, 160, 64, 32), plan_tiles(64, 160, 64, 0)
    assert len(tiles_soft) > 2
    # Without overlap a tile edge shows (so the check can fail); with feathering none does.
    assert _seam_jump(hard, tiles_hard, 160) > 5
    assert _seam_jump(soft, tiles_soft, 160) < 2.5


def test_tiny_and_odd_images(tiny_model):
    for h, w in [(5, 7), (16, 3), (17, 33)]:
        out = restore_array(tiny_model.net, np.full((h, w, 3), 0.4, np.float32), stock_times(1))
        assert out.shape == (h, w, 3) and np.isfinite(out).all()


def test_progress_is_monotonic_and_cancel_stops_between_tiles(tiny_model):
    img = _smooth_image(64, 64)
    fractions = []
    restore_array(tiny_model.net, img, stock_times(2), tile=32, overlap=8,
                  on_progress=lambda p: fractions.append(p.fraction))
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) == 2 * 9
    token, calls = CancelToken(), []

    def progress(p):
        calls.append(p.tile)
        if p.tile == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        restore_array(tiny_model.net, img, stock_times(2), tile=32, overlap=8, on_progress=progress, cancel=token)
    assert calls == [1, 2]


class _OOMAbove(torch.nn.Module):
    """Wraps a network and raises CUDA's OOM error for inputs larger than `limit` pixels."""

    def __init__(self, net, limit):
        super().__init__()
        self.inner, self.limit, self.config, self.sizes = net, limit, net.config, []

    def forward(self, x, t):
        self.sizes.append(x.shape[-1])
        if x.shape[-2] * x.shape[-1] > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return self.inner(x, t)


def test_out_of_memory_retries_with_smaller_tiles(tiny_model):
    net = _OOMAbove(tiny_model.net, 200 * 200)
    warnings = []
    out = restore_array(net, _smooth_image(300, 300), stock_times(1), tile=512, on_warning=warnings.append)
    assert out.shape == (300, 300, 3)
    assert net.sizes[:2] == [300, 256] and set(net.sizes[2:]) == {128}  # halved until it fits
    assert any("retrying" in w for w in warnings)
    with pytest.raises(OutOfMemoryError):
        restore_array(_OOMAbove(tiny_model.net, 10), _smooth_image(300, 300), stock_times(1), tile=256)


def test_tile_size_follows_memory():
    from engine.network import VARIANTS

    t, big = VARIANTS["T"], VARIANTS["L"]
    assert choose_tile(t, "cpu", budget_bytes=64 << 30) == 1024
    assert choose_tile(t, "cpu", budget_bytes=tile_bytes(t, 512)) == 512
    assert choose_tile(big, "cpu", budget_bytes=tile_bytes(t, 512)) < 512
    assert choose_tile(t, "cpu", budget_bytes=1) == 128
