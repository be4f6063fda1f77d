"""Write the sample photos that ship with the app (resources/samples/).

Sources are scikit-image's bundled images only, chosen because they are redistributable:
astronaut (public domain, NASA), coffee (CC0, Rachel Michetti) and chelsea (CC0, Stefan van der Walt).
Each is degraded with our own generators (engine.training.degradations) at a fixed seed, so the output
is reproducible. Needs scikit-image at tool time only (it is not a runtime dependency):

    .venv/bin/pip install scikit-image
    .venv/bin/python tools/make_samples.py [--out resources/samples]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.training.degradations import degrade

MAX_SIDE = 512
JPEG_QUALITY = 92

# (source image, task, seed): seeds picked by eye for a clearly degraded but restorable example
SAMPLES = (
    ("astronaut", "low-light", 2),
    ("coffee", "haze", 4),
    ("chelsea", "rain", 6),
    ("astronaut", "snow", 2),
    ("coffee", "blur", 6),
)

LICENCES = {
    "astronaut": "public domain, NASA",
    "coffee": "CC0, Rachel Michetti",
    "chelsea": "CC0, Stefan van der Walt",
}


def load(name: str) -> np.ndarray:
    """A scikit-image sample as float32 RGB in [0, 1], downscaled so its longer side is <= MAX_SIDE."""
    from skimage import data

    img = getattr(data, name)()
    h, w = img.shape[:2]
    f = min(1.0, MAX_SIDE / max(h, w))
    if f < 1.0:
        img = cv2.resize(img, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    return img.astype(np.float32) / 255.0


def write_jpeg(path: Path, img: np.ndarray) -> None:
    u8 = np.round(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY, cv2.IMWRITE_JPEG_OPTIMIZE, 1]
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise SystemExit(f"could not encode {path}")
    path.write_bytes(buf.tobytes())


README = """\
# Sample photos

Degraded example photos that ship with Hourglass so that the app can be tried without one's own
pictures. Each file is `<source>_<task>.jpg`:

| file | source image (licence) | degradation |
|---|---|---|
{rows}

## Sources and licences

All sources are scikit-image's bundled sample images (`skimage.data`), which are redistributable:

- `astronaut`: public domain, NASA (`skimage.data.astronaut()`, astronaut Eileen Collins).
- `coffee`: CC0, Rachel Michetti (`skimage.data.coffee()`).
- `chelsea`: CC0, Stefan van der Walt (`skimage.data.chelsea()`).

## How they were made

`tools/make_samples.py` loads each source (downscaled to at most {max_side} px on the longer side),
degrades it with Hourglass's own synthetic generators in `engine/training/degradations.py` at a fixed
seed, and saves a JPEG at quality {quality}. No other images are used. Run it again to reproduce the
files:

    .venv/bin/pip install scikit-image
    .venv/bin/python tools/make_samples.py
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "samples")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, task, seed in SAMPLES:
        img = load(name)
        out = degrade(img, task, seed)
        path = args.out / f"{name}_{task}.jpg"
        write_jpeg(path, out)
        size_kb = path.stat().st_size / 1024
        print(f"wrote {path} ({out.shape[1]}×{out.shape[0]}, {size_kb:.0f} KB)")
        rows.append(f"| `{path.name}` | `{name}` ({LICENCES[name]}) | {task}, seed {seed} |")
    readme = README.format(rows="\n".join(rows), max_side=MAX_SIDE, quality=JPEG_QUALITY)
    (args.out / "README.md").write_text(readme, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
