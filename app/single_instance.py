"""One window per user and data folder: a second start (double-clicking photos in a file manager, "Open with
Hourglass") hands its photos to the window that is already open and exits.

Two windows would each start an engine (two models competing for the same cores or GPU) and save the same
queue file over each other. The open window listens on a local socket (`QLocalServer`: a Unix socket or a
Windows named pipe) named after the data folder; a new start first tries to connect and, if something
answers, sends one JSON line `{"paths": [...]}` and stops there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger("app.single_instance")

CONNECT_MS = 500  # an open window answers at once; a stale socket refuses at once
MAX_MESSAGE = 1 << 20


def server_name(data_dir: Path) -> str:
    """The socket's name for this user and data folder (another `--data-dir` is another window)."""
    user = os.environ.get("USER") or os.environ.get("USERNAME") or ""
    digest = hashlib.sha256(os.fsencode(f"{user}\0{Path(data_dir).resolve()}")).hexdigest()[:16]  # any name
    return f"hourglass-{digest}"


def forward_to_running(paths: list[str], name: str) -> bool:
    """Give `paths` to the window listening on `name`; False when no window answers (start one)."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_MS):
        return False
    data = json.dumps({"paths": [os.path.abspath(p) for p in paths]}).encode() + b"\n"
    socket.write(data)
    ok = socket.waitForBytesWritten(CONNECT_MS)
    socket.disconnectFromServer()
    if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        socket.waitForDisconnected(CONNECT_MS)
    return ok


class InstanceServer(QObject):
    """Listens for later starts; `activated` carries the photos they were given (possibly none)."""

    activated = Signal(object)  # list[str] of paths; a `list` signal would mangle non-UTF-8 names

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._on_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Start listening; a socket left behind by a window that crashed is removed first (the caller has
        just found that nothing answers on it)."""
        if self.server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        if self.server.listen(self.name):
            return True
        log.warning("cannot listen for other starts on %s: %s", self.name, self.server.errorString())
        return False

    def close(self) -> None:
        self.server.close()

    def _on_connection(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._finish(s))
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if socket not in self._buffers:
            return
        self._buffers[socket] += bytes(socket.readAll().data())
        if b"\n" in self._buffers[socket] or len(self._buffers[socket]) > MAX_MESSAGE:
            self._finish(socket)

    def _finish(self, socket: QLocalSocket) -> None:
        data = self._buffers.pop(socket, None)
        if data is None:
            return
        for signal in (socket.readyRead, socket.disconnected):
            signal.disconnect()
        socket.deleteLater()
        try:
            paths = json.loads(data.split(b"\n", 1)[0] or b"{}").get("paths", [])
        except (ValueError, AttributeError):
            log.warning("ignored a malformed message from another start")
            return
        self.activated.emit([str(p) for p in paths if isinstance(p, str)])
