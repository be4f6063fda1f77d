"""A visual comparison grid on real degraded photos: input | ours, a few photos per class.

    python -m engine.evaluation.visual_grid [--model default|NAME|PATH] [--per-class 2] [--size 384]
        [--preset best] [--data-root ../shared/data] [--out docs/eval/real_grid.jpg]

For each class folder of `real/` (low-light, haze, rain, snow, blur) the photos are listed recursively and
sorted by relative path, and `--per-class` of them are picked at evenly spaced positions
(index ⌊(k + ½)·n / per_class⌋), so the choice is fixed for a given data folder. Each is downscaled to
`--size` px on its long side (never upscaled) and restored at that size with the `--preset` quality and
its class as the task. Rows are classes; each row holds the pairs side by side, captioned with the source
file. The figure is written as JPEG (quality lowered until it fits `--max-bytes`) or PNG, by suffix.

The real photos are research-use data: only this downscaled evaluation figure goes into the docs, never
the files themselves.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from engine.evaluation.evaluate import (
    DEFAULT_DATA_ROOT,
    IMAGE_SUFFIXES,
    REPO_ROOT,
    TASKS,
    derive_seed,
    spread,
)

DEFAULT_OUT = REPO_ROOT / "docs" / "eval" / "real_grid.jpg"
DEFAULT_SIZE = 384
MAX_BYTES = 1_500_000
GAP = 6
LABEL_W = 36
HEADER_H = 30
CAPTION_H = 22
FONT = cv2.FONT_HERSHEY_SIMPLEX


def list_class_photos(folder: Path) -> list[Path]:
    """Image files under `folder`, recursively, sorted by their path relative to it."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def pick(files: Sequence[Path], k: int) -> list[Path]:
    """`k` files at evenly spaced positions ⌊(i + ½)·n/k⌋ (all of them when there are at most `k`)."""
    return spread(files, k)


def downscale(rgb: np.ndarray, size: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = size / max(h, w)
    if s >= 1:
        return np.ascontiguousarray(rgb, dtype=np.float32)
    dsize = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(rgb, dsize, interpolation=cv2.INTER_AREA).astype(np.float32)


def _to_u8(rgb: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)


def _text(canvas: np.ndarray, text: str, org: tuple[int, int], scale: float, thick: int = 1,
          colour=(0, 0, 0)) -> None:
    cv2.putText(canvas, text, org, FONT, scale, colour, thick, cv2.LINE_AA)


def _fit_text(text: str, width: int, scale: float) -> str:
    """`text`, cut from the left behind '..' until it fits `width` pixels."""
    if cv2.getTextSize(text, FONT, scale, 1)[0][0] <= width:
        return text
    while len(text) > 1 and cv2.getTextSize(".." + text, FONT, scale, 1)[0][0] > width:
        text = text[1:]
    return ".." + text


def compose(rows: list[tuple[str, list[tuple[str, np.ndarray, np.ndarray]]]], cell: int,
            labels: tuple[str, str] = ("input", "ours")) -> np.ndarray:
    """The grid as uint8 RGB. `rows`: (class, [(caption, input, output), ...]); images fit cell×cell."""
    per_row = max(len(items) for _, items in rows)
    pair_w = 2 * cell + GAP
    width = LABEL_W + per_row * pair_w + (per_row - 1) * 3 * GAP + GAP
    row_h = cell + CAPTION_H
    height = HEADER_H + len(rows) * row_h + (len(rows) - 1) * 2 * GAP + GAP
    canvas = np.full((height, width, 3), 255, np.uint8)
    for j in range(per_row):
        x0 = LABEL_W + j * (pair_w + 3 * GAP)
        for c, label in enumerate(labels):
            tw = cv2.getTextSize(label, FONT, 0.6, 1)[0][0]
            _text(canvas, label, (x0 + c * (cell + GAP) + (cell - tw) // 2, HEADER_H - 9), 0.6, 1)
    for i, (cls, items) in enumerate(rows):
        y0 = HEADER_H + i * (row_h + 2 * GAP)
        (tw, th), _ = cv2.getTextSize(cls, FONT, 0.7, 2)
        strip = np.full((th + 12, tw + 8, 3), 255, np.uint8)
        _text(strip, cls, (4, th + 4), 0.7, 2)
        strip = cv2.rotate(strip, cv2.ROTATE_90_COUNTERCLOCKWISE)
        if strip.shape[0] > cell or strip.shape[1] > LABEL_W:  # small cells: shrink the label to fit
            s = min(cell / strip.shape[0], LABEL_W / strip.shape[1])
            strip = cv2.resize(strip, (max(1, int(strip.shape[1] * s)), max(1, int(strip.shape[0] * s))),
                               interpolation=cv2.INTER_AREA)
        sh, sw = strip.shape[:2]
        ys, xs = y0 + (cell - sh) // 2, (LABEL_W - sw) // 2
        canvas[ys:ys + sh, xs:xs + sw] = strip
        for j, (caption, inp, out) in enumerate(items):
            x0 = LABEL_W + j * (pair_w + 3 * GAP)
            for c, img in enumerate((inp, out)):
                u8 = _to_u8(img)
                h, w = u8.shape[:2]
                if max(h, w) > cell:
                    s = cell / max(h, w)
                    u8 = cv2.resize(u8, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
                    h, w = u8.shape[:2]
                xc = x0 + c * (cell + GAP) + (cell - w) // 2
                yc = y0 + (cell - h) // 2
                canvas[yc:yc + h, xc:xc + w] = u8
            _text(canvas, _fit_text(caption, pair_w, 0.45), (x0, y0 + cell + 16), 0.45, 1, (60, 60, 60))
    return canvas


def write_image(rgb_u8: np.ndarray, path: Path, max_bytes: int = MAX_BYTES) -> int:
    """Write PNG or JPEG (by suffix); JPEG quality steps down from 90 until the file fits `max_bytes`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = cv2.cvtColor(rgb_u8, cv2.COLOR_RGB2BGR)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        for quality in (90, 85, 80, 75, 70, 60, 50):
            ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
            if ok and len(buf) <= max_bytes:
                break
    else:
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise OSError(f"could not encode {path}")
    path.write_bytes(buf.tobytes())
    return len(buf)


def make_grid(model, *, data_root: Path, per_class: int = 2, size: int = DEFAULT_SIZE, preset: str = "best",
              classes: Sequence[str] = TASKS) -> tuple[np.ndarray, list[dict]]:
    """Restore the picked photos with `model` (an `evaluate.Model`); returns the grid and what was used."""
    from engine.imaging import read_image

    real = data_root / "real"
    rows, used = [], []
    for cls in classes:
        folder = real / cls
        chosen = pick(list_class_photos(folder), per_class)
        if not chosen:
            print(f"no photos in {folder}; class skipped", file=sys.stderr)
            continue
        items = []
        for path in chosen:
            rel = path.relative_to(folder).as_posix()
            start = time.perf_counter()
            small = downscale(read_image(path).rgb, size)
            out = model.restore(small, preset, cls, derive_seed("real", cls, rel))
            model.net.clear()
            items.append((rel, small, out))
            used.append({"class": cls, "file": rel, "size": list(small.shape[:2]),
                         "seconds": round(time.perf_counter() - start, 2)})
            print(f"{cls}/{rel} {small.shape[1]}×{small.shape[0]}: {used[-1]['seconds']:.1f}s", file=sys.stderr,
                  flush=True)
        rows.append((cls, items))
    if not rows:
        raise FileNotFoundError(f"no real photos under {real}")
    return compose(rows, size, ("input", f"ours ({preset})")), used


def main(argv: Sequence[str] | None = None) -> int:
    from engine.evaluation.evaluate import load_eval_model
    from engine.schedule import PRESETS

    ap = argparse.ArgumentParser(prog="python -m engine.evaluation.visual_grid", description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="default", help="model name or file (default: the bundled model)")
    ap.add_argument("--per-class", type=int, default=2, help="photos per class (default 2)")
    ap.add_argument("--size", type=int, default=DEFAULT_SIZE, help=f"long side in px (default {DEFAULT_SIZE})")
    ap.add_argument("--preset", choices=tuple(PRESETS), default="best")
    ap.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .jpg or .png (default docs/eval/real_grid.jpg)")
    ap.add_argument("--max-bytes", type=int, default=MAX_BYTES, help="JPEG size cap (default 1.5 MB)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1; 0: torch's choice)")
    args = ap.parse_args(argv)
    if args.per_class < 1 or args.size < 16:
        raise SystemExit("--per-class must be ≥ 1 and --size ≥ 16")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    model = load_eval_model(args.model, args.device)
    grid, used = make_grid(model, data_root=args.data_root, per_class=args.per_class, size=args.size,
                           preset=args.preset)
    n = write_image(grid, args.out, args.max_bytes)
    print(f"wrote {args.out} ({grid.shape[1]}×{grid.shape[0]}, {n / 1e6:.2f} MB) from {len(used)} photos "
          f"with {model.file}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
