"""Pack the clean training photos into the repository (git-ignored) for a run on a lent GPU machine.

The device tool copies the working tree, not `../shared`, and takes at most 64 MiB in all. The photos are
69 MB: BSDS500's 400 JPEGs (29 MB) and Sun-Hays' 40 PNGs (40 MB). So the JPEGs are copied byte for byte
and the PNGs re-encoded as JPEG quality 92 with full-resolution colour (4:4:4), 8.9 MB, 48.8 dB PSNR
against the PNGs on average: far below the noise of any degradation the training adds. Everything else
(the state, the training code) travels with the checkout. See training/README.md, "On a lent GPU".

    python -m engine.training.pack [--src ../shared/data/train/clean] [--dst .train-data]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import cv2

from engine.training.data import IMAGE_SUFFIXES, TRAIN_CLEAN

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DST = ROOT / ".train-data"
JPEG_QUALITY = 92
TRAVEL_LIMIT = 64 << 20  # what the device tool carries: tracked files + carried paths


def pack(src: Path = TRAIN_CLEAN, dst: Path = DEFAULT_DST) -> dict:
    """Mirror `src` into `dst` (replacing it): JPEGs as they are, other images as JPEG q92 4:4:4."""
    src, dst = Path(src), Path(dst)
    files = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no photos under {src}")
    if dst.exists():
        shutil.rmtree(dst)
    copied = encoded = 0
    for path in files:
        out = dst / path.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() in (".jpg", ".jpeg"):
            shutil.copyfile(path, out)
            copied += 1
            continue
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"cannot read {path}")
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY,
                                             cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444])
        if not ok:
            raise ValueError(f"cannot encode {path}")
        out.with_suffix(".jpg").write_bytes(buf.tobytes())
        encoded += 1
    size = sum(p.stat().st_size for p in dst.rglob("*") if p.is_file())
    return {"photos": len(files), "copied": copied, "reencoded": encoded, "bytes": size}


def tracked_bytes(root: Path = ROOT) -> int:
    """The size of the files git tracks in `root` (what the device tool sends besides carried paths)."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    return sum((root / n).stat().st_size for n in names.decode().split("\0") if n and (root / n).is_file())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", type=Path, default=TRAIN_CLEAN)
    p.add_argument("--dst", type=Path, default=DEFAULT_DST)
    args = p.parse_args(argv)
    r = pack(args.src, args.dst)
    total = r["bytes"] + tracked_bytes()
    print(f"{r['photos']} photos → {args.dst} ({r['copied']} copied, {r['reencoded']} re-encoded): "
          f"{r['bytes'] / 2**20:.1f} MiB; with the tracked files {total / 2**20:.1f} MiB of the device tool's "
          f"{TRAVEL_LIMIT >> 20} MiB")
    if total > TRAVEL_LIMIT:
        print("too large to travel: leave some photos out (--src a smaller folder)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
