"""Keeping the computer awake while a batch runs. On a CPU a batch takes an hour or more, and desktops
suspend a computer nobody touches (GNOME after 15 minutes on mains power, by default): the batch then stood
still until someone woke it. Only sleep for lack of input is held off, as video players and encoders do:
the screen may still blank, and closing the lid or choosing Suspend still suspends.

Windows: `SetThreadExecutionState` (called from the GUI thread, which lives as long as the window). macOS:
`caffeinate -i -w <pid>`, which ends with the app. Linux: the desktop's power service over D-Bus (KDE, XFCE
and LXQt answer `org.freedesktop.PowerManagement.Inhibition`; GNOME, MATE and Cinnamon their session
manager's `Inhibit` with the suspend flag); the desktop drops the hold itself if the app dies."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("app.keep_awake")

REASON = "Restoring photos"
APP_ID = "hourglass"


class Backend(Protocol):
    name: str

    def hold(self) -> bool: ...  # True if the computer is now kept awake
    def release(self) -> None: ...


class KeepAwake:
    """Holds the computer awake between `set_held(True)` and `set_held(False)` (connected to the batch
    runner's `running_changed`), with whichever backend this platform has; does nothing, once logged, where
    none answers (a desktop without a power service, a terminal session)."""

    def __init__(self, backends: Callable[[], list[Backend]] | None = None) -> None:
        self._backends = backends or default_backends
        self._held: Backend | None = None

    @property
    def held_by(self) -> str | None:
        """The name of the mechanism holding the computer awake now, or None."""
        return self._held.name if self._held is not None else None

    def set_held(self, held: bool) -> None:
        if held and self._held is None:
            try:
                backends = self._backends()
            except Exception as exc:  # noqa: BLE001 - (an install without Qt's D-Bus module, say)
                log.warning("cannot keep the computer awake: %s", exc)
                backends = []
            for backend in backends:
                try:
                    if backend.hold():
                        self._held = backend
                        log.info("keeping the computer awake while the batch runs (%s)", backend.name)
                        return
                except Exception as exc:  # noqa: BLE001 - a desktop service's error must not stop a batch
                    log.warning("cannot keep the computer awake with %s: %s", backend.name, exc)
            log.info("nothing here can keep the computer awake during the batch; it may go to sleep")
        elif not held and self._held is not None:
            backend, self._held = self._held, None
            try:
                backend.release()
            except Exception as exc:  # noqa: BLE001
                log.warning("could not release %s: %s", backend.name, exc)


def default_backends() -> list[Backend]:
    if sys.platform == "win32":
        import ctypes

        return [WindowsExecutionState(ctypes.windll.kernel32)]  # type: ignore[attr-defined]
    if sys.platform == "darwin":
        return [Caffeinate()]
    from PySide6.QtDBus import QDBusConnection

    bus = QDBusConnection.sessionBus()
    return [DBusInhibitor(bus, *service) for service in DBUS_SERVICES] if bus.isConnected() else []


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


class Caffeinate:
    """macOS's `caffeinate -i` (no idle sleep), told to end with this process even if the app crashes."""

    name = "caffeinate"

    def __init__(self, popen=subprocess.Popen) -> None:
        self.popen = popen
        self.process = None

    def hold(self) -> bool:
        try:
            self.process = self.popen(["caffeinate", "-i", "-w", str(os.getpid())], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            return False
        return True

    def release(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=5)
            self.process = None


# (service, object path, interface, whether its Inhibit takes GNOME's session-manager arguments)
DBUS_SERVICES = (
    ("org.freedesktop.PowerManagement", "/org/freedesktop/PowerManagement/Inhibition",
     "org.freedesktop.PowerManagement.Inhibition", False),  # KDE, XFCE, LXQt
    ("org.gnome.SessionManager", "/org/gnome/SessionManager", "org.gnome.SessionManager", True),
    ("org.mate.SessionManager", "/org/mate/SessionManager", "org.mate.SessionManager", True),
    ("org.cinnamon.SessionManager", "/org/cinnamon/SessionManager", "org.cinnamon.SessionManager", True),
)
SESSION_INHIBIT_SUSPEND = 4  # gnome-session's flag: no (idle) suspend; 8 would also keep the screen on


class DBusInhibitor:
    """A desktop power service's Inhibit/UnInhibit pair. The calls go through Qt's D-Bus proxy object, which
    reads the service's signatures (a cookie must travel as uint32, which a plain call would send as int32)."""

    def __init__(self, bus, service: str, path: str, interface: str, session_manager: bool) -> None:
        self.bus, self.service, self.path, self.interface = bus, service, path, interface
        self.session_manager = session_manager
        self.name = service
        self.proxy = None
        self.cookie: int | None = None

    def hold(self) -> bool:
        from PySide6.QtCore import Q_ARG, Q_RETURN_ARG, QMetaObject, Qt
        from PySide6.QtDBus import QDBusInterface

        registered = self.bus.interface().isServiceRegistered(self.service)
        if not registered.isValid() or not registered.value():
            return False
        proxy = QDBusInterface(self.service, self.path, self.interface, self.bus)
        if not proxy.isValid():
            return False
        if self.session_manager:
            args = (Q_ARG(str, APP_ID), Q_ARG("uint", 0), Q_ARG(str, REASON), Q_ARG("uint", SESSION_INHIBIT_SUSPEND))
        else:
            args = (Q_ARG(str, APP_ID), Q_ARG(str, REASON))
        cookie = QMetaObject.invokeMethod(proxy, "Inhibit", Qt.ConnectionType.DirectConnection,
                                          Q_RETURN_ARG("uint"), *args)
        if proxy.lastError().isValid():
            raise RuntimeError(proxy.lastError().message())
        self.proxy, self.cookie = proxy, cookie
        return True

    def release(self) -> None:
        from PySide6.QtCore import Q_ARG, QMetaObject, Qt

        if self.proxy is None or self.cookie is None:
            return
        method = "Uninhibit" if self.session_manager else "UnInhibit"
        proxy, cookie, self.proxy, self.cookie = self.proxy, self.cookie, None, None
        QMetaObject.invokeMethod(proxy, method, Qt.ConnectionType.DirectConnection, Q_ARG("uint", cookie))
        if proxy.lastError().isValid():
            raise RuntimeError(proxy.lastError().message())


def connect(runner, keep: KeepAwake) -> None:
    """Hold the computer awake whenever `runner` (an `app.runner.BatchRunner`) runs a batch."""
    runner.running_changed.connect(keep.set_held)
