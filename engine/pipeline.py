"""Restoring one image array: pre-processing, tiling, sampling, progress, cancellation, OOM recovery.

Knows nothing about files or messages. The sampler's state lives on the CPU at full size; each network
call moves one tile to the model's device, so the device holds only one tile's activations. At every
step the tiles' residual predictions are blended with feathered weights and the shared state is updated,
so all tiles follow one trajectory from one noise field and no seams appear.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from engine.errors import OutOfMemoryError
from engine.preprocess import preprocess
from engine.sampler import CancelToken, StepInfo, sample, time_input
from engine.schedule import make_schedule
from engine.tiling import Tile, plan_tiles, tile_weights

log = logging.getLogger("engine.pipeline")

MIN_SIDE = 16  # the network reflect-pads to 16; smaller images are edge-padded first
MIN_TILE = 128
MAX_TILE = 1024
DEFAULT_OVERLAP = 64
TILE_CHOICES = (1024, 896, 768, 640, 512, 384, 256, 192, 128)

__all__ = ["CancelToken", "Progress", "StepInfo", "choose_tile", "make_noise", "restore_array"]


@dataclass(frozen=True)
class Progress:
    """Where a restore is: `fraction` in [0, 1] over all steps × tiles of the restore stage."""

    stage: str
    step: int
    steps: int
    tile: int
    tiles: int
    fraction: float


def make_noise(height: int, width: int, seed: int) -> np.ndarray:
    """The sampler's initial noise z as float32 H×W×3, drawn on the CPU so every device gets the same."""
    g = torch.Generator().manual_seed(int(seed))
    return torch.randn((1, 3, height, width), generator=g).squeeze(0).permute(1, 2, 0).numpy()


def tile_bytes(config, tile: int) -> int:
    """A generous estimate of one float32 network call's peak memory on a tile×tile input."""
    px = tile * tile
    activations = px * 4 * config.dims[0] * 28  # live feature maps at full resolution, lower levels included
    tokens = px // 64
    attention = 3 * 4 * 4 * tokens * tokens  # heads × N² similarity, softmax and a temporary
    return activations + attention


def choose_tile(config, device: str, budget_bytes: int | None = None) -> int:
    """The largest tile whose estimated peak fits half the device's free memory."""
    from engine.device import free_memory

    budget = budget_bytes if budget_bytes is not None else free_memory(device) // 2
    for tile in TILE_CHOICES:
        if tile_bytes(config, tile) <= budget:
            return tile
    return MIN_TILE


class _TileOOM(Exception):
    pass


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError)


def _predict_fn(net, device: str, tiles: list[Tile], shape, schedule, report, cancel):
    """The sampler's `predict`: evaluates the network tile by tile and blends the residuals."""
    h, w = shape
    single = len(tiles) == 1
    weights = [torch.from_numpy(tile_weights(t, tiles)) for t in tiles]
    wsum = torch.zeros(h, w)
    for t, wt in zip(tiles, weights):
        wsum[t.slices] += wt

    def call(state, x_in, t):
        x = torch.cat((state, x_in), dim=1).to(device)
        try:
            return net(x, time_input(schedule, t, x.shape[0], device)).to("cpu")
        except Exception as exc:
            if _is_oom(exc):
                raise _TileOOM() from exc
            raise

    def predict(state, x_in, t, step_index):
        if single:
            out = call(state, x_in, t)
            report(step_index, 1)
            return out
        acc = torch.zeros_like(state)
        for k, (tile, wt) in enumerate(zip(tiles, weights)):
            if cancel is not None:
                cancel.check()
            ys, xs = tile.slices
            acc[..., ys, xs] += call(state[..., ys, xs], x_in[..., ys, xs], t) * wt
            report(step_index, k + 1)
        return acc / wsum

    return predict


def restore_array(
    net,
    rgb: np.ndarray,
    times,
    *,
    noise: np.ndarray | None = None,
    seed: int = 0,
    task: str = "auto",
    device: str = "cpu",
    tile: int | None = None,
    overlap: int = DEFAULT_OVERLAP,
    on_progress: Callable[[Progress], None] | None = None,
    on_step: Callable[[StepInfo], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Restore `rgb` (float32 H×W×3 in [0, 1]) with `net`; returns float32 H×W×3 in [0, 1].

    `noise` (float32 H×W×3) is the sampler's initial z; without it, z is drawn from `seed`. `tile=None`
    picks the tile size from the device's free memory; on a CUDA out-of-memory error the tile size is
    halved, and below the minimum the restore moves to the CPU (with a warning).
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.float32)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 RGB array, got shape {rgb.shape}")
    H, W = rgb.shape[:2]
    if noise is None:
        noise = make_noise(H, W, seed)
    elif noise.shape != rgb.shape:
        raise ValueError(f"noise shape {noise.shape} does not match the image {rgb.shape}")
    cond = preprocess(rgb, task)
    # Images under 16 px on a side cannot be reflect-padded by the network: edge-pad them first.
    ph, pw = max(0, MIN_SIDE - H), max(0, MIN_SIDE - W)
    if ph or pw:
        cond = np.pad(cond, ((0, ph), (0, pw), (0, 0)), mode="edge")
        noise = np.pad(noise, ((0, ph), (0, pw), (0, 0)), mode="edge")
    x_in = torch.from_numpy(np.ascontiguousarray(cond)).permute(2, 0, 1)[None] * 2 - 1
    z = torch.from_numpy(np.ascontiguousarray(noise, dtype=np.float32)).permute(2, 0, 1)[None]
    config = net.config
    tile = tile or choose_tile(config, device)
    schedule = make_schedule()
    times = list(times)
    while True:
        try:
            out = _run(net, x_in, z, times, schedule, device, tile, overlap, on_progress, on_step, cancel)
            break
        except _TileOOM:
            if device.startswith("cuda"):
                torch.cuda.empty_cache()
            if tile > MIN_TILE:
                tile = max(MIN_TILE, tile // 2)
                _warn(on_warning, f"GPU out of memory; retrying with {tile}×{tile} tiles.")
                continue
            if not device.startswith("cuda"):
                raise OutOfMemoryError("Out of memory even with the smallest tiles.") from None
            _warn(on_warning, "GPU out of memory even with the smallest tiles; continuing on the CPU (slower).")
            net.to("cpu")
            try:
                out = _run(net, x_in, z, times, schedule, "cpu", choose_tile(config, "cpu"), overlap,
                           on_progress, on_step, cancel)
            finally:
                net.to(device)
            break
    out = out[0, :, :H, :W].permute(1, 2, 0).numpy()
    return np.ascontiguousarray(out, dtype=np.float32)


def _warn(on_warning, message: str) -> None:
    log.warning(message)
    if on_warning is not None:
        on_warning(message)


def _run(net, x_in, z, times, schedule, device, tile, overlap, on_progress, on_step, cancel):
    h, w = x_in.shape[-2:]
    tiles = plan_tiles(h, w, tile, min(overlap, tile // 2))
    total = len(times) * len(tiles)

    def report(step_index: int, tile_index: int) -> None:
        if on_progress is not None:
            done = step_index * len(tiles) + tile_index
            on_progress(Progress("restore", step_index + 1, len(times), tile_index, len(tiles), done / total))

    predict = _predict_fn(net, device, tiles, (h, w), schedule, report, cancel)
    with torch.inference_mode():
        return sample(predict, x_in, z, times, schedule=schedule, on_step=on_step, cancel=cancel)
