"""The network matches the official architecture: key manifests, parameter counts, golden outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.network import VARIANTS, NetConfig, UnetRes, count_flops, expected_shapes

PARAMS = {"T": 886_435, "S": 3_268_643, "B": 12_406_851, "L": 36_261_187}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_state_dict_matches_official_manifest(variant, golden):
    manifest = json.loads((golden.parent / f"diffuir_keys_{variant}.json").read_text())
    ours = expected_shapes(VARIANTS[variant])
    assert list(ours) == list(manifest)  # same keys, same order
    assert all(list(ours[k]) == manifest[k] for k in manifest)
    assert len(ours) == 276


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_parameter_counts(variant):
    shapes = expected_shapes(VARIANTS[variant])
    assert sum(int(np.prod(s)) for s in shapes.values()) == PARAMS[variant]


def test_trace_network_calls_bit_exact(golden):
    trace = np.load(golden / "T_trace_3steps.npz")
    net = UnetRes("T").eval()
    net.load_state_dict(torch.load(golden / "T_random_weights.pt", weights_only=True))
    with torch.inference_mode():
        for k in range(3):
            assert trace[f"time_{k}"].dtype == np.float32
            out = net(torch.from_numpy(trace[f"net_in_{k}"]), torch.from_numpy(trace[f"time_{k}"]))
            assert np.abs(out.numpy() - trace[f"net_out_{k}"]).max() <= 1e-5


def test_frozen_weights_give_identical_output():
    torch.manual_seed(0)
    net = UnetRes("T").eval()
    x, t = torch.randn(1, 6, 40, 56), torch.tensor([500.0])
    with torch.inference_mode():
        a = net(x, t)
        net.freeze_weights()
        b = net(x, t)
    assert torch.equal(a, b)


@pytest.mark.parametrize("h,w", [(16, 16), (61, 83), (33, 17)])
def test_any_size_is_padded_and_cropped(h, w):
    net = UnetRes("T").eval()
    with torch.inference_mode():
        out = net(torch.randn(2, 6, h, w), torch.tensor([10.0, 900.0]))
    assert out.shape == (2, 3, h, w)


def test_flop_count_scales_with_pixels():
    cfg = VARIANTS["T"]
    f64, f128 = count_flops(cfg, 64, 64), count_flops(cfg, 128, 128)
    # Convolutions scale with pixels; only the small mid attention grows faster.
    assert 4.0 <= f128 / f64 < 4.2
    assert 400e3 < f128 / (128 * 128) < 700e3  # ~530 kFLOP per pixel for T (issue 7)


def test_netconfig_dims():
    assert NetConfig(64, (1, 2, 4, 8)).dims == [64, 64, 128, 256, 512]
    assert VARIANTS["B"].time_dim == 256
