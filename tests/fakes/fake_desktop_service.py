"""A stand-in for a desktop's D-Bus services on a private session bus, with their real signatures, for tests
of app.keep_awake and app.desktop_status: argv[2] names it. "kde": KDE's power service
(`org.freedesktop.PowerManagement.Inhibition`); "gnome": GNOME's session manager (`org.gnome.SessionManager`;
the cookie is a uint32 in both); "notifications": the notification service (`org.freedesktop.Notifications`,
Notify is susssasa{sv}i -> u). Each call is appended to the file argv[1]; "ready" once the service is on the
bus. With a file name in argv[3], Inhibit and Notify are a slow service's: they log "asked", then answer
only once that file exists (or after 20 s), as a hung service would keep a caller waiting."""

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


def grant(service: type[Inhibition | SessionManager], asked: str) -> int:
    """An Inhibit call answered (late, with a gate): the service's next cookie, logged with what was asked."""
    answer_late()
    service.cookie += 1
    log.write(f"Inhibit {asked} -> {service.cookie}\n")
    return service.cookie


@ClassInfo({"D-Bus Interface": "org.freedesktop.PowerManagement.Inhibition"})
class Inhibition(QObject):
    cookie = 41

    @Slot(str, str, result="uint")
    def Inhibit(self, app: str, reason: str) -> int:
        return grant(Inhibition, f"{app} {reason!r}")

    @Slot("uint")
    def UnInhibit(self, cookie: int) -> None:
        log.write(f"UnInhibit {cookie}\n")


@ClassInfo({"D-Bus Interface": "org.gnome.SessionManager"})
class SessionManager(QObject):
    cookie = 1000

    @Slot(str, "uint", str, "uint", result="uint")
    def Inhibit(self, app: str, xid: int, reason: str, flags: int) -> int:
        return grant(SessionManager, f"{app} {xid} {reason!r} flags={flags}")

    @Slot("uint")
    def Uninhibit(self, cookie: int) -> None:
        log.write(f"Uninhibit {cookie}\n")


@ClassInfo({"D-Bus Interface": "org.freedesktop.Notifications"})
class Notifications(QObject):
    last_id = 0

    @Slot(str, "uint", str, str, str, "QStringList", "QVariantMap", int, result="uint")
    def Notify(self, app: str, replaces: int, icon: str, summary: str, body: str, actions: list, hints: dict,
               timeout: int) -> int:
        answer_late()
        Notifications.last_id += 1
        log.write(f"Notify {app!r} {replaces} {icon!r} {summary!r} {body!r} {list(actions)} {dict(hints)} "
                  f"{timeout} -> {Notifications.last_id}\n")
        return Notifications.last_id


app = QCoreApplication([])
bus = QDBusConnection.sessionBus()
if sys.argv[2] == "kde":
    service, path, obj = "org.freedesktop.PowerManagement", "/org/freedesktop/PowerManagement/Inhibition", Inhibition()
elif sys.argv[2] == "notifications":
    service, path, obj = "org.freedesktop.Notifications", "/org/freedesktop/Notifications", Notifications()
else:
    service, path, obj = "org.gnome.SessionManager", "/org/gnome/SessionManager", SessionManager()
assert bus.registerObject(path, obj, QDBusConnection.RegisterOption.ExportAllSlots)
assert bus.registerService(service)
log.write("ready\n")
app.exec()
