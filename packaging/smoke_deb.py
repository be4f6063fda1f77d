#!/usr/bin/env python3
"""Install the Hourglass .deb on this machine, smoke-test the installed app, uninstall it (as root; the
standard library, plus numpy, pillow-heif and torch from the project's venv to make one test photo and one
test checkpoint).

    sudo .venv/bin/python packaging/smoke_deb.py [dist/hourglass_X_amd64.deb] [--user hourglass-smoke] [--keep]

1. `dpkg -i` (then `apt-get install -f` if Depends are missing); checks the launcher, desktop entry, icons.
2. Makes /opt/hourglass read-only (a read-only bind mount where allowed; its files are root-owned and not
   writable for anyone else anyway) and records every file's size and mtime.
3. As root and as an unprivileged user (created if needed), with an empty HOME, offscreen Qt and a minimal
   environment: `hourglass --smoke` (window shown, engine handshake, ping; timings), `hourglass restore` of a
   bundled sample with `--quality fast` (a restored photo is written), `hourglass models`, `hourglass copy` of
   that result as a PNG; as root also that
   AVIF is written and read, that the engine saves a result again at a lower strength, that a 10-bit HDR HEIF is
   restored, that the zip of a downloaded model folder is
   imported, that killing the window with SIGKILL does not leave the engine running, and that a second
   start hands its photos to the open window. On X11 (Xvfb), with an Adobe RGB profile on the root window
   as colord sets it, the window shows photos through that screen profile.
4. Checks that nothing inside /opt/hourglass was created or changed, then `dpkg -P` and checks that the
   installation folder, launcher, desktop entry and icons are gone.
Exit status 0 when every check passed. A JSON summary goes to dist/hourglass-package-test.json.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PKG = "hourglass"
APPDIR = Path("/opt/hourglass")
LAUNCHER = Path("/usr/bin/hourglass")
DESKTOP = Path("/usr/share/applications/hourglass.desktop")
ICON = Path("/usr/share/icons/hicolor/256x256/apps/hourglass.png")
SAMPLE = "coffee_haze.jpg"
PREFIX = "HOURGLASS-SMOKE "

results: dict = {"checks": [], "runs": {}}
failures: list[str] = []


def check(ok: bool, what: str, detail: str = "") -> bool:
    results["checks"].append({"ok": bool(ok), "check": what, "detail": detail})
    print(f"  [{'ok' if ok else 'FAIL'}] {what}" + (f": {detail}" if detail else ""), flush=True)
    if not ok:
        failures.append(what)
    return ok


def run(cmd: list[str], timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, **kw)


def manifest(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(base, name)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_size if not os.path.isdir(p) else 0, st.st_mtime_ns)
    return out


def drop_caches() -> bool:
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
        return True
    except OSError:
        return False


def user_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """What a desktop session would give the app, minus the display: offscreen Qt, an empty home."""
    env = {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "QT_QPA_PLATFORM": "offscreen", "USER": home.name, "LOGNAME": home.name}
    env.update(extra or {})
    return env


def as_user(user: str | None, cmd: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


def launcher(user: str | None, env: dict[str, str], *args: str, wrap: tuple[str, ...] = ()) -> list[str]:
    """The installed launcher with `args`, as `user`, in exactly `env` (nothing inherited), inside `wrap`."""
    return as_user(user, ["env", "-i", *[f"{k}={v}" for k, v in env.items()], *wrap, str(LAUNCHER), *args])


def _with_screen_profile(home: Path) -> tuple[str, ...]:
    """A command prefix (inside xvfb-run) that first gives the X server's root window an Adobe RGB screen
    profile, as colord does on a desktop with a wide-gamut monitor, then runs the rest."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from engine.icc_profiles import adobe_rgb_profile

    (home / "screen.icc").write_bytes(adobe_rgb_profile())
    setter = Path(__file__).resolve().parents[1] / "tools" / "set_screen_profile.py"
    return ("sh", "-c", f'"{sys.executable}" "{setter}" "{home / "screen.icc"}" && exec "$@"', "sh")


def smoke_gui(label: str, user: str | None, home: Path, x11: bool = False) -> dict | None:
    """`hourglass --smoke`: offscreen, or with `x11` on a real X server (Xvfb) through Qt's xcb plugin."""
    report = home / f"smoke-{int(time.time() * 1000)}.json"
    env = user_env(home)
    if x11:  # as an X11 desktop session: DISPLAY (from xvfb-run) and no platform chosen, so the app's own
        del env["QT_QPA_PLATFORM"]  # display check runs in the installed app, and Qt picks xcb itself
    env["HOURGLASS_LAUNCH_TS"] = repr(time.time())
    wrap = ("xvfb-run", "-a", "-s", "-screen 0 1280x800x24 -noreset", *_with_screen_profile(home)) if x11 else ()
    t0 = time.perf_counter()
    r = run(launcher(user, env, "--smoke", "--smoke-report", str(report), wrap=wrap), timeout=300)  # xvfb-run adds DISPLAY
    wall = time.perf_counter() - t0
    line = next((ln[len(PREFIX):] for ln in r.stdout.splitlines() if ln.startswith(PREFIX)), None)
    data = json.loads(line) if line else None
    if not check(r.returncode == 0 and data is not None and data.get("passed"),
                 f"{label}: window opens and the engine answers its handshake",
                 f"rc={r.returncode}" + ("" if data else f"; stderr: {r.stderr[-1500:]}")):
        if data:
            print(json.dumps(data, indent=1))
        return data
    data["wall_s"] = round(wall, 3)
    check(data["frozen"] and data["engine_command"][-1] == "engine" and
          data["engine_command"][0].startswith(str(APPDIR)),
          f"{label}: the engine is the installed executable re-invoked (`{' '.join(data['engine_command'])}`)")
    check(any(m["origin"] == "bundled" and m["default"] for m in data["models"]),
          f"{label}: the bundled default model is found", ", ".join(m["name"] for m in data["models"]))
    print(f"      window shown {data['window_shown_s']} s, engine ready {data['engine_ready_s']} s "
          f"(spawn→ready {data['engine_start_to_ready_s']} s), process wall {data['wall_s']} s, "
          f"torch {data['torch']}, protocol {data['protocol']}", flush=True)
    return data


def dead_display_check(home: Path) -> None:
    """A DISPLAY with no X server behind it (left over from a closed SSH session): the installed app says so
    and exits 2, where Qt alone aborts with a core dump and advises reinstalling."""
    env = user_env(home, {"DISPLAY": ":4711"})
    del env["QT_QPA_PLATFORM"]
    r = run(launcher(None, env), timeout=60)
    check(r.returncode == 2 and "no X11 display answers at DISPLAY=:4711" in r.stderr,
          "a DISPLAY with no X server behind it is explained, not a core dump",
          f"rc={r.returncode}; {r.stderr.strip()[-300:]}")


def restore(label: str, user: str | None, home: Path) -> None:
    out = home / "restored"
    src = APPDIR / "_internal" / "resources" / "samples" / SAMPLE
    t0 = time.perf_counter()
    r = run(launcher(user, user_env(home), "restore", str(src), "-o", str(out), "--quality", "fast"), timeout=600)
    wall = time.perf_counter() - t0
    dst = out / SAMPLE
    ok = r.returncode == 0 and dst.is_file() and dst.stat().st_size > 1000
    head = dst.read_bytes()[:3] if dst.is_file() else b""
    check(ok and head == b"\xff\xd8\xff" and dst.read_bytes() != src.read_bytes(),
          f"{label}: `hourglass restore {SAMPLE} --quality fast` writes a restored JPEG",
          f"{wall:.1f} s" if ok else f"rc={r.returncode}: {(r.stderr or r.stdout)[-1500:]}")
    results["runs"][f"{label} restore_s"] = round(wall, 2)
    r = run(launcher(user, user_env(home), "detect", str(src), "--json"), timeout=300)
    try:
        found = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        found = {}
    check(r.returncode == 0 and found.get("task") == "haze" and len(found.get("scores", {})) == 6,
          f"{label}: `hourglass detect {SAMPLE} --json` finds haze with the bundled detector",
          f"confidence {found.get('confidence')}" if found else f"rc={r.returncode}: {(r.stderr or r.stdout)[-1500:]}")
    r = run(launcher(user, user_env(home), "restore", str(dst), "-o", str(home / "twice"), "--quality", "fast",
                     "--json"), timeout=300)
    check(r.returncode == 0 and '"already_restored": "restored ' in r.stdout and not (home / "twice").exists(),
          f"{label}: `hourglass restore` of its own result leaves it (it would be restored twice)",
          "" if r.returncode == 0 else f"rc={r.returncode}: {(r.stderr or r.stdout)[-1500:]}")
    r = run(launcher(user, user_env(home), "models"), timeout=300)
    check(r.returncode == 0 and "hourglass-diffuir-t" in r.stdout, f"{label}: `hourglass models` lists the bundled model")
    copy = out / f"{Path(SAMPLE).stem}_web.png"
    r = run(launcher(user, user_env(home), "copy", str(dst), "--format", "png", "--suffix", "_web", "--no-location",
                     "--photos", str(src.parent)), timeout=300)
    check(r.returncode == 0 and copy.is_file() and copy.read_bytes()[:4] == b"\x89PNG",
          f"{label}: `hourglass copy {SAMPLE} --format png --suffix _web` makes a PNG copy of the result",
          r.stderr.strip().splitlines()[-1] if r.returncode == 0 and r.stderr.strip() else
          f"rc={r.returncode}: {(r.stderr or r.stdout)[-1500:]}")


def preset_check(home: Path) -> None:
    """`hourglass copy --preset NAME` reads a preset saved in the app's data folder (`app.cli_presets`, which
    the frozen launcher imports only then) and makes the copy that preset describes."""
    src = APPDIR / "_internal" / "resources" / "samples" / SAMPLE
    data = home / "preset-data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "presets.json").write_text(json.dumps({"Small web": {"format": "png", "name_suffix": "_preset"}}))
    env = user_env(home, {"HOURGLASS_DATA_DIR": str(data)})
    result = home / "restored" / SAMPLE
    r = run(launcher(None, env, "copy", str(result), "--preset", "small WEB", "--photos", str(src.parent)),
            timeout=300)
    made = result.with_name(f"{Path(SAMPLE).stem}_preset.png")
    check(r.returncode == 0 and made.is_file() and made.read_bytes()[:4] == b"\x89PNG",
          "`hourglass copy --preset NAME` makes the copy a preset saved in the app describes",
          f"rc={r.returncode}: {(r.stderr or r.stdout)[-800:]}" if r.returncode else made.name)


def avif_check(home: Path) -> None:
    """The bundle holds Pillow's AVIF codec (a native module PyInstaller must collect): it writes an AVIF
    of the sample, then reads that AVIF back as an input."""
    src = APPDIR / "_internal" / "resources" / "samples" / SAMPLE
    first, second = home / "avif-1", home / "avif-2"
    env = user_env(home)
    r1 = run(launcher(None, env, "restore", str(src), "-o", str(first), "--quality", "fast", "--task", "haze",
                      "--format", "avif"), timeout=600)
    made = first / (Path(SAMPLE).stem + ".avif")
    r2 = run(launcher(None, env, "restore", str(made), "-o", str(second), "--quality", "fast", "--task", "haze"),
             timeout=600) if made.is_file() else r1
    again = second / made.name
    check(r1.returncode == 0 and r2.returncode == 0 and made.is_file() and made.read_bytes()[4:12] == b"ftypavif"
          and again.is_file() and again.read_bytes()[4:12] == b"ftypavif",
          "AVIF: the installed app writes an AVIF (`--format avif`) and restores an AVIF photo",
          "" if r2.returncode == 0 else f"rc={r2.returncode}: {(r2.stderr or r2.stdout)[-1500:]}")


def heif_check(home: Path) -> None:
    """The bundle reads a camera's 10-bit HDR HEIF (pillow-heif's native module, its full-depth decoding and
    the colour codes): restored to a JPEG in standard range, tagged BT.2020, and the note says so. The photo
    is made here with pillow-heif, so this runs from the project's venv (as `make package-test` does)."""
    try:
        import numpy as np
        import pillow_heif
    except ImportError:
        check(False, "HDR HEIF: cannot make the test photo without pillow-heif; run from the project's venv")
        return
    src, out = home / "heif" / "IMG_0001.HIF", home / "heif-restored"
    src.parent.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:96, 0:128]
    levels = (np.stack([x * 6, y * 8, (x + y) * 3], -1) % 1024).astype(np.uint16) << 6
    pillow_heif.from_bytes(mode="RGB;16", size=(128, 96), data=levels.tobytes()).save(
        src, quality=90, color_primaries=9, transfer_characteristics=16, matrix_coefficients=9)
    r = run(launcher(None, user_env(home), "restore", str(src), "-o", str(out), "--quality", "fast", "--task",
                     "haze"), timeout=600)
    made = out / "IMG_0001.jpg"
    check(r.returncode == 0 and made.is_file() and b"BT.2020" in made.read_bytes()[:20000]
          and "HDR photo (PQ curve)" in r.stdout + r.stderr,
          "HDR HEIF: the installed app restores a 10-bit PQ .HIF to a JPEG tagged BT.2020, with a note",
          "" if r.returncode == 0 else f"rc={r.returncode}: {(r.stderr or r.stdout)[-1500:]}")


def import_check(home: Path) -> None:
    """The bundle imports the zip a shared folder downloads as (Google Drive's name, the official training
    layout inside, as `model-300.pt`): zipfile and a temporary folder in the frozen app. The checkpoint is
    made here from the bundled weights with torch, so this runs from the project's venv too."""
    import zipfile

    try:
        import torch
        from safetensors.torch import load_file
    except ImportError:
        check(False, "model import: cannot make the test checkpoint without torch; run from the project's venv")
        return
    weights = load_file(str(APPDIR / "_internal" / "resources" / "models" / "hourglass-diffuir-t.safetensors"))
    net = {k if k.startswith("unet0.") else f"unet0.{k}": v for k, v in weights.items()}  # (the trainer's keys)
    folder = home / "import"
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"step": 300, "model": net, "opt0": {}, "ema": {f"ema_model.model.{k}": v for k, v in net.items()},
                "scaler": None}, folder / "model-300.pt")
    drive = folder / "DiffUIR-T-20240101T000000Z-001.zip"
    with zipfile.ZipFile(drive, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(folder / "model-300.pt", "DiffUIR-T/model-300.pt")
    env = user_env(home, {"HOURGLASS_MODELS_DIR": str(folder / "models")})
    r = run(launcher(None, env, "models", "import", str(drive)), timeout=300)
    listed = run(launcher(None, env, "models"), timeout=300)
    check(r.returncode == 0 and "as 'diffuir-DiffUIR-T'" in r.stdout and "model-300.pt from the archive" in r.stdout
          and "diffuir-DiffUIR-T" in listed.stdout,
          "model import: the installed app imports the zip of a downloaded folder holding model-300.pt",
          r.stdout.strip() if r.returncode == 0 else f"rc={r.returncode}: {(r.stderr or r.stdout)[-1500:]}")


def reblend_check(home: Path) -> None:
    """The installed engine saves a restored photo again at a lower strength (*Save at N%*: a `submit` with
    `options.from_result`, `engine.reblend` in the frozen app), spoken to over its protocol as the window
    does; `restore` has written the result at 100% first. The lines are made with the project's protocol
    module, so this runs from the project's venv too."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from engine import protocol as P

    src = APPDIR / "_internal" / "resources" / "samples" / SAMPLE
    first, again = home / "restored" / SAMPLE, home / "restored" / f"again-{SAMPLE}"
    job = P.Submit("again-1", str(src), str(again), P.JobOptions(task="haze", strength=0.5, from_result=str(first)))
    proc = subprocess.Popen(launcher(None, user_env(home), "engine"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stdout is not None
    events = []
    timer = threading.Timer(300, proc.kill)  # a hung engine fails the check instead of the whole test
    timer.start()
    try:
        for message, last in ((job, P.is_terminal), (P.Analyze("found", str(src), str(first)),
                                                     lambda e: getattr(e, "req_id", "") == "found")):
            proc.stdin.write(P.encode(message))
            proc.stdin.flush()
            for line in proc.stdout:  # until the answer (a shutdown sent with the job would cancel it)
                try:
                    events.append(P.decode(line, expect="event"))
                except P.ProtocolError:
                    continue
                if last(events[-1]):
                    break
        proc.stdin.write(P.encode(P.Shutdown()))
        proc.stdin.flush()
        proc.wait(timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
    finally:
        timer.cancel()
    ends = [e for e in events if P.is_terminal(e) and getattr(e, "job_id", "") == "again-1"]
    ok = bool(ends) and isinstance(ends[0], P.Result) and ends[0].nfe == 0 and again.is_file()
    check(ok and again.read_bytes()[:3] == b"\xff\xd8\xff" and again.read_bytes() != first.read_bytes(),
          "the installed engine saves a restored photo again at 50% strength from its result (no network)",
          f"{ends[0].timings.get('total', 0):.2f} s" if ok else f"{ends[:1]} rc={proc.returncode}")
    found = [e for e in events if isinstance(e, P.Analysis) and e.req_id == "found"]
    recorded = again.is_file() and b'hourglass:Strength="0.5"' in again.read_bytes()
    earlier = found[0].earlier_path == str(first) and found[0].earlier.get("Strength") == "1" if found else False
    check(recorded and earlier,
          "the installed engine records in a result how it was made, and finds the photo's result by it",
          f"{found[0].earlier}" if found else f"no analysis; recorded={recorded}")


def children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def orphan_check(home: Path) -> None:
    """SIGKILL the window: its engine must not live on."""
    p = subprocess.Popen(launcher(None, user_env(home)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gui = p.pid
    deadline = time.time() + 60
    kids: list[int] = []
    while time.time() < deadline and not kids:  # env execs the launcher script, which execs the app
        time.sleep(0.2)
        kids = children(gui)
    if not check(bool(kids), "the window starts its engine process"):
        p.kill()
        p.wait()
        return
    time.sleep(1.0)
    os.kill(gui, signal.SIGKILL)
    p.wait()
    deadline = time.time() + 20
    while time.time() < deadline and any(alive(k) for k in kids):
        time.sleep(0.2)
    left = [k for k in kids if alive(k)]
    check(not left, "no engine is left running after the window is killed (SIGKILL)",
          f"gone after {20 - max(0.0, deadline - time.time()):.1f} s" if not left else f"still alive: {left}")
    for k in left:
        os.kill(k, signal.SIGKILL)


def second_start_check(home: Path) -> None:
    """Opening a photo while the window is open (a file manager's "Open with Hourglass") hands it to that
    window: the second start exits at once and the photo lands in the first one's queue."""
    env = user_env(home)
    p = subprocess.Popen(launcher(None, env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not children(p.pid):  # its engine runs: the window is up
            time.sleep(0.2)
        time.sleep(1.0)
        photo = APPDIR / "_internal" / "resources" / "samples" / SAMPLE
        t0 = time.perf_counter()
        r = run(launcher(None, env, str(photo)), timeout=60)
        wall = time.perf_counter() - t0
        queue = home / ".local" / "share" / "Hourglass" / "queue.json"
        deadline = time.time() + 10
        while time.time() < deadline and not (queue.is_file() and str(photo) in queue.read_text()):
            time.sleep(0.2)
        check(r.returncode == 0 and "already open" in r.stderr and str(photo) in queue.read_text(),
              "a second start hands its photo to the open window and exits",
              f"{wall:.2f} s" if r.returncode == 0 else f"rc={r.returncode}: {r.stderr[-800:]}")
    finally:
        p.terminate()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("deb", nargs="?")
    ap.add_argument("--user", default="hourglass-smoke", help="the unprivileged user to run as (created if needed)")
    ap.add_argument("--keep", action="store_true", help="leave the package installed")
    ap.add_argument("--json", default="dist/hourglass-package-test.json")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("package-test installs a .deb: run it as root (sudo make package-test)", file=sys.stderr)
        return 2
    deb = args.deb or max(glob.glob("dist/hourglass_*.deb"), key=os.path.getmtime, default=None)
    if not deb or not os.path.isfile(deb):
        print("no .deb: run `make package` first", file=sys.stderr)
        return 2
    deb = os.path.abspath(deb)
    print(f"== package test of {deb} ({os.path.getsize(deb) / 2**20:.0f} MB)", flush=True)
    results["deb"] = deb
    results["deb_mb"] = round(os.path.getsize(deb) / 2**20, 1)

    if run(["dpkg", "-s", PKG]).returncode == 0:
        print("  (an earlier hourglass package is installed: purging it first)")
        run(["dpkg", "-P", PKG])

    # ------------------------------------------------------------ install
    t0 = time.perf_counter()
    r = run(["dpkg", "-i", deb])
    if r.returncode != 0:
        print("  dpkg -i left dependencies missing; resolving them with apt-get install -f", flush=True)
        r = run(["apt-get", "install", "-f", "-y", "-q"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    results["install_s"] = round(time.perf_counter() - t0, 1)
    if not check(r.returncode == 0 and run(["dpkg", "-s", PKG]).returncode == 0, "dpkg installs the package",
                 f"{results['install_s']} s" if r.returncode == 0 else r.stderr[-2000:]):
        return finish(args)
    check(os.access(APPDIR / PKG, os.X_OK) and os.access(LAUNCHER, os.X_OK), "/opt/hourglass/hourglass and the "
          "/usr/bin/hourglass launcher are installed")
    check(DESKTOP.is_file() and "MimeType=image/jpeg;" in DESKTOP.read_text(), "desktop entry with image MIME types")
    check(ICON.is_file() and Path("/usr/share/icons/hicolor/scalable/apps/hourglass.svg").is_file(), "hicolor icons")
    licences = APPDIR / "_internal" / "licenses"
    check((licences / "THIRD-PARTY-NOTICES.txt").is_file() and (licences / "Qt").is_dir(),
          "the licence texts (Help → About opens this folder) are installed")
    if shutil.which("desktop-file-validate"):
        v = run(["desktop-file-validate", str(DESKTOP)])
        check(v.returncode == 0 and not v.stdout.strip(), "desktop-file-validate passes", v.stdout.strip())
    cache = Path("/usr/share/applications/mimeinfo.cache")
    if shutil.which("update-desktop-database"):
        check(cache.is_file() and "hourglass.desktop" in cache.read_text(), "\"Open with Hourglass\" is registered "
              "for images (mimeinfo.cache)")

    # ------------------------------------------------------------ read-only installation folder
    before = manifest(APPDIR)
    ro_mount = run(["mount", "--bind", str(APPDIR), str(APPDIR)]).returncode == 0
    if ro_mount and run(["mount", "-o", "remount,bind,ro", str(APPDIR)]).returncode != 0:
        run(["umount", str(APPDIR)])
        ro_mount = False
    if ro_mount:
        probe = APPDIR / ".write-probe"
        try:
            probe.write_text("x")
            probe.unlink()
            ro_mount = False
        except OSError:
            pass
    results["read_only_mount"] = ro_mount
    print(f"  installation folder: {'read-only bind mount' if ro_mount else 'not remountable here'}; root-owned, "
          "not writable for the user; every file's size and mtime recorded", flush=True)

    try:
        # ------------------------------------------------------------ root
        root_home = Path(tempfile.mkdtemp(prefix="hourglass-root-home-"))
        os.chmod(root_home, 0o755)
        cold = drop_caches()
        results["cold_cache"] = cold
        print(f"== as root (HOME={root_home}; page cache {'dropped: cold start' if cold else 'not droppable here'})")
        first = smoke_gui("root, first start", None, root_home)
        second = smoke_gui("root, second start", None, root_home)
        results["runs"]["root first"] = first
        results["runs"]["root second"] = second
        if shutil.which("xvfb-run"):
            x11 = smoke_gui("root, X11 (Xvfb, Qt xcb plugin)", None, root_home, x11=True)
            check(bool(x11) and x11.get("platform") == "xcb", "the window opens on X11 with the bundled xcb plugin")
            check(bool(x11) and x11.get("screen_profile", "").startswith("Adobe RGB"),
                  "on X11 the installed app shows photos through the screen's profile (colord's root property)",
                  (x11 or {}).get("screen_profile", "no report"))
        dead_display_check(root_home)
        restore("root", None, root_home)
        reblend_check(root_home)
        avif_check(root_home)
        preset_check(root_home)
        heif_check(root_home)
        import_check(root_home)
        orphan_check(root_home)
        second_start_check(root_home)

        # ------------------------------------------------------------ unprivileged user
        created = False
        try:
            pw = pwd.getpwnam(args.user)
        except KeyError:
            run(["useradd", "--create-home", "--shell", "/bin/sh", args.user])
            created = True
            pw = pwd.getpwnam(args.user)
        home = Path(pw.pw_dir)
        if not home.is_dir():
            home.mkdir(parents=True)
            os.chown(home, pw.pw_uid, pw.pw_gid)
        print(f"== as the unprivileged user {args.user} (uid {pw.pw_uid}, HOME={home})", flush=True)
        w = run(["runuser", "-u", args.user, "--", "sh", "-c", f"touch {APPDIR}/probe 2>/dev/null && echo writable"])
        check("writable" not in w.stdout, "the installation folder is read-only for the user")
        drop_caches()
        results["runs"]["user first"] = smoke_gui("user, first start", args.user, home)
        results["runs"]["user second"] = smoke_gui("user, second start", args.user, home)
        restore("user", args.user, home)
        data_dir = home / ".local" / "share" / "Hourglass"
        check(data_dir.is_dir(), "the user's settings and queue go to ~/.local/share/Hourglass")
        if created:
            run(["userdel", "--remove", args.user])
        shutil.rmtree(root_home, ignore_errors=True)
    finally:
        if ro_mount:
            run(["umount", str(APPDIR)])

    # ------------------------------------------------------------ nothing written inside /opt/hourglass
    after = manifest(APPDIR)
    added = sorted(set(after) - set(before))
    changed = sorted(k for k in before if k in after and after[k] != before[k])
    removed = sorted(set(before) - set(after))
    check(not added and not changed and not removed, "nothing was written inside /opt/hourglass",
          f"added {added[:5]}, changed {changed[:5]}, removed {removed[:5]}" if added or changed or removed
          else f"{len(before)} entries unchanged")

    if args.keep:
        print("== --keep: leaving the package installed")
        return finish(args)
    # ------------------------------------------------------------ uninstall
    r = run(["dpkg", "-P", PKG])
    check(r.returncode == 0, "dpkg -P removes the package", "" if r.returncode == 0 else r.stderr[-500:])
    left = [str(p) for p in (APPDIR, LAUNCHER, DESKTOP, ICON) if p.exists()]
    check(not left, "nothing is left behind (/opt/hourglass, launcher, desktop entry, icons)", ", ".join(left))
    if cache.is_file():
        check("hourglass.desktop" not in cache.read_text(), "the MIME association is gone")
    return finish(args)


def finish(args) -> int:
    results["passed"] = not failures
    try:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    except OSError:
        pass
    print(f"== package test {'PASSED' if not failures else 'FAILED'}: {len(results['checks']) - len(failures)} "
          f"passed, {len(failures)} failed", flush=True)
    for f in failures:
        print(f"   failed: {f}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
