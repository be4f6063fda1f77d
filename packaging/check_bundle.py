#!/usr/bin/env python3
"""Post-build checks of a Linux one-folder bundle (stdlib + binutils' readelf + ldd + dpkg).

    python packaging/check_bundle.py dist/hourglass [--json report.json] [--depends-file deps.txt]
    python packaging/check_bundle.py --host-qt [PYSIDE6_QT_DIR]     # before a build: does the host have them?

Reports:
* the highest GLIBC_x.y symbol version any bundled ELF file needs: the oldest glibc the bundle runs on (the
  build host's glibc and libstdc++ leak into it, so build on the oldest distribution you support);
* `ldd` of Qt's xcb platform plugin: every library it cannot resolve is a WARNING (PyInstaller only warns
  when a library the plugin needs is missing on the build host, and the window then fails on users'
  machines that lack it too);
* the libraries the bundle takes from the system (never bundled: glibc, libGL/EGL, libxcb, ...) mapped to
  their Debian packages: the `.deb`'s Depends (core) and Recommends (needed only by optional Qt plugins:
  Wayland, GTK theme, ...).
Exit status 0 unless the bundle is unusable (no executable, or the core libraries cannot be resolved).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from notices import dpkg_package

XCB_PLUGIN = "PySide6/Qt/plugins/platforms/libqxcb.so"
# Plugins a user can do without: the app falls back to xcb / the built-in style.
OPTIONAL = re.compile(r"PySide6/Qt/plugins/(platforms/libqwayland|wayland-|platformthemes/|platforminputcontexts/"
                      r"|xcbglintegrations/libqxcb-egl|egldeviceintegrations/|iconengines/|imageformats/)"
                      r"|PySide6/Qt/lib/libQt6(Wayland|WlShell)")  # Qt's Wayland libraries serve only those plugins
# System libraries of optional plugins that may be missing on the build host: their Debian packages.
KNOWN_PACKAGES = {"libwayland-client.so.0": "libwayland-client0", "libwayland-cursor.so.0": "libwayland-cursor0",
                  "libwayland-egl.so.1": "libwayland-egl1", "libgtk-3.so.0": "libgtk-3-0",
                  "libgdk-3.so.0": "libgtk-3-0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0"}
# Libraries every Linux has (glibc, the loader, the C++ runtime, the GCC runtime): no Depends needed beyond
# libc6's version, and no warning.
GLIBC_PKGS = {"libc6"}
# Big stacks a desktop that wants them already has (the GTK theme plugin: native dialogs on GNOME).
SUGGESTS = {"libgtk-3-0"}
VERSION_RE = re.compile(r"Name: (GLIBC|GLIBCXX|CXXABI)_([0-9][0-9.]*)")


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_files(bundle: Path) -> list[Path]:
    return [p for p in sorted(bundle.rglob("*")) if p.is_file() and not p.is_symlink() and is_elf(p)]


def vkey(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split(".") if x.isdigit())


def symbol_versions(files: list[Path]) -> dict[str, tuple[str, str]]:
    """For GLIBC, GLIBCXX and CXXABI: (highest version needed, by which file)."""
    best: dict[str, tuple[str, str]] = {}
    for i in range(0, len(files), 64):
        chunk = files[i:i + 64]
        out = subprocess.run(["readelf", "-V", "--wide", *map(str, chunk)], check=False, capture_output=True, text=True).stdout
        current = ""
        for line in out.splitlines():
            if line.startswith("File: "):
                current = line[6:].strip()
            for m in VERSION_RE.finditer(line):
                kind, ver = m.group(1), m.group(2)
                if kind not in best or vkey(ver) > vkey(best[kind][0]):
                    best[kind] = (ver, current)
    if len(files) == 1 and best:  # readelf prints no "File:" line for a single file
        best = {k: (v, str(files[0])) for k, (v, _) in best.items()}
    return best


def ldd(path: Path, internal: Path) -> tuple[dict[str, str], list[str]]:
    """(resolved name → path, unresolved names) as the frozen app would see them."""
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = str(internal)  # what the bootloader sets
    r = subprocess.run(["ldd", str(path)], check=False, capture_output=True, text=True, env=env)
    resolved, missing = {}, []
    for line in r.stdout.splitlines():
        line = line.strip()
        if "=>" not in line:
            continue
        name, _, rest = line.partition("=>")
        name, rest = name.strip(), rest.strip()
        if rest.startswith("not found"):
            missing.append(name)
        else:
            resolved[name] = rest.split(" (")[0]
    return resolved, missing


def glibc_version() -> str:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").split()[-1]
    except (ValueError, OSError, AttributeError):
        return "?"


def check(bundle: Path) -> dict:
    bundle = bundle.resolve()
    internal = bundle / "_internal"
    exe = bundle / bundle.name
    report: dict = {"bundle": str(bundle), "executable": str(exe), "ok": True, "warnings": [], "errors": []}
    if not exe.is_file():
        report["errors"].append(f"no executable {exe}")
    files = elf_files(bundle)
    report["elf_files"] = len(files)

    versions = symbol_versions(files)
    report["symbol_versions"] = {k: {"version": v, "needed_by": str(Path(f).relative_to(bundle)) if f else ""}
                                 for k, (v, f) in versions.items()}
    report["glibc_min"] = versions.get("GLIBC", ("?", ""))[0]
    report["build_host_glibc"] = glibc_version()

    xcb = internal / XCB_PLUGIN
    if xcb.is_file():
        _resolved, missing = ldd(xcb, internal)
        report["xcb_missing"] = missing
        for name in missing:
            report["warnings"].append(f"Qt xcb platform plugin: {name} not found (not bundled and not on this "
                                      "host); install it before building, or users need it installed")
    else:
        report["xcb_missing"] = None
        report["warnings"].append(f"no Qt xcb platform plugin at {XCB_PLUGIN}: the app cannot open a window on X11")

    core: dict[str, set[str]] = {}
    optional: dict[str, set[str]] = {}
    unresolved: dict[str, set[str]] = {}
    for f in files:
        rel = str(f.relative_to(bundle))
        resolved, missing = ldd(f, internal)
        is_opt = bool(OPTIONAL.search(rel))
        for name in missing:
            unresolved.setdefault(name, set()).add(rel)
        for name, path in resolved.items():
            if not path or path.startswith(str(bundle)) or not path.startswith("/"):
                continue
            (optional if is_opt else core).setdefault(path, set()).add(rel)
    pkgs_core, pkgs_opt = {}, {}
    for target, table in ((pkgs_core, core), (pkgs_opt, optional)):
        for path, users in table.items():
            pkg = dpkg_package(path) or f"?{os.path.basename(path)}"
            target.setdefault(pkg.split(":")[0], set()).update(users)
    report["system_libraries"] = sorted(core)
    report["depends"] = sorted(pkgs_core)
    for name, users in unresolved.items():  # optional plugins' libraries this host lacks: recommend them too
        if name in KNOWN_PACKAGES and all(OPTIONAL.search(u) for u in users):
            pkgs_opt.setdefault(KNOWN_PACKAGES[name], set()).update(users)
    report["recommends"] = sorted(set(pkgs_opt) - set(pkgs_core))
    report["unresolved"] = {k: sorted(v)[:5] for k, v in sorted(unresolved.items())}
    for name, users in sorted(unresolved.items()):
        if all(OPTIONAL.search(u) for u in users):
            report["warnings"].append(f"{name} not found, needed only by optional plugins ({min(users)}, …)")
        else:
            report["errors"].append(f"{name} not found, needed by {min(users)}")
    unknown = [p for p in report["depends"] if p.startswith("?")]
    if unknown:
        report["warnings"].append(f"system libraries from no Debian package: {unknown}")
    report["ok"] = not report["errors"]
    return report


def deb_fields(report: dict) -> dict[str, str]:
    """Depends/Recommends for DEBIAN/control (libc6 gets the measured glibc floor)."""
    deps = [p for p in report["depends"] if not p.startswith("?") and p not in GLIBC_PKGS]
    opt = [p for p in report["recommends"] if not p.startswith("?") and p not in GLIBC_PKGS]
    glibc = report["glibc_min"]
    depends = [f"libc6 (>= {glibc})" if glibc != "?" else "libc6"] + deps
    fields = {"Depends": ", ".join(depends), "Recommends": ", ".join(p for p in opt if p not in SUGGESTS),
              "Suggests": ", ".join(p for p in opt if p in SUGGESTS)}
    return {k: v for k, v in fields.items() if v}


def host_qt(qt_dir: Path | None) -> int:
    """Before a build: list the libraries Qt's xcb plugin needs that this host lacks (they won't be bundled)."""
    if qt_dir is None:
        import importlib.util

        spec = importlib.util.find_spec("PySide6")
        if spec is None or not spec.submodule_search_locations:
            print("check_bundle: PySide6 is not installed", file=sys.stderr)
            return 1
        qt_dir = Path(next(iter(spec.submodule_search_locations))) / "Qt"
    plugin = qt_dir / "plugins" / "platforms" / "libqxcb.so"
    _resolved, missing = ldd(plugin, qt_dir / "lib")
    for name in missing:
        print(f"WARNING: this build host lacks {name} (needed by Qt's xcb plugin); it will be missing from the "
              "bundle. Debian/Ubuntu: apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 "
              "libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0")
    if not missing:
        print("host check: every library Qt's xcb platform plugin needs is installed on this build host")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Check a Linux one-folder bundle: glibc floor, xcb, system deps.")
    ap.add_argument("bundle", nargs="?")
    ap.add_argument("--json", help="write the full report here")
    ap.add_argument("--deb-fields", help="write Depends/Recommends lines for DEBIAN/control here")
    ap.add_argument("--host-qt", nargs="?", const="", default=None, metavar="QT_DIR",
                    help="only check the build host for the libraries Qt's xcb plugin needs")
    args = ap.parse_args(argv)
    if args.host_qt is not None:
        return host_qt(Path(args.host_qt) if args.host_qt else None)
    if not args.bundle:
        ap.error("give the bundle folder")
    report = check(Path(args.bundle))
    sv = report["symbol_versions"]
    print(f"bundle check: {report['elf_files']} ELF files")
    print(f"  glibc minimum: GLIBC_{report['glibc_min']} (needed by {sv.get('GLIBC', {}).get('needed_by', '?')}); "
          f"build host glibc {report['build_host_glibc']}")
    for kind in ("GLIBCXX", "CXXABI"):
        if kind in sv:
            print(f"  {kind} maximum: {sv[kind]['version']} ({sv[kind]['needed_by']})")
    xm = report["xcb_missing"]
    print("  Qt xcb plugin: " + ("all libraries resolve" if xm == [] else f"missing {xm}" if xm else "absent"))
    print(f"  system packages needed: {', '.join(report['depends'])}")
    if report["recommends"]:
        print(f"  for optional plugins: {', '.join(report['recommends'])}")
    for w in report["warnings"]:
        print(f"WARNING: {w}")
    for e in report["errors"]:
        print(f"ERROR: {e}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    if args.deb_fields:
        fields = deb_fields(report)
        Path(args.deb_fields).write_text("".join(f"{k}: {v}\n" for k, v in fields.items() if v))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
