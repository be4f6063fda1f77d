"""A stand-in for a desktop's power service on a private D-Bus session bus, for tests of app.keep_awake:
KDE's `org.freedesktop.PowerManagement.Inhibition` (argv[2] == "kde") or GNOME's session manager
(`org.gnome.SessionManager`, argv[2] == "gnome"), with their real signatures (the cookie is a uint32).
Each call is appended to the file argv[1]; "ready" once the service is on the bus."""

from __future__ import annotations

import sys

from PySide6.QtCore import ClassInfo, QCoreApplication, QObject, Slot
from PySide6.QtDBus import QDBusConnection

log = open(sys.argv[1], "a", buffering=1)  # noqa: SIM115 - open for the process's life


@ClassInfo({"D-Bus Interface": "org.freedesktop.PowerManagement.Inhibition"})
class Inhibition(QObject):
    cookie = 41

    @Slot(str, str, result="uint")
    def Inhibit(self, app: str, reason: str) -> int:
        Inhibition.cookie += 1
        log.write(f"Inhibit {app} {reason!r} -> {Inhibition.cookie}\n")
        return Inhibition.cookie

    @Slot("uint")
    def UnInhibit(self, cookie: int) -> None:
        log.write(f"UnInhibit {cookie}\n")


@ClassInfo({"D-Bus Interface": "org.gnome.SessionManager"})
class SessionManager(QObject):
    cookie = 1000

    @Slot(str, "uint", str, "uint", result="uint")
    def Inhibit(self, app: str, xid: int, reason: str, flags: int) -> int:
        SessionManager.cookie += 1
        log.write(f"Inhibit {app} {xid} {reason!r} flags={flags} -> {SessionManager.cookie}\n")
        return SessionManager.cookie

    @Slot("uint")
    def Uninhibit(self, cookie: int) -> None:
        log.write(f"Uninhibit {cookie}\n")


app = QCoreApplication([])
bus = QDBusConnection.sessionBus()
if sys.argv[2] == "kde":
    service, path, obj = "org.freedesktop.PowerManagement", "/org/freedesktop/PowerManagement/Inhibition", Inhibition()
else:
    service, path, obj = "org.gnome.SessionManager", "/org/gnome/SessionManager", SessionManager()
assert bus.registerObject(path, obj, QDBusConnection.RegisterOption.ExportAllSlots)
assert bus.registerService(service)
log.write("ready\n")
app.exec()
