"""The process boundary holds: app never imports torch, engine never imports Qt or app."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT = {"PySide6", "qasync", "shiboken6", "PyQt5", "PyQt6"}
TORCH = {"torch", "safetensors"}


def _imports(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                yield path, [a.name.split(".")[0] for a in node.names], [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, [node.module.split(".")[0]], [node.module]


def test_engine_never_imports_qt_or_app():
    bad = [(p.name, m) for p, tops, _ in _imports("engine") for m in tops if m in QT | {"app"}]
    assert not bad


# The launcher is the program's entry point: for command-line subcommands (and the frozen engine) it hands
# over to engine.cli before Qt is imported; the GUI branch never reaches that import.
SANCTIONED = {("launcher.py", "engine.cli")}
# The engine modules the GUI may import: standard library only, so they load neither torch nor numpy.
APP_MAY_IMPORT = frozenset({"engine.protocol", "engine.errors", "engine.filetypes", "engine.batch_time",
                            "engine.fullres_rule",
                            "engine.keep_awake", "engine.cicp", "engine.icc_profiles", "engine.wording"})


def test_app_never_imports_torch_or_engine_internals():
    bad = []
    for path, tops, full in _imports("app"):
        for top, name in zip(tops, full):
            if (path.name, name) in SANCTIONED:
                continue
            if top in TORCH or (top == "engine" and name not in {"engine", *APP_MAY_IMPORT}):
                bad.append((path.name, name))
    assert not bad


@pytest.mark.parametrize("module", sorted(APP_MAY_IMPORT))
def test_modules_the_app_imports_do_not_load_numpy(module):
    code = f"import sys, {module}; sys.exit(1 if 'numpy' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0, f"importing {module} loads numpy"


@pytest.mark.parametrize("module", ["engine", *sorted(APP_MAY_IMPORT), "engine.cli"])
def test_light_modules_do_not_load_torch(module):
    code = f"import sys, {module}; sys.exit(1 if 'torch' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0, f"importing {module} loads torch"
