"""Automatic degradation detection: which of low-light, haze, rain, snow, blur (or none) a photo has.

    from engine.detection import detect, detect_file
    d = detect_file("photo.jpg")      # Detection(task="haze", confidence=0.91, scores={...})

Modules: `features` (cheap image statistics), `model` (the numpy classifier and its safetensors file),
`detector` (the runtime API), `synthetic` and `dataset` (training data from clean photos), `train`, and
`evaluate` (on the real photos). Importing this package is cheap and never imports torch.
"""

from __future__ import annotations

from engine.detection.detector import (
    CLASSES,
    Detection,
    Detector,
    default_detector,
    detect,
    detect_file,
    detector_path,
)

__all__ = ["CLASSES", "Detection", "Detector", "default_detector", "detect", "detect_file", "detector_path"]
