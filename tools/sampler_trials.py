"""Inference-time trials on the validation split: can the sampler alone buy quality without more training?

Two trials, each restoring the synthetic validation crops (the photos `evaluate --split validation` uses,
256² centre crops, the same degradations and seeds) with the optimised path:

- `times`: other lists of network evaluation times than the presets (more steps, other late times);
- `ensemble`: geometric self-ensemble, the mean of the restorations of the 8 flips/transposes of the crop
  (first 1, 2, 4 and 8 of them).

Prints PSNR (Y, dB) per task and the mean; `--json` keeps the per-photo figures. Not part of the app: it
answers a question for the model card (`docs/eval/sampler-trials-2026-12-06.md`).

    .venv/bin/python tools/sampler_trials.py times --photos 6 [--model FILE] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.evaluation.evaluate import (
    DEFAULT_CROP,
    DEFAULT_DATA_ROOT,
    DEFAULT_LIMIT,
    _table,
    centre_crop,
    clean_photos,
    derive_seed,
    read_rgb,
    score,
)
from engine.models import load_model
from engine.pipeline import restore_array
from engine.preprocess import equalizes_low_light
from engine.schedule import PRESETS, stock_times
from engine.training.degradations import TASKS, degrade

TIME_LISTS = {
    "fast": PRESETS["fast"], "balanced": PRESETS["balanced"], "best": PRESETS["best"],
    "stock 5": stock_times(5), "stock 10": stock_times(10),
    "999-500-250": (999, 500, 250), "999-332-100": (999, 332, 100), "999-800-332": (999, 800, 332),
    "999-665-200": (999, 665, 200), "999-665-332-100": (999, 665, 332, 100),
}


def dihedral(a: np.ndarray, k: int, inverse: bool = False) -> np.ndarray:
    """The k-th (0..7) of the 8 flips/transposes of an H×W×C array, or its inverse."""
    ops = [(4, lambda x: x.transpose(1, 0, 2)), (1, lambda x: x[:, ::-1]), (2, lambda x: x[::-1])]
    for bit, op in reversed(ops) if inverse else ops:
        if k & bit:
            a = op(a)
    return np.ascontiguousarray(a)


def restorations(net, degraded, task, seed, trial, equalize) -> dict[str, np.ndarray]:
    def run(img, times):
        return restore_array(net, img, times, seed=seed, task=task, optimize=True, equalize=equalize)

    if trial == "times":
        return {name: run(degraded, times) for name, times in TIME_LISTS.items()}
    outs = [dihedral(run(dihedral(degraded, k), PRESETS["best"]), k, inverse=True) for k in range(8)]
    return {f"best × {n}": np.mean(outs[:n], axis=0) for n in (1, 2, 4, 8)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trial", choices=("times", "ensemble"))
    parser.add_argument("--model", default="default")
    parser.add_argument("--photos", type=int, default=6, help="validation photos per clean set (0: all)")
    parser.add_argument("--crop", type=int, default=DEFAULT_CROP)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_ROOT)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = load_model(args.model, "cpu")
    equalize = equalizes_low_light(dict(model.info.metadata))
    records, start = [], time.perf_counter()
    for set_name, path in clean_photos(args.data, DEFAULT_LIMIT, "validation", args.photos):
        clean = centre_crop(read_rgb(path), args.crop)
        for task in TASKS:
            seed = derive_seed(set_name, path.name, task)
            degraded = degrade(clean, task, seed)
            outs = {"input": degraded, **restorations(model.net, degraded, task, seed, args.trial, equalize)}
            records.append({"photo": f"{set_name}/{path.name}", "task": task,
                            "psnr": {k: score(v, clean)["psnr"] for k, v in outs.items()}})
        print(f"{set_name}/{path.name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    methods = list(records[0]["psnr"])
    means = {m: {t: float(np.mean([r["psnr"][m] for r in records if r["task"] == t])) for t in TASKS}
             for m in methods}
    print(f"{len(records) // len(TASKS)} photos × {len(TASKS)} tasks, model {model.info.path.name}")
    rows = [[m] + [f"{means[m][t]:.2f}" for t in TASKS] + [f"{np.mean(list(means[m].values())):.2f}"]
            for m in methods]
    print("\n".join(_table(["method", *TASKS, "mean"], rows)))
    if args.json:
        args.json.write_text(json.dumps({"model": model.info.path.name, "records": records}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
