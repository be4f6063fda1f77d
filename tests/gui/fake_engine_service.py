"""A scripted in-process stand-in for `EngineClient` (same async interface), for tests where the
engine is not the point. Behaviour is chosen by the photo's file name:

- `*fail*`, and a file Pillow cannot read (a photo written half-way): the job fails with `input_unreadable`;
- `*crash*`: the job fails with `engine_crashed` (what the client reports when the engine dies), and the
  engine goes through crashed → ready like a restart;
- a model option that is a path to no file: the job fails with `model_not_found`, as the engine's does;
- `*slow*`: steps take 10× longer (to pause or cancel in the middle);
- a JPEG whose XMP records that Hourglass saved it: with task auto and no `restore_clean`, `result` with
  `skipped` and `already_restored` (how it was made), as the engine's;
- `*clean*`: with task auto (or none) and no `restore_clean`, the photo is "already fine": `result` with
  `skipped`, task none and nothing written (analysis, when available, also answers none 93 %);
- anything else: a few progress events, then the input is copied to the output and `result` is sent
  (`output_not_writable` when the output cannot be written there).

The analysis and the result tell the photo's size, as the engine's do, when Pillow can read its header.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.client.events import EngineState, EngineStatus, EngineUnavailableError, EventStream, RequestError
from engine import protocol as P

READY = P.Ready(devices=(P.DeviceInfo("cpu", "Test CPU", "cpu"),),
                models=(P.ModelEntry("tiny", "/models/tiny.safetensors", "user", 1234, "T"),),
                settings=P.Settings())


@dataclass
class FakeEngine:
    step_s: float = 0.01
    steps: int = 3
    analysis_available: bool = False
    analyze_capability: bool = False  # the handshake advertises `analyze` (the runner then detects on add)
    ready: P.Ready | None = None
    analyzed: list[str] = field(default_factory=list)
    asked_results: list[str] = field(default_factory=list)  # where each analysis was told to look for results
    earlier: dict[str, tuple[str, dict]] = field(default_factory=dict)  # photo → (its earlier result, record)
    submitted: list[tuple[str, str, P.JobOptions]] = field(default_factory=list)
    configured: list[dict] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    closed: bool = False
    write_output: Callable[[Path, Path], None] = shutil.copyfile  # (input, output): the "restoration"
    slow_names: tuple[str, ...] = ("slow",)  # photos whose name contains one of these take 10× longer

    def __post_init__(self) -> None:
        self._state = EngineState.STOPPED
        self._streams: set[EventStream] = set()
        self._jobs: dict[str, asyncio.Future[P.Message]] = {}
        self._cancel: set[str] = set()
        self._tasks: set[asyncio.Task] = set()
        self._running: str | None = None

    @property
    def state(self) -> EngineState:
        return self._state

    def _publish(self, event: object) -> None:
        for s in list(self._streams):
            s.put(event)

    def _set_state(self, state: EngineState, message: str = "") -> None:
        self._state = state
        self._publish(EngineStatus(state, message))

    def events(self) -> EventStream:
        stream = EventStream(on_close=self._streams.discard)
        self._streams.add(stream)
        return stream

    def log_tail(self) -> list[str]:
        return ["INFO engine.worker: fake engine log line", "Traceback: the fake engine died"]

    async def start(self) -> P.Ready:
        if self.ready is None:
            await asyncio.sleep(0)
            self.ready = dataclasses.replace(READY, capabilities={"analyze": self.analyze_capability})
            self._set_state(EngineState.READY, "ready")
        return self.ready

    async def configure(self, **fields) -> P.Configured:
        self.configured.append(fields)
        return P.Configured("r1", P.Settings())

    async def analyze(self, input_path: str, result_path: str = "") -> P.Analysis:
        await asyncio.sleep(self.step_s)
        self.analyzed.append(str(input_path))
        self.asked_results.append(result_path)
        size: dict = dict(zip(("width", "height"), _size(input_path) or (None, None)))
        if str(input_path) in self.earlier and result_path:
            size.update(zip(("earlier_path", "earlier"), self.earlier[str(input_path)]))
        if "engine-down" in Path(input_path).name:  # the engine went away while analysing it
            raise EngineUnavailableError("The engine stopped.")
        if "jpeg-xl" in Path(input_path).name:  # a kind of file the engine cannot read, and says why
            raise RequestError(P.ErrorInfo.make(P.ErrorCode.UNSUPPORTED_INPUT,
                                                f'"{Path(input_path).name}" is a DNG compressed with JPEG XL.'))
        made = _made_by_hourglass(input_path)
        if made:
            size["already_restored"] = made
        if self.analysis_available:
            if "unsure" in Path(input_path).name:  # a rainy photo the detector half takes for a fine one
                return P.Analysis("r2", input_path, True, "none", 0.45, {"none": 0.45, "rain": 0.4, "snow": 0.15},
                                  **size)
            if "clean" in Path(input_path).name:
                return P.Analysis("r2", input_path, True, "none", 0.93, {"none": 0.93, "haze": 0.07}, **size)
            return P.Analysis("r2", input_path, True, "haze", 0.87, {"haze": 0.87}, **size)
        return P.Analysis("r2", input_path, False, message="Automatic detection is not available yet.", **size)

    async def submit(self, input_path, output_path, options=None, *, job_id=None) -> str:
        assert job_id is not None
        if self._running is not None:
            fut = asyncio.get_running_loop().create_future()
            self._jobs[job_id] = fut
            self._finish(P.Failed(job_id, P.ErrorInfo.make(P.ErrorCode.BUSY, "busy")))
            return job_id
        self.submitted.append((str(input_path), str(output_path), options or P.JobOptions()))
        self._jobs[job_id] = asyncio.get_running_loop().create_future()
        self._running = job_id
        task = asyncio.ensure_future(self._job(job_id, Path(input_path), Path(output_path), options or P.JobOptions()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job_id

    async def _job(self, job_id: str, inp: Path, out: Path, options: P.JobOptions) -> None:
        name = inp.name
        if options.model and Path(options.model).suffix and not Path(options.model).is_file():
            self._finish(P.Failed(job_id, P.ErrorInfo.make(
                P.ErrorCode.MODEL_NOT_FOUND, f"Model '{options.model}' not found. The models here are: tiny.")))
            return
        digest = hashlib.sha256(inp.read_bytes()).hexdigest() if inp.is_file() else ""  # (as read, as the engine's)
        made = _made_by_hourglass(inp) if options.task == "auto" and not options.restore_clean else ""
        if made:  # a result Hourglass saved (its XMP says so): skipped, as the engine does
            self._publish(P.Accepted(job_id))
            self._finish(P.Result(job_id, "", 8, 8, "cpu", "tiny", 0, "none", {"total": 0.01}, skipped=True,
                                  already_restored=made, photo_sha256=digest))
            return
        # a photo that looks fine ("clean" in its name, detected) or is to be left as is: skipped, as the engine does
        if (options.task == "none" or ("clean" in name and options.task == "auto")) and not options.restore_clean:
            self._publish(P.Accepted(job_id))
            self._publish(P.Started(job_id, "tiny", "cpu", self.steps))
            await asyncio.sleep(self.step_s)
            confidence = 0.93 if options.task == "auto" else None
            self._finish(P.Result(job_id, "", 8, 8, "cpu", "tiny", 0, "none", {"total": 0.01}, skipped=True,
                                  confidence=confidence, photo_sha256=digest))
            return
        step = self.step_s * (10 if any(s in name for s in self.slow_names) else 1)
        self._set_state(EngineState.BUSY)
        self._publish(P.Accepted(job_id))
        self._publish(P.Started(job_id, "tiny", "cpu", self.steps))
        for i in range(1, self.steps + 1):
            await asyncio.sleep(step)
            if job_id in self._cancel:
                self._finish(P.Cancelled(job_id))
                return
            if "crash" in name and i == 2:
                self._finish(P.Failed(job_id, P.ErrorInfo.make(
                    P.ErrorCode.ENGINE_CRASHED, "The engine stopped unexpectedly while restoring this photo "
                    "(killed by SIGKILL). It is being restarted; you can retry the photo.", "exit -9")))
                self._set_state(EngineState.CRASHED, "killed by SIGKILL")
                await asyncio.sleep(step)
                self._set_state(EngineState.READY, "restarted")
                return
            self._publish(P.Progress(job_id, "restore", i, self.steps, 1, 1, i / (self.steps + 1),
                                     eta_s=(self.steps - i) * step))
        if "fail" in name or not _readable(inp):
            self._finish(P.Failed(job_id, P.ErrorInfo.make(
                P.ErrorCode.INPUT_UNREADABLE, f"{name} is not a photo Hourglass can read.", "cannot identify")))
            return
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            await asyncio.get_running_loop().run_in_executor(None, self.write_output, inp, out)
        except OSError as exc:  # as the real engine reports a folder it cannot save in
            self._finish(P.Failed(job_id, P.ErrorInfo.make(
                P.ErrorCode.OUTPUT_NOT_WRITABLE, f"{out.name} cannot be saved in {out.parent}: {exc.strerror}.")))
            return
        width, height = _size(inp) or (8, 8)
        self._finish(P.Result(job_id, str(out), width, height, "cpu", "tiny", self.steps, "auto", {"total": 0.1},
                              fullres="tiled", photo_sha256=digest))

    def _finish(self, terminal: P.Message) -> None:
        job_id = terminal.job_id
        if self._running == job_id:
            self._running = None
        self._cancel.discard(job_id)
        fut = self._jobs.pop(job_id, None)
        if fut is not None and not fut.done():
            fut.set_result(terminal)
        self._publish(terminal)
        if self._state is EngineState.BUSY:
            self._set_state(EngineState.READY)

    async def wait_job(self, job_id: str, timeout: float | None = None) -> P.Message:
        return await asyncio.wait_for(asyncio.shield(self._jobs[job_id]), timeout)

    async def cancel(self, job_id: str) -> None:
        self.cancelled.append(job_id)
        if job_id in self._jobs:
            self._cancel.add(job_id)

    async def close(self) -> None:
        self.closed = True
        for job_id in list(self._jobs):
            self._finish(P.Cancelled(job_id))
        for t in list(self._tasks):
            t.cancel()
        for s in list(self._streams):
            s.close()
        self._set_state(EngineState.STOPPED)


def _size(path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.size
    except Exception:  # noqa: BLE001 - (not a photo: the fake tells no size, as the engine would not)
        return None


def _readable(path) -> bool:
    """Whether Pillow reads the whole photo (a file cut short is not), as the engine must."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
    except Exception:  # noqa: BLE001 - (whatever Pillow says, the engine would say it cannot read it)
        return False
    return True


def _made_by_hourglass(path) -> str:
    from PIL import Image

    from engine.imaging import made_by_hourglass

    try:
        with Image.open(path) as img:
            return made_by_hourglass(img.info.get("xmp"))
    except Exception:  # noqa: BLE001 - (not a photo: the job's own rules answer)
        return ""
