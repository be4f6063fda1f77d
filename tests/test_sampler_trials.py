"""tools/sampler_trials.py: the flips it averages are undone exactly, and each trial restores what it says."""

from __future__ import annotations

import numpy as np
import pytest
from model_helpers import load_tool


@pytest.fixture(scope="module")
def trials():
    return load_tool("sampler_trials")


def test_dihedral_is_undone_and_gives_eight_distinct_copies(trials):
    a = np.random.default_rng(0).random((5, 7, 3)).astype(np.float32)
    copies = [trials.dihedral(a, k) for k in range(8)]
    for k, c in enumerate(copies):
        assert np.array_equal(trials.dihedral(c, k, inverse=True), a), k
    assert len({c.tobytes() + bytes(c.shape) for c in copies}) == 8
    assert np.array_equal(copies[1], a[:, ::-1]) and np.array_equal(copies[4], a.transpose(1, 0, 2))


def test_trials_restore_with_the_named_settings(trials, tiny_model):
    from engine.pipeline import restore_array
    from engine.schedule import PRESETS

    img = np.random.default_rng(1).random((24, 40, 3)).astype(np.float32)
    ens = trials.restorations(tiny_model.net, img, "haze", 5, "ensemble", True)
    assert list(ens) == ["best × 1", "best × 2", "best × 4", "best × 8"]
    plain = restore_array(tiny_model.net, img, PRESETS["best"], seed=5, task="haze", optimize=True)
    assert np.array_equal(ens["best × 1"], plain)
    assert all(v.shape == img.shape for v in ens.values())
    assert not np.allclose(ens["best × 8"], plain)
    times = trials.restorations(tiny_model.net, img, "haze", 5, "times", True)
    assert list(times) == list(trials.TIME_LISTS) and np.array_equal(times["best"], plain)
