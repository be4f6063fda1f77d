"""The training loop (engine.training): objective, data mix, determinism, resumable state, export.

Fast (tiny 32×32 crops, batch 5) and independent of ../shared/data, except the tests marked as needing it,
which skip when it is absent. Training itself is not part of `make test`.
"""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np
import pytest
import torch

from engine.network import UnetRes
from engine.sampler import initial_state, step, time_input
from engine.schedule import PRESETS, make_schedule, stock_times
from engine.training.data import BatchMaker, Prefetcher, batch_tasks, load_photos
from engine.training.degradations import TASKS
from engine.training.ema import EMA
from engine.training.train import (
    KODAK,
    PATH_TIMES,
    TRAIN_CLEAN,
    ThreadTuner,
    TrainConfig,
    Trainer,
    diffusion_inputs,
    draw_times,
    export_ema,
    fp32_normalisation,
    lr_at,
    main,
    read_state,
    recipe_summary,
    rollout_states,
    run,
    sampler_states,
    validate,
    validation_set,
)

S = make_schedule()
CROP, BATCH = 32, 5


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread: on a shared 2-core machine, 2 OpenMP threads run these tiny steps up to 5× slower
    whenever another process is busy; the results checked here do not depend on the thread count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def synthetic_photos(n: int = 4, seed: int = 0) -> list[np.ndarray]:
    """Smooth random colour images with some edges (uint8 RGB), so every degradation has something to do."""
    rng = np.random.default_rng(seed)
    photos = []
    for _ in range(n):
        small = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
        img = cv2.resize(small, (80, 64), interpolation=cv2.INTER_CUBIC)
        img[rng.integers(0, 64, 20), :] //= 2
        photos.append(img)
    return photos


def tiny_config(**kw) -> TrainConfig:
    return TrainConfig(**{"batch": BATCH, "crop": CROP, "warmup": 1, "lr": 1e-3, **kw})


def tiny_maker(cfg: TrainConfig) -> BatchMaker:
    return BatchMaker(synthetic_photos(), batch=cfg.batch, crop=cfg.crop, seed=cfg.seed, eq_prob=cfg.eq_prob)


def weights_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- data ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [5, 8, 10])
def test_every_batch_holds_every_task(batch):
    maker = BatchMaker(synthetic_photos(), batch=batch, crop=CROP, seed=0)
    for k in range(4):
        b = maker.make(k)
        assert set(b.tasks) == set(TASKS)
        assert b.x_in.shape == b.x0.shape == (batch, 3, CROP, CROP)
        assert b.x_in.dtype == b.x0.dtype == np.float32
        assert b.x_in.min() >= -1 and b.x_in.max() <= 1 and b.x0.min() >= -1 and b.x0.max() <= 1
        assert not np.array_equal(b.x_in, b.x0)
    counts = {t: 0 for t in TASKS}
    for k in range(5):
        for t in batch_tasks(k, 8):
            counts[t] += 1
    assert set(counts.values()) == {8}  # balanced over batches


def test_batches_are_a_function_of_seed_and_index():
    photos = synthetic_photos()
    a = BatchMaker(photos, batch=BATCH, crop=CROP, seed=3)
    b = BatchMaker(photos, batch=BATCH, crop=CROP, seed=3)
    assert np.array_equal(a.make(7).x_in, b.make(7).x_in)
    assert np.array_equal(a.make(7).x0, b.make(7).x0)
    assert not np.array_equal(a.make(7).x0, a.make(8).x0)
    assert not np.array_equal(a.make(7).x0, BatchMaker(photos, batch=BATCH, crop=CROP, seed=4).make(7).x0)


def test_prefetcher_yields_batches_in_order_from_any_start():
    maker = BatchMaker(synthetic_photos(), batch=BATCH, crop=CROP, seed=0)
    with Prefetcher(maker, 7, workers=3, depth=4) as batches:
        got = [batches.next() for _ in range(5)]
    assert [b.index for b in got] == [7, 8, 9, 10, 11]
    assert all(np.array_equal(b.x_in, maker.make(b.index).x_in) for b in got)


def test_low_light_equalisation_probability():
    photos = synthetic_photos()
    always = BatchMaker(photos, batch=10, crop=CROP, seed=0, eq_prob=1.0).make(0)
    never = BatchMaker(photos, batch=10, crop=CROP, seed=0, eq_prob=0.0).make(0)
    assert [e for t, e in zip(always.tasks, always.equalized) if t == "low-light"] == [True, True]
    assert not any(never.equalized)
    assert not any(e for t, e in zip(always.tasks, always.equalized) if t != "low-light")
    i = always.tasks.index("low-light")
    # equalisation stretches every channel to the full range; the dark input does not reach white
    assert np.allclose(always.x_in[i].max(axis=(1, 2)), 1.0)
    assert never.x_in[i].max() < always.x_in[i].max()


# --- objective -----------------------------------------------------------------------------------------


def _images(shape=(2, 3, 16, 16), seed=0):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.rand(shape, generator=g) * 2 - 1
    x_in = torch.rand(shape, generator=g) * 2 - 1
    noise = torch.randn(shape, generator=g)
    return x0, x_in, noise


def test_forward_process_target_and_time_follow_the_spec():
    x0, x_in, noise = _images()
    t = torch.tensor([999, 0])
    x, time, target = diffusion_inputs(x0, x_in, t, torch.tensor([False, False]), noise, S)
    assert torch.equal(target, x_in - x0)
    assert torch.equal(x[:, 3:], x_in)
    # spec §4.2: x_t = (1 − Ā_t)·x0 + (Ā_t − D̄_t)·x_in + B̄_t·ε; at T ≈ 0.0064·x0 + 0.0931·x_in + 1.0·ε
    for i, ti in enumerate(t.tolist()):
        a, b, d = S.alphas_cumsum[ti], S.betas_cumsum[ti], S.delta_cumsum[ti]
        expected = (1 - a) * x0[i] + (a - d) * x_in[i] + b * noise[i]
        torch.testing.assert_close(x[i, :3], expected, rtol=0, atol=1e-6)
    assert torch.equal(time, time_input(S, 999, 1, "cpu").repeat(2).where(t == 999, S.alphas_cumsum[0] * 1000))
    assert time[0].item() == 993.6471557617188  # spec §5.2


@pytest.mark.parametrize("times", [PRESETS["best"], PRESETS["balanced"], stock_times(4), stock_times(5)])
def test_sampler_path_states_are_what_the_sampler_visits_with_an_oracle(times):
    x0, x_in, noise = _images((1, 3, 16, 16), seed=1)
    x0 = x0.clamp(-0.2, 1)  # some |r| > 1, so the sampler's clamp of the residual matters
    x_in = (x_in - 0.8).clamp(-1, 1)
    res = x_in - x0
    assert res.abs().max() > 1
    state = initial_state(x_in, noise, S, times[0])
    for i, t in enumerate(times):
        expected = sampler_states(x_in, res, torch.tensor([t]), noise, S, start=times[0])
        torch.testing.assert_close(state, expected, rtol=0, atol=2e-6)
        t_next = times[i + 1] if i + 1 < len(times) else -1
        state, x0_hat = step(state, res, x_in, t, t_next, S)  # the oracle network returns the true residual
    torch.testing.assert_close(x0_hat, (x_in - res.clamp(-1, 1)).clamp(-1, 1))
    # and the training mix uses exactly this formula (start 999) for on-path samples
    t = torch.tensor([times[-1]])
    x, _, _ = diffusion_inputs(x0, x_in, t, torch.tensor([True]), noise, S)
    torch.testing.assert_close(x[:, :3], sampler_states(x_in, res, t, noise, S), rtol=0, atol=0)


def _stub_predict(x, time):
    """A deterministic stand-in network: the residual depends on the state, the condition and the time."""
    state, cond = x[:, :3], x[:, 3:]
    return 0.6 * cond - 0.3 * state + (time / 1000).view(-1, 1, 1, 1) * 0.1 - 0.05


@pytest.mark.parametrize("times", [PRESETS["best"], PRESETS["balanced"], stock_times(4)])
def test_rollout_states_are_what_the_sampler_visits_with_that_network(times):
    _, x_in, noise = _images((len(times), 3, 16, 16), seed=2)
    t = torch.tensor(times)  # sample i sits at the grid's i-th time
    got = rollout_states(_stub_predict, x_in, t, noise, S, times)
    for i in range(len(times)):
        state = initial_state(x_in[i:i + 1], noise[i:i + 1], S, times[0])
        for k in range(i):  # the sampler's own run, with the same network, up to times[i]
            raw = _stub_predict(torch.cat((state, x_in[i:i + 1]), 1), time_input(S, times[k], 1, "cpu"))
            state, _ = step(state, raw, x_in[i:i + 1], times[k], times[k + 1], S)
        torch.testing.assert_close(got[i:i + 1], state, rtol=0, atol=1e-6)


def test_rollout_with_an_oracle_gives_the_exact_path_states_and_training_uses_it():
    x0, x_in, noise = _images((3, 3, 16, 16), seed=3)
    res = x_in - x0
    t = torch.tensor(list(PATH_TIMES))
    calls = []

    def oracle(x, time):
        calls.append(x.shape[0])
        return res[-x.shape[0]:]  # the samples still moving are always the last ones here

    torch.testing.assert_close(rollout_states(oracle, x_in, t, noise, S, PATH_TIMES),
                               sampler_states(x_in, res, t, noise, S), rtol=0, atol=2e-6)
    assert calls == [2, 1]  # the 999 sample needs no call; the 332 sample needs two
    # diffusion_inputs: on-path samples get the rollout, the others the forward process
    on_path = torch.tensor([True, False, True])
    x, _, _ = diffusion_inputs(x0, x_in, t, on_path, noise, S, predict=_stub_predict)
    rolled = rollout_states(_stub_predict, x_in[[0, 2]], t[[0, 2]], noise[[0, 2]], S, PATH_TIMES)
    torch.testing.assert_close(x[[0, 2], :3], rolled, rtol=0, atol=0)
    plain, _, _ = diffusion_inputs(x0, x_in, t, torch.tensor([False] * 3), noise, S)
    torch.testing.assert_close(x[1], plain[1], rtol=0, atol=0)


def test_rollout_is_on_for_new_runs_and_off_for_states_saved_before_it():
    assert TrainConfig().path_rollout is True
    old = {k: v for k, v in TrainConfig().to_dict().items() if k != "path_rollout"}
    assert TrainConfig.from_dict(old).path_rollout is False
    assert TrainConfig.from_dict({**old, "path_rollout": True}).path_rollout is True


def test_rain_and_snow_feature_scale_and_density_are_drawn_per_sample():
    photos = synthetic_photos()
    plain = BatchMaker(photos, batch=10, crop=CROP, seed=0)
    same = BatchMaker(photos, batch=10, crop=CROP, seed=0, feature_scale=None, rain_max_density=3.0)
    scaled = BatchMaker(photos, batch=10, crop=CROP, seed=0, feature_scale=(0.5, 2.0), rain_max_density=6.0)
    a, b, c = plain.make(2), same.make(2), scaled.make(2)
    assert np.array_equal(a.x_in, b.x_in)  # the defaults keep the old stream of draws (old states resume)
    assert np.array_equal(c.x_in, scaled.make(2).x_in)  # still a function of (seed, index)
    changed = {t for i, t in enumerate(a.tasks) if not np.array_equal(a.x_in[i], c.x_in[i])}
    assert {"rain", "snow"} <= changed
    with pytest.raises(ValueError, match="feature_scale"):
        BatchMaker(photos, batch=10, crop=CROP, seed=0, feature_scale=(2.0, 0.5))


def test_feature_scale_is_on_for_new_runs_and_off_for_states_saved_before_it():
    cfg = TrainConfig()
    assert cfg.feature_scale == (0.5, 2.0) and cfg.rain_max_density == 6.0
    old = {k: v for k, v in cfg.to_dict().items() if k not in ("feature_scale", "rain_max_density")}
    back = TrainConfig.from_dict(old)
    assert back.feature_scale is None and back.rain_max_density == 3.0
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert "feature scale 0.5-2" in recipe_summary(cfg) and "from the crop size" in recipe_summary(back)


def test_feature_scale_option_parses_and_is_an_override_only_when_given():
    from engine.training.train import _overrides, build_parser

    parse = build_parser().parse_args
    assert "feature_scale" not in _overrides(parse([]))  # absent: a resumed state keeps its own
    assert _overrides(parse(["--feature-scale", "crop"]))["feature_scale"] is None
    assert _overrides(parse(["--feature-scale", "0.5,2", "--rain-max-density", "4"])) == {
        "feature_scale": [0.5, 2.0], "rain_max_density": 4.0}
    for bad in ("2,0.5", "1", "a,b"):
        with pytest.raises(SystemExit):
            parse(["--feature-scale", bad])


def test_tasks_option_weights_the_mix_and_refuses_to_drop_a_task():
    from engine.training.train import _overrides, build_parser

    parse = build_parser().parse_args
    assert "tasks" not in _overrides(parse([]))  # absent: a resumed state keeps its own mix
    mix = "low-light,haze,rain,snow,blur,rain,blur,blur"
    tasks = _overrides(parse(["--tasks", mix]))["tasks"]
    assert tasks == mix.split(",")
    cfg = TrainConfig.from_dict({**TrainConfig().to_dict(), "tasks": tasks})
    assert cfg.tasks == tuple(tasks) and TrainConfig.from_dict(cfg.to_dict()) == cfg
    counts = [batch_tasks(k, 8, cfg.tasks).count("blur") for k in range(5)]
    assert counts == [3] * 5  # a batch of 8 over an 8-task mix: the same weighted mix in every batch
    assert "(low-light 1/8, haze 1/8, rain 2/8, snow 1/8, blur 3/8)" in recipe_summary(cfg)
    assert "tasks mixed in every batch," in recipe_summary(TrainConfig())
    with_none = _overrides(parse(["--tasks", "low-light,haze,rain,snow,blur,none"]))["tasks"]
    assert "(low-light 1/6, haze 1/6, rain 1/6, snow 1/6, blur 1/6, none 1/6)" in recipe_summary(
        TrainConfig(tasks=tuple(with_none)))
    for bad in ("rain,blur", "low-light,haze,rain,snow,blur,fog", "", "none"):
        with pytest.raises(SystemExit):
            parse(["--tasks", bad])


def test_identity_task_gives_the_clean_crop_as_its_own_condition():
    photos = synthetic_photos()
    maker = BatchMaker(photos, batch=6, crop=32, seed=3, tasks=("low-light", "haze", "rain", "snow", "blur", "none"))
    b = maker.make(0)
    assert b.tasks[5] == "none"
    assert np.array_equal(b.x_in[5], b.x0[5])  # residual exactly 0
    assert all(not np.array_equal(b.x_in[i], b.x0[i]) for i in range(5))
    with pytest.raises(ValueError, match="unknown task"):
        BatchMaker(photos, batch=2, crop=32, seed=0, tasks=("fog",))


def test_draws_mix_paths_and_times():
    cfg = TrainConfig(path_frac=0.5)
    t, on_path = draw_times(0, 5, 4000, cfg)
    assert 0.45 < on_path.mean() < 0.55
    assert set(np.unique(t[on_path])) == set(PATH_TIMES) == {999, 665, 332}
    assert len(np.unique(t[~on_path])) > 500 and t.min() >= 0 and t.max() <= 999
    t2, p2 = draw_times(0, 5, 4000, cfg)
    assert np.array_equal(t, t2) and np.array_equal(on_path, p2)
    _, none = draw_times(0, 5, 100, TrainConfig(path_frac=0.0))
    assert not none.any()


def test_lr_schedule_warms_up_then_decays_to_the_floor():
    cfg = TrainConfig(lr=1e-3, warmup=50, plan=1000, min_lr_frac=0.05)
    lrs = [lr_at(k, cfg) for k in range(1200)]
    assert lrs[0] == pytest.approx(2e-5) and lrs[49] == pytest.approx(1e-3)
    assert (np.diff(lrs[:50]) > 0).all() and (np.diff(lrs[49:1001]) <= 0).all()
    assert lrs[1000] == pytest.approx(5e-5) and lrs[1199] == pytest.approx(5e-5)
    assert lr_at(10_000, TrainConfig(lr=1e-3, warmup=50, plan=0)) == 1e-3  # no plan: constant
    assert lr_at(0, TrainConfig(lr=1e-3, warmup=50, plan=100)) == pytest.approx(1e-4)  # warm-up ≤ plan/10


def test_ema_decay_warmup_and_update():
    net = torch.nn.Linear(3, 2)
    ema = EMA(net, max_decay=0.999, power=2 / 3)
    assert ema.decay(0) == 0.0
    assert ema.decay(100) == pytest.approx(1 - 101 ** (-2 / 3))
    assert ema.decay(10**6) == 0.999
    with torch.no_grad():
        net.weight.fill_(1.0)
    ema.update(net)  # decay 0: a copy
    assert torch.equal(ema.shadow["weight"], net.weight)
    with torch.no_grad():
        net.weight.fill_(3.0)
    d = ema.decay()
    ema.update(net)
    torch.testing.assert_close(ema.shadow["weight"], torch.full((2, 3), d * 1.0 + (1 - d) * 3.0))


def test_thread_tuner_keeps_the_faster_thread_count():
    original = torch.get_num_threads()
    try:
        tuner = ThreadTuner(counts=(1, 2), every=3, trial=2)
        seen = []
        for k in range(12):
            tuner.before_step()
            seen.append(torch.get_num_threads())
            tuner.after_step({1: 1.0, 2: 3.0}[torch.get_num_threads()] if k < 6 else
                             {1: 3.0, 2: 1.0}[torch.get_num_threads()])
        # warm-up step; probe 1,1,2 (2 is clearly slower: its second trial is skipped) → keep 1 for 3 steps;
        # probe again, now 2 is faster → keep 2
        assert seen == [original, 1, 1, 2, 1, 1, 1, 1, 1, 2, 2, 2]
        assert tuner.current == 2 and sum(tuner.used.values()) == 12
    finally:
        torch.set_num_threads(original)


# --- the training step -----------------------------------------------------------------------------------


def test_training_steps_lower_the_loss_on_a_fixed_batch():
    cfg = tiny_config(lr=3e-4)
    trainer = Trainer(cfg)
    batch = tiny_maker(cfg).make(0)
    draws = trainer.draws(0, BATCH, (BATCH, 3, CROP, CROP))  # fixed t, paths and noise
    x0, x_in = torch.from_numpy(batch.x0), torch.from_numpy(batch.x_in)

    def loss() -> float:
        with torch.no_grad():
            return trainer.loss(x0, x_in, *draws).item()

    losses = [loss()]
    for _ in range(3):
        trainer.train_step(batch, draws)
        losses.append(loss())
    assert trainer.step == 3
    assert losses[1] < losses[0], losses  # one step already helps
    assert all(b < a for a, b in itertools.pairwise(losses)), losses
    assert losses[-1] < 0.85 * losses[0], losses


def test_fixed_seed_is_deterministic_and_seeds_differ():
    def train(seed):
        cfg = tiny_config(seed=seed)
        trainer = Trainer(cfg)
        result = run(trainer, tiny_maker(cfg), steps=2, log_every=0)
        return result.losses, trainer.net.state_dict()

    losses_a, w_a = train(0)
    losses_b, w_b = train(0)
    losses_c, w_c = train(1)
    assert losses_a == losses_b and weights_equal(w_a, w_b)
    assert losses_a != losses_c and not weights_equal(w_a, w_c)


def test_resume_continues_bit_identically(tmp_path):
    cfg = tiny_config()
    straight = Trainer(cfg)
    losses = run(straight, tiny_maker(cfg), steps=3, log_every=1).losses

    path = tmp_path / "state" / "t.pt"
    first = Trainer(cfg)
    assert not first.channels_last  # the CPU default
    part1 = run(first, tiny_maker(cfg), steps=2, log_every=1, state_path=path).losses
    assert path.is_file() and not list(path.parent.glob(".*tmp*"))  # one file, no temporaries left
    state = read_state(path)  # torch.load(weights_only=True)
    assert state["step"] == 2 and state["data"]["next_batch"] == 2
    assert state["config"] == cfg.to_dict()

    resumed = Trainer(TrainConfig.from_dict(state["config"]))
    resumed.load_state_dict(state)
    part2 = run(resumed, tiny_maker(resumed.cfg), steps=1, log_every=1).losses
    assert part1 + part2 == losses
    assert resumed.step == straight.step == 3
    assert weights_equal(resumed.net.state_dict(), straight.net.state_dict())
    assert weights_equal(resumed.ema.shadow, straight.ema.shadow) and resumed.ema.updates == 3
    sa, sb = resumed.opt.state_dict()["state"], straight.opt.state_dict()["state"]
    assert all(weights_equal(sa[i], sb[i]) for i in sb)


def test_run_stops_on_the_time_budget_and_on_request():
    cfg = tiny_config()
    trainer = Trainer(cfg)
    result = run(trainer, tiny_maker(cfg), steps=None, minutes=1e-6, log_every=0)
    assert (result.step_from, result.step_to, result.stopped) == (0, 1, "time budget")
    result = run(trainer, tiny_maker(cfg), steps=5, log_every=0, stop_flag=[True])
    assert (result.step_to, result.stopped) == (1, "interrupted")


def test_fp32_normalisation_keeps_float32_results_and_fixes_bf16_eps():
    torch.manual_seed(0)
    ref = UnetRes("T").eval()
    patched = UnetRes("T").eval()
    patched.load_state_dict(ref.state_dict())
    fp32_normalisation(patched)
    x, t = torch.randn(1, 6, 32, 32), torch.tensor([500.0])
    with torch.no_grad():
        want = ref(x, t)
        assert torch.equal(patched(x, t), want)  # float32: the same computation
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fixed = patched(x, t).float()
            stock = ref(x, t).float()
    err_fixed = (fixed - want).abs().mean().item()
    err_stock = (stock - want).abs().mean().item()
    assert err_fixed < 0.5 * err_stock, (err_fixed, err_stock)


# --- command line, state file, export ------------------------------------------------------------------


def test_cli_trains_resumes_logs_and_exports(tmp_path):
    from engine.checkpoints import read_metadata
    from engine.models import load_model

    data = tmp_path / "photos"
    data.mkdir()
    for i, img in enumerate(synthetic_photos(3)):
        cv2.imwrite(str(data / f"p{i}.png"), img[..., ::-1])
    state, log, model = tmp_path / "state.pt", tmp_path / "log.md", tmp_path / "m.safetensors"
    common = ["--data", str(data), "--state", str(state), "--log", str(log), "--device", "cpu", "--no-val",
              "--threads", "1", "--log-every", "1"]
    assert main(["--steps", "2", "--batch", "5", "--crop", "32", *common]) == 0
    assert read_state(state)["step"] == 2
    with pytest.raises(SystemExit):  # an existing state is never restarted silently
        main(["--steps", "1", *common])
    assert main(["--steps", "1", "--resume", "--export", str(model), "--path-rollout", "off", *common]) == 0
    st = read_state(state)
    assert st["step"] == 3 and st["config"]["batch"] == 5 and st["config"]["plan"] == 2
    assert st["config"]["path_rollout"] is False
    rows = [ln for ln in log.read_text().splitlines() if ln.startswith("| 20")]
    assert len(rows) == 2 and "| 0→2 |" in rows[0] and "| 2→3 |" in rows[1]
    assert "changed on resume: path_rollout=False" in rows[1]

    loaded = load_model(model, device="cpu")
    assert loaded.variant == "T" and loaded.checkpoint_source == "safetensors"
    meta = read_metadata(model)
    assert meta["training_steps"] == "3" and meta["weights"] == "ema" and "BSDS500" in meta["training_data"]
    assert meta["low_light_condition"] == "as-is" and not loaded.equalizes_low_light  # eq_prob 0.5 < 1
    for k, v in st["ema"]["shadow"].items():
        assert torch.equal(loaded.net.state_dict()[k], v)
    assert export_ema(state, model) == model  # replaces the file


def test_state_file_is_small_enough_to_commit(tmp_path):
    cfg = tiny_config()
    trainer = Trainer(cfg)
    trainer.train_step(tiny_maker(cfg).make(0))  # Adam's moments exist from the first step on
    path = trainer.save(tmp_path / "s.pt")
    # model + EMA + Adam's two moments of 886,435 float32 parameters ≈ 14.2 MB
    assert path.stat().st_size < 16e6
    assert math.isclose(path.stat().st_size, 4 * 4 * 886_435, rel_tol=0.1)


# --- with the shared data --------------------------------------------------------------------------------


@pytest.mark.skipif(not TRAIN_CLEAN.is_dir(), reason="../shared/data is not available")
def test_real_photos_load_with_half_scale_copies():
    sub = TRAIN_CLEAN / "sunhays"
    photos = load_photos(sorted(sub.iterdir())[:2])
    assert len(photos) == 4 and all(p.dtype == np.uint8 and p.ndim == 3 for p in photos)
    assert photos[1].shape[0] == photos[0].shape[0] // 2


@pytest.mark.skipif(not KODAK.is_dir(), reason="../shared/data is not available")
def test_validation_cases_are_fixed_and_scored(tiny_model):
    cases = validation_set()
    assert len(cases) == 25 and [c[0] for c in cases[:5]] == list(TASKS)
    again = validation_set()
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(cases, again))
    task, clean, degraded = cases[0]
    scores = validate(tiny_model.net, [(task, clean[:32, :32], degraded[:32, :32])])
    assert set(scores) == {"low-light", "low-light/auto"}
    assert all(np.isfinite(v).all() for v in scores.values())


def test_channels_last_training_state_is_portable(tmp_path):
    """The CUDA default layout: same numbers up to rounding, and a state that loads into a contiguous model."""
    cfg = tiny_config(crop=16)
    batch = tiny_maker(cfg).make(0)
    dense, nhwc = Trainer(cfg, channels_last=False), Trainer(cfg, channels_last=True)
    loss_dense, loss_nhwc = dense.train_step(batch).item(), nhwc.train_step(batch).item()
    assert loss_nhwc == pytest.approx(loss_dense, rel=1e-4)
    path = nhwc.save(tmp_path / "s.pt")
    back = Trainer(cfg, channels_last=False)
    back.load_state_dict(read_state(path))
    assert weights_equal(back.net.state_dict(), {k: v.contiguous() for k, v in nhwc.net.state_dict().items()})
    assert all(v.is_contiguous() for v in back.ema.weights().values())


def test_pack_copies_jpegs_and_reencodes_the_rest_for_the_device(tmp_path):
    from engine.training.pack import pack

    src, dst = tmp_path / "clean", tmp_path / "packed"
    (src / "a").mkdir(parents=True)
    (src / "b").mkdir()
    photos = synthetic_photos(2)
    cv2.imwrite(str(src / "a" / "one.jpg"), photos[0][..., ::-1])
    cv2.imwrite(str(src / "b" / "two.png"), photos[1][..., ::-1])
    (dst / "stale").mkdir(parents=True)
    r = pack(src, dst)
    assert (r["photos"], r["copied"], r["reencoded"]) == (2, 1, 1)
    assert (dst / "a" / "one.jpg").read_bytes() == (src / "a" / "one.jpg").read_bytes()
    assert not (dst / "stale").exists()  # replaced, not merged
    back = load_photos(dst)
    mse = np.mean((back[1].astype(np.float64) - photos[1]) ** 2)
    assert 10 * math.log10(255**2 / mse) > 35  # the re-encoded PNG (hard synthetic edges; photos: ~49 dB)
    with pytest.raises(FileNotFoundError):
        pack(tmp_path / "empty", dst)
