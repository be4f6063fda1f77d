"""DiffUIR's residual diffusion schedules and time grids (`shared/spec/diffuir.md` §4, §5).

Everything is computed with torch in float32 exactly as the official code does, so the coefficients match
it bit for bit (numpy's linspace differs by one ulp in places).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

TIMESTEPS = 1000
DELTA_END = 1.8e-3  # every official script passes this, not the constructor's 1.5e-3
SUM_SCALE = 0.01  # variance of the initial sampling noise: its std is sqrt(0.01) = 0.1

# Quality presets (accelerated-sampling spec §5): each is a descending list of network evaluation times.
# "balanced" keeps the default sampler's last evaluation time (332): the closed-form jump of §3.3.
PRESETS: dict[str, tuple[int, ...]] = {
    "fast": (999,),
    "balanced": (999, 332),
    "best": (999, 665, 332),
}
PRESET_STEPS = {name: len(times) for name, times in PRESETS.items()}


@dataclass(frozen=True)
class Schedule:
    """The float32 schedule tensors, indexed by the integer time t = 0..999."""

    alphas_cumsum: torch.Tensor  # Ā_t = 1 − sqrt(ᾱ_t): weight of the residual; time input is Ā_t·1000
    betas_cumsum: torch.Tensor  # B̄_t = sqrt(1 − ᾱ_t): noise std of the forward process
    delta_cumsum: torch.Tensor  # D̄_t: the shared distribution term


def make_schedule(timesteps: int = TIMESTEPS, delta_end: float = DELTA_END) -> Schedule:
    betas = torch.linspace(1e-4, 0.02, timesteps, dtype=torch.float32)
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    alphas_cumsum = 1 - alphas_cumprod**0.5
    betas_cumsum = torch.sqrt(1 - alphas_cumprod)
    delta = torch.linspace(1e-6, delta_end, timesteps, dtype=torch.float32)
    delta_cumsum = delta.cumsum(dim=0).clip(0, 1)
    return Schedule(alphas_cumsum, betas_cumsum, delta_cumsum)


def stock_times(steps: int, timesteps: int = TIMESTEPS) -> tuple[int, ...]:
    """The official DDIM grid for `steps` evaluations: int-truncated linspace(−1, T−1, steps+1), reversed.

    Returns only the evaluation times (the trailing −1 is implied): 3 → (999, 665, 332).
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    times = torch.linspace(-1, timesteps - 1, steps=steps + 1).int().tolist()
    return tuple(reversed(times[1:]))


def resolve_times(quality: str | None = None, steps: int | None = None) -> tuple[int, ...]:
    """Evaluation times: an explicit step count takes the official grid, otherwise the quality preset."""
    if steps is not None:
        return stock_times(steps)
    quality = quality or "best"
    if quality not in PRESETS:
        raise ValueError(f"unknown quality {quality!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[quality]
