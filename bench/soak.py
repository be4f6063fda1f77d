"""Soak benchmark: many small jobs through the real client and worker; throughput and memory growth.

    .venv/bin/python bench/soak.py [--jobs 200] [--size 48] [--threads 1] [--model PATH] [--json]

Not a test: it prints numbers. The worker's resident memory is read from /proc/<pid>/status (Linux) after
the model is loaded, after the first job (warm) and at the end, so a leak per job shows as growth between
"warm" and "end". Without --model a random-weight DiffUIR-T is written to a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from app.client import ClientConfig, EngineClient
from engine import protocol as P


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of `pid` in MiB."""
    out: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                key = line.split(":")[0]
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def make_model(folder: Path) -> Path:
    """A random-weight DiffUIR-T in our safetensors format (the soak measures plumbing, not quality)."""
    import torch

    from engine.checkpoints import Checkpoint, save_safetensors
    from engine.network import VARIANTS, expected_shapes

    g = torch.Generator().manual_seed(0)
    sd = {k: (1 if k.endswith((".g", "norm.weight")) else 0) + 0.05 * torch.randn(shape, generator=g)
          for k, shape in expected_shapes(VARIANTS["T"]).items()}
    path = folder / "soak-t.safetensors"
    save_safetensors(Checkpoint(sd, "T", VARIANTS["T"], "state_dict"), path)
    return path


def make_photo(path: Path, size: int) -> Path:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)
    return path


async def soak(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    model = Path(args.model) if args.model else make_model(work)
    src = make_photo(work / "in.png", args.size)
    options = P.JobOptions(steps=args.steps)
    async with EngineClient(ClientConfig()) as client:
        pid = client.pid
        assert pid is not None
        await client.configure(model=model, quality="fast", threads=args.threads)
        rss_start = proc_status(pid)
        latencies: list[float] = []
        engine_s: list[float] = []  # the engine's own time per job (read + restore + write)
        outcomes: dict[str, int] = {}
        rss_warm: dict[str, float] = {}
        t0 = time.perf_counter()
        for i in range(args.jobs):
            t = time.perf_counter()
            terminal = await client.run(src, work / "out" / f"{i:04d}.png", options, timeout=120)
            latencies.append(time.perf_counter() - t)
            if isinstance(terminal, P.Result):
                engine_s.append(terminal.timings.get("total", 0.0))
            outcomes[terminal.type] = outcomes.get(terminal.type, 0) + 1
            if i == 0:
                rss_warm = proc_status(pid)
        elapsed = time.perf_counter() - t0
        rss_end = proc_status(pid)
        pong = await client.ping()
        same_engine = client.pid == pid and client.restarts == 0
    latencies.sort()
    return {
        "jobs": args.jobs, "size": args.size, "steps": args.steps or 1, "threads": args.threads,
        "outcomes": outcomes, "elapsed_s": round(elapsed, 2), "jobs_per_s": round(args.jobs / elapsed, 2),
        "latency_ms": {"mean": round(1000 * statistics.fmean(latencies), 1),
                       "p50": round(1000 * latencies[len(latencies) // 2], 1),
                       "p95": round(1000 * latencies[int(len(latencies) * 0.95) - 1], 1),
                       "max": round(1000 * latencies[-1], 1),
                       "engine_mean": round(1000 * statistics.fmean(engine_s or [0.0]), 1)},
        "rss_mb": {"start": rss_start.get("VmRSS"), "after_first_job": rss_warm.get("VmRSS"),
                   "end": rss_end.get("VmRSS"), "peak": rss_end.get("VmHWM")},
        "model_loads": pong.model_loads, "same_engine_throughout": same_engine,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--size", type=int, default=48, help="side of the square test photo in pixels")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps (default: the 'fast' preset, 1)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads in the worker (default: torch's)")
    parser.add_argument("--model", help="a model file (default: a random-weight DiffUIR-T)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hourglass-soak-") as tmp:
        report = asyncio.run(soak(args, Path(tmp)))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    rss = report["rss_mb"]
    print(f"{report['jobs']} jobs of {report['size']}×{report['size']} px, {report['steps']} step(s), "
          f"threads={report['threads'] or 'default'}: {report['outcomes']}")
    print(f"throughput  {report['jobs_per_s']} jobs/s ({report['elapsed_s']} s in all)")
    lat = report["latency_ms"]
    print(f"latency     mean {lat['mean']} ms, p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms; "
          f"the engine's own time {lat['engine_mean']} ms/job, so {lat['mean'] - lat['engine_mean']:.1f} ms/job of "
          "protocol, process and client overhead")
    print(f"worker RSS  {rss['start']:.1f} MiB after load → {rss['after_first_job']:.1f} after the first job → "
          f"{rss['end']:.1f} at the end (growth {rss['end'] - rss['start']:+.1f} MiB, "
          f"{rss['end'] - rss['after_first_job']:+.1f} since warm-up; peak {rss['peak']:.1f})")
    print(f"model loads {report['model_loads']}, same engine process throughout: {report['same_engine_throughout']}")
    return 0 if report["outcomes"] == {"result": report["jobs"]} else 1


if __name__ == "__main__":
    sys.exit(main())
