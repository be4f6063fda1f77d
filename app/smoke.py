"""`hourglass --smoke`: a self-test of an installation. Opens the main window, waits for the engine's
handshake (hello + ready), pings it, prints one `HOURGLASS-SMOKE {json}` line with the timings and exits
0 (passed) or 1. `--smoke-report FILE` also writes the JSON to a file (a windowed Windows/macOS build has no
stdout). Used by `make package-test` on the installed package and by the CI packaging workflow.

Times are measured from the process start (Linux: /proc; elsewhere the time this module was imported), or
from `$HOURGLASS_LAUNCH_TS` (epoch seconds) when the caller sets it just before starting the program.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

PREFIX = "HOURGLASS-SMOKE "
_IMPORTED = time.time()


def process_start_epoch() -> float | None:
    """When this process started (epoch seconds, 10 ms resolution), from /proc; None elsewhere."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat(5), counted after "pid (comm)"
        with open("/proc/stat", encoding="ascii") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith("btime "))
        return btime + start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def launch_epoch() -> float:
    env = os.environ.get("HOURGLASS_LAUNCH_TS")
    if env:
        try:
            return float(env)
        except ValueError:
            pass
    return process_start_epoch() or _IMPORTED


def emit(report: dict[str, Any], path: str | None) -> None:
    line = json.dumps(report, sort_keys=True)
    if sys.stdout is not None:
        print(PREFIX + line, flush=True)
    if path:
        Path(path).write_text(line + "\n", encoding="utf-8")


async def smoke_check(window, runner, report_path: str | None = None, timeout: float = 240.0) -> int:
    """Run after `window.show()` and `runner.start_engine()`; returns the exit status."""
    from PySide6.QtWidgets import QApplication

    from app.client.launcher import engine_command

    launched = launch_epoch()
    t0 = time.time()  # runner.start_engine() was just called
    handle = window.windowHandle()
    deadline = time.time() + 10
    while not (handle is not None and handle.isExposed()) and time.time() < deadline:
        await asyncio.sleep(0.005)  # the Qt loop runs meanwhile (qasync): the window gets mapped and painted
        handle = handle or window.windowHandle()
    shown = time.time()
    report: dict[str, Any] = {
        "passed": False,
        "frozen": bool(getattr(sys, "frozen", False)),
        "executable": sys.executable,
        "engine_command": list(getattr(getattr(runner.engine, "config", None), "command", None) or engine_command()),
        "window_visible": bool(window.isVisible()),
        "window_exposed": bool(handle is not None and handle.isExposed()),
        "window_shown_s": round(shown - launched, 3),
        "platform": QApplication.platformName(),
        "screen_profile": getattr(window, "screen_profile", ""),
    }
    try:
        ready = await asyncio.wait_for(runner.engine.start(), timeout)
        report["engine_ready_s"] = round(time.time() - launched, 3)
        report["engine_start_to_ready_s"] = round(time.time() - t0, 3)
        hello = getattr(runner.engine, "hello", None)
        if hello is not None:
            report["protocol"] = hello.protocol
            report["engine_version"] = hello.engine_version
            report["engine_pid"] = hello.pid
        report["torch"] = ready.torch_version
        report["devices"] = [d.id for d in ready.devices]
        report["models"] = [{"name": m.name, "origin": m.origin, "default": m.default} for m in ready.models]
        pong = await asyncio.wait_for(runner.engine.ping(), 30)
        report["ping"] = str(getattr(pong.state, "value", pong.state))
        report["keep_awake"] = _keep_awake_backends()
        report["notifications"] = _notifications_client()
        report["passed"] = (report["window_visible"] and bool(ready.models) and "error" not in report["keep_awake"]
                            and "error" not in report["notifications"])
        if not ready.models:
            report["error"] = "the engine found no model (bundled resources missing?)"
    except Exception as exc:  # noqa: BLE001 (the report says what went wrong)
        report["error"] = f"{type(exc).__name__}: {exc}"
        report["engine_log"] = runner.engine.log_tail()[-20:]
    report["total_s"] = round(time.time() - launched, 3)
    emit(report, report_path)
    return 0 if report["passed"] else 1


def _notifications_client() -> dict[str, Any]:
    """What sends the desktop notification when a batch ends unseen (`app.desktop_status`): on Linux jeepney,
    imported only when a notification is sent, so an installer could leave it out unnoticed."""
    if sys.platform in ("win32", "darwin"):
        return {"client": None}
    try:
        import jeepney

        return {"client": f"jeepney {jeepney.__version__}"}
    except ImportError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def _keep_awake_backends() -> dict[str, Any]:
    """What would keep the computer awake during a batch here (`app.keep_awake`): on Linux the desktop power
    services, which need Qt's D-Bus module in the bundle (none answer without a session bus)."""
    try:
        from app.keep_awake import default_backends

        return {"backends": [b.name for b in default_backends()]}
    except Exception as exc:  # noqa: BLE001 (the report says what went wrong)
        return {"error": f"{type(exc).__name__}: {exc}"}
