"""A scripted stand-in for the engine worker (standard library only, no `engine` import).

    python fake_engine.py SCENARIO

It speaks the wire format by hand, so the client is tested against raw lines rather than against its
own encoder. Scenarios (a `-once` suffix misbehaves only on the first run; the run count is kept in the
file named by $FAKE_ENGINE_RUNS):

- normal: a well-behaved engine; a job takes `options.steps` (default 3) steps of $FAKE_STEP_S seconds.
- wrong_protocol: says hello with protocol 999.
- garbage_start: writes garbage before its hello.
- noise: writes one garbage line before each progress event (never three in a row).
- garbage: on submit, writes only garbage lines.
- silent: on submit, stops writing anything (no heartbeat, no reply).
- ignore_cancel: jobs run for a long time and cancel is ignored.
- crash: exits with code 3 in the middle of each job.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

PROTOCOL = 1
SCENARIO = sys.argv[1] if len(sys.argv) > 1 else "normal"
STEP_S = float(os.environ.get("FAKE_STEP_S", "0.02"))
HEARTBEAT_S = float(os.environ.get("FAKE_HEARTBEAT_S", "0.1"))
_lock = threading.Lock()
_muted = threading.Event()
_cancel: dict[str, threading.Event] = {}


def run_number() -> int:
    path = os.environ.get("FAKE_ENGINE_RUNS")
    if not path:
        return 1
    runs = Path(path)
    count = int(runs.read_text() or 0) + 1 if runs.exists() else 1
    runs.write_text(str(count))
    return count


RUN = run_number()
MODE = SCENARIO.removesuffix("-once") if not SCENARIO.endswith("-once") or RUN == 1 else "normal"


def send(obj: dict | str) -> None:
    line = obj if isinstance(obj, str) else json.dumps(obj)
    with _lock:
        if _muted.is_set():
            return
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def heartbeats() -> None:
    seq = 0
    while True:
        time.sleep(HEARTBEAT_S)
        seq += 1
        send({"type": "heartbeat", "seq": seq, "state": "idle", "job_id": None, "rss_mb": 10.0})


def run_job(cmd: dict) -> None:
    job_id = cmd["job_id"]
    steps = (cmd.get("options") or {}).get("steps") or 3
    if MODE == "ignore_cancel":
        steps = 10_000
    send({"type": "started", "job_id": job_id, "model": "fake", "device": "cpu", "steps": steps, "options": {}})
    for i in range(1, steps + 1):
        if _cancel[job_id].is_set() and MODE != "ignore_cancel":
            send({"type": "cancelled", "job_id": job_id})
            return
        time.sleep(STEP_S)
        if MODE == "crash" and i == 2:
            sys.stderr.write("fake engine: crashing on purpose\n")
            sys.stderr.flush()
            os._exit(3)
        if MODE == "noise":
            send("this is not json")
        send({"type": "progress", "job_id": job_id, "stage": "restore", "step": i, "steps": steps, "tile": 1,
              "tiles": 1, "fraction": i / steps, "eta_s": (steps - i) * STEP_S})
    send({"type": "result", "job_id": job_id, "output_path": cmd["output_path"], "width": 8, "height": 8,
          "device": "cpu", "model": "fake", "nfe": steps, "task": "auto", "timings": {"total": steps * STEP_S},
          "warnings": []})


def main() -> int:
    sys.stderr.write(f"fake engine {SCENARIO} (run {RUN}, mode {MODE}) pid {os.getpid()}\n")
    sys.stderr.flush()
    if MODE == "garbage_start":
        for _ in range(5):
            send("garbage before hello")
    send({"type": "hello", "protocol": 999 if MODE == "wrong_protocol" else PROTOCOL, "engine_version": "fake",
          "pid": os.getpid()})
    if MODE == "wrong_protocol":
        sys.stdin.read()
        return 0
    threading.Thread(target=heartbeats, daemon=True).start()
    send({"type": "ready", "devices": [{"id": "cpu", "name": "Fake CPU", "kind": "cpu"}], "models": [],
          "settings": {"model": "default", "device": "auto", "quality": "best", "overlap": 64}})
    for line in sys.stdin:
        cmd = json.loads(line)
        kind = cmd["type"]
        if kind == "ping":
            send({"type": "pong", "req_id": cmd["req_id"], "state": "idle"})
        elif kind == "configure":
            send({"type": "configured", "req_id": cmd["req_id"],
                  "settings": {k: v for k, v in cmd.items() if k not in ("type", "req_id")}})
        elif kind == "submit":
            send({"type": "accepted", "job_id": cmd["job_id"]})
            if MODE == "silent":
                _muted.set()
                continue
            if MODE == "garbage":
                for _ in range(5):
                    send("<<garbage>>")
                continue
            _cancel[cmd["job_id"]] = threading.Event()
            threading.Thread(target=run_job, args=(cmd,), daemon=True).start()
        elif kind == "cancel":
            if cmd["job_id"] in _cancel:
                _cancel[cmd["job_id"]].set()
        elif kind == "shutdown":
            for event in _cancel.values():
                event.set()
            time.sleep(3 * STEP_S)
            send({"type": "bye", "reason": "shutdown"})
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
