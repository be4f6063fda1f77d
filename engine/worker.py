"""The engine worker process: the protocol over stdio, one restore at a time, the model kept loaded.

Threads, and why each exists:
- main: reads commands from stdin. `cancel`, `ping` and `shutdown` are handled at once, never queued
  behind a running job; end of input means the GUI is gone, so the worker exits.
- job: runs `configure` and jobs one by one (torch work), so the model stays loaded between jobs.
- analyze: runs `analyze` requests one by one (numpy only, ~0.1 s each), beside a running job: photos added
  during a batch get their degradation at once, not after the photo being restored.
- ticker: heartbeats every ~2 s, coalesced progress (≤10 Hz), and a watchdog on the parent process, so
  the engine never outlives the GUI even in the middle of a long restore.
Only protocol lines reach the real stdout: `protect_stdout` keeps a private copy of fd 1 for them and
points fd 1 and `sys.stdout` at stderr, so a stray print (ours, torch's or a C library's) lands in the log.
torch is imported only after `hello` is sent, so the GUI learns at once that the engine is starting.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from engine import __version__
from engine import protocol as P
from engine.errors import Cancelled, HourglassError, InvalidRequestError
from engine.worker_io import Channel, ProgressReporter, protect_stdout, rss_mb, watch_parent_death

log = logging.getLogger("engine.worker")

HEARTBEAT_S = float(os.environ.get("HOURGLASS_HEARTBEAT_S", "2"))
PARENT_POLL_S = 0.5
EXIT_GRACE_S = 5.0  # how long a cancelled job may take to stop when the worker exits
ANALYZE_UNAVAILABLE = "Automatic degradation detection is not available; choose the degradation yourself."


# ----------------------------------------------------------------------------------------------- the worker


@dataclass
class Job:
    submit: P.Submit
    token: Any  # engine.sampler.CancelToken
    reporter: ProgressReporter
    warnings: list[str] = field(default_factory=list)


class Worker:
    """The command dispatcher and job runner; `serve` returns the process exit code."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.settings = P.Settings()
        self.state = "starting"
        self.model: Any = None  # engine.models.LoadedModel
        self.model_key: tuple[str, str] | None = None
        self.model_loads = 0
        self._job: Job | None = None
        self._lock = threading.Lock()
        self._work: queue.Queue[object] = queue.Queue()
        self._stop = threading.Event()
        self._seq = 0
        self._started = time.monotonic()
        self._ppid = os.getppid()
        self._gui_pid = _int_or_none(os.environ.get("HOURGLASS_PARENT_PID"))  # covers a parent dead before we ran
        self._exiting = False
        self._idle = threading.Event()  # no job accepted and unfinished
        self._idle.set()
        self._job_thread = threading.Thread(target=self._job_loop, name="engine-job", daemon=True)
        self._analyses: queue.Queue[P.Analyze | None] = queue.Queue()
        self._analyze_thread = threading.Thread(target=self._analyze_loop, name="engine-analyze", daemon=True)
        self._ticker = threading.Thread(target=self._tick_loop, name="engine-ticker", daemon=True)

    # -- startup

    def start_ticker(self) -> None:
        self._ticker.start()

    def boot(self) -> P.Ready:
        """Import torch, probe devices and models; returns the `ready` event (the slow part of startup)."""
        import torch

        from engine.device import list_devices

        devices = tuple(_device_info(d) for d in list_devices())
        self.state = "idle"
        return P.Ready(devices, _model_entries(), self.settings, torch_version=str(torch.__version__),
                       cuda_available=bool(torch.cuda.is_available()),
                       capabilities={"tasks": list(P.TASKS), "qualities": list(P.QUALITIES),
                                     "analyze": _detector_available(), "max_line_bytes": P.MAX_LINE_BYTES})

    # -- the command loop (main thread)

    def serve(self, stdin: BinaryIO) -> int:
        self._job_thread.start()
        self._analyze_thread.start()
        shutdown = False
        while not shutdown:
            line = stdin.readline(P.MAX_LINE_BYTES + 2)  # bounded: a huge line never sits in memory whole
            if not line:
                log.info("stdin closed: the GUI is gone; exiting")
                break
            if len(line.rstrip(b"\r\n")) > P.MAX_LINE_BYTES:
                while line and not line.endswith(b"\n"):  # skip the rest of the line
                    line = stdin.readline(P.MAX_LINE_BYTES)
                self._refuse(P.ProtocolError(f"a line over the {P.MAX_LINE_BYTES}-byte limit was ignored"))
                continue
            if line.strip():
                shutdown = self.handle_line(line)
        self._finish()
        if shutdown:
            self.channel.send(P.Bye())
        return 0

    def handle_line(self, line: bytes) -> bool:
        """Dispatch one command line; returns True for `shutdown`."""
        try:
            msg = P.decode(line, expect="command")
        except P.ProtocolError as exc:
            self._refuse(exc)
            return False
        if isinstance(msg, P.UnknownMessage):
            self._refuse(P.ProtocolError(f"unknown command type '{msg.type}'", msg_type=msg.type,
                                         req_id=_str_or_none(msg.data.get("req_id"))))
            return False
        if isinstance(msg, P.Shutdown):
            log.info("shutdown requested")
            return True
        if isinstance(msg, P.Ping):
            self.channel.send(self._pong(msg.req_id))
        elif isinstance(msg, P.Cancel):
            self._cancel(msg.job_id)
        elif isinstance(msg, P.Submit):
            self._submit(msg)
        elif isinstance(msg, P.Analyze):
            self._analyses.put(msg)
        else:
            self._work.put(msg)
        return False

    def _refuse(self, exc: P.ProtocolError) -> None:
        log.warning("refused a command: %s", exc)
        err = P.ErrorInfo.make(P.ErrorCode.INVALID_REQUEST, f"The engine refused a command: {exc}")
        if exc.msg_type == P.Submit.type and exc.job_id is not None and not self._is_current(exc.job_id):
            self.channel.send(P.Failed(exc.job_id, err))  # a refused submit still ends its job
        else:
            self.channel.send(P.ErrorEvent(err, req_id=exc.req_id, job_id=exc.job_id))

    def _is_current(self, job_id: str) -> bool:
        with self._lock:
            return self._job is not None and self._job.submit.job_id == job_id

    def _submit(self, msg: P.Submit) -> None:
        from engine.sampler import CancelToken

        with self._lock:
            current = self._job
            if current is None:
                self._job = Job(msg, CancelToken(), ProgressReporter(msg.job_id, self.channel.send))
                self._idle.clear()
        if current is None:
            self.channel.send(P.Accepted(msg.job_id))
            self._work.put(self._job)
        elif current.submit.job_id == msg.job_id:
            self._refuse(P.ProtocolError(f"job '{msg.job_id}' is already running", job_id=msg.job_id))
        else:
            self.channel.send(P.Failed(msg.job_id, P.ErrorInfo.make(
                P.ErrorCode.BUSY, f"The engine is busy with job '{current.submit.job_id}'; submit one job at a time.")))

    def _cancel(self, job_id: str) -> None:
        with self._lock:
            job = self._job if self._job is not None and self._job.submit.job_id == job_id else None
        if job is None:
            log.info("cancel for job '%s', which is not running: ignored", job_id)
            return
        log.info("cancelling job '%s'", job_id)
        job.token.cancel()

    def _pong(self, req_id: str) -> P.Pong:
        with self._lock:
            job_id = self._job.submit.job_id if self._job is not None else None
        return P.Pong(req_id, self.state, job_id, self.model.name if self.model is not None else None,
                      self.model_loads, round(time.monotonic() - self._started, 3))

    def _finish(self) -> None:
        """Cancel the running job and let the job and analyze threads stop, within a grace period (analyses
        still waiting are dropped: nobody is left to read them, and `bye` must be the last line)."""
        self._cancel_current()
        while True:
            try:
                self._analyses.get_nowait()
            except queue.Empty:
                break
        self._analyses.put(None)
        self._work.put(None)
        self._job_thread.join(EXIT_GRACE_S)
        if self._job_thread.is_alive():
            log.warning("the running job did not stop within %.0f s", EXIT_GRACE_S)
        if self._analyze_thread.is_alive():
            self._analyze_thread.join(EXIT_GRACE_S)
        self._stop.set()

    def _cancel_current(self) -> None:
        with self._lock:
            if self._job is not None:
                self._job.token.cancel()

    def parent_gone(self, reason: str, code: int = 0) -> None:
        """The GUI is gone (closed pipe, new parent, SIGTERM): stop the job, then exit without reading stdin."""
        with self._lock:
            if self._exiting:
                return
            self._exiting = True

        def stop() -> None:
            log.warning("%s: exiting", reason)
            self._cancel_current()
            if not self._idle.wait(EXIT_GRACE_S):
                log.warning("the running job did not stop within %.0f s", EXIT_GRACE_S)
            logging.shutdown()
            os._exit(code)

        threading.Thread(target=stop, name="engine-exit", daemon=True).start()

    # -- the ticker thread

    def _tick_loop(self) -> None:
        next_beat = time.monotonic()
        next_parent = next_beat
        while not self._stop.wait(0.05):
            now = time.monotonic()
            with self._lock:
                job = self._job
            if job is not None:
                job.reporter.tick()
            if now >= next_beat:
                self._seq += 1
                self.channel.send(P.Heartbeat(self._seq, self.state, job.submit.job_id if job else None,
                                              _round(rss_mb())))
                next_beat = now + HEARTBEAT_S
            if now >= next_parent:
                next_parent = now + PARENT_POLL_S
                if not self._parent_alive():
                    self.parent_gone("the parent process died")
                    return

    def _parent_alive(self) -> bool:
        """False once we were reparented, or once the GUI named in $HOURGLASS_PARENT_PID is gone."""
        if os.getppid() != self._ppid:
            return False
        if self._gui_pid is None:
            return True
        try:
            os.kill(self._gui_pid, 0)
        except ProcessLookupError:
            return False
        except OSError:  # exists, but not ours to signal
            pass
        return True

    # -- the job thread

    def _job_loop(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            try:
                if isinstance(item, Job):
                    self._run_job(item)
                elif isinstance(item, P.Configure):
                    self._configure(item)
            except Exception:  # the loop top: log it, keep serving
                log.exception("unexpected error in the job thread")

    def _analyze_loop(self) -> None:
        while (msg := self._analyses.get()) is not None:
            try:
                self._analyze(msg)
            except Exception:  # the loop top: log it, keep serving (`_analyze` answers every request itself)
                log.exception("unexpected error in the analyze thread")

    def _configure(self, msg: P.Configure) -> None:
        changes = {k: getattr(msg, k) for k in ("model", "device", "quality", "overlap", "threads")}
        new = replace(self.settings, **{k: v for k, v in changes.items() if v is not None})
        if msg.steps is not None:
            new = replace(new, steps=msg.steps or None)
        if msg.tile is not None:
            new = replace(new, tile=msg.tile or None)
        try:
            if new.threads is not None and new.threads != self.settings.threads:
                import torch

                torch.set_num_threads(new.threads)
            if msg.model is not None or msg.device is not None:  # otherwise the model loads with the first job
                self._load(new.model, new.device)
        except HourglassError as exc:
            self.channel.send(P.ErrorEvent(error_info(exc), req_id=msg.req_id))
            return
        except Exception as exc:  # a bug must still answer the request
            log.exception("configure failed unexpectedly")
            self.channel.send(P.ErrorEvent(unexpected_error(exc), req_id=msg.req_id))
            return
        self.settings = new
        entry = _model_entry(self.model.info) if self.model is not None else None
        self.channel.send(P.Configured(msg.req_id, new, entry, self.model.device if self.model else None))

    def _analyze(self, msg: P.Analyze) -> None:
        """Detect the photo's degradation (no restoring, nothing written); the GUI fills its task column.
        Also the photo's newest earlier result, when asked where to look."""
        from engine.errors import ModelInvalidError, ModelNotFoundError

        found = {**_size_fields(msg.input_path), **_earlier_fields(msg), **_made_by_fields(msg.input_path)}
        try:
            from engine.detection import detect_file

            d = detect_file(msg.input_path)
        except (ModelNotFoundError, ModelInvalidError) as exc:
            log.warning("detection is not available: %s", exc)
            self.channel.send(P.Analysis(msg.req_id, msg.input_path, False, message=f"{ANALYZE_UNAVAILABLE} ({exc})",
                                         **found))
            return
        except HourglassError as exc:  # the photo: missing, unreadable, unsupported, too large
            self.channel.send(P.ErrorEvent(error_info(exc), req_id=msg.req_id))
            return
        except Exception as exc:  # a bug must still answer the request
            log.exception("analyze failed unexpectedly")
            self.channel.send(P.ErrorEvent(unexpected_error(exc), req_id=msg.req_id))
            return
        log.info("analyzed %s: %s (%.0f%%) in %.2f s", os.path.basename(msg.input_path), d.task,
                 100 * d.confidence, sum(d.timings.values()))
        self.channel.send(P.Analysis(msg.req_id, msg.input_path, True, d.task, d.confidence, dict(d.scores), **found))

    def _load(self, name: str, device: str, reporter: ProgressReporter | None = None) -> Any:
        """The model for (name, device), loading it only when it is not the one already loaded."""
        from engine.device import resolve_device
        from engine.models import load_model, resolve_model

        key = (str(resolve_model(name).path), resolve_device(device))
        if self.model is not None and key == self.model_key:
            return self.model
        if reporter is not None:
            reporter.update("load", 0, 0, 0, 0, 0.0)
        previous, self.state = self.state, "loading"
        try:
            t0 = time.perf_counter()
            self.model = None  # free the old weights before loading the new ones
            self.model_key = None
            model = load_model(key[0], key[1])
            log.info("loaded model %s (DiffUIR-%s) on %s in %.2f s", model.name, model.variant, model.device,
                     time.perf_counter() - t0)
        finally:
            self.state = previous
        self.model, self.model_key = model, key
        self.model_loads += 1
        return model

    def _run_job(self, job: Job) -> None:
        msg, out = job.submit, job.submit.output_path
        existed = os.path.lexists(out)
        terminal: P.Message | None = None
        self.state = "busy"
        try:
            from engine.api import RestoreOptions, restore_file

            if msg.options.from_result is not None:  # saved again at another strength: no model, no network
                terminal = self._reblend(job)
                return
            options = self._options(msg.options)
            restore = RestoreOptions(**{k: v for k, v in options.items() if k != "model"})
            steps = len(_checked(restore.times))
            self.channel.send(P.Started(msg.job_id, options["model"], self._device_name(), steps, options))
            job.token.check()
            _check_paths(msg.input_path, out)
            loads = self.model_loads
            t0 = time.perf_counter()
            model = self._load(options["model"], self.settings.device, job.reporter)
            loaded_s = time.perf_counter() - t0 if self.model_loads != loads else None

            def on_progress(p: Any) -> None:
                job.reporter.update(p.stage, p.step, p.steps, p.tile, p.tiles, p.fraction)

            def on_warning(message: str) -> None:
                self.channel.send(P.JobWarning("restore_warning", message, msg.job_id))

            res = restore_file(msg.input_path, out, model, restore, on_progress=on_progress,
                               on_warning=on_warning, cancel=job.token)
            job.reporter.update("save", res.nfe, res.nfe, 0, 0, 1.0)
            timings = {k: round(float(v), 4) for k, v in res.timings.items()}
            if loaded_s is not None:
                timings["model_load"] = round(loaded_s, 4)
            terminal = P.Result(msg.job_id, str(res.output_path), res.width, res.height, res.device, res.model,
                                res.nfe, res.task, timings, tuple(res.warnings), skipped=res.skipped,
                                already_restored=res.already_restored, photo_sha256=res.photo_sha256,
                                confidence=res.confidence, scores=dict(res.scores), fullres=res.fullres or None)
        except Cancelled:
            terminal = P.Cancelled(msg.job_id)
        except HourglassError as exc:
            terminal = P.Failed(msg.job_id, error_info(exc))
        except MemoryError:
            terminal = P.Failed(msg.job_id, P.ErrorInfo.make(
                P.ErrorCode.OUT_OF_MEMORY, "The computer ran out of memory restoring this photo; try smaller tiles."))
        except Exception as exc:  # the loop top for a job: any bug becomes this job's `failed`
            log.exception("job '%s' failed unexpectedly", msg.job_id)
            terminal = P.Failed(msg.job_id, unexpected_error(exc))
        finally:
            if not isinstance(terminal, P.Result) and not existed and os.path.lexists(out):
                _remove(out)  # never leave an output behind for a job that did not succeed
            job.reporter.close()
            with self._lock:
                self._job = None
                self.state = "idle"
            self.channel.send(terminal or P.Failed(msg.job_id, P.ErrorInfo.make(P.ErrorCode.INTERNAL, "No outcome.")))
            self._idle.set()

    def _reblend(self, job: Job) -> P.Result:
        """The photo saved again from its earlier result at another strength, or as a copy of it in this job's
        form (`engine.reblend`)."""
        from engine.reblend import reblend_file

        msg, o = job.submit, job.submit.options
        assert o.from_result is not None
        self.channel.send(P.Started(msg.job_id, "", self._device_name(), 0,
                                    {"strength": float(o.strength), "from_result": o.from_result,
                                     "from_strength": float(o.from_strength), "as_copy": o.as_copy}))
        _check_paths(msg.input_path, msg.output_path)
        res = reblend_file(msg.input_path, o.from_result, msg.output_path, o.from_strength, o.strength, task=o.task,
                           jpeg_quality=o.jpeg_quality, overwrite=o.overwrite, remove_location=o.remove_location,
                           record=o.record, copy=o.as_copy, format=o.format.upper() if o.format else None,
                           bit_depth=o.bit_depth, srgb=o.srgb, cancel=job.token,
                           on_progress=lambda p: job.reporter.update(p.stage, 0, 0, 0, 0, p.fraction))
        job.reporter.update("save", 0, 0, 0, 0, 1.0)
        return P.Result(msg.job_id, res.output_path, res.width, res.height, self._device_name(), "", 0, res.task,
                        {k: round(float(v), 4) for k, v in res.timings.items()})

    def _options(self, o: P.JobOptions) -> dict[str, Any]:
        s = self.settings
        quality = o.quality or s.quality
        steps = o.steps if o.steps is not None else (s.steps if o.quality is None else None)
        return {"model": o.model or s.model, "quality": quality, "steps": steps, "task": o.task, "seed": o.seed,
                "tile": o.tile if o.tile is not None else s.tile,
                "overlap": o.overlap if o.overlap is not None else s.overlap,
                "format": o.format.upper() if o.format else None, "jpeg_quality": o.jpeg_quality,
                "bit_depth": o.bit_depth, "overwrite": o.overwrite, "restore_clean": o.restore_clean,
                "fullres": o.fullres, "strength": float(o.strength), "srgb": o.srgb,
                "remove_location": o.remove_location, "record": o.record, "detected": o.detected}

    def _device_name(self) -> str:
        return self.model.device if self.model is not None else self.settings.device


# ------------------------------------------------------------------------------------------------ helpers


def error_info(exc: HourglassError) -> P.ErrorInfo:
    return P.ErrorInfo.make(exc.code, str(exc), exc.detail)


def unexpected_error(exc: Exception) -> P.ErrorInfo:
    """A bug met while answering a request, as the request's error (with the traceback, for the report)."""
    return P.ErrorInfo.make(P.ErrorCode.INTERNAL, f"Unexpected engine error: {type(exc).__name__}: {exc}",
                            traceback=traceback.format_exc())


def _detector_available() -> bool:
    """Whether `analyze` can answer: the detector's weights are there (checked at startup)."""
    from engine.detection import detector_path

    return detector_path().is_file()


def _earlier_fields(msg: P.Analyze) -> dict[str, Any]:
    """The Analysis's `earlier_path` and `earlier`: the photo's newest result from an earlier run."""
    if not msg.result_path:
        return {}
    from engine.earlier_results import earlier_results
    from engine.imaging import recorded_strength

    try:
        found = earlier_results(Path(msg.result_path), Path(msg.input_path))
    except Exception:
        log.exception("looking for earlier results failed")
        return {}
    if not found:
        return {}
    older = {str(path): recorded_strength(record) for path, record in found[:-1]}
    return {"earlier_path": str(found[-1][0]), "earlier": found[-1][1], "earlier_older": older}


def _made_by_fields(path: str) -> dict[str, str]:
    """The Analysis's `already_restored`: the photo is a result Hourglass saved (its XMP, no pixels read)."""
    from engine.imaging import read_made_by

    made = read_made_by(path)
    return {"already_restored": made} if made else {}


def _size_fields(path: str) -> dict[str, int]:
    """The Analysis's `width` and `height`, when the photo's header tells them."""
    from engine.imaging import photo_size

    size = photo_size(path)
    return {"width": size[0], "height": size[1]} if size else {}


def _checked(times: Callable[[], tuple[int, ...]]) -> tuple[int, ...]:
    try:
        return times()
    except ValueError as exc:
        raise InvalidRequestError(f"Invalid options: {exc}") from None


def _check_paths(input_path: str, output_path: str) -> None:
    """Fail fast, before loading or sampling, on problems the imaging layer would only find later."""
    from engine.errors import InputNotFoundError
    from engine.imaging import check_output_folder

    if not os.path.lexists(input_path):
        folder, name = os.path.split(input_path)
        raise InputNotFoundError(f'The file "{name}" does not exist in {folder}.')
    check_output_folder(os.path.dirname(output_path))


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError as exc:
        log.warning("could not remove the unfinished output %s: %s", path, exc)


def _device_info(d: dict[str, Any]) -> P.DeviceInfo:
    total = d.get("memory_total")
    if total is None and d.get("kind") == "cpu":
        try:
            total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            total = None
    return P.DeviceInfo(str(d["id"]), str(d.get("name") or d["id"]), str(d.get("kind", "cpu")), total,
                        d.get("memory_free"))


def _model_entry(info: Any) -> P.ModelEntry:
    j = info.to_json()
    return P.ModelEntry(j["name"], j["path"], j["origin"], int(j["size_bytes"]), j.get("variant"), bool(j["default"]))


def _model_entries() -> tuple[P.ModelEntry, ...]:
    from engine.models import find_models

    try:
        return tuple(_model_entry(m) for m in find_models())
    except Exception:  # a broken model folder must not stop the engine from starting
        log.exception("could not list the model folders")
        return ()


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _str_or_none(x: object) -> str | None:
    return x if isinstance(x, str) else None


def _setup_logging() -> None:
    level = os.environ.get("HOURGLASS_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, stream=sys.stderr, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    """Run the worker until stdin closes or `shutdown` arrives; returns the exit code."""
    del argv  # no options yet
    stream = protect_stdout()
    _setup_logging()
    # a crash in torch or another library: every thread's stack into the log the app keeps (see app.client)
    faulthandler.enable(file=sys.stderr, all_threads=True)
    worker: Worker | None = None
    channel = Channel(stream, on_broken=lambda: worker and worker.parent_gone("stdout closed"))
    worker = Worker(channel)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the GUI's terminal is the GUI's to handle
        # SIGTERM (from the GUI, or PR_SET_PDEATHSIG): stop the job cleanly so no partial output remains.
        signal.signal(signal.SIGTERM, lambda signum, frame: worker.parent_gone("terminated (SIGTERM)", 128 + signum))
        if hasattr(faulthandler, "register"):  # (not on Windows)
            # the app sends SIGTERM to an engine that stopped answering or ignored a cancel: where each thread
            # was goes into the log first (from C: also while Python is stuck), then the handler above runs
            faulthandler.register(signal.SIGTERM, file=sys.stderr, all_threads=True, chain=True)
    watch_parent_death()
    channel.send(P.Hello(P.PROTOCOL_VERSION, __version__, os.getpid()))
    worker.start_ticker()
    try:
        ready = worker.boot()
    except Exception as exc:
        log.exception("the engine could not start")
        channel.send(P.ErrorEvent(P.ErrorInfo.make(P.ErrorCode.INTERNAL, f"The engine could not start: {exc}",
                                                   traceback=traceback.format_exc())))
        return 1
    channel.send(ready)
    log.info("engine %s ready (protocol %d, pid %d)", __version__, P.PROTOCOL_VERSION, os.getpid())
    return worker.serve(sys.stdin.buffer)
