"""The optimised network (`engine.fastnet`) computes the reference function: float32 within 1e-4."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.fastnet import FastUnet, optimized, release
from engine.network import UnetRes


def _net(variant: str = "T", seed: int = 0) -> UnetRes:
    """Random weights, with norm gains/biases moved off their init values so folding them is exercised."""
    torch.manual_seed(seed)
    net = UnetRes(variant).eval().requires_grad_(False)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if p.ndim <= 1 or name.endswith(".g"):
                p.add_(torch.randn_like(p) * 0.3)
    net.freeze_weights()
    return net


@pytest.mark.parametrize("variant,shape", [("T", (1, 6, 64, 64)), ("T", (2, 6, 61, 83)), ("S", (2, 6, 48, 40)),
                                           ("T", (1, 6, 16, 16))])
def test_fast_network_matches_reference(variant, shape):
    net = _net(variant)
    x, t = torch.randn(*shape), torch.rand(shape[0]) * 1000
    with torch.inference_mode():
        ref, fast = net(x, t), FastUnet(net)(x, t)
    assert fast.shape == ref.shape and fast.dtype == torch.float32
    assert (fast - ref).abs().max().item() <= 1e-4


def test_fast_network_large_map_uses_accurate_group_norm():
    """Above 128² the group statistics are summed by cascade (PyTorch's channels-last kernel drifts)."""
    net = _net("T", seed=1)
    x, t = torch.randn(1, 6, 192, 160) * 2 + 1, torch.tensor([993.6])
    with torch.inference_mode():
        assert (FastUnet(net)(x, t) - net(x, t)).abs().max().item() <= 1e-4


def test_fast_network_on_official_trace(golden):
    trace = np.load(golden / "T_trace_3steps.npz")
    net = UnetRes("T").eval()
    net.load_state_dict(torch.load(golden / "T_random_weights.pt", weights_only=True))
    fast = FastUnet(net)
    with torch.inference_mode():
        for k in range(3):
            out = fast(torch.from_numpy(trace[f"net_in_{k}"]), torch.from_numpy(trace[f"time_{k}"]))
            assert np.abs(out.numpy() - trace[f"net_out_{k}"]).max() <= 1e-4


def test_batched_equals_one_by_one():
    net = _net()
    fast = FastUnet(net)
    x, t = torch.randn(3, 6, 48, 48), torch.tensor([999.0, 500.0, 20.0])
    with torch.inference_mode():
        together = fast(x, t)
        alone = torch.cat([fast(x[i:i + 1], t[i:i + 1]) for i in range(3)])
    assert (together - alone).abs().max().item() <= 1e-5


@pytest.mark.parametrize("precision,bound", [("bfloat16", 0.1), ("float16", 0.02)])
def test_reduced_precision_is_close(precision, bound):
    net = _net()
    x, t = torch.randn(1, 6, 32, 32), torch.tensor([900.0])
    with torch.inference_mode():
        out = FastUnet(net, precision)(x, t)
        diff = (out - net(x, t)).abs().max().item()
    assert out.dtype == torch.float32 and 0 < diff <= bound


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision"):
        FastUnet(_net(), "int8")


def test_optimized_is_cached_and_leaves_other_modules_alone():
    net = _net()
    fast = optimized(net)
    assert isinstance(fast, FastUnet) and optimized(net) is fast and optimized(net, "float16") is not fast
    wrapper = torch.nn.Identity()
    assert optimized(wrapper) is wrapper
    release(net)
    assert optimized(net) is not fast


def test_reference_weights_are_untouched():
    net = _net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.inference_mode():
        FastUnet(net, "float16")(torch.randn(1, 6, 32, 32), torch.tensor([10.0]))
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) and after[k].dtype == torch.float32 for k in before)
