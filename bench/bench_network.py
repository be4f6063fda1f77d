"""Network speed per variant: FLOPs per evaluation, seconds per megapixel per evaluation, and the fraction
of this machine's float32 matrix-multiply rate that the network reaches (both measured in the same run).

    python bench/bench_network.py [--device cpu|cuda] [--size 512] [--variants T,S,B,L] [--repeat 3]

Random weights: speed does not depend on the weight values. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import torch

from engine.network import VARIANTS, UnetRes, count_flops


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def matmul_rate(device: str, n: int = 2048, seconds: float = 3.0) -> float:
    """Sustained float32 GEMM rate in FLOP/s (the machine's practical peak for dense work)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    for _ in range(2):
        a @ b
    sync(device)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
        sync(device)
    return 2 * n**3 * count / (time.perf_counter() - start)


def time_network(variant: str, device: str, size: int, repeat: int) -> float:
    """Median seconds of one evaluation at size×size (after a warm-up call)."""
    net = UnetRes(variant).to(device).eval().requires_grad_(False)
    net.freeze_weights()
    x = torch.randn(1, 6, size, size, device=device)
    t = torch.tensor([500.0], device=device)
    times = []
    with torch.inference_mode():
        net(x, t)
        sync(device)
        for _ in range(repeat):
            start = time.perf_counter()
            net(x, t)
            sync(device)
            times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def describe(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--variants", default="T,S,B,L")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)
    rate = matmul_rate(args.device)
    mp = args.size * args.size / 1e6
    rows = []
    for v in args.variants.split(","):
        flops = count_flops(VARIANTS[v], args.size, args.size)
        sec = time_network(v, args.device, args.size, args.repeat)
        rows.append({"variant": v, "gflop_per_eval": flops / 1e9, "kflop_per_pixel": flops / (args.size**2) / 1e3,
                     "s_per_eval": sec, "s_per_mp_per_eval": sec / mp, "achieved_gflops": flops / sec / 1e9,
                     "fraction_of_matmul": flops / sec / rate})
        print(f"{v}: {sec:.3f} s per evaluation", file=sys.stderr, flush=True)
    print(f"\nDevice: {describe(args.device)}; torch {torch.__version__}; input {args.size}×{args.size}; "
          f"float32 matmul rate measured now: {rate / 1e9:.1f} GFLOP/s\n")
    print("| variant | GFLOP / evaluation | kFLOP / pixel | s / evaluation | s / MP / evaluation | "
          "achieved GFLOP/s | fraction of matmul rate |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['gflop_per_eval']:.1f} | {r['kflop_per_pixel']:.0f} | {r['s_per_eval']:.3f} | "
              f"{r['s_per_mp_per_eval']:.3f} | {r['achieved_gflops']:.1f} | {r['fraction_of_matmul']:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": describe(args.device), "matmul_gflops": rate / 1e9, "size": args.size,
                       "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
