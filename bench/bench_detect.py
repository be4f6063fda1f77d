"""Degradation detector speed: seconds per photo at several sizes and formats, read in full then detected
(what restoring a photo already decoded would cost) against `detect_file`, which reads it small (a JPEG
scaled down by its decoder, any other format shrunk before its float copy; one CPU thread), and whether
both give the same answer.

    python bench/bench_detect.py [--sizes 0.3,2,12,24] [--formats jpeg,png,tiff16] [--repeat 5] [--json FILE]
    (or: make bench-detect)

Uses the bundled weights (resources/models/hourglass-detector.safetensors) on a sample photo resized to each
size; the statistics and classifiers cost the same at any size (they run on a ≤384 px copy), the decoding
and the downscale do not. Prints a Markdown table of medians.
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


FORMATS = {"jpeg": "JPEG q92", "png": "PNG 8-bit", "tiff16": "TIFF 16-bit"}


def save(rgb: np.ndarray, folder: Path, fmt: str) -> Path:
    """The photo as a file of that format (OpenCV writes 16-bit TIFFs, which Pillow cannot)."""
    bgr8 = np.round(rgb[..., ::-1] * 255).astype(np.uint8)
    if fmt == "jpeg":
        path = folder / "photo.jpg"
        cv2.imwrite(str(path), bgr8, [cv2.IMWRITE_JPEG_QUALITY, 92])
    elif fmt == "png":
        path = folder / "photo.png"
        cv2.imwrite(str(path), bgr8)
    elif fmt == "tiff16":
        path = folder / "photo.tif"
        cv2.imwrite(str(path), np.round(rgb[..., ::-1] * 65535).astype(np.uint16))
    else:
        raise SystemExit(f"unknown format {fmt!r}; use {', '.join(FORMATS)}")
    return path


def main(argv: list[str] | None = None) -> int:
    from engine import imaging
    from engine.detection import Detector

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="0.3,2,12,24", help="photo sizes in megapixels")
    p.add_argument("--formats", default="jpeg,png,tiff16", help=f"of {', '.join(FORMATS)}")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)
    cv2.setNumThreads(1)
    det = Detector.load()
    rows = []
    for fmt, mp in ((f, float(s)) for f in args.formats.split(",") for s in args.sizes.split(",")):
        rgb = photo(mp)
        with tempfile.TemporaryDirectory() as tmp:
            path = save(rgb, Path(tmp), fmt)
            det.detect_file(path)  # warm-up
            t: dict[str, list[float]] = {"full_read": [], "full_detect": [], "full_total": [], "small_read": [],
                                         "small_detect": [], "small_total": []}
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                full = imaging.read_image(path).rgb
                t1 = time.perf_counter()
                a = det.detect(full)
                t2 = time.perf_counter()
                b = det.detect_file(path)  # the app's analysis and `hourglass detect`: a JPEG decoded small
                t3 = time.perf_counter()
                t["full_read"].append(t1 - t0)
                t["full_detect"].append(t2 - t1)
                t["full_total"].append(t2 - t0)
                t["small_read"].append(b.timings["read"])
                t["small_detect"].append(t3 - t2 - b.timings["read"])
                t["small_total"].append(t3 - t2)
        row = {"format": fmt, "megapixels": mp, "width": rgb.shape[1], "height": rgb.shape[0], "same_task": a.task == b.task,
               "largest_score_difference": max(abs(a.scores[k] - b.scores[k]) for k in a.scores),
               **{f"{k}_s": statistics.median(v) for k, v in t.items()}}
        row["speedup"] = row["full_total_s"] / row["small_total_s"]
        rows.append(row)
        print(f"{fmt} {mp} MP: {row['small_total_s'] * 1000:.0f} ms ({row['speedup']:.1f}×)", file=sys.stderr, flush=True)
    machine = f"{platform.processor() or platform.machine()}, one thread"
    print(f"\nDetector speed per photo ({machine}; median of {args.repeat}). Full: decoded in full "
          "(engine.imaging.read_image), then detected; small: `detect_file`, which reads the photo small "
          "(imaging.read_small: a JPEG scaled down by its decoder, other formats shrunk before their float copy), "
          "as the app's analysis and `hourglass detect` do\n")
    print("| photo | format | full: read | full: detect | full: total | small: read | small: detect | small: total | "
          "speed-up | same answer (largest score difference) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ms = {k: f"{r[k] * 1000:.0f} ms" for k in r if k.endswith("_s")}
        print(f"| {r['width']}×{r['height']} ({r['megapixels']:g} MP) | {FORMATS[r['format']]} | {ms['full_read_s']} | {ms['full_detect_s']} | "
              f"{ms['full_total_s']} | {ms['small_read_s']} | {ms['small_detect_s']} | {ms['small_total_s']} | "
              f"{r['speedup']:.1f}× | {'yes' if r['same_task'] else 'NO'} ({r['largest_score_difference']:.4f}) |")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
