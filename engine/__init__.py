"""Hourglass engine: DiffUIR models, sampling, tiling and imaging (never imports Qt).

Importing `engine` is cheap: the public API below is resolved lazily, so the worker and the CLI decide
what to import (torch is heavy) only when it is needed.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = {
    "load_model": "engine.api",
    "restore_image": "engine.api",
    "restore_file": "engine.api",
    "RestoreOptions": "engine.api",
    "CancelToken": "engine.pipeline",
    "StepInfo": "engine.pipeline",
    "read_image": "engine.imaging",
    "write_image": "engine.imaging",
    "detect": "engine.detection",
    "detect_file": "engine.detection",
}

__all__ = ["CancelToken", "RestoreOptions", "StepInfo", "__version__", "detect", "detect_file", "load_model",
           "read_image", "restore_file", "restore_image", "write_image"]


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
