"""A keep-awake backend that records what it was asked, for the CLI's and the window's tests."""

from __future__ import annotations


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
