"""`make bench`: network speed (reference vs optimised), the fast full-resolution path against tiling, its
fidelity, and peak memory for 24 MP — one run, one machine. Writes bench/results/bench.json and bench.md.

    python bench/run_bench.py [--quick] [--threads 2] [--out bench/results]

--quick (development, a few minutes): T only at 256², 1 evaluation for the 12 MP timing, one photo per
evaluation set, no 24 MP tiled memory run. The full run takes ~20–30 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_network
import bench_restore


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    started = time.time()
    net_args = ["--threads", str(args.threads)]
    net_args += ["--variants", "T", "--size", "256", "--repeat", "2", "--precision-size", "64"] if args.quick else []
    net_res = _run(bench_network, net_args)
    restore_args = ["--threads", str(args.threads)] + (["--quick"] if args.quick else [])
    restore_res = _run(bench_restore, restore_args)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    result = {"when": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)), "quick": args.quick,
              "machine": {"cpu": cpu, "cores": os.cpu_count(), "threads": args.threads, "torch": torch.__version__},
              "minutes": round((time.time() - started) / 60, 1), "network": net_res, "restore": restore_res}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = "bench-quick" if args.quick else "bench"
    (out / f"{name}.json").write_text(json.dumps(result, indent=2))
    md = (f"# Benchmark ({'quick, ' if args.quick else ''}{result['when']})\n\n"
          f"Machine: {cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {args.threads} threads; "
          f"run took {result['minutes']} min. Command: `make bench` (`python bench/run_bench.py"
          f"{' --quick' if args.quick else ''}`).\n\n"
          f"## Network (one evaluation)\n\n{bench_network.markdown(net_res)}\n\n"
          f"## Whole photos\n\n{bench_restore.markdown(restore_res)}\n")
    (out / f"{name}.md").write_text(md)
    print(md)
    print(f"Written to {out / name}.json and .md", file=sys.stderr)
    return 0


def _run(module, argv: list[str]) -> dict:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    try:
        code = module.main(argv + ["--json", path])
        if code:
            raise SystemExit(code)
        return json.loads(Path(path).read_text())
    finally:
        os.unlink(path)


if __name__ == "__main__":
    sys.exit(main())
