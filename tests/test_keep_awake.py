"""Keeping the computer awake while photos are restored (engine.keep_awake), without a desktop's own service:
Windows' and macOS's calls through fakes of the system functions, logind's lock through systemd-inhibit
(for real where it runs), and the command line's batch."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import numpy as np
import pytest
from keep_awake_helpers import Recording, keep_awake_on  # noqa: F401 - (an autouse fixture)
from PIL import Image

from engine.keep_awake import Caffeinate, KeepAwake, SystemdInhibit, WindowsExecutionState, kept_awake


def test_windows_and_macos_hold_idle_sleep_off_the_documented_way():
    calls = []

    class Kernel32:
        def SetThreadExecutionState(self, flags):
            calls.append(hex(flags))
            return 0x80000000

    with kept_awake(lambda: [WindowsExecutionState(Kernel32())]) as keep:
        assert keep.held_by == "SetThreadExecutionState"
    assert calls == ["0x80000001", "0x80000000"]  # ES_CONTINUOUS | ES_SYSTEM_REQUIRED, then ES_CONTINUOUS alone

    started = []

    def popen(args, **kw):  # caffeinate's command, run as a `sleep` (this is not a Mac)
        started.append(args)
        return subprocess.Popen(["sleep", "30"], **kw)

    caffeinate = Caffeinate(popen)
    assert caffeinate.hold()
    process = caffeinate.process
    caffeinate.release()  # ends the helper's own process group
    assert started == [["caffeinate", "-i", "-w", str(os.getpid())]] and process.returncode == -signal.SIGTERM


def test_logind_lock_ends_with_the_batch_and_its_absence_is_noticed(monkeypatch):
    """systemd-inhibit holds logind's lock while `tail --pid` waits for this process; where logind does not
    answer (a container) it exits at once, which counts as not held. For real where systemd-inhibit exists."""
    if shutil.which("systemd-inhibit") is None or shutil.which("tail") is None:
        pytest.skip("no systemd-inhibit here")
    inhibit = SystemdInhibit()
    command = inhibit.command()
    assert command[:5] == ["systemd-inhibit", "--what=sleep:idle", "--who=Hourglass", "--why=Restoring photos",
                           "--mode=block"] and command[5:7] == ["tail", f"--pid={os.getpid()}"]
    if inhibit.hold():  # a machine with logind: the lock is there until released
        pid = inhibit.process.pid
        listed = subprocess.run(["systemd-inhibit", "--list"], capture_output=True, text=True, check=False).stdout
        assert "Hourglass" in listed
        inhibit.release()
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)  # the helper and its tail are gone
    else:
        assert inhibit.process is None

    class Stays:  # still running after settle_s: the lock is held
        def wait(self, timeout):
            raise subprocess.TimeoutExpired("systemd-inhibit", timeout)

    assert SystemdInhibit(lambda *a, **k: Stays()).hold()


def test_nothing_to_hold_with_does_not_stop_a_batch(caplog):
    class Broken:
        name = "broken"

        def hold(self):
            raise OSError("no bus")

        def release(self):
            raise AssertionError("never held")

    with caplog.at_level("INFO", logger="engine.keep_awake"), kept_awake(lambda: [Broken()]) as keep:
        assert keep.held_by is None
    assert "no bus" in caplog.text and "it may go to sleep" in caplog.text
    keep = KeepAwake(list)
    keep.set_held(True)
    keep.set_held(False)


def test_the_command_line_keeps_the_computer_awake_for_its_batch(tmp_path, tiny_model_path, monkeypatch):
    import engine.keep_awake
    from engine.cli import main

    held: list[bool] = []
    monkeypatch.setattr(engine.keep_awake, "platform_backends", lambda: [Recording(held)])
    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(tmp_path / "a.png")
    assert main(["restore", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), "--model", str(tiny_model_path),
                 "--steps", "1", "--task", "haze"]) == 0
    assert held == [True, False]


def test_it_can_be_turned_off(monkeypatch):
    """`HOURGLASS_KEEP_AWAKE=0`: a server, or a test suite, that must not ask for it."""
    held: list[bool] = []
    monkeypatch.setenv("HOURGLASS_KEEP_AWAKE", "0")
    with kept_awake(lambda: [Recording(held)]) as keep:
        assert keep.held_by is None
    assert held == []
