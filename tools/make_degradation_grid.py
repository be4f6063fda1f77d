"""Write docs/degradations.jpg: example outputs of every training degradation generator (or, with
`--detector`, docs/detector-degradations.jpg: the detector's extra generators).

Rows are scikit-image's bundled public-domain/CC0 photos (astronaut, coffee, chelsea), centre-cropped
and resized to 256×256 (the training crop size); columns are the clean image and the five tasks (or the
detector's generators), each degraded with a fixed seed. Needs scikit-image (a tool-time dependency only):

    .venv/bin/pip install scikit-image
    .venv/bin/python tools/make_degradation_grid.py [--detector] [--out PNG] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.training.degradations import TASKS, degrade

# the detector's own generators (engine/detection/synthetic.py), beside the training ones it also uses
DETECTOR_GENERATORS = ("dusk", "backlit", "landscape_haze", "even_haze", "rainy_day", "fine_rain", "light_snow")

THUMB = 256
HEADER = 28
GAP = 4
SOURCES = ("astronaut", "coffee", "chelsea")


def load_sources(size: int = THUMB) -> dict[str, np.ndarray]:
    """The skimage sample photos as float32 RGB, centre-cropped square and resized to size×size."""
    from skimage import data

    out = {}
    for name in SOURCES:
        img = getattr(data, name)()
        h, w = img.shape[:2]
        s = min(h, w)
        y0, x0 = (h - s) // 2, (w - s) // 2
        img = cv2.resize(img[y0 : y0 + s, x0 : x0 + s], (size, size), interpolation=cv2.INTER_AREA)
        out[name] = img.astype(np.float32) / 255.0
    return out


def _generator(name: str, detector: bool):
    """(image, seed) -> degraded image, for a task of the training generators or a detector generator."""
    if not detector:
        return lambda img, seed: degrade(img, name, seed)
    from engine.detection import synthetic

    fn = getattr(synthetic, name)
    return lambda img, seed: fn(img, np.random.default_rng(seed))


def make_grid(seed: int = 1, detector: bool = False) -> np.ndarray:
    """Return the grid as a uint8 RGB image."""
    sources = load_sources()
    cols = ("clean",) + (DETECTOR_GENERATORS if detector else TASKS)
    generators = {name: _generator(name, detector) for name in cols[1:]}
    width = len(cols) * THUMB + (len(cols) - 1) * GAP
    height = HEADER + len(sources) * THUMB + (len(sources) - 1) * GAP
    grid = np.full((height, width, 3), 255, np.uint8)
    for c, label in enumerate(cols):
        x0 = c * (THUMB + GAP)
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.7, 2)
        org = (x0 + (THUMB - tw) // 2, (HEADER + th) // 2)
        cv2.putText(grid, label, org, cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2, cv2.LINE_AA)
    for r, img in enumerate(sources.values()):
        y0 = HEADER + r * (THUMB + GAP)
        for c, task in enumerate(cols):
            x0 = c * (THUMB + GAP)
            # one fixed seed per (row, column) so the grid is reproducible and the rows differ
            out = img if task == "clean" else generators[task](img, seed * 1000 + r * 10 + c)
            grid[y0 : y0 + THUMB, x0 : x0 + THUMB] = np.round(out * 255.0).astype(np.uint8)
    return grid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", action="store_true", help="the detector's generators instead")
    parser.add_argument("--out", type=Path, default=None,
                        help="default: docs/degradations.jpg (docs/detector-degradations.jpg with --detector)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    args.out = args.out or ROOT / "docs" / ("detector-degradations.jpg" if args.detector else "degradations.jpg")
    grid = make_grid(args.seed, args.detector)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    bgr = cv2.cvtColor(grid, cv2.COLOR_RGB2BGR)
    # JPEG q92 4:4:4 (~2.5/255 RMS from the pixels): a fifth of the PNG, and the checkout must stay small
    # enough to travel to a lent GPU with the training photos (64 MiB in all)
    params = [cv2.IMWRITE_JPEG_QUALITY, 92, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    if not cv2.imwrite(str(args.out), bgr, params if args.out.suffix.lower() in (".jpg", ".jpeg") else []):
        raise SystemExit(f"could not write {args.out}")
    print(f"wrote {args.out} ({grid.shape[1]}×{grid.shape[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
