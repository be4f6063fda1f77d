"""Which degradation a photo has: `detect(rgb)` → `Detection(task, confidence, scores)`.

The photo is downscaled (long side `features.WORK_SIDE`), described by `features.extract` and, when the
weights hold one, looked at by the crop network (`cropnet`, six 96×96 crops); the bundled weights
(`resources/models/hourglass-detector.safetensors`) turn that into scores, in numpy only (no torch). About
0.1 s per photo on one CPU core whatever its size, plus reading it (`bench/bench_detect.py`).
Deterministic: the same pixels give the same scores. The weights are loaded once per process and shared.
A black-and-white photo (its three channels equal, within `GRAY_TOLERANCE`, on the working copy) goes to
the weights' black-and-white classifier when they hold one (`model.DetectorWeights.gray`).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.detection.features import FEATURE_NAMES, WORK_SIDE, extract, prepare
from engine.detection.model import DetectorWeights, load
from engine.errors import ModelNotFoundError

DETECTOR_FILE = "hourglass-detector.safetensors"
CLASSES = ("low-light", "haze", "rain", "snow", "blur", "none")
MIN_SIDE = 16  # pixels: below this a photo holds too little to tell its degradation (its statistics need edges)
GRAY_TOLERANCE = 2 / 255  # largest channel difference of a black-and-white photo (a neutral JPEG decodes ±1)
# a file is read at least this large (`imaging.read_small`: a JPEG scaled down by its decoder, other formats
# shrunk before their float copy), so the working copy is still an area average of at least 2×2 read pixels
READ_SIDE = 2 * WORK_SIDE


@dataclass(frozen=True)
class Detection:
    """The detector's answer: `task` (one of `CLASSES`, "none" = already fine), its `confidence` (its
    score) and every class's score (they sum to 1)."""

    task: str
    confidence: float
    scores: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    black_and_white: bool = False  # judged by the black-and-white classifier

    def to_json(self) -> dict:
        return {"task": self.task, "confidence": self.confidence, "scores": dict(self.scores),
                "black_and_white": self.black_and_white}

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.scores.items(), key=lambda kv: -kv[1])


def detector_path() -> Path:
    """The detector weights: `$HOURGLASS_DETECTOR` if set, else the bundled file."""
    override = os.environ.get("HOURGLASS_DETECTOR")
    if override:
        return Path(override)
    from engine.models import bundled_models_dir

    return bundled_models_dir() / DETECTOR_FILE


class Detector:
    def __init__(self, weights: DetectorWeights, path: Path | None = None) -> None:
        if tuple(weights.feature_names) != FEATURE_NAMES:
            from engine.errors import ModelInvalidError

            raise ModelInvalidError("The detector weights were trained on other image features; retrain them "
                                    "(python -m engine.detection.train).")
        self.weights, self.path = weights, path

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Detector:
        p = Path(path) if path is not None else detector_path()
        if not p.is_file():
            raise ModelNotFoundError(f"The degradation detector is missing ({p}); choose the degradation "
                                     "yourself, or train it with 'python -m engine.detection.train'.")
        return cls(load(p), p)

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.weights.classes)

    def features(self, rgb: np.ndarray) -> np.ndarray:
        return extract(prepare(rgb, WORK_SIDE))

    def detect(self, rgb: np.ndarray) -> Detection:
        """Classify an H×W×3 photo (float in [0, 1], uint8 or uint16). A photo under `MIN_SIDE` pixels on
        a side is refused with `UnsupportedInputError`: its answer would be noise."""
        check_detectable(rgb)
        t0 = time.perf_counter()
        work = prepare(rgb, WORK_SIDE)
        f = extract(work)
        t1 = time.perf_counter()
        gray = self.weights.gray is not None and is_black_and_white(work)
        weights = self.weights.gray if gray else self.weights
        p = weights.probabilities(f[None])[0]
        if weights.cnn is not None:
            from engine.detection import cropnet

            p = weights.mixed(p, weights.cnn_log_probabilities(cropnet.crops(work)))
        t2 = time.perf_counter()
        scores = {c: round(float(v), 4) for c, v in zip(self.classes, p, strict=True)}
        best = int(np.argmax(p))
        return Detection(self.classes[best], scores[self.classes[best]], scores,
                         {"features": round(t1 - t0, 4), "classify": round(t2 - t1, 5)}, gray)

    def detect_file(self, path: str | os.PathLike, *, gray: bool = False) -> Detection:
        """Read a photo (any format `engine.imaging` reads, EXIF orientation applied; read small, no less than
        `READ_SIDE` a side) and classify it; `gray`: a black-and-white copy of it (the evaluation's check)."""
        from engine import imaging

        t0 = time.perf_counter()
        rgb = imaging.read_small(path, READ_SIDE)
        if gray:
            rgb = imaging.gray_copy(rgb)
        t1 = time.perf_counter()
        d = self.detect(rgb)
        return Detection(d.task, d.confidence, d.scores, {"read": round(t1 - t0, 4), **d.timings},
                         d.black_and_white)


def is_black_and_white(work: np.ndarray) -> bool:
    """Whether the working copy (float RGB) has no colour: every pixel's channels within `GRAY_TOLERANCE`."""
    spread = work.max(axis=2) - work.min(axis=2)
    return bool(spread.max() <= GRAY_TOLERANCE + 1e-6)


def check_detectable(rgb: np.ndarray) -> None:
    """Refuse a photo too small for the detector, with a message that says what to do instead."""
    h, w = np.shape(rgb)[:2]
    if min(h, w) < MIN_SIDE:
        from engine.errors import UnsupportedInputError

        raise UnsupportedInputError(f"The photo is {w}×{h} pixels, too small to tell what is wrong with it "
                                    f"(at least {MIN_SIDE}×{MIN_SIDE}); choose the degradation yourself.")


_lock = threading.Lock()
_default: dict[Path, Detector] = {}


def default_detector() -> Detector:
    """The bundled (or `$HOURGLASS_DETECTOR`) detector, loaded once per process."""
    path = detector_path()
    with _lock:
        det = _default.get(path)
        if det is None:
            det = _default[path] = Detector.load(path)
        return det


def detect(rgb: np.ndarray) -> Detection:
    """`default_detector().detect(rgb)`."""
    return default_detector().detect(rgb)


def detect_file(path: str | os.PathLike) -> Detection:
    """`default_detector().detect_file(path)`."""
    return default_detector().detect_file(path)
