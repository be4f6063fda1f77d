"""Does reading a photo small change the detector's answer? Every detector test photo (`../shared/data/real`
and the clean evaluation photos) enlarged 4× and saved as JPEG, PNG or 16-bit TIFF, detected from a full
read and through `detect_file` (which reads it small: `engine.imaging.read_small`).

    python bench/bench_detect_agreement.py [--formats jpeg,png,tiff16] [--data-root ../shared/data]

Prints one JSON object per format: photos, same answer, the largest and mean score difference, the photos
whose answer changed (with both answers' top two scores), and the median seconds per photo both ways.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_detect import save  # the same file writers as the speed benchmark


def top2(scores: dict) -> list:
    return sorted(((round(v, 3), k) for k, v in scores.items()), reverse=True)[:2]


def main(argv: list[str] | None = None) -> int:
    from engine import imaging
    from engine.detection import Detector
    from engine.filetypes import natural_key

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--formats", default="jpeg,png,tiff16")
    p.add_argument("--data-root", type=Path, default=ROOT.parent / "shared" / "data")
    args = p.parse_args(argv)
    cv2.setNumThreads(1)
    det = Detector.load()
    paths = sorted((p for p in args.data_root.glob("real/*/*/*") if p.is_file()), key=lambda p: natural_key(str(p)))
    paths += sorted((p for p in args.data_root.glob("eval/clean/*/*") if p.is_file()), key=lambda p: natural_key(str(p)))
    if not paths:
        raise SystemExit(f"no test photos under {args.data_root}")
    for fmt in args.formats.split(","):
        same, diffs, changed, t_full, t_small = 0, [], [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            for path in paths:
                rgb = imaging.read_image(path).rgb
                big = cv2.resize(rgb, (rgb.shape[1] * 4, rgb.shape[0] * 4), interpolation=cv2.INTER_CUBIC)
                out = save(np.clip(big, 0, 1), Path(tmp), fmt)
                t0 = time.perf_counter()
                a = det.detect(imaging.read_image(out).rgb)
                t1 = time.perf_counter()
                b = det.detect_file(out)
                t_full.append(t1 - t0)
                t_small.append(time.perf_counter() - t1)
                same += a.task == b.task
                diffs.append(max(abs(a.scores[k] - b.scores[k]) for k in a.scores))
                if a.task != b.task:
                    changed.append({"photo": str(path.relative_to(args.data_root)), "full": top2(a.scores),
                                    "small": top2(b.scores)})
        print(json.dumps({"format": fmt, "photos": len(paths), "same_task": same,
                          "largest_score_difference": round(max(diffs), 4),
                          "mean_score_difference": round(float(np.mean(diffs)), 4), "changed": changed,
                          "median_full_s": round(float(np.median(t_full)), 3),
                          "median_small_s": round(float(np.median(t_small)), 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
