"""One engine process seen as lines: events in, commands out, a stderr ring buffer, and how it ended.

The connection knows nothing about jobs or restarts (that is the client's business); it decodes every
stdout line through `engine.protocol`, reports refused lines, keeps the last stderr lines for crash
reports, and turns the process's end into a `ProcessOutcome` a user can read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from app.client.events import CommandNotSentError, EngineCrashedError
from engine.protocol import Message, ProtocolError, UnknownMessage, decode, encode

log = logging.getLogger("app.client")
engine_log = logging.getLogger("app.client.engine")  # the engine's own stderr, line by line


@dataclass(frozen=True)
class ProcessOutcome:
    """How an engine process ended: exit code or signal, why (if we ended it), and its last log lines."""

    returncode: int | None
    reason: str | None  # set when the client killed it: what it did wrong
    log_tail: tuple[str, ...] = ()

    @property
    def signal_name(self) -> str | None:
        if self.returncode is None or self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"

    def summary(self) -> str:
        if self.reason:
            return self.reason
        if self.signal_name == "SIGKILL":  # (when the client kills it, `reason` says why instead)
            return ("the engine was killed by SIGKILL, most often because the computer ran out of memory: close "
                    "other programs before retrying")
        if self.signal_name:
            return f"the engine was killed by {self.signal_name}"
        if self.returncode is None:
            return "the engine stopped"
        return f"the engine exited with code {self.returncode}"

    def details(self) -> str:
        tail = "\n".join(self.log_tail[-50:]) or "(the engine wrote no log lines)"
        return f"{self.summary()} (exit status {self.returncode}).\n\nLast engine log lines:\n{tail}"


MessageHandler = Callable[["Connection", "Message | UnknownMessage"], None]
InvalidHandler = Callable[["Connection", bytes, str], None]


class Connection:
    """Reads and writes one engine process's pipes; `wait_closed` resolves when it has exited."""

    def __init__(self, proc: asyncio.subprocess.Process, *, on_message: MessageHandler,
                 on_invalid: InvalidHandler, log_lines: int = 200) -> None:
        self.proc = proc
        self.pid: int = proc.pid
        self.handshaking = True
        self.kill_reason: str | None = None
        self.last_message_at = time.monotonic()
        self.engine_state = "starting"  # from the last heartbeat/pong
        self._on_message, self._on_invalid = on_message, on_invalid
        self._log: deque[str] = deque(maxlen=log_lines)
        self._send_lock = asyncio.Lock()
        self._stdout_task = asyncio.ensure_future(self._read_stdout())
        self._stderr_task = asyncio.ensure_future(self._read_stderr())
        self._closed = asyncio.ensure_future(self._watch())

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    def log_tail(self) -> list[str]:
        return list(self._log)

    async def send(self, msg: Message) -> None:
        """Write one command line; `EngineCrashedError` if the engine can no longer read,
        `CommandNotSentError` if the protocol refuses the command (then the caller's photo fails, instead
        of waiting for an answer that cannot come)."""
        try:
            data = encode(msg)
        except ProtocolError as exc:
            raise CommandNotSentError(f"This could not be sent to the engine: {exc}") from None
        stdin = self.proc.stdin
        if stdin is None or stdin.is_closing() or not self.alive:
            raise EngineCrashedError("The engine is not running.")
        async with self._send_lock:
            try:
                stdin.write(data)
                await stdin.drain()
            except (ConnectionError, RuntimeError) as exc:
                raise EngineCrashedError("The engine is not running.") from exc

    async def wait_closed(self) -> ProcessOutcome:
        return await asyncio.shield(self._closed)

    async def terminate(self, reason: str | None, grace: float = 3.0) -> ProcessOutcome:
        """Ask the process to stop (SIGTERM), then kill it after `grace` seconds."""
        if reason and self.kill_reason is None:
            self.kill_reason = reason
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                await asyncio.wait_for(asyncio.shield(self.proc.wait()), grace)
            except asyncio.TimeoutError:
                self.kill(None)
        return await self.wait_closed()

    def kill(self, reason: str | None) -> None:
        if reason and self.kill_reason is None:
            self.kill_reason = reason
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()

    async def _read_stdout(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        while True:
            try:
                line = await stdout.readline()
            except ValueError:  # longer than the stream limit: the reader skipped it
                self._on_invalid(self, b"", "a line over the size limit")
                continue
            except ConnectionError:
                break
            if not line:
                break
            try:
                msg = decode(line, expect="event")
            except ProtocolError as exc:
                self._on_invalid(self, line, str(exc))
                continue
            self.last_message_at = time.monotonic()
            state = getattr(msg, "state", None)
            if isinstance(state, str):
                self.engine_state = state
            self._on_message(self, msg)

    async def _read_stderr(self) -> None:
        stderr = self.proc.stderr
        assert stderr is not None
        while True:
            try:
                raw = await stderr.readline()
            except ValueError:
                self._log.append("[a very long log line was skipped]")
                continue
            except ConnectionError:
                break
            if not raw:
                break
            line = raw.decode("utf-8", errors="replace").rstrip()
            self._log.append(line)
            engine_log.info("[%d] %s", self.pid, line)  # into the app's log file (app.logs), not the console

    async def _watch(self) -> ProcessOutcome:
        """Wait for the end of the process (or of its output), then for the pipes to drain."""
        await asyncio.wait({self._stdout_task, asyncio.ensure_future(self.proc.wait())},
                                     return_when=asyncio.FIRST_COMPLETED)
        if self.alive:  # stdout closed but the process lives on: it cannot talk to us any more
            try:
                await asyncio.wait_for(asyncio.shield(self.proc.wait()), 2.0)
            except asyncio.TimeoutError:
                self.kill("the engine closed its output")
                await self.proc.wait()
        _, pending = await asyncio.wait({self._stdout_task, self._stderr_task}, timeout=2.0)
        for task in pending:  # a grandchild may hold the pipes open
            task.cancel()
        with contextlib.suppress(Exception):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        return ProcessOutcome(self.proc.returncode, self.kill_reason, tuple(self._log))
