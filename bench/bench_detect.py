"""Degradation detector speed: seconds per photo at several photo sizes, split into the downscale, the
image statistics and the classifier, plus reading a JPEG of that size (one CPU thread).

    python bench/bench_detect.py [--sizes 0.3,2,12] [--repeat 5] [--json FILE]     (or: make bench-detect)

Uses the bundled weights (resources/models/hourglass-detector.safetensors) on a sample photo resized to each
size; the cost of the statistics does not depend on the size (they run on a ≤384 px copy), the downscale
does. Prints a Markdown table of medians.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "samples" / "coffee_haze.jpg"


def photo(megapixels: float) -> np.ndarray:
    """The sample photo resized to about `megapixels` (3:2), float32 RGB in [0, 1]."""
    img = cv2.imread(str(SAMPLE), cv2.IMREAD_COLOR)[..., ::-1]
    w = round((megapixels * 1e6 * 1.5) ** 0.5)
    h = round(w / 1.5)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255


def main(argv: list[str] | None = None) -> int:
    from engine.detection import Detector
    from engine.detection.features import WORK_SIDE, extract, prepare

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="0.3,2,12", help="photo sizes in megapixels")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)
    cv2.setNumThreads(1)
    det = Detector.load()
    rows = []
    for mp in (float(s) for s in args.sizes.split(",")):
        rgb = photo(mp)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "photo.jpg"
            cv2.imwrite(str(path), np.round(rgb[..., ::-1] * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 92])
            det.detect_file(path)  # warm-up
            t = {"downscale": [], "features": [], "classify": [], "total": [], "read": []}
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                work = prepare(rgb, WORK_SIDE)
                t1 = time.perf_counter()
                f = extract(work)
                t2 = time.perf_counter()
                det.weights.probabilities(f[None])
                t3 = time.perf_counter()
                t["downscale"].append(t1 - t0)
                t["features"].append(t2 - t1)
                t["classify"].append(t3 - t2)
                t["total"].append(t3 - t0)
                t["read"].append(det.detect_file(path).timings["read"])
        row = {"megapixels": mp, "width": rgb.shape[1], "height": rgb.shape[0],
               **{f"{k}_s": statistics.median(v) for k, v in t.items()}}
        rows.append(row)
        print(f"{mp} MP: {row['total_s'] * 1000:.0f} ms", file=sys.stderr, flush=True)
    machine = f"{platform.processor() or platform.machine()}, one thread"
    print(f"\nDetector speed ({machine}; median of {args.repeat}; `read` = decoding the JPEG with "
          "engine.imaging.read_image, which restoring does anyway)\n")
    print("| photo | downscale | statistics | classifier | detection total | read JPEG |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['width']}×{r['height']} ({r['megapixels']:g} MP) | {r['downscale_s'] * 1000:.0f} ms | "
              f"{r['features_s'] * 1000:.0f} ms | {r['classify_s'] * 1000:.2f} ms | {r['total_s'] * 1000:.0f} ms | "
              f"{r['read_s'] * 1000:.0f} ms |")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
