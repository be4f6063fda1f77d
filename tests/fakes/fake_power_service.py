"""A stand-in for a desktop's power service on a private D-Bus session bus, for tests of app.keep_awake:
KDE's `org.freedesktop.PowerManagement.Inhibition` (argv[2] == "kde") or GNOME's session manager
(`org.gnome.SessionManager`, argv[2] == "gnome"), with their real signatures (the cookie is a uint32).
Each call is appended to the file argv[1]; "ready" once the service is on the bus. With a file name in
argv[3], Inhibit is a slow service's: it logs "asked", then answers only once that file exists (or after
20 s), as a hung power service would keep a caller waiting."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import ClassInfo, QCoreApplication, QObject, Slot
from PySide6.QtDBus import QDBusConnection

log = open(sys.argv[1], "a", buffering=1)  # noqa: SIM115 - open for the process's life
gate = Path(sys.argv[3]) if len(sys.argv) > 3 else None


def answer_late() -> None:
    if gate is None:
        return
    log.write("asked\n")
    deadline = time.monotonic() + 20
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


@ClassInfo({"D-Bus Interface": "org.freedesktop.PowerManagement.Inhibition"})
class Inhibition(QObject):
    cookie = 41

    @Slot(str, str, result="uint")
    def Inhibit(self, app: str, reason: str) -> int:
        answer_late()
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
        answer_late()
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
