"""The engine worker process, driven line by line over its pipes (no client in between).

One worker is shared by the module (starting one imports torch, ~2 s); tests that end a worker start
their own. Every wait is on an event with a timeout, never a sleep.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from engine import protocol as P
from engine.worker_io import ProgressReporter

TIMEOUT = 60.0


class WorkerProcess:
    """`python -m engine` with its events decoded (and validated) by a reader thread."""

    hello: Any = None
    ready: Any = None
    configured: Any = None

    def __init__(self, env: dict[str, str] | None = None, **popen: Any) -> None:
        full_env = {**os.environ, "HOURGLASS_HEARTBEAT_S": "0.3", **(env or {})}
        self.proc = subprocess.Popen([sys.executable, "-m", "engine"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=full_env, **popen)
        self.events: queue.Queue[Any] = queue.Queue()
        self.log: deque[str] = deque(maxlen=500)
        self.raw: list[bytes] = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.raw.append(line)
            try:
                self.events.put(P.decode(line, expect="event"))
            except P.ProtocolError as exc:  # the worker must never write an invalid line
                self.events.put(AssertionError(f"invalid event line {line!r}: {exc}"))
        self.events.put(EOFError())

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line.decode("utf-8", "replace").rstrip())

    def send(self, msg: P.Message | dict[str, Any] | bytes) -> None:
        if isinstance(msg, P.Message):
            data = P.encode(msg)
        elif isinstance(msg, dict):
            data = json.dumps(msg).encode() + b"\n"
        else:
            data = msg
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def next(self, timeout: float = TIMEOUT) -> Any:
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s; engine log:\n" + "\n".join(self.log)) from None
        assert not isinstance(event, (AssertionError, EOFError)), f"{event!r}; engine log:\n" + "\n".join(self.log)
        return event

    def expect(self, match: type | Callable[[Any], bool], timeout: float = TIMEOUT) -> Any:
        """The next event that matches, skipping heartbeats and progress (anything else fails the test)."""
        pred = (lambda e: isinstance(e, match)) if isinstance(match, type) else match
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(max(0.01, deadline - time.monotonic()))
            if pred(event):
                return event
            assert isinstance(event, (P.Heartbeat, P.Progress)), f"unexpected event {event!r}"

    def job(self, job_id: str, timeout: float = TIMEOUT,
            until: Callable[[Any], bool] = P.is_terminal) -> list[Any]:
        """This job's events up to its terminal event (or the first matching `until`)."""
        events = []
        deadline = time.monotonic() + timeout
        while True:
            event = self.expect(lambda e: _of_job(e, job_id), max(0.01, deadline - time.monotonic()))
            events.append(event)
            if until(event) or P.is_terminal(event):
                return events

    def ping(self) -> P.Pong:
        req = uuid.uuid4().hex
        self.send(P.Ping(req))
        return self.expect(lambda e: isinstance(e, P.Pong) and e.req_id == req)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def _of_job(event: Any, job_id: str) -> bool:
    return not isinstance(event, P.Heartbeat) and getattr(event, "job_id", None) == job_id


def write_png(path: Path, size: int = 48, seed: int = 0) -> Path:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory, tiny_model_path: Path) -> Iterator[WorkerProcess]:
    """One configured worker for the module: hello and ready are checked by `test_handshake`."""
    models = tmp_path_factory.mktemp("worker-models")
    w = WorkerProcess({"HOURGLASS_MODELS_DIR": str(models)})
    w.hello = w.next()
    w.ready = w.expect(P.Ready)
    w.send(P.Configure("cfg", model=str(tiny_model_path), quality="fast", threads=1))
    w.configured = w.expect(lambda e: getattr(e, "req_id", None) == "cfg")
    yield w
    w.stop()


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return write_png(tmp_path / "in.png")


def submit(w: WorkerProcess, src: Path, out: Path, **options: Any) -> str:
    job_id = uuid.uuid4().hex
    w.send(P.Submit(job_id, str(src), str(out), P.JobOptions(**options)))
    return job_id


def assert_sequence(events: list[Any]) -> None:
    kinds = [e.type for e in events]
    assert kinds[:2] == ["accepted", "started"], kinds
    assert set(kinds[2:-1]) <= {"progress", "warning"}, kinds
    assert P.is_terminal(events[-1]) and sum(map(P.is_terminal, events)) == 1


# ------------------------------------------------------------------------------------------ the process


def test_handshake(worker: WorkerProcess) -> None:
    assert isinstance(worker.hello, P.Hello)  # the very first line, before torch is imported
    assert worker.hello.protocol == P.PROTOCOL_VERSION and worker.hello.pid == worker.proc.pid
    ready = worker.ready
    assert ready.devices[0].id == "cpu" and ready.devices[0].memory_total
    assert ready.settings == P.Settings()
    from engine.detection.detector import DETECTOR_FILE
    from engine.models import bundled_models_dir

    # restoration models only: the detector's weights ship beside them but are not a model to choose
    bundled = sorted(p.stem for p in bundled_models_dir().glob("*.safetensors") if p.name != DETECTOR_FILE)
    assert sorted(m.name for m in ready.models) == bundled  # the user folder of this test is empty
    assert all(m.origin == "bundled" for m in ready.models)
    assert isinstance(worker.configured, P.Configured), worker.configured
    assert worker.configured.model is not None and worker.configured.model.variant == "T"
    assert worker.configured.settings.quality == "fast"


def test_submit_progress_result(worker: WorkerProcess, src: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "restored.png"
    job = submit(worker, src, out, steps=3)
    events = worker.job(job)
    assert_sequence(events)
    result = events[-1]
    assert isinstance(result, P.Result), result
    assert (result.output_path, result.nfe, result.device, result.width) == (str(out), 3, "cpu", 48)
    assert out.is_file() and {"read", "restore", "write", "total"} <= set(result.timings)
    progress = [e for e in events if isinstance(e, P.Progress)]
    assert progress[0].stage == "load" and progress[-1].stage == "save"
    assert [p.step for p in progress if p.stage == "restore"][-1] == 3
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert events[1].steps == 3 and events[1].options["quality"] == "fast"


def test_fullres_job_option_is_applied_and_reported(worker: WorkerProcess, src: Path, tmp_path: Path) -> None:
    events = worker.job(submit(worker, src, tmp_path / "fast.png", steps=1, task="haze", fullres="fast"))
    assert events[1].options["fullres"] == "fast"
    result = events[-1]
    assert isinstance(result, P.Result), result
    assert result.fullres == "tiled"  # a 48×48 photo is already smaller than the fast path's working size
    default = worker.job(submit(worker, src, tmp_path / "auto.png", steps=1))
    assert default[1].options["fullres"] == "auto" and default[-1].fullres == "tiled"


def test_a_result_submitted_again_is_skipped_saying_how_it_was_made(worker: WorkerProcess, src: Path,
                                                                      tmp_path: Path) -> None:
    first = worker.job(submit(worker, src, tmp_path / "first.png", steps=1, task="haze"))[-1]
    assert isinstance(first, P.Result) and not first.skipped
    assert first.photo_sha256 == hashlib.sha256(src.read_bytes()).hexdigest()  # (the app's "edited since?")
    again = worker.job(submit(worker, Path(first.output_path), tmp_path / "again.png", steps=1))[-1]
    assert isinstance(again, P.Result) and again.skipped and again.output_path == ""
    assert again.already_restored.startswith("restored in.png as haze (chosen) with ")
    assert not (tmp_path / "again.png").exists()
    worker.send(P.Analyze("made", first.output_path))  # said before it is restored, from its XMP alone
    analysis = worker.expect(lambda e: getattr(e, "req_id", None) == "made")
    assert isinstance(analysis, P.Analysis) and analysis.already_restored == again.already_restored
    worker.send(P.Analyze("photo", str(src)))
    assert worker.expect(lambda e: getattr(e, "req_id", None) == "photo").already_restored == ""


def test_strength_job_option_blends_over_the_original(worker: WorkerProcess, src: Path, tmp_path: Path) -> None:
    events = worker.job(submit(worker, src, tmp_path / "none.png", steps=1, task="haze", strength=0.0))
    assert isinstance(events[-1], P.Result) and events[1].options["strength"] == 0.0
    original = np.asarray(Image.open(src).convert("RGB"))
    assert (np.asarray(Image.open(tmp_path / "none.png")) == original).all()


def test_a_result_is_saved_again_at_a_lower_strength_without_the_network(worker: WorkerProcess, src: Path,
                                                                       tmp_path: Path) -> None:
    assert isinstance(worker.job(submit(worker, src, tmp_path / "full.png", steps=1, task="haze"))[-1], P.Result)
    events = worker.job(submit(worker, src, tmp_path / "half.png", task="haze", strength=0.5,
                               from_result=str(tmp_path / "full.png"), from_strength=1.0))
    assert_sequence(events)
    result = events[-1]
    assert isinstance(result, P.Result), result
    assert (result.output_path, result.nfe, result.width, result.task) == (str(tmp_path / "half.png"), 0, 48, "haze")
    assert events[1].options["from_result"] == str(tmp_path / "full.png") and events[1].steps == 0
    assert [p.stage for p in events if isinstance(p, P.Progress)][-1] == "save"
    full, half = (np.asarray(Image.open(tmp_path / n), np.float64) for n in ("full.png", "half.png"))
    original = np.asarray(Image.open(src).convert("RGB"), np.float64)
    assert np.abs(half - (original + full) / 2).max() <= 1
    events = worker.job(submit(worker, src, tmp_path / "more.png", strength=0.8,
                               from_result=str(tmp_path / "half.png"), from_strength=0.5))
    failed = events[-1]
    assert isinstance(failed, P.Failed) and failed.error.code == P.ErrorCode.INVALID_REQUEST, failed
    assert "Retry restores the photo again at 80%" in failed.error.message and not (tmp_path / "more.png").exists()
    with pytest.raises(P.ProtocolError, match="from_strength"):
        P.JobOptions(from_result=str(tmp_path / "full.png"), from_strength=0.0)
    with pytest.raises(P.ProtocolError, match="from_result"):
        P.JobOptions(from_result="full.png")
    with pytest.raises(P.ProtocolError, match="as_copy needs"):
        P.JobOptions(as_copy=True)  # a copy of what?


def test_srgb_job_option_saves_in_srgb(worker: WorkerProcess, tmp_path: Path) -> None:
    from engine.icc_profiles import adobe_rgb_profile

    src = tmp_path / "dslr.png"
    Image.new("RGB", (48, 40), (90, 120, 60)).save(src, icc_profile=adobe_rgb_profile())
    events = worker.job(submit(worker, src, tmp_path / "web.png", steps=1, task="haze", srgb=True))
    assert isinstance(events[-1], P.Result) and events[1].options["srgb"] is True
    assert Image.open(tmp_path / "web.png").info["icc_profile"] != adobe_rgb_profile()
    events = worker.job(submit(worker, src, tmp_path / "same.png", steps=1, task="haze"))
    assert events[1].options["srgb"] is False
    assert Image.open(tmp_path / "same.png").info["icc_profile"] == adobe_rgb_profile()


def test_results_for_sharing_leave_out_the_place_and_the_record(worker: WorkerProcess, tmp_path: Path) -> None:
    from engine import imaging
    from tests.test_imaging import make_exif

    src = tmp_path / "phone.jpg"
    Image.new("RGB", (48, 40), (90, 120, 60)).save(src, exif=make_exif())
    events = worker.job(submit(worker, src, tmp_path / "shared.jpg", steps=1, task="haze", remove_location=True,
                               record=False))
    assert isinstance(events[-1], P.Result), events[-1]
    assert (events[1].options["remove_location"], events[1].options["record"]) == (True, False)
    with Image.open(tmp_path / "shared.jpg") as shared:
        assert not shared.getexif().get_ifd(0x8825) and shared.getexif()[0x0110] == "HG-1"
    assert imaging.read_provenance(tmp_path / "shared.jpg") == {}
    events = worker.job(submit(worker, src, tmp_path / "kept.jpg", steps=1, task="haze"))
    assert (events[1].options["remove_location"], events[1].options["record"]) == (False, True)
    with Image.open(tmp_path / "kept.jpg") as kept:
        assert kept.getexif().get_ifd(0x8825)[1] == "N"
    assert imaging.read_provenance(tmp_path / "kept.jpg")["Task"] == "haze"


@pytest.mark.parametrize(("fmt", "quality", "brand"), [("AVIF", 80, b"ftypavif"), ("WEBP", 80, b"WEBP")])
def test_the_app_s_webp_and_avif_formats(worker: WorkerProcess, src: Path, tmp_path: Path, fmt: str,
                                          quality: int, brand: bytes) -> None:
    out = tmp_path / f"out.{fmt.lower()}"
    events = worker.job(submit(worker, src, out, steps=1, task="haze", format=fmt, bit_depth=8,
                               jpeg_quality=quality))
    assert isinstance(events[-1], P.Result) and events[-1].output_path == str(out)
    assert brand in out.read_bytes()[:16] and Image.open(out).format == fmt


def test_ten_jobs_reuse_the_loaded_model(worker: WorkerProcess, src: Path, tmp_path: Path) -> None:
    loads = worker.ping().model_loads
    for i in range(10):
        result = worker.job(submit(worker, src, tmp_path / f"{i}.png"))[-1]
        assert isinstance(result, P.Result) and "model_load" not in result.timings, result
    pong = worker.ping()
    assert pong.model_loads == loads and pong.model == "tiny-t" and pong.state == "idle"


def test_progress_is_coalesced_and_has_an_eta(worker: WorkerProcess, tmp_path: Path) -> None:
    src = write_png(tmp_path / "big.png", 96)
    events = worker.job(submit(worker, src, tmp_path / "out.png", steps=3, tile=32, overlap=8))
    assert isinstance(events[-1], P.Result)
    restore = [e for e in events if isinstance(e, P.Progress) and e.stage == "restore"]
    assert restore[-1].step == 3 and restore[-1].tile == restore[-1].tiles == 16
    assert len(restore) < 3 * 16  # 48 sampler/tile boundaries, coalesced to ≤10 Hz
    # the stage opens at 0 with no estimate yet; every later event has one, timed from that opening, so
    # the first step or tile is not left out of the rate (which made a one-tile photo read "0 s" left)
    assert restore[0].step == 0 and restore[0].fraction == pytest.approx(0.1) and restore[0].eta_s is None
    assert all(p.eta_s is not None and p.eta_s >= 0 for p in restore[1:])


def test_cancel_mid_job_stops_within_one_step(worker: WorkerProcess, tmp_path: Path) -> None:
    src = write_png(tmp_path / "big.png", 96)
    out = tmp_path / "out" / "cancelled.png"
    job = submit(worker, src, out, steps=20, tile=32, overlap=8)
    events = worker.job(job, until=lambda e: isinstance(e, P.Progress) and e.stage == "restore" and e.step >= 1)
    first = events[-1]
    worker.send(P.Cancel(job))
    events += worker.job(job)
    assert_sequence(events)
    assert isinstance(events[-1], P.Cancelled), events[-1]
    last = [e for e in events if isinstance(e, P.Progress)][-1]
    done_at_cancel = (first.step - 1) * first.tiles + first.tile
    done_at_end = (last.step - 1) * last.tiles + last.tile
    assert done_at_end - done_at_cancel <= first.tiles, (first, last)  # at most one sampler step later
    assert not out.exists() and not (out.parent.exists() and any(out.parent.iterdir()))
    worker.send(P.Cancel(job))  # cancelling a finished job does nothing
    assert worker.ping().state == "idle"


def test_ping_and_cancel_are_not_queued_behind_a_job(worker: WorkerProcess, tmp_path: Path) -> None:
    src = write_png(tmp_path / "big.png", 96)
    job = submit(worker, src, tmp_path / "out.png", steps=30, tile=32, overlap=8)
    worker.job(job, until=lambda e: isinstance(e, P.Progress) and e.stage == "restore")
    worker.send(P.Ping("busy-ping"))
    pong = worker.expect(lambda e: isinstance(e, (P.Pong, P.Cancelled, P.Result)))
    assert isinstance(pong, P.Pong) and pong.state == "busy" and pong.job_id == job
    second = submit(worker, src, tmp_path / "second.png")
    busy = worker.expect(lambda e: _of_job(e, second))
    assert isinstance(busy, P.Failed) and busy.error.code == P.ErrorCode.BUSY
    worker.send(P.Cancel(job))
    assert isinstance(worker.job(job)[-1], P.Cancelled)


@pytest.mark.parametrize("case", ["missing", "corrupt", "folder", "unsupported", "unwritable", "exists",
                                  "unknown_model", "invalid_model"])
def test_bad_jobs_fail_with_a_specific_code(worker: WorkerProcess, src: Path, tmp_path: Path, case: str) -> None:
    out = tmp_path / "out" / "o.png"
    options: dict[str, Any] = {}
    inp = src
    if case == "missing":
        inp, code = tmp_path / "nope.png", P.ErrorCode.INPUT_NOT_FOUND
    elif case == "corrupt":
        inp, code = tmp_path / "corrupt.png", P.ErrorCode.INPUT_UNREADABLE
        inp.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    elif case == "folder":
        inp, code = tmp_path, P.ErrorCode.INPUT_UNREADABLE
    elif case == "unsupported":
        inp, code = tmp_path / "notes.txt", P.ErrorCode.UNSUPPORTED_INPUT
        inp.write_text("not a photo")
    elif case == "unwritable":  # a file where the output folder should be (chmod means nothing to root)
        (tmp_path / "blocker").write_text("x")
        out, code = tmp_path / "blocker" / "sub" / "o.png", P.ErrorCode.OUTPUT_NOT_WRITABLE
    elif case == "exists":
        out.parent.mkdir()
        out.write_bytes(b"keep me")
        code = P.ErrorCode.OUTPUT_EXISTS
    elif case == "unknown_model":
        options["model"], code = "no-such-model", P.ErrorCode.MODEL_NOT_FOUND
    else:
        bad = tmp_path / "broken.safetensors"
        bad.write_bytes(os.urandom(64))
        options["model"], code = str(bad), P.ErrorCode.MODEL_INVALID
    events = worker.job(submit(worker, inp, out, **options))
    assert_sequence(events)
    failed = events[-1]
    assert isinstance(failed, P.Failed) and failed.error.code == code, failed
    assert failed.error.message and not failed.error.traceback
    if case == "exists":
        assert out.read_bytes() == b"keep me"
    else:
        assert not out.exists()
    # ...and the worker keeps serving
    assert isinstance(worker.job(submit(worker, src, tmp_path / "after.png"))[-1], P.Result)


def test_configure_with_an_unknown_model_keeps_the_settings(worker: WorkerProcess) -> None:
    worker.send(P.Configure("bad-model", model="no-such-model"))
    error = worker.expect(lambda e: getattr(e, "req_id", None) == "bad-model")
    assert isinstance(error, P.ErrorEvent) and error.error.code == P.ErrorCode.MODEL_NOT_FOUND
    assert "no-such-model" in error.error.message
    worker.send(P.Configure("same", quality="fast"))
    configured = worker.expect(lambda e: getattr(e, "req_id", None) == "same")
    assert isinstance(configured, P.Configured) and configured.settings.model.endswith("tiny-t.safetensors")


def test_analyze_reports_that_detection_is_unavailable(worker: WorkerProcess, src: Path) -> None:
    worker.send(P.Analyze("an", str(src)))
    analysis = worker.expect(lambda e: getattr(e, "req_id", None) == "an")
    assert isinstance(analysis, P.Analysis) and not analysis.available and analysis.message


GARBAGE = [
    b"this is not json\n",
    b"[1, 2, 3]\n",
    b'{"no_type": 1}\n',
    b'{"type": "reticulate_splines", "req_id": "u1"}\n',
    b'{"type": "ping"}\n',
    b'{"type": "ping", "req_id": 5}\n',
    b'{"type": "configure", "req_id": "c", "steps": -3}\n',
    b"\xff\xfe\xfa not utf-8\n",
    b'{"type": "ping", "req_id": "x", "n": NaN}\n',
    b"{" + b'"x": "' + b"a" * (2 * P.MAX_LINE_BYTES) + b'"}\n',
]


def test_garbage_lines_get_an_error_event_and_the_worker_keeps_serving(worker: WorkerProcess) -> None:
    for line in GARBAGE:
        worker.send(line)
        error = worker.expect(P.ErrorEvent)
        assert error.error.code == P.ErrorCode.INVALID_REQUEST and error.error.message, line[:80]
    worker.send(b"\n   \n")  # blank lines are ignored silently
    assert worker.ping().state == "idle"


def test_a_refused_submit_still_ends_its_job(worker: WorkerProcess) -> None:
    worker.send({"type": "submit", "job_id": "rel", "input_path": "relative.png", "output_path": "/tmp/x.png"})
    failed = worker.expect(lambda e: _of_job(e, "rel"))
    assert isinstance(failed, P.Failed) and failed.error.code == P.ErrorCode.INVALID_REQUEST
    assert "absolute" in failed.error.message


def test_heartbeats_carry_state_and_memory(worker: WorkerProcess) -> None:
    beat = worker.expect(lambda e: isinstance(e, P.Heartbeat), timeout=5)
    assert beat.state in P.ENGINE_STATES and beat.rss_mb and beat.rss_mb > 10


# ------------------------------------------------------------------------------------------ lifecycle


def _slow_job(w: WorkerProcess, tiny_model_path: Path, tmp_path: Path) -> tuple[str, Path]:
    """Configure `w` and start a job with many tile/step boundaries; returns once it is restoring."""
    if w.ready is None:
        w.ready = w.expect(P.Ready)
    w.send(P.Configure("c", model=str(tiny_model_path), threads=1))
    assert isinstance(w.expect(lambda e: getattr(e, "req_id", None) == "c"), P.Configured)
    out = tmp_path / "out" / "o.png"
    job = submit(w, write_png(tmp_path / "big.png", 96), out, steps=50, tile=32, overlap=8)
    w.job(job, until=lambda e: isinstance(e, P.Progress) and e.stage == "restore")
    return job, out


def test_shutdown_mid_job_cancels_it_says_bye_and_exits_0(tiny_model_path: Path, tmp_path: Path) -> None:
    from engine.models import DEFAULT_MODEL_FILE, bundled_models_dir

    w = WorkerProcess()
    try:
        assert isinstance(w.next(), P.Hello)
        w.ready = w.expect(P.Ready)
        if not (bundled_models_dir() / DEFAULT_MODEL_FILE).exists():  # no model configured, none bundled yet
            failed = w.job(submit(w, write_png(tmp_path / "a.png"), tmp_path / "a-out.png"))[-1]
            assert isinstance(failed, P.Failed) and failed.error.code == P.ErrorCode.MODEL_NOT_FOUND
            assert "No model found" in failed.error.message
        job, out = _slow_job(w, tiny_model_path, tmp_path)
        w.send(P.Shutdown())
        assert isinstance(w.job(job)[-1], P.Cancelled)
        assert isinstance(w.expect(lambda e: not isinstance(e, P.Heartbeat)), P.Bye)
        assert w.proc.wait(TIMEOUT) == 0
        assert not out.exists()
    finally:
        w.stop()


def test_sigterm_mid_job_cancels_it_cleanly(tiny_model_path: Path, tmp_path: Path) -> None:
    w = WorkerProcess()
    try:
        assert isinstance(w.next(), P.Hello)
        job, out = _slow_job(w, tiny_model_path, tmp_path)
        w.proc.terminate()
        assert isinstance(w.job(job)[-1], P.Cancelled)
        assert w.proc.wait(TIMEOUT) == 128 + signal.SIGTERM
        assert not out.exists() and not (out.parent.exists() and any(out.parent.iterdir()))
    finally:
        w.stop()


def test_stdin_eof_ends_the_worker() -> None:
    w = WorkerProcess()
    try:
        assert isinstance(w.next(), P.Hello)
        assert w.proc.stdin is not None
        w.proc.stdin.close()
        assert w.proc.wait(TIMEOUT) == 0
    finally:
        w.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and reparenting are Linux")
@pytest.mark.parametrize("when", ["at_once", "after_hello"])
def test_worker_does_not_outlive_its_parent(when: str) -> None:
    """The parent dies while the worker's stdin stays open (we hold it): only the watchdog can stop it.

    `at_once` kills the parent before the worker has even started (caught by the parent-pid poll);
    `after_hello` kills it once the worker runs (PR_SET_PDEATHSIG).
    """
    read_fd, write_fd = os.pipe()
    launcher = ("import os, subprocess, sys, time; "
                "env = dict(os.environ, HOURGLASS_PARENT_PID=str(os.getpid())); "
                f"p = subprocess.Popen([sys.executable, '-m', 'engine'], stdin={read_fd}, pass_fds=[{read_fd}], "
                "env=env); print(p.pid, flush=True); time.sleep(600)")
    parent = subprocess.Popen([sys.executable, "-c", launcher], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              pass_fds=[read_fd])
    os.close(read_fd)
    pid = 0
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        if when == "after_hello":
            assert isinstance(P.decode(parent.stdout.readline(), expect="event"), P.Hello)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 20
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)  # polling a foreign pid: there is no event to wait on
        assert not _alive(pid), "the worker outlived its parent"
    finally:
        os.close(write_fd)
        if pid and _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def test_stray_prints_cannot_corrupt_the_protocol_stream() -> None:
    code = ("import os; from engine.worker_io import protect_stdout; s = protect_stdout(); print('stray print'); "
            "os.write(1, b'c-level write\\n'); s.write(b'protocol\\n'); s.flush()")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, timeout=60)
    assert out.stdout == b"protocol\n"
    assert b"stray print" in out.stderr and b"c-level write" in out.stderr


def test_importing_the_worker_does_not_import_torch() -> None:
    code = "import sys, engine.worker; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=60).returncode == 0


# ------------------------------------------------------------------------------------ progress coalescing


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_reporter_coalesces_to_the_interval_and_flushes_on_close() -> None:
    sent: list[P.Progress] = []
    clock = Clock()
    rep = ProgressReporter("j", sent.append, interval=0.1, clock=clock)
    rep.update("load", 0, 3, 0, 0, 0.0)
    for i in range(1, 31):  # 30 updates within 0.03 s
        clock.now = i / 1000
        rep.update("restore", 1, 3, i, 30, i / 90)
    assert [(p.stage, p.tile) for p in sent] == [("load", 0), ("restore", 1)]
    rep.tick()  # too early
    assert len(sent) == 2
    clock.now = 0.2
    rep.tick()  # the ticker sends the pending one once the interval has passed
    assert sent[-1].tile == 30 and len(sent) == 3
    rep.update("restore", 2, 3, 1, 30, 31 / 90)
    rep.update("restore", 2, 3, 2, 30, 32 / 90)  # pending
    rep.update("save", 3, 3, 0, 0, 0.0)  # a stage change flushes the pending event first
    assert [(p.stage, p.tile) for p in sent[-3:]] == [("restore", 30), ("restore", 2), ("save", 0)]
    clock.now = 0.21
    rep.update("save", 3, 3, 0, 0, 1.0)
    rep.close()
    assert sent[-1].fraction == 1.0 and sent[-1].eta_s == 0.0
    rep.update("save", 3, 3, 0, 0, 1.0)
    rep.tick()
    assert sent[-1].fraction == 1.0 and len([p for p in sent if p.stage == "save"]) == 2  # nothing after close


def test_reporter_fraction_is_monotonic_and_eta_follows_the_restore_rate() -> None:
    sent: list[P.Progress] = []
    clock = Clock()
    rep = ProgressReporter("j", sent.append, interval=0.0, clock=clock)
    clock.now = 10.0
    rep.update("restore", 1, 4, 1, 1, 0.0)
    clock.now = 12.0
    rep.update("restore", 2, 4, 1, 1, 0.5)  # half done in 2 s: 2 s left
    assert sent[-1].eta_s == pytest.approx(2.0)
    rep.update("load", 0, 4, 0, 0, 0.0)  # an earlier stage never moves the fraction back
    assert [p.fraction for p in sent] == sorted(p.fraction for p in sent)


def signalled_engine(tmp_path: Path, signum: int, last_words: str) -> tuple[int, str]:
    """A ready engine sent `signum`: its exit status, and its log once a line holds `last_words`."""
    w = WorkerProcess({"HOURGLASS_MODELS_DIR": str(tmp_path)})
    try:
        w.next()
        w.expect(P.Ready)
        w.proc.send_signal(signum)
        code = w.proc.wait(30)
        deadline = time.monotonic() + 10
        while not any(last_words in line for line in w.log) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        w.stop()
    return code, "\n".join(w.log)


@pytest.mark.skipif(not hasattr(signal, "SIGSEGV") or sys.platform == "win32", reason="POSIX signals")
def test_an_engine_that_crashes_leaves_every_threads_stack_in_its_log(tmp_path):
    """A segfault in torch or another library killed the engine without a word: the app's crash message
    and log had its last lines, none about where it died."""
    code, log = signalled_engine(tmp_path, signal.SIGSEGV, "most recent call first")
    assert code == -signal.SIGSEGV
    assert "Fatal Python error: Segmentation fault" in log, log[-2000:]
    # every thread's stack, the main thread's (serving stdin) among them; which thread is "current" is the
    # kernel's choice for a signal sent to the process
    assert 'engine/worker.py", line' in log and "most recent call first" in log, log[-3000:]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_an_engine_told_to_stop_says_where_each_thread_was_then_stops_as_before(tmp_path):
    """The app sends SIGTERM to an engine that stopped answering or ignored a cancel, then kills it: why it
    was stuck went nowhere. Its threads' stacks now come first, and SIGTERM still stops it cleanly."""
    code, log = signalled_engine(tmp_path, signal.SIGTERM, "exiting")
    assert code == 128 + signal.SIGTERM  # (the worker's own SIGTERM exit, after the stacks)
    assert "most recent call first" in log and 'engine/worker.py", line' in log, log[-3000:]
    assert log.index("most recent call first") < log.index("terminated (SIGTERM): exiting"), log[-3000:]
