"""The GUI ↔ engine protocol: versioned JSON lines, one message per line (standard library only).

Both processes import this module, so it must never import torch, numpy, Qt or other engine modules:
the GUI side may import nothing from `engine` but this. Commands travel on the engine's stdin, events
on its stdout. Every message is a frozen dataclass tagged with a `type`; `encode` writes one compact
line, `decode` validates every field against the dataclass annotations, so a malformed line is refused
at the boundary instead of failing somewhere deep in either process. Unknown fields are ignored and
unknown message types decode to `UnknownMessage` (receivers log and skip them), so adding optional
fields or new message types never needs a new `PROTOCOL_VERSION`; removing or renaming one does.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Union

from engine.errors import ErrorCode

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 1 << 20  # one line, newline excluded; longer lines are refused
MAX_TEXT_CHARS = 32_000  # error details and tracebacks are cut to this, so events stay well under a line


# The codes live in engine.errors (stdlib-only, so the GUI may import it through this module).
# Worth retrying the same job unchanged: the cause was the engine or the moment, not the photo.
RETRYABLE = frozenset({ErrorCode.OUT_OF_MEMORY, ErrorCode.BUSY, ErrorCode.ENGINE_CRASHED, ErrorCode.INTERNAL})


# Shared vocabularies (mirrors of engine.schedule.PRESETS and engine.preprocess.TASKS, kept equal by tests).
Quality = Literal["fast", "balanced", "best"]
Task = Literal["auto", "none", "low-light", "haze", "rain", "snow", "blur"]
Stage = Literal["load", "detect", "restore", "save"]
FullRes = Literal["auto", "fast", "tiled"]  # mirror of engine.fastpath.FULLRES_MODES
EngineState = Literal["starting", "idle", "loading", "busy"]
QUALITIES: tuple[str, ...] = typing.get_args(Quality)
TASKS: tuple[str, ...] = typing.get_args(Task)
STAGES: tuple[str, ...] = typing.get_args(Stage)
FULLRES_MODES: tuple[str, ...] = typing.get_args(FullRes)
ENGINE_STATES: tuple[str, ...] = typing.get_args(EngineState)
MAX_STEPS = 1000
MIN_TILE = 16


def is_gpu_id(device: object) -> bool:
    """"cuda:N": one GPU of several (the ids of `DeviceInfo`), as the CLI, the settings and the engine take it."""
    return isinstance(device, str) and device.startswith("cuda:") and device[5:].isdigit()


class ProtocolError(ValueError):
    """A line or message that breaks the protocol; `req_id`/`job_id` are salvaged so a reply can name them."""

    def __init__(self, message: str, *, req_id: str | None = None, job_id: str | None = None,
                 msg_type: str | None = None) -> None:
        super().__init__(message)
        self.req_id, self.job_id, self.msg_type = req_id, job_id, msg_type


def _fail(message: str) -> typing.NoReturn:
    raise ProtocolError(message)


def _require(ok: bool, message: str) -> None:
    if not ok:
        _fail(message)


def clip_text(text: str | None, limit: int = MAX_TEXT_CHARS) -> str | None:
    """Cut long details (tracebacks, log tails) so one event can never exceed the line limit."""
    if text is None or len(text) <= limit:
        return text
    return "…" + text[-(limit - 1):]


@dataclass(frozen=True, slots=True)
class Message:
    """Base of every command and event; `type` is the wire tag of the subclass."""

    type: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **dataclasses.asdict(self)}


# ----------------------------------------------------------------------------------------------- payloads


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """Why something failed: `code` from `ErrorCode`, a `message` safe to show, `detail` for the details pane."""

    code: str
    message: str
    detail: str | None = None
    traceback: str | None = None
    retryable: bool = False

    def __post_init__(self) -> None:
        _require(bool(self.code), "error.code must not be empty")

    @classmethod
    def make(cls, code: str, message: str, detail: str | None = None, traceback: str | None = None) -> ErrorInfo:
        return cls(code, message, clip_text(detail), clip_text(traceback), code in RETRYABLE)


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    id: str  # "cpu", "cuda:0"
    name: str
    kind: str  # "cpu" or "cuda"
    memory_total: int | None = None  # bytes
    memory_free: int | None = None


@dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str
    path: str
    origin: str  # "user", "bundled" or "path"
    size_bytes: int
    variant: str | None = None
    default: bool = False


@dataclass(frozen=True, slots=True)
class Settings:
    """The engine's defaults for jobs; `steps`/`tile` None mean "from the quality preset"/"from free memory"."""

    model: str = "default"
    device: str = "auto"
    quality: Quality = "best"
    steps: int | None = None
    tile: int | None = None
    overlap: int = 64
    threads: int | None = None


@dataclass(frozen=True, slots=True)
class JobOptions:
    """Per-job options; None falls back to the engine's `Settings` (`model` overrides the configured one)."""

    model: str | None = None
    quality: Quality | None = None
    steps: int | None = None
    task: Task = "auto"
    seed: int = 0
    tile: int | None = None
    overlap: int | None = None
    format: str | None = None  # None: same as the input
    jpeg_quality: int = 95
    bit_depth: int | None = None
    overwrite: bool = False
    restore_clean: bool = False  # task auto/none: restore a photo that is already fine instead of skipping it
    fullres: FullRes = "auto"  # "fast": restore ~1 MP and carry the correction over; "tiled": every pixel
    strength: float = 1.0  # the saved photo is original + strength · (restored − original)
    srgb: bool = False  # save in sRGB instead of the photo's own colour space (Adobe RGB, Display P3...)
    remove_location: bool = False  # leave GPS coordinates out of the result (for sharing)
    record: bool = True  # record in the result how it was made (task, model, strength...: its XMP)
    # Save an earlier result again at `strength` (at most `from_strength`, the strength it was saved with),
    # blended over the photo, instead of restoring it (engine.reblend): no model, seconds
    from_result: str | None = None
    from_strength: float = 1.0
    # With from_result: a copy of it in this job's format, bit depth, colour space and metadata choices (a web
    # JPEG of an archive TIFF), at `strength`, instead of the earlier result's own form
    as_copy: bool = False
    # `task` is what an analysis of this photo detected (the app's degradation column), with this score: the
    # result records it as detected, not chosen
    detected: float | None = None

    def __post_init__(self) -> None:
        _check_sampling(self.steps, self.tile, self.overlap)
        if self.from_result is not None:
            _check_abs(self.from_result, "options.from_result")
            _require(isinstance(self.from_strength, (int, float)) and 0.0 < self.from_strength <= 1.0,
                     "options.from_strength must be in (0, 1]")
        _require(not self.as_copy or self.from_result is not None, "options.as_copy needs options.from_result")
        _require(1 <= self.jpeg_quality <= 100, "options.jpeg_quality must be in 1..100")
        _require(isinstance(self.strength, (int, float)) and 0.0 <= self.strength <= 1.0,
                 "options.strength must be in 0..1")
        _require(self.bit_depth in (None, 8, 16), "options.bit_depth must be 8 or 16")
        _require(self.detected is None or (isinstance(self.detected, (int, float)) and 0.0 <= self.detected <= 1.0
                                           and self.task not in ("auto", "none")),
                 "options.detected must be in 0..1, with the detected task")


def _check_sampling(steps: int | None, tile: int | None, overlap: int | None) -> None:
    _require(steps is None or 1 <= steps <= MAX_STEPS, f"steps must be in 1..{MAX_STEPS}")
    _require(tile is None or tile >= MIN_TILE, f"tile must be at least {MIN_TILE} pixels")
    _require(overlap is None or overlap >= 0, "overlap must not be negative")
    _require(tile is None or overlap is None or overlap < tile, "overlap must be smaller than the tile")


def _check_id(value: str, name: str) -> None:
    _require(0 < len(value) <= 128 and value.isprintable(), f"{name} must be 1..128 printable characters")


def _check_abs(value: str, name: str) -> None:
    _require(bool(value) and os.path.isabs(value) and "\0" not in value, f"{name} must be an absolute path")


# ----------------------------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class Configure(Message):
    """Change the engine's settings; a new model or device is loaded now. Unset fields stay as they are.

    `steps: 0` and `tile: 0` reset them to "from the preset" and "from free memory".
    """

    type: ClassVar[str] = "configure"
    req_id: str
    model: str | None = None
    device: str | None = None
    quality: Quality | None = None
    steps: int | None = None
    tile: int | None = None
    overlap: int | None = None
    threads: int | None = None

    def __post_init__(self) -> None:
        _check_id(self.req_id, "req_id")
        _check_sampling(self.steps or None, self.tile or None, self.overlap)
        _require(self.threads is None or self.threads >= 1, "threads must be at least 1")


@dataclass(frozen=True, slots=True)
class Analyze(Message):
    """Detect a photo's degradation; with `result_path` (where its result would be saved), also look there
    for results of earlier runs (`Analysis.earlier_path`)."""
    type: ClassVar[str] = "analyze"
    req_id: str
    input_path: str
    result_path: str = ""

    def __post_init__(self) -> None:
        _check_id(self.req_id, "req_id")
        _check_abs(self.input_path, "input_path")
        if self.result_path:
            _check_abs(self.result_path, "result_path")


@dataclass(frozen=True, slots=True)
class Submit(Message):
    type: ClassVar[str] = "submit"
    job_id: str
    input_path: str
    output_path: str
    options: JobOptions = JobOptions()

    def __post_init__(self) -> None:
        _check_id(self.job_id, "job_id")
        _check_abs(self.input_path, "input_path")
        _check_abs(self.output_path, "output_path")


@dataclass(frozen=True, slots=True)
class Cancel(Message):
    """Idempotent: cancelling an unknown or finished job does nothing."""

    type: ClassVar[str] = "cancel"
    job_id: str

    def __post_init__(self) -> None:
        _check_id(self.job_id, "job_id")


@dataclass(frozen=True, slots=True)
class Ping(Message):
    type: ClassVar[str] = "ping"
    req_id: str

    def __post_init__(self) -> None:
        _check_id(self.req_id, "req_id")


@dataclass(frozen=True, slots=True)
class Shutdown(Message):
    """Cancel the running job, answer `bye`, exit 0."""

    type: ClassVar[str] = "shutdown"


# ------------------------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Hello(Message):
    """First line, sent before torch is imported: the GUI refuses a different `protocol`."""

    type: ClassVar[str] = "hello"
    protocol: int
    engine_version: str
    pid: int


@dataclass(frozen=True, slots=True)
class Ready(Message):
    type: ClassVar[str] = "ready"
    devices: tuple[DeviceInfo, ...]
    models: tuple[ModelEntry, ...]
    settings: Settings
    torch_version: str = ""
    cuda_available: bool = False
    capabilities: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Configured(Message):
    type: ClassVar[str] = "configured"
    req_id: str
    settings: Settings
    model: ModelEntry | None = None  # the loaded model, if any
    device: str | None = None  # where it is loaded


# A detection scored below this is reported as unsure, with the detector's next guess (the app's column,
# the CLI's log): both sides show it the same way.
UNSURE = 0.5


def runner_up(task: str | None, scores: dict[str, float]) -> tuple[str, float] | None:
    """The detector's next guess after `task`: (class, score), None without other scores."""
    others = [(v, k) for k, v in scores.items() if k != task]
    if not others:
        return None
    score, name = max(others)
    return name, score


@dataclass(frozen=True, slots=True)
class Analysis(Message):
    """Degradation detection (nothing is restored or written): `task` is one of `TASKS` other than "auto"
    ("none": the photo looks fine), `confidence` its score, `scores` every class's (summing to 1).
    `available` is false (with a `message`) when this engine has no detector; a photo that cannot be read
    gets an `error` event with the request's `req_id` instead. `width` and `height`: the photo's upright
    size, when its header tells (the GUI weighs its estimate of the batch's time left by it).
    `earlier_path`: the newest result of this very photo found at the request's `result_path` or numbered
    beside it, with what it records (`earlier`: Task, Model, Strength…; `engine.earlier_results`);
    `earlier_older`: the older ones found, path → strength, oldest first."""

    type: ClassVar[str] = "analysis"
    req_id: str
    input_path: str
    available: bool
    task: str | None = None
    confidence: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    message: str = ""
    width: int | None = None
    height: int | None = None
    earlier_path: str = ""
    earlier: dict[str, str] = field(default_factory=dict)
    earlier_older: dict[str, float] = field(default_factory=dict)
    already_restored: str = ""  # the photo is a result Hourglass saved: how it was made (a restore skips it)


@dataclass(frozen=True, slots=True)
class Accepted(Message):
    type: ClassVar[str] = "accepted"
    job_id: str


@dataclass(frozen=True, slots=True)
class Started(Message):
    type: ClassVar[str] = "started"
    job_id: str
    model: str
    device: str
    steps: int  # network evaluations per tile
    options: dict[str, Any] = field(default_factory=dict)  # the effective options


@dataclass(frozen=True, slots=True)
class Progress(Message):
    """`fraction` is the whole job's (monotonic, 0..1); `eta_s` the estimated seconds left, when known."""

    type: ClassVar[str] = "progress"
    job_id: str
    stage: Stage
    step: int
    steps: int
    tile: int
    tiles: int
    fraction: float
    eta_s: float | None = None

    def __post_init__(self) -> None:
        _require(0.0 <= self.fraction <= 1.0, "fraction must be in [0, 1]")


@dataclass(frozen=True, slots=True)
class JobWarning(Message):
    type: ClassVar[str] = "warning"
    code: str
    message: str
    job_id: str | None = None


@dataclass(frozen=True, slots=True)
class Result(Message):
    type: ClassVar[str] = "result"
    job_id: str
    output_path: str
    width: int
    height: int
    device: str
    model: str
    nfe: int  # network evaluations per tile
    task: str  # the task used: the one asked for, or the detected one for "auto" ("none": not restored)
    timings: dict[str, float] = field(default_factory=dict)  # seconds: read, detect, restore, write, total, …
    warnings: tuple[str, ...] = ()
    skipped: bool = False  # already fine: nothing restored, nothing written, `output_path` is ""
    confidence: float | None = None  # the detector's score for `task` (task "auto" only)
    scores: dict[str, float] = field(default_factory=dict)  # the detector's scores (task "auto" only)
    fullres: str | None = None  # the full-resolution path taken: "fast" or "tiled" (None: older engine, skipped)
    already_restored: str = ""  # skipped because the photo is a result Hourglass saved: how it was made
    photo_sha256: str = ""  # the photo's SHA-256 as it was restored: a photo whose time changed but not its bytes
    # (touched, synced, copied over) is not taken for an edited one


@dataclass(frozen=True, slots=True)
class Failed(Message):
    type: ClassVar[str] = "failed"
    job_id: str
    error: ErrorInfo


@dataclass(frozen=True, slots=True)
class Cancelled(Message):
    type: ClassVar[str] = "cancelled"
    job_id: str


@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    """Every ~2 s from its own thread, busy or not: silence means the engine hangs."""

    type: ClassVar[str] = "heartbeat"
    seq: int
    state: EngineState
    job_id: str | None = None
    rss_mb: float | None = None


@dataclass(frozen=True, slots=True)
class Pong(Message):
    type: ClassVar[str] = "pong"
    req_id: str
    state: EngineState
    job_id: str | None = None
    model: str | None = None  # the loaded model's name
    model_loads: int = 0  # how many times a model was loaded since start
    uptime_s: float = 0.0


@dataclass(frozen=True, slots=True)
class ErrorEvent(Message):
    """A problem that is not a job's outcome: a refused line, a failed `configure` or `analyze`."""

    type: ClassVar[str] = "error"
    error: ErrorInfo
    req_id: str | None = None
    job_id: str | None = None


@dataclass(frozen=True, slots=True)
class Bye(Message):
    type: ClassVar[str] = "bye"
    reason: str = "shutdown"


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A well-formed message of a type this side does not know (from a newer peer): log and skip it."""

    type: str
    data: dict[str, Any]


COMMANDS: dict[str, type[Message]] = {c.type: c for c in (Configure, Analyze, Submit, Cancel, Ping, Shutdown)}
EVENTS: dict[str, type[Message]] = {c.type: c for c in (
    Hello, Ready, Configured, Analysis, Accepted, Started, Progress, JobWarning, Result, Failed, Cancelled,
    Heartbeat, Pong, ErrorEvent, Bye,
)}
TERMINAL: tuple[type[Message], ...] = (Result, Failed, Cancelled)
Terminal = Result | Failed | Cancelled


def is_terminal(msg: object) -> bool:
    """True for the one event that ends a job: `result`, `failed` or `cancelled`."""
    return isinstance(msg, TERMINAL)


# ------------------------------------------------------------------------------------------------- codec


def encode(msg: Message) -> bytes:
    """One compact UTF-8 JSON line ending in a newline; refuses NaN and lines over the limit."""
    try:
        text = json.dumps(msg.to_dict(), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a file name that is not UTF-8 (POSIX names are bytes) holds lone
            # surrogates: as \udcff escapes the line is ASCII, and `decode` gives the same path back
            data = json.dumps(msg.to_dict(), separators=(",", ":"), allow_nan=False).encode("ascii")
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"cannot encode {msg.type}: {exc}", msg_type=msg.type) from None
    if len(data) > MAX_LINE_BYTES:
        raise ProtocolError(f"{msg.type} message is {len(data)} bytes, over the {MAX_LINE_BYTES} limit",
                            msg_type=msg.type)
    return data + b"\n"


def decode(line: bytes | str, *, expect: Literal["command", "event"]) -> Message | UnknownMessage:
    """Parse and validate one line into a command or event; raises `ProtocolError` with a precise reason."""
    registry = COMMANDS if expect == "command" else EVENTS
    if isinstance(line, bytes):
        if len(line.rstrip(b"\r\n")) > MAX_LINE_BYTES:
            raise ProtocolError(f"line of {len(line)} bytes is over the {MAX_LINE_BYTES} limit")
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"line is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    elif len(line) > MAX_LINE_BYTES:
        raise ProtocolError(f"line of {len(line)} characters is over the {MAX_LINE_BYTES} limit")
    try:
        obj = json.loads(line, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise ProtocolError(f"line is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"a message must be a JSON object, not {type(obj).__name__}")
    kind = obj.get("type")
    req_id = obj.get("req_id") if isinstance(obj.get("req_id"), str) else None
    job_id = obj.get("job_id") if isinstance(obj.get("job_id"), str) else None
    if not isinstance(kind, str) or not kind:
        raise ProtocolError("message has no 'type'", req_id=req_id, job_id=job_id)
    cls = registry.get(kind)
    if cls is None:
        return UnknownMessage(kind, obj)
    try:
        return _build(cls, obj, kind)
    except ProtocolError as exc:
        raise ProtocolError(f"invalid {kind}: {exc}", req_id=req_id, job_id=job_id, msg_type=kind) from None


def _refuse_constant(name: str) -> typing.NoReturn:
    raise ValueError(f"{name} is not allowed")


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = {f.name: typing.get_type_hints(cls)[f.name] for f in dataclasses.fields(cls)}
        _HINTS[cls] = hints
    return hints


def _build(cls: type, obj: dict[str, Any], where: str) -> Any:
    kwargs = {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name, hint in _hints(cls).items():
        if name in obj:
            kwargs[name] = _convert(obj[name], hint, name)
        elif fields[name].default is dataclasses.MISSING and fields[name].default_factory is dataclasses.MISSING:
            _fail(f"missing field '{name}'")
    try:
        return cls(**kwargs)
    except ProtocolError:
        raise
    except (TypeError, ValueError) as exc:  # pragma: no cover - defensive: validation should catch these
        _fail(str(exc))


def _convert(value: Any, hint: Any, name: str) -> Any:
    """Check `value` against the annotation `hint` (recursively) and convert lists to tuples."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None:
            _require(type(None) in options, f"'{name}' must not be null")
            return None
        last: ProtocolError | None = None
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(value, option, name)
            except ProtocolError as exc:
                last = exc
        raise last or ProtocolError(f"'{name}' has the wrong type")
    if origin is Literal:
        choices = typing.get_args(hint)
        _require(value in choices, f"'{name}' must be one of {', '.join(map(str, choices))}, not {value!r}")
        return value
    if origin is tuple:
        _require(isinstance(value, list), f"'{name}' must be a list")
        item = typing.get_args(hint)[0]
        return tuple(_convert(v, item, f"{name}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        _require(isinstance(value, dict), f"'{name}' must be an object")
        item = typing.get_args(hint)[1]
        return {k: _convert(v, item, f"{name}.{k}") for k, v in value.items()}
    if hint is bool:
        _require(isinstance(value, bool), f"'{name}' must be true or false")
    elif hint is int:
        _require(isinstance(value, int) and not isinstance(value, bool), f"'{name}' must be an integer")
    elif hint is float:
        _require(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
                 f"'{name}' must be a number")
        return float(value)
    elif hint is str:
        _require(isinstance(value, str), f"'{name}' must be a string")
    elif dataclasses.is_dataclass(hint):
        _require(isinstance(value, dict), f"'{name}' must be an object")
        try:
            return _build(hint, value, name)
        except ProtocolError as exc:
            raise ProtocolError(f"{name}: {exc}") from None
    else:  # pragma: no cover - a programming error in the message definitions
        raise TypeError(f"unsupported annotation {hint!r} for '{name}'")
    return value
