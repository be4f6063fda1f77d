"""Short import path for the engine client; the implementation lives in the `app.client` package."""

from __future__ import annotations

from app.client import (
    ClientConfig,
    EngineClient,
    EngineCrashedError,
    EngineError,
    EngineStartError,
    EngineState,
    EngineStatus,
    EngineUnavailableError,
    EventStream,
    ProcessOutcome,
    ProtocolMismatchError,
    RequestError,
)

__all__ = [
    "ClientConfig", "EngineClient", "EngineCrashedError", "EngineError", "EngineStartError", "EngineState",
    "EngineStatus", "EngineUnavailableError", "EventStream", "ProcessOutcome", "ProtocolMismatchError",
    "RequestError",
]
