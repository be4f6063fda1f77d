"""Task-dependent pre-processing of the degraded input, as the official code does it (spec §6.1).

Low-light inputs are histogram-equalised per channel (cv2.equalizeHist on the 8-bit image) before they
condition the network, for models trained that way (the official ones); the other tasks use the input as it
is. A model file says which low-light condition it expects in its `low_light_condition` metadata
("equalized", the default when absent, or "as-is": our own model restores dark photos better from the
photo itself). `auto` means "no special pre-processing" until the detector resolves it to a task.
"""

from __future__ import annotations

import numpy as np

TASKS = ("auto", "none", "low-light", "haze", "rain", "snow", "blur")
LOW_LIGHT_CONDITIONS = ("equalized", "as-is")


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


def low_light_condition(metadata: dict) -> str:
    """The low-light condition a model with this file metadata expects (see the docstring); checked."""
    condition = metadata.get("low_light_condition", "equalized")
    if condition not in LOW_LIGHT_CONDITIONS:
        raise ValueError(f"unknown low_light_condition {condition!r} in the model's metadata; "
                         f"expected one of {', '.join(LOW_LIGHT_CONDITIONS)}")
    return condition


def equalizes_low_light(metadata: dict) -> bool:
    """Whether a model with this file metadata expects equalised low-light conditions."""
    return low_light_condition(metadata) == "equalized"


def preprocess(rgb: np.ndarray, task: str, *, equalize: bool = True) -> np.ndarray:
    """The network's condition image for `task` (float32 H×W×3 in [0, 1]); `equalize=False` keeps low-light
    photos as they are (for models trained on them so)."""
    if check_task(task) == "low-light" and equalize:
        return equalize_hist(rgb)
    return rgb
