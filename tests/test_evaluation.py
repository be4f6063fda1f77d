"""The evaluation package: official Y-channel metrics, classical baselines, the evaluation CLI, the grid."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from engine.evaluation import baselines as B
from engine.evaluation.metrics import psnr_y, ssim_y, tensor2img, y_channel


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The tiny images here are far too small for threads to pay off (and the CI machine is shared)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ------------------------------------------------------------------------------------------------ helpers


def smooth_image(h: int = 64, w: int = 80, seed: int = 0) -> np.ndarray:
    """A smooth colourful test image, float32 RGB in [0.1, 0.9]."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0.1, 0.9, (max(2, h // 16), max(2, w // 16), 3)).astype(np.float32)
    return np.clip(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), 0.1, 0.9)


def ref_y(rgb: np.ndarray) -> np.ndarray:
    """An independent, straightforward Y: BT.601 luma on the 0–255 scale, in float64.

    The quantisation is the official one: the product x·255 is formed in float32 (tensor2img works on a
    float32 tensor), then rounded half to even.
    """
    u8 = np.round(np.clip(rgb.astype(np.float32), 0, 1) * np.float32(255)).astype(np.float64)
    r, g, b = u8[..., 0] / 255, u8[..., 1] / 255, u8[..., 2] / 255
    return 16 + 65.481 * r + 128.553 * g + 24.966 * b


def ref_psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((ref_y(a) - ref_y(b)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def ref_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM written out: Gaussian window from its formula, edge padding, explicit sliding windows."""
    x, y = ref_y(a), ref_y(b)
    k = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5**2))
    win = np.outer(k, k) / np.outer(k, k).sum()

    def local_mean(img):
        padded = np.pad(img, 5, mode="edge")
        views = np.lib.stride_tricks.sliding_window_view(padded, (11, 11))
        return np.einsum("ijkl,kl->ij", views, win)

    mx, my = local_mean(x), local_mean(y)
    vx, vy, cxy = local_mean(x * x) - mx**2, local_mean(y * y) - my**2, local_mean(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return float(np.mean((2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))))


def random_u8_image(rng, h=40, w=52) -> np.ndarray:
    """uint8 values /255 plus a sub-quantum jitter, so rounding is exercised but never ambiguous."""
    u8 = rng.integers(0, 256, (h, w, 3))
    return np.clip((u8 + rng.uniform(-0.3, 0.3, u8.shape)) / 255, 0, 1).astype(np.float32)


# ------------------------------------------------------------------------------------------------ metrics


def test_identical_images_give_inf_psnr_and_unit_ssim():
    img = random_u8_image(np.random.default_rng(1))
    assert psnr_y(img, img.copy()) == math.inf
    assert ssim_y(img, img.copy()) == pytest.approx(1.0, abs=1e-12)


def test_known_mse_gives_known_psnr():
    a = np.full((16, 16, 3), 100 / 255, np.float32)
    b = np.full((16, 16, 3), 110 / 255, np.float32)
    # 10 grey levels in every channel move Y by 10·(65.481 + 128.553 + 24.966)/255 = 10·219/255
    expected = 20 * math.log10(255 / (2190 / 255))
    assert psnr_y(a, b) == pytest.approx(expected, abs=1e-4)
    # one pixel of 16×16 differs by 255 levels in green only: MSE = (128.553)²/256
    c = a.copy()
    d = a.copy()
    c[3, 4, 1], d[3, 4, 1] = 0.0, 1.0
    assert psnr_y(c, d) == pytest.approx(20 * math.log10(255 / math.sqrt(128.553**2 / 256)), abs=1e-4)


def test_metrics_match_an_independent_implementation():
    rng = np.random.default_rng(7)
    for _ in range(3):
        a = random_u8_image(rng)
        b = np.clip(a + rng.normal(0, 0.05, a.shape), 0, 1).astype(np.float32)
        assert psnr_y(a, b) == pytest.approx(ref_psnr(a, b), abs=1e-4)
        assert ssim_y(a, b) == pytest.approx(ref_ssim(a, b), abs=1e-6)
    clean = smooth_image()
    noisy = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1).astype(np.float32)
    assert ssim_y(noisy, clean) == pytest.approx(ref_ssim(noisy, clean), abs=1e-6)
    assert 0 < ssim_y(noisy, clean) < 0.9
    assert ssim_y(noisy, clean) == pytest.approx(ssim_y(clean, noisy), abs=1e-12)


def test_tensor2img_clamps_rounds_and_swaps_to_bgr():
    rgb = np.array([[[1.5, 0.5, -0.2]]], np.float32)
    assert tensor2img(rgb).tolist() == [[[0, 128, 255]]]  # B, G, R; 127.5 rounds half to even → 128
    assert tensor2img(np.array([[[0.25, 1.0, 0.0]]], np.float64)).tolist() == [[[0, 255, 64]]]  # 63.75 → 64
    # float32(0.9)·255 is 229.49999… exactly, but rounds to 229.5 in float32 arithmetic, then half to even
    assert tensor2img(np.full((1, 1, 3), 0.9, np.float32))[0, 0, 0] == 230
    y = y_channel(np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8))
    assert y.dtype == np.float64
    assert y[0].tolist() == pytest.approx([16.0, 235.0], abs=1e-4)


def test_metrics_reject_mismatched_shapes():
    with pytest.raises(ValueError):
        psnr_y(np.zeros((8, 8, 3), np.float32), np.zeros((8, 9, 3), np.float32))
    with pytest.raises(ValueError):
        ssim_y(np.zeros((8, 8), np.float32), np.zeros((8, 8), np.float32))


# ---------------------------------------------------------------------------------------------- baselines


@pytest.mark.parametrize("task", list(B.BASELINES))
def test_baselines_keep_shape_range_and_input(task):
    img = smooth_image(50, 70)
    before = img.copy()
    out = B.baseline(img, task)
    assert out.shape == img.shape and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    np.testing.assert_array_equal(img, before)
    np.testing.assert_array_equal(B.baseline(img, task), out)  # deterministic


def test_unknown_baseline_task():
    with pytest.raises(ValueError, match="no baseline"):
        B.baseline(smooth_image(), "denoise")


def test_guided_filter_preserves_the_guide_and_smooths_noise():
    img = smooth_image()
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    np.testing.assert_allclose(B.guided_filter(grey, grey, 4, 1e-8), grey, atol=1e-3)
    noisy = grey + np.random.default_rng(0).normal(0, 0.05, grey.shape).astype(np.float32)
    smoothed = B.guided_filter(grey, noisy, 4, 1e-2)
    assert np.abs(smoothed - grey).mean() < 0.5 * np.abs(noisy - grey).mean()


def test_low_light_baseline_brightens_and_improves():
    clean = smooth_image()
    dark = B.srgb_encode(B.srgb_decode(clean) * 0.05)
    out = B.low_light_enhance(dark)
    assert out.mean() > 3 * dark.mean()
    assert psnr_y(out, clean) > psnr_y(dark, clean) + 10


def test_dark_channel_prior_dehazes_a_synthetic_hazy_image():
    rng = np.random.default_rng(0)
    h, w = 96, 128
    blocks = rng.uniform(0.05, 0.9, (6, 8, 3)).astype(np.float32)
    blocks[np.arange(6)[:, None], np.arange(8)[None, :], rng.integers(0, 3, (6, 8))] = 0.02  # dark channel ~0
    clean = cv2.GaussianBlur(cv2.resize(blocks, (w, h), interpolation=cv2.INTER_NEAREST), (0, 0), 1.0)
    t = np.exp(-1.5 * np.linspace(1.0, 0.1, h, dtype=np.float32))[:, None, None]
    hazy = B.srgb_encode(B.srgb_decode(clean) * t + 0.85 * (1 - t))
    out = B.dark_channel_prior(hazy)
    assert psnr_y(out, clean) > psnr_y(hazy, clean) + 2
    assert ssim_y(out, clean) > ssim_y(hazy, clean) + 0.05
    dc = B.dark_channel(clean, 15)
    assert dc.shape == (h, w) and dc.max() < 0.1


def _streaked(img: np.ndarray, rng, n: int, length: int) -> np.ndarray:
    out = img.copy()
    h, w = img.shape[:2]
    for _ in range(n):
        x0, y0 = rng.integers(0, w), rng.integers(0, h - length)
        out[y0:y0 + length, x0] = np.minimum(1, out[y0:y0 + length, x0] + 0.5)
    return out


def test_rain_baseline_removes_thin_bright_streaks_better_than_a_plain_median():
    clean = smooth_image(96, 128, seed=3)
    rainy = _streaked(clean, np.random.default_rng(1), 40, 12)
    out = B.baseline(rainy, "rain")
    assert psnr_y(out, clean) > psnr_y(rainy, clean) + 10
    assert psnr_y(out, clean) > psnr_y(B.median_filter(rainy, 5), clean)


def test_snow_baseline_removes_small_flakes():
    clean = smooth_image(96, 128, seed=4)
    snowy = clean.copy()
    rng = np.random.default_rng(2)
    for _ in range(60):
        y, x = rng.integers(1, 95), rng.integers(1, 127)
        snowy[y - 1:y + 1, x - 1:x + 1] = 0.95
    out = B.baseline(snowy, "snow")
    assert psnr_y(out, clean) > psnr_y(snowy, clean) + 10


def test_blur_baseline_sharpens_a_mild_gaussian_blur():
    rng = np.random.default_rng(5)
    sharp = np.clip(cv2.resize(rng.uniform(0, 1, (24, 32, 3)).astype(np.float32), (128, 96),
                               interpolation=cv2.INTER_CUBIC), 0, 1)
    blurred = cv2.GaussianBlur(sharp, (0, 0), 1.0)
    out = B.baseline(blurred, "blur")
    assert psnr_y(out, sharp) > psnr_y(blurred, sharp) + 1
    assert np.abs(np.diff(out, axis=1)).mean() > np.abs(np.diff(blurred, axis=1)).mean()


# ---------------------------------------------------------------------------------------------- evaluate


def _write(path, rgb):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8), cv2.COLOR_RGB2BGR))


@pytest.fixture()
def fake_data(tmp_path):
    """The shared data layout in miniature: clean sets, the four paired sets, and real/<class>."""
    root = tmp_path / "data"
    _write(root / "eval/clean/kodak24/kodim01.png", smooth_image(40, 48, 1))
    _write(root / "eval/clean/kodak24/kodim02.png", smooth_image(48, 40, 2))
    _write(root / "eval/clean/mcmaster18/1.tif", smooth_image(40, 40, 3))
    paired = root / "eval/paired"
    for name, deg, cln, dname, cname in (("rain100h", "rain", "clean", "1.png", "1.png"),
                                         ("rain100l_mini", "rain", "clean", "a_1.png", "a_1.png"),
                                         ("sots_outdoor_mini", "hazy", "gt", "0001_0.8_0.2.jpg", "0001.png")):
        clean = smooth_image(24, 32, len(name))
        _write(paired / name / cln / cname, clean)
        _write(paired / name / deg / dname, np.clip(clean * 0.7 + 0.25, 0, 1))
    sharp = smooth_image(26, 30, 9)
    _write(paired / "gopro_mini_deblurgan/sharp/test1.jpg", sharp)
    _write(paired / "gopro_mini_deblurgan/blur/test1.jpg", cv2.GaussianBlur(sharp[:24], (0, 0), 1.0))
    for k, cls in enumerate(("low-light", "haze", "rain", "snow", "blur")):
        for j in range(3):
            _write(root / "real" / cls / "sub" / f"{j}.png", smooth_image(30 + 4 * j, 44, 10 * k + j))
    return root


def test_evaluate_end_to_end_with_the_tiny_model(fake_data, tiny_model_path, tmp_path, capsys):
    from engine.evaluation import evaluate

    out = tmp_path / "out"
    rc = evaluate.main(["--model", str(tiny_model_path), "--presets", "fast", "--paired-presets", "fast",
                        "--crop", "32", "--data-root", str(fake_data), "--out", str(out)])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    md = (out / "results.md").read_text()
    syn, par = res["synthetic"], res["paired"]
    assert syn["counts"] == {"kodak24": 2, "mcmaster18": 1}
    assert len(syn["records"]) == 3 * 5
    assert all(r["size"] == [32, 32] for r in syn["records"])
    assert set(syn["means"]) == {"input", "baseline", "ours-fast"}
    for m in syn["means"].values():
        assert all(m[t]["n"] == 3 and 0 < m[t]["ssim"] <= 1 and m[t]["psnr"] > 0 for t in evaluate.TASKS)
    assert set(par["sets"]) == {"rain100h", "rain100l_mini", "sots_outdoor_mini", "gopro_mini_deblurgan"}
    assert par["sets"]["gopro_mini_deblurgan"]["sizes"] == [[24, 30]]  # cropped to the common size
    assert par["sets"]["sots_outdoor_mini"]["count"] == 1  # matched 0001_0.8_0.2.jpg to 0001.png
    assert res["protocol"]["model"]["file"] == "tiny-t.safetensors"
    assert res["protocol"]["timing"]["network_calls"] == 15 + 4
    import cv2
    import torch

    assert res["protocol"]["libraries"]["opencv"] == cv2.__version__  # the baselines' scores depend on it
    assert res["protocol"]["libraries"]["torch"] == torch.__version__
    assert f"opencv {cv2.__version__}" in md
    assert res["acceptance"] == []  # no `best` rows: nothing to check
    assert "| ours, `fast` |" in md and "| degraded input |" in md and "Rain100H" in md
    assert "tiny-t.safetensors" in md and "training steps: unknown" in md
    assert "- Presets: synthetic fast; paired fast (network" in md
    assert "ours, `fast`" in capsys.readouterr().out


def test_clean_part_scores_undegraded_crops_against_themselves(fake_data, tiny_model_path, tmp_path):
    from engine.evaluation import evaluate

    out = tmp_path / "out"
    rc = evaluate.main(["--model", str(tiny_model_path), "--presets", "fast,balanced", "--parts", "clean",
                        "--crop", "32", "--data-root", str(fake_data), "--out", str(out)])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    cln = res["clean"]
    assert "synthetic" not in res and "paired" not in res
    assert cln["counts"] == {"kodak24": 2, "mcmaster18": 1} and len(cln["records"]) == 3
    assert set(cln["means"]) == {"ours-fast", "ours-balanced"}
    for m, v in cln["means"].items():
        psnrs = [r["scores"][m]["psnr"] for r in cln["records"]]
        assert v["n"] == 3 and v["min_psnr"] == min(psnrs) <= v["psnr"]
    # each score is the restored crop against the crop itself, with the seed the record names
    model = evaluate.load_eval_model(str(tiny_model_path))
    rec = cln["records"][0]
    crop = evaluate.centre_crop(evaluate.read_rgb(fake_data / "eval/clean/kodak24" / rec["photo"]), 32)
    again = evaluate.score(model.restore(crop, "fast", "auto", rec["seed"]), crop)
    assert again == rec["scores"]["ours-fast"]
    md = (out / "results.md").read_text()
    assert "## Photos that need nothing" in md and "| ours, `balanced` |" in md
    assert "Synthetic degradations" not in md and "## Baselines" not in md
    assert "- Clean: up to 4 photos per set" in md and "kodak24: kodim01.png, kodim02.png" in md
    assert "- Presets: clean fast, balanced (network evaluation times:" in md  # only the parts that ran
    with pytest.raises(SystemExit, match="cannot run with --no-model"):
        evaluate.main(["--no-model", "--parts", "clean", "--data-root", str(fake_data), "--out", str(out)])


def test_evaluate_is_deterministic_and_skips_the_model_on_request(fake_data, tmp_path):
    from engine.evaluation import evaluate

    kw = {"data_root": fake_data, "out_dir": None, "model": None, "presets": ["best"], "paired_presets": ["best"],
          "crop": 32, "parts": ["synthetic"]}
    a = evaluate.evaluate(**kw)
    b = evaluate.evaluate(**kw, limit=1)
    assert set(a["synthetic"]["means"]) == {"input", "baseline"}
    assert a["protocol"]["model"] is None
    assert "torch" not in a["protocol"]["libraries"]  # no model, no torch
    assert a["synthetic"]["photos"] == {"kodak24": ["kodim01.png", "kodim02.png"], "mcmaster18": ["1.tif"]}
    assert b["synthetic"]["photos"] == {"kodak24": ["kodim02.png"], "mcmaster18": ["1.tif"]}  # evenly spaced
    assert a["protocol"]["validation_limit"] is None
    wide = {**a, "protocol": {**a["protocol"], "split": "validation", "limit": 4, "validation_limit": 0}}
    assert "**validation split**: all the photos of each set that the test split (4 per set)" in \
        evaluate.render_markdown(wide)
    picked = [r for r in a["synthetic"]["records"] if r["photo"] in ("kodim02.png", "1.tif")]
    assert picked == b["synthetic"]["records"]
    assert evaluate.derive_seed("kodak24", "kodim01.png", "rain") == evaluate.derive_seed("kodak24", "kodim01.png",
                                                                                          "rain")
    assert evaluate.derive_seed("kodak24", "kodim01.png", "rain") != evaluate.derive_seed("kodak24", "kodim01.png",
                                                                                          "snow")
    # SHA-256 based, so the value is fixed for ever: pin it
    assert evaluate.derive_seed("a") == int.from_bytes(bytes.fromhex("ca978112"), "little") & 0x7FFFFFFF
    out = tmp_path / "nomodel"
    assert evaluate.main(["--no-model", "--parts", "paired", "--data-root", str(fake_data), "--out", str(out)]) == 0
    md = (out / "results.md").read_text()
    assert "No trained model" in md and "Synthetic" not in md and "ours," not in md


def test_memo_net_is_bit_identical_and_shares_the_first_call(tiny_model):
    from engine.evaluation.evaluate import MemoNet
    from engine.pipeline import restore_array
    from engine.schedule import PRESETS

    img = smooth_image(24, 40)
    memo = MemoNet(tiny_model.net)
    for preset, times in PRESETS.items():
        plain = restore_array(tiny_model.net, img, times, seed=3, task="haze", tile=1024)
        cached = restore_array(memo, img, times, seed=3, task="haze", tile=1024)
        np.testing.assert_array_equal(plain, cached, err_msg=preset)
    assert memo.calls == 4 and memo.hits == 2


def test_helpers_crop_and_match(tmp_path):
    from engine.evaluation.evaluate import centre_crop, common_crop, match_pairs

    img = np.arange(10 * 12 * 3, dtype=np.float32).reshape(10, 12, 3)
    np.testing.assert_array_equal(centre_crop(img, 4), img[3:7, 4:8])
    assert centre_crop(img, 0) is img and centre_crop(img, 100).shape == img.shape
    a, b = common_crop(img, img[:8])
    assert a.shape == b.shape == (8, 12, 3)
    for name in ("deg/0002_0.9_0.1.jpg", "deg/x.png", "gt/0002.png", "gt/y.png"):
        _write(tmp_path / name, smooth_image(8, 8))
    assert [(d.name, c.name) for d, c in match_pairs(tmp_path / "deg", tmp_path / "gt")] == [
        ("0002_0.9_0.1.jpg", "0002.png")]


def test_validation_split_never_overlaps_the_test_photos():
    from engine.evaluation.evaluate import select_photos, spread

    kodak = [f"kodim{i:02d}" for i in range(1, 25)]
    test = select_photos(kodak, 4)
    assert test == spread(kodak, 4) == ["kodim04", "kodim10", "kodim16", "kodim22"]
    val = select_photos(kodak, 4, "validation")
    assert len(val) == 4 and not set(val) & set(test)
    assert select_photos(kodak, 4, "validation") == val  # fixed
    with pytest.raises(ValueError, match="validation split"):
        select_photos(kodak, 0, "validation")  # the test split takes them all
    with pytest.raises(ValueError, match="unknown split"):
        select_photos(kodak, 4, "train")


def test_wide_validation_split_takes_every_photo_the_test_split_leaves():
    from engine.evaluation.evaluate import select_photos

    kodak = [f"kodim{i:02d}" for i in range(1, 25)]
    test = select_photos(kodak, 4)
    wide = select_photos(kodak, 4, "validation", validation_limit=0)
    assert sorted(wide + test) == kodak and not set(wide) & set(test)
    assert set(select_photos(kodak, 4, "validation")) < set(wide)  # the narrow split is part of the wide one
    assert len(select_photos(kodak, 4, "validation", validation_limit=10)) == 10
    with pytest.raises(ValueError, match="validation_limit"):
        select_photos(kodak, 4, "validation", validation_limit=-1)


# ------------------------------------------------------------------------------------------- visual grid


def test_visual_grid_end_to_end(fake_data, tiny_model_path, tmp_path):
    from engine.evaluation import visual_grid

    files = [f"f{i}" for i in range(10)]
    assert visual_grid.pick(files, 2) == ["f2", "f7"] and visual_grid.pick(files[:1], 2) == ["f0"]
    out = tmp_path / "grid.jpg"
    assert visual_grid.main(["--model", str(tiny_model_path), "--per-class", "2", "--size", "32",
                             "--preset", "fast", "--data-root", str(fake_data), "--out", str(out)]) == 0
    grid = cv2.imread(str(out))
    cell, gap = 32, visual_grid.GAP
    assert grid.shape[1] == visual_grid.LABEL_W + 2 * (2 * cell + gap) + 3 * gap + gap
    assert grid.shape[0] == visual_grid.HEADER_H + 5 * (cell + visual_grid.CAPTION_H) + 4 * 2 * gap + gap
    png = tmp_path / "grid.png"
    assert visual_grid.write_image(np.zeros((8, 8, 3), np.uint8), png) > 0 and png.read_bytes()[:4] == b"\x89PNG"
