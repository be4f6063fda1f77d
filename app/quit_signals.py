"""SIGTERM (a logout, `kill`, a service manager) and Ctrl+C in the terminal that started the app close the window
as *Quit* does, without asking: the queue saved, the photo being restored cancelled (no partial file), the
engine stopped, the run's crash report marked as ended. Before, SIGTERM ended the process on the spot, and
Ctrl+C's KeyboardInterrupt came wherever Python ran next: the real window stayed open (seen under X11), or
the run ended with status 130 without closing the window.

Qt's event loop waits in C++, where Python's signal handlers cannot run until some Python code does; a socket
pair given to `signal.set_wakeup_fd` wakes the loop, so the handler runs at once. A second signal, while the
window closes (a photo being cancelled), ends the process at once.
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Callable

from PySide6.QtCore import QSocketNotifier, QTimer

log = logging.getLogger("app")

SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


def close_on_signals(window) -> Callable[[], None]:
    """From now on SIGINT and SIGTERM close `window` (a MainWindow) without asking; returns the function that
    puts the former handlers back."""
    wake_read, wake_write = socket.socketpair()
    for s in (wake_read, wake_write):
        s.setblocking(False)
    notifier = QSocketNotifier(wake_read.fileno(), QSocketNotifier.Type.Read, window)

    def drain() -> None:  # (the handler itself runs as soon as the loop hands control to Python, here)
        try:
            while wake_read.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    notifier.activated.connect(drain)
    before = {s: signal.getsignal(s) for s in SIGNALS}
    before_fd = signal.set_wakeup_fd(wake_write.fileno())

    def handler(signum: int, frame) -> None:
        del frame
        log.info("%s: closing the window", signal.Signals(signum).name)
        for s in SIGNALS:  # a second one ends the process at once
            signal.signal(s, signal.SIG_DFL)
        QTimer.singleShot(0, lambda: (window.confirm_close(), window.close()))

    for s in SIGNALS:
        signal.signal(s, handler)

    def put_back() -> None:
        for s, h in before.items():
            signal.signal(s, h)
        signal.set_wakeup_fd(before_fd)
        notifier.setEnabled(False)
        wake_read.close()
        wake_write.close()

    return put_back
