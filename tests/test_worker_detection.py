"""Automatic detection in the engine worker: the `analyze` command, the `analyze` capability, and jobs with
task "auto" (the detected task is used and reported; a photo detected as already fine is skipped and nothing
is written unless `restore_clean`). Stand-in detectors make every answer exact."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from detector_helpers import write_stub_detector
from test_worker import WorkerProcess, _slow_job, assert_sequence, write_png

from engine import protocol as P


def start_worker(tmp_path: Path, tiny_model_path: Path, task: str | None) -> WorkerProcess:
    env = {"HOURGLASS_MODELS_DIR": str(tmp_path / "models")}
    if task is not None:
        env["HOURGLASS_DETECTOR"] = str(write_stub_detector(tmp_path / f"stub-{task}.safetensors", task))
    w = WorkerProcess(env)
    w.hello = w.next()
    w.ready = w.expect(P.Ready)
    w.send(P.Configure("cfg", model=str(tiny_model_path), quality="fast", threads=1))
    w.expect(lambda e: getattr(e, "req_id", None) == "cfg")
    return w


@pytest.fixture(scope="module")
def haze_worker(tmp_path_factory: pytest.TempPathFactory, tiny_model_path: Path) -> Iterator[WorkerProcess]:
    """One worker whose detector always answers "haze", shared by the module (a start imports torch)."""
    w = start_worker(tmp_path_factory.mktemp("haze-worker"), tiny_model_path, "haze")
    yield w
    w.stop()


@pytest.fixture
def clean_worker(tmp_path: Path, tiny_model_path: Path) -> Iterator[WorkerProcess]:
    w = start_worker(tmp_path, tiny_model_path, "none")
    yield w
    w.stop()


def run_job(w: WorkerProcess, src: Path, out: Path, **options) -> list:
    job_id = uuid.uuid4().hex
    w.send(P.Submit(job_id, str(src), str(out), P.JobOptions(**options)))
    events = w.job(job_id)
    assert_sequence(events)
    return events


def test_analyze_answers_with_the_detected_task_and_scores(haze_worker: WorkerProcess, tmp_path: Path) -> None:
    assert haze_worker.ready.capabilities["analyze"] is True
    src = write_png(tmp_path / "photos" / "in.png")
    haze_worker.send(P.Analyze("a1", str(src)))
    analysis = haze_worker.expect(lambda e: getattr(e, "req_id", None) == "a1")
    assert isinstance(analysis, P.Analysis) and analysis.available and analysis.task == "haze"
    assert analysis.confidence == pytest.approx(0.9) and set(analysis.scores) == set(P.TASKS) - {"auto"}
    assert (analysis.width, analysis.height) == (48, 48)  # (the GUI weighs the batch's time left by it)
    assert list(src.parent.iterdir()) == [src]  # nothing written


def test_analyze_finds_the_photos_newest_earlier_result_where_asked(haze_worker: WorkerProcess,
                                                                   tmp_path: Path) -> None:
    """Restored in an earlier run and saved again at 50%: the newest result and what it records."""
    src = write_png(tmp_path / "in.png")
    run_job(haze_worker, src, tmp_path / "restored" / "in.png", task="rain", strength=0.8)
    again = tmp_path / "restored" / "in (1).png"
    haze_worker.send(P.Submit("again", str(src), str(again), P.JobOptions(
        strength=0.5, from_result=str(tmp_path / "restored" / "in.png"), from_strength=0.8)))
    assert isinstance(haze_worker.job("again")[-1], P.Result)
    haze_worker.send(P.Analyze("e1", str(src), str(tmp_path / "restored" / "in.png")))
    analysis = haze_worker.expect(lambda e: getattr(e, "req_id", None) == "e1")
    assert isinstance(analysis, P.Analysis) and analysis.task == "haze"  # detected as before
    assert analysis.earlier_path == str(again)
    assert (analysis.earlier["Task"], analysis.earlier["Strength"]) == ("rain", "0.5")
    assert analysis.earlier_older == {str(tmp_path / "restored" / "in.png"): 0.8}
    haze_worker.send(P.Analyze("e2", str(src), str(tmp_path / "elsewhere" / "in.png")))
    assert haze_worker.expect(lambda e: getattr(e, "req_id", None) == "e2").earlier_path == ""


def test_analyze_tells_the_photos_upright_size(haze_worker: WorkerProcess, tmp_path: Path) -> None:
    """A camera's portrait shot is stored landscape with an EXIF orientation: the size is the upright one."""
    from PIL import Image

    src = tmp_path / "portrait.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° to show
    Image.new("RGB", (96, 64), (90, 120, 150)).save(src, exif=exif)
    haze_worker.send(P.Analyze("a2", str(src)))
    analysis = haze_worker.expect(lambda e: getattr(e, "req_id", None) == "a2")
    assert isinstance(analysis, P.Analysis) and (analysis.width, analysis.height) == (64, 96)


def test_analyze_of_a_missing_photo_is_an_error_for_that_request(haze_worker: WorkerProcess, tmp_path: Path) -> None:
    haze_worker.send(P.Analyze("a2", str(tmp_path / "nope.jpg")))
    error = haze_worker.expect(lambda e: getattr(e, "req_id", None) == "a2")
    assert isinstance(error, P.ErrorEvent) and error.error.code == P.ErrorCode.INPUT_NOT_FOUND
    assert isinstance(haze_worker.ping(), P.Pong)  # still serving


def test_analyze_of_a_photo_too_small_to_judge_says_so(haze_worker: WorkerProcess, tmp_path: Path) -> None:
    from PIL import Image

    src = tmp_path / "dot.png"
    Image.new("RGB", (1, 1)).save(src)
    haze_worker.send(P.Analyze("a3", str(src)))
    error = haze_worker.expect(lambda e: getattr(e, "req_id", None) == "a3")
    assert isinstance(error, P.ErrorEvent) and error.error.code == P.ErrorCode.UNSUPPORTED_INPUT
    assert "too small" in error.error.message
    assert isinstance(haze_worker.ping(), P.Pong)


def test_an_auto_job_uses_and_reports_the_detected_task(haze_worker: WorkerProcess, tmp_path: Path) -> None:
    src = write_png(tmp_path / "in.png")
    events = run_job(haze_worker, src, tmp_path / "out.png")
    result = events[-1]
    assert isinstance(result, P.Result) and result.task == "haze" and not result.skipped
    assert result.confidence == pytest.approx(0.9) and result.scores["haze"] == pytest.approx(0.9)
    assert "detect" in result.timings and Path(result.output_path).is_file()
    assert "detect" in {e.stage for e in events if isinstance(e, P.Progress)}
    chosen = run_job(haze_worker, src, tmp_path / "chosen.png", task="blur")[-1]
    assert chosen.task == "blur" and chosen.confidence is None


def test_a_photo_detected_as_fine_is_skipped_and_nothing_is_written(clean_worker: WorkerProcess,
                                                                     tmp_path: Path) -> None:
    src = write_png(tmp_path / "in.png")
    out = tmp_path / "out" / "in.png"
    result = run_job(clean_worker, src, out)[-1]
    assert isinstance(result, P.Result) and result.skipped and result.task == "none"
    assert result.output_path == "" and result.nfe == 0 and not out.exists()
    forced = run_job(clean_worker, src, out, restore_clean=True)[-1]
    assert isinstance(forced, P.Result) and not forced.skipped and forced.task == "none" and out.is_file()


def test_without_a_detector_analyze_is_unavailable_and_auto_still_restores(tmp_path: Path,
                                                                           tiny_model_path: Path) -> None:
    w = start_worker(tmp_path, tiny_model_path, None)  # conftest points HOURGLASS_DETECTOR nowhere
    try:
        assert w.ready.capabilities["analyze"] is False
        src = write_png(tmp_path / "in.png")
        w.send(P.Analyze("a3", str(src)))
        analysis = w.expect(lambda e: getattr(e, "req_id", None) == "a3")
        assert isinstance(analysis, P.Analysis) and not analysis.available and "not available" in analysis.message
        assert (analysis.width, analysis.height) == (48, 48)  # the size is told all the same
        events = run_job(w, src, tmp_path / "out.png")
        assert isinstance(events[-1], P.Result) and events[-1].task == "auto" and not events[-1].skipped
        assert any(isinstance(e, P.JobWarning) and "detection is not available" in e.message for e in events)
    finally:
        w.stop()


def test_analyze_answers_while_a_job_is_restoring(tmp_path: Path, tiny_model_path: Path) -> None:
    """Photos added during a batch get their degradation at once, not after the photo being restored: the
    analysis runs beside the job (numpy only), and the job goes on undisturbed."""
    env = {"HOURGLASS_MODELS_DIR": str(tmp_path / "models"),
           "HOURGLASS_DETECTOR": str(write_stub_detector(tmp_path / "stub.safetensors", "rain"))}
    w = WorkerProcess(env)
    try:
        w.hello = w.next()
        job, out = _slow_job(w, tiny_model_path, tmp_path)
        w.send(P.Analyze("during", str(write_png(tmp_path / "added.png"))))
        while True:
            event = w.next()
            assert not (getattr(event, "job_id", None) == job and P.is_terminal(event)), "analysis waited for the job"
            if getattr(event, "req_id", None) == "during":
                break
        assert isinstance(event, P.Analysis) and event.task == "rain"
        w.send(P.Cancel(job))
        assert isinstance(w.job(job)[-1], P.Cancelled) and not out.exists()
    finally:
        w.stop()


def test_shutdown_drops_waiting_analyses_and_says_bye_last(tmp_path: Path, tiny_model_path: Path) -> None:
    """Closing the app with a folder still being analysed: the engine does not work through the rest (nobody
    reads the answers), and `bye` is its last line."""
    w = start_worker(tmp_path, tiny_model_path, "haze")
    try:
        src = write_png(tmp_path / "photos" / "a.png", size=1500)  # ~0.1 s to read and look at
        for k in range(300):
            w.send(P.Analyze(f"a{k}", str(src)))
        w.send(P.Shutdown())
        events = []
        while not isinstance(event := w.next(), P.Bye):
            events.append(event)
        assert w.proc.wait(10) == 0
        assert w.events.get(timeout=5).__class__ is EOFError  # nothing after bye
        assert len([e for e in events if isinstance(e, P.Analysis)]) < 300
    finally:
        w.stop()
