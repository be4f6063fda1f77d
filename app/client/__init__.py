"""The GUI's side of the engine: launch, handshake, commands, events and supervision (pure asyncio).

Nothing here imports Qt or torch; from `engine` only the stdlib-only `engine.protocol` is used.
"""

from __future__ import annotations

from app.client.client import ClientConfig, EngineClient
from app.client.connection import ProcessOutcome
from app.client.events import (
    CommandNotSentError,
    EngineCrashedError,
    EngineError,
    EngineStartError,
    EngineState,
    EngineStatus,
    EngineUnavailableError,
    EventStream,
    ProtocolMismatchError,
    RequestError,
)
from app.client.launcher import engine_command

__all__ = [
    "ClientConfig", "CommandNotSentError", "EngineClient", "EngineCrashedError", "EngineError",
    "EngineStartError", "EngineState", "EngineStatus", "EngineUnavailableError", "EventStream", "ProcessOutcome",
    "ProtocolMismatchError", "RequestError", "engine_command",
]
