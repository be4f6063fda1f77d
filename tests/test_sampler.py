"""Schedules, time grids, presets and the update formulas, against values computed by hand from the spec."""

from __future__ import annotations

import pytest
import torch

from engine.errors import Cancelled
from engine.sampler import CancelToken, sample, step, validate_times
from engine.schedule import PRESETS, make_schedule, resolve_times, stock_times

S = make_schedule()

# spec §5.2: exact float32 constants
TABLE = {
    999: (0.9936471581459045, 993.6471557617188, 0.9004999995231628, 0.9999798536300659),
    749: (0.9421160817146301, 942.1160888671875, 0.5065498948097229, 0.9983233213424683),
    665: (0.8944867849349976, 894.4867553710938, 0.3994443118572235, 0.9944179058074951),
    499: (0.7196658849716187, 719.6658935546875, 0.22514989972114563, 0.9599024653434753),
    332: (0.4336214065551758, 433.62139892578125, 0.09987766295671463, 0.8241451978683472),
    249: (0.27606260776519775, 276.0626220703125, 0.05629992485046387, 0.6898657083511353),
}


@pytest.mark.parametrize("t", sorted(TABLE))
def test_schedule_constants_bit_exact(t):
    a, time_in, d, b = TABLE[t]
    assert S.alphas_cumsum[t].item() == a
    assert (S.alphas_cumsum[t] * 1000).item() == time_in
    assert S.delta_cumsum[t].item() == d
    # B̄ is unused at inference (spec §5.2; training's noise std): within one float32 step, since the last
    # bit of torch.sqrt depends on the CPU's kernel (an AVX-512 Xeon rounds √(1 − ᾱ_999) the other way)
    assert abs(S.betas_cumsum[t].item() - b) <= float(torch.finfo(torch.float32).eps) / 2


def test_step_coefficients():
    assert (1 - S.delta_cumsum[999]).item() == 0.09950000047683716
    assert (S.alphas_cumsum[999] - S.alphas_cumsum[665]).item() == 0.09916037321090698
    assert (S.delta_cumsum[999] - S.delta_cumsum[665]).item() == 0.5010557174682617
    assert (S.alphas_cumsum[665] - S.alphas_cumsum[332]).item() == 0.4608653783798218
    assert (S.delta_cumsum[665] - S.delta_cumsum[332]).item() == 0.2995666563510895


def test_stock_grids():
    assert stock_times(3) == (999, 665, 332)
    assert stock_times(2) == (999, 499)
    assert stock_times(4) == (999, 749, 499, 249)
    assert stock_times(5) == (999, 799, 599, 399, 199)
    assert stock_times(10)[:3] == (999, 899, 799) and stock_times(10)[-1] == 99
    assert stock_times(1) == (999,)


def test_presets():
    assert {k: len(v) for k, v in PRESETS.items()} == {"fast": 1, "balanced": 2, "best": 3}
    assert resolve_times("best") == stock_times(3)
    assert resolve_times("balanced") == (999, 332)
    assert resolve_times("fast", steps=4) == stock_times(4)
    with pytest.raises(ValueError):
        resolve_times("ultra")
    with pytest.raises(ValueError):
        stock_times(0)
    with pytest.raises(ValueError):
        validate_times([332, 665])


def test_update_by_hand():
    """Three steps with a constant residual, compared with the spec's formulas evaluated by hand."""
    x_in = torch.tensor([0.5, -0.25, 0.8]).reshape(1, 3, 1, 1)
    z = torch.tensor([1.0, -2.0, 0.5]).reshape(1, 3, 1, 1)
    r = torch.tensor([0.3, -1.7, 0.1]).reshape(1, 3, 1, 1)  # -1.7 is clamped to -1
    states = []

    def predict(state, x, t, i):
        states.append(state.clone())
        return r

    out = sample(predict, x_in, z, (999, 665, 332), schedule=S)
    rc = r.clamp(-1, 1)
    s0 = torch.tensor(0.09950000047683716) * x_in + 0.1 * z
    s1 = s0 - torch.tensor(0.09916037321090698) * rc + torch.tensor(0.5010557174682617) * x_in
    s2 = s1 - torch.tensor(0.4608653783798218) * rc + torch.tensor(0.2995666563510895) * x_in
    assert torch.allclose(states[0], s0, atol=0, rtol=0)
    assert torch.allclose(states[1], s1, atol=1e-7)
    assert torch.allclose(states[2], s2, atol=1e-7)
    expected = ((x_in - rc).clamp(-1, 1) + 1) * 0.5
    assert torch.allclose(out, expected, atol=0)
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("times", [(999,), (999, 332), (999, 665, 332), stock_times(4), stock_times(5)])
def test_oracle_network_recovers_clean_image(times):
    """A network that returns the true residual gives back the clean image, calling once per time."""
    g = torch.Generator().manual_seed(1)
    x0 = torch.rand(1, 3, 8, 8, generator=g) * 2 - 1
    x_in = (x0 + 0.3 * torch.randn(1, 3, 8, 8, generator=g)).clamp(-1, 1)
    calls = []

    def oracle(state, x, t, i):
        calls.append(t)
        return x_in - x0

    out = sample(oracle, x_in, torch.randn(1, 3, 8, 8, generator=g), times)
    assert calls == list(times)
    assert torch.allclose(out, (x0 + 1) * 0.5, atol=1e-6)


def test_closed_form_jump_bound():
    """DDIM from T to tau differs from placing x0 at tau in closed form by at most sqrt(gamma_T)·|r| (§3.3)."""
    g = torch.Generator().manual_seed(2)
    x_in, z = torch.rand(1, 3, 4, 4, generator=g) * 2 - 1, torch.randn(1, 3, 4, 4, generator=g)
    r = (torch.rand(1, 3, 4, 4, generator=g) * 2 - 1)
    for tau in (665, 499, 332, 249):
        state = torch.tensor(1 - S.delta_cumsum[999].item()) * x_in + 0.1 * z
        ddim, _ = step(state, r, x_in, 999, tau, S)
        x0 = x_in - r
        closed = x0 + S.alphas_cumsum[tau] * (x_in - x0) - S.delta_cumsum[tau] * x_in + 0.1 * z
        assert (ddim - closed).abs().max() <= (1 - S.alphas_cumsum[999]) * r.abs().max() + 1e-6


def test_callback_and_cancel():
    token = CancelToken()
    seen = []

    def predict(state, x, t, i):
        return torch.zeros_like(state)

    def on_step(info):
        seen.append((info.step, info.steps, info.t))
        if info.step == 1:
            token.cancel()

    with pytest.raises(Cancelled):
        sample(predict, torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), (999, 665, 332), on_step=on_step,
               cancel=token)
    assert seen == [(1, 3, 999)]  # cancelled before the second network call


def test_deterministic_for_a_seed(tiny_model):
    import numpy as np

    from engine.pipeline import make_noise

    a, b = make_noise(20, 30, seed=7), make_noise(20, 30, seed=7)
    assert a.shape == (20, 30, 3) and a.dtype == np.float32 and np.array_equal(a, b)
    assert not np.array_equal(a, make_noise(20, 30, seed=8))
