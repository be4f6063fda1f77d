"""The optimised restore: sampler loop, batching and memory plan; the fast full-resolution path and its
options through the API, the CLI, the protocol and the settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import fastpath, fullres_rule
from engine.pipeline import MemoryPlan, plan_memory, restore_array, tile_bytes_optimized
from engine.schedule import stock_times


def _image(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(0)
    img = np.stack([0.2 + 0.6 * x / w, 0.3 + 0.4 * y / h, 0.5 + 0.2 * np.sin(x / 9) * np.cos(y / 11)], -1)
    return np.clip(img * 0.5 + rng.normal(0, 0.02, img.shape), 0, 1).astype(np.float32)


@pytest.fixture()
def small_work(monkeypatch):
    """A 48×64 working size, so the fast path is cheap to test."""
    monkeypatch.setattr(fullres_rule, "WORK_PIXELS", 48 * 64)
    monkeypatch.setattr(fullres_rule, "WORK_MAX_SIDE", 64)


# ------------------------------------------------------------------------------------ optimised tiled path


@pytest.mark.parametrize("kw", [{"tile": 1024}, {"tile": 32, "overlap": 8, "batch": 4},
                                {"tile": 32, "overlap": 8, "task": "low-light"}])
def test_optimised_matches_reference(tiny_model, kw):
    kw = dict(kw)
    task = kw.pop("task", "haze")
    img = _image(40, 56)
    ref = restore_array(tiny_model.net, img, stock_times(2), seed=2, task=task, **kw)
    details = {}
    fast = restore_array(tiny_model.net, img, stock_times(2), seed=2, task=task, optimize=True, details=details, **kw)
    assert fast.dtype == np.float32 and fast.shape == img.shape and fast.flags.c_contiguous
    assert np.abs(fast - ref).max() <= 1e-4
    assert details["optimized"] and details["fullres"] == "tiled" and details["batch"] == kw.get("batch", 1)


def test_optimised_does_not_touch_the_input_and_reports_steps(tiny_model):
    img = _image(40, 56)
    before = img.copy()
    seen, fractions = [], []
    restore_array(tiny_model.net, img, stock_times(2), task="none", tile=32, overlap=8, optimize=True,
                  on_step=lambda s: seen.append((s.step, s.pred_x0.shape)),
                  on_progress=lambda p: fractions.append(p.fraction))
    assert np.array_equal(img, before)
    assert [s for s, _ in seen] == [1, 2] and seen[0][1] == (1, 3, 40, 56)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_optimised_cancel_between_tiles(tiny_model):
    from engine.errors import Cancelled
    from engine.sampler import CancelToken

    token, calls = CancelToken(), []

    def progress(p):
        calls.append(p.tile)
        if p.tile == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        restore_array(tiny_model.net, _image(64, 64), stock_times(2), tile=32, overlap=8, optimize=True,
                      on_progress=progress, cancel=token)
    assert calls == [1, 2]


class _OOMAbove(torch.nn.Module):
    def __init__(self, net, limit):
        super().__init__()
        self.inner, self.limit, self.config, self.shapes = net, limit, net.config, []

    def forward(self, x, t):
        self.shapes.append(tuple(x.shape))
        if x.shape[0] * x.shape[-2] * x.shape[-1] > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return self.inner(x, t)


def test_optimised_out_of_memory_unbatches_then_halves_tiles(tiny_model):
    net = _OOMAbove(tiny_model.net, 128 * 192)
    warnings = []
    out = restore_array(net, _image(160, 280), stock_times(1), tile=256, overlap=16, batch=4, optimize=True,
                        on_warning=warnings.append)
    assert out.shape == (160, 280, 3)
    assert net.shapes[0][0] == 2 and net.shapes[1] == (1, 6, 160, 256) and net.shapes[-1] == (1, 6, 128, 128)
    assert any("one tile at a time" in w for w in warnings) and any("128×128" in w for w in warnings)


def test_reduced_precision_needs_the_optimised_path(tiny_model):
    with pytest.raises(ValueError, match="optimised"):
        restore_array(tiny_model.net, _image(16, 16), stock_times(1), precision="float16")


# ------------------------------------------------------------------------------------------- memory plan


def test_plan_follows_the_budget():
    from engine.network import VARIANTS

    t = VARIANTS["T"]
    big = plan_memory(t, 4000, 6000, "cpu", budget=64 << 30)
    assert isinstance(big, MemoryPlan) and big.tile == 512 and big.batch == 1 and big.fits  # CPU: 512 tiles
    small_image = plan_memory(t, 700, 900, "cpu", budget=64 << 30)
    assert small_image.tile == 1024  # fits one tile: one call, no overlap
    tight = plan_memory(t, 4000, 6000, "cpu", budget=big.fullres + (600 << 20))
    assert tight.tile < 512 and tight.estimate <= tight.budget and tight.fits
    hopeless = plan_memory(t, 4000, 6000, "cpu", budget=256 << 20)
    assert hopeless.tile == 128 and not hopeless.fits
    gpu = plan_memory(t, 4000, 6000, "cuda", budget=8 << 30)
    assert gpu.tile == 1024 and gpu.batch > 1 and gpu.per_call <= 8 << 30  # RAM buffers not on the GPU
    assert plan_memory(t, 4000, 6000, "cuda", budget=8 << 30, batch=1, tile=256).tile == 256
    assert tile_bytes_optimized(t, 512, "float16") < tile_bytes_optimized(t, 512)
    assert big.to_json()["tile"] == 512


def test_memory_budget_comes_from_free_memory(monkeypatch):
    from engine import device

    monkeypatch.delenv("HOURGLASS_MEMORY_BUDGET_MB", raising=False)
    monkeypatch.setattr(device, "_cpu_free_bytes", lambda: 10 << 30)
    assert device.memory_budget("cpu") == 5 << 30
    monkeypatch.setenv("HOURGLASS_MEMORY_BUDGET_MB", "1024")
    assert device.memory_budget("cpu") == 1 << 30


def test_restore_records_its_plan(tiny_model, monkeypatch):
    monkeypatch.setenv("HOURGLASS_MEMORY_BUDGET_MB", "2048")
    details = {}
    restore_array(tiny_model.net, _image(40, 40), stock_times(1), optimize=True, details=details)
    assert details["memory"]["budget_mb"] == 2048 and details["memory"]["fits"] and details["tile"] == 1024


# ------------------------------------------------------------------------------------- fast full-res path


def test_resolve_fullres(small_work):
    assert fastpath.resolve_fullres("auto", "low-light", 480, 640) == "fast"
    assert fastpath.resolve_fullres("auto", "haze", 480, 640) == "fast"
    for task in ("rain", "snow", "blur", "none", "auto"):
        assert fastpath.resolve_fullres("auto", task, 480, 640) == "tiled"
    assert fastpath.resolve_fullres("auto", "haze", 50, 70) == "tiled"  # hardly larger than the working size
    assert fastpath.resolve_fullres("fast", "rain", 480, 640) == "fast"
    assert fastpath.resolve_fullres("fast", "rain", 40, 60) == "tiled"  # already at the working size
    assert fastpath.resolve_fullres("tiled", "haze", 4800, 6400) == "tiled"
    with pytest.raises(ValueError, match="fullres"):
        fastpath.resolve_fullres("quick", "haze", 100, 100)


def test_working_size():
    assert fastpath.working_size(3000, 4000) == (768, 1024)  # one 1024 tile
    h, w = fastpath.working_size(4000, 4000)
    assert h == w and h * w <= 1_000_000
    assert fastpath.working_size(500, 600) == (500, 600)
    assert min(fastpath.working_size(20, 5000)) >= 16
    assert fastpath.working_size(3375, 6000) == (576, 1024)  # 16:9: still one tile
    assert fastpath.working_size(3000, 9000) == (512, 1536)  # 3:1: the short side keeps 512
    h, w = fastpath.working_size(2000, 12000)  # 6:1: by pixels alone, not 171×1024
    assert (h, w) == (408, 2449) and h * w <= 1_000_000
    assert fastpath.working_size(40, 6000) == (40, 6000)  # a strip already under the working pixels
    assert fastpath.resolve_fullres("auto", "haze", 40, 6000) == "tiled"  # was "fast", at 16 rows


@pytest.mark.parametrize("task", ["low-light", "haze"])
def test_fast_path_restores_at_full_resolution(tiny_model, small_work, task):
    img = _image(192, 256)
    before = img.copy()
    details, fractions = {}, []
    out = restore_array(tiny_model.net, img, stock_times(2), seed=1, task=task, optimize=True, fullres="auto",
                        details=details, on_progress=lambda p: fractions.append(p.fraction))
    assert out.shape == img.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    assert np.array_equal(img, before)
    assert details["fullres"] == "fast" and details["work_size"] == [64, 48]
    assert set(details["fast_timings"]) == {"downscale", "network", "transfer"}
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # The detail of the full-resolution photo survives: the result is far from a smooth upscale.
    import cv2

    lo = cv2.resize(out, (64, 48), interpolation=cv2.INTER_AREA)
    smooth = cv2.resize(lo, (256, 192), interpolation=cv2.INTER_LINEAR)
    detail_in = np.abs(img - cv2.GaussianBlur(img, (0, 0), 2)).mean()
    detail_out = np.abs(out - cv2.GaussianBlur(out, (0, 0), 2)).mean()
    assert detail_out > 0.3 * detail_in and np.abs(out - smooth).mean() > 0.3 * detail_in


def test_fast_path_is_reproducible_and_uses_given_noise(tiny_model, small_work):
    img = _image(96, 128)
    a = restore_array(tiny_model.net, img, stock_times(1), seed=5, task="haze", optimize=True, fullres="fast")
    b = restore_array(tiny_model.net, img, stock_times(1), seed=5, task="haze", optimize=True, fullres="fast")
    assert np.array_equal(a, b)
    noise = np.random.default_rng(1).standard_normal(img.shape).astype(np.float32)
    c = restore_array(tiny_model.net, img, stock_times(1), noise=noise, task="haze", optimize=True, fullres="fast")
    assert c.shape == img.shape and not np.array_equal(a, c)


# --------------------------------------------------------------------------------- options end to end


def test_api_records_the_path(tiny_model, small_work, tmp_path):
    from PIL import Image

    from engine.api import RestoreOptions, restore_file

    src = tmp_path / "in.png"
    Image.fromarray((_image(120, 160) * 255).astype(np.uint8)).save(src)
    fast = restore_file(src, tmp_path / "fast.png", tiny_model, RestoreOptions(steps=1, task="haze"))
    assert fast.fullres == "fast" and fast.plan["work_size"] == [64, 48]
    assert {"restore_network", "restore_transfer"} <= set(fast.timings)
    tiled = restore_file(src, tmp_path / "tiled.png", tiny_model,
                         RestoreOptions(steps=1, task="haze", fullres="tiled"))
    assert tiled.fullres == "tiled" and tiled.plan["optimized"] and "memory" in tiled.plan
    ref = restore_file(src, tmp_path / "ref.png", tiny_model,
                       RestoreOptions(steps=1, task="rain", optimize=False))
    assert ref.fullres == "tiled" and ref.plan["optimized"] is False
    assert Image.open(tmp_path / "fast.png").size == (160, 120)


def test_cli_fullres_flag(tiny_model_path, small_work, tmp_path, capsys):
    from PIL import Image

    from engine.cli import main

    src = tmp_path / "in.png"
    Image.fromarray((_image(120, 160) * 255).astype(np.uint8)).save(src)
    code = main(["restore", str(src), "-o", str(tmp_path / "out"), "--model", str(tiny_model_path), "--steps", "1",
                 "--task", "low-light", "--fullres", "fast"])
    assert code == 0 and "fast full-res" in capsys.readouterr().err
    code = main(["restore", str(src), "-o", str(tmp_path / "ref"), "--model", str(tiny_model_path), "--steps", "1",
                 "--reference", "--precision", "float16"])
    assert code == 2


def test_protocol_job_option_and_result_field():
    from engine import protocol as P

    assert P.FULLRES_MODES == fastpath.FULLRES_MODES
    msg = P.Submit("j", "/in.png", "/out.png", P.JobOptions(fullres="fast"))
    back = P.decode(P.encode(msg), expect="command")
    assert back.options.fullres == "fast"
    older = P.decode(b'{"type": "submit", "job_id": "j", "input_path": "/a", "output_path": "/b"}', expect="command")
    assert older.options.fullres == "auto"  # a client that does not know the option
    with pytest.raises(P.ProtocolError):
        P.decode(b'{"type": "submit", "job_id": "j", "input_path": "/a", "output_path": "/b", '
                 b'"options": {"fullres": "quick"}}', expect="command")
    result = P.Result("j", "/out.png", 4, 4, "cpu", "m", 1, "haze", fullres="fast")
    assert P.decode(P.encode(result), expect="event").fullres == "fast"
    old = b'{"type": "result", "job_id": "j", "output_path": "/o", "width": 1, "height": 1, "device": "cpu", ' \
          b'"model": "m", "nfe": 1, "task": "haze"}'
    assert P.decode(old, expect="event").fullres is None  # an older engine


def test_gui_setting_reaches_the_job_options(tmp_path):
    from app.settings import FULLRES, Settings

    assert set(FULLRES) == set(fastpath.FULLRES_MODES)
    s = Settings(fullres="fast")
    s.save(tmp_path / "s.json")
    assert Settings.load(tmp_path / "s.json").fullres == "fast"
    bad = Settings(fullres="sometimes")
    bad.validate()
    assert bad.fullres == "auto"
