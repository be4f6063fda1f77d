"""`EngineClient`: drives the engine process from asyncio (no Qt, no torch) and keeps it alive.

It launches the worker, checks the handshake (a protocol mismatch is refused for good), sends commands,
and republishes the engine's events on `events()` streams. It also supervises: a dead or silent engine
fails its running job with `engine_crashed` (with the engine's last log lines), is restarted with
backoff, and the next job runs on the new one; a cancel that is not honoured within `cancel_grace`
kills and restarts the engine. Every submitted job gets exactly one terminal event on the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.client.connection import Connection, ProcessOutcome
from app.client.events import (
    EngineCrashedError,
    EngineStartError,
    EngineState,
    EngineStatus,
    EngineUnavailableError,
    EventStream,
    ProtocolMismatchError,
    RequestError,
)
from app.client.launcher import engine_command, engine_env, spawn
from engine import protocol as P

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger("app.client")

_AVAILABLE = (EngineState.READY, EngineState.BUSY, EngineState.UNRESPONSIVE)


@dataclass(frozen=True)
class ClientConfig:
    """Timeouts and policies; tests shrink them, the defaults follow the architecture guide (§2.6)."""

    command: tuple[str, ...] | None = None  # None: `engine_command()`
    env: Mapping[str, str] | None = None  # extra environment variables for the engine
    hello_timeout: float = 30.0
    ready_timeout: float = 180.0  # importing torch and probing devices
    request_timeout: float = 300.0  # configure may load a model
    unresponsive_after: float = 15.0  # silence → UNRESPONSIVE
    restart_after: float = 60.0  # silence → killed and restarted
    loading_factor: float = 4.0  # both silences are this much longer while the engine says "loading"
    cancel_grace: float = 5.0  # an unhonoured cancel → killed and restarted
    shutdown_grace: float = 3.0
    kill_grace: float = 3.0  # SIGTERM → SIGKILL
    restart_backoff: tuple[float, ...] = (1.0, 2.0, 4.0)
    max_crashes: int = 3  # this many within `crash_window` → FATAL
    crash_window: float = 60.0
    max_invalid_lines: int = 3  # invalid stdout lines in a row → the engine is broken
    log_lines: int = 200


RESTART_HINT = "Start or Retry starts it again (if it keeps stopping, the log says why)."


@dataclass
class _Job:
    job_id: str
    done: asyncio.Future[P.Message]
    cancel_requested: bool = False
    escalation: asyncio.Task[None] | None = None


@dataclass
class _Launch:
    conn: Connection
    hello: asyncio.Future[P.Hello]
    ready: asyncio.Future[P.Ready]


class EngineClient:
    """The GUI's handle on the engine. Use `async with EngineClient() as engine:` or `start`/`close`."""

    def __init__(self, config: ClientConfig | None = None) -> None:
        self.config = config or ClientConfig()
        self.hello: P.Hello | None = None
        self.ready: P.Ready | None = None
        self.last_outcome: ProcessOutcome | None = None
        self.restarts = 0
        self._state = EngineState.STOPPED
        self._message = ""
        self._unresponsive = False
        self._conn: Connection | None = None
        self._launch: _Launch | None = None
        self._jobs: dict[str, _Job] = {}
        self._finished: OrderedDict[str, P.Message] = OrderedDict()
        self._requests: dict[str, asyncio.Future[P.Message]] = {}
        self._settings: dict[str, Any] = {}  # the configure fields to replay on a new engine
        self._crashes: deque[float] = deque()
        self._subscribers: set[EventStream] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._state_event: asyncio.Event | None = None
        self._starting: asyncio.Task[P.Ready] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._req_ids = itertools.count(1)
        self._invalid_run = 0
        self._closing = False

    # ------------------------------------------------------------------ public API

    @property
    def state(self) -> EngineState:
        return self._state

    @property
    def pid(self) -> int | None:
        return self._conn.pid if self._conn is not None else None

    def log_tail(self) -> list[str]:
        """The engine's last stderr lines (of the running process, else of the last one)."""
        if self._conn is not None:
            return self._conn.log_tail()
        return list(self.last_outcome.log_tail) if self.last_outcome else []

    def events(self) -> EventStream:
        """A new stream of every event from now on: protocol events, synthetic ones, `EngineStatus`."""
        stream = EventStream(on_close=self._subscribers.discard)
        self._subscribers.add(stream)
        return stream

    async def start(self) -> P.Ready:
        """Launch the engine and complete the handshake; raises `EngineStartError` or `ProtocolMismatchError`."""
        if self._closing:
            raise EngineUnavailableError("The engine client is closed.")
        if self._state in _AVAILABLE and self.ready is not None:
            return self.ready
        if self._state is EngineState.FATAL:
            self._crashes.clear()  # the user starts it again after a give-up: a new crash is not the fourth
        if self._watchdog is None:
            self._watchdog = self._spawn(self._watch_silence())
        if self._starting is None or self._starting.done():
            self._starting = asyncio.ensure_future(self._start_once())
        return await asyncio.shield(self._starting)

    async def restart(self) -> P.Ready:
        """Forget past crashes and start again (the "Restart engine" action after FATAL)."""
        conn = self._conn
        if conn is not None and not conn.handshaking:
            outcome = await conn.terminate("restarted on request", self.config.kill_grace)
            self._crashes.clear()
            self._lost(conn, outcome)  # settles its job and schedules the new engine
        self._crashes.clear()
        if self._state is EngineState.FATAL:
            self._set_state(EngineState.STOPPED, "restarting on request")
        return await self.start()

    async def configure(self, *, model: str | os.PathLike[str] | None = None, device: str | None = None,
                        quality: str | None = None, steps: int | None = None, tile: int | None = None,
                        overlap: int | None = None, threads: int | None = None,
                        timeout: float | None = None) -> P.Configured:
        """Change the engine's settings (a model or device loads now); remembered across restarts."""
        fields = {"model": None if model is None else str(model), "device": device, "quality": quality,
                  "steps": steps, "tile": tile, "overlap": overlap, "threads": threads}
        fields = {k: v for k, v in fields.items() if v is not None}
        msg = P.Configure(self._req_id(), **fields)
        conn = await self._available()
        reply = await self._request(conn, msg, timeout)
        assert isinstance(reply, P.Configured)
        self._settings.update(fields)
        return reply

    async def analyze(self, input_path: str | os.PathLike[str], result_path: str | os.PathLike[str] = "",
                      timeout: float | None = None) -> P.Analysis:
        """Detect the photo's degradation; with `result_path`, also find its results from earlier runs there."""
        where = os.path.abspath(result_path) if result_path else ""
        msg = P.Analyze(self._req_id(), os.path.abspath(input_path), where)
        reply = await self._request(await self._available(), msg, timeout)
        assert isinstance(reply, P.Analysis)
        return reply

    async def ping(self, timeout: float | None = None) -> P.Pong:
        reply = await self._request(await self._available(), P.Ping(self._req_id()), timeout)
        assert isinstance(reply, P.Pong)
        return reply

    async def submit(self, input_path: str | os.PathLike[str], output_path: str | os.PathLike[str],
                     options: P.JobOptions | None = None, *, job_id: str | None = None) -> str:
        """Send one job; returns its id. Its events, and exactly one terminal event, arrive on `events()`."""
        msg = P.Submit(job_id or uuid.uuid4().hex, os.path.abspath(input_path), os.path.abspath(output_path),
                       options or P.JobOptions())
        if msg.job_id in self._jobs or msg.job_id in self._finished:
            raise ValueError(f"job id {msg.job_id!r} was already used")
        conn = await self._available()
        self._jobs[msg.job_id] = _Job(msg.job_id, asyncio.get_running_loop().create_future())
        self._refresh_state()
        with contextlib.suppress(EngineCrashedError):  # a dead engine fails the job through the monitor
            await conn.send(msg)
        return msg.job_id

    async def wait_job(self, job_id: str, timeout: float | None = None) -> P.Message:
        """The terminal event (`Result`, `Failed` or `Cancelled`) of a submitted job."""
        if job_id in self._finished:
            return self._finished[job_id]
        job = self._jobs.get(job_id)
        if job is None:
            raise KeyError(f"unknown job {job_id!r}")
        return await asyncio.wait_for(asyncio.shield(job.done), timeout)

    async def run(self, input_path: str | os.PathLike[str], output_path: str | os.PathLike[str],
                  options: P.JobOptions | None = None, *, job_id: str | None = None,
                  timeout: float | None = None) -> P.Message:
        """Submit a job and wait for its terminal event."""
        return await self.wait_job(await self.submit(input_path, output_path, options, job_id=job_id), timeout)

    async def cancel(self, job_id: str) -> None:
        """Ask the engine to stop a job; if it has not stopped within `cancel_grace`, kill and restart it."""
        job = self._jobs.get(job_id)
        if job is None or job.cancel_requested:
            return
        job.cancel_requested = True
        conn = self._conn
        if conn is None:
            return
        with contextlib.suppress(EngineCrashedError):
            await conn.send(P.Cancel(job_id))
        job.escalation = self._spawn(self._escalate_cancel(job, conn))

    async def close(self) -> None:
        """Shut the engine down (`shutdown`, then terminate, then kill) and end every event stream."""
        if self._closing:
            return
        self._closing = True
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        conn = self._conn
        if conn is not None and conn.alive:
            with contextlib.suppress(EngineCrashedError):
                await conn.send(P.Shutdown())
            try:
                await asyncio.wait_for(conn.wait_closed(), self.config.shutdown_grace)
            except asyncio.TimeoutError:
                await conn.terminate("did not shut down in time", 2.0)
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._conn is not None:  # the monitor was cancelled before it saw the end
            self._lost(self._conn, await self._conn.wait_closed())
        self._set_state(EngineState.STOPPED, "closed")
        for stream in list(self._subscribers):
            stream.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ launching

    async def _start_once(self) -> P.Ready:
        try:
            return await self._launch_engine()
        except ProtocolMismatchError as exc:
            self._set_state(EngineState.FATAL, str(exc))
            raise
        except EngineStartError as exc:
            self._set_state(EngineState.FATAL, str(exc))
            raise

    async def _launch_engine(self) -> P.Ready:
        cfg = self.config
        self._set_state(EngineState.STARTING, "starting the engine")
        command = list(cfg.command or engine_command())
        try:
            proc = await spawn(command, engine_env(cfg.env))
        except OSError as exc:
            raise EngineStartError(f"The engine could not be started ({exc}). Reinstall Hourglass.") from exc
        loop = asyncio.get_running_loop()
        conn = Connection(proc, on_message=self._on_message, on_invalid=self._on_invalid, log_lines=cfg.log_lines)
        launch = self._launch = _Launch(conn, loop.create_future(), loop.create_future())
        self._conn = conn
        self._invalid_run = 0
        self._spawn(self._monitor(conn))
        log.info("engine started: %s (pid %d)", " ".join(command), conn.pid)
        try:
            self.hello = await asyncio.wait_for(asyncio.shield(launch.hello), cfg.hello_timeout)
            if self.hello.protocol != P.PROTOCOL_VERSION:
                raise _mismatch(self.hello.protocol)
            ready = await asyncio.wait_for(asyncio.shield(launch.ready), cfg.ready_timeout)
            if self._settings:  # a restarted engine gets the settings its predecessor had
                try:
                    await self._request(conn, P.Configure(self._req_id(), **self._settings), cfg.request_timeout)
                except (RequestError, asyncio.TimeoutError) as exc:
                    log.warning("the engine refused the previous settings: %s", exc)
        except (asyncio.TimeoutError, EngineCrashedError, EngineStartError, asyncio.CancelledError) as exc:
            outcome = await conn.terminate(_start_failure(exc, cfg), cfg.kill_grace)
            if self._conn is conn:
                self._conn = None
            self.last_outcome = outcome
            if isinstance(exc, (asyncio.CancelledError, ProtocolMismatchError)):
                raise
            raise EngineStartError(_did_not_start(outcome)) from exc
        finally:
            self._launch = None
            for fut in (launch.hello, launch.ready):  # never leave an exception unretrieved
                if fut.done() and not fut.cancelled():
                    fut.exception()
                else:
                    fut.cancel()
        conn.handshaking = False
        self.ready = ready
        self._refresh_state(f"engine ready (pid {conn.pid})")
        return ready

    async def _monitor(self, conn: Connection) -> None:
        self._lost(conn, await conn.wait_closed())

    def _lost(self, conn: Connection, outcome: ProcessOutcome) -> None:
        """The engine process ended: settle its jobs and requests, then restart it (or give up)."""
        if self._launch is not None and self._launch.conn is conn:
            for fut in (self._launch.hello, self._launch.ready):
                if not fut.done():
                    fut.set_exception(EngineCrashedError(outcome.summary()))
            self._fail_requests(outcome)
            return
        if conn is not self._conn:
            return
        self._conn = None
        self.last_outcome = outcome
        if self._closing:
            log.info("engine (pid %d) stopped: %s", conn.pid, outcome.summary())
        else:
            log.warning("engine (pid %d) ended: %s", conn.pid, outcome.details())
        self._fail_requests(outcome)
        given_up = False
        if not self._closing:
            now = time.monotonic()
            self._crashes.append(now)
            while self._crashes and now - self._crashes[0] > self.config.crash_window:
                self._crashes.popleft()
            given_up = len(self._crashes) >= self.config.max_crashes
        then = (f"It stopped {len(self._crashes)} times in a short while and is not restarted automatically. "
                f"{RESTART_HINT}" if given_up else "It is being restarted; you can retry the photo.")
        for job in list(self._jobs.values()):
            if job.cancel_requested or self._closing:
                self._finish(P.Cancelled(job.job_id))
            else:
                self._finish(P.Failed(job.job_id, P.ErrorInfo.make(
                    P.ErrorCode.ENGINE_CRASHED,
                    f"The engine stopped unexpectedly while restoring this photo ({outcome.summary()}). {then}",
                    outcome.details())))
        if self._closing:
            return
        if given_up:
            self._set_state(EngineState.FATAL, f"The engine stopped {len(self._crashes)} times in a short while "
                                               f"({outcome.summary()}); it will not be restarted automatically. "
                                               f"{RESTART_HINT}")
            return
        self._set_state(EngineState.CRASHED, outcome.summary())
        self._starting = self._spawn(self._restart_later())

    def _fail_requests(self, outcome: ProcessOutcome) -> None:
        for fut in self._requests.values():
            if not fut.done():
                fut.set_exception(EngineCrashedError(f"The engine stopped before answering: {outcome.summary()}."))

    async def _restart_later(self) -> P.Ready:
        backoff = self.config.restart_backoff or (0.0,)
        while True:
            await asyncio.sleep(backoff[min(max(len(self._crashes), 1), len(backoff)) - 1])
            try:
                ready = await self._launch_engine()
            except ProtocolMismatchError as exc:
                self._set_state(EngineState.FATAL, str(exc))
                raise
            except EngineStartError as exc:
                self._crashes.append(time.monotonic())
                if len(self._crashes) >= self.config.max_crashes:
                    self._set_state(EngineState.FATAL, str(exc))
                    raise
                self._set_state(EngineState.CRASHED, str(exc))
                continue
            self.restarts += 1
            return ready

    # ------------------------------------------------------------------ incoming

    def _on_message(self, conn: Connection, msg: P.Message | P.UnknownMessage) -> None:
        if isinstance(msg, P.UnknownMessage):
            log.info("ignoring an engine event of unknown type %r", msg.type)
            return
        launch = self._launch if self._launch is not None and self._launch.conn is conn else None
        if (conn is not self._conn and launch is None) or conn.kill_reason is not None:
            return  # a stale engine, or one being killed: nothing it says counts any more
        self._invalid_run = 0
        if self._unresponsive:
            self._unresponsive = False
            self._refresh_state("the engine answers again")
        if launch is not None:
            if isinstance(msg, P.Hello) and not launch.hello.done():
                launch.hello.set_result(msg)
            elif isinstance(msg, P.Ready) and not launch.ready.done():
                launch.ready.set_result(msg)
            elif isinstance(msg, P.ErrorEvent) and not launch.ready.done():
                launch.ready.set_exception(EngineStartError(msg.error.message))
        req_id = getattr(msg, "req_id", None)
        if req_id is not None and req_id in self._requests:
            fut = self._requests[req_id]
            if not fut.done():
                if isinstance(msg, P.ErrorEvent):
                    fut.set_exception(RequestError(msg.error))
                else:
                    fut.set_result(msg)
        if P.is_terminal(msg):
            self._finish(msg)
        else:
            self._publish(msg)

    def _on_invalid(self, conn: Connection, line: bytes, reason: str) -> None:
        log.warning("engine (pid %d) wrote an invalid line (%s): %r", conn.pid, reason, line[:200])
        launch = self._launch if self._launch is not None and self._launch.conn is conn else None
        if launch is not None and not launch.hello.done():
            version = _peek_protocol(line)
            if version is not None and version != P.PROTOCOL_VERSION:
                launch.hello.set_exception(_mismatch(version))
                return
        if conn is not self._conn:
            return
        self._invalid_run += 1
        if self._invalid_run >= self.config.max_invalid_lines:
            conn.kill(f"the engine wrote {self._invalid_run} invalid lines in a row")

    def _finish(self, terminal: P.Message) -> None:
        """Deliver a job's one terminal event; a second one for the same job is dropped."""
        job_id = terminal.job_id
        if job_id in self._finished:
            log.warning("dropping a second terminal event for job %s: %s", job_id, terminal.type)
            return
        self._finished[job_id] = terminal
        while len(self._finished) > 1000:
            self._finished.popitem(last=False)
        job = self._jobs.pop(job_id, None)
        if job is not None:
            if job.escalation is not None and job.escalation is not asyncio.current_task():
                job.escalation.cancel()
            if not job.done.done():
                job.done.set_result(terminal)
        self._publish(terminal)
        self._refresh_state()

    def _publish(self, event: object) -> None:
        for stream in list(self._subscribers):
            stream.put(event)

    # ------------------------------------------------------------------ supervision

    async def _escalate_cancel(self, job: _Job, conn: Connection) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(job.done), self.config.cancel_grace)
        except asyncio.TimeoutError:
            if conn is self._conn and job.job_id in self._jobs:
                log.warning("job %s was not cancelled within %.1f s: restarting the engine", job.job_id,
                            self.config.cancel_grace)
                await conn.terminate(f"the engine did not stop job {job.job_id} within "
                                     f"{self.config.cancel_grace:g} s of being cancelled", self.config.kill_grace)

    async def _watch_silence(self) -> None:
        cfg = self.config
        period = max(0.05, min(1.0, cfg.unresponsive_after / 4))
        heard_from = time.monotonic()  # silence counts from here at the earliest
        while True:
            before = time.monotonic()
            await asyncio.sleep(period)
            now = time.monotonic()
            if now - before > max(5 * period, cfg.unresponsive_after / 2):
                # This app itself did not run: the computer slept (Windows' clock counts sleep) or the
                # GUI was stuck. The engine was not silent meanwhile, its answers were not read.
                log.info("the app did not run for %.1f s; the engine's silence counts from now", now - before)
                heard_from = now
                continue
            conn = self._conn
            if conn is None or conn.handshaking or conn.kill_reason is not None or not conn.alive:
                continue
            factor = cfg.loading_factor if conn.engine_state == "loading" else 1.0
            silence = now - max(conn.last_message_at, heard_from)
            if silence > cfg.restart_after * factor:
                log.warning("engine (pid %d) silent for %.1f s: restarting it", conn.pid, silence)
                self._spawn(conn.terminate(f"the engine stopped answering (silent for {silence:.0f} s)",
                                           cfg.kill_grace))
            elif silence > cfg.unresponsive_after * factor and not self._unresponsive:
                self._unresponsive = True
                self._refresh_state(f"the engine has not answered for {silence:.0f} s")

    # ------------------------------------------------------------------ helpers

    async def _available(self) -> Connection:
        """The running, handshaken engine; starts it if needed, waits through a restart."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.ready_timeout + sum(self.config.restart_backoff)
        while True:
            if self._closing:
                raise EngineUnavailableError("The engine client is closed.")
            if self._state is EngineState.FATAL:
                raise EngineUnavailableError(self._message or "The engine cannot be started.")
            if self._state is EngineState.STOPPED:
                await self.start()
            conn = self._conn
            if conn is not None and not conn.handshaking and self._state in _AVAILABLE:
                return conn
            event = self._state_changed()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise EngineUnavailableError(f"The engine is not ready ({self._state.value}).")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _request(self, conn: Connection, msg: P.Message, timeout: float | None) -> P.Message:
        req_id = msg.req_id
        fut: asyncio.Future[P.Message] = asyncio.get_running_loop().create_future()
        self._requests[req_id] = fut
        try:
            await conn.send(msg)
            return await asyncio.wait_for(fut, timeout or self.config.request_timeout)
        finally:
            self._requests.pop(req_id, None)

    def _req_id(self) -> str:
        return f"r{next(self._req_ids)}"

    def _state_changed(self) -> asyncio.Event:
        if self._state_event is None:
            self._state_event = asyncio.Event()
        return self._state_event

    def _refresh_state(self, message: str = "") -> None:
        if self._conn is None or self._conn.handshaking or self._state in (EngineState.FATAL, EngineState.STOPPED):
            return
        if self._unresponsive:
            state = EngineState.UNRESPONSIVE
        else:
            state = EngineState.BUSY if self._jobs else EngineState.READY
        self._set_state(state, message)

    def _set_state(self, state: EngineState, message: str = "") -> None:
        if state is self._state and not message:
            return
        changed = state is not self._state
        self._state, self._message = state, message or self._message
        if changed:
            log.info("engine state: %s%s", state.value, f" ({message})" if message else "")
            self._publish(EngineStatus(state, message, self.pid))
            if self._state_event is not None:
                self._state_event.set()
                self._state_event = None

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Own every background task: keep a reference, log its failure."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if not isinstance(exc, (EngineStartError, EngineCrashedError)):
                log.error("engine client task failed", exc_info=exc)


def _mismatch(version: object) -> ProtocolMismatchError:
    return ProtocolMismatchError(
        f"This Hourglass engine speaks protocol {version}, but the app needs protocol {P.PROTOCOL_VERSION}: "
        "the installation is damaged or mixes two versions. Reinstall Hourglass.")


def _peek_protocol(line: bytes) -> int | None:
    """The `protocol` of a hello line that did not validate (a newer or older engine)."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if isinstance(obj, dict) and obj.get("type") == "hello" and isinstance(obj.get("protocol"), int):
        return obj["protocol"]
    return None


def _did_not_start(outcome: ProcessOutcome) -> str:
    """What the user reads when the engine fails to start: the cause and the engine's last log line (often
    the error itself: a missing library, a damaged model); the whole log tail goes to the details."""
    last = next((line.strip() for line in reversed(outcome.log_tail) if line.strip()), "")
    last = last if len(last) <= 300 else last[:299] + "…"
    return f"The engine did not start: {outcome.summary()}." + (f" Its last log line: {last}" if last else "")


def _start_failure(exc: BaseException, cfg: ClientConfig) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return f"the engine did not complete its start within {cfg.hello_timeout:g}/{cfg.ready_timeout:g} s"
    if isinstance(exc, asyncio.CancelledError):
        return "start cancelled"
    return str(exc)

