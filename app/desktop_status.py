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
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal

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
    the call), and PySide6 cannot build a uint32 or an empty string array for a message by hand.

    With `on_click`, the notification offers its default action ("Show": a click on it, on most desktops)
    and a thread of its own listens for it until the notification is closed (or `watch_s` has passed)."""

    def __init__(self, bus_address: str = "SESSION", icon: Path | None = None, desktop_id: str = DESKTOP_ID,
                 timeout: float = 25.0, watch_s: float = 12 * 3600) -> None:
        self.bus_address = bus_address
        self.icon = icon.resolve().as_uri() if icon is not None and icon.exists() else desktop_id
        self.desktop_id = desktop_id
        self.timeout = timeout
        self.watch_s = watch_s
        self._thread = SerialThread("notifications")
        self._watchers: list[threading.Thread] = []

    @property
    def watching(self) -> int:
        """Notifications shown whose click is still being listened for."""
        return sum(t.is_alive() for t in list(self._watchers))

    def notify(self, summary: str, body: str, on_click: Callable[[], object] | None = None) -> None:
        """Returns at once; a desktop without a notification service just shows nothing (logged).
        `on_click` runs on the listening thread: hand it something that is safe there (`GuiCall`)."""
        self._thread.submit(lambda: self._notify(summary, body, on_click))

    def wait(self, timeout: float | None = None) -> bool:
        return self._thread.wait(timeout)

    def _notify(self, summary: str, body: str, on_click: Callable[[], object] | None) -> None:
        try:
            from jeepney import (
                DBusAddress,
                HeaderFields,
                MatchRule,
                MessageType,
                message_bus,
                new_method_call,
            )
            from jeepney.io.blocking import open_dbus_connection
        except ImportError:  # (installed without it: the title and the taskbar alert still say it)
            log.info("no D-Bus client (jeepney): \"%s\" not shown", summary)
            return
        service, path, interface = NOTIFICATIONS
        actions = ["default", "Show"] if on_click is not None else []
        call = new_method_call(DBusAddress(path, bus_name=service, interface=interface), "Notify",
                               "susssasa{sv}i", ("Hourglass", 0, self.icon, summary, body, actions,
                                                 {"desktop-entry": ("s", self.desktop_id)}, -1))
        rule = MatchRule(type="signal", interface=interface, path=path)
        try:
            connection = open_dbus_connection(bus=self.bus_address)
        except KeyError:  # (jeepney: DBUS_SESSION_BUS_ADDRESS is not set)
            log.info("no session bus here: \"%s\" not shown", summary)
            return
        except (OSError, ValueError, RuntimeError) as exc:  # the bus went away, timed out, refused us, or is
            # at an address jeepney cannot reach (RuntimeError: a tcp: or launchd: bus)
            log.info("no notification (%s): \"%s\" not shown", exc, summary)
            return
        watching = False
        try:
            if on_click is not None:  # (before Notify: a click at once is not missed)
                connection.send_and_get_reply(message_bus.AddMatch(rule), timeout=self.timeout)
            reply = connection.send_and_get_reply(call, timeout=self.timeout)
            if reply.header.message_type is MessageType.error:
                log.info("the desktop did not show the notification \"%s\": %s %s", summary,
                         reply.header.fields.get(HeaderFields.error_name), " ".join(map(str, reply.body)))
            elif on_click is not None:
                watcher = threading.Thread(target=self._watch, args=(connection, rule, reply.body[0], on_click),
                                           name="notification-clicks", daemon=True)
                self._watchers = [t for t in self._watchers if t.is_alive()] + [watcher]  # (this thread only)
                watcher.start()
                watching = True
        except OSError as exc:  # (TimeoutError among them)
            log.info("no notification (%s): \"%s\" not shown", exc, summary)
        finally:
            if not watching:
                connection.close()

    def _watch(self, connection, rule, notification: int, on_click: Callable[[], object]) -> None:
        """Until the notification is clicked (its default action) or closed, or `watch_s` has passed."""
        from jeepney import HeaderFields

        deadline = time.monotonic() + self.watch_s
        try:
            with connection, connection.filter(rule, bufsize=16) as signals:
                while (left := deadline - time.monotonic()) > 0:
                    message = connection.recv_until_filtered(signals, timeout=left)
                    member, body = message.header.fields.get(HeaderFields.member), message.body
                    if not body or body[0] != notification:
                        continue  # (another application's notification)
                    if member == "ActionInvoked" and body[1:] == ("default",):
                        on_click()
                        return
                    if member == "NotificationClosed":
                        return
        except OSError:  # the bus went away, or the time ran out (TimeoutError)
            return


class GuiCall(QObject):
    """A function called from any thread that runs on the GUI thread (this object's), queued."""

    called = Signal()

    def __init__(self, function: Callable[[], object]) -> None:
        super().__init__()
        self.called.connect(function, Qt.ConnectionType.QueuedConnection)

    def __call__(self) -> None:
        self.called.emit()


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


def connect(window, bus, icon: Path | None = None,
            on_click: Callable[[], object] | None = None) -> tuple[LauncherProgress, Notifier] | None:
    """Show `window`'s batch progress on its launcher entry and its unseen batch ends as notifications; a
    click on one runs `on_click` (the app: bring the window to the front) on the GUI thread."""
    if bus is None:
        return None
    launcher, notifier = LauncherProgress(bus), Notifier(icon=icon)
    notifier.click = GuiCall(on_click) if on_click is not None else None  # (kept: it must outlive the call)
    window.batch_progress.connect(launcher.show)
    window.batch_ended_unseen.connect(lambda summary, body: notifier.notify(summary, body, notifier.click))
    return launcher, notifier
