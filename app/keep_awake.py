"""Keeping the computer awake while a batch runs (`engine.keep_awake` says why and how), with the Linux
desktops' own power services first: KDE, XFCE and LXQt answer `org.freedesktop.PowerManagement.Inhibition`,
GNOME, MATE and Cinnamon their session manager's `Inhibit` with the suspend flag, over D-Bus; the desktop
drops the hold itself if the app dies. Where none answers, logind's lock (systemd-inhibit) is the fallback.

The window asks from its GUI thread, but the asking runs on a thread of its own (`KeepAwake` here): a power
service that is slow or hung would otherwise freeze the window when a batch starts or ends (D-Bus waits 25 s
for each reply), and systemd-inhibit takes 0.3 s to tell whether logind took the lock."""

from __future__ import annotations

import sys
from collections.abc import Callable

from app.serial_thread import SerialThread
from engine import keep_awake as engine_keep_awake
from engine.keep_awake import APP_ID, REASON, Backend, platform_backends

__all__ = ["KeepAwake", "connect", "default_backends"]

# (service, object path, interface, whether its Inhibit takes GNOME's session-manager arguments)
DBUS_SERVICES = (
    ("org.freedesktop.PowerManagement", "/org/freedesktop/PowerManagement/Inhibition",
     "org.freedesktop.PowerManagement.Inhibition", False),  # KDE, XFCE, LXQt
    ("org.gnome.SessionManager", "/org/gnome/SessionManager", "org.gnome.SessionManager", True),
    ("org.mate.SessionManager", "/org/mate/SessionManager", "org.mate.SessionManager", True),
    ("org.cinnamon.SessionManager", "/org/cinnamon/SessionManager", "org.cinnamon.SessionManager", True),
)
SESSION_INHIBIT_SUSPEND = 4  # gnome-session's flag: no (idle) suspend; 8 would also keep the screen on


def default_backends() -> list[Backend]:
    """This platform's ways, the desktop's own service first on Linux."""
    if sys.platform in ("win32", "darwin"):
        return platform_backends()
    from PySide6.QtDBus import QDBusConnection

    bus = QDBusConnection.sessionBus()
    desktop = [DBusInhibitor(bus, *service) for service in DBUS_SERVICES] if bus.isConnected() else []
    return [*desktop, *platform_backends()]


class KeepAwake:
    """`engine.keep_awake.KeepAwake`, asked from the GUI thread without waiting for the answer. Requests are
    applied in order on one thread kept for the app's life (Windows ties SetThreadExecutionState to the
    thread that called it, so holding and releasing must share one)."""

    def __init__(self, backends: Callable[[], list[Backend]] | None = None) -> None:
        self._keep = engine_keep_awake.KeepAwake(backends)
        self._thread = SerialThread("keep-awake")

    @property
    def backends(self) -> Callable[[], list[Backend]]:
        return self._keep.backends

    @backends.setter
    def backends(self, backends: Callable[[], list[Backend]]) -> None:
        self._keep.backends = backends

    @property
    def held_by(self) -> str | None:
        """The name of the mechanism holding the computer awake now (requests still on their way aside)."""
        return self._keep.held_by

    def set_held(self, held: bool) -> None:
        """Returns at once; the hold is taken or released on the keep-awake thread."""
        self._thread.submit(lambda: self._keep.set_held(held))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every request so far has been applied; False if `timeout` ran out first."""
        return self._thread.wait(timeout)

    def close(self, timeout: float = 2.0) -> bool:
        """Release the hold on the way out, waiting at most `timeout` for a slow service (when the app ends,
        the desktop and logind drop what it held anyway)."""
        if not self._thread.started:
            return True
        self.set_held(False)
        return self.wait(timeout)


def connect(runner, keep: KeepAwake) -> None:
    """Hold the computer awake whenever `runner` (an `app.runner.BatchRunner`) runs a batch."""
    runner.running_changed.connect(keep.set_held)


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
