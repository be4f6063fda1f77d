"""The alternatives "Compare with" offers: every single change of model, quality or degradation."""

from __future__ import annotations

from app.comparisons import GROUPS, alternatives, current_model_name
from engine import protocol as P

BUNDLED = P.ModelEntry("hourglass-diffuir-t", "/b/hourglass-diffuir-t.safetensors", "bundled", 1, "T", True)
IMPORTED = P.ModelEntry("diffuir-L", "/u/diffuir-L.safetensors", "user", 2, "L")


def test_the_default_model_is_named_and_the_other_models_offered():
    assert current_model_name([BUNDLED, IMPORTED], "default") == "hourglass-diffuir-t"
    assert current_model_name([], "default") == "Bundled model"
    models = [a for a in alternatives([BUNDLED, IMPORTED], "default", "best", "haze") if a.group == "Model"]
    assert [(a.label, a.current, a.changes, a.setting) for a in models] == [
        ("diffuir-L", "hourglass-diffuir-t", {"model": "diffuir-L"}, ("model", "diffuir-L"))]
    back = [a for a in alternatives([BUNDLED, IMPORTED], "diffuir-L", "best", "haze") if a.group == "Model"]
    assert [(a.label, a.setting) for a in back] == [("hourglass-diffuir-t", ("model", "default"))]
    assert not [a for a in alternatives([BUNDLED], "default", "best", "haze") if a.group == "Model"]


def test_qualities_and_degradations_other_than_the_current_ones():
    choices = alternatives([BUNDLED], "default", "best", "haze")
    assert {a.group for a in choices} <= set(GROUPS)
    quality = [a for a in choices if a.group == "Quality"]
    assert [a.changes for a in quality] == [{"quality": "fast"}, {"quality": "balanced"}]
    assert {a.current for a in quality} == {"Best (3 steps)"}
    tasks = [a for a in choices if a.group == "Degradation"]
    assert [a.changes["task"] for a in tasks] == ["low-light", "rain", "snow", "blur"]  # never auto or none
    assert {a.current for a in tasks} == {"Haze"}
    undecided = [a for a in alternatives([BUNDLED], "default", "fast", "auto") if a.group == "Degradation"]
    assert len(undecided) == 5 and undecided[0].current == "Auto"
    for a in choices:  # every change is a valid job option
        P.JobOptions(**a.changes)
