"""What the engine client tells its users besides protocol events: its state, its errors, an event stream.

Kept apart from the client so services and tests can depend on these small types alone.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.protocol import ErrorInfo


class EngineState(enum.Enum):
    STOPPED = "stopped"  # not started yet, or closed
    STARTING = "starting"  # spawned, waiting for hello/ready
    READY = "ready"  # idle, accepting jobs
    BUSY = "busy"  # a job is running
    UNRESPONSIVE = "unresponsive"  # no message for a while; restarted automatically if it lasts
    CRASHED = "crashed"  # died; a restart is scheduled
    FATAL = "fatal"  # will not be restarted (protocol mismatch, crash loop, cannot launch)


@dataclass(frozen=True)
class EngineStatus:
    """Emitted on the event stream whenever the client's `EngineState` changes; `message` says why."""

    state: EngineState
    message: str = ""
    pid: int | None = None


class EngineError(Exception):
    """Base of the client's errors; the message is written for the user."""


class EngineStartError(EngineError):
    """The engine could not be launched or did not complete the handshake."""


class ProtocolMismatchError(EngineStartError):
    """The engine speaks another protocol version: a broken or mixed installation, restarting cannot help."""


class EngineUnavailableError(EngineError):
    """The engine is stopped for good (fatal state or closed): commands cannot be sent."""


class EngineCrashedError(EngineError):
    """The engine died (or was restarted) before answering a request."""


class CommandNotSentError(EngineError):
    """A command the protocol refused to encode (nothing was sent; the engine is fine)."""


class RequestError(EngineError):
    """The engine answered a request (configure, analyze) with an `error` event."""

    def __init__(self, error: ErrorInfo) -> None:
        super().__init__(error.message)
        self.error = error

    @property
    def code(self) -> str:
        return self.error.code


_CLOSED = object()


class EventStream:
    """One subscriber's view of the client's events, buffered from the moment it was created.

    Iterate it with `async for`, or wait for a particular event with `wait_for` (tests and services).
    """

    def __init__(self, on_close: Callable[[EventStream], None] | None = None) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._on_close = on_close
        self.closed = False

    def put(self, event: Any) -> None:
        if not self.closed:
            self._queue.put_nowait(event)

    def close(self) -> None:
        """Stop the stream: iteration ends once the buffered events are consumed."""
        if not self.closed:
            self._queue.put_nowait(_CLOSED)
            self.closed = True
            if self._on_close is not None:
                self._on_close(self)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Any:
        item = await self._queue.get()
        if item is _CLOSED:
            self._queue.put_nowait(_CLOSED)  # later calls end too
            raise StopAsyncIteration
        return item

    async def get(self, timeout: float | None = None) -> Any:
        """The next event; raises `TimeoutError` after `timeout` seconds and `EOFError` once closed."""
        try:
            return await asyncio.wait_for(self.__anext__(), timeout)
        except StopAsyncIteration:
            raise EOFError("the event stream is closed") from None

    async def wait_for(self, match: type | tuple[type, ...] | Callable[[Any], bool],
                       timeout: float | None = None) -> Any:
        """Skip events until one matches (an event class, or a predicate); `TimeoutError` after `timeout`."""
        pred = match if not isinstance(match, (type, tuple)) else (lambda e: isinstance(e, match))

        async def scan() -> Any:
            while True:
                event = await self.get()
                if pred(event):
                    return event

        return await asyncio.wait_for(scan(), timeout)

    def drain(self) -> list[Any]:
        """The events buffered right now, without waiting."""
        items = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is _CLOSED:
                self._queue.put_nowait(_CLOSED)
                break
            items.append(item)
        return items
