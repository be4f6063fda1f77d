"""Training data: clean photos decoded once into memory, random crops, synthetic degradations, prefetching.

Every batch is a pure function of (seed, batch index): the crops, flips, degradation parameters and
equalisation choices of batch k come from a numpy Generator seeded with (seed, k). So the "data sampler
state" is just the next batch index, resuming is exact by construction, and batches can be prepared in
background threads in any order (numpy and cv2 release the GIL while they work).

Task mix: sample i of batch k gets task TASKS[(k·B + i) mod 5], so every batch of at least 5 holds every
task and the counts stay balanced over batches. Low-light samples are histogram-equalised (the condition
DiffUIR uses for LOL, and what inference does for task=low-light) with probability `eq_prob`, and left
as they are otherwise (what inference feeds with task=auto); the target is the clean crop either way.
`--tasks` may also name `none` (training only): the clean crop is both condition and target, so the model
learns to leave a photo that needs nothing as it is (bright, high-key photos otherwise read as haze).

Feature scale: a crop is a window of a photo, so its rain streaks and snow flakes should have the size
they have on photos, not the size the generators give a 96 px image (half that of a 256 px one). With
`feature_scale=(lo, hi)` each rain and snow sample draws its scale log-uniformly in that range (1 = a
256 px crop, as `make eval` degrades; Rain100H's 480×320 photos are 1.5). `rain_max_density` raises the
top of rain's density range (`engine.training.degradations.rain`). The defaults (None, 3) keep the
original stream of random draws, so old training states resume unchanged.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.preprocess import equalize_hist
from engine.training.degradations import RAIN_MAX_DENSITY, TASKS, _logu, degrade

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TRAIN_CLEAN = SHARED_DATA / "train" / "clean"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
HALF_SCALE_MIN_SIDE = 600  # photos at least this large (Sun-Hays, ~1024×768) are also kept at half size
BLUR_MARGIN = 16  # blur kernels are at most 31 px: blur a larger crop and cut this margin off each side
_STREAM_DATA = 0xDA7A


def find_photos(roots: str | Path | Sequence[str | Path] = TRAIN_CLEAN) -> list[Path]:
    """Image files under the given folders (recursively), sorted so that the order is reproducible."""
    roots = [roots] if isinstance(roots, (str, Path)) else list(roots)
    files = []
    for root in map(Path, roots):
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files += [p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
        else:
            raise FileNotFoundError(f"training data folder '{root}' does not exist")
    return sorted(set(files))


def read_rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"cannot decode '{path}'")
    return np.ascontiguousarray(img[..., ::-1])


def load_photos(roots: str | Path | Sequence[str | Path] = TRAIN_CLEAN, *,
                half_scale_min_side: int = HALF_SCALE_MIN_SIDE) -> list[np.ndarray]:
    """Decode every photo once into uint8 H×W×3 RGB arrays (about 280 MB for the 440 training photos).

    Photos whose shorter side is at least `half_scale_min_side` are also added downscaled by 2 (area
    interpolation): a 128-px crop of a 1024-px photo is mostly smooth, the half-size copy shows the same
    scene at the scale of the 481×321 BSDS photos and of typical inference tiles.
    """
    files = find_photos(roots)
    if not files:
        raise FileNotFoundError(f"no images found under {roots}")
    photos = []
    for path in files:
        img = read_rgb(path)
        photos.append(img)
        h, w = img.shape[:2]
        if min(h, w) >= half_scale_min_side:
            photos.append(cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA))
    return photos


@dataclass
class Batch:
    """x_in: the network's condition, x0: the clean target; both float32 (B, 3, H, W) in [-1, 1]."""

    index: int
    x_in: np.ndarray
    x0: np.ndarray
    tasks: list[str]
    equalized: list[bool]


def batch_tasks(index: int, batch: int, tasks: Sequence[str] = TASKS) -> list[str]:
    """Round-robin task assignment that continues across batches."""
    return [tasks[(index * batch + i) % len(tasks)] for i in range(batch)]


def _random_crop(img: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    if h < size or w < size:  # only for tiny photos or huge crops: upscale just enough
        s = size / min(h, w)
        img = cv2.resize(img, (max(size, round(w * s)), max(size, round(h * s))), interpolation=cv2.INTER_CUBIC)
        h, w = img.shape[:2]
    y = int(rng.integers(0, h - size + 1))
    x = int(rng.integers(0, w - size + 1))
    return img[y:y + size, x:x + size]


IDENTITY = "none"  # a training-only task: the clean crop is its own condition
TRAIN_TASKS = (*TASKS, IDENTITY)


class BatchMaker:
    """Makes batch k from the in-memory photos; `make(k)` is deterministic and thread-safe."""

    def __init__(self, photos: Sequence[np.ndarray], *, batch: int, crop: int, seed: int,
                 eq_prob: float = 0.5, tasks: Sequence[str] = TASKS,
                 feature_scale: tuple[float, float] | None = None, rain_max_density: float = RAIN_MAX_DENSITY):
        if not photos:
            raise ValueError("no training photos")
        for p in photos:
            if p.dtype != np.uint8 or p.ndim != 3 or p.shape[2] != 3:
                raise ValueError("photos must be uint8 H×W×3 RGB arrays")
        unknown = [t for t in tasks if t not in TRAIN_TASKS]
        if unknown:
            raise ValueError(f"unknown task(s) {unknown}; expected some of {TRAIN_TASKS}")
        if crop < 16:
            raise ValueError("crop must be at least 16 pixels (the network pads to a multiple of 16)")
        self.photos = list(photos)
        self.batch, self.crop, self.seed = int(batch), int(crop), int(seed)
        self.eq_prob = float(eq_prob)
        self.tasks = tuple(tasks)
        if feature_scale is not None:
            lo, hi = (float(v) for v in feature_scale)
            if not 0.1 <= lo <= hi <= 10.0:
                raise ValueError(f"feature_scale must be (lo, hi) with 0.1 <= lo <= hi <= 10, got {feature_scale!r}")
            feature_scale = (lo, hi)
        self.feature_scale = feature_scale
        self.rain_max_density = float(rain_max_density)

    def rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, _STREAM_DATA, int(index)])

    def sample(self, task: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, bool]:
        """One (degraded condition, clean) pair of float32 crop×crop×3 in [0, 1]."""
        margin = BLUR_MARGIN if task == "blur" else 0
        img = self.photos[int(rng.integers(len(self.photos)))]
        patch = _random_crop(img, self.crop + 2 * margin, rng)
        if rng.random() < 0.5:  # horizontal flips only: haze and rain/snow have an up and a down
            patch = patch[:, ::-1]
        clean = patch.astype(np.float32) * np.float32(1 / 255)
        options = {"max_density": self.rain_max_density} if task == "rain" else {}
        if task in ("rain", "snow") and self.feature_scale is not None:
            options["scale"] = _logu(rng, *self.feature_scale)
        degraded = clean.copy() if task == IDENTITY else degrade(clean, task, rng, **options)
        if margin:
            clean = clean[margin:-margin, margin:-margin]
            degraded = degraded[margin:-margin, margin:-margin]
        equalized = task == "low-light" and rng.random() < self.eq_prob
        if equalized:
            degraded = equalize_hist(degraded)
        return degraded, clean, equalized

    def make(self, index: int) -> Batch:
        rng = self.rng(index)
        tasks = batch_tasks(index, self.batch, self.tasks)
        shape = (self.batch, 3, self.crop, self.crop)
        x_in = np.empty(shape, np.float32)
        x0 = np.empty(shape, np.float32)
        equalized = []
        for i, task in enumerate(tasks):
            degraded, clean, eq = self.sample(task, rng)
            x_in[i] = degraded.transpose(2, 0, 1)
            x0[i] = clean.transpose(2, 0, 1)
            equalized.append(eq)
        x_in = x_in * 2 - 1
        x0 = x0 * 2 - 1
        return Batch(int(index), x_in, x0, tasks, equalized)


class Prefetcher:
    """Yields batches start, start+1, … in order, prepared `depth` ahead by `workers` threads."""

    def __init__(self, maker: BatchMaker, start: int, *, workers: int = 1, depth: int = 2):
        self.maker = maker
        self.next_index = int(start)
        self.depth = max(1, int(depth), int(workers))
        self._pool = ThreadPoolExecutor(max_workers=max(1, int(workers)), thread_name_prefix="batches")
        self._queue: deque = deque()
        self._lock = threading.Lock()
        self._submitted = self.next_index
        for _ in range(self.depth):
            self._submit()

    def _submit(self) -> None:
        self._queue.append(self._pool.submit(self.maker.make, self._submitted))
        self._submitted += 1

    def next(self) -> Batch:
        with self._lock:
            future = self._queue.popleft()
            self._submit()
        batch = future.result()
        self.next_index = batch.index + 1
        return batch

    def close(self) -> None:
        for f in self._queue:
            f.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
