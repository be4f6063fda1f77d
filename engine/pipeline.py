"""Restoring one image array: pre-processing, tiling, sampling, progress, cancellation, OOM recovery.

Knows nothing about files or messages. The sampler's state lives on the CPU at full size; each network
call moves one tile to the model's device, so the device holds only one tile's activations. At every
step the tiles' residual predictions are blended with feathered weights and the shared state is updated,
so all tiles follow one trajectory from one noise field and no seams appear.

Two ways to run the network:
- the reference (`optimize=False`, the default of this module): the network as given, the sampler of
  `engine.sampler`; bit-identical to the official code on CPU in float32;
- the optimised path (`optimize=True`, the API's default): `engine.fastnet.FastUnet` (same function, ≤ 1e-4
  apart in float32), tiles batched where memory allows, and a sampler loop that updates the full-resolution
  state in place, so the number of full-size float copies is fixed (see `FULLRES_BYTES_PER_PIXEL`). The
  tile size and batch follow a memory budget derived from the device's free memory (`plan_memory`).

`fullres="fast"|"auto"` restores a downscaled copy and carries the correction to full resolution
(`engine.fastpath`); the default "tiled" runs the network at full resolution.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from engine.device import empty_cuda_cache
from engine.errors import OutOfMemoryError
from engine.preprocess import preprocess
from engine.sampler import CancelToken, StepInfo, sample, time_input, validate_times
from engine.schedule import SUM_SCALE, make_schedule
from engine.tiling import Tile, plan_tiles, tile_weights

log = logging.getLogger("engine.pipeline")

MIN_SIDE = 16  # the network reflect-pads to 16; smaller images are edge-padded first
MIN_TILE = 128
MAX_TILE = 1024
DEFAULT_OVERLAP = 64
TILE_CHOICES = (1024, 896, 768, 640, 512, 384, 256, 192, 128)
# On a CPU, a network call costs more per pixel above ~512² (the mid attention grows with the square of the
# pixels, and the feature maps leave the caches), which outweighs the smaller overlap of larger tiles; an
# image that fits one tile of at most CPU_SINGLE_TILE still runs as one call (no overlap at all).
CPU_TILE = 512
CPU_SINGLE_TILE = 1024
MAX_BATCH = 8
# Full-resolution float32 buffers of the optimised tiled path, in bytes per pixel: the caller's image (12),
# the condition x_in (12), the sampler state (12), the blended prediction (12, which becomes the output) and
# the blending weights (4) stay; the initial noise (24 while it is drawn) and the low-light condition (12)
# come and go before the first network call. Rounded up for the allocator's slack.
FULLRES_BYTES_PER_PIXEL = 76
RUNTIME_BYTES = 400 << 20  # torch, the model and the interpreter, outside the estimates above

__all__ = ["CancelToken", "MemoryPlan", "Progress", "StepInfo", "choose_tile", "make_noise", "plan_memory",
           "restore_array", "tile_bytes", "tile_bytes_optimized"]


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


def tile_bytes_optimized(config, tile: int, precision: str = "float32", width: int | None = None) -> int:
    """Peak memory of one `FastUnet` call on a tile×tile (or tile×width) input, per sample of a batch.

    The full-resolution feature maps (about 20 maps of `dims[0]` channels alive at once) and the linear
    attention's 128-channel q and k; the fused mid attention keeps no N×N matrix. Measured peaks (float32,
    CPU): T 2.7 kB per pixel at 256²–1024², B 3.8 kB, L 4.2 kB; the estimate (T 3.8 kB, B/L 6.4 kB) errs high.
    """
    px = tile * (width or tile)
    itemsize = 2 if precision in ("bfloat16", "float16") else 4
    return int(px * itemsize * (20 * config.dims[0] + 2 * 128 + 64)) + (16 << 20)


def choose_tile(config, device: str, budget_bytes: int | None = None) -> int:
    """The largest tile whose estimated peak fits half the device's free memory."""
    from engine.device import free_memory

    budget = budget_bytes if budget_bytes is not None else free_memory(device) // 2
    for tile in TILE_CHOICES:
        if tile_bytes(config, tile) <= budget:
            return tile
    return MIN_TILE


@dataclass(frozen=True)
class MemoryPlan:
    """How a restore fits its memory budget (all sizes in bytes)."""

    budget: int  # what the restore may use on the device (CPU: everything; CUDA: the network calls)
    fullres: int  # the full-resolution buffers (host memory)
    tile: int
    batch: int
    per_call: int  # estimated peak of one network call (`batch` tiles)
    estimate: int  # estimated peak of the whole restore on the device
    fits: bool

    def to_json(self) -> dict:
        return {"budget_mb": round(self.budget / 2**20, 1), "fullres_mb": round(self.fullres / 2**20, 1),
                "tile": self.tile, "batch": self.batch, "per_call_mb": round(self.per_call / 2**20, 1),
                "estimate_mb": round(self.estimate / 2**20, 1), "fits": self.fits}


def plan_memory(config, height: int, width: int, device: str, *, budget: int | None = None,
                tile: int | None = None, batch: int | None = None, overlap: int = DEFAULT_OVERLAP,
                precision: str = "float32") -> MemoryPlan:
    """Tile size and batch for the optimised path so that the estimated peak stays within `budget`.

    `budget` defaults to `engine.device.memory_budget(device)`. On a CPU the budget covers the
    full-resolution buffers as well as the network calls; on CUDA the buffers live in RAM and the budget is
    the GPU's. Tiles are at most `CPU_TILE` on a CPU unless the image fits one tile of `CPU_SINGLE_TILE`;
    on CUDA they are as large as fits, then batched. Explicit `tile`/`batch` are kept as they are.
    """
    from engine.device import memory_budget

    budget = int(budget if budget is not None else memory_budget(device))
    on_cpu = not device.startswith("cuda")
    fullres = height * width * FULLRES_BYTES_PER_PIXEL
    fixed = fullres + RUNTIME_BYTES if on_cpu else 0
    room = budget - fixed
    if tile is None:
        if on_cpu:
            cap = CPU_SINGLE_TILE if max(height, width) <= CPU_SINGLE_TILE else CPU_TILE
        else:
            cap = MAX_TILE
        choices = [t for t in TILE_CHOICES if t <= cap]
        tile = next((t for t in choices if _call_bytes(config, t, height, width, precision) <= room), MIN_TILE)
    per_tile = _call_bytes(config, tile, height, width, precision)
    if batch is None:
        n_tiles = len(plan_tiles(max(height, MIN_SIDE), max(width, MIN_SIDE), tile, min(overlap, tile // 2)))
        batch = 1 if on_cpu else max(1, min(MAX_BATCH, n_tiles, room // max(per_tile, 1)))
    per_call = per_tile * batch
    estimate = fixed + per_call
    return MemoryPlan(budget, fullres, tile, batch, per_call, estimate, estimate <= budget)


def _call_bytes(config, tile: int, height: int, width: int, precision: str) -> int:
    return tile_bytes_optimized(config, min(tile, max(height, MIN_SIDE)), precision, min(tile, max(width, MIN_SIDE)))


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
    optimize: bool = False,
    precision: str = "float32",
    batch: int | None = None,
    budget: int | None = None,
    fullres: str = "tiled",
    details: dict | None = None,
    equalize: bool = True,
) -> np.ndarray:
    """Restore `rgb` (float32 H×W×3 in [0, 1]) with `net`; returns float32 H×W×3 in [0, 1].

    `noise` (float32 H×W×3) is the sampler's initial z; without it, z is drawn from `seed`. `tile=None`
    picks the tile size from the device's free memory; on a CUDA out-of-memory error the tile size is
    halved, and below the minimum the restore moves to the CPU (with a warning).

    `optimize=True` runs the optimised network and sampler loop (float32 results within 1e-4 of the
    reference; `precision` "bfloat16"/"float16" for GPUs), with tile size and `batch` planned against
    `budget` bytes (default: from the device's free memory). `fullres` "fast" restores a downscaled copy and
    carries the correction to full resolution, "auto" does so for global degradations (low-light, haze) of
    large photos, "tiled" (default) runs the network at full resolution. `details`, if given, receives what
    was done: the path, tile plan, memory budget and estimate. `equalize` is the model's low-light
    condition (`engine.preprocess.equalizes_low_light`).
    """
    from engine import fastpath

    details = details if details is not None else {}
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 RGB array, got shape {rgb.shape}")
    if not optimize and precision != "float32":
        raise ValueError("reduced precision needs the optimised path (optimize=True)")
    mode = fastpath.resolve_fullres(fullres, task, rgb.shape[0], rgb.shape[1])
    details["fullres"] = mode
    if mode == "fast":
        return fastpath.restore_fast(
            net, rgb, times, noise=noise, seed=seed, task=task, device=device, tile=tile, overlap=overlap,
            on_progress=on_progress, on_warning=on_warning, cancel=cancel, optimize=optimize,
            precision=precision, batch=batch, budget=budget, details=details, equalize=equalize)
    return _restore_tiled(net, rgb, times, noise=noise, seed=seed, task=task, device=device, tile=tile,
                          overlap=overlap, on_progress=on_progress, on_step=on_step, on_warning=on_warning,
                          cancel=cancel, optimize=optimize, precision=precision, batch=batch, budget=budget,
                          details=details, equalize=equalize)


def _restore_tiled(net, rgb, times, *, noise, seed, task, device, tile, overlap, on_progress, on_step, on_warning,
                   cancel, optimize, precision, batch, budget, details, equalize) -> np.ndarray:
    rgb = np.ascontiguousarray(rgb, dtype=np.float32)
    H, W = rgb.shape[:2]
    if noise is not None and noise.shape != rgb.shape:
        raise ValueError(f"noise shape {noise.shape} does not match the image {rgb.shape}")
    cond = preprocess(rgb, task, equalize=equalize)
    given_noise = noise
    # Images under 16 px on a side cannot be reflect-padded by the network: edge-pad them first.
    ph, pw = max(0, MIN_SIDE - H), max(0, MIN_SIDE - W)
    if ph or pw:
        cond = np.pad(cond, ((0, ph), (0, pw), (0, 0)), mode="edge")

    def noise_tensor() -> torch.Tensor:
        """z as a (1, 3, H, W) view of an H×W×3 array; drawn again from `seed` when it was not given, so the
        optimised path need not keep a full-size copy after the initial state is made."""
        n = given_noise if given_noise is not None else make_noise(H, W, seed)
        if ph or pw:
            n = np.pad(n, ((0, ph), (0, pw), (0, 0)), mode="edge")
        return torch.from_numpy(np.ascontiguousarray(n, dtype=np.float32)).permute(2, 0, 1)[None]

    config = net.config
    schedule = make_schedule()
    times = list(times)
    if not optimize:
        x_in = torch.from_numpy(np.ascontiguousarray(cond)).permute(2, 0, 1)[None] * 2 - 1
        z = noise_tensor()
        del cond
        tile = tile or choose_tile(config, device)
        details.update(tile=tile, batch=1, optimized=False)
        run = _run
        batch = 1
    else:
        from engine.device import tune_cpu_allocator

        tune_cpu_allocator()
        times = validate_times(times)
        # x_in and z keep the H×W×3 memory layout (a channels-last view): no transposed copies.
        x_in = torch.from_numpy(np.ascontiguousarray(cond)).permute(2, 0, 1)[None].mul(2).sub_(1)
        del cond
        z = noise_tensor  # called once per attempt: the noise exists only while the initial state is made
        plan = plan_memory(config, x_in.shape[-2], x_in.shape[-1], device, budget=budget, tile=tile, batch=batch,
                           overlap=overlap, precision=precision)
        tile, batch = plan.tile, plan.batch
        details.update(tile=tile, batch=batch, optimized=True, precision=precision, memory=plan.to_json())
        if not plan.fits:
            _warn(on_warning, f"This photo needs about {plan.estimate / 2**30:.1f} GiB, more than the "
                              f"{plan.budget / 2**30:.1f} GiB this restore may use; it may run out of memory.")

        def run(net, x_in, z, times, schedule, device, tile, overlap, on_progress, on_step, cancel):
            return _run_optimized(net, x_in, z, times, schedule, device, tile, overlap, batch, precision,
                                  on_progress, on_step, cancel)
    try:
        while True:
            try:
                out = run(net, x_in, z, times, schedule, device, tile, overlap, on_progress, on_step, cancel)
                break
            except _TileOOM:
                if device.startswith("cuda"):
                    empty_cuda_cache(device)
                if optimize and batch > 1:
                    batch = 1
                    _warn(on_warning, "GPU out of memory; retrying one tile at a time.")
                    continue
                if tile > MIN_TILE:
                    tile = max(MIN_TILE, tile // 2)
                    _warn(on_warning, f"GPU out of memory; retrying with {tile}×{tile} tiles.")
                    continue
                if not device.startswith("cuda"):
                    raise OutOfMemoryError("Out of memory even with the smallest tiles.") from None
                _warn(on_warning, "GPU out of memory even with the smallest tiles; continuing on the CPU (slower).")
                if optimize:
                    from engine.fastnet import release

                    release(net, "cuda")
                net.to("cpu")
                empty_cuda_cache(device)
                try:
                    cpu_tile = (plan_memory(config, x_in.shape[-2], x_in.shape[-1], "cpu", precision=precision).tile
                                if optimize else choose_tile(config, "cpu"))
                    out = run(net, x_in, z, times, schedule, "cpu", cpu_tile, overlap, on_progress, on_step, cancel)
                finally:
                    if optimize:
                        from engine.fastnet import release

                        release(net, "cpu")
                    net.to(device)
                break
    finally:
        del z
    details["tile"] = tile
    out = out[0, :, :H, :W].permute(1, 2, 0)
    if optimize:
        del x_in
        from engine.device import release_cpu_memory

        out = out.numpy()
        out = out if out.flags.c_contiguous else np.ascontiguousarray(out)
        release_cpu_memory()
        return out
    return np.ascontiguousarray(out.numpy(), dtype=np.float32)


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


def _run_optimized(net, x_in, z, times, schedule, device, tile, overlap, batch, precision, on_progress, on_step,
                   cancel):
    """The sampler of `engine.sampler.sample` with the full-resolution state updated in place.

    Full-size buffers: x_in, the state and the blended prediction `acc` (which ends as the output), plus the
    blending weights' reciprocal sum when there is more than one tile. Same arithmetic up to rounding.
    """
    from engine.fastnet import optimized

    h, w = x_in.shape[-2:]
    tiles = plan_tiles(h, w, tile, min(overlap, tile // 2))
    total = len(times) * len(tiles)
    single = len(tiles) == 1
    a, d = schedule.alphas_cumsum, schedule.delta_cumsum
    z = z() if callable(z) else z
    with torch.inference_mode():
        fast = optimized(net, precision)
        # Weights are made per tile when needed (cheap) rather than kept: together they would be another
        # full-size buffer and more (the overlaps).
        inv_wsum = None
        if not single:
            inv_wsum = torch.zeros(h, w)
            for tl in tiles:
                inv_wsum[tl.slices] += torch.from_numpy(tile_weights(tl, tiles))
            inv_wsum.reciprocal_()
        state = x_in * (1 - d[times[0]]).item()
        state.add_(z, alpha=math.sqrt(SUM_SCALE))
        del z
        acc = torch.empty_like(x_in)

        def call(xb: torch.Tensor, t: int) -> torch.Tensor:
            try:
                return fast(xb.to(device), time_input(schedule, t, xb.shape[0], device)).to("cpu")
            except Exception as exc:
                if _is_oom(exc):
                    raise _TileOOM() from exc
                raise

        for i, t in enumerate(times):
            if cancel is not None:
                cancel.check()
            if single:
                acc.copy_(call(torch.cat((state, x_in), dim=1), t))
                if on_progress is not None:
                    on_progress(Progress("restore", i + 1, len(times), 1, 1, (i + 1) / len(times)))
            else:
                acc.zero_()
                for k in range(0, len(tiles), batch):
                    if cancel is not None:
                        cancel.check()
                    group = tiles[k:k + batch]
                    xb = torch.stack([torch.cat((state[0, :, tl.y0:tl.y1, tl.x0:tl.x1],
                                                 x_in[0, :, tl.y0:tl.y1, tl.x0:tl.x1]), dim=0) for tl in group])
                    out = call(xb, t)
                    for j, tl in enumerate(group):
                        acc[0, :, tl.y0:tl.y1, tl.x0:tl.x1].addcmul_(out[j], torch.from_numpy(tile_weights(tl, tiles)))
                    if on_progress is not None:
                        done = i * len(tiles) + k + len(group)
                        on_progress(Progress("restore", i + 1, len(times), k + len(group), len(tiles), done / total))
                acc.mul_(inv_wsum)
            res = acc.clamp_(-1, 1)
            last = i + 1 == len(times)
            if not last:
                t_next = times[i + 1]
                state.add_(res, alpha=-(a[t] - a[t_next]).item())
                state.add_(x_in, alpha=(d[t] - d[t_next]).item())
                if on_step is not None:
                    on_step(StepInfo(i + 1, len(times), t, (x_in - res).clamp_(-1, 1)))
            else:
                x0 = acc.neg_().add_(x_in).clamp_(-1, 1)  # the prediction becomes x̂₀ in place
                if on_step is not None:
                    on_step(StepInfo(i + 1, len(times), t, x0))
                del state
                return x0.add_(1).mul_(0.5)
    raise AssertionError("unreachable")  # pragma: no cover
