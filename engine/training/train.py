"""Train DiffUIR (variant T by default) with the official residual-diffusion objective (spec §4.3).

    python -m engine.training.train --steps 500 [--resume] [--minutes 60] [--device auto|cpu|cuda]
                                    [--batch 8] [--crop 96] [--lr 5e-4] [--seed 0] [--export FILE]

Recipe (see training/README.md for the reasons):
- data: clean photos decoded once into memory, random crops + horizontal flips, every batch mixes the five
  tasks (round robin), synthetic degradations from `engine.training.degradations`; low-light inputs are
  histogram-equalised with probability 0.5 (inference equalises for task=low-light, not for task=auto);
  rain and snow are drawn at a feature scale of 0.5-2 (as on whole photos, not the 96 px crop's own size)
  and rain up to twice the generator's default density (`engine.training.data`);
- objective: x_in, x0 in [-1, 1], r = x_in − x0, network input cat[x_t, x_in], time input Ā_t·1000, target r,
  L1. Half of the samples use the official forward process (t ~ U{0..999},
  x_t = x0 + Ā_t·r + B̄_t·ε − D̄_t·x_in); the other half use the states the deterministic sampler actually
  visits at the preset times {999, 665, 332} (noise 0.1·z, see `sampler_states`);
- Adam (0.9, 0.99), linear warm-up then cosine decay to 5 % at the planned total, grad-norm clip 1.0,
  EMA with decay warm-up (`engine.training.ema`); on CUDA bf16 autocast, TF32 and channels_last.

Everything random is derived from (seed, step): batch k's crops and degradations, its diffusion times and
its noise. The training state file therefore only needs the weights, EMA, optimiser and step to continue
bit-identically; it is written atomically to one file (replaced at each save) and read with
`torch.load(weights_only=True)`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import math
import os
import signal
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.network import VARIANTS, LayerNorm, UnetRes, WeightStandardizedConv2d
from engine.sampler import initial_state, time_input
from engine.sampler import step as sampler_step
from engine.schedule import PRESETS, SUM_SCALE, TIMESTEPS, make_schedule
from engine.training.data import (
    SHARED_DATA,
    TRAIN_CLEAN,
    TRAIN_TASKS,
    Batch,
    BatchMaker,
    Prefetcher,
    load_photos,
)
from engine.training.degradations import RAIN_MAX_DENSITY, TASKS
from engine.training.ema import EMA

REPO = Path(__file__).resolve().parents[2]
DEFAULT_STATE = REPO / "training" / "state" / "diffuir-t.pt"
DEFAULT_LOG = REPO / "training" / "log.md"
KODAK = SHARED_DATA / "eval" / "clean" / "kodak24"
STATE_FORMAT = "hourglass-diffuir-train-state"
STATE_VERSION = 1
# Every time a preset visits (the sampler's states at these times carry noise 0.1·z, not B̄_t).
PATH_TIMES = tuple(sorted({t for times in PRESETS.values() for t in times}, reverse=True))  # (999, 665, 332)
_STREAM_DIFFUSION = 0xD1FF
_STREAM_NOISE = 0x2015E
DATA_DESCRIPTION = "BSDS500 train+test, Sun-Hays; synthetic degradations by engine/training/degradations.py"

log_out = sys.stderr


def _say(msg: str) -> None:
    print(msg, file=log_out, flush=True)


# ---------------------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------------------


@dataclass
class TrainConfig:
    """Everything that defines a training run; stored in the state as a plain dict."""

    variant: str = "T"
    batch: int = 8
    crop: int = 96
    seed: int = 0
    lr: float = 5e-4  # peak learning rate
    warmup: int = 50  # linear warm-up steps (at most a tenth of `plan`)
    plan: int = 0  # planned total steps: cosine decay ends there; 0 = constant after warm-up
    min_lr_frac: float = 0.05  # the cosine ends at this fraction of the peak
    betas: tuple[float, float] = (0.9, 0.99)  # official
    clip: float = 1.0  # official gradient-norm clip
    path_frac: float = 0.5  # fraction of samples drawn on the sampler's path instead of q(x_t | x0, x_in)
    path_times: tuple[int, ...] = PATH_TIMES
    # build sampler-path states from the network's own estimates (as inference does), not from the true r
    path_rollout: bool = True
    eq_prob: float = 0.5  # low-light samples histogram-equalised with this probability
    # rain/snow feature size drawn log-uniformly in this range (None: from the crop's size; see data.py)
    feature_scale: tuple[float, float] | None = (0.5, 2.0)
    rain_max_density: float = 6.0  # top of rain's global density range (the generator's default: 3)
    tasks: tuple[str, ...] = TASKS
    ema_max: float = 0.999
    ema_power: float = 2 / 3

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        names = {f.name: f for f in dataclasses.fields(cls)}
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names}
        kw.setdefault("path_rollout", False)  # states saved before the option existed built exact path states
        kw.setdefault("feature_scale", None)  # … and drew rain and snow at the crop's own size
        kw.setdefault("rain_max_density", RAIN_MAX_DENSITY)
        return cls(**kw)


def device_defaults(device: str) -> dict:
    """Batch/crop/workers and speed settings that suit the device: 2 CPU cores here, a large GPU elsewhere.

    `amp` (bf16 autocast, norms kept in float32) and `channels_last` are properties of the run, not of the
    recipe: on CUDA both are on; on this CPU (AVX2, oneDNN) channels_last made steps 1.6× slower.
    """
    if device.startswith("cuda"):
        return {"batch": 32, "crop": 256, "amp": True, "channels_last": True,
                "workers": min(8, max(1, (os.cpu_count() or 2) - 1))}
    return {"batch": 8, "crop": 96, "amp": False, "channels_last": False, "workers": 1}


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine from the peak to min_lr_frac·peak at `plan` (constant after it)."""
    warm = max(1, min(cfg.warmup, cfg.plan // 10) if cfg.plan > 0 else cfg.warmup)
    if step < warm:
        return cfg.lr * (step + 1) / warm
    if cfg.plan <= warm:
        return cfg.lr
    p = min(1.0, (step - warm) / (cfg.plan - warm))
    return cfg.lr * (cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))


# ---------------------------------------------------------------------------------------------------------
# objective
# ---------------------------------------------------------------------------------------------------------


def sampler_states(x_in: torch.Tensor, res: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, sched,
                   start: int = TIMESTEPS - 1) -> torch.Tensor:
    """The state the deterministic sampler (spec §5.1) holds at time t when the network is perfect.

    x_start = (1 − D̄_start)·x_in + 0.1·z; each step t→t' subtracts (Ā_t − Ā_t')·r̂ and adds (D̄_t − D̄_t')·x_in
    with r̂ = clamp(r, −1, 1). The sums telescope, whatever the grid:
        x_t = (1 − D̄_t)·x_in − (Ā_start − Ā_t)·clamp(r) + 0.1·z.
    `t` is a (B,) long tensor; the schedule tensors live on the data's device.
    """
    a, d = sched.alphas_cumsum, sched.delta_cumsum
    shape = (-1, 1, 1, 1)
    return ((1 - d[t]).view(shape) * x_in - (a[start] - a[t]).view(shape) * res.clamp(-1, 1)
            + math.sqrt(SUM_SCALE) * noise)


def rollout_states(predict, x_in: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, sched,
                   times) -> torch.Tensor:
    """The states the deterministic sampler reaches at times `t` (each one of `times`) driven by `predict`.

    `sampler_states` assumes a perfect network, so its later states already hold the true residual and a
    network trained on them learns to read r back from x_t instead of correcting its first estimate (the
    7,764-step model on its validation crops: its call at t=332 gave 28.7 dB on exact states, 19.6 dB on the
    states its own `best` run reaches, below its first call's 20.1 dB). Here the states come from the
    network's own estimates along the grid `times` (`engine.sampler.initial_state`/`step`, as inference runs
    them): `predict(x, time)` returns the raw residual for network input x = cat[state, x_in]; no gradient
    flows through it.
    """
    times = [int(v) for v in times]
    state = initial_state(x_in, noise, sched, times[0])
    with torch.no_grad():
        for t_now, t_next in itertools.pairwise(times):
            idx = (t <= t_next).nonzero().squeeze(1)  # samples that go past t_now
            if idx.numel() == 0:
                break
            sub, cond = state[idx], x_in[idx]
            raw = predict(torch.cat((sub, cond), dim=1), time_input(sched, t_now, idx.numel(), x_in.device)).float()
            state = state.index_copy(0, idx, sampler_step(sub, raw, cond, t_now, t_next, sched)[0])
    return state


def forward_states(x0: torch.Tensor, x_in: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, sched):
    """The official q_sample (spec §4.2): x_t = x0 + Ā_t·r + B̄_t·ε − D̄_t·x_in."""
    shape = (-1, 1, 1, 1)
    a, b, d = sched.alphas_cumsum[t].view(shape), sched.betas_cumsum[t].view(shape), sched.delta_cumsum[t].view(shape)
    return x0 + a * (x_in - x0) + b * noise - d * x_in


def diffusion_inputs(x0, x_in, t, on_path, noise, sched, *, predict=None, path_times=PATH_TIMES):
    """(network input cat[x_t, x_in], time input Ā_t·1000, target r = x_in − x0) for a batch.

    On-path samples get `sampler_states` (exact), or with `predict` the `rollout_states` along `path_times`.
    """
    res = x_in - x0
    x_t = forward_states(x0, x_in, t, noise, sched)
    if bool(on_path.any()):
        if predict is None:
            x_t = torch.where(on_path.view(-1, 1, 1, 1), sampler_states(x_in, res, t, noise, sched), x_t)
        else:
            idx = on_path.nonzero().squeeze(1)
            x_t = x_t.index_copy(0, idx, rollout_states(predict, x_in[idx], t[idx], noise[idx], sched, path_times))
    time = sched.alphas_cumsum[t] * TIMESTEPS
    return torch.cat((x_t, x_in), dim=1), time, res


def draw_times(seed: int, step: int, batch: int, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample (t, on_path) of training step `step`: a pure function of (seed, step)."""
    rng = np.random.default_rng([seed, _STREAM_DIFFUSION, step])
    on_path = rng.random(batch) < cfg.path_frac
    t = rng.integers(0, TIMESTEPS, batch)
    path_t = np.asarray(cfg.path_times, dtype=np.int64)[rng.integers(0, len(cfg.path_times), batch)]
    return np.where(on_path, path_t, t).astype(np.int64), on_path


def draw_noise(seed: int, step: int, shape, device) -> torch.Tensor:
    """ε (and z: the same draw, scaled by B̄_t or 0.1) for step `step`, drawn on the training device."""
    words = np.random.SeedSequence([seed, _STREAM_NOISE, step]).generate_state(2, np.uint32)
    g = torch.Generator(device=device).manual_seed((int(words[0]) << 31) ^ int(words[1]))
    return torch.randn(shape, generator=g, device=device)


# ---------------------------------------------------------------------------------------------------------
# mixed precision: keep DiffUIR's float32 normalisation eps under autocast
# ---------------------------------------------------------------------------------------------------------


def _ws_forward_fp32(self, x):
    w = self.standardized_weight(torch.float32)  # eps 1e-5 as in fp32 inference; autocast casts w to bf16
    return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


def _ln_forward_fp32(self, x):
    x = x.float()
    var = torch.var(x, dim=1, unbiased=False, keepdim=True)
    mean = torch.mean(x, dim=1, keepdim=True)
    return (x - mean) * (var + 1e-5).rsqrt() * self.g


def fp32_normalisation(net: torch.nn.Module) -> torch.nn.Module:
    """Make the weight standardisation and channel LayerNorms compute in float32 with eps 1e-5.

    The network picks eps = 1e-3 for non-float32 activations (spec §2.4). Under bf16 autocast that would
    train weights for a different normalisation than the float32 inference uses (the weight variance of a
    3×3×32 conv is ~1e-3, so the eps matters), hence this patch for mixed-precision training. In float32
    it is identical to the stock forward.
    """
    for m in net.modules():
        if isinstance(m, WeightStandardizedConv2d):
            m.forward = types.MethodType(_ws_forward_fp32, m)
        elif isinstance(m, LayerNorm):
            m.forward = types.MethodType(_ln_forward_fp32, m)
    return net


# ---------------------------------------------------------------------------------------------------------
# trainer
# ---------------------------------------------------------------------------------------------------------


class Trainer:
    """Model, EMA, optimiser and step; `train_step(batch)` is one optimiser update."""

    def __init__(self, cfg: TrainConfig, device: str = "cpu", *, amp: bool | None = None,
                 channels_last: bool | None = None, compile: bool = False):
        self.cfg = cfg
        self.device = torch.device(device)
        speed = device_defaults(str(device))
        self.channels_last = speed["channels_last"] if channels_last is None else bool(channels_last)
        self.amp = bool((speed["amp"] if amp is None else amp) and self.device.type == "cuda")
        torch.manual_seed(cfg.seed)
        net = UnetRes(cfg.variant).to(self.device)
        if self.channels_last:
            net = net.to(memory_format=torch.channels_last)
        if self.amp:
            fp32_normalisation(net)
        self.net = net
        self.forward = torch.compile(net) if compile else net
        self.opt = torch.optim.Adam(net.parameters(), lr=lr_at(0, cfg), betas=tuple(cfg.betas))
        self.ema = EMA(net, cfg.ema_max, cfg.ema_power)
        self.step = 0
        self.elapsed_s = 0.0  # training wall time over all runs
        s = make_schedule()
        self.sched = type(s)(*(x.to(self.device) for x in (s.alphas_cumsum, s.betas_cumsum, s.delta_cumsum)))

    # --- one step --------------------------------------------------------------------------------------
    def to_device(self, arr: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(arr)
        if self.device.type == "cuda":
            return x.pin_memory().to(self.device, non_blocking=True)
        return x

    def draws(self, step: int, batch: int, shape):
        t, on_path = draw_times(self.cfg.seed, step, batch, self.cfg)
        noise = draw_noise(self.cfg.seed, step, shape, self.device)
        return (torch.from_numpy(t).to(self.device), torch.from_numpy(on_path).to(self.device), noise)

    def _predict(self, x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.amp):
            return self.forward(x, time)

    def loss(self, x0, x_in, t, on_path, noise) -> torch.Tensor:
        x, time, target = diffusion_inputs(x0, x_in, t, on_path, noise, self.sched,
                                           predict=self._predict if self.cfg.path_rollout else None,
                                           path_times=self.cfg.path_times)
        return F.l1_loss(self._predict(x, time).float(), target)

    def train_step(self, batch: Batch, draws=None) -> torch.Tensor:
        """One update on `batch` with the draws of the current step (or given ones); returns the loss."""
        x0, x_in = self.to_device(batch.x0), self.to_device(batch.x_in)
        t, on_path, noise = draws if draws is not None else self.draws(self.step, x0.shape[0], x0.shape)
        lr = lr_at(self.step, self.cfg)
        for group in self.opt.param_groups:
            group["lr"] = lr
        self.net.train()
        loss = self.loss(x0, x_in, t, on_path, noise)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.cfg.clip)
        self.opt.step()
        self.ema.update(self.net)
        self.step += 1
        self.last_grad_norm = grad_norm.detach()
        return loss.detach()

    # --- state -----------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "step": self.step,
            "elapsed_s": float(self.elapsed_s),
            "config": self.cfg.to_dict(),
            "model": {k: v.detach().contiguous() for k, v in self.net.state_dict().items()},
            "ema": self.ema.state_dict(),
            "optimizer": self.opt.state_dict(),
            # Every draw is derived from (seed, step); the global generator only seeded the initial weights.
            "rng": {"scheme": "stateless: data and noise of step k derive from (seed, k)",
                    "torch_cpu": torch.get_rng_state()},
            "data": {"next_batch": self.step, "batch": self.cfg.batch, "crop": self.cfg.crop},
            "saved": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }

    def load_state_dict(self, state: dict) -> None:
        self.net.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.opt.load_state_dict(state["optimizer"])
        self.step = int(state["step"])
        self.elapsed_s = float(state.get("elapsed_s", 0.0))
        if "torch_cpu" in state.get("rng", {}):
            torch.set_rng_state(state["rng"]["torch_cpu"].cpu())

    def save(self, path: str | os.PathLike) -> Path:
        """Write the whole training state atomically (to a temporary file, then rename over `path`)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        try:
            torch.save(self.state_dict(), tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def ema_network(self, device: str | None = None) -> UnetRes:
        """An eval-mode float32 copy of the EMA weights, frozen for inference (as the app loads it)."""
        with torch.device("meta"):  # no random init: it would only be overwritten
            net = UnetRes(self.cfg.variant)
        net.load_state_dict(self.ema.weights(), assign=True)
        net = net.to(device or self.device).eval().requires_grad_(False)
        net.freeze_weights()
        return net


def read_state(path: str | os.PathLike, device: str = "cpu") -> dict:
    state = torch.load(Path(path), map_location=device, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise ValueError(f"'{path}' is not a Hourglass training state")
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"'{path}' has training-state version {state.get('version')}, expected {STATE_VERSION}")
    return state


def load_trainer(path: str | os.PathLike, device: str = "cpu", *, overrides: dict | None = None,
                 **kw) -> Trainer:
    """A trainer continuing from a saved state (optionally with some config values changed)."""
    state = read_state(path, device)
    cfg = TrainConfig.from_dict({**state["config"], **(overrides or {})})
    trainer = Trainer(cfg, device, **kw)
    trainer.load_state_dict(state)
    return trainer


# ---------------------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------------------

VAL_PHOTOS = ("kodim03", "kodim05", "kodim13", "kodim19", "kodim23")
VAL_SIZE = 96  # 5 photos × 5 tasks (+5 low-light with task=auto) × 3 calls: ~40 s on the busy 2-core CPU
VAL_SEED = 20240617


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """RGB PSNR in dB of float images in [0, 1]."""
    mse = float(np.mean((np.clip(a, 0, 1).astype(np.float64) - np.clip(b, 0, 1)) ** 2))
    return 100.0 if mse == 0 else 10 * math.log10(1.0 / mse)


def validation_set(root: Path = KODAK, photos=VAL_PHOTOS, size: int = VAL_SIZE, tasks=TASKS):
    """Fixed synthetic cases: one size×size crop per (photo, task), fixed location and degradation seed."""
    from engine.training.data import read_rgb
    from engine.training.degradations import degrade

    cases = []
    for i, name in enumerate(photos):
        img = read_rgb(root / f"{name}.png").astype(np.float32) / 255
        for j, task in enumerate(tasks):
            rng = np.random.default_rng([VAL_SEED, i, j])
            y = int(rng.integers(0, img.shape[0] - size + 1))
            x = int(rng.integers(0, img.shape[1] - size + 1))
            clean = np.ascontiguousarray(img[y:y + size, x:x + size])
            cases.append((task, clean, degrade(clean, task, rng)))
    return cases


def validate(net, cases, device: str = "cpu", times=PRESETS["best"]) -> dict[str, tuple[float, float]]:
    """Mean input and output PSNR per task with the given sampler times; low-light also with task=auto."""
    from engine.pipeline import restore_array

    scores: dict[str, list[tuple[float, float]]] = {}
    for task, clean, degraded in cases:
        runs = [(task, task)] + ([("low-light/auto", "auto")] if task == "low-light" else [])
        for key, given in runs:
            out = restore_array(net, degraded, times, seed=0, task=given, device=device)
            scores.setdefault(key, []).append((psnr(degraded, clean), psnr(out, clean)))
    return {k: (float(np.mean([a for a, _ in v])), float(np.mean([b for _, b in v]))) for k, v in scores.items()}


# ---------------------------------------------------------------------------------------------------------
# training log
# ---------------------------------------------------------------------------------------------------------

LOG_HEADER = """# Training log

One row per training run of `python -m engine.training.train` (appended automatically at the end of each run,
also when it is stopped early by `--minutes` or Ctrl-C). The training state these runs continue from is
`training/state/diffuir-t.pt` (one file, replaced at every save).

Columns:
- **date (UTC)**: when the run ended.
- **steps**: optimiser steps before → after the run (the state's step counter; one step = one batch).
- **device**: where it ran (CPU model and core count, or the GPU name).
- **batch×crop**: samples per batch × crop size in pixels.
- **wall**: wall-clock time of the training loop (without loading the photos and validation).
- **s/step**: mean seconds per optimiser step in this run; **px/s**: training pixels per second
  (batch·crop²/(s/step)).
- **loss**: mean training L1 loss (residual, [-1, 1] scale) over the last 50 steps of the run;
  **lr**: learning rate at the last step.
- **validation**: PSNR (dB, RGB) of the EMA model with the `best` preset (times 999, 665, 332; seed 0) on fixed
  synthetic cases: one 96×96 crop of each of 5 Kodak photos per task, each degraded with a fixed seed by
  `engine/training/degradations.py`; shown as *degraded input → restored*. `ll` is low-light with
  task=low-light (equalised condition), `ll·auto` the same inputs with task=auto (not equalised), `mean` the
  mean of the five task columns (ll, haze, rain, snow, blur). `—` when validation was skipped.
- **notes**: from scratch (with the seed), CPU threads used (`threads 1×95, 2×5 steps` under `--threads auto`),
  bf16 autocast, settings changed on resume, early stops (time budget, interrupted).

| date (UTC) | steps | device | batch×crop | wall | s/step | px/s | loss | lr | ll | ll·auto | haze | rain | snow | blur | mean | notes |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def append_log(path: str | os.PathLike, row: dict) -> None:
    """Append one run's row to the markdown log, creating the file with its header if needed."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LOG_HEADER, encoding="utf-8")
    val = row.get("validation") or {}

    def cell(key):
        if key not in val:
            return "—"
        a, b = val[key]
        return f"{a:.1f}→{b:.1f}"

    if val:
        keys = [k for k in ("low-light", "haze", "rain", "snow", "blur") if k in val]
        mean = (f"{np.mean([val[k][0] for k in keys]):.2f}→{np.mean([val[k][1] for k in keys]):.2f}"
                if keys else "—")
    else:
        mean = "—"
    cells = [
        row["date"], f"{row['step_from']}→{row['step_to']}", row["device"], f"{row['batch']}×{row['crop']}",
        _fmt_duration(row["wall_s"]), f"{row['s_per_step']:.2f}" if row["s_per_step"] else "—",
        f"{row['px_per_s']:.0f}" if row["px_per_s"] else "—",
        f"{row['loss']:.4f}" if row["loss"] is not None else "—", f"{row['lr']:.2e}",
        cell("low-light"), cell("low-light/auto"), cell("haze"), cell("rain"), cell("snow"), cell("blur"), mean,
        row.get("notes", "").replace("|", "/"),
    ]
    text = path.read_text(encoding="utf-8")
    with open(path, "a", encoding="utf-8") as f:
        if text and not text.endswith("\n"):
            f.write("\n")
        f.write("| " + " | ".join(cells) + " |\n")


def _fmt_duration(s: float) -> str:
    s = round(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return f"cuda ({torch.cuda.get_device_name(torch.device(device))})"
    name = ""
    try:
        with open("/proc/cpuinfo") as f:
            name = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    return f"cpu ({name or 'unknown'}, {os.cpu_count()} cores)"


# ---------------------------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------------------------


def recipe_summary(cfg: TrainConfig) -> str:
    return (f"DiffUIR objective (L1 on the residual, pred_res); {int(cfg.path_frac * 100)}% of samples on the "
            f"sampler path (t in {list(cfg.path_times)}, noise 0.1, "
            f"{'states from its own estimates' if cfg.path_rollout else 'exact states'}); batch {cfg.batch}, "
            f"crop {cfg.crop}, tasks mixed in every batch{_mix_text(cfg.tasks)}, low-light equalised with p={cfg.eq_prob}, rain/snow "
            f"feature scale {_scale_text(cfg.feature_scale)}, rain density up to {cfg.rain_max_density:g}; "
            f"Adam{tuple(cfg.betas)} peak lr {cfg.lr:g}, "
            f"warm-up {cfg.warmup}, cosine to {cfg.min_lr_frac:g}x at {cfg.plan or 'none'}; clip {cfg.clip}; "
            f"EMA 1-(1+k)^-{cfg.ema_power:.3g} capped at {cfg.ema_max}")


def _mix_text(tasks) -> str:
    if tuple(tasks) == TASKS:
        return ""
    return " (" + ", ".join(f"{t} {list(tasks).count(t)}/{len(tasks)}" for t in TRAIN_TASKS
                            if t in TASKS or t in tasks) + ")"


def _scale_text(scale) -> str:
    return "from the crop size" if scale is None else f"{scale[0]:g}-{scale[1]:g}"


def export_ema(state_path: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Write the EMA weights of a training state as the app's safetensors model file (replacing it)."""
    from engine.checkpoints import Checkpoint, save_safetensors, validate

    state = read_state(state_path, "cpu")
    cfg = TrainConfig.from_dict(state["config"])
    config = VARIANTS[cfg.variant]
    sd = {k: v.float().contiguous() for k, v in state["ema"]["shadow"].items()}
    validate(sd, config, f"the EMA weights in '{Path(state_path).name}'")
    extra = {
        "weights": "ema",
        "training_steps": str(state["step"]),
        "training_data": DATA_DESCRIPTION,
        "training_recipe": recipe_summary(cfg),
        "training_seed": str(cfg.seed),
        "trained": str(state.get("saved", "")),
        "exported": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": "Hourglass training (engine/training/train.py), from scratch",
        # trained on equalised and raw dark photos alike (eq_prob < 1), it restores better from the raw ones
        # (training/README.md, "Low-light equalisation")
        "low_light_condition": "equalized" if cfg.eq_prob >= 1 else "as-is",
    }
    return save_safetensors(Checkpoint(sd, cfg.variant, config, "ema"), dst, extra=extra, overwrite=True)


# ---------------------------------------------------------------------------------------------------------
# the training loop
# ---------------------------------------------------------------------------------------------------------


class ThreadTuner:
    """Picks the faster torch CPU thread count (1 or all cores) from timed training steps, and re-checks.

    On this 2-core machine, shared with other work, 2 threads were 1.9× (training) to 2.5–4× (inference)
    SLOWER than 1 thread whenever another process was busy (OpenMP threads wait for each other), while an
    idle machine favours 2 threads. So every `every` steps, `trial` real training steps are timed with each
    count and the fastest is kept. Changing the thread count only changes float rounding (reduction order),
    so bit-exact reproducibility needs a fixed `--threads N` instead.
    """

    def __init__(self, counts=None, every: int = 200, trial: int = 2):
        counts = counts or (1, os.cpu_count() or 1)
        self.counts = sorted({int(c) for c in counts if int(c) >= 1})
        self.every, self.trial = int(every), int(trial)
        self.queue: list[int] = []
        self.times: dict[int, list[float]] = {}
        self.since = self.every - 1  # first probe after one warm-up step
        self.current = torch.get_num_threads()
        self.used: dict[int, int] = {}

    def before_step(self) -> None:
        if len(self.counts) > 1 and not self.queue and not self.times and self.since >= self.every:
            self.queue = [c for c in self.counts for _ in range(self.trial)]
            self.times = {c: [] for c in self.counts}
        if self.queue:
            self.current = self.queue.pop(0)
        torch.set_num_threads(self.current)

    def after_step(self, seconds: float) -> None:
        self.used[self.current] = self.used.get(self.current, 0) + 1
        if not self.times:
            self.since += 1
            return
        self.times[self.current].append(seconds)
        others = [min(v) for c, v in self.times.items() if c != self.current and v]
        if others and seconds > 1.5 * min(others):  # clearly slower: skip its remaining trials
            self.queue = [c for c in self.queue if c != self.current]
        if not self.queue:
            best = min(self.counts, key=lambda c: min(self.times[c]))
            _say("threads: " + ", ".join(f"{c} → {min(v):.2f} s/step" for c, v in self.times.items())
                 + f"; using {best}")
            self.current, self.times, self.since = best, {}, 0
            torch.set_num_threads(best)

    def summary(self) -> str:
        return "threads " + ", ".join(f"{c}×{n}" for c, n in sorted(self.used.items())) + " steps"


@dataclass
class RunResult:
    step_from: int
    step_to: int
    wall_s: float
    losses: list[float] = field(default_factory=list)
    stopped: str = ""


def run(trainer: Trainer, maker: BatchMaker, *, steps: int | None, minutes: float | None = None,
        state_path: str | os.PathLike | None = None, save_every: int = 100, save_minutes: float = 10.0,
        log_every: int = 10, workers: int = 1, stop_flag: list | None = None,
        tuner: ThreadTuner | None = None) -> RunResult:
    """Train until `steps` more steps are done or `minutes` of wall time would be exceeded.

    Saves the state every `save_every` steps / `save_minutes` minutes and at the end (if `state_path`).
    """
    start_step = trainer.step
    target = None if steps is None else start_step + int(steps)
    budget = None if minutes is None else minutes * 60.0
    losses: list[float] = []
    pending: list[torch.Tensor] = []
    t_start = time.perf_counter()
    t_log, step_log, wait_log = t_start, start_step, 0.0
    t_saved = t_start
    stopped = ""
    with Prefetcher(maker, trainer.step, workers=workers, depth=max(2, workers + 1)) as batches:
        while True:
            if target is not None and trainer.step >= target:
                break
            now = time.perf_counter()
            done = trainer.step - start_step
            if budget is not None and done and (now - t_start) + (now - t_start) / done > budget:
                stopped = "time budget"
                break
            if stop_flag and stop_flag[0]:
                stopped = "interrupted"
                break
            t0 = time.perf_counter()
            batch = batches.next()
            t1 = time.perf_counter()
            wait_log += t1 - t0
            if tuner is not None:
                tuner.before_step()
            pending.append(trainer.train_step(batch))
            if tuner is not None:
                tuner.after_step(time.perf_counter() - t1)
            k = trainer.step
            if log_every and (k % log_every == 0 or k == target):
                vals = torch.stack(pending).float().cpu().tolist()
                losses += vals
                pending.clear()
                now = time.perf_counter()
                n = k - step_log
                _say(f"step {k:>7d}  loss {np.mean(vals):.4f}  lr {lr_at(k - 1, trainer.cfg):.2e}  "
                     f"grad {float(trainer.last_grad_norm):.3f}  {(now - t_log) / n:.2f} s/step  "
                     f"data wait {wait_log / n:.3f} s/step  ema decay {trainer.ema.decay(k - 1):.4f}")
                t_log, step_log, wait_log = now, k, 0.0
            if state_path and ((save_every and k % save_every == 0)
                               or time.perf_counter() - t_saved > save_minutes * 60):
                _checkpoint(trainer, state_path, t_start, start_step)
                t_saved = time.perf_counter()
    if pending:
        losses += torch.stack(pending).float().cpu().tolist()
    wall = time.perf_counter() - t_start
    trainer.elapsed_s += wall
    if state_path and trainer.step > start_step:
        trainer.save(state_path)
    return RunResult(start_step, trainer.step, wall, losses, stopped)


def _checkpoint(trainer: Trainer, path, t_start: float, start_step: int) -> None:
    elapsed = trainer.elapsed_s
    trainer.elapsed_s = elapsed + (time.perf_counter() - t_start)  # saved value includes this run so far
    trainer.save(path)
    trainer.elapsed_s = elapsed
    _say(f"saved training state at step {trainer.step} → {path}")


# ---------------------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine.training.train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, help="optimiser steps to run now (default: until --minutes runs out)")
    p.add_argument("--minutes", type=float, help="wall-clock budget for the training loop; stops cleanly")
    p.add_argument("--resume", action="store_true", help="continue from --state (exactly)")
    p.add_argument("--overwrite", action="store_true", help="start from scratch even if --state exists")
    p.add_argument("--state", type=Path, default=DEFAULT_STATE, help="training state file (one file, replaced)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--batch", type=int, help="batch size (default 8 on CPU, 32 on CUDA)")
    p.add_argument("--crop", type=int, help="crop size in pixels (default 96 on CPU, 256 on CUDA)")
    p.add_argument("--lr", type=float, help="peak learning rate (default 5e-4)")
    p.add_argument("--warmup", type=int, help="warm-up steps (default 50)")
    p.add_argument("--plan", type=int, help="planned total steps for the cosine decay (default: the target "
                   "step of the first run; 0 = constant lr)")
    p.add_argument("--seed", type=int, help="seed of everything random (default 0)")
    p.add_argument("--path-frac", type=float, help="fraction of sampler-path samples (default 0.5)")
    p.add_argument("--path-rollout", choices=("on", "off"), help="build the sampler-path states from the "
                   "network's own estimates (default on; states saved before this option: off)")
    p.add_argument("--eq-prob", type=float, help="probability of equalising low-light inputs (default 0.5)")
    p.add_argument("--feature-scale", type=_feature_scale_arg, metavar="LO,HI|crop", default=argparse.SUPPRESS,
                   help="size of rain streaks and snow flakes, drawn log-uniformly in LO..HI (1 = a 256 px "
                        "crop; default 0.5,2), or 'crop' for the crop's own size (states saved before this "
                        "option: crop)")
    p.add_argument("--rain-max-density", type=float, help="top of rain's global density range (default 6; "
                   "the generator's own default, and states saved before this option: 3)")
    p.add_argument("--tasks", type=_tasks_arg, metavar="T1,T2,...", help="the round-robin task mix; repeat a "
                   "task to weight it (default: each task once; with a batch of 8, 'low-light,haze,rain,snow,"
                   "blur,rain,blur,blur' puts 2 rain and 3 blur samples in every batch); 'none' adds clean "
                   "crops as their own condition")
    p.add_argument("--amp", choices=("on", "off"), help="bf16 autocast on CUDA (default on; ignored on CPU)")
    p.add_argument("--workers", type=int, help="data threads (default 1 on CPU, up to 8 on CUDA)")
    p.add_argument("--threads", default="auto", type=_threads_arg, help="torch CPU threads, or 'auto' (default): time 1 thread "
                   "against all cores every 200 steps and keep the faster (see training/README.md)")
    p.add_argument("--compile", action="store_true", help="torch.compile the network (for CUDA; on the 2-core CPU "
                   "it compiled for 5 minutes and was slower)")
    p.add_argument("--data", type=Path, action="append", help=f"folder of clean photos (default {TRAIN_CLEAN})")
    p.add_argument("--save-every", type=int, default=100, help="save the state every N steps (and at the end)")
    p.add_argument("--log-every", type=int, default=10, help="print progress every N steps")
    p.add_argument("--log", type=Path, default=DEFAULT_LOG, help="markdown training log to append a row to")
    p.add_argument("--no-val", action="store_true", help="skip the end-of-run validation")
    p.add_argument("--export", type=Path, help="write the EMA weights as a safetensors model at the end")
    return p


def _threads_arg(value: str) -> str:
    if value != "auto" and not (value.isdigit() and int(value) >= 1):
        raise argparse.ArgumentTypeError("expected 'auto' or a positive number")
    return value


def _tasks_arg(value: str) -> list[str]:
    tasks = [t.strip() for t in value.split(",") if t.strip()]
    unknown = sorted({t for t in tasks if t not in TRAIN_TASKS})
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown task(s) {', '.join(unknown)}; expected some of "
                                         f"{', '.join(TRAIN_TASKS)}")
    missing = [t for t in TASKS if t not in tasks]
    if missing:  # a model that never sees a task forgets it: refuse rather than ship that by accident
        raise argparse.ArgumentTypeError(f"every task must appear at least once; missing {', '.join(missing)}")
    return tasks  # a list, as the saved config holds it


def _feature_scale_arg(value: str) -> list[float] | None:
    if value == "crop":
        return None
    try:
        lo, hi = (float(v) for v in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected LO,HI (for example 0.5,2) or 'crop'") from None
    if not 0.1 <= lo <= hi <= 10.0:
        raise argparse.ArgumentTypeError("expected 0.1 <= LO <= HI <= 10")
    return [lo, hi]  # a list, as the saved config holds it


def _overrides(args) -> dict:
    o = {}
    if hasattr(args, "feature_scale"):
        o["feature_scale"] = args.feature_scale
    for name in ("batch", "crop", "lr", "warmup", "plan", "seed", "path_frac", "eq_prob", "rain_max_density"):
        v = getattr(args, name)
        if v is not None:
            o[name] = v
    if args.path_rollout is not None:
        o["path_rollout"] = args.path_rollout == "on"
    if args.tasks is not None:
        o["tasks"] = args.tasks
    return o


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from engine.device import resolve_device

    device = resolve_device(args.device)
    tuner = None
    if args.threads != "auto":
        torch.set_num_threads(int(args.threads))
    elif device == "cpu" and (os.cpu_count() or 1) > 1:
        tuner = ThreadTuner()
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
        try:  # TF32 convolutions as in the official GPU runs (spec §7.14), and matmuls
            torch.backends.cuda.matmul.fp32_precision = "tf32"
            torch.backends.cudnn.conv.fp32_precision = "tf32"
        except AttributeError:  # older torch
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
    if args.steps is None and args.minutes is None:
        if args.export is None:
            build_parser().error("give --steps and/or --minutes (or only --export to export a state)")
        if not args.state.is_file():
            build_parser().error(f"no training state at {args.state}")
        export_ema(args.state, args.export)
        _say(f"exported the EMA weights of {args.state} → {args.export}")
        return 0

    defaults = device_defaults(device)
    overrides = _overrides(args)
    amp = None if args.amp is None else args.amp == "on"
    notes = []
    if args.resume:
        if not args.state.is_file():
            build_parser().error(f"--resume: no training state at {args.state}")
        state = read_state(args.state, device)
        saved = state["config"]
        trainer = Trainer(TrainConfig.from_dict({**saved, **overrides}), device, amp=amp, compile=args.compile)
        trainer.load_state_dict(state)
        del state
        effective = TrainConfig.from_dict(saved).to_dict()  # what the saved run used, defaults included
        changed = [k for k, v in overrides.items() if v != effective.get(k)]
        if changed:
            notes.append("changed on resume: " + ", ".join(f"{k}={overrides[k]}" for k in changed))
            _say("warning: changing " + ", ".join(changed) + " on resume: the continuation is no longer the "
                 "one a single run would have produced")
    else:
        if args.state.exists() and not args.overwrite:
            build_parser().error(f"{args.state} exists: pass --resume to continue it or --overwrite to restart")
        cfg = TrainConfig(batch=defaults["batch"], crop=defaults["crop"])
        cfg = TrainConfig.from_dict({**cfg.to_dict(), **overrides})
        if args.plan is None:
            cfg.plan = args.steps or 0
        trainer = Trainer(cfg, device, amp=amp, compile=args.compile)
    cfg = trainer.cfg
    workers = args.workers or defaults["workers"]
    if device == "cpu":
        import cv2

        from engine.device import tune_cpu_allocator

        cv2.setNumThreads(1)
        tune_cpu_allocator()  # keep freed activations in the heap: 1.35x faster steps (training/README.md)

    t0 = time.perf_counter()
    photos = load_photos(args.data or TRAIN_CLEAN)
    maker = BatchMaker(photos, batch=cfg.batch, crop=cfg.crop, seed=cfg.seed, eq_prob=cfg.eq_prob, tasks=cfg.tasks,
                       feature_scale=cfg.feature_scale, rain_max_density=cfg.rain_max_density)
    params = sum(p.numel() for p in trainer.net.parameters())
    _say(f"DiffUIR-{cfg.variant} ({params:,} parameters) on {device_name(device)}; {len(photos)} photos in "
         f"memory ({sum(p.nbytes for p in photos) / 1e6:.0f} MB, {time.perf_counter() - t0:.1f} s); batch "
         f"{cfg.batch}×{cfg.crop}²; step {trainer.step}; peak lr {cfg.lr:g}, plan {cfg.plan or 'constant'}; "
         f"amp {trainer.amp}; state {args.state}")

    stop = [False]

    def on_signal(signum, frame):
        if stop[0]:
            raise KeyboardInterrupt
        stop[0] = True
        _say("stopping after this step (again to abort without saving)…")

    old = signal.signal(signal.SIGINT, on_signal)
    old_term = signal.signal(signal.SIGTERM, on_signal)
    try:
        result = run(trainer, maker, steps=args.steps, minutes=args.minutes, state_path=args.state,
                     save_every=args.save_every, log_every=args.log_every, workers=workers, stop_flag=stop, tuner=tuner)
    finally:
        signal.signal(signal.SIGINT, old)
        signal.signal(signal.SIGTERM, old_term)
    n = result.step_to - result.step_from
    _say(f"trained steps {result.step_from}→{result.step_to} in {result.wall_s:.0f} s"
         + (f" ({result.stopped})" if result.stopped else "") + f"; state saved to {args.state}")
    if result.stopped:
        notes.append(f"stopped: {result.stopped}")
    if tuner is not None:
        notes.append(tuner.summary())
    elif device == "cpu":
        notes.append(f"threads {torch.get_num_threads()}")
    if n == 0:
        return 0

    scores = None
    if not args.no_val and KODAK.is_dir():
        t0 = time.perf_counter()
        scores = validate(trainer.ema_network(), validation_set(), device=device)
        _say("validation (EMA, best preset), PSNR input → output: " + ", ".join(
            f"{k} {a:.2f}→{b:.2f}" for k, (a, b) in scores.items()) + f" ({time.perf_counter() - t0:.0f} s)")
    s_step = result.wall_s / n
    tail = result.losses[-50:]
    append_log(args.log, {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "step_from": result.step_from, "step_to": result.step_to, "device": device_name(device),
        "batch": cfg.batch, "crop": cfg.crop, "wall_s": result.wall_s, "s_per_step": s_step,
        "px_per_s": cfg.batch * cfg.crop ** 2 / s_step, "loss": float(np.mean(tail)) if tail else None,
        "lr": lr_at(result.step_to - 1, cfg), "validation": scores,
        "notes": "; ".join(([f"from scratch, seed {cfg.seed}"] if result.step_from == 0 else [])
                           + (["bf16 autocast"] if trainer.amp else []) + notes),
    })
    _say(f"appended a row to {args.log}")
    if args.export:
        export_ema(args.state, args.export)
        _say(f"exported the EMA weights → {args.export}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
