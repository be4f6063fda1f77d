"""What "Compare with" can set against the current settings on the visible area: another model, another
quality preset or another degradation. Each is a change to the preview job's options, with the labels of
both sides of the divider. Qt-free, so it is unit-tested directly.

Photographers ask to compare models side by side (peers.md, request 13); with only the bundled model the
quality presets and the degradation (when the detector may have guessed wrong) are the useful comparisons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.settings import QUALITIES, TASK_LABELS
from engine import protocol as P

GROUPS = ("Model", "Quality", "Degradation")
RESTORE_TASKS = tuple(t for t in P.TASKS if t not in ("auto", "none"))  # the tasks a model restores


@dataclass(frozen=True)
class Alternative:
    group: str  # one of GROUPS
    label: str  # the menu entry and the right-hand side's label
    current: str  # the left-hand side's label: the same setting as it is now
    changes: dict = field(default_factory=dict)  # JobOptions fields of the right-hand preview
    setting: tuple[str, str] = ("", "")  # what "Use" applies: ("model" | "quality" | "task", value)


def current_model_name(models: Sequence[P.ModelEntry], model: str) -> str:
    """The name of the model the settings choose ("default": the engine's default, the bundled one)."""
    if model == "default":
        return next((m.name for m in models if m.default), "Bundled model")
    return model


def alternatives(models: Sequence[P.ModelEntry], model: str, quality: str, task: str) -> list[Alternative]:
    """Every single change to (model, quality, task) that a comparison can show, grouped as GROUPS.

    `task` is the photo's effective task ("auto" when neither the user nor the detector has chosen one).
    """
    out = []
    now = current_model_name(models, model)
    for m in models:
        if m.name != now:
            setting = "default" if m.default else m.name  # what Settings.model holds for it
            out.append(Alternative("Model", m.name, now, {"model": m.name}, ("model", setting)))
    quality_now = QUALITIES.get(quality, quality)
    for key, label in QUALITIES.items():
        if key != quality:
            out.append(Alternative("Quality", label, quality_now, {"quality": key}, ("quality", key)))
    task_now = TASK_LABELS.get(task, task)
    for key in RESTORE_TASKS:
        if key != task:
            out.append(Alternative("Degradation", TASK_LABELS[key], task_now, {"task": key}, ("task", key)))
    return out
