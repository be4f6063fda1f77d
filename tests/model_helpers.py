"""Helpers shared by tests (a plain module: `conftest` names clash between test folders)."""

from __future__ import annotations


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


def load_tool(name: str):
    """A script of tools/ (not a package) imported as a module, for its tests."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
