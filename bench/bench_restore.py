"""Whole-photo restores with the shipped model: the fast full-resolution path against tiling, how close the
two results are, and peak memory for a 24-megapixel photo.

    python bench/bench_restore.py [--quick] [--threads 2] [--model NAME] [--parts timing,fidelity,memory] [--json FILE]

1. Time for a 12-megapixel photo (4000×3000, `best` = 3 evaluations, task low-light): the fast path is run
   in full; full-resolution tiling is timed on a 960×960 crop (2×2 tiles of the size the engine picks on
   this CPU) and extrapolated by tile count to the 12 MP tile plan (labelled "extrapolated").
2. PSNR of the fast path against the full-resolution (tiled) result on the evaluation photos
   (`../shared/data/eval/clean`, Kodak24 and McMaster18, < 1 MP), synthetically degraded (low-light, haze).
   As the photos are small, the fast path works at a proportionally smaller size: 1/12 of the pixels (the
   ratio of a 12 MP photo to its ~1 MP working copy) and 1/4 (a 4 MP photo). Also reported: the transfer alone (the same
   upsampling fed the downscaled tiled result: the fidelity of `engine.guided` by itself), and the PSNR of
   input, tiled and fast results against the clean photo.
3. Peak memory (the high-water RSS of a child process running `restore_file` on a 24 MP JPEG, low-light; read
   from VmHWM because ru_maxrss survives execve and can report the forking parent's peak): the fast
   path with the budget the engine derives from free memory, the fast path under a 2 GiB budget
   (`HOURGLASS_MEMORY_BUDGET_MB`), and — except with --quick — full-resolution tiling with 1 step.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "data" / "eval" / "clean"
PHOTO_12MP = (3000, 4000)
PHOTO_24MP = (4000, 6000)
PARTS = ("timing", "fidelity", "memory")  # the three measurements below, in order


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """RGB PSNR in dB of float images in [0, 1]."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(1 / mse)


def read_rgb(path: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32) / 255


def eval_photos(per_set: int) -> list[str]:
    files = []
    for name in ("kodak24", "mcmaster18"):
        files += sorted(glob.glob(str(EVAL / name / "*")))[:per_set]
    return files


def big_photo(size: tuple[int, int], task: str = "low-light") -> np.ndarray:
    """A degraded photo of `size` (h, w): a Kodak photo upscaled, then the task's synthetic degradation."""
    from engine.training.degradations import degrade

    src = read_rgb(str(EVAL / "kodak24" / "kodim05.png"))
    clean = np.clip(cv2.resize(src, (size[1], size[0]), interpolation=cv2.INTER_CUBIC), 0, 1)
    return degrade(clean, task, 0)


# ---------------------------------------------------------------------------------------------- 1. timing


def time_12mp(model, quick: bool) -> dict:
    from engine.api import restore_image
    from engine.pipeline import plan_memory
    from engine.tiling import plan_tiles

    steps = 1 if quick else 3
    photo = big_photo(PHOTO_12MP)
    h, w = photo.shape[:2]
    details: dict = {}
    t0 = time.perf_counter()
    restore_image(photo, model, steps=steps, task="low-light", fullres="fast", details=details)
    fast_s = time.perf_counter() - t0
    print(f"12 MP fast path: {fast_s:.1f} s", file=sys.stderr, flush=True)
    plan = plan_memory(model.net.config, h, w, model.device)
    tile, overlap = plan.tile, 64
    side = 2 * tile - overlap  # a 2×2 tile crop
    crop = np.ascontiguousarray(photo[:side, :side])
    crop_details: dict = {}
    t0 = time.perf_counter()
    restore_image(crop, model, steps=steps, task="low-light", fullres="tiled", tile=tile, details=crop_details)
    crop_s = time.perf_counter() - t0
    crop_tiles = len(plan_tiles(side, side, tile, overlap))
    full_tiles = len(plan_tiles(h, w, tile, overlap))
    per_tile_eval = crop_s / (crop_tiles * steps)
    tiled_s = per_tile_eval * full_tiles * steps
    print(f"tiled crop {side}²: {crop_s:.1f} s → 12 MP tiled (extrapolated): {tiled_s:.0f} s", file=sys.stderr,
          flush=True)
    return {"photo": [w, h], "steps": steps, "fast_s": fast_s, "fast_details": details,
            "tiled_crop": [side, side], "tiled_crop_s": crop_s, "tile": tile, "crop_tiles": crop_tiles,
            "full_tiles": full_tiles, "tiled_s_extrapolated": tiled_s,
            "tiled_s_per_mp_extrapolated": tiled_s / (h * w / 1e6), "speedup": tiled_s / fast_s}


# -------------------------------------------------------------------------------------------- 2. fidelity


FRACTIONS = (1 / 12, 1 / 4)  # working copy / photo, in pixels: a 12 MP and a 4 MP photo restored at ~1 MP


def fidelity(model, per_set: int) -> dict:
    from engine import fastpath
    from engine.guided import guided_upsample
    from engine.pipeline import restore_array
    from engine.preprocess import preprocess
    from engine.schedule import PRESETS
    from engine.training.degradations import degrade

    times = PRESETS["best"]
    eq = model.equalizes_low_light
    rows = []
    for i, path in enumerate(eval_photos(per_set)):
        clean = read_rgb(path)
        for task in ("low-light", "haze"):
            degraded = degrade(clean, task, i)
            h, w = degraded.shape[:2]
            tiled = restore_array(model.net, degraded, times, seed=0, task=task, optimize=True, fullres="tiled",
                                  equalize=eq)
            cond = preprocess(degraded, task, equalize=eq)
            for fraction in FRACTIONS:
                work = round(h * w * fraction)
                fast = fastpath.restore_fast(model.net, degraded, times, seed=0, task=task, work_pixels=work,
                                             equalize=eq)
                lh, lw = fastpath.working_size(h, w, work)
                lo = cv2.resize(cond, (lw, lh), interpolation=cv2.INTER_AREA)
                oracle = guided_upsample(lo, cv2.resize(tiled, (lw, lh), interpolation=cv2.INTER_AREA), cond,
                                         radius=fastpath.GUIDE_RADIUS, eps=fastpath.GUIDE_EPS)
                rows.append({"photo": Path(path).name, "task": task, "fraction": fraction, "size": [w, h],
                             "work_size": [lw, lh], "fast_vs_tiled": psnr(fast, tiled),
                             "transfer_only_vs_tiled": psnr(oracle, tiled), "input_vs_clean": psnr(degraded, clean),
                             "tiled_vs_clean": psnr(tiled, clean), "fast_vs_clean": psnr(fast, clean)})
                r = rows[-1]
                print(f"{r['photo']} {task} 1/{round(1 / fraction)}: fast vs tiled {r['fast_vs_tiled']:.2f} dB "
                      f"(transfer only {r['transfer_only_vs_tiled']:.2f})", file=sys.stderr, flush=True)
    summary = []
    for task in ("low-light", "haze"):
        for fraction in FRACTIONS:
            sel = [r for r in rows if r["task"] == task and r["fraction"] == fraction]
            m = {k: float(np.mean([r[k] for r in sel])) for k in sel[0] if k.endswith(("tiled", "clean"))}
            summary.append({"task": task, "fraction": fraction, **m})
    return {"rows": rows, "mean": summary, "photos": len(rows) // (2 * len(FRACTIONS))}


# ---------------------------------------------------------------------------------------------- 3. memory


def _memory_child(args) -> int:
    """Restore one photo with restore_file and print the peak RSS (this process) with the plan."""
    import torch

    torch.set_num_threads(args.threads)
    from engine.api import RestoreOptions, restore_file
    from engine.device import memory_budget
    from engine.models import load_model

    model = load_model(args.model)
    budget = memory_budget("cpu")
    t0 = time.perf_counter()
    res = restore_file(args.child_input, args.child_output, model,
                       RestoreOptions(task="low-light", steps=args.child_steps, fullres=args.child_fullres,
                                      overwrite=True))
    # ru_maxrss survives execve on Linux (it may hold the forking parent's peak), so the figure is this
    # process image's own high-water mark, VmHWM; ru_maxrss is kept alongside.
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    peak = _vm_hwm_mb() or maxrss
    print(json.dumps({"peak_rss_mb": peak, "ru_maxrss_mb": maxrss, "budget_mb": budget / 2**20, "fullres": res.fullres,
                      "plan": res.plan, "seconds": time.perf_counter() - t0, "steps": args.child_steps}))
    return 0


def _vm_hwm_mb() -> float | None:
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM"))
    except (OSError, StopIteration):
        return None


def memory(args, quick: bool) -> dict:
    runs = [("fast", None, 3), ("fast", 2048, 3)] + ([] if quick else [("tiled", None, 1)])
    if quick:
        runs = [("fast", None, 1), ("fast", 2048, 1)]
    out = {"photo": [PHOTO_24MP[1], PHOTO_24MP[0]], "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "photo24mp.jpg"
        photo = big_photo(PHOTO_24MP)
        cv2.imwrite(str(src), cv2.cvtColor((photo * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 92])
        del photo
        for fullres, budget_mb, steps in runs:
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            env.pop("HOURGLASS_MEMORY_BUDGET_MB", None)
            if budget_mb:
                env["HOURGLASS_MEMORY_BUDGET_MB"] = str(budget_mb)
            cmd = [sys.executable, __file__, "--child-input", str(src), "--child-output", str(Path(tmp) / "out.jpg"),
                   "--child-fullres", fullres, "--child-steps", str(steps), "--threads", str(args.threads),
                   "--model", args.model]
            proc = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r["budget_source"] = f"HOURGLASS_MEMORY_BUDGET_MB={budget_mb}" if budget_mb else "derived (50% of free RAM)"
            out["runs"].append(r)
            print(f"24 MP {fullres} ({r['budget_source']}): peak RSS {r['peak_rss_mb']:.0f} MiB, budget "
                  f"{r['plan'].get('memory', {}).get('budget_mb', r['budget_mb']):.0f} MiB, {r['seconds']:.0f} s",
                  file=sys.stderr, flush=True)
    return out


# ------------------------------------------------------------------------------------------------- report


def markdown(res: dict) -> str:
    lines: list[str] = []
    if "timing" in res:
        lines += _timing_md(res["timing"])
    if "fidelity" in res:
        lines += _fidelity_md(res["fidelity"])
    if "memory" in res:
        lines += _memory_md(res["memory"])
    return "\n".join(lines).strip("\n")


def _timing_md(t: dict) -> list[str]:
    fd = t["fast_details"]
    return [(f"**12 MP photo** ({t['photo'][0]}×{t['photo'][1]}, low-light, {t['steps']} evaluation(s), shipped "
             f"DiffUIR-T): fast path {t['fast_s']:.1f} s in total (network at {fd['work_size'][0]}×"
             f"{fd['work_size'][1]}: {fd['fast_timings']['network']:.1f} s; transfer to 12 MP: "
             f"{fd['fast_timings']['transfer']:.1f} s); full-resolution tiling {t['tiled_s_extrapolated']:.0f} s "
             f"(**extrapolated**: a {t['tiled_crop'][0]}×{t['tiled_crop'][1]} crop, {t['crop_tiles']} tiles of "
             f"{t['tile']}², took {t['tiled_crop_s']:.1f} s; the 12 MP plan has {t['full_tiles']} tiles) → "
             f"**{t['speedup']:.1f}× faster**."), ""]


def _fidelity_md(f: dict) -> list[str]:
    shares = " or ".join(f"1/{round(1 / fr)}" for fr in FRACTIONS)
    lines = [(f"**Fast path vs full-resolution result** ({f['photos']} evaluation photos × 2 tasks, synthetic "
              f"degradations; the working copy holds {shares} of the photo's pixels, as a larger photo's ~1 MP copy "
              "does; RGB PSNR in dB, mean):"), "",
              ("| task | working copy | fast vs tiled | transfer only vs tiled | input vs clean | tiled vs clean "
               "| fast vs clean |"), "|---|---|---|---|---|---|---|"]
    for m in f["mean"]:
        lines.append(f"| {m['task']} | 1/{round(1 / m['fraction'])} | {m['fast_vs_tiled']:.2f} | "
                     f"{m['transfer_only_vs_tiled']:.2f} | {m['input_vs_clean']:.2f} | {m['tiled_vs_clean']:.2f} | "
                     f"{m['fast_vs_clean']:.2f} |")
    return lines + [""]


def _memory_md(m: dict) -> list[str]:
    lines = [(f"**Peak memory, {m['photo'][0]}×{m['photo'][1]} (24 MP) JPEG, low-light, `restore_file` in a child "
                  "process** (peak RSS = VmHWM, includes Python, torch and the model):"), "",
              "| path | steps | budget | engine's estimate | peak RSS | tile | time |", "|---|---|---|---|---|---|---|"]
    for r in m["runs"]:
        mem = r["plan"].get("memory", {})
        lines.append(f"| {r['fullres']} | {r['steps']} | {mem.get('budget_mb', r['budget_mb']):.0f} MiB "
                     f"({r['budget_source']}) | {mem.get('estimate_mb', float('nan')):.0f} MiB | "
                     f"{r['peak_rss_mb']:.0f} MiB | {r['plan'].get('tile')} | {r['seconds']:.0f} s |")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer photos and steps, no 24 MP tiled run")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--model", default="default")
    p.add_argument("--photos", type=int, default=None, help="evaluation photos per set (default 3; quick 1)")
    p.add_argument("--parts", default=",".join(PARTS), help="which measurements, comma-separated (default: all)")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--child-input", help=argparse.SUPPRESS)
    p.add_argument("--child-output", help=argparse.SUPPRESS)
    p.add_argument("--child-fullres", default="fast", help=argparse.SUPPRESS)
    p.add_argument("--child-steps", type=int, default=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child_input:
        return _memory_child(args)
    parts = [x.strip() for x in args.parts.split(",") if x.strip()]
    if not parts or set(parts) - set(PARTS):
        p.error(f"--parts: choose from {', '.join(PARTS)}")
    import torch

    from engine.models import load_model

    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    load_before = os.getloadavg()
    res = {"model": model.name, "model_file_mtime": os.path.getmtime(model.info.path), "threads": args.threads,
           "quick": args.quick, "loadavg_before": load_before}
    if "timing" in parts:
        res["timing"] = time_12mp(model, args.quick)
    if "fidelity" in parts:
        res["fidelity"] = fidelity(model, args.photos or (1 if args.quick else 3))
    if "memory" in parts:
        res["memory"] = memory(args, args.quick)
    res["loadavg_after"] = os.getloadavg()
    print("\n" + markdown(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
