"""DiffUIR's deterministic few-step sampler (spec §5.1, eta = 0), with a callback and a cancel hook.

The sampler is pure tensor maths: it never sees the network, only a `predict` callable that returns the
raw residual for the current state (the pipeline supplies one that tiles the image). Any descending list
of integer times works; the quality presets are lists from `engine.schedule`.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from engine.errors import Cancelled
from engine.schedule import SUM_SCALE, TIMESTEPS, Schedule, make_schedule


class CancelToken:
    """Set from any thread; checked by the sampler and the tiler between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()


@dataclass(frozen=True)
class StepInfo:
    """Reported after each sampler step; `pred_x0` (in [-1, 1]) allows previews."""

    step: int  # 1-based
    steps: int
    t: int
    pred_x0: torch.Tensor


# predict(state, x_in, t, step_index) -> raw residual, same shape as state
Predict = Callable[[torch.Tensor, torch.Tensor, int, int], torch.Tensor]


def time_input(schedule: Schedule, t: int, batch: int, device: torch.device | str) -> torch.Tensor:
    """The network's time input Ā_t·1000 for a batch, computed as the official code does."""
    idx = torch.full((batch,), t, dtype=torch.long)
    return (schedule.alphas_cumsum[idx] * TIMESTEPS).to(device)


def initial_state(x_in: torch.Tensor, noise: torch.Tensor, schedule: Schedule, t0: int) -> torch.Tensor:
    """x_{t0} = (1 − D̄_{t0})·x_in + sqrt(sum_scale)·z; t0 = 999 is the official start."""
    return (1 - schedule.delta_cumsum[t0]).to(x_in.device) * x_in + math.sqrt(SUM_SCALE) * noise


def step(state, raw, x_in, t: int, t_next: int, schedule: Schedule):
    """One update from time t to t_next (t_next < 0 ends the chain). Returns (next_state, pred_x0)."""
    res = raw.clamp(-1, 1)
    x0 = (x_in - res).clamp(-1, 1)
    if t_next < 0:
        return x0, x0
    a, d = schedule.alphas_cumsum, schedule.delta_cumsum
    alpha = (a[t] - a[t_next]).to(state.device)
    delta = (d[t] - d[t_next]).to(state.device)
    return state - alpha * res + delta * x_in, x0


def validate_times(times: Sequence[int]) -> list[int]:
    times = [int(t) for t in times]
    if not times:
        raise ValueError("at least one sampling step is needed")
    if any(not 0 <= t < TIMESTEPS for t in times) or any(a <= b for a, b in itertools.pairwise(times)):
        raise ValueError(f"times must be strictly descending integers in [0, {TIMESTEPS - 1}], got {times}")
    return times


def sample(
    predict: Predict,
    x_in: torch.Tensor,
    noise: torch.Tensor,
    times: Sequence[int],
    *,
    schedule: Schedule | None = None,
    on_step: Callable[[StepInfo], None] | None = None,
    cancel: CancelToken | None = None,
) -> torch.Tensor:
    """Run the sampler. `x_in` is the degraded image in [-1, 1], `noise` the initial z (same shape).

    Returns the restored image in [0, 1] (same shape). The network is called once per entry of `times`.
    """
    schedule = schedule or make_schedule()
    times = validate_times(times)
    state = initial_state(x_in, noise, schedule, times[0])
    for i, t in enumerate(times):
        if cancel is not None:
            cancel.check()
        t_next = times[i + 1] if i + 1 < len(times) else -1
        raw = predict(state, x_in, t, i)
        state, x0 = step(state, raw, x_in, t, t_next, schedule)
        if on_step is not None:
            on_step(StepInfo(i + 1, len(times), t, x0))
    return (state + 1) * 0.5
