"""Stand-in detector weights for tests: a classifier that always answers one class, whatever the photo.

Real photos' answers depend on the trained model; these make `auto` resolution testable exactly (and fast).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def stub_weights(task: str, confidence: float = 0.9):
    """Detector weights that give `task` the score `confidence` and split the rest over the other classes."""
    from engine.detection.detector import CLASSES
    from engine.detection.features import FEATURE_NAMES
    from engine.detection.model import DetectorWeights

    n = len(FEATURE_NAMES)
    rest = (1 - confidence) / (len(CLASSES) - 1)
    bias = np.array([np.log(confidence if c == task else rest) for c in CLASSES], np.float32)
    return DetectorWeights(CLASSES, FEATURE_NAMES, np.zeros(n, np.float32), np.ones(n, np.float32),
                           [[(np.zeros((n, len(CLASSES)), np.float32), bias)]], 1.0, {"stub": task})


def write_stub_detector(path: Path, task: str, confidence: float = 0.9) -> Path:
    stub_weights(task, confidence).save(path)
    return path
