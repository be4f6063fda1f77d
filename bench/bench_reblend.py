"""Saving a restored photo again at a lower strength (`engine.reblend`) against restoring it again.

    .venv/bin/python bench/bench_reblend.py [--qualities fast best] [--megapixels 12]

1. Fidelity, on the hazy sample with the bundled model: the photo restored at 100% and saved again at 60%
   from that result, against the photo restored and saved at 60% directly, per output format (PSNR and the
   largest difference, in 8-bit steps).
2. Time, in one run: a low-light JPEG of `--megapixels` (the sample enlarged) restored with each quality
   preset, then saved again at 60% from its result; their ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.api import RestoreOptions, restore_file
from engine.models import load_model
from engine.reblend import reblend_file

SAMPLES = ROOT / "resources" / "samples"


def _pixels(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED).astype(np.float64)


def fidelity(model, work: Path) -> None:
    print("| format | PSNR, saved again vs saved directly at 60% | largest difference (of 255) |")
    print("|---|---|---|")
    src = SAMPLES / "coffee_haze.jpg"
    for fmt in ("PNG", "TIFF", "JPEG"):
        ext = {"PNG": ".png", "TIFF": ".tif", "JPEG": ".jpg"}[fmt]
        opts = {"quality": "fast", "task": "haze", "format": fmt}
        restore_file(src, work / f"full{ext}", model, RestoreOptions(**opts))
        restore_file(src, work / f"direct{ext}", model, RestoreOptions(**opts, strength=0.6))
        reblend_file(src, work / f"full{ext}", work / f"again{ext}", 1.0, 0.6)
        a, b = _pixels(work / f"again{ext}"), _pixels(work / f"direct{ext}")
        mse = ((a - b) ** 2).mean()
        psnr = 10 * np.log10(255**2 / mse) if mse else float("inf")
        print(f"| {fmt} | {psnr:.1f} dB | {np.abs(a - b).max():.0f} |")


def timing(model, work: Path, qualities: list[str], megapixels: float) -> None:
    w = round((megapixels * 1e6 * 4 / 3) ** 0.5)
    h = round(w * 3 / 4)
    src = work / "big.jpg"
    Image.open(SAMPLES / "astronaut_low-light.jpg").resize((w, h), Image.LANCZOS).save(src, quality=92)
    print(f"\n{w}×{h} low-light JPEG\n")
    print("| quality | restore (path) | save again at 60% | ratio |")
    print("|---|---|---|---|")
    for quality in qualities:
        t = time.perf_counter()
        r = restore_file(src, work / f"full-{quality}.jpg", model, RestoreOptions(quality=quality, task="low-light"))
        restore_s = time.perf_counter() - t
        t = time.perf_counter()
        reblend_file(src, work / f"full-{quality}.jpg", work / f"again-{quality}.jpg", 1.0, 0.6)
        again_s = time.perf_counter() - t
        print(f"| {quality} | {restore_s:.1f} s ({r.fullres}) | {again_s:.2f} s | {restore_s / again_s:.0f}× |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qualities", nargs="+", default=["fast", "best"], choices=["fast", "balanced", "best"])
    parser.add_argument("--megapixels", type=float, default=12.0)
    args = parser.parse_args()
    model = load_model("default", device="cpu")
    with tempfile.TemporaryDirectory(prefix="bench-reblend-") as tmp:
        fidelity(model, Path(tmp))
        timing(model, Path(tmp), args.qualities, args.megapixels)


if __name__ == "__main__":
    main()
