"""Overlapping tiles with feathered blending weights (no model knowledge here).

Tiles have one size (the last row/column is shifted back to the image edge rather than shrunk), so every
network call sees the same shape. Weights ramp linearly across an overlap only on sides that touch another
tile; on the image border they stay 1, so an image that fits in one tile gets weight 1 everywhere and the
blended result is exactly the single-tile result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tile:
    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def plan_tiles(height: int, width: int, tile: int, overlap: int) -> list[Tile]:
    """Cover the image with tiles of at most `tile`×`tile` that overlap by at least `overlap` pixels."""
    if tile <= 0 or not 0 <= overlap < tile:
        raise ValueError(f"need 0 <= overlap < tile, got tile={tile}, overlap={overlap}")
    th, tw = min(tile, height), min(tile, width)
    return [
        Tile(y, y + th, x, x + tw)
        for y in _starts(height, tile, overlap)
        for x in _starts(width, tile, overlap)
    ]


def _ramp(n: int, lo_overlap: int, hi_overlap: int) -> np.ndarray:
    w = np.ones(n, dtype=np.float32)
    if lo_overlap > 0:
        w[:lo_overlap] = np.linspace(0, 1, lo_overlap + 2, dtype=np.float32)[1:-1]
    if hi_overlap > 0:
        w[n - hi_overlap:] = np.minimum(w[n - hi_overlap:], np.linspace(1, 0, hi_overlap + 2, dtype=np.float32)[1:-1])
    return w


def tile_weights(tile: Tile, tiles: list[Tile]) -> np.ndarray:
    """Feathering weights (h, w) for `tile`: ramps across the actual overlap with its neighbours."""
    top = max((t.y1 - tile.y0 for t in tiles if t.y0 < tile.y0 < t.y1), default=0)
    bottom = max((tile.y1 - t.y0 for t in tiles if t.y0 < tile.y1 < t.y1), default=0)
    left = max((t.x1 - tile.x0 for t in tiles if t.x0 < tile.x0 < t.x1), default=0)
    right = max((tile.x1 - t.x0 for t in tiles if t.x0 < tile.x1 < t.x1), default=0)
    wy = _ramp(tile.y1 - tile.y0, top, bottom)
    wx = _ramp(tile.x1 - tile.x0, left, right)
    return wy[:, None] * wx[None, :]
