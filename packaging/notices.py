#!/usr/bin/env python3
"""Licence files and third-party notices for the frozen bundle (stdlib only).

Used two ways:

* from `packaging/hourglass.spec` (any OS): `write_notices(dest, modules)` copies our LICENSE, Python's
  licence, the Qt/PySide6 LGPL notice and texts, and the licence files of every Python distribution whose
  modules went into the bundle (found from the module names), and writes `THIRD-PARTY-NOTICES.txt`;
* after a Linux build: `python packaging/notices.py system-libs BUNDLE` adds the Debian copyright files of the
  system libraries PyInstaller copied from the build host (`dpkg -S` on the host's copy of each library).
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LICENSE_NAME = re.compile(r"(^|/)(licen[cs]e|copying|notice|authors|third[-_]party)[^/]*$", re.IGNORECASE)
OURS = {"hourglass"}

QT_NOTICE = """\
Qt and PySide6 (Qt for Python)
==============================

Hourglass uses Qt {qt} and PySide6 {pyside} by The Qt Company Ltd and other contributors, under the GNU
Lesser General Public License version 3 (LGPL-3.0-only; texts in LGPL-3.0.txt and GPL-3.0.txt beside this
file). The Qt and PySide6 libraries are shipped unmodified as separate shared libraries inside the
installation folder (Linux: _internal/PySide6/Qt/lib and _internal/PySide6/*.so; Windows: _internal/PySide6/*.dll;
macOS: Contents/Frameworks/PySide6). You may replace them with your own compatible build of the same
version; the application loads whatever is in that folder.

Source code: Qt https://download.qt.io/official_releases/qt/ and https://code.qt.io/cgit/qt/ ;
PySide6/Shiboken6 https://code.qt.io/cgit/pyside/pyside-setup.git/ (tag v{pyside}). On request we provide
the exact source of these components for at least three years from the release of this installer.
"""


def _dist_version(name: str) -> str:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "?"


def distributions_for(modules: list[str] | set[str]) -> dict[str, md.Distribution]:
    """The installed distributions that provide the given (dotted) module names, by normalised name."""
    tops = {m.split(".")[0] for m in modules if m}
    mapping = md.packages_distributions()
    found: dict[str, md.Distribution] = {}
    for top in sorted(tops):
        for dist_name in mapping.get(top, []):
            key = re.sub(r"[-_.]+", "-", dist_name).lower()
            if key in OURS or key in found:
                continue
            try:
                found[key] = md.distribution(dist_name)
            except md.PackageNotFoundError:
                continue
    return found


def _licence_of(dist: md.Distribution) -> str:
    meta = dist.metadata
    expr = meta.get("License-Expression")
    if expr:
        return expr
    lic = (meta.get("License") or "").strip()
    if lic and len(lic) < 120 and "\n" not in lic:
        return lic
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return "; ".join(classifiers) or (lic.splitlines()[0] if lic else "see the licence files")


def _homepage(dist: md.Distribution) -> str:
    meta = dist.metadata
    if meta.get("Home-page"):
        return meta["Home-page"]
    for url in meta.get_all("Project-URL") or []:
        label, _, link = url.partition(",")
        if label.strip().lower() in ("homepage", "home", "source", "repository", "source code"):
            return link.strip()
    return ""


def _licence_files(dist: md.Distribution) -> list[tuple[str, Path]]:
    out = []
    for f in dist.files or []:
        s = str(f).replace("\\", "/")
        in_dist_info = ".dist-info/" in s
        if (in_dist_info and ("/licenses/" in s or LICENSE_NAME.search(s))) or \
                (not in_dist_info and LICENSE_NAME.search(s) and s.count("/") <= 2 and not s.endswith(".py")):
            path = Path(dist.locate_file(f))
            if path.is_file():
                rel = s.split(".dist-info/", 1)[1] if in_dist_info else s
                out.append((rel.removeprefix("licenses/"), path))
    return out


def write_notices(dest: str | os.PathLike, modules: list[str] | set[str]) -> list[Path]:
    """Write the licence folder for a bundle holding `modules`; returns every file written."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    written: list[Path] = []

    def copy(src: Path, rel: str) -> None:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        written.append(target)

    def text(rel: str, body: str) -> None:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
        written.append(target)

    copy(ROOT / "LICENSE", "LICENSE-Hourglass.txt")
    lines = [
        "Hourglass third-party notices",
        "=============================",
        "",
        "Hourglass (MIT licence, LICENSE-Hourglass.txt) ships the following software. Each component's own",
        "licence files are in the folder named after it. Bundled models and sample photos: see",
        "resources/models/README.md and resources/samples/README.md.",
        "",
    ]
    py_licence = Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"
    lines.append(f"- Python {sys.version.split()[0]}: PSF-2.0 (Python/LICENSE.txt), https://www.python.org/")
    if py_licence.is_file():
        copy(py_licence, "Python/LICENSE.txt")

    dists = distributions_for(modules)
    for key, dist in sorted(dists.items()):
        name, version = dist.metadata["Name"], dist.version
        files = _licence_files(dist)
        for rel, path in files:
            copy(path, f"{key}/{rel}")
        where = f"{key}/" if files else "Qt/" if key in ("pyside6-essentials", "shiboken6") else \
            "no licence file in the wheel"
        lines.append(f"- {name} {version}: {_licence_of(dist)} ({where}) {_homepage(dist)}".rstrip())

    if "pyside6-essentials" in dists or "shiboken6" in dists:
        pyside = _dist_version("PySide6-Essentials")
        qt = pyside
        try:
            import PySide6.QtCore as qc  # only to read the Qt version

            qt = qc.qVersion()
        except ImportError:
            qt = f"{pyside} (the version PySide6 was built with)"
        text("Qt/NOTICE.txt", QT_NOTICE.format(qt=qt, pyside=pyside))
        for lic in ("LGPL-3.0.txt", "GPL-3.0.txt"):
            copy(HERE / "licenses" / lic, f"Qt/{lic}")
        lines.append(f"- Qt {qt} (inside PySide6): LGPL-3.0-only (Qt/NOTICE.txt), https://www.qt.io/")
    if "torch" in dists:
        lines.append("  torch/LICENSE and torch/third_party/ list the libraries PyTorch itself bundles"
                     " (oneDNN, sleef, pthreadpool, XNNPACK, ...).")
    lines += ["", "System libraries copied from the build host (Linux builds only): see system/ if present.", ""]
    text("THIRD-PARTY-NOTICES.txt", "\n".join(lines))
    return written


# ---------------------------------------------------------------- Linux: system libraries in the bundle


def _host_path(name: str) -> str | None:
    try:
        out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        out = ""
    for line in out.splitlines():
        parts = line.strip().split(" => ")
        if len(parts) == 2 and parts[0].split()[0] == name and "x86-64" in parts[0] + "x86-64":
            return parts[1]
    for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib", "/lib64", "/usr/lib64"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return None


def dpkg_package(path: str) -> str | None:
    """The Debian package that owns `path` (tries the merged-/usr spellings too)."""
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib/"):
            candidates.append("/usr" + p)
    for p in candidates:
        try:
            r = subprocess.run(["dpkg", "-S", p], check=False, capture_output=True, text=True)
        except OSError:
            return None
        if r.returncode == 0 and r.stdout:
            return r.stdout.split(":", 1)[0].strip()
    return None


def system_libraries(internal: Path) -> list[tuple[str, str | None, str | None]]:
    """(library, host path, Debian package) for each library PyInstaller copied from the host system: the
    shared objects at the top of `_internal/` (wheel libraries keep their package folders)."""
    out = []
    for f in sorted(internal.iterdir()):
        if f.is_symlink() or not f.is_file() or ".so" not in f.name or f.name.startswith("libpython") \
                or ".cpython-" in f.name or ".abi3." in f.name:  # extension modules come from wheels
            continue
        host = _host_path(f.name)
        out.append((f.name, host, dpkg_package(host) if host else None))
    return out


def write_system_notices(bundle: Path) -> int:
    internal = bundle / "_internal" if (bundle / "_internal").is_dir() else bundle
    dest = internal / "licenses" / "system"
    dest.mkdir(parents=True, exist_ok=True)
    rows = system_libraries(internal)
    lines = ["System libraries copied into this bundle from the build host, with their Debian package;",
             "each package's copyright file is beside this one as <package>.copyright.", ""]
    for lib, host, pkg in rows:
        lines.append(f"{lib}\t{pkg or 'not from a Debian package'}\t{host or ''}")
        if pkg:
            src = Path("/usr/share/doc") / pkg.split(":")[0] / "copyright"
            if src.is_file():
                shutil.copyfile(src, dest / f"{pkg.split(':')[0]}.copyright")
    (dest / "SYSTEM-LIBRARIES.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"notices: {len(rows)} system libraries, {sum(1 for r in rows if r[2])} with a Debian copyright file")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("system-libs", help="add the host system libraries' copyright files (Linux)")
    s.add_argument("bundle")
    w = sub.add_parser("write", help="write the notices for the given modules (testing)")
    w.add_argument("dest")
    w.add_argument("modules", nargs="*")
    args = ap.parse_args(argv)
    if args.cmd == "system-libs":
        return write_system_notices(Path(args.bundle))
    print("\n".join(str(p) for p in write_notices(args.dest, args.modules)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
