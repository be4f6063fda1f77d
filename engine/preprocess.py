"""Task-dependent pre-processing of the degraded input, as the official code does it (spec §6.1).

Low-light inputs are histogram-equalised per channel (cv2.equalizeHist on the 8-bit image) before they
condition the network; the other tasks use the input as it is. `auto` means "no special pre-processing"
until the detector resolves it to a task.
"""

from __future__ import annotations

import numpy as np

TASKS = ("auto", "none", "low-light", "haze", "rain", "snow", "blur")


def equalize_hist(rgb: np.ndarray) -> np.ndarray:
    """Per-channel histogram equalisation of float32 RGB in [0, 1]; returns float32 in [0, 1]."""
    import cv2

    from engine.imaging import to_uint8  # the official rounding, floor(x·255 + 0.5), in one place

    u8 = to_uint8(rgb)
    out = np.stack([cv2.equalizeHist(np.ascontiguousarray(u8[..., c])) for c in range(3)], axis=-1)
    return out.astype(np.float32) / 255


def check_task(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return task


def preprocess(rgb: np.ndarray, task: str) -> np.ndarray:
    """The network's condition image for `task` (float32 H×W×3 in [0, 1])."""
    if check_task(task) == "low-light":
        return equalize_hist(rgb)
    return rgb
