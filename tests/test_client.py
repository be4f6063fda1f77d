"""The asyncio engine client: handshake, jobs, supervision; against a scripted fake and the real worker.

Plain asyncio (`asyncio.run` inside sync tests). Every wait is on an event with a timeout, never a sleep.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from app.client import (
    ClientConfig,
    CommandNotSentError,
    EngineClient,
    EngineStartError,
    EngineState,
    EngineStatus,
    EngineUnavailableError,
    ProtocolMismatchError,
)
from engine import protocol as P

FAKE = Path(__file__).parent / "fakes" / "fake_engine.py"
FAST = {"hello_timeout": 10.0, "ready_timeout": 60.0, "request_timeout": 30.0, "restart_backoff": (0.05, 0.1),
        "kill_grace": 1.0, "shutdown_grace": 2.0}


def fake_config(tmp_path: Path, scenario: str, **overrides: Any) -> ClientConfig:
    env = {"FAKE_ENGINE_RUNS": str(tmp_path / f"{scenario}.runs")}
    return ClientConfig(command=(sys.executable, str(FAKE), scenario), env=env, **{**FAST, **overrides})


def run(coro_fn: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
    async def main() -> Any:
        return await asyncio.wait_for(coro_fn(), timeout)

    return asyncio.run(main())


async def job_events(stream: Any, job_id: str, timeout: float = 30.0,
                     until: Callable[[Any], bool] = P.is_terminal) -> list[P.Message]:
    """This job's events up to and including its terminal one (or the first that matches `until`)."""
    events: list[P.Message] = []
    while True:
        event = await stream.wait_for(lambda e: not isinstance(e, P.Heartbeat) and getattr(e, "job_id", None) == job_id,
                                      timeout)
        events.append(event)
        if until(event) or P.is_terminal(event):
            return events


def assert_job_sequence(events: list[P.Message]) -> None:
    """accepted → started → (progress | warning)* → exactly one terminal event."""
    kinds = [e.type for e in events]
    assert kinds[0] == "accepted" and kinds[1] == "started", kinds
    assert set(kinds[2:-1]) <= {"progress", "warning"}, kinds
    assert kinds[-1] in ("result", "failed", "cancelled") and sum(P.is_terminal(e) for e in events) == 1


# ---------------------------------------------------------------------------------------- with the fake


def test_fake_job_runs_and_events_follow_the_protocol(tmp_path: Path) -> None:
    async def main() -> None:
        async with EngineClient(fake_config(tmp_path, "normal")) as client:
            assert client.state is EngineState.READY and client.ready is not None
            assert client.ready.devices[0].name == "Fake CPU"
            stream = client.events()
            job = await client.submit(tmp_path / "in.png", tmp_path / "out.png", P.JobOptions(steps=4))
            events = await job_events(stream, job)
            assert_job_sequence(events)
            assert [e.step for e in events if isinstance(e, P.Progress)] == [1, 2, 3, 4]
            assert isinstance(events[-1], P.Result) and events[-1].output_path == str(tmp_path / "out.png")
            assert await client.wait_job(job) is events[-1]
            assert (await client.ping()).state == "idle"
            assert client.state is EngineState.READY
            assert any("fake engine normal" in line for line in client.log_tail())
        assert client.state is EngineState.STOPPED

    run(main)


def test_protocol_mismatch_is_refused_for_good(tmp_path: Path) -> None:
    async def main() -> None:
        client = EngineClient(fake_config(tmp_path, "wrong_protocol"))
        with pytest.raises(ProtocolMismatchError, match=r"protocol 999.*protocol 1.*Reinstall"):
            await client.start()
        assert client.state is EngineState.FATAL
        assert client.pid is None and client.last_outcome is not None  # the process was ended
        with pytest.raises(EngineUnavailableError, match="protocol 999"):
            await client.submit(tmp_path / "a.png", tmp_path / "b.png")
        await client.close()

    run(main)


def test_garbage_before_hello_fails_the_start(tmp_path: Path) -> None:
    async def main() -> None:
        client = EngineClient(fake_config(tmp_path, "garbage_start"))
        with pytest.raises(EngineStartError, match="invalid lines"):
            await client.start()
        assert client.state is EngineState.FATAL
        await client.close()

    run(main)


def test_an_engine_that_dies_at_start_says_why_in_one_line(tmp_path: Path) -> None:
    """A broken install (a library missing): the message names the exit and the engine's last log line,
    the error itself; the whole log tail stays available for the details."""
    code = "import sys; sys.stderr.write('loading torch\\nImportError: libtorch_cpu.so: cannot open\\n'); sys.exit(1)"
    client = EngineClient(ClientConfig(command=(sys.executable, "-c", code), **FAST))

    async def main() -> None:
        with pytest.raises(EngineStartError) as failed:
            await client.start()
        assert str(failed.value) == ("The engine did not start: the engine exited with code 1. "
                                     "Its last log line: ImportError: libtorch_cpu.so: cannot open")
        assert client.log_tail()[-2:] == ["loading torch", "ImportError: libtorch_cpu.so: cannot open"]
        await client.close()

    run(main)


def test_a_missing_engine_executable_fails_the_start(tmp_path: Path) -> None:
    async def main() -> None:
        client = EngineClient(ClientConfig(command=(str(tmp_path / "no-such-engine"),), **FAST))
        with pytest.raises(EngineStartError, match="could not be started"):
            await client.start()
        await client.close()

    run(main)


def test_isolated_garbage_lines_are_skipped(tmp_path: Path) -> None:
    async def main() -> None:
        async with EngineClient(fake_config(tmp_path, "noise")) as client:
            result = await client.run(tmp_path / "in.png", tmp_path / "out.png", P.JobOptions(steps=5), timeout=20)
            assert isinstance(result, P.Result)
            assert client.restarts == 0

    run(main)


def _crash_scenario(tmp_path: Path, scenario: str, expect: str, **overrides: Any) -> None:
    """The misbehaving engine's job fails `engine_crashed`, it is restarted, and the next job succeeds."""

    async def main() -> None:
        async with EngineClient(fake_config(tmp_path, scenario, **overrides)) as client:
            stream = client.events()
            first_pid = client.pid
            job = await client.submit(tmp_path / "in.png", tmp_path / "out.png", P.JobOptions(steps=50))
            events = await job_events(stream, job)
            failed = events[-1]
            assert isinstance(failed, P.Failed), events
            assert failed.error.code == P.ErrorCode.ENGINE_CRASHED and failed.error.retryable
            assert expect in failed.error.message and "Last engine log lines" in (failed.error.detail or "")
            await stream.wait_for(lambda e: isinstance(e, EngineStatus) and e.state is EngineState.READY, 20)
            assert client.pid not in (None, first_pid) and client.restarts == 1
            assert isinstance(await client.run(tmp_path / "in.png", tmp_path / "out2.png", timeout=20), P.Result)

    run(main)


def test_crash_mid_job_fails_it_and_restarts(tmp_path: Path) -> None:
    _crash_scenario(tmp_path, "crash-once", "exited with code 3")


def test_garbage_output_counts_as_a_crash(tmp_path: Path) -> None:
    _crash_scenario(tmp_path, "garbage-once", "invalid lines")


def test_silent_engine_is_marked_unresponsive_then_restarted(tmp_path: Path) -> None:
    async def main() -> None:
        cfg = fake_config(tmp_path, "silent-once", unresponsive_after=0.3, restart_after=1.0)
        async with EngineClient(cfg) as client:
            stream = client.events()
            job = await client.submit(tmp_path / "in.png", tmp_path / "out.png")
            await stream.wait_for(lambda e: isinstance(e, EngineStatus) and e.state is EngineState.UNRESPONSIVE, 10)
            failed = await client.wait_job(job, timeout=20)
            assert isinstance(failed, P.Failed) and failed.error.code == P.ErrorCode.ENGINE_CRASHED
            assert "stopped answering" in failed.error.message
            assert isinstance(await client.run(tmp_path / "in.png", tmp_path / "out2.png", timeout=20), P.Result)

    run(main)


def test_a_computer_that_slept_does_not_make_the_engine_look_silent(tmp_path: Path) -> None:
    """Sleep stops both processes; Windows' monotonic clock goes on counting, so on waking the engine looked
    silent for as long as the lid was closed, and the photo in progress was killed as "stopped answering"."""
    async def main() -> None:
        cfg = fake_config(tmp_path, "normal", unresponsive_after=0.3, restart_after=1.0)
        async with EngineClient(cfg) as client:
            stream = client.events()
            job = await client.submit(tmp_path / "in.png", tmp_path / "out.png", P.JobOptions(steps=150))
            await stream.wait_for(P.Progress, 10)
            pid = client.pid
            os.kill(pid, signal.SIGSTOP)  # the computer sleeps: the engine stops ...
            time.sleep(2.0)  # noqa: ASYNC251 - ... and so does this app, while the clock runs on
            os.kill(pid, signal.SIGCONT)
            done = await client.wait_job(job, timeout=20)
            assert isinstance(done, P.Result) and client.pid == pid
            assert not any(isinstance(e, EngineStatus) and e.state is EngineState.UNRESPONSIVE
                           for e in stream.drain())

    run(main)


def test_an_ignored_cancel_kills_and_restarts_the_engine(tmp_path: Path) -> None:
    async def main() -> None:
        async with EngineClient(fake_config(tmp_path, "ignore_cancel-once", cancel_grace=0.5)) as client:
            stream = client.events()
            first_pid = client.pid
            job = await client.submit(tmp_path / "in.png", tmp_path / "out.png")
            await stream.wait_for(P.Progress, 10)
            await client.cancel(job)
            events = await job_events(stream, job, timeout=20)
            assert isinstance(events[-1], P.Cancelled), events  # the user asked for it: cancelled, not failed
            await stream.wait_for(lambda e: isinstance(e, EngineStatus) and e.state is EngineState.READY, 20)
            assert client.pid != first_pid
            assert isinstance(await client.run(tmp_path / "in.png", tmp_path / "o2.png", timeout=20), P.Result)

    run(main)


def test_an_honoured_cancel_ends_the_job_cancelled(tmp_path: Path) -> None:
    async def main() -> None:
        async with EngineClient(fake_config(tmp_path, "normal")) as client:
            stream = client.events()
            job = await client.submit(tmp_path / "in.png", tmp_path / "out.png", P.JobOptions(steps=500))
            events = await job_events(stream, job, until=lambda e: isinstance(e, P.Progress))
            await client.cancel(job)
            await client.cancel(job)  # idempotent
            events += await job_events(stream, job)
            assert_job_sequence(events)
            assert isinstance(events[-1], P.Cancelled) and client.restarts == 0

    run(main)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_an_engine_killed_from_outside_suggests_memory(tmp_path: Path) -> None:
    """Linux's out-of-memory killer ends the engine with SIGKILL, without a word in its log: the photo's
    message says what that most often means, which "killed by SIGKILL" alone does not."""

    async def main() -> None:
        async with EngineClient(fake_config(tmp_path, "normal")) as client:
            stream = client.events()
            job = await client.submit(tmp_path / "in.png", tmp_path / "out.png", P.JobOptions(steps=1000))
            await stream.wait_for(P.Progress, 10)
            os.kill(client.pid, signal.SIGKILL)
            failed = (await job_events(stream, job))[-1]
            assert isinstance(failed, P.Failed) and failed.error.code == P.ErrorCode.ENGINE_CRASHED
            assert "killed by SIGKILL, most often because the computer ran out of memory" in failed.error.message

    run(main)


def test_repeated_crashes_make_the_engine_fatal(tmp_path: Path) -> None:
    async def main() -> None:
        async with EngineClient(fake_config(tmp_path, "crash", max_crashes=2)) as client:
            stream = client.events()
            failures = []
            for name in ("a", "b"):
                result = await client.run(tmp_path / "in.png", tmp_path / f"{name}.png", timeout=20)
                assert isinstance(result, P.Failed) and result.error.code == P.ErrorCode.ENGINE_CRASHED
                failures.append(result.error.message)
            status = await stream.wait_for(lambda e: isinstance(e, EngineStatus) and e.state is EngineState.FATAL, 10)
            assert "2 times" in status.message and "Start or Retry starts it again" in status.message
            # the photo whose crash made it give up is not told that the engine is being restarted
            assert failures[0].endswith("It is being restarted; you can retry the photo.")
            assert "2 times in a short while and is not restarted automatically" in failures[1]
            assert "being restarted" not in failures[1]
            with pytest.raises(EngineUnavailableError):
                await client.submit(tmp_path / "in.png", tmp_path / "c.png")
            # Start (or Retry) starts it again with the full allowance: one more crash restarts it, not give up
            await client.start()
            result = await client.run(tmp_path / "in.png", tmp_path / "d.png", timeout=20)
            assert isinstance(result, P.Failed) and result.error.code == P.ErrorCode.ENGINE_CRASHED
            assert result.error.message.endswith("It is being restarted; you can retry the photo.")

    run(main)


def test_close_ends_the_running_job_and_the_streams(tmp_path: Path) -> None:
    async def main() -> None:
        client = EngineClient(fake_config(tmp_path, "normal"))
        await client.start()
        stream = client.events()
        job = await client.submit(tmp_path / "in.png", tmp_path / "out.png", P.JobOptions(steps=1000))
        await stream.wait_for(P.Progress, 10)
        await client.close()
        assert isinstance(await client.wait_job(job), P.Cancelled)
        rest = [e async for e in stream]  # the stream ends after close
        assert sum(P.is_terminal(e) for e in rest) == 1

    run(main)


def test_the_client_imports_neither_torch_nor_other_engine_modules() -> None:
    code = ("import sys, app.client; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', 'safetensors', 'PySide6')"
            " or (m.startswith('engine.') and m not in ('engine.protocol', 'engine.errors'))); print(bad); sys.exit(bool(bad))")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


# ------------------------------------------------------------------------------------ with the real worker


def write_png(path: Path, size: int = 48, seed: int = 0) -> Path:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)
    return path


def real_config() -> ClientConfig:
    return ClientConfig(**{**FAST, "restart_backoff": (0.2, 0.5), "hello_timeout": 30.0, "ready_timeout": 120.0})


def test_real_engine_runs_jobs_and_keeps_the_model_loaded(tmp_path: Path, tiny_model_path: Path) -> None:
    src = write_png(tmp_path / "in.png")

    async def main() -> None:
        async with EngineClient(real_config()) as client:
            stream = client.events()
            configured = await client.configure(model=tiny_model_path, quality="fast", threads=1)
            assert configured.model is not None and configured.model.variant == "T" and configured.device == "cpu"
            loads = (await client.ping()).model_loads
            job = await client.submit(src, tmp_path / "out" / "first.png", P.JobOptions(steps=2))
            events = await job_events(stream, job)
            assert_job_sequence(events)
            progress = [e for e in events if isinstance(e, P.Progress)]
            assert {"load", "restore", "save"} <= {p.stage for p in progress}
            assert progress[-1].fraction == 1.0
            result = events[-1]
            assert isinstance(result, P.Result) and result.nfe == 2 and result.device == "cpu"
            assert Path(result.output_path).is_file()
            for i in range(10):  # back to back on the same loaded model
                r = await client.run(src, tmp_path / "out" / f"{i}.png", timeout=60)
                assert isinstance(r, P.Result) and "model_load" not in r.timings, r
            assert (await client.ping()).model_loads == loads
            analysis = await client.analyze(src)
            assert not analysis.available and "not available" in analysis.message
            if sys.platform == "linux":  # a file name that is not UTF-8 (other systems refuse to make one)
                odd = Path(os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xffname.png"))
                shutil.copy(src, odd)
                r = await client.run(odd, odd.with_name(odd.stem + "-out.png"), timeout=60)
                assert isinstance(r, P.Result) and Path(r.output_path).is_file() and "\udcff" in r.output_path
            with pytest.raises(CommandNotSentError, match="limit"):  # refused here; the engine is fine
                await client.analyze(tmp_path / ("x" * P.MAX_LINE_BYTES))
            assert (await client.ping()).state == "idle"

    run(main, timeout=150)


def test_real_engine_killed_mid_job_is_restarted(tmp_path: Path, tiny_model_path: Path) -> None:
    src = write_png(tmp_path / "in.png", 96)

    async def main() -> None:
        async with EngineClient(real_config()) as client:
            stream = client.events()
            await client.configure(model=tiny_model_path, quality="fast", threads=1)
            first_pid = client.pid
            assert first_pid is not None
            options = P.JobOptions(steps=50, tile=32, overlap=8)
            job = await client.submit(src, tmp_path / "out.png", options)
            await stream.wait_for(lambda e: isinstance(e, P.Progress) and e.stage == "restore", 60)
            os.kill(first_pid, signal.SIGKILL)
            events = await job_events(stream, job)
            failed = events[-1]
            assert isinstance(failed, P.Failed) and failed.error.code == P.ErrorCode.ENGINE_CRASHED, events
            assert "SIGKILL" in failed.error.message
            assert "engine.worker" in (failed.error.detail or "")  # the dead engine's last log lines
            assert not (tmp_path / "out.png").exists()
            await stream.wait_for(lambda e: isinstance(e, EngineStatus) and e.state is EngineState.READY, 90)
            assert client.pid != first_pid
            result = await client.run(src, tmp_path / "next.png", timeout=90)  # settings were replayed
            assert isinstance(result, P.Result) and result.model == tiny_model_path.stem

    run(main, timeout=200)
