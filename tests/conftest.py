"""Shared fixtures: tiny random-weight models, the golden files, an isolated model folder."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Most tests restore random-noise or flat photos with task "auto": keep them independent of what the
# degradation detector thinks of those (a flat photo may look "already fine" and be skipped). Engines started
# by tests inherit this. Detection tests use the `bundled_detector` fixture.
NO_DETECTOR = str(Path(__file__).resolve().parent / "no-detector-in-tests.safetensors")
os.environ["HOURGLASS_DETECTOR"] = NO_DETECTOR

import pytest
from model_helpers import random_state_dict

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
GOLDEN = SHARED / "spec" / "golden"


EXIT_GUARD_S = float(os.environ.get("HOURGLASS_TEST_EXIT_GUARD_S", "120"))
# pytest-timeout (300 s, pyproject) fails a test from Python; a test stuck where Python cannot run (its GUI
# thread waiting for the GIL a blocked thread holds) ignores it and would hang the run until CI's limit.
TEST_GUARD_S = float(os.environ.get("HOURGLASS_TEST_GUARD_S", "330"))


def _terminal_stderr(config) -> int:
    """The run's own stderr, not the file pytest captures a test's output into (and drops on exit): a copy of
    it, made once, as pytest's faulthandler plugin does."""
    if not hasattr(config, "_hourglass_stderr"):
        import sys

        config._hourglass_stderr = os.dup(sys.__stderr__.fileno())
    return config._hourglass_stderr


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item):
    """Past `TEST_GUARD_S` in one test, print every thread's stack and exit with status 1, from C (it works
    while Python cannot). Replaces pytest's own `faulthandler_timeout`, which prints and goes on waiting."""
    import faulthandler

    faulthandler.dump_traceback_later(TEST_GUARD_S, exit=True, file=_terminal_stderr(item.config))
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config) -> None:
    """Once the tests are done, give the interpreter `EXIT_GUARD_S` to exit, then print every thread's
    stack and exit with status 1. A thread left blocked by a test (an executor, a reader) would otherwise
    hang the run after its last test, where pytest-timeout no longer watches, until CI kills it."""
    import faulthandler
    import sys

    faulthandler.dump_traceback_later(EXIT_GUARD_S, exit=True, file=sys.__stderr__)


@pytest.fixture(autouse=True)
def _isolated_models_dir(tmp_path_factory, monkeypatch):
    """Never read or write the developer's real model folder; never hold the developer's computer awake
    (each command-line restore would ask logind; the keep-awake tests turn it back on)."""
    monkeypatch.setenv("HOURGLASS_MODELS_DIR", str(tmp_path_factory.mktemp("user-models")))
    monkeypatch.setenv("HOURGLASS_KEEP_AWAKE", "0")


@pytest.fixture
def stub(tmp_path, monkeypatch):
    """`stub(task)` makes the active detector one that always answers `task` (exact answers for `auto`)."""
    from detector_helpers import write_stub_detector

    def use(task: str) -> Path:
        path = write_stub_detector(tmp_path / f"stub-{task}.safetensors", task)
        monkeypatch.setenv("HOURGLASS_DETECTOR", str(path))
        return path

    return use


@pytest.fixture
def bundled_detector(monkeypatch) -> Path:
    """The shipped detector weights (resources/models), made the active detector for this test."""
    from engine.detection.detector import DETECTOR_FILE
    from engine.models import bundled_models_dir

    path = bundled_models_dir() / DETECTOR_FILE
    if not path.is_file():
        pytest.skip(f"{path} is missing (train it: make train-detect)")
    monkeypatch.setenv("HOURGLASS_DETECTOR", str(path))
    return path


@pytest.fixture(scope="session")
def golden() -> Path:
    if not GOLDEN.is_dir():
        pytest.skip("../shared/spec/golden is not available")
    return GOLDEN


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    """A random-weight DiffUIR-T saved as our safetensors format."""
    from engine.checkpoints import Checkpoint, save_safetensors
    from engine.network import VARIANTS

    path = tmp_path_factory.mktemp("models") / "tiny-t.safetensors"
    save_safetensors(Checkpoint(random_state_dict("T"), "T", VARIANTS["T"], "state_dict"), path)
    return path


@pytest.fixture(scope="session")
def tiny_model(tiny_model_path):
    from engine.models import load_model

    return load_model(tiny_model_path, device="cpu")
