"""Keeping the computer awake while photos are restored. On a CPU a batch takes an hour or more, and desktops
suspend a computer nobody touches (GNOME after 15 minutes on mains power, by default): the batch then stood
still until someone woke it. Only sleep for lack of input is held off, as video players and encoders do:
the screen may still blank, and closing the lid still suspends.

Standard library only: the command line uses it as it is, and the GUI (`app.keep_awake`) adds the Linux
desktops' own power services, which need Qt's D-Bus module, before the fallback here. Windows:
`SetThreadExecutionState`. macOS: `caffeinate -i -w <pid>`. Linux: a logind inhibitor lock held by
`systemd-inhibit` around a `tail --pid` that ends with this process (so a killed batch leaves none behind).
`HOURGLASS_KEEP_AWAKE=0` turns it off.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Protocol

log = logging.getLogger(__name__)

REASON = "Restoring photos"
APP_ID = "hourglass"
OPT_OUT = "HOURGLASS_KEEP_AWAKE"  # "0": never hold the computer awake (a server, or the test suite)


class Backend(Protocol):
    name: str

    def hold(self) -> bool: ...  # True if the computer is now kept awake
    def release(self) -> None: ...


class KeepAwake:
    """Holds the computer awake between `set_held(True)` and `set_held(False)` with the first of `backends`
    that works here; does nothing, once logged, where none does (a container, a desktop without a power
    service)."""

    def __init__(self, backends: Callable[[], list[Backend]] | None = None) -> None:
        self.backends = backends or platform_backends  # (the app swaps them in its tests)
        self._held: Backend | None = None

    @property
    def held_by(self) -> str | None:
        """The name of the mechanism holding the computer awake now, or None."""
        return self._held.name if self._held is not None else None

    def set_held(self, held: bool) -> None:
        if held and self._held is None and os.environ.get(OPT_OUT) == "0":
            log.info("%s=0: the computer may go to sleep while photos are restored", OPT_OUT)
            return
        if held and self._held is None:
            try:
                backends = self.backends()
            except Exception as exc:  # noqa: BLE001 - (an install without Qt's D-Bus module, say)
                log.warning("cannot keep the computer awake: %s", exc)
                backends = []
            for backend in backends:
                try:
                    if backend.hold():
                        self._held = backend
                        log.info("keeping the computer awake while photos are restored (%s)", backend.name)
                        return
                except Exception as exc:  # noqa: BLE001 - a power service's error must not stop a batch
                    log.warning("cannot keep the computer awake with %s: %s", backend.name, exc)
            log.info("nothing here can keep the computer awake while photos are restored; it may go to sleep")
        elif not held and self._held is not None:
            backend, self._held = self._held, None
            try:
                backend.release()
            except Exception as exc:  # noqa: BLE001
                log.warning("could not release %s: %s", backend.name, exc)


@contextmanager
def kept_awake(backends: Callable[[], list[Backend]] | None = None) -> Iterator[KeepAwake]:
    """The computer kept awake for the duration of the block (the command line's batch)."""
    keep = KeepAwake(backends)
    keep.set_held(True)
    try:
        yield keep
    finally:
        keep.set_held(False)


def platform_backends() -> list[Backend]:
    """What this platform offers without a desktop's own service (see the module's docstring)."""
    if sys.platform == "win32":
        import ctypes

        return [WindowsExecutionState(ctypes.windll.kernel32)]  # type: ignore[attr-defined]
    if sys.platform == "darwin":
        return [Caffeinate()]
    return [SystemdInhibit()] if shutil.which("systemd-inhibit") and shutil.which("tail") else []


class WindowsExecutionState:
    """`ES_SYSTEM_REQUIRED` on the calling thread until released; the display may still turn off."""

    name = "SetThreadExecutionState"
    ES_CONTINUOUS, ES_SYSTEM_REQUIRED = 0x80000000, 0x00000001

    def __init__(self, kernel32) -> None:
        self.kernel32 = kernel32

    def hold(self) -> bool:
        return bool(self.kernel32.SetThreadExecutionState(self.ES_CONTINUOUS | self.ES_SYSTEM_REQUIRED))

    def release(self) -> None:
        self.kernel32.SetThreadExecutionState(self.ES_CONTINUOUS)


class _HelperProcess:
    """A helper program that holds the computer awake while it runs; released by ending it (and, with
    its own process group, whatever it started)."""

    name = ""

    def __init__(self, popen=subprocess.Popen) -> None:
        self.popen = popen
        self.process = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def started(self, process) -> bool:
        return True

    def hold(self) -> bool:
        try:
            process = self.popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError:
            return False
        if not self.started(process):
            return False
        self.process = process
        return True

    def release(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with suppress(OSError):
            if hasattr(os, "killpg"):
                os.killpg(process.pid, signal.SIGTERM)  # (its own session: the helper and what it started)
            else:
                process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


class Caffeinate(_HelperProcess):
    """macOS's `caffeinate -i` (no idle sleep), told to end with this process even if it is killed."""

    name = "caffeinate"

    def command(self) -> list[str]:
        return ["caffeinate", "-i", "-w", str(os.getpid())]


class SystemdInhibit(_HelperProcess):
    """A logind inhibitor lock ("sleep" and "idle", blocking) held by `systemd-inhibit` while `tail --pid`
    waits for this process to end. Where logind does not answer (a container, no systemd), systemd-inhibit
    exits at once: that is noticed within `settle_s`, and the next backend, if any, is tried."""

    name = "systemd-inhibit"
    settle_s = 0.3

    def command(self) -> list[str]:
        return ["systemd-inhibit", "--what=sleep:idle", "--who=Hourglass", f"--why={REASON}", "--mode=block",
                "tail", f"--pid={os.getpid()}", "-f", "/dev/null"]

    def started(self, process) -> bool:
        try:
            process.wait(timeout=self.settle_s)
        except subprocess.TimeoutExpired:
            return True  # still running: it holds the lock
        return False
