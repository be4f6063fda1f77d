"""The fast full-resolution path for global degradations (low-light, haze).

Low light and haze change a photo smoothly: brightness, contrast and colour vary with the scene but not
from one pixel to the next. So the network restores a downscaled copy (about `WORK_PIXELS`, one network
call per step when it fits one tile), and `engine.guided` carries the correction to full resolution as a
per-pixel affine colour transform fitted at low resolution: fine detail comes from the original photo.
For a 12-megapixel photo this does ~1/15 of the network work of full-resolution tiling.

Rain, snow and blur are local (streaks, flakes, edges): they keep full-resolution tiling. `fullres` picks:
"tiled" always tiles; "fast" always takes this path when the photo is larger than the working size;
"auto" takes it for the global tasks when the photo has at least `AUTO_MIN_FACTOR`× the working pixels.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from engine.fullres_rule import (  # (the rule lives apart so the GUI's time estimate can use it)
    AUTO_MIN_FACTOR,
    FULLRES_MODES,
    GLOBAL_TASKS,
    WORK_PIXELS,
    check_fullres,
    resolve_fullres,
    working_size,
)
from engine.preprocess import preprocess

log = logging.getLogger("engine.fastpath")

GUIDE_RADIUS = 1  # low-resolution pixels: a 3×3 window (bench: best transfer fidelity of 1..6)
GUIDE_EPS = 1e-4

__all__ = ["AUTO_MIN_FACTOR", "FULLRES_MODES", "GLOBAL_TASKS", "WORK_PIXELS", "check_fullres", "resolve_fullres",
           "restore_fast", "working_size"]


def restore_fast(net, rgb: np.ndarray, times, *, noise=None, seed: int = 0, task: str = "auto", device: str = "cpu",
                 tile=None, overlap=None, on_progress=None, on_warning=None, cancel=None, optimize: bool = True,
                 precision: str = "float32", batch=None, budget=None, details: dict | None = None,
                 work_pixels: int | None = None, radius: int = GUIDE_RADIUS, eps: float = GUIDE_EPS,
                 equalize: bool = True) -> np.ndarray:
    """Restore `rgb` (H×W×3 float32 in [0, 1]) through a downscaled copy; returns float32 H×W×3 in [0, 1].

    The task's pre-processing (low-light equalisation) runs at full resolution first, as on the tiled path;
    the network then sees the downscaled condition and the transform maps condition → restored. `noise`
    (full size) is subsampled to the working size; otherwise it is drawn there from `seed`.
    """
    import cv2

    from engine.guided import apply_affine, fit_affine
    from engine.pipeline import DEFAULT_OVERLAP, Progress, restore_array

    details = details if details is not None else {}
    t0 = time.perf_counter()
    H, W = rgb.shape[:2]
    cond = preprocess(np.asarray(rgb, dtype=np.float32), task, equalize=equalize)
    h, w = working_size(H, W, work_pixels)
    lo = cv2.resize(cond, (w, h), interpolation=cv2.INTER_AREA)
    lo_noise = None
    if noise is not None:
        lo_noise = cv2.resize(np.asarray(noise, dtype=np.float32), (w, h), interpolation=cv2.INTER_NEAREST)
    details.update(work_size=[w, h], guide_radius=radius, guide_eps=eps)
    t1 = time.perf_counter()

    def lo_progress(p) -> None:  # the network part is ~95% of the time
        if on_progress is not None:
            on_progress(Progress(p.stage, p.step, p.steps, p.tile, p.tiles, 0.95 * p.fraction))

    # Memory: the caller's photo and one full-size float32 result (written into `cond` when it is our own
    # copy) stay alive; on a CPU they come out of the budget the low-resolution restore plans with.
    from engine.device import memory_budget

    total = int(budget if budget is not None else memory_budget(device))
    full_bytes = H * W * 3 * 4 * 2
    inner_budget = total - full_bytes if not device.startswith("cuda") else total
    inner: dict = {}
    lo_out = restore_array(net, lo, times, noise=lo_noise, seed=seed, task="none", device=device, tile=tile,
                           overlap=DEFAULT_OVERLAP if overlap is None else overlap, on_progress=lo_progress,
                           on_warning=on_warning, cancel=cancel, optimize=optimize, precision=precision,
                           batch=batch, budget=max(inner_budget, 0), fullres="tiled", details=inner)
    details.update({k: v for k, v in inner.items() if k != "fullres"})
    if "memory" in details:  # describe the whole restore, not just the low-resolution part
        mem = dict(details["memory"])
        extra = full_bytes / 2**20 if not device.startswith("cuda") else 0.0
        mem.update(budget_mb=round(total / 2**20, 1), fullres_mb=round(full_bytes / 2**20, 1),
                   estimate_mb=round(mem["estimate_mb"] + extra, 1))
        mem["fits"] = mem["estimate_mb"] <= mem["budget_mb"]
        details["memory"] = mem
    t2 = time.perf_counter()
    if cancel is not None:
        cancel.check()
    coeffs = fit_affine(lo, lo_out, radius, eps)
    # Work in place when `cond` is our own copy (low-light); never write into the caller's array.
    out = cond if cond is not rgb and cond.dtype == np.float32 and cond.flags.writeable else None
    out = apply_affine(coeffs, cond, out=out)
    t3 = time.perf_counter()
    if on_progress is not None:
        n = len(tuple(times))
        on_progress(Progress("restore", n, n, 1, 1, 1.0))
    details["fast_timings"] = {"downscale": round(t1 - t0, 4), "network": round(t2 - t1, 4),
                               "transfer": round(t3 - t2, 4)}
    log.info("fast path %dx%d via %dx%d: %.2f s network, %.2f s transfer", W, H, w, h, t2 - t1, t3 - t2)
    return out
