"""app.single_instance: a second start hands its photos to the open window instead of opening another."""

from __future__ import annotations

import socket
import sys

import pytest

from app.single_instance import InstanceServer, forward_to_running, server_name

TIMEOUT = 5000


@pytest.fixture
def name(tmp_path):
    return server_name(tmp_path / "data")


def test_a_second_start_gives_its_photos_to_the_open_window(qtbot, name, tmp_path):
    assert not forward_to_running(["a.jpg"], name)  # nothing open yet: this start opens the window
    server = InstanceServer(name)
    assert server.listen()
    try:
        odd = str(tmp_path / "caf\udce9.jpg")  # a POSIX name that is not UTF-8 arrives as it was
        with qtbot.waitSignal(server.activated, timeout=TIMEOUT) as blocker:
            assert forward_to_running([str(tmp_path / "a.jpg"), "rel/b.png", odd], name)
        assert blocker.args[0][0] == str(tmp_path / "a.jpg") and blocker.args[0][1].endswith("rel/b.png")
        assert blocker.args[0][2] == odd
        with qtbot.waitSignal(server.activated, timeout=TIMEOUT) as blocker:  # no photos: just to the front
            assert forward_to_running([], name)
        assert blocker.args == [[]]
    finally:
        server.close()
    assert not forward_to_running(["a.jpg"], name)


def test_each_data_folder_has_its_own_window(tmp_path):
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    assert server_name(tmp_path / "a") == server_name(tmp_path / "a" / ".." / "a")


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")
def test_a_socket_left_by_a_crashed_window_is_taken_over(qtbot, name):
    from PySide6.QtNetwork import QLocalServer

    probe = QLocalServer()
    assert probe.listen(name)
    path = probe.fullServerName()
    probe.close()
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)  # a socket file nobody listens on, as a killed window leaves it
    stale.close()
    assert not forward_to_running(["a.jpg"], name)
    server = InstanceServer(name)
    assert server.listen()
    with qtbot.waitSignal(server.activated, timeout=TIMEOUT):
        assert forward_to_running(["a.jpg"], name)
    server.close()


def test_a_malformed_message_is_ignored(qtbot, name):
    from PySide6.QtNetwork import QLocalSocket

    server = InstanceServer(name)
    assert server.listen()
    received = []
    server.activated.connect(received.append)
    client = QLocalSocket()
    client.connectToServer(name)
    assert client.waitForConnected(1000)
    client.write(b"not json\n")
    client.waitForBytesWritten(1000)
    qtbot.wait(200)
    assert received == []
    server.close()


def test_the_window_is_raised_and_given_the_photos(make_window, qtbot, photos):
    from app.main import bring_forward

    window = make_window()
    window.showMinimized()
    bring_forward(window, window.runner, [str(photos[1][0])])
    qtbot.waitUntil(lambda: len(window.queue) == 1, timeout=TIMEOUT)
    assert not window.isMinimized()


def test_a_photo_opened_with_hourglass_is_shown_even_when_queued_already(make_window, qtbot, photos):
    """Open With from a file manager, or an editor's Edit In, while other photos are on view: the opened photo
    is selected and shown, as a viewer opens a file; opened again later, the queued row is shown."""
    from app.main import bring_forward

    _root, files = photos
    window = make_window()
    window.add_paths([str(files[0]), str(files[1])])
    qtbot.waitUntil(lambda: len(window.queue) == 2, timeout=TIMEOUT)
    window.select_row(0)
    bring_forward(window, window.runner, [str(files[2])])
    qtbot.waitUntil(lambda: len(window.queue) == 3 and window.current_item() is window.queue[2], timeout=TIMEOUT)
    assert window.panel.shown_item == window.queue[2].id and len(window.selected_items()) == 1
    bring_forward(window, window.runner, [str(files[1].parent / ".." / files[1].parent.name / files[1].name)])
    qtbot.waitUntil(lambda: window.current_item() is window.queue[1], timeout=TIMEOUT)  # (queued already)
    assert len(window.queue) == 3
    window.add_paths([str(files[0].parent / "album")])  # a drop leaves the selection where it is
    qtbot.waitUntil(lambda: len(window.queue) == 5, timeout=TIMEOUT)
    assert window.current_item() is window.queue[1]
