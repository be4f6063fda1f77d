"""A tiny exponential moving average of a model's weights (the weights Hourglass ships and evaluates).

Decay warm-up as in ema-pytorch (which the official trainer uses), with inv_gamma 1:
    decay(k) = min(max_decay, 1 − (1 + k)^(−power)),  k = number of updates done so far.
With power 2/3 the average spans roughly the last k^(2/3) updates (k = 100 → ~22, k = 1000 → ~100,
k = 10,000 → ~460) until the cap takes over (0.999, i.e. ~1000 updates, reached at k ≈ 31,600). So on a
short run the EMA follows the fast-improving weights closely instead of lagging behind a random
initialisation, and on a long run it averages more and more. It is updated after every optimiser step
(the official trainer updates every 10 steps with decay 0.995, equivalent to ~0.9995 per step, tuned
for 300k steps). The shadow weights are kept in float32 whatever the model's dtype.
"""

from __future__ import annotations

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, max_decay: float = 0.999, power: float = 2 / 3):
        self.max_decay = float(max_decay)
        self.power = float(power)
        self.updates = 0
        self.shadow = {k: v.detach().float().clone() for k, v in model.state_dict().items()}

    def decay(self, updates: int | None = None) -> float:
        k = self.updates if updates is None else updates
        return min(self.max_decay, 1.0 - (1.0 + k) ** -self.power)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """shadow ← decay·shadow + (1 − decay)·weights (the first update copies the weights)."""
        weight = 1.0 - self.decay()
        current = model.state_dict()
        keys = list(self.shadow)
        shadow = [self.shadow[k] for k in keys]
        online = [current[k].detach().to(self.shadow[k].dtype) for k in keys]
        torch._foreach_lerp_(shadow, online, weight)
        self.updates += 1

    def weights(self) -> dict[str, torch.Tensor]:
        """The averaged weights as a contiguous float32 state dict (a copy)."""
        return {k: v.detach().clone().contiguous() for k, v in self.shadow.items()}

    def state_dict(self) -> dict:
        return {"updates": self.updates, "max_decay": self.max_decay, "power": self.power,
                "shadow": {k: v.contiguous() for k, v in self.shadow.items()}}

    def load_state_dict(self, state: dict) -> None:
        shadow = state["shadow"]
        if set(shadow) != set(self.shadow):
            raise ValueError("EMA state does not match the model's keys")
        for k, v in shadow.items():
            self.shadow[k].copy_(v)
        self.updates = int(state["updates"])
        self.max_decay = float(state["max_decay"])
        self.power = float(state["power"])
