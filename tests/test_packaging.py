"""Fast checks of the installer pieces that need no build: the spec and scripts exist and parse, the frozen
paths (engine command, resources, notices) and the launcher's dispatch before heavy imports."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spec_and_scripts_exist_and_parse():
    spec = PACKAGING / "hourglass.spec"
    text = spec.read_text()
    ast.parse(text, str(spec))
    assert "hourglass_entry.py" in text and "COLLECT(" in text and "BUNDLE(" in text
    assert "onefile" not in text.lower().replace("never --onefile", "")  # one-folder only
    assert 'tree(os.path.join(ROOT, "resources"), "resources"' in text  # where app.paths / engine.models look
    for script in ("hourglass_entry.py", "notices.py", "check_bundle.py", "smoke_deb.py", "windows/make_ico.py"):
        ast.parse((PACKAGING / script).read_text(), script)
    for script in ("build_linux.sh", "build_deb.sh", "windows/check_nsis.sh", "macos/build_dmg.sh"):
        path = PACKAGING / script
        assert path.stat().st_mode & 0o111, f"{script} is not executable"
        if shutil.which("bash"):
            assert subprocess.run(["bash", "-n", str(path)], check=False).returncode == 0, script
    assert (PACKAGING / "windows" / "hourglass.nsi").is_file()
    assert (ROOT / ".github" / "workflows" / "package.yml").is_file()
    assert (ROOT / "LICENSE").is_file()


def test_frozen_engine_command_is_the_executable_itself(monkeypatch, tmp_path):
    from app.client import launcher
    from app.models_service import cli_command

    exe = str(tmp_path / "hourglass")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", exe)
    assert launcher.engine_command() == [exe, "engine"]
    assert cli_command("models", "list") == [exe, "models", "list"]
    env = launcher.engine_env()
    assert env["HOURGLASS_PARENT_PID"]
    monkeypatch.setattr(sys, "frozen", False)
    assert launcher.engine_command()[1:] == ["-m", "engine"]


def test_frozen_resources_are_found_in_the_bundle(monkeypatch, tmp_path):
    import app.paths
    import engine.models

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "_internal"), raising=False)
    expected = tmp_path / "_internal" / "resources"
    assert app.paths.resources_dir() == expected
    assert engine.models.resources_dir() == expected
    assert engine.models.bundled_models_dir() == expected / "models"
    # the user's model folder stays in the user's data folder, never in the installation
    monkeypatch.delenv("HOURGLASS_MODELS_DIR", raising=False)
    assert not str(engine.models.user_models_dir()).startswith(str(tmp_path))


def test_entry_point_chooses_before_heavy_imports():
    """`hourglass engine …` must not load Qt; the window must not load torch (checked at hand-over)."""
    code = (
        "import sys, runpy\n"
        "import engine.cli, app.main\n"
        "seen = {}\n"
        "engine.cli.main = lambda argv: seen.setdefault('cli', ('PySide6' in sys.modules, argv)) and 0\n"
        "app.main.run_gui = lambda argv: seen.setdefault('gui', ('torch' in sys.modules, argv)) and 0\n"
        "from app.launcher import main\n"
        "main(['engine']); main(['--smoke'])\n"
        "assert seen['cli'] == (False, ['engine']), seen\n"
        "assert seen['gui'] == (False, ['--smoke']), seen\n"
    )
    r = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT,
                       timeout=60)
    assert r.returncode == 0, r.stderr


def test_entry_restores_the_users_library_path(monkeypatch):
    entry = _load("hourglass_entry", PACKAGING / "hourglass_entry.py")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/hourglass/_internal:/usr/local/lib")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/usr/local/lib")
    entry._restore_library_path()
    import os

    assert os.environ["LD_LIBRARY_PATH"] == "/usr/local/lib" and "LD_LIBRARY_PATH_ORIG" not in os.environ
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/hourglass/_internal")
    entry._restore_library_path()
    assert "LD_LIBRARY_PATH" not in os.environ


def test_notices_collect_licences(tmp_path):
    notices = _load("notices", PACKAGING / "notices.py")
    written = notices.write_notices(tmp_path / "licenses", ["numpy.core", "platformdirs"])
    names = {p.relative_to(tmp_path / "licenses").as_posix() for p in written}
    assert "LICENSE-Hourglass.txt" in names and "THIRD-PARTY-NOTICES.txt" in names
    assert any(n.startswith("numpy/") for n in names) and any(n.startswith("platformdirs/") for n in names)
    text = (tmp_path / "licenses" / "THIRD-PARTY-NOTICES.txt").read_text()
    assert "numpy" in text and "platformdirs" in text and "Python" in text


@pytest.mark.skipif(not (shutil.which("readelf") and sys.platform.startswith("linux")), reason="needs readelf")
def test_check_bundle_reads_glibc_versions_and_deb_fields():
    check = _load("check_bundle", PACKAGING / "check_bundle.py")
    libc = next((p for p in ("/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6",
                             "/lib64/libm.so.6") if Path(p).is_file()), None)
    if libc is None:
        pytest.skip("no libm.so.6 at a known path")
    versions = check.symbol_versions([Path(libc)])
    assert "GLIBC" in versions and check.vkey(versions["GLIBC"][0]) >= (2, 2)
    fields = check.deb_fields({"depends": ["libc6", "libgl1", "?libodd.so"], "glibc_min": "2.34",
                               "recommends": ["libgtk-3-0", "libwayland-client0"]})
    assert fields == {"Depends": "libc6 (>= 2.34), libgl1", "Recommends": "libwayland-client0",
                      "Suggests": "libgtk-3-0"}


def test_every_photo_type_the_engine_opens_is_offered_by_the_installers():
    """The Windows installer's "Open with" list and the Linux desktop entry name the engine's photo types
    (engine.filetypes, which the app's scan and Open dialog use directly)."""
    import re

    from engine.filetypes import PHOTO_EXTENSIONS

    nsi = (PACKAGING / "windows" / "hourglass.nsi").read_text()
    listed = set(re.findall(r'!insertmacro \$\{MACRO\} "(\.[a-z0-9]+)"', nsi))
    assert listed == PHOTO_EXTENSIONS
    deb = (PACKAGING / "build_deb.sh").read_text()
    for mime in ("image/avif", "image/x-pentax-pef", "image/x-nikon-nrw", "image/x-canon-crw", "image/x-dcraw"):
        assert mime + ";" in deb, mime
