"""The batch seen from outside the window, on Linux desktops: its progress on the app's taskbar or dock entry,
and a notification when it ends while the window is in the background (on a CPU a batch takes an hour: the
photographer is elsewhere). The window title (every platform's taskbar) and the taskbar entry's request for
attention (`QApplication.alert`) stay as they are; this adds what the desktops offer over D-Bus.

- Progress: the `com.canonical.Unity.LauncherEntry` signal, which KDE Plasma's task manager, Ubuntu's dock,
  Dash to Dock, Plank and Latte show as a bar over the app's icon. A signal needs no reply: it is sent from
  the GUI thread, only when the bar would move by half a percent or appear or go.
- Notification: `org.freedesktop.Notifications.Notify` (GNOME, KDE, XFCE, Cinnamon, MATE, LXQt, dunst),
  asked on a thread of its own (`SerialThread`): a notification service that is slow to answer must not
  freeze the window. The `desktop-entry` hint names the app, so the desktop groups it and files it under
  its settings.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from app.serial_thread import SerialThread

log = logging.getLogger(__name__)

DESKTOP_ID = "hourglass"  # the installed hourglass.desktop (QGuiApplication.setDesktopFileName)
LAUNCHER_PATH = "/com/canonical/unity/launcherentry/hourglass"
LAUNCHER_INTERFACE = "com.canonical.Unity.LauncherEntry"
NOTIFICATIONS = ("org.freedesktop.Notifications", "/org/freedesktop/Notifications", "org.freedesktop.Notifications")
STEP = 0.005  # the bar moves by at least this much between two signals


class LauncherProgress:
    """The batch's progress (0..1) over the app's icon; `show(None)` hides it."""

    def __init__(self, bus, desktop_id: str = DESKTOP_ID) -> None:
        self.bus = bus
        self.app_uri = f"application://{desktop_id}.desktop"
        self._shown: float | None = None

    def show(self, fraction: float | None) -> None:
        if fraction is None:
            if self._shown is not None:
                self._send({"progress-visible": False})
                self._shown = None
            return
        fraction = min(1.0, max(0.0, float(fraction)))
        if self._shown is None or abs(fraction - self._shown) >= STEP or (fraction == 1.0 != self._shown):
            self._send({"progress": fraction, "progress-visible": True})
            self._shown = fraction

    def _send(self, properties: dict) -> None:
        from PySide6.QtDBus import QDBusMessage

        message = QDBusMessage.createSignal(LAUNCHER_PATH, LAUNCHER_INTERFACE, "Update")
        message.setArguments([self.app_uri, properties])  # (s, a{sv}): a dict travels as a{sv}
        if not self.bus.send(message):
            log.debug("the launcher progress signal was not sent: %s", self.bus.lastError().message())


class Notifier:
    """Desktop notifications through the session's notification service, sent on their own thread.

    Through jeepney rather than Qt's D-Bus module: Notify's hints are a{sv}, which Qt's proxy can only call
    when the service's introspection carries Qt's own annotations (a real daemon's does not: dunst refused
    the call), and PySide6 cannot build a uint32 or an empty string array for a message by hand."""

    def __init__(self, bus_address: str = "SESSION", icon: Path | None = None, desktop_id: str = DESKTOP_ID,
                 timeout: float = 25.0) -> None:
        self.bus_address = bus_address
        self.icon = icon.resolve().as_uri() if icon is not None and icon.exists() else desktop_id
        self.desktop_id = desktop_id
        self.timeout = timeout
        self._thread = SerialThread("notifications")

    def notify(self, summary: str, body: str) -> None:
        """Returns at once; a desktop without a notification service just shows nothing (logged)."""
        self._thread.submit(lambda: self._notify(summary, body))

    def wait(self, timeout: float | None = None) -> bool:
        return self._thread.wait(timeout)

    def _notify(self, summary: str, body: str) -> None:
        try:
            from jeepney import DBusAddress, HeaderFields, MessageType, new_method_call
            from jeepney.io.blocking import open_dbus_connection
        except ImportError:  # (installed without it: the title and the taskbar alert still say it)
            log.info("no D-Bus client (jeepney): \"%s\" not shown", summary)
            return
        service, path, interface = NOTIFICATIONS
        call = new_method_call(DBusAddress(path, bus_name=service, interface=interface), "Notify",
                               "susssasa{sv}i", ("Hourglass", 0, self.icon, summary, body, [],
                                                 {"desktop-entry": ("s", self.desktop_id)}, -1))
        try:
            with open_dbus_connection(bus=self.bus_address) as connection:
                reply = connection.send_and_get_reply(call, timeout=self.timeout)
        except KeyError:  # (jeepney: DBUS_SESSION_BUS_ADDRESS is not set)
            log.info("no session bus here: \"%s\" not shown", summary)
            return
        except (OSError, ValueError, RuntimeError) as exc:  # the bus went away, timed out, refused us, or is
            # at an address jeepney cannot reach (RuntimeError: a tcp: or launchd: bus)
            log.info("no notification (%s): \"%s\" not shown", exc, summary)
            return
        if reply.header.message_type is MessageType.error:
            log.info("the desktop did not show the notification \"%s\": %s %s", summary,
                     reply.header.fields.get(HeaderFields.error_name), " ".join(map(str, reply.body)))


def default_bus():
    """The session bus on Linux and other freedesktop systems; None elsewhere or without one."""
    if sys.platform in ("win32", "darwin"):
        return None
    try:
        from PySide6.QtDBus import QDBusConnection
    except ImportError:  # (an install without Qt's D-Bus module: the title and the alert still say it)
        return None
    bus = QDBusConnection.sessionBus()
    return bus if bus.isConnected() else None


def connect(window, bus, icon: Path | None = None) -> tuple[LauncherProgress, Notifier] | None:
    """Show `window`'s batch progress on its launcher entry and its unseen batch ends as notifications."""
    if bus is None:
        return None
    launcher, notifier = LauncherProgress(bus), Notifier(icon=icon)
    window.batch_progress.connect(launcher.show)
    window.batch_ended_unseen.connect(notifier.notify)
    return launcher, notifier
