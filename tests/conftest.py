"""Shared fixtures: tiny random-weight models, the golden files, an isolated model folder."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
GOLDEN = SHARED / "spec" / "golden"


@pytest.fixture(autouse=True)
def _isolated_models_dir(tmp_path_factory, monkeypatch):
    """Never read or write the developer's real model folder."""
    monkeypatch.setenv("HOURGLASS_MODELS_DIR", str(tmp_path_factory.mktemp("user-models")))


@pytest.fixture(scope="session")
def golden() -> Path:
    if not GOLDEN.is_dir():
        pytest.skip("../shared/spec/golden is not available")
    return GOLDEN


def random_state_dict(variant: str = "T", seed: int = 0, scale: float = 0.05):
    """A random but non-trivial state dict of a DiffUIR variant (no checkpoint needed)."""
    import torch

    from engine.network import VARIANTS, expected_shapes

    g = torch.Generator().manual_seed(seed)
    sd = {}
    for key, shape in expected_shapes(VARIANTS[variant]).items():
        if key.endswith((".g", "norm.weight")):
            sd[key] = 1 + scale * torch.randn(shape, generator=g)
        else:
            sd[key] = scale * torch.randn(shape, generator=g)
    return sd


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    """A random-weight DiffUIR-T saved as our safetensors format."""
    from engine.checkpoints import Checkpoint, save_safetensors
    from engine.network import VARIANTS

    path = tmp_path_factory.mktemp("models") / "tiny-t.safetensors"
    save_safetensors(Checkpoint(random_state_dict("T"), "T", VARIANTS["T"], "state_dict"), path)
    return path


@pytest.fixture(scope="session")
def tiny_model(tiny_model_path):
    from engine.models import load_model

    return load_model(tiny_model_path, device="cpu")
