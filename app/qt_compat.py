"""Work-arounds for bugs in the Qt binding, installed once by the composition root (and the GUI tests).

PySide6 6.12 on CPython 3.11: `SignalInstance.emit` returns `True`/`False` without a new reference, so
every signal emitted from Python (ours, and qasync's `call_soon_threadsafe`) takes one reference away
from `True`. CPython 3.11 starts with a few hundred, and when they run out the process aborts with
"Fatal Python error: bool_dealloc". On 3.12+ booleans are immortal and nothing happens. The fix is
probed, not version-matched: it is installed only when one emit really loses a reference.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger("app.qt")

_installed = False


def _emit_loses_a_reference() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        fired = Signal()

    probe = _Probe()
    before = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(4):
        probe.fired.emit()
    after = sys.getrefcount(True), sys.getrefcount(False)
    lost = before[0] - after[0] + before[1] - after[1]
    if lost > 0:  # give back what the probe took
        for _ in range(before[0] - after[0]):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
        for _ in range(before[1] - after[1]):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(False))
    return lost > 0


def install() -> bool:
    """Make `SignalInstance.emit` return a proper new reference; True if the fix was needed."""
    global _installed
    if _installed:
        return True
    if sys.version_info >= (3, 12) or not _emit_loses_a_reference():
        return False
    from PySide6.QtCore import SignalInstance

    original = SignalInstance.emit
    incref = ctypes.pythonapi.Py_IncRef

    def emit(self, *args):  # type: ignore[no-untyped-def]
        result = original(self, *args)
        incref(ctypes.py_object(result))  # the reference the binding forgot (an extra one is harmless)
        return result

    SignalInstance.emit = emit  # type: ignore[method-assign]
    _installed = True
    log.info("installed the PySide6 Signal.emit reference-count fix")
    return True
