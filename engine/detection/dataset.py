"""The detector's synthetic data set: feature vectors (and small pixel crops) of labelled synthetic photos.

Built once from the clean training photos and cached as an `.npz` (a few minutes per thousand samples on
one core; `workers` processes in parallel). Sample (photo p, class c, variant v) is a pure function of
(seed, p, c, v), so the data set does not depend on the number of workers or the order of the work.
Photos with index ≡ 0 (mod `holdout_every`) are held out: their samples only serve model selection.
"""

from __future__ import annotations

import hashlib
import logging
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.detection.features import N_FEATURES, extract
from engine.detection.synthetic import CLASSES, sample

log = logging.getLogger("engine.detection.dataset")

CROP = 96  # side of the pixel crops stored per sample (working-copy resolution)
CROPS_PER_SAMPLE = 2
FORMAT = 6  # bump when synthesis or features change, so stale caches are not reused


@dataclass
class DataSet:
    features: np.ndarray  # (N, N_FEATURES) float32
    crops: np.ndarray  # (N, CROPS_PER_SAMPLE, CROP, CROP, 3) uint8
    labels: np.ndarray  # (N,) int64 index into CLASSES
    photo: np.ndarray  # (N,) int64 photo index
    heldout: np.ndarray  # (N,) bool
    gray: np.ndarray | None = None  # (N,) bool: a black-and-white sample (None: none are)

    def __post_init__(self) -> None:
        if self.gray is None:
            self.gray = np.zeros(len(self.labels), bool)

    def split(self, heldout: bool) -> DataSet:
        m = self.heldout == heldout
        return DataSet(self.features[m], self.crops[m], self.labels[m], self.photo[m], self.heldout[m], self.gray[m])


def _random_crops(work: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    import cv2

    h, w = work.shape[:2]
    if min(h, w) < CROP:
        f = CROP / min(h, w)
        work = cv2.resize(work, (max(CROP, round(w * f)), max(CROP, round(h * f))), interpolation=cv2.INTER_CUBIC)
        h, w = work.shape[:2]
    out = np.empty((CROPS_PER_SAMPLE, CROP, CROP, 3), np.uint8)
    for i in range(CROPS_PER_SAMPLE):
        y, x = int(rng.integers(0, h - CROP + 1)), int(rng.integers(0, w - CROP + 1))
        out[i] = np.round(np.clip(work[y:y + CROP, x:x + CROP], 0, 1) * 255).astype(np.uint8)
    return out


def _photo_job(args: tuple[int, Path, int, int, bool]) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """All samples of one photo: (photo index, features, crops, labels)."""
    from engine.training.data import read_rgb
    from engine.training.degradations import tune_malloc

    tune_malloc()
    index, path, variants, seed, gray = args
    photo = read_rgb(path)
    feats, crops, labels = [], [], []
    for c, label in enumerate(CLASSES):
        for v in range(variants):
            # gray samples have their own streams, so adding them leaves the colour ones as they were
            rng = np.random.default_rng([seed, index, c, v, 1] if gray else [seed, index, c, v])
            work = sample(photo, label, rng, gray=gray)
            feats.append(extract(work))
            crops.append(_random_crops(work, rng))
            labels.append(c)
    return index, np.stack(feats), np.stack(crops), np.asarray(labels, np.int64)


def cache_key(paths: list[Path], variants: int, seed: int, gray: bool = False) -> str:
    h = hashlib.sha256(f"{FORMAT}|{variants}|{seed}|{N_FEATURES}|{CLASSES}{'|gray' if gray else ''}".encode())
    for p in paths:
        h.update(str(p.name).encode())
    return h.hexdigest()[:12]


def build(paths: list[Path], *, variants: int, seed: int, holdout_every: int = 10, workers: int = 1,
          cache_dir: Path | None = None, gray_variants: int = 0) -> DataSet:
    """The data set for these clean photos, from the cache when it is there: `variants` colour samples per
    photo and class, then `gray_variants` black-and-white ones (each part cached on its own)."""
    ds = _build_part(paths, variants=variants, seed=seed, holdout_every=holdout_every, workers=workers,
                     cache_dir=cache_dir, gray=False)
    if gray_variants <= 0:
        return ds
    g = _build_part(paths, variants=gray_variants, seed=seed, holdout_every=holdout_every, workers=workers,
                    cache_dir=cache_dir, gray=True)
    g.gray[:] = True
    return DataSet(*(np.concatenate([a, b]) for a, b in zip(
        (ds.features, ds.crops, ds.labels, ds.photo, ds.heldout, ds.gray),
        (g.features, g.crops, g.labels, g.photo, g.heldout, g.gray), strict=True)))


def _build_part(paths: list[Path], *, variants: int, seed: int, holdout_every: int, workers: int,
                cache_dir: Path | None, gray: bool) -> DataSet:
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"detect-data-{cache_key(paths, variants, seed, gray)}.npz"
        if cache.exists():
            with np.load(cache) as z:
                log.info("data set from cache %s", cache)
                return DataSet(z["features"], z["crops"], z["labels"], z["photo"], z["heldout"])
    t0 = time.perf_counter()
    jobs = [(i, p, variants, seed, gray) for i, p in enumerate(paths)]
    results = []
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for n, r in enumerate(pool.map(_photo_job, jobs, chunksize=4), 1):
                results.append(r)
                if n % 20 == 0:
                    log.info("%d/%d photos, %.0f s", n, len(jobs), time.perf_counter() - t0)
    else:
        for n, job in enumerate(jobs, 1):
            results.append(_photo_job(job))
            if n % 20 == 0:
                log.info("%d/%d photos, %.0f s", n, len(jobs), time.perf_counter() - t0)
    results.sort(key=lambda r: r[0])
    photo = np.concatenate([np.full(len(r[3]), r[0], np.int64) for r in results])
    ds = DataSet(np.concatenate([r[1] for r in results]), np.concatenate([r[2] for r in results]),
                 np.concatenate([r[3] for r in results]), photo, photo % holdout_every == 0)
    log.info("built %d samples in %.0f s", len(ds.labels), time.perf_counter() - t0)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, features=ds.features, crops=ds.crops, labels=ds.labels, photo=ds.photo, heldout=ds.heldout)
        tmp.replace(cache)
    return ds
