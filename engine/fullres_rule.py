"""Which full-resolution path a photo takes: the fast path (restore a ~1 MP copy, carry the correction over;
`engine.fastpath`) or tiling at full resolution, and how large the fast path's working copy is.

Standard library only: the GUI's estimate of a batch's time left (`app.batch_eta`) asks the same rule how
many pixels the network will see for each queued photo, as the engine will decide it.
"""

from __future__ import annotations

import math

FULLRES_MODES = ("auto", "fast", "tiled")
GLOBAL_TASKS = ("low-light", "haze")
WORK_PIXELS = 1_000_000
WORK_MAX_SIDE = 1024  # so the working copy is one 1024 tile: one network call per step, no overlap
WORK_MIN_SHORT_SIDE = 512  # ...unless that squeezes a panorama's short side below this (then: pixels only)
AUTO_MIN_FACTOR = 1.5


def check_fullres(mode: str) -> str:
    if mode not in FULLRES_MODES:
        raise ValueError(f"unknown fullres mode {mode!r}; choose one of {', '.join(FULLRES_MODES)}")
    return mode


def working_size(height: int, width: int, work_pixels: int | None = None,
                 max_side: int | None = None) -> tuple[int, int]:
    """The size of the downscaled copy: at most `work_pixels`, aspect ratio kept, and its long side at most
    `max_side` (one tile) as long as the short side keeps `WORK_MIN_SHORT_SIDE`: a 6000×40 strip or a
    12000×2000 panorama is not squeezed to a few rows, which would restore a different picture."""
    work_pixels = WORK_PIXELS if work_pixels is None else work_pixels
    max_side = WORK_MAX_SIDE if max_side is None else max_side
    by_pixels = min(1.0, math.sqrt(work_pixels / (height * width)))
    scale = min(by_pixels, max_side / max(height, width))
    if min(height, width) * scale < WORK_MIN_SHORT_SIDE:
        scale = min(by_pixels, max(scale, WORK_MIN_SHORT_SIDE / min(height, width)))
    return max(16, round(height * scale)), max(16, round(width * scale))


def resolve_fullres(mode: str, task: str, height: int, width: int, work_pixels: int | None = None) -> str:
    """"fast" or "tiled" for a photo of this size and task (see the module docstring)."""
    check_fullres(mode)
    if mode == "tiled":
        return "tiled"
    h, w = working_size(height, width, work_pixels)
    smaller = h * w < height * width
    if mode == "fast":
        return "fast" if smaller else "tiled"
    return "fast" if task in GLOBAL_TASKS and height * width >= AUTO_MIN_FACTOR * h * w else "tiled"
