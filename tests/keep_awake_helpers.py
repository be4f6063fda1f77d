"""For the keep-awake tests: a backend that records what it was asked, and the fixture that turns
keep-awake back on (tests/conftest.py turns it off for the rest of the suite)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def keep_awake_on(monkeypatch):
    monkeypatch.delenv("HOURGLASS_KEEP_AWAKE", raising=False)


class Recording:
    """Records each hold (True) and release (False)."""

    name = "test"

    def __init__(self, held: list[bool]) -> None:
        self.held = held

    def hold(self) -> bool:
        self.held.append(True)
        return True

    def release(self) -> None:
        self.held.append(False)
