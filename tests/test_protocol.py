"""The protocol codec: round trips, strict validation of every field, and the shared vocabularies."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from engine import protocol as P

OPTS = P.JobOptions(model="m", quality="fast", steps=4, task="haze", seed=7, tile=256, overlap=32, format="png",
                    jpeg_quality=90, bit_depth=16, overwrite=True)
ERROR = P.ErrorInfo.make(P.ErrorCode.INPUT_NOT_FOUND, "gone", "detail", "Traceback…")
SAMPLES: list[P.Message] = [
    P.Configure("r1", model="/m.safetensors", device="cpu", quality="best", steps=0, tile=512, overlap=64, threads=2),
    P.Configure("r2"),
    P.Analyze("r3", "/in.jpg"),
    P.Analyze("r5", "/in.jpg", "/restored/in.jpg"),
    P.Submit("job-1", "/in.jpg", "/out/in.jpg", OPTS),
    P.Submit("job-2", "/in.jpg", "/out/é ü.jpg"),
    P.Cancel("job-1"),
    P.Ping("r4"),
    P.Shutdown(),
    P.Hello(P.PROTOCOL_VERSION, "0.1.0", 1234),
    P.Ready((P.DeviceInfo("cpu", "x86_64", "cpu", 8 << 30, 4 << 30), P.DeviceInfo("cuda:0", "GPU", "cuda")),
            (P.ModelEntry("tiny", "/m/tiny.safetensors", "user", 123, "T", True),), P.Settings(steps=3),
            "2.5.0", False, {"tasks": ["auto"], "analyze": False}),
    P.Configured("r1", P.Settings(model="tiny"), P.ModelEntry("tiny", "/m", "path", 1), "cpu"),
    P.Analysis("r3", "/in.jpg", True, "haze", 0.9, {"haze": 0.9, "rain": 0.1}),
    P.Analysis("r5", "/in.jpg", False, message="no detector", earlier_path="/restored/in (1).jpg",
               earlier={"Task": "rain", "Strength": "0.6"}, earlier_older={"/restored/in.jpg": 1.0}),
    P.Accepted("job-1"),
    P.Started("job-1", "tiny", "cpu", 3, {"quality": "best"}),
    P.Progress("job-1", "restore", 2, 3, 4, 9, 0.5, 1.25),
    P.Progress("job-1", "load", 0, 3, 0, 0, 0.0),
    P.JobWarning("restore", "GPU out of memory; retrying with 256×256 tiles.", "job-1"),
    P.Result("job-1", "/out/in.jpg", 640, 480, "cpu", "tiny", 3, "auto", {"total": 1.5}, ("a warning",)),
    P.Result("job-2", "", 640, 480, "cpu", "tiny", 0, "none", {"detect": 0.1}, (), True, 0.93,
             {"none": 0.93, "haze": 0.07}),
    P.Result("job-4", "", 64, 48, "cpu", "tiny", 0, "none", {"total": 0.01}, (), True,
             already_restored="restored p.jpg as haze with tiny, strength 100%, on 2026-12-07"),
    P.Submit("job-3", "/in.jpg", "/out/in.jpg", P.JobOptions(task="auto", restore_clean=True)),
    P.Submit("job-5", "/in.jpg", "/out/in.jpg", P.JobOptions(task="haze", detected=0.87)),
    P.Failed("job-1", ERROR),
    P.Cancelled("job-1"),
    P.Heartbeat(7, "busy", "job-1", 812.5),
    P.Pong("r4", "idle", None, "tiny", 1, 3.5),
    P.ErrorEvent(P.ErrorInfo.make(P.ErrorCode.INVALID_REQUEST, "bad line"), req_id="r9"),
    P.Bye(),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: m.type)
def test_round_trip(msg: P.Message) -> None:
    line = P.encode(msg)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    expect = "command" if msg.type in P.COMMANDS else "event"
    assert P.decode(line, expect=expect) == msg
    assert P.decode(line.decode(), expect=expect) == msg


def test_every_message_type_is_sampled() -> None:
    assert {m.type for m in SAMPLES} == set(P.COMMANDS) | set(P.EVENTS)
    assert not set(P.COMMANDS) & set(P.EVENTS)


def test_unknown_fields_are_ignored_and_unknown_types_are_reported() -> None:
    msg = P.decode(b'{"type": "ping", "req_id": "a", "added_in_v1_1": [1, 2]}', expect="command")
    assert msg == P.Ping("a")
    unknown = P.decode(b'{"type": "preview", "job_id": "j", "path": "/p.jpg"}', expect="event")
    assert isinstance(unknown, P.UnknownMessage) and unknown.type == "preview" and unknown.data["path"] == "/p.jpg"
    # commands and events are separate namespaces
    assert isinstance(P.decode(P.encode(P.Cancelled("j")), expect="command"), P.UnknownMessage)


def test_detection_fields_are_optional_for_older_peers() -> None:
    """A result or job options from a peer without detection decode with the defaults (no new version)."""
    old = (b'{"type": "result", "job_id": "j", "output_path": "/o.png", "width": 8, "height": 8, "device": "cpu", '
           b'"model": "m", "nfe": 3, "task": "haze"}')
    result = P.decode(old, expect="event")
    assert isinstance(result, P.Result) and not result.skipped and result.confidence is None and result.scores == {}
    submit = P.decode(_submit(options={"task": "auto"}), expect="command")
    assert isinstance(submit, P.Submit) and submit.options.restore_clean is False
    with pytest.raises(P.ProtocolError, match="restore_clean"):
        P.decode(_submit(options={"restore_clean": "yes"}), expect="command")


def _submit(**fields: Any) -> bytes:
    obj = {"type": "submit", "job_id": "j", "input_path": "/a.png", "output_path": "/b.png", **fields}
    return json.dumps({k: v for k, v in obj.items() if v is not ...}).encode()


@pytest.mark.parametrize(("line", "reason"), [
    (b"", "not valid JSON"),
    (b"{", "not valid JSON"),
    (b"[1]", "JSON object"),
    (b'"ping"', "JSON object"),
    (b'{"req_id": "a"}', "no 'type'"),
    (b'{"type": 3}', "no 'type'"),
    (b'{"type": "ping"}', "missing field 'req_id'"),
    (b'{"type": "ping", "req_id": 5}', "must be a string"),
    (b'{"type": "ping", "req_id": ""}', "req_id"),
    (b'{"type": "ping", "req_id": "a", "x": NaN}', "NaN"),
    (b'{"type": "ping", "req_id": "a", "x": Infinity}', "Infinity"),
    (b"\xff\xfe", "UTF-8"),
    (_submit(job_id=...), "missing field 'job_id'"),
    (_submit(input_path="relative.png"), "absolute"),
    (_submit(output_path=""), "absolute"),
    (_submit(options=[]), "must be an object"),
    (_submit(options={"steps": 0}), "steps"),
    (_submit(options={"steps": 2.5}), "integer"),
    (_submit(options={"steps": True}), "integer"),
    (_submit(options={"quality": "ultra"}), "must be one of fast, balanced, best"),
    (_submit(options={"task": "sharpen"}), "must be one of"),
    (_submit(options={"tile": 8}), "tile"),
    (_submit(options={"tile": 64, "overlap": 64}), "overlap"),
    (_submit(options={"bit_depth": 12}), "bit_depth"),
    (_submit(options={"overwrite": "yes"}), "true or false"),
    (_submit(options={"strength": 1.5}), "strength"),
    (_submit(options={"strength": "50%"}), "must be a number"),
    (_submit(options={"detected": 0.8}), "with the detected task"),  # (task auto: the engine detects)
    (_submit(options={"task": "haze", "detected": 1.2}), "options.detected must be in 0..1"),
    (b'{"type": "configure", "req_id": "a", "threads": 0}', "threads"),
])
def test_invalid_commands_are_refused_with_a_reason(line: bytes, reason: str) -> None:
    with pytest.raises(P.ProtocolError, match=reason):
        P.decode(line, expect="command")


def test_refusals_salvage_the_ids_for_the_reply() -> None:
    with pytest.raises(P.ProtocolError) as info:
        P.decode(_submit(input_path="rel"), expect="command")
    assert (info.value.job_id, info.value.msg_type) == ("j", "submit")
    with pytest.raises(P.ProtocolError) as info:
        P.decode(b'{"type": "analyze", "req_id": "r7"}', expect="command")
    assert info.value.req_id == "r7"


def test_event_fields_are_validated_too() -> None:
    bad_progress = b'{"type":"progress","job_id":"j","stage":"dream","step":0,"steps":1,"tile":0,"tiles":0,"fraction":0}'
    with pytest.raises(P.ProtocolError, match="stage"):
        P.decode(bad_progress, expect="event")
    with pytest.raises(P.ProtocolError, match="fraction"):
        P.decode(bad_progress.replace(b"dream", b"load").replace(b'"fraction":0', b'"fraction":1.5'), expect="event")
    with pytest.raises(P.ProtocolError, match=r"devices\[0\]"):
        P.decode(b'{"type":"ready","devices":[{"id":"cpu"}],"models":[],"settings":{}}', expect="event")


def test_line_size_limit() -> None:
    huge = b'{"type":"ping","req_id":"a","pad":"' + b"x" * P.MAX_LINE_BYTES + b'"}'
    with pytest.raises(P.ProtocolError, match="limit"):
        P.decode(huge, expect="command")
    with pytest.raises(P.ProtocolError, match="limit"):
        P.encode(P.Started("j", "m", "cpu", 1, {"pad": "x" * P.MAX_LINE_BYTES}))


def test_a_file_name_that_is_not_utf8_travels_exactly() -> None:
    """POSIX file names are bytes; Python holds the undecodable ones as lone surrogates, which UTF-8 cannot
    encode. Such a line goes out ASCII-escaped and decodes to the same path."""
    path = "/photos/bad\udcffname.jpg"
    line = P.encode(P.Submit("j", path, "/out/bad\udcffname.jpg", P.JobOptions()))
    assert line.isascii() and b"\\udcff" in line
    back = P.decode(line, expect="command")
    assert isinstance(back, P.Submit) and back.input_path == path
    assert P.encode(P.Analyze("r", "/photos/été.jpg")) == (
        '{"type":"analyze","req_id":"r","input_path":"/photos/été.jpg","result_path":""}\n').encode()


def test_encode_refuses_nan() -> None:
    with pytest.raises(P.ProtocolError, match="encode"):
        P.encode(P.Result("j", "/o", 1, 1, "cpu", "m", 1, "auto", {"total": float("nan")}))


def test_error_info_clips_long_text_and_knows_what_is_retryable() -> None:
    info = P.ErrorInfo.make(P.ErrorCode.ENGINE_CRASHED, "crashed", "x" * 100_000)
    assert info.retryable and len(info.detail or "") == P.MAX_TEXT_CHARS
    assert not P.ErrorInfo.make(P.ErrorCode.INPUT_NOT_FOUND, "gone").retryable
    assert len(P.encode(P.Failed("j", info))) < P.MAX_LINE_BYTES


def test_terminal_events() -> None:
    assert [t.type for t in P.TERMINAL] == ["result", "failed", "cancelled"]
    assert P.is_terminal(P.Cancelled("j")) and not P.is_terminal(P.Progress("j", "save", 1, 1, 0, 0, 1.0))


def test_vocabularies_mirror_the_engine() -> None:
    from engine.errors import ErrorCode
    from engine.preprocess import TASKS
    from engine.schedule import PRESETS

    assert P.ErrorCode.ALL == ErrorCode.ALL
    assert P.RETRYABLE <= set(ErrorCode.ALL)
    assert P.TASKS == TASKS
    assert P.QUALITIES == tuple(PRESETS)


def test_protocol_uses_the_standard_library_only() -> None:
    code = ("import sys, engine.protocol; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', 'PIL', 'safetensors', 'cv2')"
            " or (m.startswith('engine.') and m not in ('engine.protocol', 'engine.errors'))); print(bad); sys.exit(bool(bad))")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
